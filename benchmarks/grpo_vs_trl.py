"""Our GRPO against TRL's GRPOTrainer on one CPU setup: completions/s, seconds per step, peak memory.

Both trainers run the main job's GRPO settings (examples/tiny_arithmetic.yaml:
rlvr/Arithmetic-v0 level 1 under the ``equation`` template, 8 prompts x 8
completions per step, 4 new tokens, temperature 1.0, beta 0.04, learning rate
5e-4) with everything that could differ pinned to the same value:

- the model: one freshly initialised embedded Llama (``build_tiny_model(size,
  seed=0)``) saved to a temporary directory that both trainers load, in
  float32, with the same character tokenizer (no chat template: TRL gets
  plain-text prompts, which it tokenizes as they are, as we do);
- the prompts: the env's own prompt text for seeds 0, 1, ... (ours draws its
  seeds from its own RNG; the tasks come from the same distribution);
- the reward: the env's rubric (``envs.entry(id).make_rubric(template)``),
  scoring each completion against the task re-created from its prompt's seed,
  which TRL receives as a dataset column;
- the algorithm: group size (``num_generations``), prompts per step, max
  completion length = our ``max_new_tokens``, temperature 1, top-p 1, no
  top-k, beta (a frozen reference model in both), epsilon 0.2, group-std
  advantage scaling (``scale_rewards="group"``), per-sequence loss averaging
  (``loss_type="grpo"`` in both), one optimizer step per
  batch (``num_iterations=1``, ``steps_per_generation=1``, no gradient
  accumulation), AdamW at a constant learning rate (TRL's default
  ``optim="adamw_torch"``; ours is torch's fused AdamW, the same update in
  one kernel, and ``--trl-optim adamw_torch_fused`` gives TRL that too), gradient clipping at 1.0 (TRL 1.x has no
  ``max_prompt_length``; the prompts are a few characters);
- the machine: CPU only, float32 (TRL defaults to bf16 and gradient
  checkpointing: both off, as ours), HF ``generate`` (no vLLM), and the same
  ``torch.set_num_threads``.

Each trainer runs in its own subprocess (this script re-invokes itself with
``--run ours`` or ``--run trl`` and reads one JSON line back), so the peak
resident memory of one does not mix with the other's. Peak RSS is the
process's high-water mark (``ru_maxrss``): imports, models, optimizer and
training; "RSS at start" is the resident size just before the first step.
Warm-up steps are run, then ``--steps`` steps are timed one by one: ours
around ``GRPOTrainer.train_step()`` (rollouts, rewards, reference log-probs,
loss, backward, optimizer step), TRL's between consecutive ``on_step_end``
callbacks (the same work, plus its Trainer loop). Each trainer runs
``--repeats`` times (default 3), the two alternating so that a busy spell on
a shared machine hits both; s/step is the median of the runs' medians, and
completions/s is ``prompts_per_step * group_size`` over it. Each run's median
is printed too, and the load average before and after: other work on the
machine shows there. On 2 cores, a second busy process makes torch's two
threads wait on each other and steps take several times longer; the script
warns when a trainer's runs disagree by more than 1.5x.

TRL comes with the ``trl`` extra, which .ci/setup installs (elsewhere:
``pip install -e ".[trl]"``).

Run:
    .venv/bin/python benchmarks/grpo_vs_trl.py                 # tiny and small, 2 threads on 2 cores
    .venv/bin/python benchmarks/grpo_vs_trl.py --threads 1 --sizes tiny
    .venv/bin/python benchmarks/grpo_vs_trl.py --max-new-tokens 32   # a longer budget than the job's 4
    .venv/bin/python benchmarks/grpo_vs_trl.py --profile --sizes small   # where our step's time goes

``--profile`` needs no TRL: it times the phases of our step (rollouts,
generate, env reset and step, tokenization, reference and policy forward,
backward, ...) with plain clocks, then lists cProfile's top functions.

The target: our throughput >= 1.5x TRL's with peak memory no higher.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "examples" / "tiny_arithmetic.yaml"
RESULT_PREFIX = "RESULT "
TRL_MISSING = "this benchmark compares against TRL: install it with `pip install -e '.[trl]'`"


# --- the shared setup ----------------------------------------------------------------


def job_settings(max_new_tokens: int | None = None) -> dict[str, Any]:
    """The main job's GRPO settings, the ones both trainers are given (optionally another token budget)."""
    from rlvr.trainers.algorithms.config import load_config_file

    fields = load_config_file(CONFIG)
    keys = ("env", "env_options", "prompts_per_step", "group_size", "max_new_tokens", "learning_rate", "beta")
    settings = {key: fields[key] for key in keys} | {"temperature": 1.0, "epsilon": 0.2, "max_grad_norm": 1.0}
    if max_new_tokens is not None:
        settings["max_new_tokens"] = max_new_tokens
    return settings


