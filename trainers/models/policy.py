"""Loading policies: a Hugging Face checkpoint, or the embedded offline ``tiny`` model.

``load_policy(name)`` is the one entry point the trainers use. ``"tiny"`` (or
``"tiny:<size>"``, a key of ``TINY_SIZES``) builds a freshly initialised Llama
with a character-level tokenizer or the shipped BPE tokenizer
(``bpe_tokenizer``), from code and package files alone: no network. It
exists so that tests, examples and CI can train end to end on a CPU in seconds;
it starts knowing nothing, so its rewards start near zero. Any other name is a
local directory or a hub id, loaded with ``AutoModelForCausalLM`` and
``AutoTokenizer``.

Every tokenizer returned pads on the left (batched generation appends new
tokens on the right, so the prompts must end flush) and has a pad token (the
eos token when the checkpoint names none). ``save_policy`` writes a directory
that ``load_policy`` reads back to the same logits.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    PreTrainedTokenizerFast,
)

from rlvr.trainers.models.bpe_tokenizer import BPE_SPECIAL_TOKENS, build_bpe_tokenizer, fast_tokenizer

__all__ = [
    "CHAR_VOCAB",
    "SPECIAL_TOKENS",
    "TINY_CONTEXT",
    "TINY_NAME",
    "TINY_SIZES",
    "TINY_TOKENIZERS",
    "build_char_tokenizer",
    "build_tiny_model",
    "context_length",
    "load_policy",
    "resolve_device",
    "save_policy",
]

TINY_NAME = "tiny"
"""The name that ``load_policy`` reads as the embedded model; ``"tiny:<size>"`` picks a size."""

SPECIAL_TOKENS: tuple[str, ...] = BPE_SPECIAL_TOKENS
"""Special tokens of the character tokenizer, with ids 0, 1, 2, 3 in this order."""

CHAR_VOCAB: tuple[str, ...] = (*(chr(code) for code in range(32, 127)), "\n", "\t")
"""The characters the character tokenizer knows (ids 4 on): printable ASCII, newline, tab."""

TINY_CONTEXT = 8192
"""Positions the embedded model sees: characters with the character tokenizer, about 3.5 characters each with BPE.

