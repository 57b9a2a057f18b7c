"""The embedded model's BPE tokenizer: byte-level BPE learned offline from the built-in envs' own text.

The character tokenizer gives a 3,000-character FunctionCalling prompt 3,000
positions to attend over, and spells ``"Final Answer: the final answer is"``
one letter at a time. This tokenizer is learned from what the envs write:
their prompts at default options under each of their templates, and the
worked completions of the cold start, so the envs' fixed
phrases and JSON keys become a few tokens each and a prompt shrinks about
fourfold. It is byte-level, so every string encodes (no ``<unk>``) and
``decode(encode(s)) == s``; digits are always one token each, as in Llama's
and Qwen's tokenizers, so that a number's digits line up with its place
values and arithmetic stays learnable.

The learned tokenizer ships as ``tiny_bpe.json`` beside this module, so
building the model reads a file instead of generating text; ``python -m
rlvr.trainers.models.bpe_tokenizer`` learns it again (about 10 s) after the
envs' text changes. A model saved with it (``save_policy``) loads back with
``AutoTokenizer.from_pretrained`` like any hub tokenizer.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Iterator
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

__all__ = [
    "BPE_FILE",
    "BPE_SPECIAL_TOKENS",
    "BPE_VOCAB_SIZE",
    "build_bpe_tokenizer",
    "envs_corpus",
    "fast_tokenizer",
    "train_bpe_tokenizer",
]

BPE_VOCAB_SIZE = 2048
"""Tokens of the shipped tokenizer: 4 special tokens, the 256 bytes, and 1,788 merges."""

BPE_SPECIAL_TOKENS: tuple[str, ...] = ("<pad>", "<unk>", "<s>", "</s>")
"""Special tokens of both embedded tokenizers, ids 0-3 in this order."""

BPE_FILE = Path(__file__).with_name("tiny_bpe.json")
"""The shipped tokenizer (the ``tokenizers`` library's JSON), learned by ``envs_corpus`` and ``train_bpe_tokenizer``."""


def train_bpe_tokenizer(texts: Iterable[str], vocab_size: int = BPE_VOCAB_SIZE) -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer learned from ``texts``.

    Args:
        texts: the training text, any number of strings.
        vocab_size: tokens in all, special tokens and the 256 bytes included
            (at least 260); fewer when the text has too few distinct pairs to merge.

    Returns:
        A ``PreTrainedTokenizerFast`` with ids 0-3 ``BPE_SPECIAL_TOKENS`` (pad,
        unk, bos, eos), padding on the left, adding no special tokens when
        encoding, every digit its own token, and ``decode(encode(s)) == s`` for
        any ``s`` without special-token text. The same texts give the same
        tokenizer.
    """
    if vocab_size < len(BPE_SPECIAL_TOKENS) + 256:
        raise ValueError(f"vocab_size must be at least {len(BPE_SPECIAL_TOKENS) + 256} (specials and bytes)")
    backend = Tokenizer(models.BPE(unk_token=None, byte_fallback=False))
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(BPE_SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(texts, trainer=trainer)
    return fast_tokenizer(backend)


def build_bpe_tokenizer() -> PreTrainedTokenizerFast:
    """The shipped BPE tokenizer (``BPE_FILE``), ``BPE_VOCAB_SIZE`` tokens, as ``train_bpe_tokenizer`` returns it."""
    return fast_tokenizer(Tokenizer.from_file(str(BPE_FILE)))


def envs_corpus(tasks_per_env: int = 300) -> Iterator[str]:
    """The text the shipped tokenizer is learned from: each built-in env's prompts and worked completions.

    For every built-in env (ids starting ``rlvr/``) under each of its prompt
    templates, otherwise at its default options: the prompts of tasks
    ``0..tasks_per_env - 1``, each followed by its reference completion (as
    the cold start writes it; prompts alone where a task has none).
    """
    from rlvr import envs
    from rlvr.trainers.pipelines.sft import worked_example

    for env_id in sorted(i for i in envs.list_envs() if i.startswith("rlvr/")):
        for template in sorted(envs.entry(env_id).templates):
            env = envs.make(env_id, template=template)
            for seed in range(tasks_per_env):
                try:
                    prompt, _, completion = worked_example(env, seed)
                except ValueError:  # no reference answer
                    prompt, _ = env.reset(seed=seed)
                    completion = ""
                yield prompt + completion
            env.close()


def fast_tokenizer(backend: Tokenizer) -> PreTrainedTokenizerFast:
    """``backend`` as the embedded model's tokenizers are used: ``BPE_SPECIAL_TOKENS`` as pad, unk, bos and eos,
    padding on the left, and no clean-up of spaces on decoding (so ``decode(encode(s)) == s``)."""
    pad, unk, bos, eos = BPE_SPECIAL_TOKENS
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        pad_token=pad,
        unk_token=unk,
        bos_token=bos,
        eos_token=eos,
        padding_side="left",
        clean_up_tokenization_spaces=False,
    )


def main(argv: list[str] | None = None) -> None:
    """Learn the tokenizer from ``envs_corpus`` and write it to ``BPE_FILE`` (or ``--out``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=BPE_FILE, help="where to write the tokenizer JSON")
    parser.add_argument("--vocab-size", type=int, default=BPE_VOCAB_SIZE, help="tokens in all")
    parser.add_argument("--tasks-per-env", type=int, default=300, help="tasks read from each env and template")
    args = parser.parse_args(argv)
    tokenizer = train_bpe_tokenizer(envs_corpus(args.tasks_per_env), args.vocab_size)
    tokenizer.backend_tokenizer.save(str(args.out))
    print(f"wrote {args.out}: {len(tokenizer)} tokens")


if __name__ == "__main__":
    main()
