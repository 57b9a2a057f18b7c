"""The shared training loop and its run directory: resume only the same run, one run at a time, Ctrl-C, reruns."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rlvr.trainers.algorithms.config import GRPOConfig, TrainerConfigError
from rlvr.trainers.algorithms.grpo import GRPOTrainer, train_grpo
from rlvr.trainers.run.metrics import read_metrics

EASY = {"level": 1, "template": "equation"}


def config(run_dir: Path, **overrides) -> GRPOConfig:
    values = dict(
        env="rlvr/Arithmetic-v0",
        env_options=EASY,
        model="tiny",
        output_dir=run_dir,
        steps=2,
        prompts_per_step=2,
        group_size=2,
        max_new_tokens=4,
        cold_start_steps=0,
        eval_prompts=4,
        pass_k=1,
        eval_every=0,
        save_every=0,
        progress=False,
        tensorboard=False,
    )
    values.update(overrides)
    return GRPOConfig(**values)


def records(run_dir: Path, split: str) -> list[dict]:
    return [r for r in read_metrics(run_dir / "metrics.jsonl") if r["split"] == split]


def test_resuming_with_other_problem_settings_is_refused_naming_them(tmp_path):
    train_grpo(config(tmp_path))
    with pytest.raises(TrainerConfigError, match=r"learning_rate: 1e-06 there, 0\.001 here") as refused:
        train_grpo(config(tmp_path, steps=3, learning_rate=1e-3))
    assert "resume=false" in str(refused.value) and "overwrite=true" in str(refused.value)


def test_resuming_with_more_steps_continues_and_keeps_the_first_evaluation(tmp_path):
    first = train_grpo(config(tmp_path))
    second = train_grpo(config(tmp_path, steps=4, eval_every=10))
    assert second.eval_before == first.eval_before  # measured once, before the first step of the first run
    assert [r["step"] for r in records(tmp_path, "train")] == [1, 2, 3, 4]
    times = [r["time"] for r in read_metrics(tmp_path / "metrics.jsonl")]
    assert times == sorted(times)  # never runs backwards across the resume
    resumes = [json.loads(line) for line in (tmp_path / "resumes.jsonl").read_text().splitlines()]
    assert resumes == [{"step": 2, "changed": {"eval_every": [0, 10], "steps": [2, 4]}}]


def test_the_run_directory_says_which_trainer_and_config_made_it(tmp_path):
    from rlvr.trainers.run.run_dir import read_run_record

    train_grpo(config(tmp_path))
    record = json.loads((tmp_path / "run.json").read_text())
    assert record["trainer"] == "grpo" and record["config"]["env_options"] == EASY
    train_grpo(config(tmp_path, steps=3))
    resumed = read_run_record(tmp_path)
    assert resumed is not None and resumed["config"]["steps"] == 3 and resumed["started"] == record["started"]


def test_a_finished_run_run_again_is_not_trained_or_evaluated_again(tmp_path):
    first = train_grpo(config(tmp_path))
    before = (tmp_path / "metrics.jsonl").read_bytes()
    again = train_grpo(config(tmp_path))
    assert again.already_finished and again.steps == 2
    assert (again.eval_before, again.eval_after) == (first.eval_before, first.eval_after)
    assert (tmp_path / "metrics.jsonl").read_bytes() == before


def test_overwrite_starts_over_in_the_same_directory(tmp_path):
    train_grpo(config(tmp_path))
    (tmp_path / "notes.txt").write_text("mine")
    result = train_grpo(config(tmp_path, learning_rate=1e-3, overwrite=True))
    assert not result.already_finished and [r["step"] for r in records(tmp_path, "train")] == [1, 2]
    assert (tmp_path / "notes.txt").read_text() == "mine"


def _train_command(run_dir: Path, steps: int) -> list[str]:
    command = [str(Path(sys.executable).with_name("rlvr")), "train", "--env-options", json.dumps(EASY)]
    command += ["--output-dir", str(run_dir), "--steps", str(steps), "--cold-start-steps", "0"]
    command += ["--prompts-per-step", "2", "--group-size", "2", "--max-new-tokens", "4", "--eval-prompts", "4"]
    return [*command, "--pass-k", "1", "--eval-every", "0", "--save-every", "0", "--progress", "false"]


def test_ctrl_c_stops_at_a_step_with_a_checkpoint_and_the_directory_is_held_meanwhile(tmp_path):
    run = subprocess.Popen(_train_command(tmp_path, 100_000), stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / "metrics.jsonl").exists() or len(records(tmp_path, "train")) < 2:
            assert time.monotonic() < deadline and run.poll() is None, "the run did not get going"
            time.sleep(0.05)
        with pytest.raises(TrainerConfigError, match=f"in use by process {run.pid}"):
            GRPOTrainer(config(tmp_path))  # a second run in the same directory, while the first lives
        run.send_signal(signal.SIGINT)
        _, stderr = run.communicate(timeout=120)
    finally:
        run.kill()
    assert run.returncode == 130, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("rlvr train:")]
    assert len(lines) == 1 and "stopped at step" in lines[0] and "Traceback" not in stderr
    stopped_at = int(lines[0].split("stopped at step ")[1].split()[0])
    latest = (tmp_path / "checkpoints" / "latest").read_text().strip()
    assert latest == f"step-{stopped_at:08d}"
    assert not (tmp_path / "run.lock").exists()


def test_the_progress_bar_shows_reward_accuracy_kl_loss_and_the_latest_evaluation(tmp_path, capsys):
    train_grpo(config(tmp_path, progress=True, beta=0.04))
    shown = capsys.readouterr().err
    for field in ("reward=", "acc=", "kl=", "loss=", "eval_acc="):
        assert field in shown, shown[-400:]
