"""GRPO against PPO on the same env, model and budget, written up as a markdown report with plots.

GRPO drops PPO's critic and takes each completion's advantage from its group
of G samples of the same prompt; the DeepSeekMath paper says this is what
makes it cheaper. This script trains both and measures it:

    python examples/grpo_vs_ppo.py                          # the main job's set-up, 800 steps each
    python examples/grpo_vs_ppo.py --steps 200 --out runs/grpo-vs-ppo

The two configs (``examples/tiny_arithmetic.yaml`` and
``examples/tiny_arithmetic_ppo.yaml`` by default) share the env, the model,
the cold start and the number of completions sampled per step (8 prompts x 8
for GRPO, 64 prompts x 1 for PPO); the flags here override both alike. Each
trainer runs in a process of its own, so that its peak memory is its own:
peak resident memory (RSS) on a CPU, peak allocated GPU memory on a GPU, and
the bytes of the model state it holds (weights of policy, reference and
critic; gradients; AdamW moments), counted from the live tensors.

``OUT/report.md`` has the set-up, a results table (held-out accuracy, seconds
per step, memory) and the plots ``OUT/learning_curves.png`` (training reward
and held-out accuracy against step and against training time) and
``OUT/cost.png``. Each run's own metrics, curves and checkpoints are under
``OUT/grpo`` and ``OUT/ppo``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
from pathlib import Path
from queue import Empty
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TRAINERS = ("grpo", "ppo")
CONFIGS = {"grpo": ROOT / "examples" / "tiny_arithmetic.yaml", "ppo": ROOT / "examples" / "tiny_arithmetic_ppo.yaml"}
SHARED_OVERRIDES = ("steps", "model", "seed", "device", "cold_start_steps", "eval_every", "eval_prompts")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("runs/grpo-vs-ppo"), help="report and runs go here")
    parser.add_argument("--grpo-config", type=Path, default=CONFIGS["grpo"], help="GRPO config file")
    parser.add_argument("--ppo-config", type=Path, default=CONFIGS["ppo"], help="PPO config file")
    parser.add_argument("--steps", type=int, help="training steps of both (default: the config files')")
    parser.add_argument("--model", help="model of both, e.g. tiny:small or a local directory")
    parser.add_argument("--seed", type=int, help="seed of both")
    parser.add_argument("--device", help="cpu, cuda, ... (default: auto)")
    parser.add_argument("--cold-start-steps", type=int, help="cold-start SFT steps of both")
    parser.add_argument("--eval-every", type=int, help="evaluate every N steps")
    parser.add_argument("--eval-prompts", type=int, help="held-out prompts per evaluation")
    args = parser.parse_args(argv)

    from rlvr.trainers.algorithms.config import load_config_file

    overrides = {name: getattr(args, name) for name in SHARED_OVERRIDES if getattr(args, name) is not None}
    files = {"grpo": args.grpo_config, "ppo": args.ppo_config}
    runs: dict[str, dict[str, Any]] = {}
    for name in TRAINERS:
        values = {**load_config_file(files[name]), **overrides, "output_dir": str(args.out / name)}
        values.update(resume=False, progress=True, tensorboard=False)
        values.pop("trainer", None)
        print(f"--- {name}: {files[name]}", flush=True)
        runs[name] = _run_in_own_process(name, values)

    report = write_report(args.out, runs)
    print(f"report: {report}")
    return 0


# --- one trainer, in a process of its own ------------------------------------


def _run_in_own_process(name: str, values: dict[str, Any]) -> dict[str, Any]:
    """Train ``name`` on ``values`` in a fresh (spawned) process; its measurements as a dict."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_train_and_measure, args=(name, values, queue))
    process.start()
    while True:
        try:
            result = queue.get(timeout=5)
            break
        except Empty:
            if not process.is_alive():
                raise SystemExit(f"{name}: the training process died (exit code {process.exitcode})") from None
    process.join()
    if "error" in result:
        raise SystemExit(f"{name} failed: {result['error']}")
    return result


def _train_and_measure(name: str, values: dict[str, Any], queue: Any) -> None:
    try:
        queue.put(_measure(name, values))
    except Exception as error:  # the parent reports it
        queue.put({"error": f"{type(error).__name__}: {error}"})