def rss_mib() -> float:
    """Current resident set size of this process, MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mib() -> float:
    """High-water mark of this process's resident set size, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- one trainer, in this process (the --run child) ------------------------------------


def run_ours(settings: dict[str, Any], model_dir: str, warmup: int, steps: int) -> dict[str, Any]:
    from rlvr.trainers.algorithms.config import GRPOConfig
    from rlvr.trainers.algorithms.grpo import GRPOTrainer

    with tempfile.TemporaryDirectory(prefix="grpo-ours-") as output_dir:
        config = GRPOConfig(
            **settings,
            model=model_dir,
            output_dir=output_dir,
            seed=0,
            cold_start_steps=0,
            steps=warmup + steps,
            num_iterations=1,
            scale_rewards="group",
            loss_type="grpo",
            gradient_accumulation_steps=1,
            lr_scheduler="constant",
            device="cpu",
            bf16=False,
            tensorboard=False,
            progress=False,
        )
        trainer = GRPOTrainer(config)
        start_rss = rss_mib()
        times, lengths = [], []
        for _ in range(warmup + steps):
            started = time.perf_counter()
            metrics = trainer.train_step()
            times.append(time.perf_counter() - started)
            trainer.step += 1
            lengths.append(metrics["completions/mean_length"])
    return {"step_seconds": times[warmup:], "start_rss_mib": start_rss, "mean_length": statistics.mean(lengths)}


def run_trl(
    settings: dict[str, Any], model_dir: str, warmup: int, steps: int, optim: str = "adamw_torch"
) -> dict[str, Any]:
    try:
        from datasets import Dataset
        from transformers import AutoTokenizer, TrainerCallback
        from trl import GRPOConfig as TRLConfig
        from trl import GRPOTrainer as TRLTrainer
    except ImportError as error:
        raise SystemExit(f"{TRL_MISSING} ({error})") from None

    from rlvr import envs

    options = dict(settings["env_options"])
    prompts_per_step, group_size = settings["prompts_per_step"], settings["group_size"]
    env = envs.make(settings["env"], **options)
    entry = envs.entry(settings["env"])
    rubric = entry.make_rubric(entry.templates[options.get("template", next(iter(entry.templates)))])
    seeds = range((warmup + steps + 2) * prompts_per_step)
    rows = [{"prompt": env.reset(seed=seed)[0], "seed": seed} for seed in seeds]

    lengths: list[int] = []

    def arithmetic_reward(
        completions: list[str], completion_ids: list[list[int]], seed: list[int], **_: Any
    ) -> list[float | None]:
        """The env's rubric on each completion, against the task of its prompt's seed."""
        lengths.extend(len(ids) for ids in completion_ids)
        rewards = []
        for completion, task_seed in zip(completions, seed, strict=True):
            _, info = env.reset(seed=task_seed)
            rewards.append(rubric.score(completion, info["task"]).reward)
        return rewards

    class StepTimer(TrainerCallback):
        def __init__(self) -> None:
            self.marks: list[float] = []
            self.start_rss = float("nan")

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.start_rss = rss_mib()
            self.marks.append(time.perf_counter())

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.marks.append(time.perf_counter())

    timer = StepTimer()
    with tempfile.TemporaryDirectory(prefix="grpo-trl-") as output_dir:
        args = TRLConfig(
            output_dir=output_dir,
            use_cpu=True,
            bf16=False,
            fp16=False,
            gradient_checkpointing=False,
            report_to="none",
            logging_strategy="no",
            save_strategy="no",
            eval_strategy="no",
            disable_tqdm=True,
            log_completions=False,
            seed=0,
            max_steps=warmup + steps,
            per_device_train_batch_size=prompts_per_step * group_size,
            gradient_accumulation_steps=1,
            steps_per_generation=1,
            num_generations=group_size,
            max_completion_length=settings["max_new_tokens"],
            temperature=settings["temperature"],
            top_p=1.0,
            top_k=0,
            beta=settings["beta"],
            epsilon=settings["epsilon"],
            num_iterations=1,
            loss_type="grpo",
            scale_rewards="group",
            learning_rate=settings["learning_rate"],
            lr_scheduler_type="constant",
            warmup_steps=0,
            weight_decay=0.0,
            max_grad_norm=settings["max_grad_norm"],
            optim=optim,
            dataloader_num_workers=0,
        )
        trainer = TRLTrainer(
            model=model_dir,
            reward_funcs=arithmetic_reward,
            args=args,
            train_dataset=Dataset.from_list(rows),
            processing_class=AutoTokenizer.from_pretrained(model_dir),
            callbacks=[timer],
        )
        trainer.train()
    times = [b - a for a, b in zip(timer.marks, timer.marks[1:], strict=False)]
    if len(times) != warmup + steps:
        raise RuntimeError(f"TRL ran {len(times)} steps, expected {warmup + steps}")
    return {"step_seconds": times[warmup:], "start_rss_mib": timer.start_rss, "mean_length": statistics.mean(lengths)}