Every built-in env's longest default prompt fits with room for the completion
(FunctionCalling's tool lists reach about 4,000 characters), even one character
a position. Rotary position embeddings have no weights, so the context costs no parameters and leaves the
initialisation, and so every trained figure, as it was.
"""

_TINY_ARCHITECTURE: dict[str, Any] = {
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "intermediate_size": 256,
    "max_position_embeddings": TINY_CONTEXT,
    "tie_word_embeddings": True,
}
_SMALL_ARCHITECTURE: dict[str, Any] = {
    **_TINY_ARCHITECTURE,
    "hidden_size": 128,
    "num_hidden_layers": 4,
    "intermediate_size": 512,
}

TINY_SIZES: dict[str, dict[str, Any]] = {
    # About 130k parameters: a forward and backward pass over 16 x 64 tokens takes ~30 ms on 2 CPU cores.
    "tiny": {"tokenizer": "char", **_TINY_ARCHITECTURE},
    # About 1.0M parameters: still CPU-sized, with room to actually learn a small task.
    "small": {"tokenizer": "char", **_SMALL_ARCHITECTURE},
    # About 254k parameters: "tiny" reading the BPE tokenizer; half of them are the 2,048 token embeddings.
    "tiny-bpe": {"tokenizer": "bpe", **_TINY_ARCHITECTURE},
    # About 1.2M parameters: "small" reading the BPE tokenizer, so a prompt is about a quarter as long.
    "small-bpe": {"tokenizer": "bpe", **_SMALL_ARCHITECTURE},
    # About 6.4M parameters, BPE: the largest size a 2-core CPU trains in minutes.
    "medium": {
        "tokenizer": "bpe",
        **_TINY_ARCHITECTURE,
        "hidden_size": 256,
        "num_hidden_layers": 6,
        "num_attention_heads": 8,
        "num_key_value_heads": 4,
        "intermediate_size": 1024,
    },
}
"""Named architectures of the embedded model: its tokenizer (``"char"`` or
``"bpe"``, see ``TINY_TOKENIZERS``) and ``LlamaConfig`` keyword arguments.

The vocabulary size and the special-token ids are not here; ``build_tiny_model``
takes them from the tokenizer. Add a size by adding an entry. Parameter counts
and the time of one GRPO step on 2 CPU cores: ``benchmarks/tiny_sizes.py``.
"""


def build_char_tokenizer() -> PreTrainedTokenizerFast:
    """The character-level tokenizer of the embedded model, built in memory.

    Returns:
        A ``PreTrainedTokenizerFast`` with ``len(tokenizer) == 101``: ids 0-3 are
        ``SPECIAL_TOKENS`` (pad, unk, bos, eos), then one id per character of
        ``CHAR_VOCAB`` in that order (``" "`` is 4, ``"a"`` is 69). Every
        character is its own token, spaces and newlines included; a character
        outside ``CHAR_VOCAB`` (``"é"``, ``"\\r"``) encodes to ``<unk>`` (id 1).

    Encoding adds no special tokens (``tokenizer("ab")["input_ids"] == [69, 70]``):
    the training code adds bos/eos where it wants them. Decoding joins the
    tokens with nothing between them, so ``decode(encode(s)) == s`` for any
    string of ``CHAR_VOCAB`` characters. As with any Hugging Face tokenizer, the
    literal text ``"<s>"`` in an input encodes to the special token, not to
    three characters. Padding is on the left; there is no chat template.
    """
    vocab = {token: index for index, token in enumerate((*SPECIAL_TOKENS, *CHAR_VOCAB))}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    # `[\s\S]` rather than `.`, which would not match "\n".
    backend.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated")
    backend.decoder = decoders.Fuse()
    return fast_tokenizer(backend)


TINY_TOKENIZERS: dict[str, Callable[[], PreTrainedTokenizerFast]] = {
    "char": build_char_tokenizer,
    "bpe": build_bpe_tokenizer,
}
"""The embedded model's tokenizers by name: one token per character, or the shipped byte-level BPE."""


def build_tiny_model(size: str = "tiny", seed: int = 0) -> tuple[LlamaForCausalLM, PreTrainedTokenizerFast]:
    """A freshly initialised embedded model and its tokenizer.

    Args:
        size: a key of ``TINY_SIZES`` (``"tiny"``, ``"small"``, ``"tiny-bpe"``, ``"small-bpe"``, ``"medium"``).
        seed: seeds the weight initialisation. The same (size, seed) gives
            identical parameters in any process; the global torch RNG is left
            as it was.

    Returns:
        ``(model, tokenizer)``: a float32 ``LlamaForCausalLM`` on the CPU, in
        eval mode (as ``from_pretrained`` returns models; call ``.train()`` to
        train), with ``vocab_size == len(tokenizer)`` and the pad, bos and eos
        ids of the tokenizer in both ``model.config`` and
        ``model.generation_config``; and the tokenizer of
        size's tokenizer (``TINY_TOKENIZERS``), its ``model_max_length`` set to
        the model's ``max_position_embeddings``.

    Raises:
        OSError: ``size`` is not a key of ``TINY_SIZES`` (no such model, as for a hub id that is not there).
    """
    if size not in TINY_SIZES:
        raise OSError(f"unknown tiny model size {size!r}; the sizes are {sorted(TINY_SIZES)}")
    architecture = dict(TINY_SIZES[size])
    tokenizer = TINY_TOKENIZERS[architecture.pop("tokenizer")]()
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        **architecture,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
    model.eval()
    generation = model.generation_config
    generation.pad_token_id = tokenizer.pad_token_id
    generation.bos_token_id = tokenizer.bos_token_id
    generation.eos_token_id = tokenizer.eos_token_id
    tokenizer.model_max_length = config.max_position_embeddings
    return model, tokenizer


def context_length(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> int | None:
    """The number of token positions ``model`` can attend over, or None when neither side says.

    The smaller of the model config's ``max_position_embeddings`` and the
    tokenizer's ``model_max_length``; tokenizers without a limit report a huge
    sentinel (about 1e30), which is ignored.
    """
    limits = []
    positions = getattr(model.config, "max_position_embeddings", None)
    if isinstance(positions, int) and positions > 0:
        limits.append(positions)
    tokenizer_limit = getattr(tokenizer, "model_max_length", None)
    if isinstance(tokenizer_limit, int) and 0 < tokenizer_limit < 10**9:
        limits.append(tokenizer_limit)
    return min(limits) if limits else None


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """The device a ``device`` option names: ``"auto"`` is CUDA (GPU ``local_rank``) when available, else the CPU.

    Raises:
        ValueError: a name torch does not know, or a CUDA device on a machine without CUDA.
    """
    if name == "auto":
        return torch.device("cuda", local_rank) if torch.cuda.is_available() else torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError as error:
        raise ValueError(f"device={name!r} is not a device torch knows ({error})") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={name!r}, but this machine has no CUDA device: use device='cpu' or 'auto'")
    return device


def load_policy(
    name_or_path: str,
    *,
    dtype: torch.dtype | None = None,
    device: str | torch.device = "cpu",
    seed: int = 0,
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """A causal language model and its tokenizer, ready to generate and train.

    Args:
        name_or_path: ``"tiny"`` or ``"tiny:<size>"`` for the embedded model
            (``build_tiny_model``; these names always mean the embedded model,
            so load a directory called ``tiny`` as ``"./tiny"``); otherwise a
            local directory (as written by ``save_policy`` or
            ``save_pretrained``; ``~`` is expanded; a training run's
            ``output_dir`` means its ``final/`` policy) or a hub id such as
            ``"Qwen/Qwen2.5-0.5B-Instruct"``.
        dtype: parameter dtype, for example ``torch.bfloat16``. None keeps the
            checkpoint's own dtype (``dtype="auto"`` in transformers 5); the
            embedded model is float32.
        device: where the model is placed (``"cpu"``, ``"cuda"``, ``"cuda:1"``).
        seed: weight-initialisation seed of the embedded model; ignored for
            checkpoints, whose weights are given.

    Returns:
        ``(model, tokenizer)``. The model is in eval mode, as
        ``from_pretrained`` leaves it. The tokenizer pads on the left and has a
        pad token (the eos token if the checkpoint has none); the model's
        ``config.pad_token_id`` and ``generation_config.pad_token_id`` are set
        to it when the checkpoint leaves them unset.

    Raises:
        OSError: the model or tokenizer cannot be loaded (no such directory, a
            directory without the files, a hub id that does not exist or cannot
            be reached). The message names ``name_or_path`` and points to
            ``"tiny"``, which works offline; the error from transformers is
            chained. Offline, set ``HF_HUB_OFFLINE=1`` so that a hub id fails
            at once instead of after the hub client's retries (about 45 s).
        ValueError: an unknown tiny size, or a tokenizer with neither a pad nor
            an eos token.
    """
    tiny, _, size = name_or_path.partition(":")
    if tiny == TINY_NAME:
        tiny_model, char_tokenizer = build_tiny_model(size or TINY_NAME, seed=seed)
        return _place(tiny_model, device, dtype), char_tokenizer

    source = os.path.expanduser(name_or_path)
    trained = os.path.join(source, "final")
    if not os.path.exists(os.path.join(source, "config.json")) and os.path.exists(os.path.join(trained, "config.json")):
        source = trained  # a training run's directory: its final policy
    tokenizer: PreTrainedTokenizerBase
    model: PreTrainedModel
    # transformers 5 raises ValueError, not OSError, for a directory without config.json or tokenizer files.
    unreadable = (OSError, ValueError) if os.path.isdir(source) else (OSError,)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
    except unreadable as error:
        raise OSError(_load_error_message(name_or_path, "tokenizer")) from error
    try:
        model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype if dtype is not None else "auto")
    except unreadable as error:
        raise OSError(_load_error_message(name_or_path, "model")) from error

    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise ValueError(f"the tokenizer of {name_or_path!r} has neither a pad token nor an eos token to pad with")
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    if getattr(model.config, "pad_token_id", None) is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    if model.generation_config is not None and model.generation_config.pad_token_id is None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id
    return _place(model, device, None), tokenizer


def save_policy(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, path: str | os.PathLike[str]) -> None:
    """Write a model and its tokenizer to one directory that ``load_policy(path)`` reads.

    Args:
        model: the policy; its weights (safetensors), config and generation
            config are written.
        tokenizer: its tokenizer; written with its pad token and padding side.
        path: the directory, created (with its parents) if missing; files
            already there are overwritten.

    Loading the directory back gives the same logits for the same input, in
    the dtype the model was saved in.
    """
    directory = Path(path).expanduser()
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)


def _place(model: PreTrainedModel, device: str | torch.device, dtype: torch.dtype | None) -> PreTrainedModel:
    """``model`` moved to ``device`` (and cast to ``dtype`` unless None), in place; returns it."""
    # transformers declares `to` through functools.wraps(nn.Module.to), which mypy reads as an unbound function.
    if dtype is None:
        return model.to(device=device)  # type: ignore[call-arg]
    return model.to(device=device, dtype=dtype)  # type: ignore[call-arg]


def _load_error_message(name_or_path: str, part: str) -> str:
    """The message for a failed load: what was asked for, the likely reason, the offline alternative."""
    expanded = os.path.expanduser(name_or_path)
    # A hub id is "name" or "owner/name"; anything else that fails to load was meant as a local path.
    looks_local = os.path.isabs(expanded) or name_or_path.startswith((".", "~")) or name_or_path.count("/") > 1
    if os.path.isdir(expanded):
        reason = f"the directory exists but holds no loadable {part}"
    elif os.path.exists(expanded):
        reason = "it is a file, not a checkpoint directory"
    elif looks_local:
        reason = "there is no such directory"
    else:
        reason = "it is neither a local directory nor a hub id that could be fetched"
    return (
        f"could not load the {part} of policy {name_or_path!r}: {reason} (see the chained error). "
        f"The embedded model {TINY_NAME!r} (or 'tiny:<size>', sizes {sorted(TINY_SIZES)}) needs no files or network."
    )
