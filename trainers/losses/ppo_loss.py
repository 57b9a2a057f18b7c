"""Classic RLHF PPO's math, as small pure tensor-in, tensor-out functions.

The baseline GRPO is measured against: PPO with a learned critic (Schulman et
al. 2017), as set up for language models by Ziegler et al. 2019 and
InstructGPT (Ouyang et al. 2022), and as TRL's ``PPOTrainer`` and verl's
``gae`` estimator implement it. The critic is initialised from the policy;
each generated token is a step of the episode; the reward is per token.

The pieces, in the order a training step uses them:

- ``token_rewards``: the sequence reward ``[B]`` and the per-token KL penalty
  to the reference (estimator k1, k2 or k3) become per-token rewards ``[B, T]``.
  Its coefficient may adapt from batch to batch
  (``rlvr.trainers.losses.kl_controller``).
- ``gae``: generalised advantage estimation (Schulman et al. 2016) over each
  row's masked tokens; gives advantages and the critic's targets (returns).
- ``whiten``: masked whitening of the advantages (mean 0, std 1).
- ``clipped_value_loss``: the critic's clipped squared error, and its clip fraction.
- ``ppo_policy_loss``: GRPO's ``clipped_surrogate`` with per-token advantages,
  reduced as a token mean; returns a ``PPOPolicyOutput``.

Conventions are those of ``rlvr.trainers.losses.grpo_loss``: ``B`` completions of padded
length ``T``; ``mask`` is ``[B, T]`` bool or 0/1, true on generated tokens
that count and false on prompt, padding and, in multi-turn episodes, the
environment's tokens between generated segments. Log-probabilities are in
nats per token; rewards, values, advantages and returns are in reward units.
Every ``[B, T]`` result here is exactly zero outside the mask, whatever the
inputs hold there (even NaN). ``token_rewards``, ``gae`` and ``whiten`` make
training targets: they run without gradients and return plain data.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from rlvr.trainers.losses.grpo_loss import LOG_RATIO_CLAMP, aggregate, clipped_surrogate, k3_kl
from rlvr.trainers.losses.kl import KLEstimator, kl_estimate

__all__ = [
    "PPOPolicyOutput",
    "clipped_value_loss",
    "gae",
    "ppo_policy_loss",
    "token_rewards",
    "whiten",
]


def _check_2d(mask: Tensor, **tensors: Tensor) -> None:
    """Raise unless ``mask`` is ``[B, T]`` and every named tensor has its shape."""
    if mask.dim() != 2:
        raise ValueError(f"mask must be [B, T], got shape {tuple(mask.shape)}")
    for name, tensor in tensors.items():
        if tensor.shape != mask.shape:
            raise ValueError(f"{name} {tuple(tensor.shape)} must have mask's shape {tuple(mask.shape)}")


def _zero_outside(values: Tensor, keep: Tensor) -> Tensor:
    """``values`` where ``keep`` is true, exactly 0 elsewhere (NaN there does not leak)."""
    return torch.where(keep, values, torch.zeros_like(values))


@torch.no_grad()
def token_rewards(
    reward: Tensor,
    logp: Tensor,
    ref_logp: Tensor,
    mask: Tensor,
    kl_coef: float,
    estimator: KLEstimator = "k1",
) -> Tensor:
    """Per-token rewards: a KL penalty on every generated token, the sequence reward on the last.

    ``r_t = -kl_coef * kl_t`` on every masked token, plus ``reward`` on each
    row's last masked token (Ziegler et al. 2019; InstructGPT; TRL's
    ``PPOTrainer``), where ``kl_t`` is Schulman's (2020) estimator
    ``estimator`` of KL(policy || reference) at token ``t``
    (``rlvr.trainers.losses.kl.kl_estimate``):

    - ``"k1"`` (the default, the classic set-up): ``log pi(y_t) - log pi_ref(y_t)``.
      Summed over a sequence sampled from the policy it is an unbiased
      estimate of the KL, but a single token's value can be negative (a bonus).
    - ``"k2"``: ``(log pi_ref(y_t) - log pi(y_t))**2 / 2``; biased, low
      variance, never negative.
    - ``"k3"``: ``exp(x) - x - 1`` with ``x = log pi_ref(y_t) - log pi(y_t)``;
      unbiased and never negative (GRPO's loss uses it, see
      ``rlvr.trainers.losses.grpo_loss.k3_kl``).

    In a multi-turn episode the mask has holes; the reward goes on the last
    generated token of the whole episode, after the final environment turn.
    A row with no masked token gets all zeros: its reward has nowhere to go.

    Args:
        reward: ``[B]`` the verifier's reward for each completion (reward
            units). Integer or bool rewards are converted to ``logp``'s dtype.
        logp: ``[B, T]`` log-probabilities of the sampled tokens under the
            policy that sampled them (nats).
        ref_logp: ``[B, T]`` the same under the frozen reference policy (nats).
        mask: ``[B, T]`` bool or 0/1, true on generated tokens.
        kl_coef: KL penalty coefficient (InstructGPT's beta), ``>= 0``; in
            reward units per nat.
        estimator: ``"k1"``, ``"k2"`` or ``"k3"``, the per-token KL estimator.

    Returns:
        ``[B, T]`` per-token rewards in ``logp``'s dtype, zero outside the
        mask, detached.

    Raises:
        ValueError: on mismatched shapes, ``kl_coef < 0`` or an unknown estimator.
    """
    _check_2d(mask, logp=logp, ref_logp=ref_logp)
    if reward.shape != (mask.shape[0],):
        raise ValueError(f"reward {tuple(reward.shape)} must be [B] = ({mask.shape[0]},)")
    if kl_coef < 0:
        raise ValueError(f"kl_coef must be >= 0, got {kl_coef}")
    keep = mask.bool()
    rewards = _zero_outside(-kl_coef * kl_estimate(logp, ref_logp, estimator), keep)
    length = keep.shape[1]
    # Index of each row's last true entry: the first true entry of the reversed row.
    last = length - 1 - keep.flip(dims=[1]).to(torch.uint8).argmax(dim=1)
    has_tokens = keep.any(dim=1)
    final = torch.where(has_tokens, reward.to(rewards.dtype), torch.zeros_like(reward, dtype=rewards.dtype))
    return rewards.scatter_add(1, last.unsqueeze(1), final.unsqueeze(1))


@torch.no_grad()
def gae(rewards: Tensor, values: Tensor, mask: Tensor, gamma: float, lam: float) -> tuple[Tensor, Tensor]:
    """Generalised advantage estimation over each row's masked tokens.

    Backwards over the masked tokens ``t`` of a row, with ``t'`` the next
    masked token after ``t``:

    - ``delta_t = r_t + gamma * V_t' - V_t``
    - ``A_t = delta_t + gamma * lam * A_t'``
    - ``R_t = A_t + V_t`` (the critic's target)

    After a row's last masked token the episode ends: ``V = 0`` and ``A = 0``
    there, so the last token's ``delta`` is ``r - V`` (no bootstrap).

    Holes. Masked-out positions are skipped, not treated as steps: the
    recursion jumps from a generated token straight to the next generated
    token, whose value is the bootstrap, and ``gamma`` and ``lam`` discount
    once per generated token, not per environment token. Rewards and values at
    masked-out positions are never read. A row with holes therefore gets
    exactly the advantages of the same row with the holes cut out. (This is
    how verl's multi-turn GAE treats an observation between two turns.)

    Special cases: ``gamma = lam = 1`` gives ``R_t`` = the reward-to-go (the
    sum of the row's rewards from ``t`` on) and ``A_t = R_t - V_t`` (Monte
    Carlo); ``lam = 0`` gives the one-step TD error ``A_t = delta_t``;
    ``gamma = 0`` gives ``A_t = r_t - V_t``.

    Args:
        rewards: ``[B, T]`` per-token rewards (``token_rewards``), reward units.
        values: ``[B, T]`` the critic's value of each token's state, reward units.
        mask: ``[B, T]`` bool or 0/1, true on generated tokens; may have holes.
        gamma: discount per generated token, in ``[0, 1]``.
        lam: GAE's lambda, in ``[0, 1]``: 0 is one-step TD (low variance,
            biased by the critic), 1 is Monte Carlo (unbiased, high variance).

    Returns:
        ``(advantages, returns)``, each ``[B, T]`` in reward units, in the
        promoted dtype of ``rewards`` and ``values``, zero outside the mask,
        detached. Whiten the advantages (``whiten``) before the policy loss;
        regress the critic on the returns (``clipped_value_loss``).

    Raises:
        ValueError: on mismatched shapes, or ``gamma`` or ``lam`` outside ``[0, 1]``.
    """
    _check_2d(mask, rewards=rewards, values=values)
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma must be in [0, 1], got {gamma}")
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"lam must be in [0, 1], got {lam}")
    keep = mask.bool()
    dtype = torch.promote_types(rewards.dtype, values.dtype)
    rewards = _zero_outside(rewards.to(dtype), keep)
    values = _zero_outside(values.to(dtype), keep)
    advantages = torch.zeros_like(values)
    next_value = values.new_zeros(values.shape[0])  # V of the next masked token; 0 after the last
    next_advantage = values.new_zeros(values.shape[0])
    for t in reversed(range(values.shape[1])):
        delta = rewards[:, t] + gamma * next_value - values[:, t]
        advantage = delta + gamma * lam * next_advantage
        here = keep[:, t]
        # A masked-out position leaves the carried bootstrap untouched and gets 0.
        advantages[:, t] = torch.where(here, advantage, advantages[:, t])
        next_value = torch.where(here, values[:, t], next_value)
        next_advantage = torch.where(here, advantage, next_advantage)
    returns = _zero_outside(advantages + values, keep)
    return advantages, returns


@torch.no_grad()
def whiten(x: Tensor, mask: Tensor, shift_mean: bool = True, eps: float = 1e-8) -> Tensor:
    """Masked whitening: ``(x - mean) / sqrt(var + eps)`` over the masked entries.

    The mean and the variance are taken over every masked entry of the whole
    batch (one mean, one variance), and the variance is the unbiased one
    (Bessel's correction), as in TRL's ``masked_whiten`` and verl's
    ``masked_whiten``; so the result's masked mean is 0 and its unbiased masked
    std is 1 (up to ``eps``). With fewer than two masked entries the variance
    is taken as 0, and a single entry whitens to 0 rather than blowing up.

    PPO whitens the advantages once per batch, before the minibatch updates
    (the "advantage normalization" detail of CleanRL's PPO).

    Args:
        x: ``[B, T]`` values to whiten (advantages, usually).
        mask: ``[B, T]`` bool or 0/1, true on the entries that count.
        shift_mean: if false, the mean is added back: only the scale changes
            (TRL's ``shift_mean=False``, used for rewards).
        eps: added to the variance before the square root, so a zero spread
            stays finite.

    Returns:
        ``[B, T]`` in ``x``'s dtype, in stds of ``x``, zero outside the mask,
        detached. An empty mask gives all zeros.

    Raises:
        ValueError: on mismatched shapes or ``eps < 0``.
    """
    _check_2d(mask, x=x)
    if eps < 0:
        raise ValueError(f"eps must be >= 0, got {eps}")
    keep = mask.bool()
    x = _zero_outside(x, keep)
    count = keep.sum()
    mean = x.sum() / count.clamp_min(1)
    centered = _zero_outside(x - mean, keep)
    var = (centered**2).sum() / (count - 1).clamp_min(1)
    whitened = centered * torch.rsqrt(var + eps)
    if not shift_mean:
        whitened = whitened + mean
    return _zero_outside(whitened, keep)


def clipped_value_loss(
    values: Tensor,
    old_values: Tensor,
    returns: Tensor,
    mask: Tensor,
    clip_range: float,
) -> tuple[Tensor, Tensor]:
    """The critic's clipped squared error, as a token mean, and how often clipping won.

    Per token ``0.5 * max((v - R)^2, (clip(v, v_old - c, v_old + c) - R)^2)``
    (PPO2's value clipping, as in TRL, verl and CleanRL's ``clip_vloss``): the
    critic may not move more than ``c`` from the values it had when the batch
    was collected, unless moving further also brings it closer to ``R``. The
    per-token losses are averaged over all masked tokens of the batch.

    Args:
        values: ``[B, T]`` the critic's current values (with grad), reward units.
        old_values: ``[B, T]`` its values when the batch was collected; detached.
        returns: ``[B, T]`` the targets from ``gae``; detached.
        mask: ``[B, T]`` bool or 0/1, true on the tokens that count.
        clip_range: ``c >= 0``, in reward units (TRL's ``cliprange_value``).

    Returns:
        ``(loss, clip_fraction)``, both 0-d: ``loss`` in squared reward units,
        with grad into ``values``; ``clip_fraction`` in ``[0, 1]``, detached,
        the fraction of masked tokens where the clipped error is strictly the
        larger (there the token's gradient is zero). An empty mask gives 0 and 0.

    Raises:
        ValueError: on mismatched shapes or ``clip_range < 0``.
    """
    _check_2d(mask, values=values, old_values=old_values, returns=returns)
    if clip_range < 0:
        raise ValueError(f"clip_range must be >= 0, got {clip_range}")
    old_values, returns = old_values.detach(), returns.detach()
    clipped_values = torch.clamp(values, old_values - clip_range, old_values + clip_range)
    unclipped_error = (values - returns) ** 2
    clipped_error = (clipped_values - returns) ** 2
    per_token = 0.5 * torch.maximum(unclipped_error, clipped_error)
    loss = aggregate(per_token, mask, "token_mean")
    clip_fraction = aggregate((clipped_error > unclipped_error).to(per_token.dtype).detach(), mask, "token_mean")
    return loss, clip_fraction


@dataclass(frozen=True)
class PPOPolicyOutput:
    """PPO's policy loss on one micro-batch, and what to log about it.

    Every field is a 0-d tensor. Only ``loss`` carries gradients.

    Attributes:
        loss: the clipped surrogate, token mean over the masked tokens.
        clip_ratio: fraction of masked tokens whose gradient was clipped, in [0, 1]
            (TRL's ``clip_ratio/region_mean``).
        clip_low: the part clipped at the low end (``A < 0`` and ratio < 1 - clip_low).
        clip_high: the part clipped at the high end (``A > 0`` and ratio > 1 + clip_high).
        approx_kl: mean over masked tokens of ``(r - 1) - log r``, with
            ``r = exp(logp - old_logp)``: the k3 estimate of KL(old || new)
            from tokens the old policy sampled (CleanRL's ``approx_kl``), in
            nats; >= 0, and 0 on the first update of a batch. A common early
            stopping signal.
        ratio_mean: mean of ``r`` over masked tokens (1 on the first update).
    """

    loss: Tensor
    clip_ratio: Tensor
    approx_kl: Tensor
    ratio_mean: Tensor
    clip_low: Tensor
    clip_high: Tensor


def ppo_policy_loss(
    logp: Tensor,
    old_logp: Tensor,
    advantages: Tensor,
    mask: Tensor,
    clip_low: float = 0.2,
    clip_high: float = 0.2,
) -> PPOPolicyOutput:
    """PPO's clipped policy loss with per-token advantages, as a token mean.

    The per-token loss is ``rlvr.trainers.losses.grpo_loss.clipped_surrogate`` (so the
    ratio's clamp, the detaching of ``old_logp`` and ``advantages`` and the
    clip-higher option are GRPO's), reduced with
    ``aggregate(..., "token_mean")``: every masked token weighs the same.

    Args:
        logp: ``[B, T]`` log-probabilities under the policy being trained, with grad.
        old_logp: ``[B, T]`` under the policy that sampled the batch; detached.
        advantages: ``[B, T]`` per-token advantages (``whiten(gae(...)[0])``); detached.
        mask: ``[B, T]`` bool or 0/1, true on the tokens that count.
        clip_low: lower clip range, ``ratio >= 1 - clip_low``, in ``[0, 1]``.
        clip_high: upper clip range, ``ratio <= 1 + clip_high``, ``>= 0``.

    Returns:
        ``PPOPolicyOutput``; call ``.loss.backward()``.

    Raises:
        ValueError: on mismatched shapes or clip ranges out of bounds.
    """
    _check_2d(mask, logp=logp, old_logp=old_logp, advantages=advantages)
    per_token, clipped = clipped_surrogate(logp, old_logp, advantages, clip_low, clip_high)
    loss = aggregate(per_token, mask, "token_mean")
    detached = logp.detach()
    old = old_logp.detach()
    clip_ratio = aggregate(clipped.to(per_token.dtype), mask, "token_mean")
    approx_kl = aggregate(k3_kl(old, detached), mask, "token_mean")
    ratio = torch.exp((detached - old).clamp(-LOG_RATIO_CLAMP, LOG_RATIO_CLAMP))
    ratio_mean = aggregate(ratio, mask, "token_mean")
    low = (advantages.detach() < 0) & (ratio < 1.0 - clip_low)
    high = (advantages.detach() > 0) & (ratio > 1.0 + clip_high)
    return PPOPolicyOutput(
        loss=loss,
        clip_ratio=clip_ratio,
        approx_kl=approx_kl,
        ratio_mean=ratio_mean,
        clip_low=aggregate(low.to(per_token.dtype), mask, "token_mean"),
        clip_high=aggregate(high.to(per_token.dtype), mask, "token_mean"),
    )
