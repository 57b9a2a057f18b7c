"""GRPO: Group Relative Policy Optimization on any registered environment.

The algorithm of DeepSeekMath (Shao et al., 2024), as used for DeepSeek-R1:

1. take ``prompts_per_step`` env seeds; reset ``group_size`` (G) env copies per
   seed, sample one completion per copy and step it to get its reward;
2. advantage of each completion = its reward relative to its group
   (``grpo_loss.group_advantages``); no value model;
3. ``num_iterations`` (mu) optimizer steps on the batch: PPO's clipped
   surrogate on the token ratio pi / pi_old, plus ``beta`` times the k3 KL
   to a frozen reference model (``grpo_loss.grpo_loss``).

Kept from the paper: group-relative advantages, the clipped ratio, the k3 KL,
per-sequence loss averaging (with DAPO's token mean and Dr. GRPO's constant as
options). Left to options: std scaling (off in Dr. GRPO), clip-higher (DAPO),
filtering groups with no reward spread. Not done: a value model (that is PPO).

The loop, evaluation, checkpoints and resume are ``rlvr.trainers.algorithms.rl_trainer``'s,
shared with PPO; this module is the GRPO step.
"""

from __future__ import annotations

import torch

from rlvr.trainers.algorithms.config import GRPOConfig
from rlvr.trainers.algorithms.rl_trainer import RLTrainer, TrainResult, episode_metrics, episode_rewards
from rlvr.trainers.losses.grpo_loss import group_advantages, grpo_loss, zero_std_groups
from rlvr.trainers.models.logprobs import TokenBatch, token_logprobs
from rlvr.trainers.rollout.episodes import Episode

__all__ = ["GRPOResult", "GRPOTrainer", "train_grpo"]

GRPOResult = TrainResult
"""What a finished GRPO run reports (the shared ``TrainResult``)."""


class GRPOTrainer(RLTrainer):
    """Owns the policy, the optimizer and the envs; ``train()`` runs the loop, ``train_step`` one GRPO step."""

    name = "grpo"
    config: GRPOConfig

    def __init__(self, config: GRPOConfig) -> None:
        super().__init__(config)
        self.make_scheduler(config.num_iterations)
        # A group's prompt is run once for its G rows, except where one forward per backward is the rule.
        one_forward = self.dist.enabled or config.fsdp or config.gradient_checkpointing
        self.shared_prompts = 1 if one_forward else config.group_size

    def train_step(self) -> dict[str, float]:
        """Sample one batch of groups and run ``num_iterations`` optimizer steps on it."""
        config = self.config
        rollout = self.next_rollout()
        episodes = rollout.episodes

        rewards, valid = _rewards(episodes, config.group_size)
        advantages = group_advantages(rewards, config.group_size, config.scale_rewards)
        flat = zero_std_groups(rewards, config.group_size)
        keep = valid.clone()
        if config.filter_zero_std_groups:
            keep &= ~flat.repeat_interleave(config.group_size)

        batch = rollout.batch.keep_rows(keep.to(self.device))
        advantages = advantages.to(self.device)
        if rollout.behaviour_logp is not None:  # sampled in the background by the policy one update ago
            old_logp: torch.Tensor | None = rollout.behaviour_logp
        else:  # sampled by the policy itself: the ratio is 1 on the first update and needs no old log-probs
            old_logp = self.logprobs_no_grad(self.policy, batch) if config.num_iterations > 1 else None
        ref_logp = self.reference_logprobs(batch)

        totals: dict[str, float] = {}
        for _ in range(config.num_iterations):
            totals = self._optimizer_step(batch, advantages, old_logp, ref_logp)
        self.engine.update_weights(self.policy)
        group_metrics = {
            "reward_std": float(rewards.view(-1, config.group_size).std(dim=1).mean()),
            "frac_reward_zero_std": float(flat.float().mean()),
        }
        return self.dist.mean({**episode_metrics(episodes, self.high), **group_metrics, **totals})

    def _optimizer_step(
        self, batch: TokenBatch, advantages: torch.Tensor, old_logp: torch.Tensor | None, ref_logp: torch.Tensor | None
    ) -> dict[str, float]:
        config = self.config
        total_sequences = len(batch)
        total_tokens = max(float(batch.loss_mask.sum()), 1.0)
        sums = {"loss": 0.0, "kl": 0.0, "clip_ratio": 0.0, "entropy": 0.0}
        micro = total_sequences // config.gradient_accumulation_steps
        for start in range(0, total_sequences, micro):
            rows = slice(start, start + micro)
            part = batch.select(rows)
            logp, entropy = token_logprobs(
                self.train_model, part, config.temperature, with_entropy=True, group_size=self.shared_prompts
            )
            assert entropy is not None
            width = logp.shape[1]
            old = old_logp[rows, :width] if old_logp is not None else logp.detach()
            ref = ref_logp[rows, :width] if ref_logp is not None else None
            out = grpo_loss(
                logp,
                old,
                advantages[rows],
                part.loss_mask,
                ref_logp=ref,
                beta=config.beta,
                eps_low=config.epsilon,
                eps_high=config.clip_high,
                aggregation=config.loss_aggregation,
                max_completion_length=config.max_new_tokens,
                entropy=entropy,
                entropy_coef=config.entropy_coef,
            )
            tokens = float(part.loss_mask.sum())
            weight = tokens / total_tokens if config.loss_aggregation == "token_mean" else len(part) / total_sequences
            (out.loss * weight).backward()
            share = tokens / total_tokens
            sums["loss"] += float(out.loss.detach()) * weight
            sums["kl"] += float(out.kl) * share
            sums["clip_ratio"] += float(out.clip_ratio) * share
            sums["entropy"] += float((entropy.detach() * part.loss_mask).sum()) / total_tokens
        return {**sums, **self.clip_and_step(list(self.policy.parameters()))}


def train_grpo(config: GRPOConfig) -> GRPOResult:
    """Build a ``GRPOTrainer`` for ``config`` and run it (on every process, under torchrun)."""
    trainer = GRPOTrainer(config)
    try:
        return trainer.train()
    finally:
        trainer.close()


def _rewards(episodes: list[Episode], group_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Rewards as a tensor, and which episodes were judged.

    An episode whose reward is None (the env could not judge it) takes its
    group's mean, so it has zero advantage and does not move its group's
    statistics; it is also masked out of the loss.
    """
    values, valid = episode_rewards(episodes)
    groups = values.view(-1, group_size)
    means = torch.nanmean(groups, dim=1, keepdim=True).nan_to_num(0.0)
    filled = torch.where(groups.isnan(), means.expand_as(groups), groups)
    return filled.reshape(-1), valid
