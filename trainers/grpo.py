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

The batch for step ``s`` depends only on ``(seed, s)``, and sampling is seeded
by the same, so a run killed at any point and resumed from its last checkpoint
continues exactly where it was.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch

import envs
from envs.text_env import TextEnv
from trainers.checkpoint import (
    is_sharded_checkpoint,
    latest_checkpoint,
    load_checkpoint,
    load_sharded_checkpoint,
    save_checkpoint,
    save_sharded_checkpoint,
)
from trainers.config import GRPOConfig
from trainers.distributed import DistContext, full_state_dict, init_distributed, shard, shard_model
from trainers.episodes import Episode, PromptRenderer, collect_episodes
from trainers.evaluate import EVAL_SEED_OFFSET, evaluate
from trainers.grpo_loss import group_advantages, grpo_loss, zero_std_groups
from trainers.logprobs import TokenBatch, pad_batch, token_logprobs
from trainers.metrics import MetricsLogger, plot_curves
from trainers.models import load_policy, save_policy
from trainers.rollout import SamplingParams, make_engine
from trainers.sft import cold_start

__all__ = ["GRPOResult", "GRPOTrainer", "train_grpo"]


@dataclass(frozen=True)
class GRPOResult:
    """What a finished run reports.

    Attributes:
        output_dir: where metrics.jsonl, curves.png, checkpoints and the final policy are.
        eval_before: held-out metrics before GRPO (after the cold start, if any).
        eval_after: held-out metrics after the last step.
        steps: GRPO steps completed.
    """

    output_dir: Path
    eval_before: dict[str, float]
    eval_after: dict[str, float]
    steps: int


