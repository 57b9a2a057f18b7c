"""The embedded model's BPE tokenizer: lossless, digit by digit, learned from the envs' text, saved with the model."""

from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from transformers import AutoTokenizer

from rlvr import envs
from rlvr.trainers.models.bpe_tokenizer import (
    BPE_SPECIAL_TOKENS,
    BPE_VOCAB_SIZE,
    build_bpe_tokenizer,
    envs_corpus,
    train_bpe_tokenizer,
)
from rlvr.trainers.models.policy import TINY_SIZES, build_tiny_model, load_policy, save_policy
from rlvr.trainers.pipelines.sft import worked_example

TOKENIZER = build_bpe_tokenizer()

# Any text but the special tokens' own spelling, which encodes to the special token as in any HF tokenizer.
TEXT = st.text(max_size=200).filter(lambda s: not any(special in s for special in BPE_SPECIAL_TOKENS))


def test_the_shipped_tokenizer_has_its_size_and_special_ids():
    assert len(TOKENIZER) == BPE_VOCAB_SIZE
    ids = [TOKENIZER.pad_token_id, TOKENIZER.unk_token_id, TOKENIZER.bos_token_id, TOKENIZER.eos_token_id]
    assert ids == [0, 1, 2, 3]
    assert TOKENIZER.convert_ids_to_tokens(ids) == list(BPE_SPECIAL_TOKENS)
    assert TOKENIZER.padding_side == "left"
    assert TOKENIZER("Final Answer")["input_ids"][0] not in ids  # encoding adds no special tokens


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_any_text_decodes_back_to_itself_with_no_unknown_token(text: str):
    ids = TOKENIZER(text)["input_ids"]
    assert TOKENIZER.decode(ids) == text
    assert TOKENIZER.unk_token_id not in ids


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=-(10**30), max_value=10**30), st.sampled_from(["", " ", "is ", "= ", "x"]))
def test_every_digit_is_its_own_token(number: int, before: str):
    tokens = TOKENIZER.convert_ids_to_tokens(TOKENIZER(before + str(number))["input_ids"])
    digit_tokens = [t for t in tokens if any(c.isdigit() for c in t)]
    assert digit_tokens == list(str(abs(number)))


@pytest.mark.parametrize("env_id", envs.list_envs())
def test_every_built_in_envs_prompt_and_worked_answer_round_trip_and_fit_with_room(env_id: str):
    env = envs.make(env_id)
    model, tokenizer = build_tiny_model("small-bpe")
    for seed in range(100):
        try:
            prompt, _, completion = worked_example(env, seed)
        except ValueError:  # a family without reference answers
            prompt, completion = env.reset(seed=seed)[0], ""
        ids = tokenizer(prompt + completion)["input_ids"]
        assert tokenizer.decode(ids) == prompt + completion
        assert len(ids) + 512 <= model.config.max_position_embeddings


def test_bpe_prompts_are_several_times_shorter_than_in_characters():
    env = envs.make("rlvr/FunctionCalling-v0")
    prompts = [env.reset(seed=seed)[0] for seed in range(50)]
    characters = sum(len(p) for p in prompts)
    tokens = sum(len(TOKENIZER(p)["input_ids"]) for p in prompts)
    assert characters / tokens > 3.0
    phrase = "\nFinal Answer: the final answer is"
    assert len(TOKENIZER(phrase)["input_ids"]) <= 8  # a fixed phrase of the envs is a few tokens


def test_training_is_deterministic_and_learns_the_texts_words():
    texts = ["the cat sat on the mat 123", "the cat ate the rat 4567"] * 50
    first, second = train_bpe_tokenizer(texts, 300), train_bpe_tokenizer(texts, 300)
    assert first.get_vocab() == second.get_vocab()
    assert len(first) <= 300
    assert "Ġcat" in first.get_vocab()  # a frequent word with its leading space is one token
    assert first.convert_ids_to_tokens(first("the cat")["input_ids"]) == ["the", "Ġcat"]
    with pytest.raises(ValueError, match="at least 260"):
        train_bpe_tokenizer(texts, 100)


def test_the_corpus_reads_every_built_in_env_under_each_template():
    texts = list(envs_corpus(tasks_per_env=2))
    templates = sum(len(envs.entry(i).templates) for i in envs.list_envs() if i.startswith("rlvr/"))
    assert len(texts) == 2 * templates
    assert any("Final Answer: the final answer is" in t for t in texts)  # Arithmetic's worked answers
    assert any("<tool_call>" in t for t in texts)  # FunctionCalling's


def test_a_bpe_model_saved_loads_back_through_auto_tokenizer_with_the_same_logits(tmp_path: Path):
    model, tokenizer = load_policy("tiny:small-bpe", seed=4)
    save_policy(model, tokenizer, tmp_path / "policy")
    loaded_tokenizer = AutoTokenizer.from_pretrained(tmp_path / "policy")
    loaded, _ = load_policy(str(tmp_path / "policy"))
    text = 'Set an alarm for 9 pm.\n<tool_call>\n{"name": "set_alarm"}'
    assert loaded_tokenizer(text)["input_ids"] == tokenizer(text)["input_ids"]
    assert loaded_tokenizer.padding_side == "left"
    batch = tokenizer(["12 * 7", text], padding=True, return_tensors="pt")
    with torch.no_grad():
        assert torch.equal(loaded(**batch).logits, model(**batch).logits)


@pytest.mark.parametrize("size", sorted(TINY_SIZES))
def test_each_size_uses_its_named_tokenizer(size: str):
    model, tokenizer = build_tiny_model(size)
    expected = {"char": 101, "bpe": BPE_VOCAB_SIZE}[TINY_SIZES[size]["tokenizer"]]
    assert len(tokenizer) == model.config.vocab_size == expected
