import dataclasses
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


# --- full-support sampling, filters, log-probs, stop strings ----------------------------------------------


def test_sampling_reaches_the_far_tail_of_a_large_vocabulary_at_the_right_rate():
    # One token holds 0.95; the other 149,999 share 0.05 evenly (3.3e-7 each), as in a long LM tail. An
    # inverse-CDF draw over a float32 running sum loses the tokens whose share is below the sum's float32
    # spacing at their place; the exponential race has no running sum.
    from rlvr.trainers.rollout.engines import _pick

    vocab, draws = 150_000, 1024
    probs = torch.full((vocab,), 0.05 / (vocab - 1))
    probs[0] = 0.95
    logits = torch.log(probs).expand(256, -1)
    generator = torch.Generator().manual_seed(0)
    tokens = torch.cat([_pick(logits, SamplingParams(1), generator) for _ in range(draws // 256)])
    tail = int((tokens > 0).sum())
    assert abs(tail - draws * 0.05) <= 4.5 * (draws * 0.05 * 0.95) ** 0.5  # binomial, 4.5 standard deviations
    far = int((tokens >= 100_000).sum())  # the last third of the vocabulary: expected 17
    assert far >= 3
    assert len(set(tokens[tokens > 0].tolist())) == tail  # tail draws spread over the tail, not a few tokens

    again = torch.cat([_pick(logits, SamplingParams(1), torch.Generator().manual_seed(0)) for _ in range(1)])
    assert torch.equal(again, tokens[:256])  # a seed gives the same draws
    other = _pick(logits, SamplingParams(1), torch.Generator().manual_seed(1))
    assert not torch.equal(other, tokens[:256])


def test_temperature_zero_is_argmax_whatever_the_filters():
    from rlvr.trainers.rollout.engines import _pick

    logits = torch.randn(64, 500, generator=torch.Generator().manual_seed(0))
    for params in (SamplingParams(1, temperature=0.0), SamplingParams(1, temperature=0.0, top_k=3, top_p=0.5)):
        assert torch.equal(_pick(logits, params), logits.argmax(dim=-1))


def test_filters_apply_in_order_temperature_top_k_top_p_min_p_then_renormalise():
    from rlvr.trainers.rollout.engines import processed_logprobs

    def kept(probs, **options):
        return processed_logprobs(torch.log(torch.tensor([probs])), SamplingParams(1, **options)).exp()[0]

    # temperature first: at 0.5 the top token holds 0.78, so top-p 0.75 keeps it alone (0.6 alone would not reach it)
    torch.testing.assert_close(kept([0.6, 0.3, 0.1], temperature=0.5, top_p=0.75), torch.tensor([1.0, 0.0, 0.0]))
    torch.testing.assert_close(kept([0.6, 0.3, 0.1], top_p=0.75), torch.tensor([2 / 3, 1 / 3, 0.0]))
    # top-k before top-p: top-2 renormalised is (4/7, 3/7), whose nucleus at 0.5 is the first token alone
    torch.testing.assert_close(kept([0.4, 0.3, 0.2, 0.1], top_k=2), torch.tensor([4 / 7, 3 / 7, 0.0, 0.0]))
    torch.testing.assert_close(kept([0.4, 0.3, 0.2, 0.1], top_k=2, top_p=0.5), torch.tensor([1.0, 0.0, 0.0, 0.0]))
    # min-p keeps p >= min_p * p_max
    torch.testing.assert_close(kept([0.5, 0.3, 0.15, 0.05], min_p=0.25), torch.tensor([0.5, 0.3, 0.15, 0.0]) / 0.95)
    torch.testing.assert_close(kept([0.4, 0.3, 0.2, 0.1], top_k=3, min_p=0.6), torch.tensor([4 / 7, 3 / 7, 0.0, 0.0]))
    # temperature 0 draws the argmax; its log-probs are the unfiltered temperature-1 ones
    torch.testing.assert_close(kept([0.4, 0.3, 0.2, 0.1], temperature=0.0, top_k=1), torch.tensor([0.4, 0.3, 0.2, 0.1]))


def test_sampled_tokens_come_from_the_filtered_distribution_at_its_rates():
    from rlvr.trainers.rollout.engines import _pick

    probs = torch.tensor([0.4, 0.3, 0.2, 0.1])
    logits = torch.log(probs).expand(20_000, -1)
    torch.manual_seed(0)
    counts = torch.bincount(_pick(logits, SamplingParams(1, top_k=3, min_p=0.6)), minlength=4).float()
    expected = torch.tensor([4 / 7, 3 / 7, 0.0, 0.0]) * len(logits)
    assert counts[2] == 0 and counts[3] == 0
    chi_square = float(((counts - expected)[:2] ** 2 / expected[:2]).sum())
    assert chi_square < 10.8  # 1 degree of freedom, p = 0.001


def prompts_of(tokenizer, *texts):
    return [tokenizer(text)["input_ids"] for text in texts]


def recomputed_logprobs(model, prompt, completion, params=None):
    """Log-probs of ``completion``'s tokens after ``prompt`` from one full forward: token_logprobs, or the
    sampler's filtered distribution when ``params`` is given."""
    from rlvr.trainers.models.logprobs import pad_batch, token_logprobs
    from rlvr.trainers.rollout.engines import processed_logprobs

    start, end = len(prompt) - 1, len(prompt) - 1 + len(completion)
    if params is None:
        batch = pad_batch([prompt + completion], [[0] * len(prompt) + [1] * len(completion)], 0)
        with torch.no_grad():
            logp, _ = token_logprobs(model, batch)
        return logp[0, start:end]
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([prompt + completion])).logits[0, start:end]
    return processed_logprobs(logits, params).gather(-1, torch.tensor(completion)[:, None]).squeeze(-1)


def test_sampler_logprobs_without_filters_match_token_logprobs(tiny):
    model, tokenizer = tiny
    engine = make_engine("hf", model, tokenizer)
    prompts = prompts_of(tokenizer, "1 + 2 =", "10 + 20 + 3 =", "9 =")  # unequal lengths: left padding
    for params in (SamplingParams(12, seed=0, logprobs=True), SamplingParams(12, temperature=0.0, logprobs=True)):
        for prompt, completion in zip(prompts, engine.sample(prompts, params), strict=True):
            assert completion.logprobs is not None and len(completion.logprobs) == len(completion.token_ids)
            expected = recomputed_logprobs(model, prompt, completion.token_ids)
            torch.testing.assert_close(torch.tensor(completion.logprobs), expected, atol=1e-5, rtol=0)


def test_sampler_logprobs_are_those_of_the_filtered_distribution(tiny):
    model, tokenizer = tiny
    engine = make_engine("hf", model, tokenizer)
    prompts = prompts_of(tokenizer, "1 + 2 =", "10 + 20 + 3 =")
    top_k_one = engine.sample(prompts, SamplingParams(10, seed=0, top_k=1, logprobs=True))
    assert all(lp == 0.0 for c in top_k_one for lp in c.logprobs)  # one token kept: probability 1
    for params in (
        SamplingParams(12, seed=1, temperature=0.7, logprobs=True),
        SamplingParams(12, seed=2, top_p=0.9, logprobs=True),
        SamplingParams(12, seed=3, temperature=0.8, top_k=20, top_p=0.9, min_p=0.5, logprobs=True),
    ):
        for prompt, completion in zip(prompts, engine.sample(prompts * 2, params), strict=False):
            got = torch.tensor(completion.logprobs)
            torch.testing.assert_close(
                got, recomputed_logprobs(model, prompt, completion.token_ids, params), atol=1e-5, rtol=0
            )
            if params.temperature == 1.0:  # truncation only raises the kept tokens' probabilities
                assert bool((got >= recomputed_logprobs(model, prompt, completion.token_ids) - 1e-6).all())


def test_logprobs_are_none_unless_asked_for(tiny):
    model, tokenizer = tiny
    (completion,) = make_engine("hf", model, tokenizer).sample([[5, 6, 7]], SamplingParams(4, seed=0))
    assert completion.logprobs is None


def test_finish_reason_is_stop_at_eos_and_length_at_the_budget(tiny):
    model, tokenizer = tiny
    engine = make_engine("hf", model, tokenizer)
    completions = engine.sample(prompts_of(tokenizer, "5 =") * 16, SamplingParams(20, seed=1))
    assert {c.finish_reason for c in completions} == {"stop", "length"}  # this seed draws both
    for completion in completions:
        if completion.finish_reason == "stop":
            assert completion.token_ids[-1] == tokenizer.eos_token_id
        else:
            assert len(completion.token_ids) == 20 and tokenizer.eos_token_id not in completion.token_ids


def first_stop_end(tokenizer, tokens, stops):
    """Index of the token after which the decoded prefix first contains a stop string (full decodes)."""
    for end in range(len(tokens)):
        if any(s in tokenizer.decode(tokens[: end + 1], skip_special_tokens=True) for s in stops):
            return end
    return None


def three_characters_from(tokenizer, completions):
    """Characters 4 to 6 of the first completion whose tokens there are characters (not special tokens)."""
    for completion in completions:
        tokens = completion.token_ids[4:7]
        if len(tokens) == 3 and min(tokens) >= len(tokenizer.all_special_ids):
            return tokenizer.decode(tokens)
    raise AssertionError("no completion with three characters at 4 to 6")


def check_stop_strings(tokenizer, plain, cut, stops):
    """``cut`` is ``plain`` ended at the token completing the first stop string, that token included."""
    stopped = 0
    for whole, completion in zip(plain, cut, strict=True):
        end = first_stop_end(tokenizer, whole.token_ids, stops)
        if end is None:
            assert completion == whole
        else:
            stopped += 1
            assert completion.token_ids == whole.token_ids[: end + 1]
            assert completion.finish_reason == "stop"
            text = tokenizer.decode(completion.token_ids, skip_special_tokens=True)
            assert any(text.endswith(s) for s in stops)
            if whole.logprobs is not None:
                assert completion.logprobs == whole.logprobs[: end + 1]
    return stopped


def test_stop_string_ends_the_completion_with_the_token_that_completes_it(tiny):
    model, tokenizer = tiny
    engine = make_engine("hf", model, tokenizer)
    prompts = prompts_of(tokenizer, "5 =", "12 + 7 =") * 6
    plain = engine.sample(prompts, SamplingParams(20, seed=4, logprobs=True))
    stops = ("e", three_characters_from(tokenizer, plain))  # the second spans three tokens
    cut = engine.sample(prompts, SamplingParams(20, seed=4, logprobs=True, stop=stops))
    assert 1 < check_stop_strings(tokenizer, plain, cut, stops) < len(prompts)


def test_stop_strings_need_a_tokenizer(tiny):
    model, tokenizer = tiny
    engine = HFEngine(model, tokenizer.pad_token_id, tokenizer.eos_token_id)
    with pytest.raises(ValueError, match="tokenizer"):
        engine.sample([[5, 6]], SamplingParams(4, stop=("x",)))


def test_generate_gives_the_tokens_of_sample(tiny):
    model, tokenizer = tiny
    engine = make_engine("hf", model, tokenizer)
    prompts = prompts_of(tokenizer, "1 + 2 =", "3 =")
    params = SamplingParams(8, seed=5, top_k=10, min_p=0.1)
    assert engine.generate(prompts, params) == [c.token_ids for c in engine.sample(prompts, params)]


@pytest.fixture
def one_process_group(tmp_path):
    """A real single-process gloo group, as ``generate(synced_gpus=True)`` needs."""
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    yield
    dist.destroy_process_group()


def test_synced_generate_path_honours_filters_stop_strings_and_logprobs(tiny, one_process_group):
    model, tokenizer = tiny
    synced = HFEngine(model, tokenizer.pad_token_id, tokenizer.eos_token_id, synced=True, tokenizer=tokenizer)
    lean = HFEngine(model, tokenizer.pad_token_id, tokenizer.eos_token_id, tokenizer=tokenizer)
    prompts = prompts_of(tokenizer, "1 + 2 =", "10 + 20 + 3 =", "9 =")
    greedy = SamplingParams(12, temperature=0.0, logprobs=True)
    for got, want in zip(synced.sample(prompts, greedy), lean.sample(prompts, greedy), strict=True):
        assert got.token_ids == want.token_ids and got.finish_reason == want.finish_reason
        torch.testing.assert_close(torch.tensor(got.logprobs), torch.tensor(want.logprobs), atol=1e-5, rtol=0)

    params = SamplingParams(16, seed=6, temperature=0.8, top_k=30, top_p=0.95, min_p=0.3, logprobs=True)
    plain = synced.sample(prompts * 4, params)
    for prompt, completion in zip(prompts * 4, plain, strict=True):
        got = torch.tensor(completion.logprobs)
        torch.testing.assert_close(
            got, recomputed_logprobs(model, prompt, completion.token_ids, params), atol=1e-5, rtol=0
        )
    stops = ("e", three_characters_from(tokenizer, plain))
    cut = synced.sample(prompts * 4, dataclasses.replace(params, stop=stops))
    assert 1 < check_stop_strings(tokenizer, plain, cut, stops) < len(plain)


def test_sampling_params_name_a_bad_value():
    for options, field in (
        ({"max_new_tokens": 0}, "max_new_tokens"),
        ({"temperature": -1.0}, "temperature"),
        ({"top_p": 0.0}, "top_p"),
        ({"top_k": -1}, "top_k"),
        ({"min_p": 1.5}, "min_p"),
        ({"stop": ("",)}, "stop"),
    ):
        with pytest.raises(ValueError, match=field):
            SamplingParams(**{"max_new_tokens": 4, **options})
    with pytest.raises(TypeError, match="tuple"):
        SamplingParams(4, stop="</answer>")
    assert SamplingParams(4, stop=["a", "b"]).stop == ("a", "b")  # type: ignore[arg-type]


def test_vllm_gets_every_sampling_field_in_its_own_terms():
    from rlvr.trainers.rollout.engines import vllm_sampling_options

    options = vllm_sampling_options(
        SamplingParams(32, 0.7, 0.9, 3, top_k=0, min_p=0.05, stop=("</a>",), logprobs=True), {2}
    )
    assert options["top_k"] == -1 and options["min_p"] == 0.05 and options["stop"] == ["</a>"]
    assert options["logprobs"] == 0 and options["include_stop_str_in_output"]
    assert (options["max_tokens"], options["temperature"], options["top_p"], options["seed"]) == (32, 0.7, 0.9, 3)
    assert vllm_sampling_options(SamplingParams(8, top_k=5), {2})["top_k"] == 5
    assert vllm_sampling_options(SamplingParams(8), {2})["logprobs"] is None