class GRPOTrainer:
    """Owns the policy, the optimizer and the envs; ``train()`` runs the loop."""

    def __init__(self, config: GRPOConfig) -> None:
        self.config = config
        self.dist = init_distributed()
        if config.prompts_per_step % self.dist.world_size:
            raise ValueError(
                f"prompts_per_step={config.prompts_per_step} must be a multiple of the {self.dist.world_size} processes"
            )
        self.output_dir = Path(config.output_dir)
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self.device = _device(config.device, self.dist)
        self.dtype = (
            torch.bfloat16 if (config.bf16 if config.bf16 is not None else self.device.type == "cuda") else None
        )
        envs.entry(config.env)  # fail early, listing the valid ids, on a wrong one
        local_prompts = config.prompts_per_step // self.dist.world_size
        self.envs = [envs.make(config.env, **config.env_options) for _ in range(local_prompts * config.group_size)]
        self.high = float(cast(TextEnv, self.envs[0].unwrapped).reward_range[1])

        self.policy, self.tokenizer = self._prepare_policy()
        self.reference = self._reference_model()
        if config.fsdp:
            self._check_fsdp()
            shard_model(self.policy)
            if self.reference is not None:
                shard_model(self.reference)
            self.train_model = self.policy
        else:
            self.train_model = self.dist.wrap(self.policy, self.device)  # DDP when multi-process
        self.renderer = PromptRenderer(self.tokenizer, config.use_chat_template)
        self.engine = make_engine(
            config.engine, self.policy, self.tokenizer, str(self._base_path()), synced=config.fsdp
        )
        self.optimizer = torch.optim.AdamW(
            [p for p in self.policy.parameters() if p.requires_grad],
            lr=config.learning_rate,
            weight_decay=config.weight_decay,
            fused=not config.fsdp,  # one kernel for all parameters; FSDP's sharded tensors take the default
        )
        from transformers import get_scheduler

        name = {"constant": "constant_with_warmup"}.get(config.lr_scheduler, config.lr_scheduler)
        self.scheduler = get_scheduler(
            name, self.optimizer, config.warmup_steps, max(1, config.steps * config.num_iterations)
        )
        self.step = 0
        # A group's prompt is run once for its G rows, except where one forward per backward is the rule.
        one_forward = self.dist.enabled or config.fsdp or config.gradient_checkpointing
        self.shared_prompts = 1 if one_forward else config.group_size

    # --- set-up -------------------------------------------------------------

    def _base_path(self) -> Path | str:
        """The policy GRPO starts from: the cold-start checkpoint, or the configured model."""
        return self.output_dir / "sft" if self.config.sft_steps > 0 else self.config.model

    def _prepare_policy(self) -> tuple[Any, Any]:
        config = self.config
        sft_dir = self.output_dir / "sft"
        if config.sft_steps > 0 and not (sft_dir / "config.json").exists() and self.dist.is_main:
            model, tokenizer = load_policy(config.model, device=self.device, seed=config.seed)
            cold_start(model, tokenizer, config, progress=config.progress)
            save_policy(model, tokenizer, sft_dir)
        self.dist.barrier()  # the other processes load what process 0 fine-tuned
        model, tokenizer = load_policy(str(self._base_path()), dtype=self.dtype, device=self.device, seed=config.seed)
        if config.lora.r > 0:
            model = _with_lora(model, config)
        if config.gradient_checkpointing:
            # transformers 5 renamed gradient checkpointing to activation checkpointing
            enable = getattr(model, "activation_checkpointing_enable", None) or model.gradient_checkpointing_enable
            enable()
            model.config.use_cache = False
        model.train()
        return model, tokenizer

    def _check_fsdp(self) -> None:
        """FSDP's limits here: several processes, no LoRA, and single-turn envs (lockstep generation)."""
        if not self.dist.enabled:
            raise ValueError("fsdp=True shards over processes: launch with torchrun --nproc-per-node N (N > 1)")
        if self.config.lora.r > 0:
            raise ValueError("fsdp=True with LoRA is not supported; LoRA alone fits most models on one device")
        if cast(TextEnv, self.envs[0].unwrapped).config.max_turns > 1:
            raise ValueError("fsdp=True needs a single-turn env: processes must generate in lockstep")
        if self.config.engine != "hf":
            raise ValueError("fsdp=True generates with engine='hf'")

    def _reference_model(self) -> Any | None:
        if self.config.beta == 0.0:
            return None
        if self.config.lora.r > 0:
            return None  # the policy with its adapters disabled is the reference
        reference = copy.deepcopy(self.policy)
        reference.eval()
        reference.requires_grad_(False)
        return reference

    # --- the loop -----------------------------------------------------------

    def train(self) -> GRPOResult:
        """Run (or resume) GRPO for ``config.steps`` steps; evaluate before and after."""
        config = self.config
        resumed = self._resume()
        log = None
        if self.dist.is_main:
            resume_step = self.step if resumed else None
            log = MetricsLogger(self.output_dir, tensorboard=config.tensorboard, resume_step=resume_step)
        eval_before = self._evaluate()
        if log and not resumed:
            log.log(0, eval_before, split="eval")
        progress = _progress(config, initial=self.step, enabled=self.dist.is_main)
        while self.step < config.steps:
            started = time.perf_counter()
            metrics = self.train_step()
            self.step += 1
            metrics["step_time"] = time.perf_counter() - started
            if log:
                log.log(self.step, metrics)
            if config.eval_every and self.step % config.eval_every == 0 and self.step < config.steps:
                evaluation = self._evaluate()
                if log:
                    log.log(self.step, evaluation, split="eval")
            if config.save_every and self.step % config.save_every == 0:
                self._save()
            progress.update(1)
            progress.set_postfix(reward=f"{metrics['reward']:.3f}", acc=f"{metrics['accuracy']:.2f}")
        progress.close()
        eval_after = self._evaluate()
        if not self.config.fsdp:
            self.dist.check_in_sync(self.policy)
        self._save()
        final_state = full_state_dict(self.policy) if self.config.fsdp else None
        if log:
            log.log(self.step, eval_after, split="eval")
            log.close()
            self._save_final(final_state)
            plot_curves(self.output_dir / "metrics.jsonl", self.output_dir / "curves.png")
        self.dist.barrier()
        if not self.dist.is_main:  # only process 0 reports
            eval_before, eval_after = {}, {}
        return GRPOResult(self.output_dir, eval_before, eval_after, self.step)

    def train_step(self) -> dict[str, float]:
        """Sample one batch of groups and run ``num_iterations`` optimizer steps on it."""
        config = self.config
        seeds = np.random.default_rng([config.seed, self.step]).integers(0, 2**31, config.prompts_per_step)
        local_seeds = shard(seeds.tolist(), self.dist)
        params = SamplingParams(
            config.max_new_tokens, config.temperature, config.top_p, seed=_mix(config.seed, self.step, self.dist.rank)
        )
        episodes = collect_episodes(self.envs, local_seeds, self.engine, self.renderer, params)

        rewards, valid = _rewards(episodes, config.group_size)
        advantages = group_advantages(rewards, config.group_size, config.scale_rewards)
        flat = zero_std_groups(rewards, config.group_size)
        keep = valid.clone()
        if config.filter_zero_std_groups:
            keep &= ~flat.repeat_interleave(config.group_size)

        batch = pad_batch([e.token_ids for e in episodes], [e.loss_mask for e in episodes], self.tokenizer.pad_token_id)
        batch = TokenBatch(batch.input_ids, batch.attention_mask, batch.loss_mask * keep[:, None].float())
        batch = batch.to(self.device)
        advantages = advantages.to(self.device)
        old_logp = self._logprobs_no_grad(self.policy, batch) if config.num_iterations > 1 else None
        ref_logp = self._reference_logprobs(batch)

        totals: dict[str, float] = {}
        for _ in range(config.num_iterations):
            totals = self._optimizer_step(batch, advantages, old_logp, ref_logp)
        self.engine.update_weights(self.policy)
        return self.dist.mean(
            {**_episode_metrics(episodes, rewards, valid, flat, config.group_size, self.high), **totals}
        )

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
        grad_norm = torch.nn.utils.clip_grad_norm_(self.policy.parameters(), config.max_grad_norm)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return {**sums, "grad_norm": float(grad_norm), "learning_rate": self.scheduler.get_last_lr()[0]}

    @torch.no_grad()
    def _logprobs_no_grad(self, model: Any, batch: TokenBatch) -> torch.Tensor:
        was_training = model.training
        model.eval()
        parts = []
        micro = len(batch) // self.config.gradient_accumulation_steps
        width = batch.input_ids.shape[1] - 1
        for start in range(0, len(batch), micro):
            part = batch.select(slice(start, start + micro))
            logp, _ = token_logprobs(model, part, self.config.temperature, group_size=self.shared_prompts)
            parts.append(torch.nn.functional.pad(logp, (0, width - logp.shape[1])))
        model.train(was_training)
        return torch.cat(parts)

    def _reference_logprobs(self, batch: TokenBatch) -> torch.Tensor | None:
        if self.config.beta == 0.0:
            return None
        if self.reference is not None:
            return self._logprobs_no_grad(self.reference, batch)
        with self.policy.disable_adapter():
            return self._logprobs_no_grad(self.policy, batch)

    # --- evaluation and checkpoints --------------------------------------------

    def _save_final(self, full_state: dict[str, torch.Tensor] | None) -> None:
        """The trained policy as a transformers directory, ``output_dir/final``."""
        if full_state is None:
            save_policy(self.policy, self.tokenizer, self.output_dir / "final")
            return
        plain, _ = load_policy(str(self._base_path()), dtype=self.dtype, seed=self.config.seed)
        plain.load_state_dict(full_state)
        save_policy(plain, self.tokenizer, self.output_dir / "final")

    def _evaluate(self) -> dict[str, float]:
        """Held-out metrics: computed by process 0 (the others get an empty dict), or by all under FSDP."""
        config = self.config
        if not self.dist.is_main and not config.fsdp:
            self.dist.barrier()
            return {}
        seeds = [EVAL_SEED_OFFSET + i for i in range(config.eval_prompts)]
        metrics = evaluate(
            config.env,
            config.env_options,
            self.engine,
            self.renderer,
            seeds,
            max_new_tokens=config.max_new_tokens,
            k=config.pass_k,
            temperature=config.temperature or 1.0,
            seed=config.seed,
        )
        self.dist.barrier()
        return metrics

    def _save(self) -> None:
        """Process 0 writes the checkpoint (each its shards under FSDP); every process waits for it."""
        state = {"model": self.policy, "optimizer": self.optimizer, "scheduler": self.scheduler}
        extra = {"config": self.config.model_dump(mode="json")}
        if self.config.fsdp:
            save_sharded_checkpoint(
                self.output_dir,
                self.step,
                **state,
                is_main=self.dist.is_main,
                barrier=self.dist.barrier,
                extra=extra,
                keep=self.config.keep_checkpoints,
            )
            return
        if self.dist.is_main:
            save_checkpoint(self.output_dir, self.step, **state, extra=extra, keep=self.config.keep_checkpoints)
        self.dist.barrier()

    def _resume(self) -> bool:
        if not self.config.resume:
            return False
        path = latest_checkpoint(self.output_dir)
        if path is None:
            return False
        load = load_sharded_checkpoint if is_sharded_checkpoint(path) else load_checkpoint
        state = load(path, model=self.policy, optimizer=self.optimizer, scheduler=self.scheduler)
        self.step = int(state["step"])
        self.engine.update_weights(self.policy)
        return True


