"""The main job under each GRPO loss type, and with DAPO's dynamic sampling: held-out accuracy over seeds.

Runs examples/tiny_arithmetic.yaml (the embedded tiny Llama, 50 cold-start
SFT steps, 800 GRPO steps of 8 prompts x 8 completions on 1-digit addition)
as ``benchmarks/grpo_learning.py`` does, once per variant and seed, changing
only the fields of the variant:

- ``grpo``: the job as it is (``loss_type: grpo``, per-sequence mean);
- ``dapo``: ``loss_type: dapo`` (token mean over the batch);
- ``dr_grpo``: ``loss_type: dr_grpo`` with ``scale_rewards: none`` (Dr. GRPO
  drops both the length and the std normalisation);
- ``dynamic sampling``: ``loss_type: grpo`` with ``dynamic_sampling: true``
  (DAPO's; up to 4 rounds of prompts per step).

It prints held-out greedy accuracy (200 prompts) after the cold start and
after GRPO per seed, and per variant the median accuracy after GRPO, the
median rise and the median time of the whole job.

Run:
    .venv/bin/python benchmarks/grpo_loss_types.py                 # seeds 0 1 2, every variant
    .venv/bin/python benchmarks/grpo_loss_types.py --variants dapo --seeds 0
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from grpo_learning import CONFIG, Run, run_job  # the benchmark next door

VARIANTS: dict[str, dict[str, Any]] = {
    "grpo": {"loss_type": "grpo"},
    "dapo": {"loss_type": "dapo"},
    "dr_grpo": {"loss_type": "dr_grpo", "scale_rewards": "none"},
    "dynamic sampling": {"loss_type": "grpo", "dynamic_sampling": True},
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds (default: 0 1 2)")
    parser.add_argument("--variants", nargs="+", choices=sorted(VARIANTS), default=list(VARIANTS))
    args = parser.parse_args()

    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    print(f"config: {CONFIG.name}, seeds {args.seeds}\n")
    print(f"{'variant':18s} seed   after SFT   after GRPO    rise (pts)   total (s)")
    results: dict[str, list[Run]] = {}
    for name in args.variants:
        for seed in args.seeds:
            run = run_job(CONFIG, seed, VARIANTS[name])
            results.setdefault(name, []).append(run)
            print(
                f"{name:18s} {run.seed:4d}   {run.before:9.3f}   {run.after:10.3f}   {run.rise:+11.1f}"
                f"   {run.seconds:9.1f}",
                flush=True,
            )
    print(f"\n{'variant':18s} median after GRPO   median rise (pts)   median time (s)")
    for name, runs in results.items():
        after = statistics.median(r.after for r in runs)
        rise = statistics.median(r.rise for r in runs)
        seconds = statistics.median(r.seconds for r in runs)
        print(f"{name:18s} {after:17.3f}   {rise:+17.1f}   {seconds:15.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
