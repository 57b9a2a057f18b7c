"""``rlvr train --trainer trl``: TRL's ``GRPOTrainer`` on any registered env, from our ``GRPOConfig``.

The env is handed to TRL the way any outside trainer gets it (``rlvr.envs.data.export``):
``to_dataset`` for the prompts and ``reward_function`` for the rubric, so
switching the trainer touches nothing env-side; a mixture is one data set whose
rows carry their env and one reward function that hands each completion to its
env's rubric (``env_data``). The policy is loaded with
``load_policy`` (``tiny`` works) and cold-started with the same SFT as the
``grpo`` trainer; held-out accuracy before and after is measured with our own
``rlvr.trainers.run.evaluate``, so the two trainers print comparable numbers.

How our fields become ``trl.GRPOConfig`` fields (``trl_arguments``):

- one step = ``prompts_per_step`` prompts x ``group_size`` completions:
  ``num_generations = group_size``, ``per_device_train_batch_size = batch /
  gradient_accumulation_steps``, ``steps_per_generation =
  gradient_accumulation_steps``; TRL counts optimizer steps, so ``max_steps =
  steps * num_iterations`` (and ``save_every``/``eval_every`` are scaled the same);
- ``max_new_tokens -> max_completion_length``, ``lr_scheduler -> lr_scheduler_type``,
  ``warmup_steps``, ``learning_rate``, ``weight_decay``, ``max_grad_norm``,
  ``beta``, ``epsilon``, ``epsilon_high``, ``num_iterations``, ``temperature``,
  ``top_p``, ``top_k``, ``min_p``, ``entropy_coef``, ``scale_rewards``, ``seed``,
  ``loss_type``, ``importance_sampling_level``, ``mask_truncated_completions``,
  ``gradient_checkpointing`` keep their meaning (TRL's names);
- ``overlong_buffer -> trl.rewards.get_soft_overlong_punishment`` as a second
  reward function (TRL's punishment is ``overlong_penalty = 1``);
- ``importance_sampling_correction`` -> TRL's ``vllm_importance_sampling_correction``
  (``token_truncate`` at ``importance_sampling_cap``), with vLLM only;
- ``bf16``: None means on with CUDA only; ``device="cpu" -> use_cpu``;
- ``lora -> peft_config``; ``engine="vllm" -> use_vllm`` (colocated) when vLLM is installed;
- ``save_every``/``keep_checkpoints``/``resume`` -> TRL's own checkpoints
  (``output_dir/checkpoint-N``); TRL's logs go to our ``metrics.jsonl`` (and
  TensorBoard when ``tensorboard``), indexed by TRL's optimizer step; TRL's
  ``report_to`` is ``"none"``.

Metrics: TRL's logs go to ``metrics.jsonl`` under the names the ``grpo``
trainer uses (TRL's own). The reward function logs each rubric criterion as
``rewards/<criterion>/mean`` and ``/std`` through TRL's ``log_metric``, as the
``grpo`` and ``ppo`` trainers do; TRL's per-function ``rewards/rlvr_<env>/...``
repeat ``reward`` and ``reward_std`` and are left out.

Not honoured, and refused by name (``TRLConfigError``): ``fsdp`` (give TRL an
accelerate FSDP config instead), ``filter_zero_std_groups`` and
``dynamic_sampling`` (TRL has no such filter), ``kl_penalty="reward"`` and a
``kl_estimator`` other than k3 (TRL's KL is k3 in the loss), ``async_rollouts``,
``stop``, ``overlong_penalty`` other than 1, ``importance_sampling_correction``
without vLLM, ``device="cuda:N"`` (use ``CUDA_VISIBLE_DEVICES``),
``engine="vllm"`` without vLLM, envs with ``max_turns > 1`` (the data set
holds the first turn only), a mixture's ``loss_weight`` and
``scale_rewards_by_env`` (TRL weighs and scales every row alike), and
``curriculum`` (TRL's data set is fixed before training).
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from transformers import PrinterCallback, TrainerCallback

from rlvr import envs
from rlvr.envs.core.text_env import TextEnv
from rlvr.envs.data.export import reward_function, to_dataset
from rlvr.trainers.algorithms.config import GRPOConfig, TrainerConfigError
from rlvr.trainers.algorithms.grpo import GRPOResult
from rlvr.trainers.models.policy import load_policy, save_policy
from rlvr.trainers.pipelines.sft import cold_start
from rlvr.trainers.rollout.engines import make_engine
from rlvr.trainers.rollout.env_mixture import draw_envs, short_names
from rlvr.trainers.rollout.episodes import PromptRenderer
from rlvr.trainers.run.curves import plot_curves
from rlvr.trainers.run.evaluate import EVAL_SEED_OFFSET, evaluate_envs
from rlvr.trainers.run.metrics import MetricsLogger
from rlvr.trainers.run.run_dir import (
    RunLock,
    RunLockedError,
    clear_run,
    read_run_record,
    record_resume,
    resumable_changes,
    resume_conflict,
    write_run_record,
)

__all__ = ["TRLConfigError", "check_supported", "env_data", "train_trl", "trl_arguments"]


class TRLConfigError(TrainerConfigError):
    """A ``GRPOConfig`` field TRL's trainer cannot honour; the message names the field."""


