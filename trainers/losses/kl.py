"""Per-token estimators of KL(policy || reference) from tokens the policy sampled.

Schulman's "Approximating KL Divergence" (2020) gives three estimators of
``KL(p || q)`` from samples ``y ~ p``, written with ``x = log q(y) - log p(y)``
(here ``p`` is the policy, ``q`` the reference):

- ``k1 = -x = log p - log q``: unbiased, high variance, negative on some
  tokens. The classic RLHF per-token penalty (Ziegler et al. 2019;
  InstructGPT; TRL's PPOTrainer; verl's ``kl``).
- ``k2 = x**2 / 2``: biased (it estimates a different f-divergence that agrees
  to second order), low variance, always ``>= 0`` (verl's ``mse``).
- ``k3 = exp(x) - x - 1``: unbiased and always ``>= 0``, low variance
  (DeepSeekMath's GRPO; TRL's GRPOTrainer; verl's ``low_var_kl``).

``x`` is clamped to ``[-LOG_RATIO_CLAMP, LOG_RATIO_CLAMP]`` (20 nats) for k2
and k3 so the values stay finite however far the policies drift.
"""

from __future__ import annotations

from typing import Literal, get_args

import torch
from torch import Tensor

__all__ = ["KL_ESTIMATORS", "LOG_RATIO_CLAMP", "KLEstimator", "kl_estimate", "sequence_kl"]

KLEstimator = Literal["k1", "k2", "k3"]
KL_ESTIMATORS: tuple[str, ...] = get_args(KLEstimator)

LOG_RATIO_CLAMP = 20.0
"""Log-ratios are clamped to ``[-20, 20]`` nats before ``exp`` (as verl does); ``exp(20)`` is about 4.9e8."""


def kl_estimate(logp: Tensor, ref_logp: Tensor, estimator: KLEstimator = "k3") -> Tensor:
    """Per-token estimate of KL(policy || reference), in nats.

    Args:
        logp: log-probabilities of the sampled tokens under the policy, any shape.
        ref_logp: the same tokens under the reference, same shape.
        estimator: ``"k1"``, ``"k2"`` or ``"k3"`` (see the module docstring).

    Returns:
        Same shape as ``logp``; differentiable with respect to both inputs
        (detach ``ref_logp`` to train the policy only). k2 and k3 are ``>= 0``.

    Raises:
        ValueError: on mismatched shapes or an unknown estimator.
    """
    if logp.shape != ref_logp.shape:
        raise ValueError(f"logp {tuple(logp.shape)} and ref_logp {tuple(ref_logp.shape)} must have the same shape")
    if estimator == "k1":
        return logp - ref_logp
    log_ratio = (ref_logp - logp).clamp(-LOG_RATIO_CLAMP, LOG_RATIO_CLAMP)
    if estimator == "k2":
        return 0.5 * log_ratio.square()
    if estimator == "k3":
        # expm1(x) - x, unlike exp(x) - x - 1, does not dip below zero from rounding; clamp_min makes it certain.
        return (torch.expm1(log_ratio) - log_ratio).clamp_min(0.0)
    raise ValueError(f"unknown KL estimator {estimator!r}; expected one of {', '.join(KL_ESTIMATORS)}")


def sequence_kl(token_kl: Tensor, mask: Tensor) -> Tensor:
    """Each sequence's KL: its per-token KL summed over its masked tokens.

    Args:
        token_kl: ``[B, T]`` per-token KL estimates (``kl_estimate``), nats.
        mask: ``[B, T]`` bool or 0/1, true on generated tokens that count.
            Entries of ``token_kl`` outside the mask are ignored, even NaN.

    Returns:
        ``[B]`` nats per sequence, in ``token_kl``'s dtype; 0 for a row with
        no masked token. Its mean is the ``kl`` of
        ``kl_controller.adaptive_kl_coef``.

    Raises:
        ValueError: unless ``token_kl`` and ``mask`` are both ``[B, T]``.
    """
    if token_kl.dim() != 2 or token_kl.shape != mask.shape:
        raise ValueError(f"token_kl {tuple(token_kl.shape)} and mask {tuple(mask.shape)} must both be [B, T]")
    kept = torch.where(mask.bool(), token_kl, torch.zeros_like(token_kl))
    return kept.sum(dim=1)
