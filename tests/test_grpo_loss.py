"""GRPO's loss pieces: values computed by hand, invariants under hypothesis, and errors."""

from __future__ import annotations

import math

import pytest

pytest.importorskip("torch")  # torch comes with the "train" extra

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rlvr.trainers.losses.grpo_loss import (
    LOSS_TYPES,
    AdvantageScale,
    Aggregation,
    BatchTotals,
    LossOutput,
    LossType,
    aggregate,
    clipped_surrogate,
    env_group_advantages,
    group_advantages,
    grpo_loss,
    k3_kl,
    sequence_log_ratio,
    zero_std_groups,
)

PROPERTY = settings(max_examples=40, deadline=None)

REWARDS = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0]


def assert_close(actual: torch.Tensor, expected: object) -> None:
    torch.testing.assert_close(actual, torch.as_tensor(expected, dtype=actual.dtype))


# --- strategies -----------------------------------------------------------------------------------------------------

finite = st.floats(min_value=-100.0, max_value=100.0, allow_nan=False, allow_infinity=False)
log_probs = st.floats(min_value=-30.0, max_value=0.0, allow_nan=False, allow_infinity=False)


@st.composite
def grouped_rewards(draw: st.DrawFn) -> tuple[torch.Tensor, int]:
    """Rewards ``[num_groups * group_size]`` in float64, with the group size."""
    group_size = draw(st.integers(min_value=1, max_value=8))
    num_groups = draw(st.integers(min_value=1, max_value=5))
    values = draw(st.lists(finite, min_size=group_size * num_groups, max_size=group_size * num_groups))
    return torch.tensor(values, dtype=torch.float64), group_size


