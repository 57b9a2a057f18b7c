import importlib.util

import pytest
import torch

from rlvr.trainers.models.policy import build_tiny_model
from rlvr.trainers.rollout.engines import HFEngine, SamplingParams, make_engine


@pytest.fixture(scope="module")
def tiny():
    return build_tiny_model(seed=0)


def test_hf_engine_returns_one_completion_per_prompt_within_budget(tiny):
    model, tokenizer = tiny
    engine = make_engine("hf", model, tokenizer)
    prompts = [tokenizer("1 + 2 =")["input_ids"], tokenizer("10 + 20 =")["input_ids"], tokenizer("3 =")["input_ids"]]
    completions = engine.generate(prompts, SamplingParams(max_new_tokens=6, temperature=1.0, seed=0))
    assert len(completions) == 3
    assert all(1 <= len(c) <= 6 for c in completions)


def test_completions_stop_after_the_first_eos(tiny):
    model, tokenizer = tiny
    engine = HFEngine(model, tokenizer.pad_token_id, tokenizer.eos_token_id)
    completions = engine.generate([tokenizer("5 =")["input_ids"]] * 16, SamplingParams(max_new_tokens=20, seed=1))
    for completion in completions:
        if tokenizer.eos_token_id in completion:
            assert completion.index(tokenizer.eos_token_id) == len(completion) - 1


def test_seeded_sampling_is_reproducible_and_greedy_is_deterministic(tiny):
    model, tokenizer = tiny
    engine = make_engine("hf", model, tokenizer)
    prompts = [tokenizer("4 + 4 =")["input_ids"]] * 4
    first = engine.generate(prompts, SamplingParams(max_new_tokens=8, seed=7))
    assert engine.generate(prompts, SamplingParams(max_new_tokens=8, seed=7)) == first
    greedy = engine.generate(prompts, SamplingParams(max_new_tokens=8, temperature=0.0))
    assert all(c == greedy[0] for c in greedy)


def test_batched_generation_matches_one_at_a_time(tiny):
    model, tokenizer = tiny
    engine = make_engine("hf", model, tokenizer)
    prompts = [tokenizer("1 + 2 =")["input_ids"], tokenizer("10 + 20 + 30 =")["input_ids"]]
    greedy = SamplingParams(max_new_tokens=5, temperature=0.0)
    assert engine.generate(prompts, greedy) == [engine.generate([p], greedy)[0] for p in prompts]


def test_generation_leaves_the_model_in_training_mode(tiny):
    model, tokenizer = tiny
    model.train()
    make_engine("hf", model, tokenizer).generate([[5, 6]], SamplingParams(max_new_tokens=2))
    assert model.training


def test_unknown_engine_is_rejected(tiny):
    model, tokenizer = tiny
    with pytest.raises(ValueError, match="hf"):
        make_engine("sglang", model, tokenizer)


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="checks the message shown without vLLM")
def test_vllm_engine_without_vllm_says_how_to_install(tiny):
    with pytest.raises(ImportError, match=r"rlvr-gym\[vllm\]"):
        make_engine("vllm", *tiny, model_path="/nonexistent")


def test_lean_decoding_matches_transformers_generate_greedily(tiny):
    import torch

    model, tokenizer = tiny
    engine = HFEngine(model, tokenizer.pad_token_id, tokenizer.eos_token_id)
    prompts = [tokenizer(text)["input_ids"] for text in ("1 + 2 =", "10 + 20 + 3 =", "9 =")]
    width = max(map(len, prompts))
    input_ids = torch.full((len(prompts), width), tokenizer.pad_token_id)
    attention_mask = torch.zeros_like(input_ids)
    for row, prompt in enumerate(prompts):
        input_ids[row, width - len(prompt) :] = torch.tensor(prompt)
        attention_mask[row, width - len(prompt) :] = 1
    reference = model.generate(
        input_ids=input_ids,
        attention_mask=attention_mask,
        max_new_tokens=12,
        do_sample=False,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    expected = [engine._until_eos(row[width:].tolist()) for row in reference]
    assert engine.generate(prompts, SamplingParams(max_new_tokens=12, temperature=0.0)) == expected


def test_top_p_keeps_only_the_nucleus():
    import torch

    from rlvr.trainers.rollout.engines import _pick

    logits = torch.log(torch.tensor([[0.6, 0.3, 0.05, 0.05]]))
    torch.manual_seed(0)
    draws = {int(_pick(logits, SamplingParams(1, temperature=1.0, top_p=0.8))) for _ in range(200)}
    assert draws == {0, 1}


def test_sampling_draws_each_token_with_its_probability_and_never_an_impossible_one():
    import torch

    from rlvr.trainers.rollout.engines import _pick

    probs = torch.tensor([0.5, 0.0, 0.3, 0.15, 0.0, 0.05])
    logits = torch.log(probs).expand(20_000, -1)  # log 0 = -inf: those tokens must never come out
    torch.manual_seed(0)
    counts = torch.bincount(_pick(logits, SamplingParams(1, temperature=1.0)), minlength=len(probs)).float()
    assert counts[1] == 0 and counts[4] == 0
    expected = probs * len(logits)
    chi_square = float(((counts - expected)[probs > 0] ** 2 / expected[probs > 0]).sum())
    assert chi_square < 16.3  # 3 degrees of freedom, p = 0.001


def test_repeated_prompts_share_one_prefill_and_decode_like_distinct_ones(tiny):
    model, tokenizer = tiny
    engine = HFEngine(model, tokenizer.pad_token_id, tokenizer.eos_token_id)
    a, b = tokenizer("1 + 2 =")["input_ids"], tokenizer("30 + 4 =")["input_ids"]
    greedy = SamplingParams(max_new_tokens=8, temperature=0.0)
    alone = {tuple(p): engine.generate([p], greedy)[0] for p in (a, b)}
    assert engine.generate([a, a, b, a], greedy) == [alone[tuple(a)], alone[tuple(a)], alone[tuple(b)], alone[tuple(a)]]
    sampled = engine.generate([a] * 16, SamplingParams(max_new_tokens=8, seed=3))
    assert len({tuple(c) for c in sampled}) > 1  # one prefill, still independent samples


def test_seeded_sampling_leaves_the_global_random_stream_alone(tiny):
    # sampling may run on a background thread (async rollouts) beside code that draws from the global stream
    model, tokenizer = tiny
    engine = HFEngine(model, tokenizer.pad_token_id, tokenizer.eos_token_id)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    engine.generate([[2, 5, 6]] * 4, SamplingParams(max_new_tokens=5, temperature=1.0, seed=7))
    assert torch.equal(torch.rand(3), expected)