def train_trl(config: GRPOConfig) -> GRPOResult:
    """Train ``config.model`` on ``config.env`` with TRL's ``GRPOTrainer``.

    Args:
        config: the same config as the ``grpo`` trainer's (see the module
            docstring for how each field maps onto TRL).

    Returns:
        ``GRPOResult``: the output directory (``metrics.jsonl``, ``curves.png``,
        TRL checkpoints, ``final/``), held-out metrics before and after
        (``accuracy``, ``reward``, ``pass@k``, from ``rlvr.trainers.run.evaluate``), and
        the GRPO steps completed.

    Raises:
        TRLConfigError: a field TRL cannot honour (named in the message).
        envs.UnknownEnvError, envs.ConfigError: a wrong env id or option.
        OSError: the model cannot be loaded.
    """
    check_supported(config)
    output_dir = Path(config.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    try:
        lock = RunLock(output_dir).acquire()  # one run per directory, as for the grpo trainer
    except RunLockedError as error:
        raise TRLConfigError(str(error)) from None
    try:
        if config.overwrite:
            clear_run(output_dir)
        checkpoint = _check_resume(config, output_dir)
        write_run_record(output_dir, "trl", config.model_dump(mode="json"), resumed=checkpoint is not None)
        return _train(config, output_dir, checkpoint)
    finally:
        lock.release()


def _check_resume(config: GRPOConfig, output_dir: Path) -> str | None:
    """The TRL checkpoint in ``output_dir`` this run resumes (None: it starts afresh); refuses one of another run.

    TRL's checkpoints carry no config of ours, so the run is known by ``run.json``: another
    trainer or a differing field outside ``RESUMABLE_FIELDS`` is refused as the ``grpo``
    trainer refuses it, and the allowed changes go to ``resumes.jsonl``.
    """
    from transformers.trainer_utils import get_last_checkpoint

    checkpoint = get_last_checkpoint(str(output_dir)) if config.resume else None
    if checkpoint is None:
        return None
    saved = read_run_record(output_dir)
    if saved is None:
        return checkpoint  # checkpoints from before run.json: nothing to compare them with
    current = config.model_dump(mode="json")
    if conflict := resume_conflict(output_dir, saved.get("trainer", "trl"), "trl", saved["config"], current):
        raise TRLConfigError(conflict)
    if changes := resumable_changes(saved["config"], current):
        record_resume(output_dir, int(Path(checkpoint).name.rsplit("-", 1)[-1]), changes)
    return checkpoint


def _train(config: GRPOConfig, output_dir: Path, checkpoint: str | None) -> GRPOResult:
    """``train_trl`` once the run directory is held, resuming ``checkpoint`` (``_check_resume``) if any."""
    from trl import GRPOTrainer

    model, tokenizer = _prepare_policy(config, output_dir)
    renderer = PromptRenderer.for_model(
        model, tokenizer, config.use_chat_template, config.max_new_tokens, config.env_name
    )

    dataset, reward = env_data(config, chat=renderer.chat)

    # Started afresh, the directory's earlier lines go: a restart before the first checkpoint does not log twice.
    resume_step = int(Path(checkpoint).name.rsplit("-", 1)[-1]) if checkpoint else -1
    log = MetricsLogger(output_dir, tensorboard=config.tensorboard, resume_step=resume_step)
    eval_before = _evaluate(config, model, tokenizer, renderer)
    if checkpoint is None:
        log.log(0, eval_before, split="eval")

    reward_funcs: list[Any] = [reward]
    if config.overlong_buffer:
        from trl.rewards import get_soft_overlong_punishment

        reward_funcs.append(get_soft_overlong_punishment(config.max_new_tokens, config.overlong_buffer))
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=cast(Any, reward_funcs),  # TRL types the list as float | None; ours never holds None
        args=trl_arguments(config),
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=_lora_config(config),
        callbacks=[_Logging(config, log, tokenizer, renderer, repeated=getattr(reward, "__name__", ""))],
    )
    trainer.remove_callback(PrinterCallback)  # TRL's logs go to metrics.jsonl, not to stdout
    if config.steps > 0:
        trainer.train(resume_from_checkpoint=checkpoint)
    policy = trainer.accelerator.unwrap_model(trainer.model)
    steps = trainer.state.global_step // config.num_iterations
    eval_after = _evaluate(config, policy, tokenizer, renderer)
    log.log(trainer.state.global_step, eval_after, split="eval")
    log.close()
    save_policy(policy.merge_and_unload() if config.lora.r > 0 else policy, tokenizer, output_dir / "final")
    title = f"{output_dir.name}: trl on {config.env_name}, model {config.model}"
    plot_curves(output_dir / "metrics.jsonl", output_dir / "curves.png", title=title)
    return GRPOResult(output_dir, eval_before, eval_after, steps)


