"""Reward shaping and importance weights applied around GRPO's loss, as pure tensor functions.

- ``soft_overlong_penalty``: DAPO's soft overlong punishment (Yu et al. 2025,
  section 3.4; TRL's ``get_soft_overlong_punishment``): a completion that runs
  into the last ``buffer`` tokens of its budget loses reward linearly, down to
  ``-penalty`` at the budget, so the policy learns to finish within it rather
  than being cut off.
- ``kl_shaped_rewards``: the KL to the reference taken out of each
  completion's reward instead of added to the loss (``kl_penalty="reward"``),
  summed over its generated tokens, as PPO-style RLHF does.
- ``truncated_importance_weights``: truncated importance sampling (Yao et al.
  2025, "Your Efficient RL Framework Secretly Brings You Off-Policy RL
  Training"; TRL's ``vllm_importance_sampling_correction``): the rollout
  engine's probabilities differ from the trainer's (other kernels and
  precision, truncated sampling, a stale behaviour policy), so each token's
  loss is weighed by ``min(pi_trainer / pi_sampler, cap)``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rlvr.trainers.losses.kl import LOG_RATIO_CLAMP, KLEstimator, kl_estimate, sequence_kl

__all__ = ["kl_shaped_rewards", "soft_overlong_penalty", "truncated_importance_weights"]


def soft_overlong_penalty(lengths: Tensor, max_length: int, buffer: int, penalty: float = 1.0) -> Tensor:
    """DAPO's soft overlong punishment of each completion, in reward units (``<= 0``).

    ``0`` for ``length <= max_length - buffer``; ``(max_length - buffer - length) / buffer * penalty``
    inside the buffer (so ``-penalty`` at ``max_length``); ``-penalty`` beyond it.

    Args:
        lengths: ``[N]`` completion lengths in tokens (any numeric dtype).
        max_length: the generation budget, tokens.
        buffer: the length of the punished stretch at the end of the budget, ``1 <= buffer <= max_length``.
        penalty: the largest punishment, ``>= 0``.

    Returns:
        ``[N]`` float penalties to add to the rewards.

    Raises:
        ValueError: on a buffer outside ``[1, max_length]`` or a negative penalty.
    """
    if not 1 <= buffer <= max_length:
        raise ValueError(f"buffer must be in [1, max_length={max_length}], got {buffer}")
    if penalty < 0:
        raise ValueError(f"penalty must be >= 0, got {penalty}")
    lengths = lengths.to(torch.get_default_dtype())
    start = max_length - buffer
    inside = (start - lengths) / buffer * penalty
    return torch.where(lengths <= start, torch.zeros_like(lengths), inside.clamp_min(-penalty))


def truncated_importance_weights(trainer_logp: Tensor, sampler_logp: Tensor, cap: float) -> Tensor:
    """Per-token ``min(exp(trainer_logp - sampler_logp), cap)``, detached.

    Args:
        trainer_logp: ``[B, T]`` log-probs of the sampled tokens under the policy as the trainer computes
            it before the update (the old policy), nats.
        sampler_logp: ``[B, T]`` the log-probs the rollout engine drew them with, nats.
        cap: ``C > 0``, the largest weight (TIS's truncation; 2 in the paper and TRL).

    Returns:
        ``[B, T]`` weights in ``(0, cap]``; 1 where the two agree. Values outside the loss mask are
        meaningless but finite.

    Raises:
        ValueError: on mismatched shapes or ``cap <= 0``.
    """
    if trainer_logp.shape != sampler_logp.shape:
        shapes = f"{tuple(trainer_logp.shape)} and {tuple(sampler_logp.shape)}"
        raise ValueError(f"trainer_logp and sampler_logp must have the same shape, got {shapes}")
    if cap <= 0:
        raise ValueError(f"cap must be > 0, got {cap}")
    log_ratio = (trainer_logp - sampler_logp).detach().clamp(-LOG_RATIO_CLAMP, LOG_RATIO_CLAMP)
    return torch.exp(log_ratio).clamp(max=cap)


@torch.no_grad()
def kl_shaped_rewards(
    rewards: Tensor, logp: Tensor, ref_logp: Tensor, mask: Tensor, beta: float, estimator: KLEstimator = "k1"
) -> Tensor:
    """``r_i - beta * sum_t KL_t`` over each completion's masked tokens, for the KL in the reward.

    Args:
        rewards: ``[B]`` rewards (NaN where unjudged stays NaN).
        logp: ``[B, T]`` the sampled tokens' log-probs under the policy that sampled them, nats.
        ref_logp: ``[B, T]`` the same under the reference, nats.
        mask: ``[B, T]`` bool or 0/1, true on generated tokens.
        beta: the KL coefficient, reward units per nat, ``>= 0``.
        estimator: the per-token KL estimator (``rlvr.trainers.losses.kl``).

    Returns:
        ``[B]`` shaped rewards, on ``rewards``' device and dtype, detached.

    Raises:
        ValueError: on mismatched shapes or ``beta < 0``.
    """
    if beta < 0:
        raise ValueError(f"beta must be >= 0, got {beta}")
    if mask.shape != logp.shape or rewards.shape != (logp.shape[0],):
        raise ValueError(f"rewards {tuple(rewards.shape)}, logp {tuple(logp.shape)}, mask {tuple(mask.shape)} disagree")
    return rewards - beta * sequence_kl(kl_estimate(logp, ref_logp, estimator), mask).to(rewards)
