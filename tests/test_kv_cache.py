"""The key-value cache argument under the name the installed transformers takes, through DDP and peft wrappers."""

from __future__ import annotations

import inspect
import warnings

import torch

from rlvr.trainers.models.kv_cache import cache_kwargs, output_cache
from rlvr.trainers.models.policy import build_tiny_model


def test_the_cache_continues_a_prompt_as_one_forward_would_without_deprecation_warnings():
    model, _ = build_tiny_model("tiny", seed=0)
    ids = torch.tensor([[5, 6, 7, 8]])
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # the renamed argument is not used under its old name
        prefix = model(input_ids=ids[:, :3], use_cache=True)
        continued = model(input_ids=ids[:, 3:], use_cache=True, **cache_kwargs(model, output_cache(prefix)))
    whole = model(input_ids=ids).logits
    torch.testing.assert_close(continued.logits[:, -1], whole[:, -1])


def test_the_name_follows_the_model_class_and_looks_through_wrappers():
    from peft import LoraConfig, get_peft_model

    model, _ = build_tiny_model("tiny", seed=0)
    expected = "cache" if "cache" in inspect.signature(type(model).forward).parameters else "past_key_values"
    assert list(cache_kwargs(model, None)) == [expected]
    wrapped = get_peft_model(model, LoraConfig(r=2, target_modules=["q_proj"], task_type="CAUSAL_LM"))
    assert list(cache_kwargs(wrapped, None)) == [expected]