def env_data(config: GRPOConfig, *, chat: bool = False) -> tuple[Any, Any]:
    """The env, or the mixture, as TRL sees it: ``(dataset, reward)`` from ``rlvr.envs.data.export``.

    One env: row ``i`` is the task of ``reset(seed=config.seed + i)`` under
    ``config.env_options`` (a ``template`` option picks the prompt template);
    there are ``prompts_per_step * steps`` rows (at least one), enough distinct
    prompts for every step (TRL cycles through them again if it runs longer).
    ``chat`` writes the prompts as chat messages. ``reward`` scores a
    completion with the env's rubric for the same template and options.

    A mixture: each row's env is drawn by weight (``draw_envs``), the rows carry
    an ``env`` column (its ``short_names`` name), and ``reward`` hands each
    completion to its own env's rubric, logging ``env/<name>/reward`` through
    TRL's ``log_metric``. TRL samples the rows at random, so each step's envs
    come in proportion to the weights, as the ``grpo`` trainer draws them.
    """
    refs = config.env_refs
    n = max(1, config.prompts_per_step * config.steps)
    if len(refs) == 1:
        options = dict(refs[0].options)
        template = options.pop("template", None)
        dataset = to_dataset(refs[0].id, n, seed=config.seed, template=template, options=options, chat=chat)
        return dataset, reward_function(refs[0].id, template=template, options=options)
    from datasets import concatenate_datasets

    names = short_names(refs)
    draws = draw_envs([ref.weight for ref in refs], n, config.seed, step=0)
    parts, rewards = [], {}
    for index, (name, ref) in enumerate(zip(names, refs, strict=True)):
        options = dict(ref.options)
        template = options.pop("template", None)
        count = max(1, draws.count(index))
        part = to_dataset(ref.id, count, seed=config.seed, template=template, options=options, chat=chat)
        parts.append(part.add_column("env", [name] * count))
        rewards[name] = reward_function(ref.id, template=template, options=options)
    shared = set.intersection(*(set(part.column_names) for part in parts))
    parts = [part.remove_columns(sorted(set(part.column_names) - shared)) for part in parts]
    starts = np.cumsum([0] + [len(part) for part in parts])
    taken = [0] * len(parts)
    order = []
    for pick in draws:  # the rows in the order drawn, each env's in its own order
        order.append(int(starts[pick]) + taken[pick] % len(parts[pick]))
        taken[pick] += 1
    return concatenate_datasets(parts).select(order), _mixture_reward(rewards)


def _mixture_reward(rewards: dict[str, Any]) -> Any:
    """A TRL reward function that scores each completion with its row's env (the ``env`` column)."""

    def reward(prompts: Any = None, completions: Any = None, env: Any = None, **columns: Any) -> list[float]:
        if completions is None or env is None:
            raise TypeError("the mixture's reward function needs completions and the data set's 'env' column")
        values = [math.nan] * len(completions)
        log_metric = columns.get("log_metric")
        for name, score in rewards.items():
            rows = [i for i, row_env in enumerate(env) if row_env == name]
            if not rows:
                continue
            picked = {key: [value[i] for i in rows] for key, value in columns.items() if _per_row(value, len(env))}
            scored = score(
                [prompts[i] for i in rows] if prompts is not None else None,
                [completions[i] for i in rows],
                **picked,
                **({"log_metric": log_metric} if callable(log_metric) else {}),
            )
            for i, value in zip(rows, scored, strict=True):
                values[i] = value
            judged = [v for v in scored if not math.isnan(v)]
            if callable(log_metric) and judged:
                log_metric(f"env/{name}/reward", float(np.mean(judged)))
        return values

    reward.__name__ = reward.__qualname__ = "rlvr_mixture"
    return reward


