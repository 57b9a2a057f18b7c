"""rlvr runs: summaries of real run directories, the table, the overlaid figure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rlvr.trainers.algorithms.config import GRPOConfig, PPOConfig
from rlvr.trainers.algorithms.grpo import train_grpo
from rlvr.trainers.algorithms.ppo import train_ppo
from rlvr.trainers.run.metrics import METRICS_FILE, MetricsLogger
from rlvr.trainers.run.report import NotARunError, find_runs, format_table, plot_runs, summarize_run
from rlvr.trainers.run.run_dir import RunLock

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SMALL = dict(
    env="rlvr/Arithmetic-v0",
    env_options={"level": 1, "template": "equation"},
    model="tiny",
    steps=3,
    prompts_per_step=2,
    max_new_tokens=4,
    cold_start_steps=0,
    eval_prompts=4,
    pass_k=1,
    eval_every=0,
    save_every=0,
    progress=False,
    tensorboard=False,
)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> tuple[Path, Path, dict, dict]:
    root = tmp_path_factory.mktemp("runs")
    grpo = train_grpo(GRPOConfig(**SMALL, group_size=2, output_dir=root / "grpo"))
    ppo = train_ppo(PPOConfig(**SMALL, output_dir=root / "ppo"))
    return root / "grpo", root / "ppo", grpo.eval_after, ppo.eval_after


def test_a_finished_run_is_summarized_from_its_own_files(two_runs):
    grpo_dir, _, eval_after, _ = two_runs
    summary = summarize_run(grpo_dir)
    assert (summary.status, summary.trainer, summary.env, summary.model) == (
        "finished",
        "grpo",
        "rlvr/Arithmetic-v0",
        "tiny",
    )
    assert (summary.steps_done, summary.steps) == (3, 3)
    assert summary.accuracy_after == eval_after["accuracy"] and summary.accuracy_before is not None
    assert summary.seconds > 0 and summary.tokens_per_second is not None and summary.tokens_per_second > 0


def test_the_table_has_one_row_per_run_with_trainer_env_steps_accuracy_and_speed(two_runs):
    grpo_dir, ppo_dir, grpo_after, ppo_after = two_runs
    table = format_table([summarize_run(grpo_dir), summarize_run(ppo_dir)])
    header, rule, *rows = table.splitlines()
    assert header.split()[:6] == ["run", "status", "trainer", "env", "model", "steps"]
    assert "tokens/s" in header and set(rule) <= {"-", " "}
    assert len(rows) == 2
    assert rows[0].split()[:6] == [str(grpo_dir), "finished", "grpo", "rlvr/Arithmetic-v0", "tiny", "3/3"]
    assert rows[1].split()[2] == "ppo" and f"{ppo_after['accuracy']:.3f}" in rows[1]
    assert f"{grpo_after['accuracy']:.3f}" in rows[0]


def test_a_live_run_is_running_and_its_latest_evaluation_shows_its_step(tmp_path):
    with MetricsLogger(tmp_path, tensorboard=False) as log:
        log.log(0, {"accuracy": 0.25, "reward": 0.25}, split="eval")
        for step in (1, 2, 3, 4):
            log.log(step, {"reward": 0.5, "step_tokens": 100.0, "step_time": 0.5})
        log.log(4, {"accuracy": 0.5, "reward": 0.5}, split="eval")
    (tmp_path / "run.json").write_text(json.dumps({"trainer": "grpo", "config": {"env": "e", "steps": 10}}))
    with RunLock(tmp_path):
        summary = summarize_run(tmp_path)
    assert summary.status == "running" and summary.steps_done == 4 and summary.steps == 10
    assert summary.tokens_per_second == pytest.approx(200.0)
    assert "0.500 @4" in format_table([summary])
    assert summarize_run(tmp_path).status == "stopped"  # the lock released, no final policy


def test_a_directory_of_runs_is_expanded_and_a_path_without_one_is_named(two_runs, tmp_path):
    grpo_dir, ppo_dir, _, _ = two_runs
    assert find_runs([grpo_dir.parent]) == [grpo_dir, ppo_dir]
    assert find_runs([grpo_dir, grpo_dir]) == [grpo_dir]
    with pytest.raises(NotARunError, match="no training run here"):
        find_runs([tmp_path])
    with pytest.raises(NotARunError, match="no such directory"):
        find_runs([tmp_path / "missing"])


def test_the_figure_overlays_every_run(two_runs, tmp_path):
    grpo_dir, ppo_dir, _, _ = two_runs
    out = plot_runs([summarize_run(grpo_dir), summarize_run(ppo_dir)], tmp_path / "figures" / "runs.png")
    data = out.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 10_000
    assert (grpo_dir / METRICS_FILE).exists()  # reporting leaves the runs as they were


def test_a_mixture_run_names_every_env(tmp_path):
    with MetricsLogger(tmp_path, tensorboard=False) as log:
        log.log(1, {"reward": 0.5})
    record = {
        "trainer": "grpo",
        "config": {"env": "rlvr/Arithmetic-v0", "mixture": [{"id": "a/X-v0"}, {"id": "b/Y-v0"}]},
    }
    (tmp_path / "run.json").write_text(json.dumps(record))
    assert summarize_run(tmp_path).env == "a/X-v0 + b/Y-v0"