def _measure(name: str, values: dict[str, Any]) -> dict[str, Any]:
    import resource
    import time

    import torch

    from rlvr.trainers.algorithms.grpo import GRPOTrainer
    from rlvr.trainers.algorithms.ppo import PPOTrainer
    from rlvr.trainers.cli.train import TRAINERS as REGISTRY

    config = REGISTRY[name].config(**values)
    baseline_rss = _peak_rss_mib(resource)
    trainer = {"grpo": GRPOTrainer, "ppo": PPOTrainer}[name](config)
    if trainer.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(trainer.device)
    started = time.perf_counter()
    result = trainer.train()
    seconds = time.perf_counter() - started
    gpu_peak = torch.cuda.max_memory_allocated(trainer.device) / 2**20 if trainer.device.type == "cuda" else None
    return {
        "config": config.model_dump(mode="json"),
        "output_dir": str(result.output_dir),
        "eval_before": result.eval_before,
        "eval_after": result.eval_after,
        "seconds": seconds,
        "device": str(trainer.device),
        "peak_rss_mib": _peak_rss_mib(resource),
        "baseline_rss_mib": baseline_rss,
        "gpu_peak_mib": gpu_peak,
        "state_bytes": model_state_bytes(trainer),
    }


def _peak_rss_mib(resource: Any) -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def model_state_bytes(trainer: Any) -> dict[str, int]:
    """Bytes of what a trainer keeps for its models: weights, gradients (one per trainable weight), AdamW moments.

    Weights are counted once per tensor, over the policy, the frozen
    reference and (PPO) the critic; gradients are as large as the trainable
    weights while a backward pass runs; the optimizer's state is read from it.
    """
    models = [trainer.policy, getattr(trainer, "reference", None), getattr(trainer, "critic", None)]
    seen: set[int] = set()
    weights = trainable = 0
    for model in (m for m in models if m is not None):
        for parameter in model.parameters():
            if parameter.data_ptr() in seen:
                continue
            seen.add(parameter.data_ptr())
            size = parameter.numel() * parameter.element_size()
            weights += size
            trainable += size if parameter.requires_grad else 0
    optimizer = sum(
        value.numel() * value.element_size()
        for state in trainer.optimizer.state.values()
        for value in state.values()
        if hasattr(value, "numel") and value.dim() > 0
    )
    return {"weights": weights, "gradients": trainable, "optimizer": optimizer}


# --- the report ----------------------------------------------------------------


