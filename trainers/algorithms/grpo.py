"""GRPO: Group Relative Policy Optimization on any registered environment.

The algorithm of DeepSeekMath (Shao et al., 2024), as used for DeepSeek-R1:

1. take ``prompts_per_step`` env seeds; reset ``group_size`` (G) env copies per
   seed, sample one completion per copy and step it to get its reward;
2. advantage of each completion = its reward relative to its group
   (``grpo_loss.group_advantages``); no value model;
3. ``num_iterations`` (mu) optimizer steps on the batch: PPO's clipped
   surrogate on the token ratio pi / pi_old, plus ``beta`` times a KL estimate
   to a frozen reference model (``grpo_loss.grpo_loss``).

Kept from the paper: group-relative advantages, the clipped ratio, the k3 KL,
per-sequence loss averaging. Options, each from its paper and named as in
TRL's ``GRPOConfig`` where TRL has it:

- ``loss_type``: ``grpo``, ``dapo``, ``bnpo``, ``dr_grpo``, ``cispo`` (the
  reduction, and CISPO's capped weights); ``scale_rewards`` (Dr. GRPO's
  ``none``); ``epsilon_high`` (DAPO's clip-higher);
- ``importance_sampling_level="sequence"``: GSPO's one ratio per completion;
- ``dynamic_sampling`` (DAPO): groups whose rewards are all equal are dropped
  and more prompts are sampled until the batch is full (at most
  ``max_sampling_rounds`` rounds; short batches train on the informative groups
  they have); ``filter_zero_std_groups`` only drops them;
- ``mask_truncated_completions`` and ``overlong_buffer`` (DAPO's overlong
  filtering and soft overlong punishment);
- ``importance_sampling_correction`` (truncated importance sampling, Yao et
  al. 2025): the rollout engine reports its own log-probs, and each token's
  loss is weighed by ``min(pi_trainer / pi_sampler, C)``; the mismatch is logged;
- ``kl_estimator`` (k1, k2, k3) and ``kl_penalty`` (in the loss, or in the reward).

Unjudged completions (reward None) are left out of their group's statistics
and of the loss. Gradient accumulation does not change the update: each
micro-batch's loss is its share of the whole batch's (``BatchTotals``), except
under ``bnpo``, which normalises per micro-batch by definition.

The trainer's log-probs are those of the full temperature-scaled
distribution, as TRL and verl take them, also when the sampler truncates it
(``top_p``, ``top_k``, ``min_p``); ``importance_sampling_correction`` weighs
the difference in.

The loop, evaluation, checkpoints and resume are ``rlvr.trainers.algorithms.rl_trainer``'s,
shared with PPO; this module is the GRPO step.
"""

from __future__ import annotations

from typing import cast

import numpy as np
import torch

from rlvr.envs.core.text_env import TextEnv
from rlvr.trainers.algorithms.config import GRPOConfig, TrainerConfigError
from rlvr.trainers.algorithms.rl_trainer import RLTrainer, TrainResult, episode_metrics, episode_rewards
from rlvr.trainers.losses.grpo_loss import (
    BatchTotals,
    aggregate,
    env_group_advantages,
    group_advantages,
    grpo_loss,
    nanstd,
    zero_std_groups,
)
from rlvr.trainers.losses.kl import kl_estimate
from rlvr.trainers.losses.shaping import kl_shaped_rewards, soft_overlong_penalty, truncated_importance_weights
from rlvr.trainers.models.logprobs import TokenBatch, token_logprobs
from rlvr.trainers.rollout.async_rollouts import Rollout
from rlvr.trainers.rollout.episodes import Episode

__all__ = ["GRPOResult", "GRPOTrainer", "train_grpo"]

GRPOResult = TrainResult
"""What a finished GRPO run reports (the shared ``TrainResult``)."""


