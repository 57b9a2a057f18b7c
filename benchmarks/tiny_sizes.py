"""The embedded model's sizes: parameters, tokens per prompt, and the time of one GRPO step on this machine.

For each size of ``TINY_SIZES`` it trains a few GRPO steps (no cold start, no
evaluation) on two envs: rlvr/Arithmetic-v0 at its defaults (the Fireworks
prompt, 4-digit x 2-digit multiplication) and rlvr/FunctionCalling-v0 in base
mode (a tool list of about 2,000 characters), 8 prompts x 8 completions of
``--max-new-tokens`` tokens each, and prints the median step time (sampling,
scoring, the reference and policy passes, the optimizer step). An untrained
model rarely stops early, so the steps generate about the full budget.

Run:
    .venv/bin/python benchmarks/tiny_sizes.py
    .venv/bin/python benchmarks/tiny_sizes.py --sizes tiny small-bpe --steps 5
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import tempfile
from pathlib import Path

import torch

from rlvr import envs
from rlvr.trainers.algorithms.config import GRPOConfig
from rlvr.trainers.algorithms.grpo import train_grpo
from rlvr.trainers.models.policy import TINY_SIZES, build_tiny_model
from rlvr.trainers.run.metrics import METRICS_FILE, read_metrics

ENVS = {"rlvr/Arithmetic-v0": {}, "rlvr/FunctionCalling-v0": {"mode": "base"}}


def prompt_tokens(size: str, env_id: str, options: dict[str, object]) -> float:
    """Median tokens of the env's first 50 prompts under the size's tokenizer."""
    _, tokenizer = build_tiny_model(size)
    env = envs.make(env_id, **options)
    return statistics.median(len(tokenizer(env.reset(seed=s)[0])["input_ids"]) for s in range(50))


def step_seconds(size: str, env_id: str, options: dict[str, object], steps: int, max_new_tokens: int) -> float:
    """Median wall time of one GRPO step (s), the first step left out as warm-up."""
    with tempfile.TemporaryDirectory(prefix="tiny-sizes-") as output_dir:
        config = GRPOConfig(
            env=env_id,
            env_options=options,
            model=f"tiny:{size}",
            output_dir=Path(output_dir),
            steps=steps + 1,
            cold_start_steps=0,
            max_new_tokens=max_new_tokens,
            learning_rate=5e-4,
            eval_every=0,
            eval_prompts=1,
            save_every=0,
            tensorboard=False,
            progress=False,
        )
        train_grpo(config)
        times = [r["time"] for r in read_metrics(Path(output_dir) / METRICS_FILE) if r["split"] == "train"]
    return statistics.median(b - a for a, b in itertools.pairwise(times))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=list(TINY_SIZES), choices=list(TINY_SIZES))
    parser.add_argument("--steps", type=int, default=4, help="timed GRPO steps per size and env (default: 4)")
    parser.add_argument("--max-new-tokens", type=int, default=64, help="completion budget (default: 64)")
    args = parser.parse_args()

    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    print(f"torch threads: {torch.get_num_threads()}; 8 prompts x 8 completions x {args.max_new_tokens} tokens\n")
    header = " | ".join(f"{e.split('/')[1]}: prompt tokens, s/step" for e in ENVS)
    print(f"| size | tokenizer | parameters | {header} |")
    print("|---|---|---|" + "---|" * len(ENVS))
    for size in args.sizes:
        model, _ = build_tiny_model(size)
        cells = []
        for env_id, options in ENVS.items():
            tokens = prompt_tokens(size, env_id, options)
            seconds = step_seconds(size, env_id, options, args.steps, args.max_new_tokens)
            cells.append(f"{tokens:.0f}, {seconds:.2f}")
        print(
            f"| tiny:{size} | {TINY_SIZES[size]['tokenizer']} | {model.num_parameters():,} | {' | '.join(cells)} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
