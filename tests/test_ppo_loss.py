"""PPO's math: values computed by hand, invariants under hypothesis, and errors."""

from __future__ import annotations

import math

import pytest

pytest.importorskip("torch")  # torch comes with the "train" extra

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rlvr.trainers.losses.kl import KLEstimator, kl_estimate
from rlvr.trainers.losses.ppo_loss import (
    PPOPolicyOutput,
    clipped_value_loss,
    gae,
    ppo_policy_loss,
    token_rewards,
    whiten,
)

PROPERTY = settings(max_examples=40, deadline=None)
NAN = float("nan")


def assert_close(actual: torch.Tensor, expected: object) -> None:
    torch.testing.assert_close(actual, torch.as_tensor(expected, dtype=actual.dtype))


def t(values: object) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


# --- strategies -----------------------------------------------------------------------------------------------------

finite = st.floats(min_value=-10.0, max_value=10.0, allow_nan=False, allow_infinity=False)
unit = st.floats(min_value=0.0, max_value=1.0)


@st.composite
def episodes(draw: st.DrawFn) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(rewards [B, T], values [B, T], mask [B, T])`` in float64; NaN outside the mask; rows may be empty."""
    batch = draw(st.integers(min_value=1, max_value=4))
    length = draw(st.integers(min_value=1, max_value=8))
    size = batch * length
    rewards = t(draw(st.lists(finite, min_size=size, max_size=size))).view(batch, length)
    values = t(draw(st.lists(finite, min_size=size, max_size=size))).view(batch, length)
    mask = torch.tensor(draw(st.lists(st.booleans(), min_size=size, max_size=size))).view(batch, length)
    rewards[~mask] = NAN
    values[~mask] = NAN
    return rewards, values, mask


def reference_gae(rewards: list[float], values: list[float], gamma: float, lam: float) -> list[float]:
    """Textbook GAE over one episode with no holes; the value after the last step is 0."""
    advantages = [0.0] * len(rewards)
    next_value, next_advantage = 0.0, 0.0
    for i in reversed(range(len(rewards))):
        delta = rewards[i] + gamma * next_value - values[i]
        next_advantage = delta + gamma * lam * next_advantage
        next_value = values[i]
        advantages[i] = next_advantage
    return advantages


# --- token_rewards --------------------------------------------------------------------------------------------------


def test_kl_penalty_on_every_token_and_reward_on_the_last() -> None:
    logp = t([[-1.0, -2.0, -3.0, NAN], [-1.0, NAN, -1.0, 0.0], [NAN, NAN, NAN, NAN]])
    ref = t([[-1.5, -2.0, -2.0, NAN], [-1.0, NAN, -1.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    mask = torch.tensor([[True, True, True, False], [True, False, True, False], [False, False, False, False]])
    rewards = token_rewards(t([1.0, 2.0, 5.0]), logp, ref, mask, kl_coef=0.1)
    # k1 = logp - ref: 0.5, 0, -1 on row 0 (a negative k1 is a bonus); the reward lands after the hole on row 1;
    # an empty row has nowhere to put its reward.
    assert_close(rewards, [[-0.05, 0.0, 0.1 + 1.0, 0.0], [0.0, 0.0, 2.0, 0.0], [0.0, 0.0, 0.0, 0.0]])


def test_k1_penalty_is_minus_the_coefficient_times_the_log_ratio() -> None:
    logp, ref = t([[-1.0, -2.0, -0.5]]), t([[-1.5, -1.0, -0.5]])
    rewards = token_rewards(t([0.0]), logp, ref, torch.ones(1, 3), kl_coef=0.2, estimator="k1")
    assert_close(rewards, -0.2 * (logp - ref))
    assert_close(rewards, [[-0.1, 0.2, 0.0]])  # k1 is negative where the reference is likelier: a bonus


def test_k2_and_k3_penalties_by_hand() -> None:
    # x = ref - logp = -0.5 and 1.0 on the two tokens; k2 = x**2 / 2, k3 = exp(x) - x - 1
    logp, ref, mask = t([[-1.0, -2.0]]), t([[-1.5, -1.0]]), torch.ones(1, 2)
    k2 = token_rewards(t([1.0]), logp, ref, mask, kl_coef=0.1, estimator="k2")
    assert_close(k2, [[-0.1 * 0.125, -0.1 * 0.5 + 1.0]])
    k3 = token_rewards(t([1.0]), logp, ref, mask, kl_coef=0.1, estimator="k3")
    assert_close(k3, [[-0.1 * (math.exp(-0.5) - 0.5), -0.1 * (math.e - 2.0) + 1.0]])


def test_the_default_estimator_is_k1() -> None:
    logp, ref, mask = t([[-1.0, -2.0]]), t([[-1.5, -1.0]]), torch.ones(1, 2)
    default = token_rewards(t([1.0]), logp, ref, mask, kl_coef=0.1)
    assert torch.equal(default, token_rewards(t([1.0]), logp, ref, mask, kl_coef=0.1, estimator="k1"))


def test_token_rewards_take_integer_rewards_and_give_no_gradient() -> None:
    logp = torch.tensor([[-1.0, -2.0]], requires_grad=True)
    rewards = token_rewards(torch.tensor([1]), logp, torch.zeros(1, 2), torch.ones(1, 2), kl_coef=0.0)
    assert rewards.dtype == torch.float32 and not rewards.requires_grad
    assert_close(rewards, [[0.0, 1.0]])


def test_token_rewards_reject_bad_shapes_and_coefficients() -> None:
    logp, mask = torch.zeros(2, 3), torch.ones(2, 3)
    with pytest.raises(ValueError, match="reward"):
        token_rewards(torch.zeros(3), logp, logp, mask, 0.1)
    with pytest.raises(ValueError, match="ref_logp"):
        token_rewards(torch.zeros(2), logp, torch.zeros(2, 4), mask, 0.1)
    with pytest.raises(ValueError, match="kl_coef"):
        token_rewards(torch.zeros(2), logp, logp, mask, -0.1)
    with pytest.raises(ValueError, match="unknown KL estimator"):
        token_rewards(torch.zeros(2), logp, logp, mask, 0.1, estimator="k4")  # type: ignore[arg-type]


# --- gae ------------------------------------------------------------------------------------------------------------

REWARDS = t([[0.0, 0.0, 1.0]])
VALUES = t([[0.5, 0.6, 0.7]])
FULL = torch.ones(1, 3, dtype=torch.bool)


def test_gamma_one_lambda_one_gives_reward_to_go() -> None:
    advantages, returns = gae(REWARDS, VALUES, FULL, gamma=1.0, lam=1.0)
    assert_close(returns, [[1.0, 1.0, 1.0]])  # the sum of the rewards from each token on
    assert_close(advantages, [[0.5, 0.4, 0.3]])  # reward-to-go minus value


def test_lambda_zero_gives_one_step_td_errors() -> None:
    advantages, returns = gae(REWARDS, VALUES, FULL, gamma=1.0, lam=0.0)
    # delta_2 = 1 - 0.7 (no bootstrap after the last token); delta_1 = 0.7 - 0.6; delta_0 = 0.6 - 0.5.
    assert_close(advantages, [[0.1, 0.1, 0.3]])
    assert_close(returns, [[0.6, 0.7, 1.0]])  # r_t + gamma * V_{t+1}


def test_discounted_gae_by_hand() -> None:
    advantages, returns = gae(t([[1.0, 0.0, 2.0]]), VALUES, FULL, gamma=0.5, lam=0.5)
    a2 = 2.0 - 0.7
    a1 = (0.0 + 0.5 * 0.7 - 0.6) + 0.25 * a2
    a0 = (1.0 + 0.5 * 0.6 - 0.5) + 0.25 * a1
    assert_close(advantages, [[a0, a1, a2]])
    assert_close(returns, [[a0 + 0.5, a1 + 0.6, a2 + 0.7]])


def test_gamma_zero_gives_reward_minus_value() -> None:
    advantages, returns = gae(t([[1.0, 0.0, 2.0]]), VALUES, FULL, gamma=0.0, lam=1.0)
    assert_close(advantages, [[0.5, -0.6, 1.3]])
    assert_close(returns, [[1.0, 0.0, 2.0]])


def test_single_token_episode() -> None:
    for gamma, lam in ((0.0, 0.0), (1.0, 1.0), (0.9, 0.95)):
        advantages, returns = gae(t([[3.0]]), t([[1.0]]), torch.ones(1, 1), gamma=gamma, lam=lam)
        assert_close(advantages, [[2.0]])
        assert_close(returns, [[3.0]])


def test_holes_are_skipped_and_the_next_generated_token_bootstraps() -> None:
    # Tokens 1, 3 and 4 are the environment's turn and padding: their rewards and values are never read.
    rewards = t([[0.0, 9.0, 1.0, 9.0, NAN]])
    values = t([[0.5, NAN, 0.7, 5.0, 5.0]])
    mask = torch.tensor([[True, False, True, False, False]])
    advantages, returns = gae(rewards, values, mask, gamma=1.0, lam=1.0)
    assert_close(advantages, [[0.5, 0.0, 0.3, 0.0, 0.0]])
    assert_close(returns, [[1.0, 0.0, 1.0, 0.0, 0.0]])
    # gamma discounts once per generated token: the reward two positions on is one step away.
    advantages, returns = gae(rewards, values, mask, gamma=0.5, lam=1.0)
    assert_close(advantages, [[0.5 * 0.7 - 0.5 + 0.5 * 0.3, 0.0, 0.3, 0.0, 0.0]])
    assert_close(returns, [[0.5, 0.0, 1.0, 0.0, 0.0]])
    # Leading holes (the prompt) and a numeric mask change nothing.
    prompt = t([[7.0]])
    padded = gae(torch.cat([prompt, REWARDS], 1), torch.cat([prompt, VALUES], 1), t([[0, 1, 1, 1]]), 1.0, 1.0)
    advantages = padded[0]
    assert_close(advantages, [[0.0, 0.5, 0.4, 0.3]])


def test_gae_gives_no_gradient() -> None:
    values = VALUES.clone().requires_grad_()
    advantages, returns = gae(REWARDS, values, FULL, 1.0, 1.0)
    assert not advantages.requires_grad and not returns.requires_grad


def test_gae_rejects_bad_shapes_and_coefficients() -> None:
    with pytest.raises(ValueError, match="values"):
        gae(REWARDS, VALUES[:, :2], FULL, 1.0, 1.0)
    with pytest.raises(ValueError, match=r"\[B, T\]"):
        gae(REWARDS[0], VALUES[0], FULL[0], 1.0, 1.0)
    with pytest.raises(ValueError, match="gamma"):
        gae(REWARDS, VALUES, FULL, 1.1, 1.0)
    with pytest.raises(ValueError, match="lam"):
        gae(REWARDS, VALUES, FULL, 1.0, -0.1)


@PROPERTY
@given(episodes(), unit, unit)
def test_gae_is_zero_outside_the_mask_and_keeps_shapes(
    episode: tuple[torch.Tensor, torch.Tensor, torch.Tensor], gamma: float, lam: float
) -> None:
    rewards, values, mask = episode
    advantages, returns = gae(rewards, values, mask, gamma, lam)
    assert advantages.shape == returns.shape == mask.shape
    assert torch.isfinite(advantages).all() and torch.isfinite(returns).all()
    assert torch.equal(advantages[~mask], torch.zeros(int((~mask).sum()), dtype=advantages.dtype))
    assert torch.equal(returns[~mask], torch.zeros(int((~mask).sum()), dtype=returns.dtype))
    assert torch.allclose(returns[mask], advantages[mask] + values[mask])


@PROPERTY
@given(episodes(), unit, unit)
def test_gae_with_holes_equals_gae_with_the_holes_cut_out(
    episode: tuple[torch.Tensor, torch.Tensor, torch.Tensor], gamma: float, lam: float
) -> None:
    rewards, values, mask = episode
    advantages, _ = gae(rewards, values, mask, gamma, lam)
    for row in range(mask.shape[0]):
        keep = mask[row]
        expected = reference_gae(rewards[row, keep].tolist(), values[row, keep].tolist(), gamma, lam)
        assert torch.allclose(advantages[row, keep], t(expected))


@PROPERTY
@given(episodes(), unit, unit)
def test_zero_rewards_and_zero_values_give_zero_advantages(
    episode: tuple[torch.Tensor, torch.Tensor, torch.Tensor], gamma: float, lam: float
) -> None:
    _, _, mask = episode
    zeros = torch.zeros(mask.shape, dtype=torch.float64)
    advantages, returns = gae(zeros, zeros, mask, gamma, lam)
    assert torch.equal(advantages, zeros) and torch.equal(returns, zeros)


@PROPERTY
@given(episodes(), st.floats(0.0, 1.0))
def test_token_rewards_are_zero_outside_the_mask_and_sum_to_reward_minus_kl(
    episode: tuple[torch.Tensor, torch.Tensor, torch.Tensor], kl_coef: float
) -> None:
    logp, ref, mask = episode
    reward = t(list(range(mask.shape[0])))
    rewards = token_rewards(reward, logp, ref, mask, kl_coef)
    assert rewards.shape == mask.shape
    assert torch.equal(rewards[~mask], torch.zeros(int((~mask).sum()), dtype=rewards.dtype))
    kl = torch.where(mask, logp - ref, torch.zeros_like(logp)).sum(dim=1)
    expected = torch.where(mask.any(dim=1), reward - kl_coef * kl, torch.zeros_like(reward))
    assert torch.allclose(rewards.sum(dim=1), expected)


@PROPERTY
@given(episodes(), st.floats(0.0, 1.0), st.sampled_from(["k1", "k2", "k3"]))
def test_token_rewards_sum_to_reward_minus_the_chosen_estimators_kl(
    episode: tuple[torch.Tensor, torch.Tensor, torch.Tensor], kl_coef: float, estimator: KLEstimator
) -> None:
    logp, ref, mask = episode
    reward = t(list(range(mask.shape[0])))
    rewards = token_rewards(reward, logp, ref, mask, kl_coef, estimator)
    assert torch.equal(rewards[~mask], torch.zeros(int((~mask).sum()), dtype=rewards.dtype))
    kl = torch.where(mask, kl_estimate(logp, ref, estimator), torch.zeros_like(logp)).sum(dim=1)
    expected = torch.where(mask.any(dim=1), reward - kl_coef * kl, torch.zeros_like(reward))
    assert torch.allclose(rewards.sum(dim=1), expected)


@PROPERTY
@given(episodes(), st.floats(0.0, 1.0), st.sampled_from(["k2", "k3"]))
def test_k2_and_k3_penalties_never_pay_a_bonus(
    episode: tuple[torch.Tensor, torch.Tensor, torch.Tensor], kl_coef: float, estimator: KLEstimator
) -> None:
    logp, ref, mask = episode
    no_reward = torch.zeros(mask.shape[0], dtype=logp.dtype)
    penalties = token_rewards(no_reward, logp, ref, mask, kl_coef, estimator)
    assert bool((penalties <= 0.0).all())


# --- whiten ---------------------------------------------------------------------------------------------------------


def test_whiten_by_hand() -> None:
    x = t([[1.0, 2.0, NAN], [3.0, NAN, NAN]])
    mask = torch.tensor([[True, True, False], [True, False, False]])
    # mean 2, unbiased variance (1 + 0 + 1) / 2 = 1.
    assert_close(whiten(x, mask, eps=0.0), [[-1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    assert_close(whiten(x, mask, shift_mean=False, eps=0.0), [[1.0, 2.0, 0.0], [3.0, 0.0, 0.0]])
    assert_close(whiten(t([[4.0, 8.0]]), torch.ones(1, 2), eps=0.0), [[-(2**-0.5), 2**-0.5]])


def test_whiten_degenerate_masks_stay_finite() -> None:
    x = t([[5.0, 7.0]])
    assert_close(whiten(x, torch.tensor([[True, False]])), [[0.0, 0.0]])  # one entry: no spread
    assert_close(whiten(x, torch.zeros(1, 2, dtype=torch.bool)), [[0.0, 0.0]])  # nothing to whiten
    assert_close(whiten(t([[3.0, 3.0]]), torch.ones(1, 2)), [[0.0, 0.0]])  # zero spread


def test_whiten_rejects_bad_shapes_and_eps() -> None:
    with pytest.raises(ValueError, match="x"):
        whiten(torch.zeros(2, 3), torch.ones(2, 2))
    with pytest.raises(ValueError, match="eps"):
        whiten(torch.zeros(2, 3), torch.ones(2, 3), eps=-1.0)


@PROPERTY
@given(episodes())
def test_whitened_values_have_masked_mean_zero_and_std_one(
    episode: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
) -> None:
    x, _, mask = episode
    whitened = whiten(x, mask, eps=0.0 if mask.sum() > 1 and x[mask].std() > 1e-3 else 1e-8)
    assert whitened.shape == x.shape and torch.isfinite(whitened).all()
    assert torch.equal(whitened[~mask], torch.zeros(int((~mask).sum()), dtype=whitened.dtype))
    if mask.any():
        assert abs(whitened[mask].mean().item()) < 1e-9
    if mask.sum() > 1 and x[mask].std() > 1e-3:
        assert math.isclose(whitened[mask].std().item(), 1.0, rel_tol=1e-9)
        # shift_mean=False only rescales: the masked mean survives.
        unshifted = whiten(x, mask, shift_mean=False, eps=0.0)
        assert math.isclose(unshifted[mask].mean().item(), x[mask].mean().item(), rel_tol=1e-9, abs_tol=1e-9)


# --- clipped_value_loss ---------------------------------------------------------------------------------------------


def test_value_loss_clipping_by_hand() -> None:
    values = t([[0.5, 0.1, 0.5, -0.5]]).requires_grad_()
    old = torch.zeros(1, 4, dtype=torch.float64)
    returns = t([[1.0, 1.0, -1.0, 1.0]])
    mask = torch.tensor([[True, True, True, False]])
    loss, clip_fraction = clipped_value_loss(values, old, returns, mask, clip_range=0.2)
    # Token 0 moved past old + 0.2 towards R: the clipped error (0.2 - 1)^2 wins.
    # Token 1 stayed inside the range. Token 2 moved away from R: the unclipped error is the larger.
    assert_close(loss, (0.5 * 0.64 + 0.5 * 0.81 + 0.5 * 2.25) / 3)
    assert_close(clip_fraction, 1 / 3)
    assert not clip_fraction.requires_grad
    loss.backward()
    assert values.grad is not None
    assert_close(values.grad, [[0.0, (0.1 - 1.0) / 3, (0.5 + 1.0) / 3, 0.0]])


def test_value_loss_without_movement_is_half_the_squared_error() -> None:
    values, returns = t([[1.0, 2.0]]), t([[0.0, 0.0]])
    loss, clip_fraction = clipped_value_loss(values, values, returns, torch.ones(1, 2), clip_range=0.0)
    assert_close(loss, (0.5 + 2.0) / 2)
    assert clip_fraction.item() == 0.0
    loss, clip_fraction = clipped_value_loss(values, values, returns, torch.zeros(1, 2), clip_range=0.2)
    assert loss.item() == 0.0 and clip_fraction.item() == 0.0


def test_value_loss_rejects_bad_shapes_and_clip_range() -> None:
    x = torch.zeros(2, 3)
    with pytest.raises(ValueError, match="returns"):
        clipped_value_loss(x, x, torch.zeros(2, 2), torch.ones(2, 3), 0.2)
    with pytest.raises(ValueError, match="clip_range"):
        clipped_value_loss(x, x, x, torch.ones(2, 3), -0.2)


# --- ppo_policy_loss ------------------------------------------------------------------------------------------------


def test_on_policy_loss_is_minus_the_token_mean_advantage() -> None:
    logp = t([[-1.0, -2.0, -0.5], [-0.1, -3.0, -0.2]]).requires_grad_()
    advantages = t([[1.0, 2.0, 100.0], [-3.0, 0.0, 6.0]])
    mask = torch.tensor([[True, True, False], [True, True, True]])
    out = ppo_policy_loss(logp, logp.detach(), advantages, mask)
    assert isinstance(out, PPOPolicyOutput)
    assert_close(out.loss, -(1.0 + 2.0 - 3.0 + 0.0 + 6.0) / 5)
    assert out.clip_ratio.item() == 0.0 and out.approx_kl.item() == 0.0 and out.ratio_mean.item() == 1.0
    out.loss.backward()
    assert logp.grad is not None
    assert_close(logp.grad, -torch.where(mask, advantages, torch.zeros_like(advantages)) / 5)
    for metric in (out.clip_ratio, out.approx_kl, out.ratio_mean):
        assert metric.dim() == 0 and not metric.requires_grad


def test_off_policy_loss_clips_and_reports_approx_kl() -> None:
    old = torch.zeros(1, 3, dtype=torch.float64)
    logp = torch.log(t([[1.5, 1.0, 1.0]]))
    out = ppo_policy_loss(logp, old, t([[1.0, -1.0, 5.0]]), torch.tensor([[True, True, False]]), 0.2, 0.2)
    assert_close(out.loss, (-1.2 + 1.0) / 2)  # the first ratio is capped at 1 + 0.2
    assert_close(out.clip_ratio, 0.5)
    assert_close(out.clip_high, 0.5)  # A > 0 and the ratio above 1.2: clipped at the high end
    assert_close(out.clip_low, 0.0)
    assert_close(out.approx_kl, (0.5 - math.log(1.5)) / 2)  # (r - 1) - log r
    assert_close(out.ratio_mean, 1.25)


def test_policy_loss_rejects_per_sequence_advantages_and_bad_clips() -> None:
    logp = torch.zeros(2, 3)
    with pytest.raises(ValueError, match="advantages"):
        ppo_policy_loss(logp, logp, torch.zeros(2), torch.ones(2, 3))
    with pytest.raises(ValueError, match="eps_low"):
        ppo_policy_loss(logp, logp, logp, torch.ones(2, 3), clip_low=1.5)


def test_the_pieces_compose_into_a_training_step() -> None:
    torch.manual_seed(0)
    logp = -torch.rand(3, 6, dtype=torch.float64)
    ref = -torch.rand(3, 6, dtype=torch.float64)
    values = torch.randn(3, 6, dtype=torch.float64, requires_grad=True)
    mask = torch.tensor([[0, 1, 1, 1, 0, 0], [0, 1, 0, 1, 1, 0], [0, 1, 1, 1, 1, 1]], dtype=torch.bool)
    rewards = token_rewards(t([1.0, 0.0, 1.0]), logp, ref, mask, kl_coef=0.05)
    advantages, returns = gae(rewards, values, mask, gamma=1.0, lam=0.95)
    advantages = whiten(advantages, mask)
    policy_logp = logp.clone().requires_grad_()
    out = ppo_policy_loss(policy_logp, logp, advantages, mask)
    value_loss, _ = clipped_value_loss(values, values.detach(), returns, mask, clip_range=0.2)
    (out.loss + 0.5 * value_loss).backward()
    assert policy_logp.grad is not None and values.grad is not None
    assert torch.isfinite(policy_logp.grad).all() and torch.isfinite(values.grad).all()
    assert torch.equal(policy_logp.grad[~mask], torch.zeros(int((~mask).sum()), dtype=torch.float64))
