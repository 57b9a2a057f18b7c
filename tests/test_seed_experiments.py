"""The seed experiments' configs train, a few steps each, and log the measures their table reports.

The full runs are benchmarks (``benchmarks/seed_experiments.py``); here each
example config runs as written but for 2 cold-start steps and 2 GRPO steps.
"""

import importlib.util
import json
import math
import sys
from pathlib import Path

import pytest

from rlvr.trainers.algorithms.config import GRPOConfig, load_config_file
from rlvr.trainers.algorithms.grpo import train_grpo
from rlvr.trainers.run.metrics import METRICS_FILE, read_metrics

ROOT = Path(__file__).resolve().parents[1]
_SPEC = importlib.util.spec_from_file_location("seed_experiments", ROOT / "benchmarks" / "seed_experiments.py")
assert _SPEC is not None and _SPEC.loader is not None
seed_experiments = importlib.util.module_from_spec(_SPEC)
sys.modules["seed_experiments"] = seed_experiments  # its dataclasses look their module up there
_SPEC.loader.exec_module(seed_experiments)


def test_every_seed_config_in_examples_is_an_experiment():
    configs = {e.config.name for e in seed_experiments.EXPERIMENTS.values()}
    assert configs == {p.name for p in (ROOT / "examples").glob("seed_*.yaml")}


@pytest.mark.parametrize("name", sorted(seed_experiments.EXPERIMENTS))
def test_each_experiment_trains_a_few_steps_and_logs_its_measures(name: str, tmp_path: Path):
    experiment = seed_experiments.EXPERIMENTS[name]
    fields = load_config_file(experiment.config)
    assert fields["model"].startswith("tiny:")  # the embedded model, so CI trains it offline
    short = {"steps": 2, "cold_start_steps": 2, "eval_prompts": 4, "eval_every": 0, "prompts_per_step": 2}
    train_grpo(GRPOConfig(**{**fields, **short, "output_dir": str(tmp_path), "progress": False}))

    records = read_metrics(tmp_path / METRICS_FILE)
    assert [r["step"] for r in records if r["split"] == "train"] == [1, 2]
    evals = [r for r in records if r["split"] == "eval"]
    assert [r["step"] for r in evals] == [0, 2]
    for _, key in experiment.measures:
        assert all(0.0 <= r[key] <= 1.0 and not math.isnan(r[key]) for r in evals), key
    assert (tmp_path / "final" / "tokenizer.json").exists()


def test_the_table_reports_the_first_and_last_held_out_values_and_the_median_rise():
    run = seed_experiments.Run
    size, steps = "tiny:small-bpe", "600 + 300"
    runs = [
        run("multiplication", 0, {"accuracy": [(0, 0.2), (100, 0.6)]}, 300.0, size, steps),
        run("multiplication", 1, {"accuracy": [(0, 0.3), (100, 0.5)]}, 360.0, size, steps),
        run("multiplication", 2, {"accuracy": [(0, 0.1), (100, 0.6)]}, 320.0, size, steps),
    ]
    (row,) = [line for line in seed_experiments.table(runs).splitlines() if line.startswith("| Fireworks 1")]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[2:] == [size, steps, "0.200 / 0.300 / 0.100", "0.600 / 0.500 / 0.600", "+0.400", "5.0 / 6.0 / 5.3 min"]


def test_runs_made_with_other_settings_get_a_row_of_their_own():
    run = seed_experiments.Run
    runs = [
        run("instructions", 0, {"instructions followed": [(0, 0.6), (150, 0.7)]}, 900.0, "tiny:small-bpe", "50 + 150"),
        run("instructions", 1, {"instructions followed": [(0, 0.3), (150, 0.7)]}, 900.0, "tiny:small-bpe", "35 + 150"),
    ]
    rows = [line for line in seed_experiments.table(runs).splitlines() if line.startswith("| Instruction")]
    assert [[c.strip() for c in row.strip("|").split("|")][3:5] for row in rows] == [
        ["35 + 150", "0.300"],
        ["50 + 150", "0.600"],
    ]


def test_a_run_reads_its_model_and_steps_from_its_own_run_json(tmp_path: Path):
    config = {"model": "tiny:tiny-bpe", "cold_start_steps": 400, "steps": 100}
    (tmp_path / "run.json").write_text(json.dumps({"trainer": "grpo", "config": config}))
    assert seed_experiments.trained_with(tmp_path) == ("tiny:tiny-bpe", "400 + 100")
