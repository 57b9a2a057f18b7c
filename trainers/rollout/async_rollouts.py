"""Asynchronous rollouts: sample the next batch while the current one trains.

Synchronous on-policy training alternates two phases that leave each other
idle: sampling (many small forwards, env steps, Python) and the update (big
forwards and backwards). ``BackgroundRollouts`` overlaps them, as the
asynchronous RLVR trainers do (Noukhovitch et al. 2024, "Asynchronous RLHF";
PipelineRL; prime-rl's one-step off-policy default):

- it keeps its own copy of the policy, the *behaviour policy*, and samples
  with it on a background thread;
- while the trainer updates the policy on batch ``s``, the background thread
  samples batch ``s + 1`` with the weights the policy had *before* that
  update, so every batch is one step off-policy (batch 0 is on-policy);
- with each batch it returns the behaviour policy's log-probabilities of the
  sampled tokens, so the loss takes its importance ratio
  ``pi_theta / pi_behaviour`` against the policy that really sampled, and
  PPO's clipping bounds how far the stale batch can pull.

Timeline (``theta_s``: the policy's weights after ``s`` updates)::

    main thread:        wait b0 | sync theta_0 | train b0 -> theta_1 | wait b1 | sync theta_1 | train b1 -> ...
    background thread:  sample b0 (theta_0) | sample b1 (theta_0) ......... | sample b2 (theta_1) ...

The behaviour weights are part of the checkpoint (they are the weights that
sample the next batch), so a resumed run samples what the original would
have. Sampling draws from its own seeded generator, never torch's global one,
so the two threads do not disturb each other's random streams.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import torch

from rlvr.trainers.models.logprobs import TokenBatch
from rlvr.trainers.rollout.episodes import Episode

__all__ = ["BackgroundRollouts", "Rollout"]


@dataclass(frozen=True)
class Rollout:
    """One step's sampled episodes, their tokens, and how likely the sampling policy found them.

    Attributes:
        episodes: the step's episodes, prompt by prompt.
        batch: the episodes' tokens, right-padded (``pad_batch``), on the trainer's device.
        behaviour_logp: ``[B, L - 1]`` log-probs (nats) of ``batch``'s tokens under the
            policy that sampled them, as the trainer computes them; None when the trainer's
            own policy sampled them (synchronous training).
        sampler_logp: ``[B, L - 1]`` log-probs (nats) the rollout engine itself reported for
            the tokens it sampled (0 elsewhere); None unless asked for.
        stats: metrics of the sampling itself (dynamic sampling's rounds, the rewards of
            every group sampled), logged with the step's metrics.
    """

    episodes: list[Episode]
    batch: TokenBatch
    behaviour_logp: torch.Tensor | None = None
    sampler_logp: torch.Tensor | None = None
    stats: dict[str, float] = field(default_factory=dict)


class BackgroundRollouts:
    """A behaviour copy of the policy that samples one batch ahead on a background thread.

    Args:
        policy: the model being trained; copied once (weights and all) as the behaviour policy.
        sample: ``(model, step) -> Rollout``: samples step ``step``'s batch with ``model`` and
            scores its log-probs under it. Runs on the background thread; it must not touch
            the trained policy or anything the training step uses.
    """

    def __init__(self, policy: torch.nn.Module, sample: Callable[[Any, int], Rollout]) -> None:
        self.behaviour = copy.deepcopy(policy)
        self.behaviour.eval()
        self.behaviour.requires_grad_(False)
        self._sample = sample
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rollouts")
        self._pending: Future[Rollout] | None = None
        self._pending_step: int | None = None

    def take(self, step: int, policy: torch.nn.Module, next_step: int | None) -> Rollout:
        """Batch ``step`` (sampled now if it is not under way), then start sampling ``next_step``.

        Before the next batch starts, the behaviour policy takes ``policy``'s current
        weights: batch ``next_step`` is sampled by the policy as it is before the update
        on batch ``step``. ``next_step=None`` starts nothing (the last step).
        """
        if self._pending is None or self._pending_step != step:
            self._discard()
            self._start(step)
        assert self._pending is not None
        rollout = self._pending.result()
        self._pending = self._pending_step = None
        self.sync(policy)
        if next_step is not None:
            self._start(next_step)
        return rollout

    @torch.no_grad()
    def sync(self, policy: torch.nn.Module) -> None:
        """Copy ``policy``'s weights into the behaviour policy (only while no sampling runs)."""
        if self._pending is not None and not self._pending.done():
            raise RuntimeError("the behaviour policy is sampling; its weights cannot change now")
        for target, source in zip(self.behaviour.state_dict().values(), policy.state_dict().values(), strict=True):
            target.copy_(source)

    def close(self) -> None:
        """Wait for any sampling under way and stop the background thread."""
        self._discard()
        self._executor.shutdown(wait=True)

    def _start(self, step: int) -> None:
        self._pending = self._executor.submit(self._sample, self.behaviour, step)
        self._pending_step = step

    def _discard(self) -> None:
        if self._pending is not None:
            self._pending.exception()  # wait; a failure of a batch nobody takes is dropped with it
        self._pending = self._pending_step = None