@st.composite
def masked_batch(draw: st.DrawFn) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(logp [B, T], advantages [B], mask [B, T])`` in float64; the mask has a true token, rows may be empty."""
    batch = draw(st.integers(min_value=1, max_value=5))
    length = draw(st.integers(min_value=1, max_value=7))
    logp = torch.tensor(
        draw(st.lists(log_probs, min_size=batch * length, max_size=batch * length)), dtype=torch.float64
    )
    advantages = torch.tensor(draw(st.lists(finite, min_size=batch, max_size=batch)), dtype=torch.float64)
    mask = torch.tensor(draw(st.lists(st.booleans(), min_size=batch * length, max_size=batch * length)))
    mask = mask.view(batch, length)
    mask[draw(st.integers(0, batch - 1)), draw(st.integers(0, length - 1))] = True
    return logp.view(batch, length), advantages, mask


# --- group_advantages -----------------------------------------------------------------------------------------------


def test_group_scale_divides_by_each_groups_unbiased_std() -> None:
    std = math.sqrt(1 / 3)  # unbiased std of [1, 0, 0, 1]
    assert math.isclose(torch.tensor([1.0, 0.0, 0.0, 1.0]).std().item(), 0.5773502691896258, rel_tol=1e-6)
    a = 0.5 / (std + 1e-4)
    advantages = group_advantages(torch.tensor(REWARDS), group_size=4)
    assert_close(advantages, [a, -a, -a, a, 0.0, 0.0, 0.0, 0.0])


def test_none_scale_is_reward_minus_group_mean() -> None:
    advantages = group_advantages(torch.tensor(REWARDS), group_size=4, scale="none")
    assert_close(advantages, [0.5, -0.5, -0.5, 0.5, 0.0, 0.0, 0.0, 0.0])


def test_batch_scale_divides_by_the_std_of_all_rewards() -> None:
    std = math.sqrt((6 * 0.25**2 + 2 * 0.75**2) / 7)  # unbiased std of all 8 rewards (mean 0.75)
    a = 0.5 / (std + 1e-4)
    advantages = group_advantages(torch.tensor(REWARDS), group_size=4, scale="batch")
    assert_close(advantages, [a, -a, -a, a, 0.0, 0.0, 0.0, 0.0])


def test_eps_is_added_to_the_std() -> None:
    advantages = group_advantages(torch.tensor([0.0, 2.0]), group_size=2, eps=1.0)
    std = math.sqrt(2.0)
    assert_close(advantages, [-1 / (std + 1), 1 / (std + 1)])


def test_group_of_one_gives_zero_advantage_not_nan() -> None:
    for scale in ("group", "batch", "none"):
        advantages = group_advantages(torch.tensor([0.3, 1.0, 0.0]), group_size=1, scale=scale)
        assert torch.equal(advantages, torch.zeros(3)), scale
    assert torch.equal(group_advantages(torch.tensor([0.7]), group_size=1, scale="batch"), torch.zeros(1))


def test_integer_rewards_give_float_advantages() -> None:
    advantages = group_advantages(torch.tensor([1, 0, 1, 1]), group_size=2, scale="none")
    assert advantages.is_floating_point()
    assert_close(advantages, [0.5, -0.5, 0.0, 0.0])


def test_zero_std_groups_marks_groups_with_all_rewards_equal() -> None:
    rewards = torch.tensor([1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0])
    assert zero_std_groups(rewards, group_size=4).tolist() == [False, True, True]
    assert zero_std_groups(torch.tensor([0.5, 0.2]), group_size=1).tolist() == [True, True]


@PROPERTY
@given(grouped_rewards(), st.floats(min_value=-100.0, max_value=100.0), st.sampled_from(["group", "batch", "none"]))
def test_zero_spread_group_gets_exactly_zero_advantage(
    drawn: tuple[torch.Tensor, int], value: float, scale: AdvantageScale
) -> None:
    rewards, group_size = drawn
    rewards[:group_size] = value
    advantages = group_advantages(rewards, group_size, scale=scale)
    assert torch.equal(advantages[:group_size], torch.zeros(group_size, dtype=rewards.dtype))
    assert zero_std_groups(rewards, group_size)[0]


@PROPERTY
@given(grouped_rewards(), st.sampled_from(["group", "batch", "none"]))
def test_advantages_have_zero_mean_in_every_group(drawn: tuple[torch.Tensor, int], scale: AdvantageScale) -> None:
    rewards, group_size = drawn
    advantages = group_advantages(rewards, group_size, scale=scale)
    assert torch.isfinite(advantages).all()
    group_means = advantages.view(-1, group_size).mean(dim=1)
    assert torch.allclose(group_means, torch.zeros_like(group_means), atol=1e-9)


@PROPERTY
@given(grouped_rewards())
def test_group_scaled_advantages_have_unit_std_in_groups_with_spread(drawn: tuple[torch.Tensor, int]) -> None:
    rewards, group_size = drawn
    grouped = rewards.view(-1, group_size)
    std = grouped.std(dim=1) if group_size > 1 else torch.zeros(grouped.shape[0], dtype=rewards.dtype)
    advantages = group_advantages(rewards, group_size, eps=0.0).view(-1, group_size)
    spread = std > 1e-3
    if group_size > 1 and spread.any():
        assert torch.allclose(advantages[spread].std(dim=1), torch.ones(int(spread.sum()), dtype=rewards.dtype))


def test_rewards_not_a_multiple_of_group_size_are_rejected() -> None:
    with pytest.raises(ValueError, match="not a multiple of group_size"):
        group_advantages(torch.zeros(7), group_size=4)
    with pytest.raises(ValueError, match="not a multiple of group_size"):
        zero_std_groups(torch.zeros(7), group_size=4)


def test_bad_group_layouts_and_scales_are_rejected() -> None:
    with pytest.raises(ValueError, match="1-D"):
        group_advantages(torch.zeros(2, 4), group_size=4)
    with pytest.raises(ValueError, match="group_size must be >= 1"):
        group_advantages(torch.zeros(4), group_size=0)
    with pytest.raises(ValueError, match="unknown advantage scale"):
        group_advantages(torch.zeros(4), group_size=2, scale="std")  # type: ignore[arg-type]


# --- k3_kl ----------------------------------------------------------------------------------------------------------


@PROPERTY
@given(grouped_rewards(), st.data())
def test_per_env_advantages_are_each_envs_own_group_advantages(
    drawn: tuple[torch.Tensor, int], data: st.DataObject
) -> None:
    rewards, size = drawn
    groups = rewards.numel() // size
    env_of_group = data.draw(st.lists(st.sampled_from(["a", "b"]), min_size=groups, max_size=groups))
    envs = [env for env in env_of_group for _ in range(size)]
    for scale in ("group", "batch", "none"):
        advantages = env_group_advantages(rewards, size, envs, scale)
        for env in ("a", "b"):
            rows = torch.tensor([i for i, e in enumerate(envs) if e == env], dtype=torch.long)
            if len(rows):
                assert_close(advantages[rows], group_advantages(rewards[rows], size, scale))
        if scale != "batch":  # only the batch's std depends on which rewards count as the batch
            assert_close(advantages, group_advantages(rewards, size, scale))


def test_a_group_that_mixes_envs_is_refused() -> None:
    with pytest.raises(ValueError, match="mixes envs"):
        env_group_advantages(torch.tensor(REWARDS), 4, ["a", "a", "a", "b", "b", "b", "b", "b"])
    with pytest.raises(ValueError, match="7 env names"):
        env_group_advantages(torch.tensor(REWARDS), 4, ["a"] * 7)


def test_k3_matches_hand_computed_values() -> None:
    ln2 = math.log(2.0)
    # x = ref - logp = ln 2: 2 - ln 2 - 1;  x = -ln 2: 1/2 + ln 2 - 1.
    kl = k3_kl(torch.tensor([0.0, 0.0, -1.0]), torch.tensor([ln2, -ln2, -1.0]))
    assert_close(kl, [1 - ln2, ln2 - 0.5, 0.0])


def test_k3_is_finite_for_huge_log_ratios() -> None:
    kl = k3_kl(torch.tensor([0.0, -1e4, 0.0]), torch.tensor([-1e4, 0.0, 1e30]))
    assert torch.isfinite(kl).all()
    assert_close(kl, [20 - 1 + math.exp(-20), math.exp(20) - 21, math.exp(20) - 21])


@PROPERTY
@given(st.lists(st.tuples(finite, finite), min_size=1, max_size=64), st.sampled_from([torch.float32, torch.float64]))
def test_k3_is_non_negative_and_zero_when_equal(pairs: list[tuple[float, float]], dtype: torch.dtype) -> None:
    logp = torch.tensor([p for p, _ in pairs], dtype=dtype)
    ref = torch.tensor([r for _, r in pairs], dtype=dtype)
    assert (k3_kl(logp, ref) >= 0).all()
    assert (k3_kl(logp, logp + 1e-6) >= 0).all()
    assert torch.equal(k3_kl(logp, logp.clone()), torch.zeros_like(logp))


# --- clipped_surrogate ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ratio", "advantage", "loss", "clipped"),
    [
        (1.5, 1.0, -1.2, True),  # above 1 + eps with A > 0: capped at 1.2 A, no gradient
        (0.5, 1.0, -0.5, False),  # below 1 - eps with A > 0: the unclipped branch is smaller
        (0.5, -1.0, 0.8, True),  # below 1 - eps with A < 0: capped at 0.8 A, no gradient
        (1.5, -1.0, 1.5, False),  # above 1 + eps with A < 0: the unclipped (worse) branch stays
        (1.1, 1.0, -1.1, False),  # inside the clip range
        (1.5, 0.0, 0.0, False),  # no advantage, no loss
    ],
)
def test_clipped_surrogate_hand_values(ratio: float, advantage: float, loss: float, clipped: bool) -> None:
    old = torch.tensor([[-1.0]])
    logp = old + math.log(ratio)
    per_token, mask = clipped_surrogate(logp, old, torch.tensor([advantage]), eps_low=0.2, eps_high=0.2)
    assert_close(per_token, [[loss]])
    assert mask.tolist() == [[clipped]]


def test_clip_higher_widens_only_the_upper_range() -> None:
    old = torch.zeros(1, 2)
    logp = torch.log(torch.tensor([[1.25, 0.75]]))
    advantages_up, advantages_down = torch.tensor([1.0]), torch.tensor([-1.0])
    loss, clipped = clipped_surrogate(logp, old, advantages_up, eps_low=0.2, eps_high=0.28)
    assert_close(loss, [[-1.25, -0.75]])
    assert clipped.tolist() == [[False, False]]
    loss, clipped = clipped_surrogate(logp, old, advantages_down, eps_low=0.2, eps_high=0.28)
    assert_close(loss, [[1.25, 0.8]])
    assert clipped.tolist() == [[False, True]]


def test_clipped_tokens_get_no_gradient() -> None:
    old = torch.zeros(2, 2)
    logp = torch.log(torch.tensor([[1.5, 1.0], [0.5, 1.0]])).requires_grad_()
    loss, clipped = clipped_surrogate(logp, old, torch.tensor([1.0, -1.0]), eps_low=0.2, eps_high=0.2)
    loss.sum().backward()
    assert clipped.tolist() == [[True, False], [True, False]]
    assert logp.grad is not None
    assert_close(logp.grad, [[0.0, -1.0], [0.0, 1.0]])


def test_old_logp_and_advantages_are_constants_of_the_surrogate() -> None:
    logp = torch.tensor([[-1.0, -2.0]], requires_grad=True)
    advantages = torch.tensor([3.0], requires_grad=True)
    loss, _ = clipped_surrogate(logp, logp, advantages, eps_low=0.2, eps_high=0.2)  # old_logp not detached
    loss.sum().backward()
    assert logp.grad is not None
    assert_close(logp.grad, [[-3.0, -3.0]])  # the gradient of -A * ratio at ratio 1, not 0
    assert advantages.grad is None


@PROPERTY
@given(masked_batch(), st.floats(0.0, 0.5), st.floats(0.0, 0.5))
def test_surrogate_at_ratio_one_is_minus_advantage(
    batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor], eps_low: float, eps_high: float
) -> None:
    logp, advantages, _ = batch
    loss, clipped = clipped_surrogate(logp, logp.clone(), advantages, eps_low, eps_high)
    assert torch.equal(loss, (-advantages).unsqueeze(1).expand_as(logp))
    assert not clipped.any()


def test_surrogate_accepts_per_token_advantages() -> None:
    logp = torch.zeros(2, 3)
    advantages = torch.arange(6.0).view(2, 3)
    loss, _ = clipped_surrogate(logp, logp, advantages, eps_low=0.2, eps_high=0.2)
    assert torch.equal(loss, -advantages)


def test_surrogate_rejects_bad_shapes_and_clip_ranges() -> None:
    logp = torch.zeros(2, 3)
    with pytest.raises(ValueError, match="same shape"):
        clipped_surrogate(logp, torch.zeros(2, 4), torch.zeros(2), 0.2, 0.2)
    with pytest.raises(ValueError, match="advantages"):
        clipped_surrogate(logp, logp, torch.zeros(3), 0.2, 0.2)
    with pytest.raises(ValueError, match="eps_low"):
        clipped_surrogate(logp, logp, torch.zeros(2), 1.5, 0.2)
    with pytest.raises(ValueError, match="eps_high"):
        clipped_surrogate(logp, logp, torch.zeros(2), 0.2, -0.1)


# --- aggregate ------------------------------------------------------------------------------------------------------

VALUES = torch.tensor([[1.0, 2.0, 3.0, 0.0], [4.0, 0.0, 0.0, 0.0]])
MASK = torch.tensor([[True, True, True, False], [True, False, False, False]])


def test_aggregation_modes_weigh_tokens_differently() -> None:
    assert_close(aggregate(VALUES, MASK, "sequence_mean"), (2.0 + 4.0) / 2)  # mean of per-sequence means
    assert_close(aggregate(VALUES, MASK, "token_mean"), 10.0 / 4)  # 4 masked tokens
    assert_close(aggregate(VALUES, MASK, "constant", constant=4), 10.0 / (2 * 4))  # B = 2, max length 4


def test_aggregate_accepts_a_numeric_mask_and_ignores_unmasked_nan() -> None:
    values = VALUES.clone()
    values[0, 3] = float("nan")
    values[1, 1:] = float("inf")
    assert_close(aggregate(values, MASK.float(), "sequence_mean"), 3.0)
    assert_close(aggregate(values, MASK.long(), "token_mean"), 2.5)
    assert_close(aggregate(values, MASK, "constant", constant=4), 1.25)


def test_empty_sequences_add_nothing_and_give_no_nan() -> None:
    values = torch.cat([VALUES, torch.full((1, 4), 9.0)])
    mask = torch.cat([MASK, torch.zeros(1, 4, dtype=torch.bool)])
    assert_close(aggregate(values, mask, "sequence_mean"), 3.0)
    assert_close(aggregate(values, mask, "token_mean"), 2.5)
    assert_close(aggregate(values, mask, "constant", constant=4), 10.0 / (3 * 4))
    empty = torch.zeros(2, 4, dtype=torch.bool)
    for mode in ("sequence_mean", "token_mean", "constant"):
        values = VALUES.clone().requires_grad_()
        result = aggregate(values, empty, mode, constant=4)
        assert result.item() == 0.0
        result.backward()
        assert values.grad is not None
        assert torch.equal(values.grad, torch.zeros_like(VALUES))


@PROPERTY
@given(masked_batch(), finite)
def test_aggregate_of_a_constant_is_that_constant(
    batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor], c: float
) -> None:
    _, _, mask = batch
    values = torch.full(mask.shape, c, dtype=torch.float64)
    for mode in ("sequence_mean", "token_mean"):
        assert math.isclose(aggregate(values, mask, mode).item(), c, rel_tol=1e-12, abs_tol=1e-12)
    expected_constant = c * mask.sum().item() / (mask.shape[0] * mask.shape[1])
    assert math.isclose(
        aggregate(values, mask, "constant", constant=mask.shape[1]).item(),
        expected_constant,
        rel_tol=1e-12,
        abs_tol=1e-12,
    )


def test_constant_mode_needs_a_positive_constant() -> None:
    with pytest.raises(ValueError, match="needs constant"):
        aggregate(VALUES, MASK, "constant")
    with pytest.raises(ValueError, match="needs constant"):
        aggregate(VALUES, MASK, "constant", constant=0)


def test_aggregate_rejects_unknown_modes_and_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="unknown aggregation"):
        aggregate(VALUES, MASK, "mean")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"\[B, T\]"):
        aggregate(VALUES, MASK[:, :3], "token_mean")
    with pytest.raises(ValueError, match=r"\[B, T\]"):
        aggregate(VALUES[0], MASK[0], "token_mean")


# --- grpo_loss ------------------------------------------------------------------------------------------------------


def test_on_policy_loss_is_minus_the_aggregated_advantage() -> None:
    logp = torch.tensor([[-1.0, -2.0, -0.5], [-0.1, -3.0, -0.2]], requires_grad=True)
    mask = torch.tensor([[True, True, False], [True, True, True]])
    advantages = torch.tensor([2.0, -1.0])
    out = grpo_loss(logp, logp.detach(), advantages, mask)
    assert isinstance(out, LossOutput)
    assert_close(out.loss, (-2.0 + 1.0) / 2)
    assert_close(out.policy_loss, (-2.0 + 1.0) / 2)
    assert out.loss.requires_grad
    for metric in (out.policy_loss, out.kl, out.clip_ratio, out.ratio_mean, out.entropy):
        assert metric.dim() == 0 and not metric.requires_grad
    assert out.kl.item() == 0.0 and out.clip_ratio.item() == 0.0 and out.entropy.item() == 0.0
    assert out.ratio_mean.item() == 1.0
    token_mean = grpo_loss(logp, logp.detach(), advantages, mask, aggregation="token_mean")
    assert_close(token_mean.loss, (2 * -2.0 + 3 * 1.0) / 5)
    constant = grpo_loss(logp, logp.detach(), advantages, mask, aggregation="constant", max_completion_length=10)
    assert_close(constant.loss, (2 * -2.0 + 3 * 1.0) / (2 * 10))


def test_metrics_report_kl_clip_ratio_ratio_and_entropy() -> None:
    ln2 = math.log(2.0)
    old = torch.zeros(1, 4)
    logp = torch.log(torch.tensor([[1.5, 1.0, 1.0, 3.0]]))  # the last token is masked out
    ref = torch.tensor([[0.0, ln2, 0.0, 0.0]])
    entropy = torch.tensor([[1.0, 2.0, 3.0, 100.0]])
    mask = torch.tensor([[True, True, True, False]])
    out = grpo_loss(logp, old, torch.tensor([1.0]), mask, ref_logp=ref, entropy=entropy)
    kl_first = 1 / 1.5 + math.log(1.5) - 1  # x = -ln 1.5
    assert_close(out.kl, (kl_first + (1 - ln2) + 0.0) / 3)
    assert_close(out.clip_ratio, 1 / 3)
    assert_close(out.ratio_mean, (1.5 + 1.0 + 1.0) / 3)
    assert_close(out.entropy, 2.0)
    assert_close(out.loss, (-1.2 - 1.0 - 1.0) / 3)  # beta = 0 and entropy_coef = 0: KL and entropy only logged


def test_kl_penalty_and_entropy_bonus_enter_the_loss() -> None:
    ln2 = math.log(2.0)
    logp = torch.zeros(1, 2, requires_grad=True)
    ref = torch.tensor([[ln2, 0.0]], requires_grad=True)
    entropy = torch.tensor([[0.5, 1.5]], requires_grad=True)
    mask = torch.ones(1, 2, dtype=torch.bool)
    out = grpo_loss(
        logp, logp.detach(), torch.tensor([1.0]), mask, ref_logp=ref, beta=0.1, entropy=entropy, entropy_coef=0.01
    )
    expected = -1.0 + 0.1 * (1 - ln2) / 2 - 0.01 * 1.0
    assert_close(out.loss, expected)
    out.loss.backward()
    assert logp.grad is not None and entropy.grad is not None
    # d k3 / d logp = 1 - exp(ref - logp); the surrogate gives -A; sequence_mean divides by 2 tokens.
    assert_close(logp.grad, [[(-1.0 + 0.1 * (1 - 2.0)) / 2, -1.0 / 2]])
    assert_close(entropy.grad, [[-0.01 / 2, -0.01 / 2]])
    assert ref.grad is None  # the reference is a constant


@PROPERTY
@given(masked_batch())
def test_on_policy_sequence_mean_gradient_is_minus_advantage_over_length(
    batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
) -> None:
    logp, advantages, mask = batch
    logp = logp.clone().requires_grad_()
    grpo_loss(logp, logp.detach(), advantages, mask).loss.backward()
    lengths = mask.sum(dim=1, keepdim=True)
    non_empty = (lengths > 0).sum()
    # -A_i / len_i on sequence i's tokens, over the number of (non-empty) sequences that the mean runs over.
    expected = torch.where(mask, -advantages.unsqueeze(1) / (lengths.clamp_min(1) * non_empty), 0.0)
    assert logp.grad is not None
    torch.testing.assert_close(logp.grad, expected)


@PROPERTY
@given(
    masked_batch(),
    st.lists(st.sampled_from([-1e4, -50.0, 0.0, 50.0, 1e4]), min_size=35, max_size=35),
    st.sampled_from(["sequence_mean", "token_mean", "constant"]),
    st.sampled_from([torch.float32, torch.float64]),
)
def test_loss_and_gradients_are_finite_for_extreme_log_ratios(
    batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    shifts: list[float],
    aggregation: Aggregation,
    dtype: torch.dtype,
) -> None:
    logp, advantages, mask = batch
    shift = torch.tensor(shifts[: logp.numel()], dtype=dtype).view_as(logp)
    logp = logp.to(dtype).requires_grad_()
    out = grpo_loss(
        logp,
        logp.detach() + shift,
        advantages.to(dtype),
        mask,
        ref_logp=logp.detach() - shift,
        beta=0.04,
        aggregation=aggregation,
        max_completion_length=logp.shape[1],
    )
    for value in (out.loss, out.policy_loss, out.kl, out.clip_ratio, out.ratio_mean):
        assert torch.isfinite(value), value
    out.loss.backward()
    assert logp.grad is not None
    assert torch.isfinite(logp.grad).all()
    assert torch.equal(logp.grad[~mask], torch.zeros_like(logp.grad[~mask]))


def test_grpo_loss_rejects_inconsistent_arguments() -> None:
    logp = torch.zeros(2, 3)
    mask = torch.ones(2, 3, dtype=torch.bool)
    advantages = torch.zeros(2)
    with pytest.raises(ValueError, match="needs ref_logp"):
        grpo_loss(logp, logp, advantages, mask, beta=0.04)
    with pytest.raises(ValueError, match="beta must be >= 0"):
        grpo_loss(logp, logp, advantages, mask, ref_logp=logp, beta=-1.0)
    with pytest.raises(ValueError, match="needs entropy"):
        grpo_loss(logp, logp, advantages, mask, entropy_coef=0.01)
    with pytest.raises(ValueError, match="mask"):
        grpo_loss(logp, logp, advantages, mask[:, :2])
    with pytest.raises(ValueError, match="ref_logp"):
        grpo_loss(logp, logp, advantages, mask, ref_logp=torch.zeros(2, 4))
    with pytest.raises(ValueError, match="needs constant"):
        grpo_loss(logp, logp, advantages, mask, aggregation="constant")


# --- unjudged rewards -------------------------------------------------------------------------------------------------


def test_an_unjudged_reward_does_not_shrink_its_groups_std() -> None:
    # G = 4 with one unjudged: the judged three keep the advantages they have as a group of three
    with_missing = group_advantages(torch.tensor([1.0, 0.0, math.nan, 1.0], dtype=torch.float64), 4)
    alone = group_advantages(torch.tensor([1.0, 0.0, 1.0], dtype=torch.float64), 3)
    torch.testing.assert_close(with_missing[[0, 1, 3]], alone)
    assert with_missing[2].item() == 0.0


@PROPERTY
@given(grouped_rewards(), st.data(), st.sampled_from(["group", "batch", "none"]))
def test_unjudged_rewards_leave_the_judged_advantages_as_without_them(
    drawn: tuple[torch.Tensor, int], data: st.DataObject, scale: AdvantageScale
) -> None:
    rewards, group_size = drawn
    missing = torch.tensor(data.draw(st.lists(st.booleans(), min_size=len(rewards), max_size=len(rewards))))
    with_nan = torch.where(missing, torch.full_like(rewards, math.nan), rewards)
    advantages = group_advantages(with_nan, group_size, scale)
    assert torch.isfinite(advantages).all()
    assert torch.equal(advantages[missing], torch.zeros_like(advantages[missing]))
    judged_all = rewards[~missing]
    batch_std = judged_all.std() if judged_all.numel() > 1 else torch.tensor(0.0, dtype=rewards.dtype)
    for group in range(len(rewards) // group_size):
        rows = slice(group * group_size, (group + 1) * group_size)
        judged = rewards[rows][~missing[rows]]
        if judged.numel() < 2 or bool((judged == judged[0]).all()):
            expected = torch.zeros_like(judged)
        else:
            centered = judged - judged.mean()
            std = {"group": judged.std(), "batch": batch_std, "none": None}[scale]
            expected = centered if std is None else centered / (std + 1e-4)
        torch.testing.assert_close(advantages[rows][~missing[rows]], expected)


def test_zero_std_groups_looks_only_at_judged_rewards() -> None:
    rewards = torch.tensor([1.0, math.nan, 1.0, 0.0, math.nan, math.nan, 0.0, 1.0, math.nan])
    assert zero_std_groups(rewards, 3).tolist() == [True, True, False]


# --- batch totals: gradient accumulation --------------------------------------------------------------------------


@PROPERTY
@given(masked_batch(), st.sampled_from(["grpo", "dapo", "dr_grpo", "cispo"]), st.integers(1, 5))
def test_micro_batch_shares_add_up_to_the_whole_batch(
    batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor], loss_type: LossType, parts: int
) -> None:
    """Split into micro-batches with the batch's totals, the losses and gradients are the whole batch's."""
    logp, advantages, mask = batch
    old = logp.detach() - 0.1
    entropy = torch.rand_like(logp)
    settings = dict(
        loss_type=loss_type,
        max_completion_length=logp.shape[1],
        eps_high=5.0 if loss_type == "cispo" else 0.2,
        entropy_coef=0.01,
    )
    whole_logp = logp.clone().requires_grad_()
    whole = grpo_loss(whole_logp, old, advantages, mask, entropy=entropy, **settings)
    whole.loss.backward()
    split_logp = logp.clone().requires_grad_()
    totals = BatchTotals.of(mask, micro_batches=parts)
    loss = torch.zeros((), dtype=logp.dtype)
    for rows in torch.arange(len(logp)).tensor_split(parts):
        if len(rows):
            out = grpo_loss(
                split_logp[rows],
                old[rows],
                advantages[rows],
                mask[rows],
                entropy=entropy[rows],
                totals=totals,
                **settings,
            )
            out.loss.backward()
            loss = loss + out.loss.detach()
    torch.testing.assert_close(loss, whole.loss.detach())
    assert whole_logp.grad is not None and split_logp.grad is not None
    torch.testing.assert_close(split_logp.grad, whole_logp.grad)


def test_bnpo_averages_each_micro_batchs_token_mean() -> None:
    logp = torch.zeros(2, 3)
    mask = torch.tensor([[True, False, False], [True, True, True]])
    advantages = torch.tensor([3.0, 1.0])
    totals = BatchTotals.of(mask, micro_batches=2)
    first = grpo_loss(logp[:1], logp[:1], advantages[:1], mask[:1], loss_type="bnpo", totals=totals)
    second = grpo_loss(logp[1:], logp[1:], advantages[1:], mask[1:], loss_type="bnpo", totals=totals)
    assert_close(first.loss + second.loss, (-3.0 + -1.0) / 2)  # TRL: per micro-batch token mean / accumulation
    assert_close(grpo_loss(logp, logp, advantages, mask, loss_type="bnpo").loss, (-3.0 - 3 * 1.0) / 4)


# --- loss types --------------------------------------------------------------------------------------------------


def trl_reference_loss(
    logp: torch.Tensor, old: torch.Tensor, advantages: torch.Tensor, mask: torch.Tensor, loss_type: str, length: int
) -> torch.Tensor:
    """TRL GRPOTrainer's loss for one batch (no KL, no accumulation), written from its definitions."""
    ratio = torch.exp(logp - old)
    a = advantages.unsqueeze(1)
    maskf = mask.to(logp.dtype)
    if loss_type == "cispo":
        per_token = -torch.clamp(ratio, max=5.0).detach() * a * logp
    else:
        per_token = -torch.min(ratio * a, torch.clamp(ratio, 1 - 0.2, 1 + 0.28) * a)
    if loss_type == "grpo":
        return ((per_token * maskf).sum(-1) / maskf.sum(-1).clamp(min=1.0)).mean()
    if loss_type == "dr_grpo":
        return (per_token * maskf).sum() / (per_token.size(0) * length)
    return (per_token * maskf).sum() / maskf.sum().clamp(min=1.0)  # bnpo, dapo, cispo on one micro-batch


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_each_loss_type_matches_trls_definition(loss_type: LossType) -> None:
    generator = torch.Generator().manual_seed(3)
    logp = -torch.rand(4, 6, generator=generator, dtype=torch.float64) * 3
    old = logp - 0.4 * torch.randn(4, 6, generator=generator, dtype=torch.float64)
    advantages = torch.tensor([1.5, -0.5, -1.0, 0.0], dtype=torch.float64)
    mask = torch.ones(4, 6, dtype=torch.bool)  # every row has tokens: TRL's grpo mean then runs over the same rows
    mask[0, 4:] = False
    mask[2, 1:] = False
    ours_logp, theirs_logp = logp.clone().requires_grad_(), logp.clone().requires_grad_()
    eps_high = 5.0 if loss_type == "cispo" else 0.28
    ours = grpo_loss(
        ours_logp, old, advantages, mask, eps_low=0.2, eps_high=eps_high, loss_type=loss_type, max_completion_length=8
    )
    theirs = trl_reference_loss(theirs_logp, old, advantages, mask, loss_type, 8)
    ours.loss.backward()
    theirs.backward()
    torch.testing.assert_close(ours.loss, theirs, rtol=1e-12, atol=1e-15)
    assert ours_logp.grad is not None and theirs_logp.grad is not None
    torch.testing.assert_close(ours_logp.grad, theirs_logp.grad, rtol=1e-12, atol=1e-15)


