"""Does the main job learn? Held-out accuracy before and after GRPO, and how long it takes.

Runs examples/tiny_arithmetic.yaml exactly as ``rlvr train --config`` would
(the embedded tiny Llama, a short cold-start SFT, then GRPO on 1-digit
addition), with two changes only: output goes to a temporary directory, and
the progress bar is off. It prints held-out greedy accuracy after the cold
start (the SFT checkpoint GRPO starts from) and after GRPO, the rise in
percentage points, and the wall-clock time of the whole job (model build, cold
start, evaluations, GRPO and checkpoints), split into set-up plus cold start
and the GRPO phase.

The target it checks: held-out accuracy rises by at least 20 points from the
SFT checkpoint, within 10 minutes on 2 CPU cores. With several seeds the
check is on the median rise and the median time; each seed changes the model
initialisation, the prompts and the sampling.

Run:
    .venv/bin/python benchmarks/grpo_learning.py
    .venv/bin/python benchmarks/grpo_learning.py --seeds 0 1 2

Exits with status 1 when the target is missed. Timings are of a shared
machine; accuracy is over the config's ``eval_prompts`` held-out prompts
(200), so one prompt is half a point.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rlvr.trainers.algorithms.config import GRPOConfig, load_config_file
from rlvr.trainers.algorithms.grpo import train_grpo
from rlvr.trainers.run.metrics import METRICS_FILE, read_metrics

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "examples" / "tiny_arithmetic.yaml"
TARGET_POINTS = 20.0
TARGET_SECONDS = 600.0


@dataclass(frozen=True)
class Run:
    seed: int
    before: float  # held-out accuracy after the cold start, in [0, 1]
    after: float  # held-out accuracy after GRPO
    seconds: float  # the whole job
    grpo_seconds: float  # from the first evaluation to the end of GRPO

    @property
    def rise(self) -> float:
        """Percentage points gained by GRPO."""
        return 100.0 * (self.after - self.before)


def run_job(config_path: Path, seed: int | None, overrides: dict[str, Any] | None = None) -> Run:
    """Train the config, with ``overrides`` of its fields, once in a fresh temporary directory; return the result."""
    fields = {**load_config_file(config_path), **(overrides or {})}
    if seed is not None:
        fields["seed"] = seed
    with tempfile.TemporaryDirectory(prefix="grpo-learning-") as output_dir:
        config = GRPOConfig(**{**fields, "output_dir": output_dir, "progress": False})
        started = time.perf_counter()
        result = train_grpo(config)
        seconds = time.perf_counter() - started
        # The metrics logger starts after the cold start; its last record's time is the GRPO phase.
        grpo_seconds = read_metrics(Path(output_dir) / METRICS_FILE)[-1]["time"]
    return Run(config.seed, result.eval_before["accuracy"], result.eval_after["accuracy"], seconds, grpo_seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=CONFIG, help="the job's YAML (default: the main job)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[None], help="seeds to repeat over (default: config's)")
    args = parser.parse_args()

    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    print(f"config: {args.config.relative_to(ROOT) if args.config.is_relative_to(ROOT) else args.config}")
    print(f"target: held-out accuracy +{TARGET_POINTS:.0f} points within {TARGET_SECONDS / 60:.0f} min\n")
    print(" seed   after SFT   after GRPO    rise (pts)   total (s)   of which GRPO (s)")
    runs = []
    for seed in args.seeds:
        run = run_job(args.config, seed)
        runs.append(run)
        print(
            f"{run.seed:5d}   {run.before:9.3f}   {run.after:10.3f}   {run.rise:+11.1f}"
            f"   {run.seconds:9.1f}   {run.grpo_seconds:17.1f}",
            flush=True,
        )

    rise = statistics.median(r.rise for r in runs)
    seconds = statistics.median(r.seconds for r in runs)
    met = rise >= TARGET_POINTS and seconds <= TARGET_SECONDS
    if len(runs) > 1:
        passed = sum(r.rise >= TARGET_POINTS and r.seconds <= TARGET_SECONDS for r in runs)
        print(f"\nmedian over {len(runs)} seeds: rise {rise:+.1f} points in {seconds:.0f} s ({passed} seeds pass)")
    print(f"target {'met' if met else 'MISSED'}: {rise:+.1f} points (>= +{TARGET_POINTS:.0f}) in {seconds:.0f} s")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