class GRPOTrainer(RLTrainer):
    """Owns the policy, the optimizer and the envs; ``train()`` runs the loop, ``train_step`` one GRPO step."""

    name = "grpo"
    config: GRPOConfig

    def __init__(self, config: GRPOConfig) -> None:
        if config.dynamic_sampling and config.fsdp:
            raise TrainerConfigError("dynamic_sampling: not with fsdp, whose processes must generate in lockstep")
        super().__init__(config)
        self.make_scheduler(config.num_iterations)
        # A group's prompt is run once for its G rows, except where one forward per backward is the rule.
        one_forward = self.dist.enabled or config.fsdp or config.gradient_checkpointing
        self.shared_prompts = 1 if one_forward else config.group_size
        # Dr. GRPO's constant: the most tokens an episode can generate (every turn has the budget).
        turns = max(cast(TextEnv, pool[0].unwrapped).config.max_turns for pool in self.env_pools.values())
        self.max_episode_tokens = min(config.max_new_tokens * turns, config.max_episode_tokens or 1 << 62)

    @property
    def wants_sampler_logprobs(self) -> bool:
        return self.config.importance_sampling_correction

    def sample_step(self, step: int, engine: object) -> tuple[list[Episode], dict[str, float]]:
        """The step's episodes; under ``dynamic_sampling``, only groups whose rewards differ, from up to
        ``max_sampling_rounds`` rounds of prompts. Every round's prompts and sampling seed depend only on
        (seed, step, round), so a resumed run samples the same."""
        config = self.config
        episodes = self.collect(step, engine)
        if not config.dynamic_sampling:
            return episodes, {}
        size = config.group_size
        wanted = len(episodes) // size  # this process's prompts per step
        sampled = list(episodes)  # every group of every round, for the metrics
        kept = _informative_groups(episodes, size)
        rounds = 1
        while len(kept) < wanted and rounds < config.max_sampling_rounds:
            more = self.collect(step, engine, round_=rounds)
            sampled += more
            kept += _informative_groups(more, size)
            rounds += 1
        chosen = kept[:wanted]
        batch = [episode for group in chosen for episode in group]
        for index, episode in enumerate(batch):
            episode.group = index // size
        stats = {
            # what the policy did on every prompt it saw, not only on the kept ones
            **episode_metrics(sampled),
            **self.env_metrics(sampled),
            **_group_metrics(episode_rewards(sampled)[0], size),
            "dynamic_sampling/rounds": float(rounds),
            "dynamic_sampling/groups_sampled": float(len(sampled) // size),
            "dynamic_sampling/groups_kept": float(len(chosen)),
            "dynamic_sampling/batch_filled": float(len(chosen) == wanted),
        }
        if not batch:  # nothing informative at all: train on nothing, but keep the shapes of one round
            batch = episodes
        return batch, stats

    def train_step(self) -> dict[str, float]:
        """Sample one batch of groups and run ``num_iterations`` optimizer steps on it."""
        config = self.config
        rollout = self.next_rollout()
        episodes = rollout.episodes
        size = config.group_size

        rewards, judged = episode_rewards(episodes)
        if config.overlong_buffer:
            longest_turn = torch.tensor([max(e.turn_tokens, default=0) for e in episodes], dtype=torch.float32)
            penalty = soft_overlong_penalty(
                longest_turn, config.max_new_tokens, config.overlong_buffer, config.overlong_penalty
            )
            rewards = rewards + penalty  # NaN (unjudged) stays NaN

        batch = rollout.batch
        old_logp = self._old_logprobs(rollout, batch)
        ref_logp = self.reference_logprobs(batch)
        kl_in_reward = config.kl_penalty == "reward" and ref_logp is not None and config.beta > 0
        if kl_in_reward:
            assert ref_logp is not None
            policy_logp = old_logp if old_logp is not None else self.logprobs_no_grad(self.policy, batch)
            old_logp = policy_logp
            rewards = kl_shaped_rewards(
                rewards, policy_logp.cpu(), ref_logp.cpu(), batch.loss_mask.cpu(), config.beta, config.kl_estimator
            )

        if config.scale_rewards_by_env and len(self.env_refs) > 1:
            advantages = env_group_advantages(rewards, size, [e.env for e in episodes], config.scale_rewards)
        else:
            advantages = group_advantages(rewards, size, config.scale_rewards)
        advantages = self.env_weighted(episodes, advantages)
        flat = zero_std_groups(rewards, size)
        keep = judged.clone()
        if config.filter_zero_std_groups or config.dynamic_sampling:
            keep &= ~flat.repeat_interleave(size)
        if config.mask_truncated_completions:
            keep &= torch.tensor([e.stopped for e in episodes])
        batch = batch.keep_rows(keep.to(self.device))
        advantages = advantages.to(self.device)

        passes = [
            self._optimizer_step(batch, advantages, old_logp, ref_logp, rollout.sampler_logp, kl_in_reward)
            for _ in range(config.num_iterations)
        ]
        self.engine.update_weights(self.policy)
        metrics = {
            **episode_metrics(episodes),
            **self.env_metrics(episodes),
            **_group_metrics(rewards, size),
            **rollout.stats,
            **{name: float(np.mean([p[name] for p in passes])) for name in passes[0]},  # the mean over the mu passes
        }
        return self.dist.mean(metrics)

    def _old_logprobs(self, rollout: Rollout, batch: TokenBatch) -> torch.Tensor | None:
        """The log-probs the ratio is taken against: the sampling policy's, computed by the trainer.

        None where they equal the policy's own before its first update (synchronous sampling, one pass):
        the loss then uses ``logp.detach()`` and no extra forward is needed.
        """
        if rollout.behaviour_logp is not None:  # sampled in the background by the policy one update ago
            return rollout.behaviour_logp
        if self.config.num_iterations > 1:
            return self.logprobs_no_grad(self.policy, batch)
        return None

    def _optimizer_step(
        self,
        batch: TokenBatch,
        advantages: torch.Tensor,
        old_logp: torch.Tensor | None,
        ref_logp: torch.Tensor | None,
        sampler_logp: torch.Tensor | None,
        kl_in_reward: bool,
    ) -> dict[str, float]:
        """One optimizer step on ``batch``, in ``gradient_accumulation_steps`` micro-batches of rows.

        Each micro-batch's loss is its share of the batch's loss (``BatchTotals``), so the update is the
        same however the batch is split. A batch with no token in the loss takes no step at all.
        """
        config = self.config
        split = np.array_split(np.arange(len(batch)), config.gradient_accumulation_steps)
        parts = [rows for rows in split if len(rows)]
        totals = BatchTotals.of(batch.loss_mask, micro_batches=len(parts))
        names = ["loss", "policy_loss", "kl", "entropy", "ratio_mean"]
        names += ["clip_ratio/low_mean", "clip_ratio/high_mean", "clip_ratio/region_mean"]
        sums = dict.fromkeys(names, 0.0)
        if config.importance_sampling_correction:
            sums.update(dict.fromkeys(_MISMATCH_METRICS, 0.0))
        if totals.tokens == 0:  # every row filtered or unjudged: nothing to learn, but the schedule moves on
            self.scheduler.step()
            return {**sums, "grad_norm": 0.0, "learning_rate": self.scheduler.get_last_lr()[0]}
        for rows_array in parts:
            rows = slice(int(rows_array[0]), int(rows_array[-1]) + 1)
            part = batch.select(rows)
            logp, entropy = token_logprobs(
                self.train_model, part, config.temperature, with_entropy=True, group_size=self.shared_prompts
            )
            assert entropy is not None
            width = logp.shape[1]
            old = old_logp[rows, :width] if old_logp is not None else logp.detach()
            ref = ref_logp[rows, :width] if ref_logp is not None else None
            weights = None
            if config.importance_sampling_correction:
                if sampler_logp is None:
                    raise RuntimeError("importance_sampling_correction: the rollout engine returned no log-probs")
                sampler = sampler_logp[rows, :width]
                weights = truncated_importance_weights(old, sampler, config.importance_sampling_cap)
                for name, value in _mismatch(old, sampler, weights, part.loss_mask, totals).items():
                    sums[name] = max(sums[name], value) if name.endswith("/max") else sums[name] + value
            out = grpo_loss(
                logp,
                old,
                advantages[rows],
                part.loss_mask,
                ref_logp=ref,
                beta=0.0 if kl_in_reward else config.beta,
                eps_low=config.epsilon,
                eps_high=config.clip_high,
                loss_type=config.loss_type,
                max_completion_length=self.max_episode_tokens,
                entropy=entropy,
                entropy_coef=config.entropy_coef,
                importance_level=config.importance_sampling_level,
                kl_estimator=config.kl_estimator,
                importance_weights=weights,
                totals=totals,
            )
            out.loss.backward()  # already this micro-batch's share of the batch's loss
            sums["loss"] += float(out.loss.detach())
            sums["policy_loss"] += float(out.policy_loss)
            sums["kl"] += float(out.kl)
            sums["entropy"] += float(out.entropy)
            sums["ratio_mean"] += float(out.ratio_mean)
            sums["clip_ratio/low_mean"] += float(out.clip_low)
            sums["clip_ratio/high_mean"] += float(out.clip_high)
            sums["clip_ratio/region_mean"] += float(out.clip_ratio)
        return {**sums, **self.clip_and_step(list(self.policy.parameters()))}


def train_grpo(config: GRPOConfig) -> GRPOResult:
    """Build a ``GRPOTrainer`` for ``config`` and run it (on every process, under torchrun)."""
    with GRPOTrainer(config) as trainer:
        return trainer.train()


# --- helpers --------------------------------------------------------------------

_MISMATCH_METRICS = (
    "sampling/sampling_logp_difference/mean",
    "sampling/sampling_logp_difference/max",
    "sampling/importance_sampling_ratio/mean",
    "sampling/importance_sampling_ratio/max",
    "sampling/kl",
)


def _mismatch(
    trainer_logp: torch.Tensor,
    sampler_logp: torch.Tensor,
    weights: torch.Tensor,
    mask: torch.Tensor,
    totals: BatchTotals,
) -> dict[str, float]:
    """How far the sampler's log-probs are from the trainer's on one micro-batch (shares of the batch's token means;
    ``/max`` entries are this micro-batch's maxima). ``sampling/kl`` is the k3 estimate of KL(sampler || trainer)
    from the sampled tokens, in nats per token."""
    keep = mask.bool()
    difference = (trainer_logp - sampler_logp).abs()
    kl = kl_estimate(sampler_logp, trainer_logp, "k3")
    return {
        "sampling/sampling_logp_difference/mean": float(aggregate(difference, mask, "token_mean", totals=totals)),
        "sampling/sampling_logp_difference/max": float(difference[keep].max()) if bool(keep.any()) else 0.0,
        "sampling/importance_sampling_ratio/mean": float(aggregate(weights, mask, "token_mean", totals=totals)),
        "sampling/importance_sampling_ratio/max": float(weights[keep].max()) if bool(keep.any()) else 0.0,
        "sampling/kl": float(aggregate(kl, mask, "token_mean", totals=totals)),
    }


def _informative_groups(episodes: list[Episode], size: int) -> list[list[Episode]]:
    """The groups of ``episodes`` (``size`` consecutive episodes each) whose judged rewards differ."""
    rewards, _ = episode_rewards(episodes)
    flat = zero_std_groups(rewards, size).tolist()
    return [episodes[g * size : (g + 1) * size] for g, is_flat in enumerate(flat) if not is_flat]


def _group_metrics(rewards: torch.Tensor, group_size: int) -> dict[str, float]:
    """``frac_reward_zero_std`` (TRL's: the share of groups whose judged rewards are all equal) and
    ``reward_group_std`` (the mean over groups of each group's reward std), from ``[N]`` rewards (NaN: unjudged)."""
    return {
        "frac_reward_zero_std": float(zero_std_groups(rewards, group_size).float().mean()),
        "reward_group_std": float(nanstd(rewards.view(-1, group_size), dim=1).mean()),
    }