def test_loss_type_overrides_the_aggregation_and_unknown_types_are_refused() -> None:
    logp = torch.zeros(2, 3)
    mask = torch.tensor([[True, True, False], [True, True, True]])
    advantages = torch.tensor([2.0, -1.0])
    dapo = grpo_loss(logp, logp, advantages, mask, aggregation="sequence_mean", loss_type="dapo")
    assert_close(dapo.loss, (2 * -2.0 + 3 * 1.0) / 5)
    with pytest.raises(ValueError, match="unknown loss_type"):
        grpo_loss(logp, logp, advantages, mask, loss_type="ppo")  # type: ignore[arg-type]


def test_cispo_caps_the_weight_and_keeps_every_tokens_gradient() -> None:
    logp = torch.log(torch.tensor([[0.9, 0.1]])).requires_grad_()
    old = torch.log(torch.tensor([[0.1, 0.1]]))  # ratios 9 and 1
    out = grpo_loss(logp, old, torch.tensor([1.0]), torch.ones(1, 2, dtype=torch.bool), eps_high=5.0, loss_type="cispo")
    out.loss.backward()
    assert logp.grad is not None
    assert_close(logp.grad, [[-5.0 / 2, -1.0 / 2]])  # capped at 5, not clipped to zero as PPO's surrogate would
    assert_close(out.clip_high, 0.5)


