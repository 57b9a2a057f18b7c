"""What every on-policy trainer here shares: set-up, the loop, evaluation, checkpoints.

``RLTrainer`` owns the policy, its optimizer and scheduler, the envs, the
rollout engine, the frozen reference model, the metrics log and the
checkpoints. A subclass supplies one method, ``train_step``: sample a batch
through ``self.collect(step)`` and update the models on it. GRPO
(``rlvr.trainers.algorithms.grpo``) and PPO (``rlvr.trainers.algorithms.ppo``) are such subclasses; a
subclass with more models to train (PPO's critic) adds them to the optimizer
and to ``checkpoint_model``.

The loop: evaluate on held-out seeds, then ``config.steps`` times
``train_step``, logging its metrics (and ``step_time``, seconds) to
``metrics.jsonl``, evaluating every ``eval_every`` and checkpointing every
``save_every`` steps; then evaluate, save the final policy as a transformers
directory and plot the curves. The batch of step ``s`` depends only on
``(seed, s)``, and sampling is seeded by the same, so a run killed at any
point and resumed from its last checkpoint continues exactly where it was.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import math
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, cast

import numpy as np
import torch

from rlvr import envs
from rlvr.envs.core.text_env import TextEnv
from rlvr.trainers.algorithms.config import TrainerConfig, TrainerConfigError
from rlvr.trainers.models.logprobs import TokenBatch, pad_batch, token_logprobs
from rlvr.trainers.models.policy import load_policy, resolve_device, save_policy
from rlvr.trainers.pipelines.sft import cold_start
from rlvr.trainers.rollout.async_rollouts import BackgroundRollouts, Rollout
from rlvr.trainers.rollout.curriculum import Curriculum, CurriculumState, curriculum_env, prompt_values
from rlvr.trainers.rollout.engines import SamplingParams, make_engine
from rlvr.trainers.rollout.env_mixture import draw_envs, short_names
from rlvr.trainers.rollout.episodes import Episode, PromptRenderer, collect_episodes
from rlvr.trainers.run.checkpoint import (
    is_sharded_checkpoint,
    latest_checkpoint,
    load_checkpoint,
    load_sharded_checkpoint,
    save_checkpoint,
    save_sharded_checkpoint,
)
from rlvr.trainers.run.curves import plot_curves
from rlvr.trainers.run.distributed import full_state_dict, init_distributed, shard, shard_model
from rlvr.trainers.run.evaluate import EVAL_SEED_OFFSET, evaluate, evaluate_envs
from rlvr.trainers.run.metrics import METRICS_FILE, MetricsLogger, read_metrics
from rlvr.trainers.run.run_dir import (
    RunLock,
    RunLockedError,
    clear_run,
    record_resume,
    resumable_changes,
    resume_conflict,
    write_run_record,
)

__all__ = [
    "RLTrainer",
    "RunInterrupted",
    "TrainResult",
    "enable_gradient_checkpointing",
    "episode_metrics",
    "episode_rewards",
    "per_env_metrics",
]


@dataclass(frozen=True)
class TrainResult:
    """What a finished run reports.

    Attributes:
        output_dir: where metrics.jsonl, curves.png, checkpoints and the final policy are.
        eval_before: held-out metrics before RL (after the cold start, if any).
        eval_after: held-out metrics after the last step.
        steps: training steps completed.
        already_finished: the run had finished before this call; nothing was trained or evaluated.
    """

    output_dir: Path
    eval_before: dict[str, float]
    eval_after: dict[str, float]
    steps: int
    already_finished: bool = False


class RLTrainer:
    """The parts of an on-policy RL trainer that do not depend on the algorithm.

    Subclasses set ``name`` (the checkpoints record it, and a run directory
    of another trainer is refused on resume), implement ``train_step``, and
    call ``make_scheduler`` at the end of their ``__init__``, once every
    parameter group is in ``self.optimizer``.
    """

    name: ClassVar[str] = "rl"

    def __init__(self, config: TrainerConfig) -> None:
        if config.async_rollouts and config.fsdp:
            raise TrainerConfigError("async_rollouts: not with fsdp, whose generation is collective; set one false")
        if config.async_rollouts and config.engine != "hf":
            raise TrainerConfigError("async_rollouts: only with engine='hf' so far")
        self.config = config
        self.dist = init_distributed()
        if config.fsdp and not self.dist.enabled:  # before any model is loaded or cold-started
            raise TrainerConfigError("fsdp=True shards over processes: launch with torchrun --nproc-per-node N (N > 1)")
        if config.prompts_per_step % self.dist.world_size:
            raise ValueError(
                f"prompts_per_step={config.prompts_per_step} must be a multiple of the {self.dist.world_size} processes"
            )
        self.output_dir = Path(config.output_dir)
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self.lock: RunLock | None = None
        if self.dist.is_main:  # one run per directory: process 0 holds the lock for all
            try:
                self.lock = RunLock(self.output_dir).acquire()
            except RunLockedError as error:
                raise TrainerConfigError(str(error)) from None
            if config.overwrite and (removed := clear_run(self.output_dir)):
                print(f"rlvr: overwrite: removed {', '.join(removed)} from {self.output_dir}", file=sys.stderr)
        self.dist.barrier()
        try:
            self.device = resolve_device(config.device, self.dist.local_rank)
        except ValueError as error:
            raise TrainerConfigError(str(error)) from None
        if config.engine == "vllm" and importlib.util.find_spec("vllm") is None:
            raise TrainerConfigError("engine='vllm' needs vLLM (pip install 'rlvr-gym[vllm]'; GPU only)")
        self.dtype = (
            torch.bfloat16 if (config.bf16 if config.bf16 is not None else self.device.type == "cuda") else None
        )
        envs.import_modules(config.imports)  # modules that register envs of the user's own
        self.env_refs = config.env_refs
        for ref in self.env_refs:
            envs.entry(ref.id)  # fail early, listing the valid ids, on a wrong one
        local_prompts = config.prompts_per_step // self.dist.world_size
        # Enough copies of every env for a step that draws only that env: copy j of prompt i is pool[i * G + j].
        self.env_names = short_names(self.env_refs)  # the names of a mixture's envs in metrics
        self.env_pools = {
            name: [envs.make(ref.id, **ref.options) for _ in range(local_prompts * config.group_size)]
            for name, ref in zip(self.env_names, self.env_refs, strict=True)
        }
        self.curricula = self._curricula()

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
        self.renderer = PromptRenderer.for_model(
            self.policy, self.tokenizer, config.use_chat_template, config.max_new_tokens, config.env_name
        )
        self.engine = make_engine(
            config.engine, self.policy, self.tokenizer, str(self._base_path()), synced=config.fsdp
        )
        self.optimizer = torch.optim.AdamW(
            [p for p in self.policy.parameters() if p.requires_grad],
            lr=config.learning_rate,
            weight_decay=config.weight_decay,
            fused=not config.fsdp,  # one kernel for all parameters; FSDP's sharded tensors take the default
        )
        self.scheduler: Any = None  # subclasses call make_scheduler once they have added their parameter groups
        self.step = 0
        self.shared_prompts = 1  # rows per prompt that token_logprobs may run from one prompt forward
        self.rollouts: BackgroundRollouts | None = None
        if config.async_rollouts:
            self._start_background_rollouts()

    def _start_background_rollouts(self) -> None:
        """A behaviour copy of the policy, with an engine of its own, sampling on a background thread."""
        config = self.config
        self.rollouts = BackgroundRollouts(self.policy, self._sample_batch)
        self._behaviour_engine = make_engine(config.engine, self.rollouts.behaviour, self.tokenizer)

    def _sample_batch(self, model: Any, step: int) -> Rollout:
        """Step ``step``'s episodes sampled by ``model``, with ``model``'s log-probs of them (background thread)."""
        episodes, stats = self.sample_step(step, self._behaviour_engine)
        batch = self.padded(episodes)
        return Rollout(episodes, batch, self.logprobs_no_grad(model, batch), self.sampler_logprobs(episodes), stats)

    def make_scheduler(self, optimizer_steps_per_step: int) -> None:
        """The learning-rate schedule over the run, for every parameter group of the optimizer."""
        from transformers import get_scheduler

        config = self.config
        name = {"constant": "constant_with_warmup"}.get(config.lr_scheduler, config.lr_scheduler)
        total = max(1, config.steps * optimizer_steps_per_step)
        self.scheduler = get_scheduler(name, self.optimizer, config.warmup_steps, total)

    # --- set-up -------------------------------------------------------------

    def _base_path(self) -> Path | str:
        """The policy RL starts from: the cold-start checkpoint, or the configured model."""
        return self.output_dir / "sft" if self.config.sft_steps > 0 else self.config.model

    def _prepare_policy(self) -> tuple[Any, Any]:
        config = self.config
        sft_dir = self.output_dir / "sft"
        if config.sft_steps > 0 and not (sft_dir / "config.json").exists() and self.dist.is_main:
            model, tokenizer = load_policy(config.model, device=self.device, seed=config.seed)
            cold_start(model, tokenizer, config, progress=config.progress)
            save_policy(model, tokenizer, sft_dir)
        self.dist.barrier()  # the other processes load what process 0 fine-tuned
        model, tokenizer = self.load_base_model()
        if config.lora.r > 0:
            model = _with_lora(model, config)
        if config.gradient_checkpointing:
            enable_gradient_checkpointing(model)
        model.train()
        return model, tokenizer

    def load_base_model(self) -> tuple[Any, Any]:
        """A fresh copy of the model RL starts from: the cold-start checkpoint or ``config.model``."""
        return load_policy(str(self._base_path()), dtype=self.dtype, device=self.device, seed=self.config.seed)

    def _check_fsdp(self) -> None:
        """FSDP's limits here: several processes, no LoRA, and single-turn envs (lockstep generation)."""
        if not self.dist.enabled:
            raise TrainerConfigError("fsdp=True shards over processes: launch with torchrun --nproc-per-node N (N > 1)")
        if self.config.lora.r > 0:
            raise TrainerConfigError("fsdp=True with LoRA is not supported; LoRA alone fits most models on one device")
        if any(cast(TextEnv, pool[0].unwrapped).config.max_turns > 1 for pool in self.env_pools.values()):
            raise TrainerConfigError("fsdp=True needs a single-turn env: processes must generate in lockstep")
        if self.config.engine != "hf":
            raise TrainerConfigError("fsdp=True generates with engine='hf'")

    def _reference_model(self) -> Any | None:
        if self.config.kl_weight == 0.0:
            return None
        if self.config.lora.r > 0:
            return None  # the policy with its adapters disabled is the reference
        reference = copy.deepcopy(self.policy)
        reference.eval()
        reference.requires_grad_(False)
        return reference

    # --- the loop -----------------------------------------------------------

    def train(self) -> TrainResult:
        """Run (or resume) training for ``config.steps`` steps; evaluate before and after.

        Resumed, the accuracy before training is the one the first run measured (kept in
        metrics.jsonl), not the checkpoint's. A run already finished (its last checkpoint at
        ``config.steps`` and its final policy saved) is not run again: its result is read back
        (``TrainResult.already_finished``). Ctrl-C stops at the next step boundary with a
        checkpoint (``RunInterrupted``); a second Ctrl-C stops at once.
        """
        config = self.config
        resumed = self._resume()
        if resumed and self.step >= config.steps and (self.output_dir / "final" / "config.json").exists():
            return self._finished_result()
        log = None
        if self.dist.is_main:
            # Resumed: keep the lines up to the checkpoint's step. Started afresh (no checkpoint, or resume off):
            # keep none, so a run killed before its first checkpoint and started again does not log twice.
            resume_step = self.step if resumed else -1
            log = MetricsLogger(self.output_dir, tensorboard=config.tensorboard, resume_step=resume_step)
        if self.dist.is_main:
            write_run_record(self.output_dir, self.name, self.config.model_dump(mode="json"), resumed=resumed)
        eval_before = self._first_evaluation() if resumed else None
        if eval_before is None:
            eval_before = self._evaluate()
            if log and not resumed:
                log.log(0, eval_before, split="eval")
        progress = _progress(self.name, config, initial=self.step, enabled=self.dist.is_main)
        latest_eval = eval_before.get("accuracy", math.nan)
        with _StopOnInterrupt(enabled=not self.dist.enabled) as interrupt:
            while self.step < config.steps:
                started = time.perf_counter()
                levels = self.curriculum_levels(self.step)  # the levels this step samples at
                metrics = {**self.train_step(), **levels, **self.curriculum_accuracies()}
                self.step += 1
                metrics["step_time"] = time.perf_counter() - started
                if log:
                    log.log(self.step, metrics)
                if config.eval_every and self.step % config.eval_every == 0 and self.step < config.steps:
                    evaluation = self._evaluate()
                    latest_eval = evaluation.get("accuracy", latest_eval)
                    if log:
                        log.log(self.step, evaluation, split="eval")
                if config.save_every and self.step % config.save_every == 0:
                    self._save()
                progress.update(1)
                progress.set_postfix(_progress_fields(metrics, latest_eval), refresh=False)
                if interrupt.requested and self.step < config.steps:
                    progress.close()
                    self._save()
                    if log:
                        log.close()
                    raise RunInterrupted(self.output_dir, self.step)
        progress.close()
        eval_after = self._evaluate()
        if not self.config.fsdp:
            self.dist.check_in_sync(self.checkpoint_model())
        self._save()
        final_state = full_state_dict(self.policy) if self.config.fsdp else None
        if log:
            log.log(self.step, eval_after, split="eval")
            log.close()
            self._save_final(final_state)
            title = f"{self.output_dir.name}: {self.name} on {config.env_name}, model {config.model}"
            plot_curves(self.output_dir / "metrics.jsonl", self.output_dir / "curves.png", title=title)
        self.dist.barrier()
        if not self.dist.is_main:  # only process 0 reports
            eval_before, eval_after = {}, {}
        return TrainResult(self.output_dir, eval_before, eval_after, self.step)

    def _first_evaluation(self) -> dict[str, float] | None:
        """The held-out metrics the run measured before its first step (metrics.jsonl's eval at step 0), if kept."""
        path = self.output_dir / METRICS_FILE
        if not path.exists():
            return None
        evaluations = [r for r in read_metrics(path) if r.get("split") == "eval" and r["step"] == 0]
        if not evaluations:
            return None
        return _metric_values(evaluations[0])

    def _finished_result(self) -> TrainResult:
        """The result of a run that had already finished, read back from metrics.jsonl (no evaluation)."""
        evaluations = [r for r in read_metrics(self.output_dir / METRICS_FILE) if r.get("split") == "eval"]
        before = _metric_values(evaluations[0]) if evaluations else {}
        after = _metric_values(evaluations[-1]) if evaluations else {}
        if not self.dist.is_main:
            before, after = {}, {}
        return TrainResult(self.output_dir, before, after, self.step, already_finished=True)

    def train_step(self) -> dict[str, float]:
        """Take one batch (``next_rollout``) and update on it; return the step's metrics.

        The metrics must include ``reward`` and ``accuracy`` (the progress bar shows them).
        """
        raise NotImplementedError

    def next_rollout(self) -> Rollout:
        """The current step's batch: sampled now by the policy, or (``async_rollouts``) taken from the background.

        In the background case the batch comes with the sampling policy's log-probs, and the
        next step's batch starts sampling before this returns.
        """
        if self.rollouts is None:
            episodes, stats = self.sample_step(self.step, self.engine)
            self._observe_curricula(episodes)
            return Rollout(episodes, self.padded(episodes), None, self.sampler_logprobs(episodes), stats)
        next_step = self.step + 1 if self.step + 1 < self.config.steps else None
        return self.rollouts.take(self.step, self.policy, next_step)

    def sample_step(self, step: int, engine: Any) -> tuple[list[Episode], dict[str, float]]:
        """The episodes step ``step`` trains on, and metrics of their sampling (none here).

        One round of ``collect``; a subclass may sample more (GRPO's dynamic sampling). Runs on the
        background thread under ``async_rollouts``: it must depend only on ``step`` and ``engine``.
        """
        return self.collect(step, engine), {}

    def collect(self, step: int, engine: Any, round_: int = 0) -> list[Episode]:
        """This process's episodes of ``step``: its share of the step's prompts, ``group_size`` each, from ``engine``.

        Episodes come prompt by prompt, the ``group_size`` completions of a prompt next to each other.
        The prompts and the sampling seed depend only on the run's seed, ``step`` and ``round_`` (the
        sampling round within the step: 0, or more under dynamic sampling), so a resumed run draws the same.
        With a mixture each prompt's env is drawn by weight the same way (``draw_envs``), and every
        episode carries its env's label (``Episode.env``).
        """
        config = self.config
        key = [config.seed, step] if round_ == 0 else [config.seed, step, round_]
        seeds = np.random.default_rng(key).integers(0, 2**31, config.prompts_per_step)
        local_seeds = shard(seeds.tolist(), self.dist)
        params = SamplingParams(
            config.max_new_tokens,
            config.temperature,
            config.top_p,
            seed=_mix(config.seed, step, self.dist.rank, round_),
            top_k=config.top_k,
            min_p=config.min_p,
            stop=tuple(config.stop),
            logprobs=self.wants_sampler_logprobs,
        )
        weights = [ref.weight for ref in self.env_refs]
        every_choice = draw_envs(weights, len(seeds), config.seed, step, round_)
        choices = shard(every_choice, self.dist)
        options = shard(self._reset_options(every_choice, step, round_), self.dist)
        group_envs: list[Any] = []
        taken = dict.fromkeys(self.env_pools, 0)
        for choice in choices:
            label = self.env_names[choice]
            start = taken[label] * config.group_size
            group_envs += self.env_pools[label][start : start + config.group_size]
            taken[label] += 1
        episodes = collect_episodes(
            group_envs, local_seeds, engine, self.renderer, params, options, config.max_episode_tokens
        )
        for episode in episodes:
            episode.env = self.env_names[choices[episode.group]]
        return episodes

    def env_metrics(self, episodes: list[Episode]) -> dict[str, float]:
        """Per-env metrics of a mixture's batch (``env/<name>/...``, ``short_names``); none for a single env."""
        return per_env_metrics(episodes, self.env_names) if len(self.env_names) > 1 else {}

    def env_weighted(self, episodes: list[Episode], advantages: torch.Tensor) -> torch.Tensor:
        """``advantages`` (one per episode) times each episode's env ``loss_weight`` (unchanged if all are 1)."""
        weights = {name: ref.loss_weight for name, ref in zip(self.env_names, self.env_refs, strict=True)}
        if all(weight == 1.0 for weight in weights.values()):
            return advantages
        scale = torch.tensor([weights[e.env] for e in episodes], dtype=advantages.dtype, device=advantages.device)
        return advantages * scale.view(-1, *([1] * (advantages.dim() - 1)))

    def _curricula(self) -> list[tuple[int, Curriculum, CurriculumState]]:
        """Each curriculum with the index of its env and its state; checked against the env's reset options."""
        found = []
        for curriculum in self.config.curriculum:
            try:
                index = curriculum_env(curriculum, self.env_names, [ref.id for ref in self.env_refs])
            except ValueError as error:
                raise TrainerConfigError(str(error)) from None
            name = self.env_names[index]
            env = self.env_pools[name][0]
            takes = sorted(cast(TextEnv, env.unwrapped).source.options)
            if curriculum.option not in takes:
                raise TrainerConfigError(
                    f"curriculum of {name}: its tasks take no reset option {curriculum.option!r} (they take {takes})"
                )
            for value in curriculum.values:
                try:
                    env.reset(seed=0, options={curriculum.option: value})
                except Exception as error:  # the env's own message says what it takes
                    raise TrainerConfigError(
                        f"curriculum of {name}: {curriculum.option}={value!r} is refused by the env: {error}"
                    ) from None
            found.append((index, curriculum, CurriculumState()))
        return found

    def _reset_options(self, choices: list[int], step: int, round_: int) -> list[dict[str, Any] | None]:
        """The reset options of each of the step's prompts (whose envs are ``choices``) under the curricula."""
        options: list[dict[str, Any] | None] = [None] * len(choices)
        for index, curriculum, state in self.curricula:
            positions = [i for i, choice in enumerate(choices) if choice == index]
            values = prompt_values(curriculum, state, len(positions), self.config.seed, step, round_)
            for position, (value, _) in zip(positions, values, strict=True):
                options[position] = {**(options[position] or {}), curriculum.option: value}
        return options

    def _observe_curricula(self, episodes: list[Episode]) -> None:
        """Feed each rule the outcomes (ok or not) of its env's episodes at its current level, from every process."""
        for index, curriculum, state in self.curricula:
            if not curriculum.levels:
                continue
            current = curriculum.levels[state.level]
            outcomes = [
                e.status == "ok"
                for e in episodes
                if e.env == self.env_names[index] and e.reset_options.get(curriculum.option) == current
            ]
            state.observe(curriculum, self.dist.gather(outcomes))

    def curriculum_levels(self, step: int) -> dict[str, float]:
        """``curriculum/<env>/level``: each curriculum's value for ``step`` (its index among ``levels`` when
        the values are not numbers)."""
        metrics = {}
        for index, curriculum, state in self.curricula:
            value = curriculum.value_at(step, state)
            number = value if isinstance(value, int | float) and not isinstance(value, bool) else state.level
            metrics[f"curriculum/{self.env_names[index]}/level"] = float(number)
        return metrics

    def curriculum_accuracies(self) -> dict[str, float]:
        """``curriculum/<env>/accuracy``: each rule's rolling accuracy at its current level."""
        return {
            f"curriculum/{self.env_names[index]}/accuracy": state.accuracy
            for index, curriculum, state in self.curricula
            if curriculum.levels
        }

    @property
    def wants_sampler_logprobs(self) -> bool:
        """Whether the rollout engine is asked for the log-probs of what it samples (a subclass's choice)."""
        return False

    def sampler_logprobs(self, episodes: list[Episode]) -> torch.Tensor | None:
        """``[B, L - 1]`` the engine's log-probs of the episodes' generated tokens, aligned with ``padded``; or None.

        None unless every episode carries them (``wants_sampler_logprobs``); 0 on tokens the model did not generate.
        """
        values = [e.sampler_logprobs for e in episodes]
        if not values or any(v is None for v in values):
            return None
        width = max(len(e.token_ids) for e in episodes)
        rows = [list(v or []) + [0.0] * (width - len(v or [])) for v in values]
        return torch.tensor(rows, dtype=torch.float32)[:, 1:].to(self.device)

    def padded(self, episodes: list[Episode]) -> TokenBatch:
        """The episodes' tokens and loss masks, right-padded into one batch on the trainer's device."""
        token_ids, masks = [e.token_ids for e in episodes], [e.loss_mask for e in episodes]
        return pad_batch(token_ids, masks, self.tokenizer.pad_token_id).to(self.device)

    def clip_and_step(self, *parameter_sets: list[torch.nn.Parameter]) -> dict[str, float]:
        """Clip each set's gradient norm to ``max_grad_norm``, take an optimizer and scheduler step.

        Returns ``grad_norm`` (of the first set, the policy's; the norm before clipping) and
        ``learning_rate`` (the first parameter group's, after the step).
        """
        norms = [torch.nn.utils.clip_grad_norm_(params, self.config.max_grad_norm) for params in parameter_sets]
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return {"grad_norm": float(norms[0]), "learning_rate": self.scheduler.get_last_lr()[0]}

    # --- log-probabilities ----------------------------------------------------

    @torch.no_grad()
    def logprobs_no_grad(self, model: Any, batch: TokenBatch) -> torch.Tensor:
        """``[B, L - 1]`` log-probs of ``batch`` under ``model`` in eval mode, micro-batch by micro-batch."""

        def score(part: TokenBatch) -> torch.Tensor:
            return token_logprobs(model, part, self.config.temperature, group_size=self.shared_prompts)[0]

        return self.per_token_no_grad(model, score, batch)

    @torch.no_grad()
    def per_token_no_grad(
        self, model: Any, score: Callable[[TokenBatch], torch.Tensor], batch: TokenBatch
    ) -> torch.Tensor:
        """``score`` (a ``[b, l - 1]`` per-token tensor of a sub-batch) over all of ``batch``, as ``[B, L - 1]``.

        Runs ``model`` in eval mode, one micro-batch (``gradient_accumulation_steps``) at a time, each trimmed of
        its padding columns and padded back with zeros; the model's train/eval mode is restored afterwards.
        """
        was_training = model.training
        model.eval()
        parts = []
        micro = len(batch) // self.config.gradient_accumulation_steps
        width = batch.input_ids.shape[1] - 1
        for start in range(0, len(batch), micro):
            values = score(batch.select(slice(start, start + micro)))
            parts.append(torch.nn.functional.pad(values, (0, width - values.shape[1])))
        model.train(was_training)
        return torch.cat(parts)

    def reference_logprobs(self, batch: TokenBatch) -> torch.Tensor | None:
        """Log-probs under the frozen reference (the base model under LoRA); None when no KL is used."""
        if self.config.kl_weight == 0.0:
            return None
        if self.reference is not None:
            return self.logprobs_no_grad(self.reference, batch)
        with self.policy.disable_adapter():
            return self.logprobs_no_grad(self.policy, batch)

    # --- evaluation and checkpoints --------------------------------------------

    def checkpoint_modules(self) -> dict[str, torch.nn.Module]:
        """What a checkpoint holds, by name: the policy, the behaviour policy of async rollouts, and
        whatever else a subclass trains (extend the dict)."""
        modules = {"policy": self.policy}
        if self.rollouts is not None:
            modules["behaviour"] = self.rollouts.behaviour
        return modules

    def trainer_state(self) -> dict[str, Any]:
        """Plain-JSON state of the algorithm outside the modules and the optimizer (e.g. PPO's adaptive KL
        coefficient); saved with each checkpoint and handed to ``load_trainer_state`` on resume. None here."""
        return {}

    def load_trainer_state(self, state: dict[str, Any]) -> None:
        """Restore what ``trainer_state`` saved (an empty dict for checkpoints that saved none)."""

    def checkpoint_model(self) -> torch.nn.Module:
        """``checkpoint_modules`` as one module (the policy itself when it is alone)."""
        modules = self.checkpoint_modules()
        return modules["policy"] if len(modules) == 1 else torch.nn.ModuleDict(modules)

    def close(self, clean: bool = True) -> None:
        """Stop background sampling and leave the process group (``clean``: the run finished without error)."""
        if self.rollouts is not None:
            self.rollouts.close()
        if self.lock is not None:
            self.lock.release()
        self.dist.close(clean)

    def __enter__(self) -> RLTrainer:
        return self

    def __exit__(self, error_type: type[BaseException] | None, *_: object) -> None:
        """``close``, clean only when the block raised nothing."""
        self.close(clean=error_type is None)

    def _save_final(self, full_state: dict[str, torch.Tensor] | None) -> None:
        """The trained policy as a transformers directory, ``output_dir/final``."""
        if full_state is None:
            save_policy(self.policy, self.tokenizer, self.output_dir / "final")
            return
        plain, _ = load_policy(str(self._base_path()), dtype=self.dtype, seed=self.config.seed)
        plain.load_state_dict(full_state)
        save_policy(plain, self.tokenizer, self.output_dir / "final")

    def _evaluate(self) -> dict[str, float]:
        """Held-out metrics (``evaluate_envs``), and under a curriculum each of its levels' accuracy and reward
        (``curriculum/<env>/<option>=<value>/accuracy``): computed by process 0 (the others get an empty dict),
        or by all under FSDP."""
        config = self.config
        if not self.dist.is_main and not config.fsdp:
            self.dist.barrier()
            return {}
        seeds = [EVAL_SEED_OFFSET + i for i in range(config.eval_prompts)]
        settings: dict[str, Any] = dict(
            max_new_tokens=config.max_new_tokens,
            k=config.pass_k,
            temperature=config.temperature or 1.0,
            seed=config.seed,
            max_episode_tokens=config.max_episode_tokens,
        )
        metrics = evaluate_envs(self.env_refs, self.engine, self.renderer, seeds, **settings)
        for index, curriculum, _ in self.curricula:  # and each level a curriculum may set
            ref, name = self.env_refs[index], self.env_names[index]
            for value in curriculum.values:
                at = evaluate(
                    ref.id,
                    ref.options,
                    self.engine,
                    self.renderer,
                    seeds,
                    **settings,
                    options={curriculum.option: value},
                )
                for metric in ("accuracy", "reward"):
                    metrics[f"curriculum/{name}/{curriculum.option}={value}/{metric}"] = at[metric]
        self.dist.barrier()
        return metrics

    def _save(self) -> None:
        """Process 0 writes the checkpoint (each its shards under FSDP); every process waits for it."""
        state = {"model": self.checkpoint_model(), "optimizer": self.optimizer, "scheduler": self.scheduler}
        extra = {
            "trainer": self.name,
            "modules": sorted(self.checkpoint_modules()),
            "config": self.config.model_dump(mode="json"),
            "state": self.trainer_state(),
            "curricula": [state.model_dump() for _, _, state in self.curricula],
        }
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
        meta = json.loads((path / "meta.json").read_text())
        extra = meta["extra"]
        saved_config = extra.get("config", {})
        current = self.config.model_dump(mode="json")
        if conflict := resume_conflict(self.output_dir, extra.get("trainer", "grpo"), self.name, saved_config, current):
            raise TrainerConfigError(conflict)
        saved_modules = extra.get("modules", ["policy"])
        if saved_modules != sorted(self.checkpoint_modules()):
            raise TrainerConfigError(
                f"output_dir {self.output_dir} holds checkpoints of {', '.join(saved_modules)}, this run trains "
                f"{', '.join(sorted(self.checkpoint_modules()))} (was async_rollouts changed?): resume with the "
                "same settings, choose another output_dir, or set resume=false"
            )
        if (changes := resumable_changes(saved_config, current)) and self.dist.is_main:
            record_resume(self.output_dir, int(meta["step"]), changes)
        load = load_sharded_checkpoint if is_sharded_checkpoint(path) else load_checkpoint
        state = load(path, model=self.checkpoint_model(), optimizer=self.optimizer, scheduler=self.scheduler)
        self.step = int(state["step"])
        self.load_trainer_state(extra.get("state", {}))
        for (_, _, progress), saved in zip(self.curricula, extra.get("curricula", []), strict=False):
            restored = CurriculumState.model_validate(saved)
            progress.level, progress.recent = restored.level, restored.recent
        self.engine.update_weights(self.policy)
        return True


