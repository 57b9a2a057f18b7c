"""GRPO's loss, as small pure tensor-in, tensor-out functions.

Group Relative Policy Optimization (Shao et al. 2024, DeepSeekMath; used for
DeepSeek-R1) drops PPO's value model: each prompt is sampled ``group_size``
times, and a completion's advantage is its reward relative to its group. The
policy is then trained on PPO's clipped surrogate, optionally with a KL
penalty to a frozen reference policy.

The pieces, in the order a training step uses them:

- ``group_advantages``: rewards ``[N]`` -> advantages ``[N]``, with the
  group's std (DeepSeekMath), the batch's std (Lite PPO / REINFORCE++) or no
  scaling at all (Dr. GRPO).
- ``zero_std_groups``: which groups carry no signal (every reward equal).
- ``clipped_surrogate``: PPO's per-token clipped loss, with DAPO's
  "clip-higher" (``eps_high`` may differ from ``eps_low``).
- ``k3_kl``: Schulman's k3 estimator of KL(policy || reference), per token
  (``rlvr.trainers.losses.kl`` has k1, k2 and k3).
- ``aggregate``: how per-token losses ``[B, T]`` become one number; most
  variants differ only here (GRPO, DAPO, BNPO, Dr. GRPO).
- ``BatchTotals``: the counts of the whole optimizer batch, so that a
  micro-batch's loss is exactly its share of the batch's loss (gradient
  accumulation does not change the update).
- ``grpo_loss``: all of the above composed, under TRL's ``loss_type`` names
  (``grpo``, ``dapo``, ``bnpo``, ``dr_grpo``, ``cispo``), with GSPO's
  sequence-level ratio and truncated importance sampling as options; returns
  a ``LossOutput``.

Loss types (TRL's names and meanings):

==========  ===========================================================  ===============================
loss_type   per-token loss, then the reduction                           paper
==========  ===========================================================  ===============================
grpo        clipped surrogate; mean per sequence, mean over sequences    DeepSeekMath (Shao et al. 2024)
dapo        clipped surrogate; sum over the batch's tokens / its tokens  DAPO (Yu et al. 2025)
bnpo        clipped surrogate; token mean per micro-batch, averaged      BNPO (Xiao et al. 2025)
dr_grpo     clipped surrogate; sum / (sequences x max length)            Dr. GRPO (Liu et al. 2025)
cispo       -min(ratio, eps_high).detach() * A * logp; as dapo           MiniMax-M1 (2025)
==========  ===========================================================  ===============================

``bnpo`` normalises by the tokens of each micro-batch, so, by its definition
and as in TRL, its update depends on how the batch is split; every other type
gives the same update for any split when ``grpo_loss`` is given the batch's
``BatchTotals``.

Conventions. ``B`` is the number of completions in a micro-batch and ``T``
their padded length in tokens; ``mask`` is ``[B, T]``, true (or 1) on
completion tokens that count and false (or 0) on padding and prompt tokens.
Log-probabilities are natural-log (nats) per token. Positions outside the mask
never reach the result's value, but they should still hold finite numbers
(padding with 0 is fine): a NaN or inf there can still poison gradients.
Nothing here keeps state; every function works on any device and dtype.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import torch
from torch import Tensor

from rlvr.trainers.losses.kl import LOG_RATIO_CLAMP, KLEstimator, kl_estimate

__all__ = [
    "LOG_RATIO_CLAMP",
    "LOSS_TYPES",
    "AdvantageScale",
    "Aggregation",
    "BatchTotals",
    "ImportanceLevel",
    "LossOutput",
    "LossType",
    "aggregate",
    "clipped_surrogate",
    "env_group_advantages",
    "group_advantages",
    "grpo_loss",
    "k3_kl",
    "nanstd",
    "sequence_log_ratio",
    "zero_std_groups",
]

AdvantageScale = Literal["group", "batch", "none"]
Aggregation = Literal["sequence_mean", "token_mean", "constant"]
LossType = Literal["grpo", "dapo", "bnpo", "dr_grpo", "cispo"]
ImportanceLevel = Literal["token", "sequence"]
LOSS_TYPES: tuple[str, ...] = get_args(LossType)

_AGGREGATION: dict[str, Aggregation] = {
    "grpo": "sequence_mean",
    "dapo": "token_mean",
    "bnpo": "token_mean",
    "dr_grpo": "constant",
    "cispo": "token_mean",
}


def _grouped(rewards: Tensor, group_size: int) -> Tensor:
    """Reshape rewards ``[N]`` to ``[N // group_size, group_size]``, checking the layout."""
    if rewards.dim() != 1:
        raise ValueError(f"rewards must be 1-D [N], got shape {tuple(rewards.shape)}")
    if group_size < 1:
        raise ValueError(f"group_size must be >= 1, got {group_size}")
    if rewards.numel() % group_size != 0:
        raise ValueError(
            f"number of rewards ({rewards.numel()}) is not a multiple of group_size ({group_size}); "
            "rewards must be laid out group by group, group_size consecutive completions per prompt"
        )
    return rewards.reshape(-1, group_size)


def env_group_advantages(
    rewards: Tensor,
    group_size: int,
    envs: Sequence[str],
    scale: AdvantageScale = "batch",
    eps: float = 1e-4,
) -> Tensor:
    """``group_advantages`` taken over each env's groups on their own, for a mixture's batch.

    With ``"batch"`` scaling each env's advantages are divided by the std of that env's own
    rewards, so an env whose rewards spread widely does not shrink the advantages of the
    others; ``"group"`` and ``"none"`` give exactly ``group_advantages``.

    Args:
        rewards: ``[N]`` as for ``group_advantages``.
        group_size: completions per prompt.
        envs: ``N`` env names, one per completion, the same within each group.
        scale, eps: as for ``group_advantages``.

    Raises:
        ValueError: ``len(envs) != N``, or a group whose completions name different envs.
    """
    if len(envs) != rewards.numel():
        raise ValueError(f"{len(envs)} env names for {rewards.numel()} rewards")
    for start in range(0, len(envs), group_size):
        if len(set(envs[start : start + group_size])) != 1:
            raise ValueError(f"the group starting at completion {start} mixes envs")
    advantages = torch.zeros(rewards.shape, dtype=rewards.dtype if rewards.is_floating_point() else None)
    for name in dict.fromkeys(envs):
        rows = torch.tensor([i for i, env in enumerate(envs) if env == name])
        advantages[rows] = group_advantages(rewards[rows], group_size, scale, eps).to(advantages.dtype)
    return advantages


def zero_std_groups(rewards: Tensor, group_size: int) -> Tensor:
    """Which groups have every judged reward equal, and so give no learning signal.

    Such a group's advantages are all zero: its completions neither raise nor
    lower their own probability (DAPO's dynamic sampling filters them out).
    A NaN reward marks a completion that could not be judged and is left out;
    a group with fewer than two judged rewards (a group of one completion,
    or one whose rewards are all NaN) is always such a group.

    Args:
        rewards: ``[N]``, ``N = num_groups * group_size``, laid out group by
            group (completions ``k * group_size`` to ``(k + 1) * group_size - 1``
            answer prompt ``k``); NaN where unjudged.
        group_size: completions per prompt.

    Returns:
        Bool tensor ``[num_groups]``, true where the group's judged rewards are all equal.

    Raises:
        ValueError: when ``rewards`` is not 1-D or ``N`` is not a multiple of ``group_size``.
    """
    grouped = _grouped(rewards, group_size)
    judged = ~grouped.isnan()
    highest = torch.where(judged, grouped, torch.full_like(grouped, -math.inf)).amax(dim=1)
    lowest = torch.where(judged, grouped, torch.full_like(grouped, math.inf)).amin(dim=1)
    return (judged.sum(dim=1) < 2) | (highest == lowest)


def nanstd(values: Tensor, dim: int | None = None) -> Tensor:
    """Unbiased std over the non-NaN entries (TRL's ``nanstd``); 0 where fewer than two entries count."""
    judged = ~values.isnan()
    count = judged.sum() if dim is None else judged.sum(dim=dim, keepdim=True)
    mean = torch.where(judged, values, 0.0).sum(dim=dim, keepdim=dim is not None) / count.clamp_min(1)
    squares = torch.where(judged, (values - mean) ** 2, 0.0).sum(dim=dim, keepdim=dim is not None)
    variance = squares / (count - 1).clamp_min(1)
    return torch.where(count > 1, variance.sqrt(), torch.zeros_like(variance))


def group_advantages(
    rewards: Tensor,
    group_size: int,
    scale: AdvantageScale = "group",
    eps: float = 1e-4,
) -> Tensor:
    """Group-relative advantages: each reward minus its group's mean, optionally scaled.

    ``A_i = (r_i - mean_group(r)) / (std + eps)``, where ``std`` is:

    - ``"group"``: the std of the completion's own group (DeepSeekMath, GRPO).
    - ``"batch"``: the std of all ``N`` rewards; the mean is still the group's
      (Lite PPO, Liu et al. 2025 "Tricks or Traps"; REINFORCE++ also
      normalises at batch level). Avoids blowing up tiny within-group spreads.
    - ``"none"``: no division, ``A_i = r_i - mean_group(r)`` (Dr. GRPO, Liu et
      al. 2025 "Understanding R1-Zero-Like Training": the std division biases
      training towards too-easy and too-hard prompts).

    The std is the unbiased one (Bessel's correction, ``torch.std``'s default),
    as in TRL. A std that is undefined (a group, or batch, of one reward) is
    taken as 0. A group whose judged rewards are all equal (``zero_std_groups``)
    gets advantages of exactly 0 in every mode, not rounding noise divided by ``eps``.

    Unjudged completions. A NaN reward marks a completion no verifier could
    judge: it is left out of its group's mean and of every std (TRL's
    ``nanmean``/``nanstd``), so it neither shifts nor shrinks the statistics
    of the judged ones, and its own advantage is 0.

    Args:
        rewards: ``[N]`` scalar rewards, ``N = num_groups * group_size``, laid
            out group by group (``group_size`` consecutive completions per
            prompt); NaN where unjudged. Integer rewards are converted to the
            default float dtype.
        group_size: completions per prompt, ``>= 1``.
        scale: which std to divide by, see above.
        eps: added to the std before dividing, so small spreads stay finite.

    Returns:
        ``[N]`` advantages in reward units (``"none"``) or in stds, same dtype
        as ``rewards`` (or the default float dtype), never NaN. Each group's
        advantages sum to zero. Not differentiable in any useful sense; treat as data.

    Raises:
        ValueError: when ``rewards`` is not 1-D, ``N`` is not a multiple of
            ``group_size``, or ``scale`` is unknown.
    """
    if not rewards.is_floating_point():
        rewards = rewards.to(torch.get_default_dtype())
    grouped = _grouped(rewards, group_size)
    judged = ~grouped.isnan()
    count = judged.sum(dim=1, keepdim=True)
    mean = torch.where(judged, grouped, 0.0).sum(dim=1, keepdim=True) / count.clamp_min(1)
    centered = torch.where(judged, grouped - mean, 0.0)
    if scale == "group":
        advantages = centered / (nanstd(grouped, dim=1) + eps)
    elif scale == "batch":
        advantages = centered / (nanstd(rewards) + eps)
    elif scale == "none":
        advantages = centered
    else:
        raise ValueError(f"unknown advantage scale {scale!r}; expected 'group', 'batch' or 'none'")
    flat = zero_std_groups(rewards, group_size).unsqueeze(1)
    return torch.where(flat | ~judged, torch.zeros_like(advantages), advantages).reshape(-1)


def k3_kl(logp: Tensor, ref_logp: Tensor) -> Tensor:
    """Schulman's k3 estimator of KL(policy || reference), per token.

    With ``x = ref_logp - logp``, ``k3 = exp(x) - x - 1`` ("Approximating KL
    Divergence", Schulman 2020; the KL term of DeepSeekMath's GRPO). Sampled
    from the policy it is an unbiased estimate of the KL, and each value is
    ``>= 0``, and ``0`` exactly where the two log-probabilities are equal.

    ``x`` is clamped to ``[-LOG_RATIO_CLAMP, LOG_RATIO_CLAMP]`` (±20 nats)
    first, so the result is finite (at most about 4.9e8) however far the
    policies drift; beyond the clamp the gradient is zero. It is computed as
    ``expm1(x) - x``, which unlike ``exp(x) - x - 1`` does not dip below zero
    from rounding in float32 or bfloat16; a final ``clamp_min(0)`` makes
    ``>= 0`` a guarantee.

    Args:
        logp: log-probabilities of the sampled tokens under the policy, any shape.
        ref_logp: the same tokens' log-probabilities under the reference policy,
            same shape. Not detached here; ``grpo_loss`` detaches it.

    Returns:
        Per-element KL estimate in nats, same shape as ``logp``.
    """
    return kl_estimate(logp, ref_logp, "k3")


def clipped_surrogate(
    logp: Tensor,
    old_logp: Tensor,
    advantages: Tensor,
    eps_low: float,
    eps_high: float,
) -> tuple[Tensor, Tensor]:
    """PPO's clipped surrogate loss per token, with DAPO's asymmetric clip range.

    ``ratio = exp(logp - old_logp)`` and the per-token loss is
    ``-min(ratio * A, clip(ratio, 1 - eps_low, 1 + eps_high) * A)`` (Schulman
    et al. 2017; DAPO, Yu et al. 2025, raises ``eps_high`` above ``eps_low``,
    "clip-higher", so low-probability tokens can grow and entropy does not
    collapse). The log-ratio is clamped to ±``LOG_RATIO_CLAMP`` before ``exp``
    so the loss stays finite for any finite inputs.

    ``old_logp`` and ``advantages`` are constants of the objective and are
    detached here; gradients flow only into ``logp``. With a single policy
    update per batch (GRPO's ``mu = 1``, ``old_logp = logp.detach()``) the
    ratio is 1, nothing is clipped, the loss is ``-A`` per token and its
    gradient with respect to ``logp`` is ``-A``.

    Args:
        logp: ``[B, T]`` log-probabilities of the sampled tokens under the
            policy being trained.
        old_logp: ``[B, T]`` the same under the policy that sampled them.
        advantages: ``[B]`` one advantage per completion, broadcast over its
            tokens (or ``[B, T]`` per-token advantages).
        eps_low: lower clip range, ``ratio >= 1 - eps_low``; in ``[0, 1]``.
        eps_high: upper clip range, ``ratio <= 1 + eps_high``; ``>= 0``.

    Returns:
        ``(loss, clipped)``: ``loss`` is ``[B, T]`` (same units as the
        advantages), unmasked; ``clipped`` is a bool ``[B, T]``, true where the
        clipped branch is strictly the smaller objective, i.e. where clipping
        zeroes the token's gradient (``A > 0`` and ``ratio > 1 + eps_high``, or
        ``A < 0`` and ``ratio < 1 - eps_low``).

    Raises:
        ValueError: on mismatched shapes or clip ranges out of bounds.
    """
    if logp.shape != old_logp.shape:
        raise ValueError(f"logp {tuple(logp.shape)} and old_logp {tuple(old_logp.shape)} must have the same shape")
    if not 0.0 <= eps_low <= 1.0:
        raise ValueError(f"eps_low must be in [0, 1], got {eps_low}")
    if eps_high < 0.0:
        raise ValueError(f"eps_high must be >= 0, got {eps_high}")
    adv = advantages.detach()
    if adv.dim() == 1:
        adv = adv.unsqueeze(-1)
    if logp.dim() != 2 or adv.shape not in (logp.shape, (logp.shape[0], 1)):
        raise ValueError(
            f"advantages {tuple(advantages.shape)} must be [B] or [B, T] for logp of shape {tuple(logp.shape)}"
        )
    log_ratio = (logp - old_logp.detach()).clamp(-LOG_RATIO_CLAMP, LOG_RATIO_CLAMP)
    ratio = torch.exp(log_ratio)
    unclipped_loss = -adv * ratio
    clipped_loss = -adv * ratio.clamp(1.0 - eps_low, 1.0 + eps_high)
    # max of the losses = min of the objectives; on a tie both branches carry the same gradient.
    loss = torch.maximum(unclipped_loss, clipped_loss)
    clipped = ((adv > 0) & (ratio > 1.0 + eps_high)) | ((adv < 0) & (ratio < 1.0 - eps_low))
    return loss, clipped


@dataclass(frozen=True)
class BatchTotals:
    """Counts over a whole optimizer batch, for reducing one micro-batch of it.

    Given to ``aggregate`` and ``grpo_loss``, they make a micro-batch's value
    its share of the batch's value: the shares of the micro-batches add up to
    what one pass over the whole batch gives, so the update does not depend on
    how the batch is split for gradient accumulation, even when rows are
    masked out (filtered groups, unjudged completions).

    Attributes:
        rows: completions in the batch, masked ones included (Dr. GRPO's divisor).
        sequences: completions with at least one token in the loss.
        tokens: tokens in the loss.
        micro_batches: how many micro-batches the batch is split into (BNPO
            averages its per-micro-batch token means over them).
    """

    rows: int
    sequences: int
    tokens: int
    micro_batches: int = 1

    @classmethod
    def of(cls, mask: Tensor, micro_batches: int = 1) -> BatchTotals:
        """The totals of the batch whose ``[B, T]`` loss mask is ``mask``."""
        keep = mask.bool()
        return cls(
            rows=int(keep.shape[0]),
            sequences=int(keep.any(dim=1).sum()),
            tokens=int(keep.sum()),
            micro_batches=micro_batches,
        )


def aggregate(
    values: Tensor,
    mask: Tensor,
    mode: Aggregation,
    constant: int | None = None,
    totals: BatchTotals | None = None,
) -> Tensor:
    """Reduce per-token values ``[B, T]`` over the masked tokens to one number.

    - ``"sequence_mean"``: each sequence's mean over its masked tokens, then the
      mean over sequences (GRPO, DeepSeekMath). Every completion weighs the
      same, so a token of a long completion weighs less than one of a short one.
    - ``"token_mean"``: sum over all masked tokens / number of masked tokens
      (DAPO's token-level loss). Every token weighs the same.
    - ``"constant"``: sum over all masked tokens / ``(B * constant)``, where
      ``constant`` is the maximum completion length (Dr. GRPO). Removes the
      length bias of the other two; the normaliser does not depend on the batch.

    Sequences whose mask is all false add nothing: ``"sequence_mean"``
    averages over the sequences with at least one masked token (so the mean of a
    constant ``c`` is ``c`` for any mask with a masked token), and a mask with no
    masked token at all gives ``0``, never NaN. ``"constant"`` still counts
    every sequence in ``B``. Values outside the mask are ignored (selected
    away, not multiplied by 0, so a NaN there does not reach the result).

    With ``totals`` (the counts of the whole batch this micro-batch belongs
    to), the divisors are the batch's, not the micro-batch's: the sequences,
    tokens or rows of the whole batch. The result is then this micro-batch's
    share, and the shares of all micro-batches add up to the batch's value.

    Args:
        values: ``[B, T]`` per-token values (a loss, a KL, an entropy).
        mask: ``[B, T]`` bool, or 0/1 numbers; nonzero marks tokens that count.
        mode: ``"sequence_mean"``, ``"token_mean"`` or ``"constant"``.
        constant: the normalising length for ``"constant"`` (required there,
            ``>= 1``); ignored otherwise.
        totals: the whole batch's counts, or None when ``values`` is the whole batch.

    Returns:
        0-d tensor in the units of ``values``, differentiable with respect to it.

    Raises:
        ValueError: on mismatched shapes, an unknown mode, or a missing or
            non-positive ``constant`` in ``"constant"`` mode.
    """
    if values.dim() != 2 or values.shape != mask.shape:
        raise ValueError(f"values {tuple(values.shape)} and mask {tuple(mask.shape)} must both be [B, T]")
    keep = mask.bool()
    masked = torch.where(keep, values, torch.zeros_like(values))
    if mode == "sequence_mean":
        lengths = keep.sum(dim=1)
        per_sequence = masked.sum(dim=1) / lengths.clamp_min(1)
        sequences = (lengths > 0).sum() if totals is None else torch.tensor(totals.sequences)
        return per_sequence.sum() / sequences.clamp_min(1)
    if mode == "token_mean":
        tokens = keep.sum() if totals is None else torch.tensor(totals.tokens)
        return masked.sum() / tokens.clamp_min(1)
    if mode == "constant":
        if constant is None or constant < 1:
            raise ValueError(
                f"aggregation 'constant' needs constant >= 1 (the maximum completion length), got {constant}"
            )
        rows = values.shape[0] if totals is None else totals.rows
        return masked.sum() / (max(rows, 1) * constant)
    raise ValueError(f"unknown aggregation {mode!r}; expected 'sequence_mean', 'token_mean' or 'constant'")


@dataclass(frozen=True)
class LossOutput:
    """The GRPO loss of one micro-batch, and what to log about it.

    Every field is a 0-d tensor. Only ``loss`` carries gradients; the others
    are detached metrics, named as TRL logs them. Given ``totals``, every
    field is this micro-batch's share of the batch's value (sum them over the
    micro-batches); without, the micro-batch's own value.

    Attributes:
        loss: the objective to minimise: policy loss + ``beta`` * KL -
            ``entropy_coef`` * entropy; the first two reduced by the loss
            type, the entropy always as a token mean (as TRL does, so
            ``entropy_coef`` means the same under every loss type).
        policy_loss: the policy part alone (the surrogate, weighted by any
            importance weights), same reduction.
        kl: mean KL estimate to the reference over masked tokens (token mean,
            nats); 0 when no ``ref_logp`` was given. Computed whenever
            ``ref_logp`` is given, even with ``beta = 0``.
        clip_ratio: fraction of masked tokens whose gradient was clipped
            (TRL's ``clip_ratio/region_mean``), in [0, 1]; under
            ``importance_level="sequence"`` a fraction of sequences.
        clip_low: the part clipped at the low end (``A < 0``, ratio < 1 - eps_low).
        clip_high: the part clipped at the high end (``A > 0``, ratio > 1 + eps_high);
            for ``cispo``, the tokens whose weight was capped.
        ratio_mean: mean probability ratio ``exp(logp - old_logp)`` over masked
            tokens (1 on the first update of a batch); drift shows off-policyness.
        entropy: mean of the given per-token entropy over masked tokens (nats);
            0 when none was given.
    """

    loss: Tensor
    policy_loss: Tensor
    kl: Tensor
    clip_ratio: Tensor
    ratio_mean: Tensor
    entropy: Tensor
    clip_low: Tensor
    clip_high: Tensor


def sequence_log_ratio(logp: Tensor, old_logp: Tensor, mask: Tensor) -> Tensor:
    """GSPO's sequence-level log importance ratio, broadcast over the tokens: ``[B, T]``.

    ``log s_i = mean over the masked tokens t of (logp_it - old_logp_it)``, the
    log of the geometric mean of the token ratios (Zheng et al. 2025, "Group
    Sequence Policy Optimization"; TRL's ``importance_sampling_level="sequence"``).
    Gradients flow into ``logp``; a row without masked tokens gets 0.
    """
    keep = mask.bool()
    difference = torch.where(keep, logp - old_logp.detach(), torch.zeros_like(logp))
    per_sequence = difference.sum(dim=1, keepdim=True) / keep.sum(dim=1, keepdim=True).clamp_min(1)
    return per_sequence.expand_as(logp)


def grpo_loss(
    logp: Tensor,
    old_logp: Tensor,
    advantages: Tensor,
    mask: Tensor,
    *,
    ref_logp: Tensor | None = None,
    beta: float = 0.0,
    eps_low: float = 0.2,
    eps_high: float = 0.2,
    aggregation: Aggregation = "sequence_mean",
    max_completion_length: int | None = None,
    entropy: Tensor | None = None,
    entropy_coef: float = 0.0,
    loss_type: LossType | None = None,
    importance_level: ImportanceLevel = "token",
    kl_estimator: KLEstimator = "k3",
    importance_weights: Tensor | None = None,
    totals: BatchTotals | None = None,
) -> LossOutput:
    """GRPO's loss: clipped surrogate, plus a KL penalty, minus an entropy bonus.

    Per token: ``clipped_surrogate(...) * w + beta * KL(logp, ref_logp)``,
    reduced over the masked tokens by the loss type (``aggregate``), minus
    ``entropy_coef`` times the token-mean entropy. DeepSeekMath's GRPO is the
    defaults with ``beta = 0.04`` and a reference; DAPO is
    ``loss_type="dapo"``, ``eps_high=0.28``, ``beta=0``; Dr. GRPO is
    ``loss_type="dr_grpo"`` with ``max_completion_length`` (and advantages
    from ``group_advantages(..., scale="none")``); GSPO is
    ``importance_level="sequence"`` (with clip ranges near 3e-4 and 4e-4);
    CISPO is ``loss_type="cispo"`` with ``eps_high`` as the weight cap.

    With one update per batch (``old_logp = logp.detach()``) the ratio is 1
    and the per-token loss value is ``-A`` (plus the KL and entropy terms).

    Args:
        logp: ``[B, T]`` per-token log-probabilities under the policy, with grad.
        old_logp: ``[B, T]`` under the policy the batch was scored with before
            this update (the trainer's old policy); detached.
        advantages: ``[B]`` per-completion advantages (or ``[B, T]``); detached.
        mask: ``[B, T]`` bool or 0/1; true on completion tokens that count.
        ref_logp: ``[B, T]`` under the frozen reference policy, or None; detached.
        beta: KL coefficient, ``>= 0``; a positive ``beta`` needs ``ref_logp``.
        eps_low: lower clip range (``ratio >= 1 - eps_low``).
        eps_high: upper clip range (``ratio <= 1 + eps_high``), DAPO's
            clip-higher; for ``cispo`` the cap on the weight itself.
        aggregation: the reduction when no ``loss_type`` is given:
            ``"sequence_mean"`` (grpo), ``"token_mean"`` (dapo) or ``"constant"`` (dr_grpo).
        max_completion_length: the constant of ``dr_grpo`` (the most tokens a
            completion, or a multi-turn episode, can generate).
        entropy: ``[B, T]`` per-token entropy of the policy (nats), or None.
            Kept attached, so a positive ``entropy_coef`` rewards higher entropy.
        entropy_coef: entropy bonus coefficient; nonzero needs ``entropy``.
        loss_type: TRL's name of the loss (see the module docstring); when
            given it decides the reduction and ``aggregation`` is ignored.
        importance_level: ``"token"`` (PPO/GRPO: one ratio per token) or
            ``"sequence"`` (GSPO: one ratio per completion, ``sequence_log_ratio``).
        kl_estimator: ``"k1"``, ``"k2"`` or ``"k3"`` (``rlvr.trainers.losses.kl``).
        importance_weights: ``[B, T]`` detached per-token weights multiplying
            the policy loss, or None: truncated importance sampling between the
            trainer's and the sampler's probabilities (``min(pi_old / pi_sampler, C)``,
            Yao et al. 2025), applied as TRL does, before the KL term.
        totals: the whole batch's counts when this is one micro-batch of it
            (``BatchTotals``); the result is then this micro-batch's share.

    Returns:
        ``LossOutput``; call ``.loss.backward()``.

    Raises:
        ValueError: on mismatched shapes, ``beta < 0``, ``beta > 0`` without
            ``ref_logp``, nonzero ``entropy_coef`` without ``entropy``, an
            unknown loss type or importance level, or any error of
            ``clipped_surrogate`` and ``aggregate``.
    """
    for name, tensor in (
        ("old_logp", old_logp),
        ("mask", mask),
        ("ref_logp", ref_logp),
        ("entropy", entropy),
        ("importance_weights", importance_weights),
    ):
        if tensor is not None and tensor.shape != logp.shape:
            raise ValueError(f"{name} {tuple(tensor.shape)} must have logp's shape {tuple(logp.shape)}")
    if beta < 0:
        raise ValueError(f"beta must be >= 0, got {beta}")
    if beta > 0 and ref_logp is None:
        raise ValueError("beta > 0 needs ref_logp (the reference policy's log-probabilities)")
    if entropy_coef != 0 and entropy is None:
        raise ValueError("a nonzero entropy_coef needs entropy")
    if loss_type is not None and loss_type not in _AGGREGATION:
        raise ValueError(f"unknown loss_type {loss_type!r}; expected one of {', '.join(LOSS_TYPES)}")
    if importance_level not in ("token", "sequence"):
        raise ValueError(f"unknown importance_level {importance_level!r}; expected 'token' or 'sequence'")
    mode = _AGGREGATION[loss_type] if loss_type is not None else aggregation
    micro_batches = totals.micro_batches if totals is not None else 1

    def reduce(values: Tensor) -> Tensor:
        if loss_type == "bnpo":  # BNPO: the token mean of this micro-batch, averaged over the micro-batches
            return aggregate(values, mask, "token_mean") / micro_batches
        return aggregate(values, mask, mode, max_completion_length, totals)

    def token_mean(values: Tensor) -> Tensor:
        return aggregate(values.detach(), mask, "token_mean", totals=totals)

    if importance_level == "sequence":
        log_ratio = sequence_log_ratio(logp, old_logp, mask)

        # Per-sequence fractions, as TRL counts them for sequence-level ratios.
        def fraction(flags: Tensor) -> Tensor:
            return aggregate(flags.to(logp.dtype), mask, "sequence_mean", totals=totals)
    else:
        log_ratio = logp - old_logp.detach()

        def fraction(flags: Tensor) -> Tensor:
            return token_mean(flags.to(logp.dtype))

    adv = advantages.detach()
    adv = adv.unsqueeze(-1) if adv.dim() == 1 else adv
    if loss_type == "cispo":
        ratio = torch.exp(log_ratio.detach().clamp(-LOG_RATIO_CLAMP, LOG_RATIO_CLAMP))
        weight = ratio.clamp(max=eps_high)
        policy_per_token = -weight * adv * logp
        clipped_high = (ratio > eps_high) & (adv > 0)
        clipped_low = torch.zeros_like(clipped_high)
    else:
        # The surrogate of ``clipped_surrogate`` on the chosen log-ratio (``logp - old`` per token, or GSPO's).
        policy_per_token, _ = clipped_surrogate(log_ratio, torch.zeros_like(log_ratio), advantages, eps_low, eps_high)
        ratio = torch.exp(log_ratio.detach().clamp(-LOG_RATIO_CLAMP, LOG_RATIO_CLAMP))
        clipped_low = (adv < 0) & (ratio < 1.0 - eps_low)
        clipped_high = (adv > 0) & (ratio > 1.0 + eps_high)
    if importance_weights is not None:
        policy_per_token = policy_per_token * importance_weights.detach()
    per_token = policy_per_token
    zero = logp.new_zeros(())

    kl = zero
    if ref_logp is not None:
        kl_per_token = kl_estimate(logp, ref_logp.detach(), kl_estimator)
        kl = token_mean(kl_per_token)
        if beta > 0:
            per_token = per_token + beta * kl_per_token

    loss = reduce(per_token)
    entropy_mean = zero
    if entropy is not None:
        entropy_mean = token_mean(entropy)
        if entropy_coef != 0:
            entropy_bonus = aggregate(entropy, mask, "token_mean", totals=totals)
            loss = loss - entropy_coef * entropy_bonus

    token_ratio = torch.exp((logp - old_logp).detach().clamp(-LOG_RATIO_CLAMP, LOG_RATIO_CLAMP))
    return LossOutput(
        loss=loss,
        policy_loss=reduce(policy_per_token).detach(),
        kl=kl,
        clip_ratio=fraction(clipped_low | clipped_high),
        ratio_mean=token_mean(token_ratio),
        entropy=entropy_mean,
        clip_low=fraction(clipped_low),
        clip_high=fraction(clipped_high),
    )
