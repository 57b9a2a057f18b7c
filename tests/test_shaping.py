"""Reward shaping and importance weights: DAPO's overlong punishment against TRL's, TIS, the KL in the reward."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rlvr.trainers.losses.kl import kl_estimate
from rlvr.trainers.losses.shaping import kl_shaped_rewards, soft_overlong_penalty, truncated_importance_weights


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 64), st.data())
def test_soft_overlong_penalty_agrees_with_trls(max_length: int, data: st.DataObject) -> None:
    from trl.rewards import get_soft_overlong_punishment

    buffer = data.draw(st.integers(1, max_length))
    lengths = data.draw(st.lists(st.integers(0, max_length + 5), min_size=1, max_size=10))
    theirs = get_soft_overlong_punishment(max_length, buffer)(completion_ids=[[0] * n for n in lengths])
    ours = soft_overlong_penalty(torch.tensor(lengths), max_length, buffer)
    torch.testing.assert_close(ours, torch.tensor(theirs, dtype=ours.dtype))


def test_soft_overlong_penalty_scales_with_the_penalty_and_checks_its_arguments() -> None:
    penalty = soft_overlong_penalty(torch.tensor([10, 15, 20]), 20, 10, penalty=0.5)
    torch.testing.assert_close(penalty, torch.tensor([0.0, -0.25, -0.5]))
    with pytest.raises(ValueError, match="buffer"):
        soft_overlong_penalty(torch.tensor([1]), 20, 0)
    with pytest.raises(ValueError, match="penalty"):
        soft_overlong_penalty(torch.tensor([1]), 20, 5, penalty=-1.0)


def test_truncated_importance_weights_are_capped_ratios() -> None:
    trainer = torch.log(torch.tensor([[0.5, 0.9, 0.2]]))
    sampler = torch.log(torch.tensor([[0.5, 0.3, 0.4]]))
    weights = truncated_importance_weights(trainer, sampler, cap=2.0)
    torch.testing.assert_close(weights, torch.tensor([[1.0, 2.0, 0.5]]))  # 3.0 is capped at 2
    assert not weights.requires_grad
    huge = truncated_importance_weights(torch.tensor([[0.0]]), torch.tensor([[-1e4]]), cap=2.0)
    assert huge.item() == 2.0
    with pytest.raises(ValueError, match="cap"):
        truncated_importance_weights(trainer, sampler, cap=0.0)


@pytest.mark.parametrize("estimator", ["k1", "k2", "k3"])
def test_kl_in_the_reward_is_beta_times_the_summed_per_token_kl(estimator: str) -> None:
    logp = torch.tensor([[-1.0, -2.0, -3.0], [-0.5, -0.5, -9.0]])
    ref = torch.tensor([[-1.5, -1.0, 0.0], [-0.5, -1.0, 0.0]])
    mask = torch.tensor([[True, True, False], [True, True, True]])
    rewards = torch.tensor([1.0, math.nan])
    shaped = kl_shaped_rewards(rewards, logp, ref, mask, beta=0.1, estimator=estimator)  # type: ignore[arg-type]
    expected_first = 1.0 - 0.1 * float(kl_estimate(logp[0, :2], ref[0, :2], estimator).sum())  # type: ignore[arg-type]
    assert shaped[0].item() == pytest.approx(expected_first)
    assert math.isnan(shaped[1].item())  # an unjudged completion stays unjudged
