"""The mixture and curriculum examples: held-out accuracy per env (and per level) before and after training.

Runs ``examples/tiny_mixture.yaml`` (the tiny model on rlvr/Arithmetic-v0 and
rlvr/Math-v0, weights 3:1) and ``examples/tiny_curriculum.yaml`` (rlvr/Arithmetic-v0
from level 1 up to level 2 by the accuracy rule) once per seed, in temporary
directories, and prints:

- per env of the mixture: held-out greedy accuracy after the cold start (step 0)
  and after GRPO, and the weighted total;
- for the curriculum: the step at which the rule moved to level 2, and the
  held-out accuracy at each level after the cold start and after GRPO.

With ``--figures DIR`` it also writes each run's ``curves.png`` there.

Run:
    .venv/bin/python benchmarks/mixture_curriculum.py                      # seed 0
    .venv/bin/python benchmarks/mixture_curriculum.py --seeds 0 1 2 --figures /tmp/figures
"""

from __future__ import annotations

import argparse
import math
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from rlvr.trainers.algorithms.config import GRPOConfig, load_config_file
from rlvr.trainers.algorithms.grpo import train_grpo
from rlvr.trainers.run.metrics import METRICS_FILE, read_metrics

ROOT = Path(__file__).resolve().parent.parent
MIXTURE = ROOT / "examples" / "tiny_mixture.yaml"
CURRICULUM = ROOT / "examples" / "tiny_curriculum.yaml"


def train(config_path: Path, seed: int, figures: Path | None) -> tuple[list[dict[str, Any]], float]:
    """Train the example with ``seed`` in a temporary directory; its metrics records and its wall time (s)."""
    fields = {**load_config_file(config_path), "seed": seed}
    with tempfile.TemporaryDirectory(prefix="mixture-curriculum-") as output_dir:
        started = time.perf_counter()
        train_grpo(GRPOConfig(**{**fields, "output_dir": output_dir, "progress": False}))
        seconds = time.perf_counter() - started
        if figures is not None:
            figures.mkdir(parents=True, exist_ok=True)
            shutil.copy(Path(output_dir) / "curves.png", figures / f"{config_path.stem}-seed{seed}.png")
        return read_metrics(Path(output_dir) / METRICS_FILE), seconds


def evaluations(records: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The first and the last held-out evaluation."""
    evals = [r for r in records if r["split"] == "eval"]
    return evals[0], evals[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds to repeat over (default: 0)")
    parser.add_argument("--figures", type=Path, default=None, help="copy each run's curves.png into this directory")
    args = parser.parse_args()

    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    print("## mixture: examples/tiny_mixture.yaml (rlvr/Arithmetic-v0 : rlvr/Math-v0 = 3 : 1)\n")
    print("| seed | env | held-out accuracy after SFT | after GRPO | time (s) |")
    print("|---|---|---|---|---|")
    for seed in args.seeds:
        records, seconds = train(MIXTURE, seed, args.figures)
        first, last = evaluations(records)
        names = sorted({k.split("/accuracy")[0][4:] for k in last if k.startswith("env/") and k.endswith("/accuracy")})
        for name in names:
            key = f"env/{name}/accuracy"
            print(f"| {seed} | {name} | {first[key]:.3f} | {last[key]:.3f} | |")
        print(
            f"| {seed} | weighted total | {first['accuracy']:.3f} | {last['accuracy']:.3f} | {seconds:.0f} |",
            flush=True,
        )

    print("\n## curriculum: examples/tiny_curriculum.yaml (rlvr/Arithmetic-v0, level 1 -> 2 at 70% of 256)\n")
    print("| seed | moved to level 2 at step | level | held-out accuracy after SFT | after GRPO | time (s) |")
    print("|---|---|---|---|---|---|")
    for seed in args.seeds:
        records, seconds = train(CURRICULUM, seed, args.figures)
        first, last = evaluations(records)
        level_key = "curriculum/rlvr/Arithmetic-v0/level"
        moved = next((r["step"] for r in records if r["split"] == "train" and r.get(level_key, 1) > 1), None)
        levels = sorted(k for k in last if k.startswith("curriculum/") and k.endswith("/accuracy"))
        for key in levels:
            level = key.split("/")[-2]
            before, after = first.get(key, math.nan), last[key]
            print(f"| {seed} | {moved if moved is not None else 'never'} | {level} | {before:.3f} | {after:.3f} | |")
        print(f"| {seed} | | | | | {seconds:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