def episode_rewards(episodes: list[Episode]) -> tuple[torch.Tensor, torch.Tensor]:
    """``([B] rewards, [B] judged)``: float32 rewards, NaN where the env could not judge (reward None)."""
    judged = torch.tensor([e.reward is not None for e in episodes])
    rewards = torch.tensor([e.reward if e.reward is not None else math.nan for e in episodes], dtype=torch.float32)
    return rewards, judged


def episode_metrics(episodes: list[Episode]) -> dict[str, float]:
    """The rollout metrics every trainer logs, named and defined as in TRL's GRPOTrainer.

    Over the judged episodes (reward not None): ``reward`` (mean), ``reward_std``
    (std of the batch's rewards, unbiased, as TRL), ``reward_min``, ``reward_max``
    (the batch's, NaN when none was judged). ``accuracy`` is the share with
    status ``ok``; lengths are in generated tokens (``completions/*``, the
    ``terminated`` ones over episodes that ended by themselves rather than at
    the budget); ``skipped`` counts episodes the env could not judge;
    ``rewards/<criterion>/mean`` and ``/std`` per rubric criterion; ``step_tokens``
    is the batch's prompt and completion tokens (this process's), for throughput.
    """
    lengths = torch.tensor([e.completion_tokens for e in episodes], dtype=torch.float32)
    terminated = torch.tensor([e.completion_tokens for e in episodes if e.stopped], dtype=torch.float32)
    judged = [e.reward for e in episodes if e.reward is not None]
    metrics = {
        "reward": float(np.mean(judged)) if judged else math.nan,
        "reward_std": float(np.std(judged, ddof=1)) if len(judged) > 1 else (0.0 if judged else math.nan),
        "reward_min": float(np.min(judged)) if judged else math.nan,
        "reward_max": float(np.max(judged)) if judged else math.nan,
        "accuracy": float(np.mean([e.status == "ok" for e in episodes])),
        "completions/mean_length": float(lengths.mean()),
        "completions/min_length": float(lengths.min()),
        "completions/max_length": float(lengths.max()),
        "completions/clipped_ratio": float(np.mean([not e.stopped for e in episodes])),
        "completions/mean_terminated_length": float(terminated.mean()) if len(terminated) else 0.0,
        "completions/min_terminated_length": float(terminated.min()) if len(terminated) else 0.0,
        "completions/max_terminated_length": float(terminated.max()) if len(terminated) else 0.0,
        "num_turns": float(np.mean([e.turns for e in episodes])),
        "skipped": float(len(episodes) - len(judged)),
        "step_tokens": float(sum(len(e.token_ids) for e in episodes)),
    }
    with_tools = [e.tool_calls for e in episodes if e.tool_calls is not None]
    if with_tools:
        metrics["tools/call_share"] = float(np.mean([calls > 0 for calls in with_tools]))
        metrics["tools/calls"] = float(np.mean(with_tools))
    criteria = {name for e in episodes for name in e.scores}
    for name in sorted(criteria):
        values = [v for e in episodes if (v := e.scores.get(name)) is not None]
        metrics[f"rewards/{name}/mean"] = float(np.mean(values)) if values else math.nan
        metrics[f"rewards/{name}/std"] = float(np.std(values, ddof=1)) if len(values) > 1 else math.nan
    return metrics


