"""Policy loading: the character tokenizer, the embedded tiny model, and the save/load round trip."""

from __future__ import annotations

import string
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from rlvr import envs  # noqa: E402
from rlvr.trainers.models.policy import (  # noqa: E402  (after the skips: torch and transformers are optional extras)
    CHAR_VOCAB,
    SPECIAL_TOKENS,
    TINY_CONTEXT,
    TINY_SIZES,
    build_char_tokenizer,
    build_tiny_model,
    context_length,
    load_policy,
    save_policy,
)

ASCII_TEXT = "Q: What is 12 + 30?\n\tA:  42.\n" + string.printable.replace("\r", "").replace("\x0b", "").replace(
    "\x0c", ""
)


def _parameters_equal(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))


def test_char_tokenizer_vocabulary_is_specials_then_characters():
    tokenizer = build_char_tokenizer()
    assert len(tokenizer) == len(SPECIAL_TOKENS) + len(CHAR_VOCAB) == 101
    assert [tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS] == [0, 1, 2, 3]
    assert (tokenizer.pad_token_id, tokenizer.unk_token_id, tokenizer.bos_token_id, tokenizer.eos_token_id) == (
        0,
        1,
        2,
        3,
    )
    assert tokenizer.padding_side == "left"
    assert tokenizer.chat_template is None


def test_char_tokenizer_round_trips_ascii_with_one_token_per_character():
    tokenizer = build_char_tokenizer()
    ids = tokenizer(ASCII_TEXT)["input_ids"]
    assert len(ids) == len(ASCII_TEXT)
    assert tokenizer.decode(ids) == ASCII_TEXT
    # Spaces before punctuation survive (no clean-up of tokenization spaces).
    assert tokenizer.decode(tokenizer(" . , 's  ?")["input_ids"]) == " . , 's  ?"


def test_char_tokenizer_maps_unknown_characters_to_unk():
    tokenizer = build_char_tokenizer()
    ids = tokenizer("aé\rb")["input_ids"]
    a, b = tokenizer.convert_tokens_to_ids(["a", "b"])
    assert ids == [a, tokenizer.unk_token_id, tokenizer.unk_token_id, b]


def test_char_tokenizer_adds_no_special_tokens():
    tokenizer = build_char_tokenizer()
    assert tokenizer("ab")["input_ids"] == tokenizer.convert_tokens_to_ids(["a", "b"]) == [69, 70]
    assert tokenizer("")["input_ids"] == []


def test_char_tokenizer_pads_a_batch_on_the_left():
    tokenizer = build_char_tokenizer()
    batch = tokenizer(["1+1=", "12+30="], padding=True, return_tensors="pt")
    pad = tokenizer.pad_token_id
    assert batch["input_ids"].shape == (2, 6)
    assert batch["input_ids"][0].tolist() == [pad, pad, *tokenizer("1+1=")["input_ids"]]
    assert batch["attention_mask"].tolist() == [[0, 0, 1, 1, 1, 1], [1] * 6]


def test_tiny_model_is_deterministic_per_seed_and_differs_across_seeds():
    first, _ = build_tiny_model(seed=0)
    again, _ = build_tiny_model(seed=0)
    other, _ = build_tiny_model(seed=1)
    assert _parameters_equal(first, again)
    assert not _parameters_equal(first, other)


def test_tiny_model_leaves_the_global_torch_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    build_tiny_model(seed=7)
    assert torch.equal(torch.rand(3), expected)


def test_tiny_model_config_matches_its_tokenizer():
    model, tokenizer = build_tiny_model()
    assert model.config.vocab_size == len(tokenizer)
    for config in (model.config, model.generation_config):
        assert config.pad_token_id == tokenizer.pad_token_id
        assert config.bos_token_id == tokenizer.bos_token_id
        assert config.eos_token_id == tokenizer.eos_token_id
    assert model.config.hidden_size == TINY_SIZES["tiny"]["hidden_size"]
    assert tokenizer.model_max_length == model.config.max_position_embeddings


def test_tiny_model_generates_greedily_from_left_padded_prompts():
    model, tokenizer = build_tiny_model()
    batch = tokenizer(["1+1=", "12+30="], padding=True, return_tensors="pt")
    output = model.generate(**batch, do_sample=False, max_new_tokens=5)
    assert output.shape[0] == 2
    assert 1 <= output.shape[1] - batch["input_ids"].shape[1] <= 5
    assert torch.equal(output[:, : batch["input_ids"].shape[1]], batch["input_ids"])
    again = model.generate(**batch, do_sample=False, max_new_tokens=5)
    assert torch.equal(output, again)