# --- GSPO ------------------------------------------------------------------------------------------------------------


def test_sequence_level_ratio_is_the_geometric_mean_of_the_token_ratios() -> None:
    logp = torch.tensor([[-1.0, -2.0, -9.0], [-0.5, -0.5, -0.5]])
    old = torch.tensor([[-1.5, -1.5, 0.0], [-0.5, -0.5, -0.5]])
    mask = torch.tensor([[True, True, False], [True, True, True]])
    log_ratio = sequence_log_ratio(logp, old, mask)
    assert_close(
        log_ratio, [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    )  # +0.5 and -0.5 average out; the masked token does not count
    shifted = sequence_log_ratio(logp + 0.3, old, mask)
    assert_close(shifted[0], [0.3, 0.3, 0.3])


def test_gspo_clips_whole_sequences() -> None:
    logp = torch.tensor([[0.0, 0.0], [0.0, 0.0]], requires_grad=True)
    old = torch.tensor([[-0.5, 0.3], [0.0, 0.0]])  # sequence 0: mean log-ratio 0.1, token ratios exp(0.5), exp(-0.3)
    mask = torch.ones(2, 2, dtype=torch.bool)
    out = grpo_loss(logp, old, torch.tensor([1.0, 1.0]), mask, eps_low=0.05, eps_high=0.05, importance_level="sequence")
    assert_close(out.clip_ratio, 0.5)  # one of the two sequences: exp(0.1) > 1.05
    out.loss.backward()
    assert logp.grad is not None
    assert_close(logp.grad[0], [0.0, 0.0])  # the clipped sequence gives no gradient at all
    assert_close(logp.grad[1], [-0.25, -0.25])  # d/dlogp of -exp(mean) at 0, over two sequences


# --- importance weights ----------------------------------------------------------------------------------------------


def test_importance_weights_scale_the_policy_loss_but_not_the_kl() -> None:
    logp = torch.zeros(1, 2, requires_grad=True)
    weights = torch.tensor([[2.0, 0.5]])
    ref = torch.tensor([[math.log(2.0), 0.0]])
    mask = torch.ones(1, 2, dtype=torch.bool)
    out = grpo_loss(logp, logp.detach(), torch.tensor([1.0]), mask, ref_logp=ref, beta=0.1, importance_weights=weights)
    out.loss.backward()
    assert logp.grad is not None
    assert_close(logp.grad, [[(-2.0 + 0.1 * (1 - 2.0)) / 2, -0.5 / 2]])
    assert_close(out.policy_loss, (-2.0 - 0.5) / 2)


def test_entropy_bonus_is_a_token_mean_under_every_loss_type() -> None:
    logp = torch.zeros(2, 3)
    mask = torch.tensor([[True, False, False], [True, True, True]])
    entropy = torch.tensor([[4.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    for loss_type in ("grpo", "dapo", "dr_grpo"):
        out = grpo_loss(
            logp,
            logp,
            torch.zeros(2),
            mask,
            entropy=entropy,
            entropy_coef=1.0,
            loss_type=loss_type,
            max_completion_length=3,
        )
        assert_close(out.loss, -4.0 / 4)  # TRL's meaning of entropy_coef: the mean over the 4 tokens


def test_clip_ratio_splits_into_low_and_high() -> None:
    old = torch.zeros(1, 4)
    logp = torch.log(torch.tensor([[1.5, 0.5, 1.0, 1.5]]))
    mask = torch.ones(1, 4, dtype=torch.bool)
    positive = grpo_loss(logp, old, torch.tensor([1.0]), mask)
    negative = grpo_loss(logp, old, torch.tensor([-1.0]), mask)
    assert (positive.clip_high.item(), positive.clip_low.item()) == (0.5, 0.0)
    assert (negative.clip_high.item(), negative.clip_low.item()) == (0.0, 0.25)
    assert_close(negative.clip_ratio, 0.25)
