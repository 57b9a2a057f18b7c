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
- ``k3_kl``: Schulman's k3 estimator of KL(policy || reference), per token.
- ``aggregate``: how per-token losses ``[B, T]`` become one number; the
  variants differ only here (GRPO, DAPO, Dr. GRPO).
- ``grpo_loss``: all of the above composed; returns a ``LossOutput``.

Conventions. ``B`` is the number of completions in a micro-batch and ``T``
their padded length in tokens; ``mask`` is ``[B, T]``, true (or 1) on
completion tokens that count and false (or 0) on padding and prompt tokens.
Log-probabilities are natural-log (nats) per token. Positions outside the mask
never reach the result's value, but they should still hold finite numbers
(padding with 0 is fine): a NaN or inf there can still poison gradients.
Nothing here keeps state; every function works on any device and dtype.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

__all__ = [
    "LOG_RATIO_CLAMP",
    "AdvantageScale",
    "Aggregation",
    "LossOutput",
    "aggregate",
    "clipped_surrogate",
    "group_advantages",
    "grpo_loss",
    "k3_kl",
    "zero_std_groups",
]

AdvantageScale = Literal["group", "batch", "none"]
Aggregation = Literal["sequence_mean", "token_mean", "constant"]

LOG_RATIO_CLAMP = 20.0
"""Log-ratios are clamped to ``[-20, 20]`` before ``exp`` (as verl does).

``exp(20)`` is about 4.9e8, far beyond any ratio PPO's clipping lets matter,
and finite in float32 and bfloat16, so the loss stays finite even when two
log-probabilities differ by thousands of nats. Beyond the clamp the gradient
through the ratio is zero.
"""


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


