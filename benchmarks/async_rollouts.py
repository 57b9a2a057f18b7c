"""Asynchronous against synchronous rollouts: the speed-up per step, and the learning curve of each.

Runs the main job (examples/tiny_arithmetic.yaml: the tiny Llama, a short
cold start, GRPO on 1-digit addition) twice per seed, once with
``async_rollouts=False`` and once with ``True``, same seed and budget, and
prints for each: the median seconds per GRPO step, the total training time
(sum of step times, evaluation excluded), held-out accuracy after the cold
start and at the end, and the ratio synchronous / asynchronous of the median
step time (above 1: async is faster). Runs alternate (sync, async, sync,
async, ...) so that a busy spell on a shared machine hits both.

It also writes a plot of training reward against step and against training
time for both modes, ``--plot`` (default ``async_rollouts.png`` in the
current directory).

Run:
    .venv/bin/python benchmarks/async_rollouts.py
    .venv/bin/python benchmarks/async_rollouts.py --seeds 0 1 2 --steps 400
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from rlvr.trainers.algorithms.config import GRPOConfig, load_config_file
from rlvr.trainers.algorithms.grpo import train_grpo
from rlvr.trainers.run.metrics import METRICS_FILE, read_metrics

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "examples" / "tiny_arithmetic.yaml"


def run(seed: int, steps: int | None, async_rollouts: bool, directory: Path) -> dict[str, Any]:
    """One run of the main job; its step times, rewards and held-out accuracy."""
    values = {**load_config_file(CONFIG), "seed": seed, "output_dir": directory, "progress": False}
    values.update(tensorboard=False, resume=False, async_rollouts=async_rollouts, save_every=0)
    if steps is not None:
        values["steps"] = steps
    result = train_grpo(GRPOConfig(**values))
    rows = [r for r in read_metrics(directory / METRICS_FILE) if r["split"] == "train"]
    return {
        "step_time": [r["step_time"] for r in rows],
        "reward": [r["reward"] for r in rows],
        "before": result.eval_before["accuracy"],
        "after": result.eval_after["accuracy"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="one pair of runs per seed")
    parser.add_argument("--steps", type=int, default=None, help="GRPO steps (default: the config's)")
    parser.add_argument("--plot", type=Path, default=Path("async_rollouts.png"), help="where the curves go")
    args = parser.parse_args(argv)

    runs: dict[str, list[dict[str, Any]]] = {"sync": [], "async": []}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            for mode in ("sync", "async"):
                print(f"seed {seed}, {mode} ...", flush=True)
                runs[mode].append(run(seed, args.steps, mode == "async", Path(tmp) / f"{mode}-{seed}"))

    print(f"\n{'mode':<6} {'seed':>4} {'median s/step':>14} {'train s':>8} {'acc before':>11} {'acc after':>10}")
    for mode, results in runs.items():
        for seed, result in zip(args.seeds, results, strict=True):
            median = statistics.median(result["step_time"])
            total = sum(result["step_time"])
            print(
                f"{mode:<6} {seed:>4} {median:>14.4f} {total:>8.1f} {result['before']:>11.3f} {result['after']:>10.3f}"
            )
    ratios = [
        statistics.median(s["step_time"]) / statistics.median(a["step_time"])
        for s, a in zip(runs["sync"], runs["async"], strict=True)
    ]
    print(f"\nspeed-up of async (median step time, sync / async): {', '.join(f'{r:.2f}x' for r in ratios)}")
    print(f"median over seeds: {statistics.median(ratios):.2f}x")
    plot(runs, args.plot)
    print(f"curves: {args.plot}")
    return 0


def plot(runs: dict[str, list[dict[str, Any]]], path: Path) -> None:
    """Training reward (moving average) against step and against training time, seed 0 of each mode."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 4), layout="constrained")
    FigureCanvasAgg(figure)
    by_step, by_time = figure.subplots(1, 2)
    for mode, results in runs.items():
        result = results[0]
        window = max(1, len(result["reward"]) // 25)
        smooth = [
            statistics.fmean(result["reward"][max(0, i - window + 1) : i + 1]) for i in range(len(result["reward"]))
        ]
        elapsed, total = [], 0.0
        for seconds in result["step_time"]:
            total += seconds
            elapsed.append(total)
        by_step.plot(range(1, len(smooth) + 1), smooth, label=mode)
        by_time.plot(elapsed, smooth, label=mode)
    by_step.set(title="training reward vs step", xlabel="step", ylabel="reward (moving average)")
    by_time.set(title="training reward vs training time", xlabel="training time (s)")
    for axes in (by_step, by_time):
        axes.grid(alpha=0.3)
        axes.legend()
    figure.savefig(path, format="png", dpi=100)


if __name__ == "__main__":
    sys.exit(main())
