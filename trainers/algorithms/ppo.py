"""PPO with a critic: the classic RLHF baseline GRPO is compared with.

The set-up of Ziegler et al. (2019) and InstructGPT (Ouyang et al. 2022), as
TRL's ``PPOTrainer`` and verl's ``gae`` estimator run it, on any registered
environment. One step:

1. take ``prompts_per_step`` env seeds, sample ``group_size`` completions
   each (1 by default: PPO needs no groups) and step the envs for rewards;
2. score the batch without gradients: the sampling policy's log-probs, the
   frozen reference's, and the critic's value of every token's state;
3. per-token rewards: ``-kl_coef * kl_t`` on every generated token, with
   ``kl_t`` the ``kl_estimator`` (k1 = ``log pi - log pi_ref`` by default) of
   KL(policy || reference), and the verifier's reward on the last
   (``ppo_loss.token_rewards``);
4. GAE over the generated tokens gives advantages and the critic's targets
   (``ppo_loss.gae``), and the advantages are whitened over the batch;
5. ``ppo_epochs`` passes over the batch, each shuffled into
   ``num_mini_batches`` mini-batches; each mini-batch is one optimizer step
   on the clipped policy loss plus the clipped value loss (minus
   ``entropy_coef`` times the entropy);
6. with ``adaptive_kl``, the coefficient moves towards keeping the batch's KL
   (nats per sequence) at ``target_kl`` (Ziegler et al. 2019;
   ``kl_controller.adaptive_kl_coef``); the next step's rewards use the new
   one. The current coefficient is the trainer's state: logged each step as
   ``kl_coef`` (the one this step's rewards used), saved in every checkpoint
   and restored on resume.

The critic (``rlvr.trainers.models.value_model.ValueModel``) starts from the policy's
own starting weights, loaded again so that it has its own copy, with a
zero-initialised value head. Policy and critic share one AdamW with a
parameter group each (the critic's learning rate may differ), and each
model's gradient is clipped to ``max_grad_norm`` on its own; as they share no
weights, a value-loss coefficient would only rescale the critic's gradient,
which Adam undoes, so there is none.

What the critic costs is the point of the comparison: a second copy of the
weights, its gradients and its two Adam moments, and a second forward and
backward per token. The loop, evaluation, checkpoints (which hold the
critic too) and resume are ``rlvr.trainers.algorithms.rl_trainer``'s, shared with GRPO.

Under torchrun each process whitens its own share of the batch, and both
models are wrapped in DistributedDataParallel; FSDP is not supported here.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np
import torch
from torch import nn

from rlvr.trainers.algorithms.config import PPOConfig, TrainerConfigError
from rlvr.trainers.algorithms.rl_trainer import (
    RLTrainer,
    TrainResult,
    enable_gradient_checkpointing,
    episode_metrics,
    episode_rewards,
)
from rlvr.trainers.losses.grpo_loss import aggregate
from rlvr.trainers.losses.kl import kl_estimate, sequence_kl
from rlvr.trainers.losses.kl_controller import adaptive_kl_coef
from rlvr.trainers.losses.ppo_loss import clipped_value_loss, gae, ppo_policy_loss, token_rewards, whiten
from rlvr.trainers.models.logprobs import TokenBatch, token_logprobs
from rlvr.trainers.models.value_model import ValueModel, token_values

__all__ = ["PPOTrainer", "train_ppo"]


class PPOTrainer(RLTrainer):
    """The shared trainer plus a critic; ``train_step`` is one PPO step."""

    name = "ppo"
    config: PPOConfig

    def __init__(self, config: PPOConfig) -> None:
        if config.fsdp:
            raise TrainerConfigError("fsdp: the ppo trainer replicates its models (DDP); set fsdp=false")
        super().__init__(config)
        body_source, _ = self.load_base_model()
        self.critic = ValueModel.from_causal_lm(body_source)
        del body_source  # its language-model head is not part of the critic
        if config.gradient_checkpointing:
            enable_gradient_checkpointing(self.critic.body)
        self.critic.train()
        self.train_critic = self.dist.wrap(self.critic, self.device)
        self.optimizer.add_param_group(
            {"params": list(self.critic.parameters()), "lr": config.critic_learning_rate or config.learning_rate}
        )
        self.make_scheduler(config.ppo_epochs * config.num_mini_batches)
        # The live KL coefficient: config.kl_coef, moved after each step under adaptive_kl.
        # (config.kl_weight, the starting value, decides whether a reference model is loaded.)
        self.kl_coef = config.kl_coef

    def checkpoint_modules(self) -> dict[str, nn.Module]:
        """The shared trainer's modules and the critic (``critic.*`` weights in the checkpoint)."""
        return {**super().checkpoint_modules(), "critic": self.critic}

    def trainer_state(self) -> dict[str, Any]:
        """The live KL coefficient (``kl_coef``, reward units per nat), for the checkpoint."""
        return {"kl_coef": self.kl_coef}

    def load_trainer_state(self, state: dict[str, Any]) -> None:
        """Under ``adaptive_kl``, continue from the checkpoint's coefficient; otherwise keep the config's.

        A checkpoint that saved no coefficient leaves the config's ``kl_coef``.
        """
        if self.config.adaptive_kl and "kl_coef" in state:
            self.kl_coef = float(state["kl_coef"])

    def train_step(self) -> dict[str, float]:
        """Sample one batch, compute GAE advantages with the critic, run the PPO epochs on it.

        Then, under ``adaptive_kl``, update the KL coefficient from the batch's KL.
        """
        config = self.config
        rollout = self.next_rollout()
        episodes = rollout.episodes
        rewards, valid = episode_rewards(episodes)
        rewards = rewards.nan_to_num(0.0).to(self.device)
        # An episode the env could not judge has no reward to learn from: it is left out of every loss.
        batch = rollout.batch.keep_rows(valid.to(self.device))
        mask = batch.loss_mask

        # The sampling policy's log-probs: the background's (async_rollouts), else the policy's own.
        old_logp = (
            rollout.behaviour_logp if rollout.behaviour_logp is not None else self.logprobs_no_grad(self.policy, batch)
        )
        ref_logp = self.reference_logprobs(batch)
        ref_or_old = ref_logp if ref_logp is not None else old_logp
        old_values = self._values_no_grad(batch)
        kl_coef = self.kl_coef
        per_token = token_rewards(rewards, old_logp, ref_or_old, mask, kl_coef, config.kl_estimator)
        token_kl = kl_estimate(old_logp, ref_or_old, config.kl_estimator)
        batch_kl, sequences = self._batch_kl(token_kl, mask)
        if config.adaptive_kl:
            self.kl_coef = adaptive_kl_coef(kl_coef, batch_kl, config.target_kl, sequences, config.kl_horizon)
        advantages, returns = gae(per_token, old_values, mask, config.gamma, config.lam)
        if config.whiten_advantages:
            advantages = whiten(advantages, mask)
        advantages = self.env_weighted(episodes, advantages)

        generator = torch.Generator().manual_seed(_shuffle_seed(config.seed, self.step, self.dist.rank))
        sums: dict[str, float] = defaultdict(float)
        updates = 0
        for _ in range(config.ppo_epochs):
            order = torch.randperm(len(batch), generator=generator).to(self.device)
            for rows in order.chunk(config.num_mini_batches):
                for name, value in self._optimizer_step(batch, rows, old_logp, old_values, advantages, returns).items():
                    sums[name] += value
                updates += 1
        update_metrics = {name: total / updates for name, total in sums.items()}

        step_metrics = {
            "kl": float(aggregate(token_kl, mask, "token_mean")),  # nats per token, with kl_estimator
            "kl_per_sequence": batch_kl,  # nats per sequence: what adaptive_kl compares with target_kl
            "kl_coef": kl_coef,  # the coefficient this step's rewards used
            "non_score_reward": float((per_token.sum(dim=1) - rewards).mean()),  # the KL penalties alone
            "values/mean": float(aggregate(old_values, mask, "token_mean")),
            "returns/mean": float(aggregate(returns, mask, "token_mean")),
            "explained_variance": _explained_variance(old_values, returns, mask),
        }
        return self.dist.mean(
            {**episode_metrics(episodes), **self.env_metrics(episodes), **step_metrics, **update_metrics}
        )

    def _optimizer_step(
        self,
        batch: TokenBatch,
        rows: torch.Tensor,
        old_logp: torch.Tensor,
        old_values: torch.Tensor,
        advantages: torch.Tensor,
        returns: torch.Tensor,
    ) -> dict[str, float]:
        """One optimizer step of policy and critic on the mini-batch ``rows``, in micro-batches."""
        config = self.config
        total_tokens = max(float(batch.loss_mask[rows].sum()), 1.0)
        sums = {"loss": 0.0, "value_loss": 0.0, "value_clip_ratio": 0.0, "approx_kl": 0.0}
        sums.update({"clip_ratio/low_mean": 0.0, "clip_ratio/high_mean": 0.0, "clip_ratio/region_mean": 0.0})
        sums["entropy"] = 0.0
        for part_rows in rows.chunk(config.gradient_accumulation_steps):
            part = batch.select(part_rows)
            width = part.loss_mask.shape[1]
            logp, entropy = token_logprobs(self.train_model, part, config.temperature, with_entropy=True)
            assert entropy is not None
            policy = ppo_policy_loss(
                logp,
                old_logp[part_rows, :width],
                advantages[part_rows, :width],
                part.loss_mask,
                clip_low=config.epsilon,
                clip_high=config.clip_high,
            )
            values = token_values(self.train_critic, part)
            old, targets = old_values[part_rows, :width], returns[part_rows, :width]
            value_loss, value_clip = clipped_value_loss(values, old, targets, part.loss_mask, config.cliprange_value)
            mean_entropy = aggregate(entropy, part.loss_mask, "token_mean")
            loss = policy.loss + value_loss - config.entropy_coef * mean_entropy
            share = float(part.loss_mask.sum()) / total_tokens
            (loss * share).backward()
            sums["loss"] += float(policy.loss.detach()) * share
            sums["value_loss"] += float(value_loss.detach()) * share
            sums["clip_ratio/low_mean"] += float(policy.clip_low) * share
            sums["clip_ratio/high_mean"] += float(policy.clip_high) * share
            sums["clip_ratio/region_mean"] += float(policy.clip_ratio) * share
            sums["value_clip_ratio"] += float(value_clip) * share
            sums["approx_kl"] += float(policy.approx_kl) * share
            sums["entropy"] += float(mean_entropy.detach()) * share
        stepped = self.clip_and_step(list(self.policy.parameters()), list(self.critic.parameters()))
        return {**sums, **stepped}

    def _batch_kl(self, token_kl: torch.Tensor, mask: torch.Tensor) -> tuple[float, int]:
        """The step's KL over all processes: (mean over sequences of their summed KL, in nats; sequences).

        Every process gets the same numbers, so their coefficients stay equal. NaN KL when there is no sequence.
        """
        per_sequence = sequence_kl(token_kl, mask)
        totals = self.dist.mean({"sum": float(per_sequence.sum()), "count": float(len(per_sequence))})
        sequences = round(totals["count"] * self.dist.world_size)
        return (totals["sum"] / totals["count"] if sequences else math.nan), sequences

    def _values_no_grad(self, batch: TokenBatch) -> torch.Tensor:
        """``[B, L - 1]`` critic values of ``batch`` in eval mode, micro-batch by micro-batch."""
        return self.per_token_no_grad(self.critic, lambda part: token_values(self.critic, part), batch)


def train_ppo(config: PPOConfig) -> TrainResult:
    """Build a ``PPOTrainer`` for ``config`` and run it (on every process, under torchrun)."""
    with PPOTrainer(config) as trainer:
        return trainer.train()


def _shuffle_seed(seed: int, step: int, rank: int) -> int:
    """The mini-batch shuffling seed of (run seed, step, process): a resumed run shuffles the same way."""
    return int(np.random.default_rng([seed, step, rank, 2]).integers(0, 2**31))


def _explained_variance(values: torch.Tensor, returns: torch.Tensor, mask: torch.Tensor) -> float:
    """``1 - Var(returns - values) / Var(returns)`` over masked tokens: 1 is a perfect critic, <= 0 a useless one.

    NaN when the returns do not vary.
    """
    keep = mask.bool()
    target = returns[keep]
    if target.numel() < 2 or float(target.var()) == 0.0:
        return float("nan")
    return float(1.0 - (target - values[keep]).var() / target.var())