def test_small_size_is_larger_and_unknown_size_is_an_error():
    small, _ = build_tiny_model("small")
    tiny, _ = build_tiny_model("tiny")
    assert small.num_parameters() > tiny.num_parameters()
    with pytest.raises(OSError, match="huge"):  # no such model, as for a hub id that is not there
        build_tiny_model("huge")


def test_load_policy_tiny_has_a_pad_token_shared_with_the_model():
    model, tokenizer = load_policy("tiny")
    assert tokenizer.pad_token is not None
    assert model.config.pad_token_id == tokenizer.pad_token_id
    assert tokenizer.padding_side == "left"


def test_load_policy_tiny_size_seed_and_dtype():
    model, _ = load_policy("tiny:small", seed=3, dtype=torch.float64)
    reference, _ = build_tiny_model("small", seed=3)
    assert model.dtype == torch.float64
    assert model.config.num_hidden_layers == TINY_SIZES["small"]["num_hidden_layers"]
    assert all(
        torch.equal(x.double(), y)
        for x, y in zip(reference.state_dict().values(), model.state_dict().values(), strict=True)
    )


def test_save_then_load_policy_gives_identical_logits_and_encoding(tmp_path: Path):
    model, tokenizer = build_tiny_model(seed=5)
    save_policy(model, tokenizer, tmp_path / "checkpoint")
    loaded, loaded_tokenizer = load_policy(str(tmp_path / "checkpoint"))

    assert loaded_tokenizer(ASCII_TEXT)["input_ids"] == tokenizer(ASCII_TEXT)["input_ids"]
    assert loaded_tokenizer.padding_side == "left"
    assert loaded_tokenizer.pad_token_id == tokenizer.pad_token_id
    batch = tokenizer(["1+1=", "12+30="], padding=True, return_tensors="pt")
    with torch.no_grad():
        assert torch.equal(loaded(**batch).logits, model(**batch).logits)
    assert loaded.config.pad_token_id == tokenizer.pad_token_id
    assert loaded.dtype == torch.float32


def test_load_policy_of_a_missing_path_names_the_path_and_tiny(tmp_path: Path):
    missing = str(tmp_path / "no" / "such" / "checkpoint")
    with pytest.raises(OSError) as raised:
        load_policy(missing)
    message = str(raised.value)
    assert missing in message
    assert "'tiny'" in message
    assert "no such directory" in message
    assert isinstance(raised.value.__cause__, OSError)


def test_load_policy_of_a_directory_without_a_checkpoint_says_what_is_missing(tmp_path: Path):
    with pytest.raises(OSError, match="holds no loadable tokenizer"):
        load_policy(str(tmp_path))
    build_char_tokenizer().save_pretrained(tmp_path)  # the tokenizer without its model
    with pytest.raises(OSError, match="holds no loadable model") as raised:
        load_policy(str(tmp_path))
    assert raised.value.__cause__ is not None


def test_a_training_runs_directory_loads_its_final_policy(tmp_path: Path):
    model, tokenizer = build_tiny_model("tiny", seed=3)
    save_policy(model, tokenizer, tmp_path / "run" / "final")
    loaded, _ = load_policy(str(tmp_path / "run"))
    ids = torch.tensor([[5, 6, 7]])
    torch.testing.assert_close(loaded(input_ids=ids).logits, model(input_ids=ids).logits)


@pytest.mark.parametrize("env_id", envs.list_envs())
def test_the_embedded_model_sees_every_built_in_envs_default_prompt(env_id: str):
    from rlvr.trainers.algorithms.config import GRPOConfig

    model, tokenizer = build_tiny_model()
    budget = GRPOConfig.model_fields["max_new_tokens"].default
    env = envs.make(env_id)
    longest = max(len(tokenizer(env.reset(seed=seed)[0])["input_ids"]) for seed in range(300))
    assert longest + budget <= context_length(model, tokenizer) == TINY_CONTEXT


def test_the_context_does_not_change_the_embedded_models_weights():
    model, _ = build_tiny_model(seed=3)
    original = TINY_SIZES["tiny"]["max_position_embeddings"]
    TINY_SIZES["tiny"]["max_position_embeddings"] = 512
    try:
        short, _ = build_tiny_model(seed=3)
    finally:
        TINY_SIZES["tiny"]["max_position_embeddings"] = original
    assert _parameters_equal(model, short)
    ids = torch.randint(4, 100, (2, 40))
    assert torch.equal(model(ids).logits, short(ids).logits)


def test_context_length_is_the_smaller_limit_and_ignores_an_unlimited_tokenizer():
    model, tokenizer = build_tiny_model()
    tokenizer.model_max_length = 100
    assert context_length(model, tokenizer) == 100
    tokenizer.model_max_length = int(1e30)  # what transformers reports for a tokenizer without a limit
    assert context_length(model, tokenizer) == TINY_CONTEXT