def zero_std_groups(rewards: Tensor, group_size: int) -> Tensor:
    """Which groups have every reward equal, and so give no learning signal.

    Such a group's advantages are all zero: its completions neither raise nor
    lower their own probability (DAPO's dynamic sampling filters them out).
    A group of one completion is always such a group.

    Args:
        rewards: ``[N]``, ``N = num_groups * group_size``, laid out group by
            group (completions ``k * group_size`` to ``(k + 1) * group_size - 1``
            answer prompt ``k``).
        group_size: completions per prompt.

    Returns:
        Bool tensor ``[num_groups]``, true where the group's rewards are all equal.

    Raises:
        ValueError: when ``rewards`` is not 1-D or ``N`` is not a multiple of ``group_size``.
    """
    grouped = _grouped(rewards, group_size)
    return grouped.amax(dim=1) == grouped.amin(dim=1)


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
    taken as 0. A group whose rewards are all equal (``zero_std_groups``) gets
    advantages of exactly 0 in every mode, not rounding noise divided by ``eps``.

    Args:
        rewards: ``[N]`` scalar rewards, ``N = num_groups * group_size``, laid
            out group by group (``group_size`` consecutive completions per
            prompt). Integer rewards are converted to the default float dtype.
        group_size: completions per prompt, ``>= 1``.
        scale: which std to divide by, see above.
        eps: added to the std before dividing, so small spreads stay finite.

    Returns:
        ``[N]`` advantages in reward units (``"none"``) or in stds, same dtype
        as ``rewards`` (or the default float dtype). Each group's advantages
        sum to zero. Not differentiable in any useful sense; treat as data.

    Raises:
        ValueError: when ``rewards`` is not 1-D, ``N`` is not a multiple of
            ``group_size``, or ``scale`` is unknown.
    """
    if not rewards.is_floating_point():
        rewards = rewards.to(torch.get_default_dtype())
    grouped = _grouped(rewards, group_size)
    centered = grouped - grouped.mean(dim=1, keepdim=True)
    if scale == "group":
        std = grouped.std(dim=1, keepdim=True) if group_size > 1 else torch.zeros_like(grouped[:, :1])
        advantages = centered / (std + eps)
    elif scale == "batch":
        std = rewards.std() if rewards.numel() > 1 else rewards.new_zeros(())
        advantages = centered / (std + eps)
    elif scale == "none":
        advantages = centered
    else:
        raise ValueError(f"unknown advantage scale {scale!r}; expected 'group', 'batch' or 'none'")
    flat = grouped.amax(dim=1, keepdim=True) == grouped.amin(dim=1, keepdim=True)
    return torch.where(flat, torch.zeros_like(advantages), advantages).reshape(-1)


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
    log_ratio = (ref_logp - logp).clamp(-LOG_RATIO_CLAMP, LOG_RATIO_CLAMP)
    return (torch.expm1(log_ratio) - log_ratio).clamp_min(0.0)


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


def aggregate(
    values: Tensor,
    mask: Tensor,
    mode: Aggregation,
    constant: int | None = None,
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

    Args:
        values: ``[B, T]`` per-token values (a loss, a KL, an entropy).
        mask: ``[B, T]`` bool, or 0/1 numbers; nonzero marks tokens that count.
        mode: ``"sequence_mean"``, ``"token_mean"`` or ``"constant"``.
        constant: the normalising length for ``"constant"`` (required there,
            ``>= 1``); ignored otherwise.

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
        non_empty = (lengths > 0).sum()
        return per_sequence.sum() / non_empty.clamp_min(1)
    if mode == "token_mean":
        return masked.sum() / keep.sum().clamp_min(1)
    if mode == "constant":
        if constant is None or constant < 1:
            raise ValueError(
                f"aggregation 'constant' needs constant >= 1 (the maximum completion length), got {constant}"
            )
        return masked.sum() / (values.shape[0] * constant)
    raise ValueError(f"unknown aggregation {mode!r}; expected 'sequence_mean', 'token_mean' or 'constant'")


@dataclass(frozen=True)
class LossOutput:
    """The GRPO loss of one micro-batch, and what to log about it.

    Every field is a 0-d tensor. Only ``loss`` carries gradients; the others
    are detached metrics (TRL logs ``kl`` and ``clip_ratio`` under these names).

    Attributes:
        loss: the objective to minimise: policy loss + ``beta`` * KL -
            ``entropy_coef`` * entropy, aggregated with the chosen mode.
        policy_loss: the clipped-surrogate part alone, same aggregation.
        kl: mean k3 KL to the reference over masked tokens (token mean, nats);
            0 when no ``ref_logp`` was given. Computed whenever ``ref_logp`` is
            given, even with ``beta = 0``.
        clip_ratio: fraction of masked tokens whose gradient was clipped, in [0, 1].
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
) -> LossOutput:
    """GRPO's loss: clipped surrogate, plus a KL penalty, minus an entropy bonus.

    Per token: ``clipped_surrogate(...) + beta * k3_kl(logp, ref_logp) -
    entropy_coef * entropy``, then reduced over the masked tokens by
    ``aggregate(..., aggregation, max_completion_length)``. DeepSeekMath's GRPO
    is the defaults with ``beta = 0.04`` and a reference; DAPO is
    ``aggregation="token_mean"``, ``eps_high=0.28``, ``beta=0``; Dr. GRPO is
    ``aggregation="constant"`` with ``max_completion_length`` (and advantages
    from ``group_advantages(..., scale="none")``).

    With one update per batch (``old_logp = logp.detach()``) the ratio is 1
    and the per-token loss value is ``-A`` (plus the KL and entropy terms).

    Args:
        logp: ``[B, T]`` per-token log-probabilities under the policy, with grad.
        old_logp: ``[B, T]`` under the sampling policy; detached.
        advantages: ``[B]`` per-completion advantages (or ``[B, T]``); detached.
        mask: ``[B, T]`` bool or 0/1; true on completion tokens that count.
        ref_logp: ``[B, T]`` under the frozen reference policy, or None; detached.
        beta: KL coefficient, ``>= 0``; a positive ``beta`` needs ``ref_logp``.
        eps_low: lower clip range (``ratio >= 1 - eps_low``).
        eps_high: upper clip range (``ratio <= 1 + eps_high``), DAPO's clip-higher.
        aggregation: ``"sequence_mean"`` (GRPO), ``"token_mean"`` (DAPO) or
            ``"constant"`` (Dr. GRPO).
        max_completion_length: the constant for ``aggregation="constant"``.
        entropy: ``[B, T]`` per-token entropy of the policy (nats), or None.
            Kept attached, so a positive ``entropy_coef`` rewards higher entropy.
        entropy_coef: entropy bonus coefficient; nonzero needs ``entropy``.

    Returns:
        ``LossOutput``; call ``.loss.backward()``.

    Raises:
        ValueError: on mismatched shapes, ``beta < 0``, ``beta > 0`` without
            ``ref_logp``, nonzero ``entropy_coef`` without ``entropy``, or any
            error of ``clipped_surrogate`` and ``aggregate``.
    """
    for name, tensor in (("old_logp", old_logp), ("mask", mask), ("ref_logp", ref_logp), ("entropy", entropy)):
        if tensor is not None and tensor.shape != logp.shape:
            raise ValueError(f"{name} {tuple(tensor.shape)} must have logp's shape {tuple(logp.shape)}")
    if beta < 0:
        raise ValueError(f"beta must be >= 0, got {beta}")
    if beta > 0 and ref_logp is None:
        raise ValueError("beta > 0 needs ref_logp (the reference policy's log-probabilities)")
    if entropy_coef != 0 and entropy is None:
        raise ValueError("a nonzero entropy_coef needs entropy")

    def reduce(values: Tensor) -> Tensor:
        return aggregate(values, mask, aggregation, max_completion_length)

    def token_mean(values: Tensor) -> Tensor:
        return aggregate(values.detach(), mask, "token_mean")

    policy_per_token, clipped = clipped_surrogate(logp, old_logp, advantages, eps_low, eps_high)
    per_token = policy_per_token
    zero = logp.new_zeros(())

    kl = zero
    if ref_logp is not None:
        kl_per_token = k3_kl(logp, ref_logp.detach())
        kl = token_mean(kl_per_token)
        if beta > 0:
            per_token = per_token + beta * kl_per_token

    entropy_mean = zero
    if entropy is not None:
        entropy_mean = token_mean(entropy)
        if entropy_coef != 0:
            per_token = per_token - entropy_coef * entropy

    ratio = torch.exp((logp - old_logp).detach().clamp(-LOG_RATIO_CLAMP, LOG_RATIO_CLAMP))
    return LossOutput(
        loss=reduce(per_token),
        policy_loss=reduce(policy_per_token).detach(),
        kl=kl,
        clip_ratio=token_mean(clipped.to(logp.dtype)),
        ratio_mean=token_mean(ratio),
        entropy=entropy_mean,
    )
