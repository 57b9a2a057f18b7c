"""The tool-learning example: the tiny model learns to use a calculator it needs, against a control without one.

Runs ``examples/tiny_calculator.yaml`` (rlvr/Arithmetic-v0's 4-digit x 2-digit
multiplication, the Fireworks experiment's task, with the ``calculator`` tool:
a cold start on worked tool traces, then GRPO) and the same run without the
tool (the cold start on worked answers, then GRPO: the model must multiply in
its head), once per seed, in temporary directories, and prints per run:

- held-out greedy accuracy of the untrained model, after the cold start and after GRPO;
- the share of held-out episodes that called the tool, after the cold start and after GRPO;
- the wall time.

With ``--figures DIR`` it also writes each run's ``curves.png`` there.

Run:
    .venv/bin/python benchmarks/tool_learning.py                      # seed 0
    .venv/bin/python benchmarks/tool_learning.py --seeds 0 1 --figures benchmarks/figures
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from rlvr.trainers.algorithms.config import GRPOConfig, load_config_file
from rlvr.trainers.algorithms.grpo import train_grpo
from rlvr.trainers.run.metrics import METRICS_FILE, read_metrics

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "tiny_calculator.yaml"


def without_tools(fields: dict[str, Any]) -> dict[str, Any]:
    """The example's config with the tool taken away (one turn, the answer in the model's head)."""
    options = {k: v for k, v in fields["env_options"].items() if k not in ("tools", "tool_prompt", "max_turns")}
    return {**fields, "env_options": options, "max_new_tokens": 16}


def train(fields: dict[str, Any], name: str, figures: Path | None) -> tuple[list[dict[str, Any]], float]:
    """Train ``fields`` in a temporary directory; its metrics records and its wall time (s)."""
    with tempfile.TemporaryDirectory(prefix="tool-learning-") as output_dir:
        started = time.perf_counter()
        train_grpo(GRPOConfig(**{**fields, "output_dir": output_dir, "progress": False}))
        seconds = time.perf_counter() - started
        if figures is not None:
            figures.mkdir(parents=True, exist_ok=True)
            shutil.copy(Path(output_dir) / "curves.png", figures / f"{name}.png")
        return read_metrics(Path(output_dir) / METRICS_FILE), seconds


def untrained_accuracy(fields: dict[str, Any]) -> float:
    """Held-out greedy accuracy of the model before any training (no cold start, no GRPO)."""
    records, _ = train({**fields, "steps": 0, "cold_start_steps": 0}, "untrained", None)
    return float(records[-1]["accuracy"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds to repeat over (default: 0)")
    parser.add_argument("--figures", type=Path, default=None, help="copy each run's curves.png into this directory")
    args = parser.parse_args()

    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    print("## examples/tiny_calculator.yaml: 4-digit x 2-digit multiplication, with and without the calculator\n")
    print("| seed | run | untrained | after cold start | after GRPO | calls tool (cold start / GRPO) | time (s) |")
    print("|---|---|---|---|---|---|---|")
    example = load_config_file(EXAMPLE)
    for seed in args.seeds:
        for name, fields in (("calculator", example), ("no tool", without_tools(example))):
            fields = {**fields, "seed": seed}
            before = untrained_accuracy(fields)
            label = f"tool-learning-{name.replace(' ', '-')}-seed{seed}"
            records, seconds = train(fields, label, args.figures)
            evals = [r for r in records if r["split"] == "eval"]
            first, last = evals[0], evals[-1]
            share = (
                f"{first['tool_call_share']:.2f} / {last['tool_call_share']:.2f}" if "tool_call_share" in last else "-"
            )
            print(
                f"| {seed} | {name} | {before:.3f} | {first['accuracy']:.3f} | {last['accuracy']:.3f} | {share} "
                f"| {seconds:.0f} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