def per_env_metrics(episodes: list[Episode], labels: list[str]) -> dict[str, float]:
    """Each env's share of the batch and its own ``reward``, ``accuracy`` and completion length.

    Named ``env/<label>/share``, ``env/<label>/reward`` (mean over its judged episodes),
    ``env/<label>/accuracy`` and ``env/<label>/completions/mean_length``, for every label of
    ``labels`` (``Episode.env``); an env the batch did not draw has share 0 and NaN for the rest.
    """
    metrics: dict[str, float] = {}
    for label in labels:
        mine = [e for e in episodes if e.env == label]
        judged = [e.reward for e in mine if e.reward is not None]
        metrics[f"env/{label}/share"] = len(mine) / len(episodes) if episodes else math.nan
        metrics[f"env/{label}/reward"] = float(np.mean(judged)) if judged else math.nan
        metrics[f"env/{label}/accuracy"] = float(np.mean([e.status == "ok" for e in mine])) if mine else math.nan
        lengths = [e.completion_tokens for e in mine]
        metrics[f"env/{label}/completions/mean_length"] = float(np.mean(lengths)) if mine else math.nan
    return metrics


class RunInterrupted(Exception):
    """Training stopped at a step boundary on Ctrl-C, with a checkpoint of that step."""

    def __init__(self, output_dir: Path, step: int) -> None:
        super().__init__(
            f"stopped at step {step} on Ctrl-C, checkpoint saved in {output_dir}: run the same command to resume"
        )
        self.output_dir, self.step = output_dir, step