def train_grpo(config: GRPOConfig) -> GRPOResult:
    """Build a ``GRPOTrainer`` for ``config`` and run it (on every process, under torchrun)."""
    trainer = GRPOTrainer(config)
    try:
        return trainer.train()
    finally:
        trainer.dist.close()


# --- helpers --------------------------------------------------------------------


def _device(name: str, context: DistContext) -> torch.device:
    if name == "auto":
        return torch.device("cuda", context.local_rank) if torch.cuda.is_available() else torch.device("cpu")
    return torch.device(name)


def _mix(seed: int, step: int, rank: int = 0) -> int:
    """A sampling seed for (run seed, step, process), distinct across all three."""
    return int(np.random.default_rng([seed, step, rank, 1]).integers(0, 2**31))


def _rewards(episodes: list[Episode], group_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Rewards as a tensor, and which episodes were judged.

    An episode whose reward is None (the env could not judge it) takes its
    group's mean, so it has zero advantage and does not move its group's
    statistics; it is also masked out of the loss.
    """
    raw = [e.reward for e in episodes]
    valid = torch.tensor([r is not None for r in raw])
    values = torch.tensor([r if r is not None else math.nan for r in raw], dtype=torch.float32)
    groups = values.view(-1, group_size)
    means = torch.nanmean(groups, dim=1, keepdim=True).nan_to_num(0.0)
    filled = torch.where(groups.isnan(), means.expand_as(groups), groups)
    return filled.reshape(-1), valid


def _episode_metrics(
    episodes: list[Episode],
    rewards: torch.Tensor,
    valid: torch.Tensor,
    flat: torch.Tensor,
    group_size: int,
    high: float,
) -> dict[str, float]:
    """The rollout metrics, named as in TRL."""
    lengths = torch.tensor([e.completion_tokens for e in episodes], dtype=torch.float32)
    judged = rewards[valid]
    metrics = {
        "reward": float(judged.mean()) if len(judged) else math.nan,
        "reward_std": float(rewards.view(-1, group_size).std(dim=1).mean()),
        "frac_reward_zero_std": float(flat.float().mean()),
        "accuracy": float(np.mean([e.status == "ok" for e in episodes])),
        "completions/mean_length": float(lengths.mean()),
        "completions/min_length": float(lengths.min()),
        "completions/max_length": float(lengths.max()),
        "completions/clipped_ratio": float(np.mean([not e.stopped for e in episodes])),
        "num_turns": float(np.mean([e.turns for e in episodes])),
        "skipped": float((~valid).sum()),
    }
    criteria = {name for e in episodes for name in e.scores}
    for name in sorted(criteria):
        values = [v for e in episodes if (v := e.scores.get(name)) is not None]
        metrics[f"rewards/{name}/mean"] = float(np.mean(values)) if values else math.nan
    metrics["reward_max"] = high
    return metrics


def _with_lora(model: Any, config: GRPOConfig) -> Any:
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(
        r=config.lora.r,
        lora_alpha=config.lora.alpha,
        lora_dropout=config.lora.dropout,
        target_modules=config.lora.target_modules,
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, lora)


def _progress(config: GRPOConfig, initial: int, enabled: bool = True) -> Any:
    from tqdm.auto import tqdm

    disable = not (config.progress and enabled)
    return tqdm(total=config.steps, initial=initial, desc="grpo", unit="step", disable=disable)
