"""The adaptive KL coefficient of Ziegler et al. (2019), as pure functions.

"Fine-Tuning Language Models from Human Preferences" (Ziegler et al. 2019,
section 2.2) steers the KL penalty's coefficient ``beta`` so that the
policy's KL to the reference stays near a target, rather than fixing
``beta`` by hand. After each batch of ``n`` sequences with measured KL ``kl``
(nats per sequence):

    e = clip(kl / target - 1, -0.2, 0.2)
    beta <- beta * (1 + e * n / horizon)

A KL above the target raises ``beta`` (a stronger pull back to the
reference), below it lowers ``beta``; the proportional error is clipped, so a
batch moves ``beta`` by at most ``0.2 * n / horizon`` of itself. ``horizon``
(in sequences) sets how fast: with ``e`` held at its clip, ``beta`` changes
by a factor of about ``exp(0.2)`` every ``horizon`` sequences. This is TRL's
former ``AdaptiveKLController`` (``trl.trainer.utils``, up to TRL 0.11).

- (each sequence's summed KL, the controller's measure, is ``rlvr.trainers.losses.kl.sequence_kl``.)
- ``adaptive_kl_coef``: one update of the coefficient.

Nothing here keeps state: the trainer holds the current coefficient (and
checkpoints it).
"""

from __future__ import annotations

import math

__all__ = ["KL_ERROR_CLIP", "adaptive_kl_coef"]

KL_ERROR_CLIP = 0.2
"""The proportional error ``kl / target - 1`` is clipped to ``[-0.2, 0.2]`` (Ziegler et al. 2019)."""


def adaptive_kl_coef(kl_coef: float, kl: float, target: float, n: int, horizon: int) -> float:
    """The KL coefficient after one batch: ``kl_coef * (1 + clip(kl / target - 1, -0.2, 0.2) * n / horizon)``.

    Args:
        kl_coef: the coefficient the batch was trained with, ``>= 0``, reward
            units per nat. A coefficient of 0 stays 0 (the update is multiplicative).
        kl: the batch's measured KL to the reference: the mean over its
            sequences of each one's summed per-token KL (``kl.sequence_kl``), in
            nats per sequence. It may be negative (the k1 estimator can be);
            the clip then lowers the coefficient by the full 20% share.
        target: the KL aimed at, nats per sequence, ``> 0``.
        n: sequences in the batch, ``>= 0``; with ``n = 0`` nothing was
            measured and ``kl_coef`` comes back unchanged (``kl`` unread).
        horizon: sequences over which the coefficient adapts, ``>= 1``; each
            batch moves it by at most ``0.2 * n / horizon`` of itself. ``n``
            must be below ``5 * horizon``, so that the coefficient stays
            positive.

    Returns:
        The next coefficient, reward units per nat: ``> 0`` when
        ``kl_coef > 0``, and within a relative ``0.2 * n / horizon`` of ``kl_coef``.

    Raises:
        ValueError: on ``kl_coef < 0``, ``target <= 0``, ``n < 0``,
            ``horizon < 1``, ``n >= 5 * horizon``, or a non-finite ``kl`` when ``n > 0``.
    """
    if kl_coef < 0:
        raise ValueError(f"kl_coef must be >= 0, got {kl_coef}")
    if not target > 0:
        raise ValueError(f"target must be > 0 nats, got {target}")
    if n < 0:
        raise ValueError(f"n must be >= 0 sequences, got {n}")
    if horizon < 1:
        raise ValueError(f"horizon must be >= 1 sequence, got {horizon}")
    if KL_ERROR_CLIP * n >= horizon:
        raise ValueError(
            f"n={n} sequences per batch must be below 5 * horizon = {5 * horizon}: "
            "a batch could otherwise take the coefficient to zero or below"
        )
    if n == 0:
        return kl_coef
    if not math.isfinite(kl):
        raise ValueError(f"kl must be finite, got {kl}")
    error = min(max(kl / target - 1.0, -KL_ERROR_CLIP), KL_ERROR_CLIP)
    return kl_coef * (1.0 + error * n / horizon)