def _per_row(value: Any, rows: int) -> bool:
    """Whether a reward-function argument is a column (one value per row) rather than a setting."""
    return isinstance(value, list | tuple) and len(value) == rows


def check_supported(config: GRPOConfig) -> None:
    """Raise ``TRLConfigError`` naming the first field TRL's trainer cannot honour."""
    if config.fsdp:
        raise TRLConfigError("fsdp=True is not supported with --trainer trl: launch TRL with an accelerate FSDP config")
    refused = {
        "filter_zero_std_groups": (config.filter_zero_std_groups, "TRL has no such filter"),
        "dynamic_sampling": (config.dynamic_sampling, "TRL has no dynamic sampling"),
        "kl_penalty": (config.kl_penalty != "loss", "TRL puts the KL in the loss only"),
        "kl_estimator": (config.kl_estimator != "k3", "TRL's KL is the k3 estimator"),
        "async_rollouts": (config.async_rollouts, "TRL samples synchronously here"),
        "stop": (bool(config.stop), "TRL's generation takes no stop strings here"),
        "overlong_penalty": (
            config.overlong_buffer > 0 and config.overlong_penalty != 1.0,
            "TRL's soft overlong punishment goes down to -1 exactly",
        ),
    }
    for name, (is_set, why) in refused.items():
        if is_set:
            value = getattr(config, name)
            raise TRLConfigError(f"{name}={value!r} is not supported with --trainer trl: {why}")
    if config.importance_sampling_correction and config.engine != "vllm":
        raise TRLConfigError(
            "importance_sampling_correction=True is supported with --trainer trl only with engine='vllm' "
            "(TRL corrects vLLM's sampling only)"
        )
    if config.device.startswith("cuda:"):
        raise TRLConfigError(
            f"device={config.device!r} is not supported with --trainer trl: use CUDA_VISIBLE_DEVICES and device='cuda'"
        )
    if config.engine == "vllm" and importlib.util.find_spec("vllm") is None:
        raise TRLConfigError("engine='vllm' needs vLLM installed (pip install vllm); use engine='hf' on this machine")
    envs.import_modules(config.imports)  # modules that register envs of the user's own
    for ref in config.env_refs:
        env = envs.make(ref.id, **ref.options)  # also fails early, listing the ids, on a wrong env
        try:
            turns = cast(TextEnv, env.unwrapped).config.max_turns
        finally:
            env.close()
        if turns > 1:
            raise TRLConfigError(
                f"env {ref.id!r} has max_turns={turns}: --trainer trl trains single-turn envs only "
                "(set its option max_turns=1 or use --trainer grpo)"
            )
    if config.scale_rewards_by_env and len(config.env_refs) > 1:
        raise TRLConfigError(
            "scale_rewards_by_env=True is not supported with --trainer trl: TRL scales the batch whole"
        )
    if config.curriculum:
        raise TRLConfigError("curriculum is not supported with --trainer trl: TRL's data set is fixed before training")
    if any(ref.loss_weight != 1.0 for ref in config.env_refs):
        raise TRLConfigError("a mixture's loss_weight is not supported with --trainer trl (TRL weighs every row alike)")


def trl_arguments(config: GRPOConfig) -> Any:
    """The ``trl.GRPOConfig`` equivalent to ``config`` (mapping in the module docstring)."""
    from trl import GRPOConfig as TRLConfig

    batch = config.prompts_per_step * config.group_size
    cuda = torch.cuda.is_available() and config.device != "cpu"
    bf16 = config.bf16 if config.bf16 is not None else cuda
    scheduler = {"constant": "constant_with_warmup"}.get(config.lr_scheduler, config.lr_scheduler)
    return TRLConfig(
        output_dir=str(config.output_dir),
        use_cpu=not cuda,
        bf16=bf16,
        fp16=False,
        seed=config.seed,
        max_steps=max(1, config.steps * config.num_iterations),
        per_device_train_batch_size=batch // config.gradient_accumulation_steps,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        steps_per_generation=config.gradient_accumulation_steps,
        num_generations=config.group_size,
        max_completion_length=config.max_new_tokens,
        temperature=config.temperature,
        top_p=config.top_p,
        top_k=config.top_k,
        min_p=config.min_p or None,
        beta=config.beta,
        epsilon=config.epsilon,
        epsilon_high=config.clip_high,
        num_iterations=config.num_iterations,
        loss_type=config.loss_type,
        importance_sampling_level=config.importance_sampling_level,
        mask_truncated_completions=config.mask_truncated_completions,
        vllm_importance_sampling_correction=config.importance_sampling_correction,
        vllm_importance_sampling_mode="token_truncate",
        vllm_importance_sampling_clip_max=config.importance_sampling_cap,
        scale_rewards=config.scale_rewards,
        entropy_coef=config.entropy_coef,
        learning_rate=config.learning_rate,
        lr_scheduler_type=scheduler,
        warmup_steps=config.warmup_steps,
        weight_decay=config.weight_decay,
        max_grad_norm=config.max_grad_norm,
        activation_checkpointing=config.gradient_checkpointing,  # transformers 5's name for it
        use_vllm=config.engine == "vllm",
        vllm_mode="colocate",
        save_strategy="steps" if config.save_every else "no",
        save_steps=max(1, config.save_every * config.num_iterations),
        save_total_limit=config.keep_checkpoints,
        logging_steps=1,
        report_to="none",
        eval_strategy="no",
        disable_tqdm=not config.progress,
        log_completions=False,
        dataloader_num_workers=0,
    )