def child(which: str, args: argparse.Namespace) -> None:
    import torch
    from transformers.utils import logging as transformers_logging

    torch.set_num_threads(args.threads)
    transformers_logging.set_verbosity_error()
    settings = job_settings(args.max_new_tokens)
    if which == "ours":
        result = run_ours(settings, args.model_dir, args.warmup, args.steps)
    else:
        result = run_trl(settings, args.model_dir, args.warmup, args.steps, args.trl_optim)
    result |= {"peak_rss_mib": peak_rss_mib(), "threads": torch.get_num_threads()}
    print(RESULT_PREFIX + json.dumps(result), flush=True)


# --- the comparison (the parent) ---------------------------------------------------------


def measure(which: str, model_dir: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, __file__, "--run", which, "--model-dir", model_dir]
    command += ["--warmup", str(args.warmup), "--steps", str(args.steps), "--threads", str(args.threads)]
    command += ["--trl-optim", args.trl_optim]
    if args.max_new_tokens is not None:
        command += ["--max-new-tokens", str(args.max_new_tokens)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if done.returncode or not lines:
        raise RuntimeError(f"--run {which} failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(lines[-1].removeprefix(RESULT_PREFIX))


def merge(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Repeated runs of one trainer: each run's median step time; the memory figures of the median run by peak."""
    by_peak = sorted(runs, key=lambda run: run["peak_rss_mib"])
    merged = dict(by_peak[len(by_peak) // 2])
    merged["run_medians"] = [statistics.median(run["step_seconds"]) for run in runs]
    return merged


def compare(args: argparse.Namespace) -> None:
    import torch
    import transformers
    import trl

    from rlvr.trainers.models.policy import build_tiny_model, save_policy

    settings = job_settings(args.max_new_tokens)
    completions = settings["prompts_per_step"] * settings["group_size"]
    print(
        f"torch {torch.__version__}, transformers {transformers.__version__}, trl {trl.__version__}; "
        f"{args.threads} threads on {os.cpu_count()} CPUs"
    )
    print(
        f"{settings['env']} {settings['env_options']}: {settings['prompts_per_step']} prompts x "
        f"{settings['group_size']} completions, {settings['max_new_tokens']} new tokens, beta {settings['beta']}; "
        f"median of {args.repeats} x {args.steps} steps, each run after {args.warmup} warm-up steps\n"
    )
    load_before = os.getloadavg()[0]
    header = f"{'model':6} {'trainer':7} {'s/step':>8} {'completions/s':>14} {'peak RSS MiB':>13} {'RSS at start':>13}"
    header += "   s/step of each run"
    rows, ratios, noisy = [header], [], []
    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix=f"grpo-{size}-") as model_dir:
            model, tokenizer = build_tiny_model(size, seed=0)
            save_policy(model, tokenizer, model_dir)
            runs: dict[str, list[dict[str, Any]]] = {"ours": [], "trl": []}
            for _ in range(args.repeats):  # alternate, so a noisy spell on the machine hits both
                for which, done in runs.items():
                    done.append(measure(which, model_dir, args))
        results = {which: merge(done) for which, done in runs.items()}
        for which, result in results.items():
            step = statistics.median(result["run_medians"])
            result["step"] = step
            medians = result["run_medians"]
            rows.append(
                f"{size:6} {which:7} {step:8.3f} {completions / step:14.0f} "
                f"{result['peak_rss_mib']:13.0f} {result['start_rss_mib']:13.0f}   "
                + " ".join(f"{m:.3f}" for m in medians)
            )
            if max(medians) > 1.5 * min(medians):
                noisy.append(f"{size}/{which}")
        ours, theirs = results["ours"], results["trl"]
        ratios.append(
            f"{size}: throughput ours/TRL {theirs['step'] / ours['step']:.2f}x, "
            f"peak RSS ours/TRL {ours['peak_rss_mib'] / theirs['peak_rss_mib']:.2f}x "
            f"(mean completion length {ours['mean_length']:.1f} tokens ours, {theirs['mean_length']:.1f} TRL)"
        )
    print("\n".join(rows))
    print(f"\nload average (1 min) before: {load_before:.2f}, after: {os.getloadavg()[0]:.2f}")
    print("\n" + "\n".join(ratios))
    print("target: throughput >= 1.50x TRL's, peak RSS <= 1.00x")
    if noisy:
        print(f"warning: the runs of {', '.join(noisy)} disagree by over 1.5x: the machine was busy; run again")


# --- where our time goes ---------------------------------------------------------------------


class PhaseClock:
    """Wall-clock seconds spent inside wrapped callables, by label; overhead is two clock reads per call."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def wrap(self, label: str, fn: Any) -> Any:
        self.seconds.setdefault(label, 0.0)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - started

        return timed


def instrument(trainer: Any) -> PhaseClock:
    """Wrap the parts of our ``train_step`` in a ``PhaseClock``, in this process only."""
    import torch

    import rlvr.trainers.algorithms.grpo
    import rlvr.trainers.algorithms.rl_trainer

    loop, grpo = rlvr.trainers.algorithms.rl_trainer, rlvr.trainers.algorithms.grpo
    clock = PhaseClock()
    loop.collect_episodes = clock.wrap("rollouts", loop.collect_episodes)  # type: ignore[attr-defined]
    trainer.engine.sample = clock.wrap("generate", trainer.engine.sample)
    for env in trainer.envs:
        env.reset = clock.wrap("env.reset", env.reset)
        env.step = clock.wrap("env.step", env.step)
    trainer.renderer.prompt = clock.wrap("tokenize", trainer.renderer.prompt)
    trainer.tokenizer.decode = clock.wrap("decode", trainer.tokenizer.decode)
    loop.pad_batch = clock.wrap("pad_batch", loop.pad_batch)  # type: ignore[attr-defined]
    trainer.reference_logprobs = clock.wrap("reference", trainer.reference_logprobs)
    trainer._optimizer_step = clock.wrap("optimizer_step", trainer._optimizer_step)
    # the policy's forward in the loss; the reference's goes through rl_trainer's own name
    grpo.token_logprobs = clock.wrap("token_logprobs", grpo.token_logprobs)  # type: ignore[attr-defined]
    grpo.grpo_loss = clock.wrap("loss", grpo.grpo_loss)  # type: ignore[attr-defined]
    torch.Tensor.backward = clock.wrap("backward", torch.Tensor.backward)
    torch.nn.utils.clip_grad_norm_ = clock.wrap("clip", torch.nn.utils.clip_grad_norm_)
    return clock


PHASE_ROWS: list[tuple[str, str]] = [
    ("rollouts (collect_episodes)", "rollouts"),
    ("  HF sampling (engine.sample)", "generate"),
    ("  env.reset (task and prompt text)", "env.reset"),
    ("  prompt tokenization", "tokenize"),
    ("  env.step (rubric)", "env.step"),
    ("  completion decode", "decode"),
    ("  the rest (episode bookkeeping, padding prompts)", "rollout_rest"),
    ("padding the batch", "pad_batch"),
    ("reference log-probs (forward, no grad)", "reference"),
    ("optimizer step (_optimizer_step)", "optimizer_step"),
    ("  policy forward (token_logprobs)", "policy_forward"),
    ("  GRPO loss", "loss"),
    ("  backward", "backward"),
    ("  grad clipping", "clip"),
    ("  the rest (AdamW step, scheduler, metrics)", "optimizer_rest"),
]


def profile(args: argparse.Namespace) -> None:
    """Where our step's time goes: cProfile's top functions, and phase wall-clock without the profiler."""
    import cProfile
    import pstats

    import torch

    from rlvr.trainers.algorithms.config import GRPOConfig
    from rlvr.trainers.algorithms.grpo import GRPOTrainer
    from rlvr.trainers.models.policy import build_tiny_model, save_policy

    torch.set_num_threads(args.threads)
    size = args.sizes[0]
    with tempfile.TemporaryDirectory(prefix="grpo-profile-") as tmp:
        model, tokenizer = build_tiny_model(size, seed=0)
        save_policy(model, tokenizer, Path(tmp) / "model")
        config = GRPOConfig(
            **job_settings(args.max_new_tokens),
            model=str(Path(tmp) / "model"),
            output_dir=Path(tmp) / "run",
            cold_start_steps=0,
            steps=args.warmup + 2 * args.steps,
            device="cpu",
            tensorboard=False,
            progress=False,
        )
        trainer = GRPOTrainer(config)

        def steps(count: int) -> float:
            started = time.perf_counter()
            for _ in range(count):
                trainer.train_step()
                trainer.step += 1
            return (time.perf_counter() - started) / count

        steps(args.warmup)
        profiler = cProfile.Profile()
        profiler.enable()
        profiled = steps(args.steps)
        profiler.disable()
        clock = instrument(trainer)
        per_step = steps(args.steps)
        phases = {label: seconds / args.steps for label, seconds in clock.seconds.items()}

    phases["policy_forward"] = phases["token_logprobs"]
    rollout_parts = ("generate", "env.reset", "tokenize", "env.step", "decode")
    phases["rollout_rest"] = phases["rollouts"] - sum(phases[key] for key in rollout_parts)
    optimizer_parts = ("policy_forward", "loss", "backward", "clip")
    phases["optimizer_rest"] = phases["optimizer_step"] - sum(phases[key] for key in optimizer_parts)
    print(f"our GRPO, model {size!r}, {args.threads} threads: {per_step:.4f} s/step over {args.steps} steps\n")
    for label, key in PHASE_ROWS:
        print(f"{label:50} {phases[key]:8.4f} s/step  {100 * phases[key] / per_step:5.1f}%")
    print(f"\nunder cProfile ({profiled:.4f} s/step), top functions by own time:")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["tiny", "small"], help="embedded model sizes (TINY_SIZES)")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per trainer")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    parser.add_argument("--max-new-tokens", type=int, help="another completion budget than the job's (4)")
    parser.add_argument("--repeats", type=int, default=3, help="subprocesses per trainer, alternating")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="torch.set_num_threads in both")
    parser.add_argument(
        "--trl-optim",
        default="adamw_torch",
        help="TRL's optimizer (its default adamw_torch, or adamw_torch_fused: the fused AdamW ours uses)",
    )
    parser.add_argument("--profile", action="store_true", help="profile our trainer instead of comparing")
    parser.add_argument("--run", choices=["ours", "trl"], help=argparse.SUPPRESS)
    parser.add_argument("--model-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()

    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # saving and loading the model would draw bars
    if args.run:
        child(args.run, args)
    elif args.profile:
        profile(args)
    else:
        try:
            import trl  # noqa: F401
        except ImportError:
            raise SystemExit(TRL_MISSING) from None
        compare(args)


if __name__ == "__main__":
    main()
