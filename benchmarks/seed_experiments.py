"""The seed experiments in miniature: RL on the built-in envs teaches what it should, family by family.

Each experiment is an example config (``examples/seed_*.yaml``): the embedded
model trained from scratch, a short cold start on worked examples, then GRPO,
as DeepSeek-R1 and the Fireworks RLVR runs train, with the verifiers a large
run would use. Each runs once per seed, in its own process (``rlvr train``),
``--jobs`` at a time with the CPU's threads shared between them. The table
gives the held-out measure after the cold start and after GRPO per seed, the
median rise and each run's wall time (cold start and evaluations included);
the figure shows the held-out curves.

    experiment          measure                                   bar
    multiplication      accuracy, Fireworks format, no tools       <= 0.40 after cold start, +0.30 with GRPO
    function-picking    accuracy, base mode (names; or no call)    <= 0.80 after cold start, >= 0.95 after GRPO
    instructions        share of instructions followed             +0.30 with GRPO
    mixture             both of the first two, in one run          both rise; each within 0.05 of its own run

Run (all four, three seeds each: 12 runs of 10 to 25 minutes each on 2 cores,
one at a time by default, so that each wall time is the run's own):
    .venv/bin/python benchmarks/seed_experiments.py
    .venv/bin/python benchmarks/seed_experiments.py --experiments multiplication --seeds 0
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
RLVR = Path(sys.executable).with_name("rlvr")
RESULT_FILE = "seed_experiment.json"
"""Written into each run's directory when it ends: its held-out curves and wall time."""


@dataclass(frozen=True)
class Experiment:
    """One seed experiment: its config and the held-out measures its table row reports.

    Attributes:
        name: the experiment's short name (a command-line choice).
        config: the example config it trains.
        family: what the table's row calls it.
        measures: ``(label, metrics key)`` of each held-out measure, as
            ``metrics.jsonl``'s eval records name it.
    """

    name: str
    config: Path
    family: str
    measures: tuple[tuple[str, str], ...]


EXPERIMENTS = {
    e.name: e
    for e in (
        Experiment(
            "multiplication",
            EXAMPLES / "seed_multiplication.yaml",
            "Fireworks 1: multiplication, no tools",
            (("accuracy", "accuracy"),),
        ),
        Experiment(
            "function-picking",
            EXAMPLES / "seed_function_picking.yaml",
            "Fireworks 2: function picking (base mode)",
            (("accuracy", "accuracy"),),
        ),
        Experiment(
            "instructions",
            EXAMPLES / "seed_instructions.yaml",
            "Instruction following",
            (("instructions followed", "reward"),),
        ),
        Experiment(
            "mixture",
            EXAMPLES / "seed_mixture.yaml",
            "Mixture of Fireworks 1 and 2",
            (
                ("multiplication accuracy", "env/rlvr/Arithmetic-v0/accuracy"),
                ("function-picking accuracy", "env/rlvr/FunctionCalling-v0/accuracy"),
            ),
        ),
    )
}
"""The four experiments, by name."""


@dataclass(frozen=True)
class Run:
    """One finished run: its held-out curve per measure (``[(GRPO step, value)]``), its wall time (s),
    and the model and step counts it trained with (from its ``run.json``, so that a run made
    before its config changed keeps a row of its own)."""

    experiment: str
    seed: int
    curves: dict[str, list[tuple[int, float]]]
    seconds: float
    model: str
    steps: str


def train(experiment: Experiment, seed: int, out: Path, threads: int, extra: list[str]) -> Run:
    """Run ``rlvr train`` on the experiment's config with ``seed``, in ``out/<name>/seed<seed>``."""
    output_dir = out / experiment.name / f"seed{seed}"
    command = [str(RLVR), "train", "--config", str(experiment.config), "--seed", str(seed)]
    command += ["--output-dir", str(output_dir), "--overwrite", "true", "--progress", "false", *extra]
    environment = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=environment)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"{experiment.name} seed {seed} failed:\n{result.stderr[-3000:]}")
    evals = [r for r in map(json.loads, (output_dir / "metrics.jsonl").open()) if r["split"] == "eval"]
    curves = {label: [(int(r["step"]), float(r[key])) for r in evals] for label, key in experiment.measures}
    result_file = output_dir / RESULT_FILE
    result_file.write_text(
        json.dumps({"experiment": experiment.name, "seed": seed, "curves": curves, "seconds": seconds})
    )
    return read_run(result_file)


def read_run(result_file: Path) -> Run:
    """The run whose ``RESULT_FILE`` is ``result_file``, with the settings of the ``run.json`` beside it."""
    fields = json.loads(result_file.read_text())
    curves = {label: [(int(step), float(value)) for step, value in c] for label, c in fields["curves"].items()}
    model, steps = trained_with(result_file.parent)
    return Run(fields["experiment"], int(fields["seed"]), curves, float(fields["seconds"]), model, steps)