# --- helpers --------------------------------------------------------------------


def _prepare_policy(config: GRPOConfig, output_dir: Path) -> tuple[Any, Any]:
    """The policy TRL starts from, loaded from a path TRL can reload (its reference model is built from it).

    The embedded ``tiny`` model and cold-started policies exist only in memory,
    so they are written to ``output_dir/sft`` first, as the ``grpo`` trainer does.
    """
    cuda = torch.cuda.is_available() and config.device != "cpu"
    dtype = torch.bfloat16 if (config.bf16 if config.bf16 is not None else cuda) else None
    base = config.model
    if config.sft_steps > 0 or config.model.partition(":")[0] == "tiny":
        base = str(output_dir / "sft")
        if not (output_dir / "sft" / "config.json").exists():
            model, tokenizer = load_policy(config.model, device="cuda" if cuda else "cpu", seed=config.seed)
            if config.sft_steps > 0:
                cold_start(model, tokenizer, config, progress=config.progress)
            save_policy(model, tokenizer, base)
    return load_policy(base, dtype=dtype, device="cuda" if cuda else "cpu", seed=config.seed)


def _lora_config(config: GRPOConfig) -> Any:
    if config.lora.r == 0:
        return None
    from peft import LoraConfig

    lora = config.lora
    return LoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=lora.target_modules,
        task_type="CAUSAL_LM",
    )


def _evaluate(config: GRPOConfig, model: Any, tokenizer: Any, renderer: PromptRenderer) -> dict[str, float]:
    """Held-out metrics from ``rlvr.trainers.run.evaluate``, exactly as the ``grpo`` trainer computes them."""
    was_training = model.training
    model.eval()
    try:
        return evaluate_envs(
            config.env_refs,
            make_engine("hf", model, tokenizer),
            renderer,
            [EVAL_SEED_OFFSET + i for i in range(config.eval_prompts)],
            max_new_tokens=config.max_new_tokens,
            k=config.pass_k,
            temperature=config.temperature or 1.0,
            seed=config.seed,
        )
    finally:
        model.train(was_training)


class _Logging(TrainerCallback):  # type: ignore[misc]
    """TRL's logs into our ``metrics.jsonl``; held-out evaluation every ``eval_every`` GRPO steps."""

    def __init__(
        self, config: GRPOConfig, log: MetricsLogger, tokenizer: Any, renderer: PromptRenderer, repeated: str = ""
    ) -> None:
        self.config, self.log, self.tokenizer, self.renderer = config, log, tokenizer, renderer
        # TRL's per-function lines for the env's reward repeat ``reward`` and ``reward_std``
        self.left_out = {f"rewards/{repeated}/mean", f"rewards/{repeated}/std"}

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **_: Any) -> None:
        numbers = {
            k: float(v)
            for k, v in (logs or {}).items()
            if isinstance(v, int | float) and k not in ("step", "time") and k not in self.left_out
        }
        if numbers:
            self.log.log(state.global_step, {k: v if math.isfinite(v) else math.nan for k, v in numbers.items()})

    def on_step_end(self, args: Any, state: Any, control: Any, model: Any = None, **_: Any) -> None:
        every = self.config.eval_every * self.config.num_iterations
        if every and state.global_step % every == 0 and state.global_step < state.max_steps and model is not None:
            self.log.log(state.global_step, _evaluate(self.config, model, self.tokenizer, self.renderer), split="eval")