def write_report(out: Path, runs: dict[str, dict[str, Any]]) -> Path:
    """``out/report.md`` with ``out/learning_curves.png`` and ``out/cost.png``, from the runs' measurements."""
    from rlvr.trainers.run.metrics import read_metrics

    records = {name: read_metrics(Path(run["output_dir"]) / "metrics.jsonl") for name, run in runs.items()}
    curves = {name: _curves(rows) for name, rows in records.items()}
    _plot_learning(curves, out / "learning_curves.png")
    _plot_cost(runs, curves, out / "cost.png")

    grpo, ppo = runs["grpo"], runs["ppo"]
    on_gpu = grpo["gpu_peak_mib"] is not None
    memory_name = "peak GPU memory" if on_gpu else "peak RSS"
    memory = {name: run["gpu_peak_mib"] if on_gpu else run["peak_rss_mib"] for name, run in runs.items()}
    state = {name: sum(run["state_bytes"].values()) / 2**20 for name, run in runs.items()}
    per_step = {name: statistics.median(curves[name]["step_time"]) for name in runs}
    setup = grpo["config"]
    lines = [
        "# GRPO vs PPO",
        "",
        f"Env `{setup['env']}` with options `{json.dumps(setup['env_options'])}`, model `{setup['model']}`, "
        f"seed {setup['seed']}, on `{grpo['device']}`; both start from the same "
        f"{setup['cold_start_steps'] if setup['cold_start_steps'] is not None else 'default'}-step cold start "
        f"and run {setup['steps']} steps of {_completions(grpo['config'])} sampled completions each "
        f"(GRPO: {grpo['config']['prompts_per_step']} prompts x {grpo['config']['group_size']}; "
        f"PPO: {ppo['config']['prompts_per_step']} prompts x {ppo['config']['group_size']}, "
        f"{ppo['config']['ppo_epochs']} epochs). Held-out accuracy is on {setup['eval_prompts']} prompts.",
        "",
        f"| trainer | held-out accuracy before | after | median s/step | {memory_name} (MiB) "
        "| model state (MiB) | weights / gradients / AdamW (MiB) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, run in runs.items():
        parts = " / ".join(f"{run['state_bytes'][k] / 2**20:.2f}" for k in ("weights", "gradients", "optimizer"))
        lines.append(
            f"| {name} | {run['eval_before']['accuracy']:.3f} | {run['eval_after']['accuracy']:.3f} "
            f"| {per_step[name]:.3f} | {memory[name]:.0f} | {state[name]:.2f} | {parts} |"
        )
    lines += [
        "",
        f"PPO's {memory_name} is {memory['ppo'] / memory['grpo']:.2f}x GRPO's "
        f"({memory['ppo'] - memory['grpo']:+.0f} MiB); the model state it holds is "
        f"{state['ppo'] / state['grpo']:.2f}x GRPO's ({state['ppo'] - state['grpo']:+.2f} MiB: the critic's weights, "
        f"gradients and AdamW moments). A PPO step takes {per_step['ppo'] / per_step['grpo']:.2f}x a GRPO step "
        "(median).",
    ]
    if not on_gpu:
        lines += [
            "",
            f"On a CPU the peak RSS includes the Python runtime and the libraries "
            f"({grpo['baseline_rss_mib']:.0f} MiB before the trainer was built), which dwarfs a small "
            "model's state; the model-state column is the part that grows with the model.",
        ]
    lines += [
        "",
        "![learning curves](learning_curves.png)",
        "",
        "![cost](cost.png)",
        "",
        "Training time is the sum of the steps' wall-clock time (sampling, scoring and updates), "
        "without the evaluations. Each run's own curves and metrics: `grpo/`, `ppo/`.",
        "",
    ]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path


def _completions(config: dict[str, Any]) -> int:
    return int(config["prompts_per_step"]) * int(config["group_size"])


def _curves(rows: list[dict[str, Any]]) -> dict[str, list[float]]:
    """Training reward and held-out accuracy by step and by training time (cumulative step time, s)."""
    train = sorted((r for r in rows if r["split"] == "train"), key=lambda r: r["step"])
    elapsed = {0: 0.0}
    total = 0.0
    for row in train:
        total += row["step_time"]
        elapsed[row["step"]] = total
    evals = sorted((r for r in rows if r["split"] == "eval"), key=lambda r: r["step"])
    return {
        "step": [r["step"] for r in train],
        "time": [elapsed[r["step"]] for r in train],
        "reward": [r["reward"] for r in train],
        "step_time": [r["step_time"] for r in train],
        "eval_step": [r["step"] for r in evals],
        "eval_time": [elapsed.get(r["step"], total) for r in evals],
        "eval_accuracy": [r["accuracy"] for r in evals],
    }


def _smooth(values: list[float]) -> list[float]:
    window = max(1, len(values) // 25)
    return [statistics.fmean(values[max(0, i - window + 1) : i + 1]) for i in range(len(values))]


def _plot_learning(curves: dict[str, dict[str, list[float]]], path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 7), layout="constrained")
    FigureCanvasAgg(figure)
    grid = figure.subplots(2, 2)
    for name, curve in curves.items():
        for column, x, eval_x in ((0, "step", "eval_step"), (1, "time", "eval_time")):
            grid[0, column].plot(curve[x], curve["reward"], alpha=0.2)
            grid[0, column].plot(
                curve[x], _smooth(curve["reward"]), label=name, color=grid[0, column].lines[-1].get_color()
            )
            grid[1, column].plot(curve[eval_x], curve["eval_accuracy"], marker="o", label=name)
    for column, label in ((0, "step"), (1, "training time (s)")):
        grid[0, column].set_title(f"training reward vs {label.split(' (')[0]}")
        grid[1, column].set_title(f"held-out accuracy vs {label.split(' (')[0]}")
        for row in (0, 1):
            grid[row, column].set_xlabel(label)
            grid[row, column].grid(alpha=0.3)
            grid[row, column].legend()
    grid[0, 0].set_ylabel("reward (smoothed; raw faint)")
    grid[1, 0].set_ylabel("accuracy")
    figure.savefig(path, format="png", dpi=100)


def _plot_cost(runs: dict[str, dict[str, Any]], curves: dict[str, dict[str, list[float]]], path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 3.5), layout="constrained")
    FigureCanvasAgg(figure)
    state_axes, memory_axes, time_axes = figure.subplots(1, 3)
    names = list(runs)
    bottom = [0.0] * len(names)
    for part in ("weights", "gradients", "optimizer"):
        heights = [runs[name]["state_bytes"][part] / 2**20 for name in names]
        state_axes.bar(names, heights, bottom=bottom, label=part)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    state_axes.set_title("model state (MiB)")
    state_axes.legend()
    on_gpu = runs["grpo"]["gpu_peak_mib"] is not None
    memory_axes.bar(names, [runs[n]["gpu_peak_mib"] if on_gpu else runs[n]["peak_rss_mib"] for n in names])
    memory_axes.set_title("peak GPU memory (MiB)" if on_gpu else "peak RSS (MiB)")
    time_axes.bar(names, [statistics.median(curves[n]["step_time"]) for n in names])
    time_axes.set_title("median seconds per step")
    figure.savefig(path, format="png", dpi=100)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