class _StopOnInterrupt:
    """Within the block, the first Ctrl-C (SIGINT) only sets ``requested``; the next one interrupts at once.

    Only on the main thread of a single-process run (``enabled``); elsewhere Ctrl-C keeps its default.
    """

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled and threading.current_thread() is threading.main_thread()
        self.requested = False
        self._previous: Any = None

    def __enter__(self) -> _StopOnInterrupt:
        if self.enabled:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        self.requested = True
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl-C raises KeyboardInterrupt
        print("\nrlvr: stopping after this step (Ctrl-C again to stop at once)", file=sys.stderr)

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            signal.signal(signal.SIGINT, self._previous)


def _progress_fields(metrics: dict[str, float], eval_accuracy: float) -> dict[str, str]:
    """What the progress bar shows after a step: reward, accuracy, KL and loss of the step, the latest eval."""
    shown = {"reward": "reward", "acc": "accuracy", "kl": "kl", "loss": "loss"}
    fields = {label: f"{metrics[name]:.3g}" for label, name in shown.items() if name in metrics}
    fields["eval_acc"] = f"{eval_accuracy:.3f}"
    return fields


def _metric_values(record: dict[str, Any]) -> dict[str, float]:
    """A metrics.jsonl record's metrics as floats (null as NaN), without its step, split and time."""
    return {k: math.nan if v is None else float(v) for k, v in record.items() if k not in ("step", "split", "time")}


# --- helpers --------------------------------------------------------------------


def _mix(seed: int, step: int, rank: int = 0, round_: int = 0) -> int:
    """A sampling seed for (run seed, step, process, sampling round), distinct across all four."""
    key = [seed, step, rank, 1] if round_ == 0 else [seed, step, rank, 1, round_]
    return int(np.random.default_rng(key).integers(0, 2**31))


def enable_gradient_checkpointing(model: Any) -> None:
    """Recompute activations in the backward pass of ``model`` (a transformers model)."""
    # transformers 5 renamed gradient checkpointing to activation checkpointing
    enable = getattr(model, "activation_checkpointing_enable", None) or model.gradient_checkpointing_enable
    enable()
    model.config.use_cache = False


def _with_lora(model: Any, config: TrainerConfig) -> Any:
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(
        r=config.lora.r,
        lora_alpha=config.lora.alpha,
        lora_dropout=config.lora.dropout,
        target_modules=config.lora.target_modules,
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, lora)


def _progress(name: str, config: TrainerConfig, initial: int, enabled: bool = True) -> Any:
    from tqdm.auto import tqdm

    disable = not (config.progress and enabled)
    return tqdm(total=config.steps, initial=initial, desc=name, unit="step", disable=disable)