def trained_with(output_dir: Path) -> tuple[str, str]:
    """The model and the steps (``"<cold start> + <GRPO>"``) of the run in ``output_dir``, from its ``run.json``."""
    config = json.loads((output_dir / "run.json").read_text())["config"]
    return str(config["model"]), f"{config['cold_start_steps']} + {config['steps']}"


def finished_runs(out: Path) -> list[Run]:
    """Every run whose result ``out`` holds, from this invocation or an earlier one, in experiment and seed order."""
    return [read_run(path) for name in EXPERIMENTS for path in sorted((out / name).glob(f"seed*/{RESULT_FILE}"))]


def table(runs: list[Run]) -> str:
    """The results as a markdown table: one row per experiment, settings (model and steps) and measure."""
    lines = [
        "| experiment | measure | model | steps (cold start + GRPO) | after cold start, per seed | "
        "after GRPO, per seed | median rise | wall time, per seed |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, experiment in EXPERIMENTS.items():
        settings = sorted({(r.model, r.steps) for r in runs if r.experiment == name})
        for model, steps in settings:
            mine = sorted(
                (r for r in runs if (r.experiment, r.model, r.steps) == (name, model, steps)), key=lambda r: r.seed
            )
            for label, _ in experiment.measures:
                before = [r.curves[label][0][1] for r in mine]
                after = [r.curves[label][-1][1] for r in mine]
                rise = statistics.median(b - a for a, b in zip(before, after, strict=True))
                lines.append(
                    f"| {experiment.family} | {label} | {model} | {steps} | "
                    f"{' / '.join(f'{v:.3f}' for v in before)} | {' / '.join(f'{v:.3f}' for v in after)} | "
                    f"{rise:+.3f} | {' / '.join(f'{r.seconds / 60:.1f}' for r in mine)} min |"
                )
    return "\n".join(lines)


def plot(runs: list[Run], path: Path) -> None:
    """Held-out curves, one panel per experiment, one line per seed and measure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n in EXPERIMENTS if any(r.experiment == n for r in runs)]
    figure, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.4), squeeze=False)
    for axis, name in zip(axes[0], names, strict=True):
        experiment = EXPERIMENTS[name]
        for run in (r for r in runs if r.experiment == name):
            for index, (label, _) in enumerate(experiment.measures):
                steps, values = zip(*run.curves[label], strict=True)
                style = "-" if index == 0 else "--"
                axis.plot(steps, values, style, marker="o", markersize=3, label=f"{label}, seed {run.seed}")
        axis.set_title(experiment.family, fontsize=9)
        axis.set_xlabel("GRPO step (0: after the cold start)")
        axis.set_ylim(-0.02, 1.02)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=6)
    axes[0][0].set_ylabel("held-out measure")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", nargs="+", choices=sorted(EXPERIMENTS), default=list(EXPERIMENTS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds of each (default: 0 1 2)")
    parser.add_argument("--jobs", type=int, default=1, help="runs at a time; the CPU's threads are shared out")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "seed-experiments", help="run directories")
    parser.add_argument("--figure", type=Path, default=ROOT / "benchmarks" / "figures" / "seed_experiments.png")
    parser.add_argument("--threads", type=int, default=None, help="torch threads per run (default: cores / jobs)")
    parser.add_argument("--report-only", action="store_true", help="train nothing: table and figure from --out")
    parser.add_argument("extra", nargs="*", help="more `rlvr train` flags for every run, after --")
    args = parser.parse_args()

    threads = args.threads or max(1, (os.cpu_count() or 1) // args.jobs)
    jobs = [] if args.report_only else [(EXPERIMENTS[n], seed) for n in args.experiments for seed in args.seeds]
    print(f"{len(jobs)} runs, {args.jobs} at a time with {threads} thread(s) each", flush=True)

    def one(job: tuple[Experiment, int]) -> Run:
        run = train(*job, args.out, threads, args.extra)
        summary = ", ".join(f"{label} {c[0][1]:.2f} -> {c[-1][1]:.2f}" for label, c in run.curves.items())
        print(f"  {run.experiment} seed {run.seed}: {summary} ({run.seconds / 60:.1f} min)", flush=True)
        return run

    if not args.report_only:
        with ThreadPoolExecutor(args.jobs) as pool:
            list(pool.map(one, jobs))
    runs = finished_runs(args.out)  # this invocation's and earlier ones': the table covers every finished run
    text = table(runs)
    print("\n" + text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "table.md").write_text(text + "\n")
    plot(runs, args.figure)
    print(f"\nfigure: {args.figure}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
