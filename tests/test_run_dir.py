"""A run directory belongs to one run: the fields that may change on resume, the lock, starting over."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlvr.trainers.algorithms.config import GRPOConfig
from rlvr.trainers.run.run_dir import (
    LOCK_FILE,
    RESUMABLE_FIELDS,
    RunLock,
    RunLockedError,
    clear_run,
    config_differences,
    read_run_record,
    resumable_changes,
    resume_conflict,
    run_status,
    write_run_record,
)


def test_fields_that_shape_the_problem_differ_and_the_rest_may_change():
    saved = GRPOConfig(learning_rate=5e-4, steps=100).model_dump(mode="json")
    current = GRPOConfig(learning_rate=1e-3, steps=200, eval_every=5).model_dump(mode="json")
    assert config_differences(saved, current) == {"learning_rate": (5e-4, 1e-3)}
    assert resumable_changes(saved, current) == {"eval_every": (10, 5), "steps": (100, 200)}


def test_a_field_the_config_has_since_lost_is_not_a_difference():
    current = GRPOConfig().model_dump(mode="json")
    saved = {**current, "loss_aggregation": "sequence_mean"}  # a checkpoint from before loss_type
    assert config_differences(saved, current) == {}


def test_a_field_newer_than_the_checkpoint_is_not_a_difference():
    current = GRPOConfig().model_dump(mode="json")
    saved = {k: v for k, v in current.items() if k != "dynamic_sampling"}
    assert config_differences(saved, current) == {}


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(sorted(set(GRPOConfig.model_fields) - RESUMABLE_FIELDS)))
def test_every_problem_field_is_caught(name):
    saved = GRPOConfig().model_dump(mode="json")
    current = dict(saved, **{name: ["changed"]})
    assert list(config_differences(saved, current)) == [name]


def test_clear_run_removes_the_runs_files_and_leaves_the_users(tmp_path):
    for name in ("checkpoints/step-00000002", "tensorboard", "final", "sft", "checkpoint-4"):
        (tmp_path / name).mkdir(parents=True)
    for name in ("metrics.jsonl", "curves.png", "notes.txt"):
        (tmp_path / name).write_text("x")
    removed = clear_run(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    assert "checkpoints" in removed and "checkpoint-4" in removed


def test_a_live_process_holds_the_directory(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / LOCK_FILE).write_text(json.dumps({"host": socket.gethostname(), "pid": holder.pid}))
        with pytest.raises(RunLockedError, match=f"in use by process {holder.pid}"):
            RunLock(tmp_path).acquire()
    finally:
        holder.kill()
        holder.wait()


def test_a_lock_left_by_a_dead_process_is_taken_over_with_a_note(tmp_path, capsys):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (tmp_path / LOCK_FILE).write_text(json.dumps({"host": socket.gethostname(), "pid": int(gone.stdout)}))
    with RunLock(tmp_path):
        assert json.loads((tmp_path / LOCK_FILE).read_text())["pid"] == os.getpid()
    assert "taking over" in capsys.readouterr().err
    assert not (tmp_path / LOCK_FILE).exists()  # released on exit


def test_the_lock_is_reentrant_within_a_process_and_released_by_its_taker(tmp_path):
    first = RunLock(tmp_path).acquire()
    second = RunLock(tmp_path).acquire()  # another trainer object of the same process
    second.release()  # did not take it: leaves it
    assert (tmp_path / LOCK_FILE).exists()
    first.release()
    assert not (tmp_path / LOCK_FILE).exists()


def test_a_lock_from_another_host_is_refused(tmp_path):
    (tmp_path / LOCK_FILE).write_text(json.dumps({"host": "elsewhere.example", "pid": 1}))
    with pytest.raises(RunLockedError, match=r"elsewhere\.example"):
        RunLock(tmp_path).acquire()


def test_the_run_record_keeps_its_start_across_a_resume_and_not_across_a_fresh_start(tmp_path):
    write_run_record(tmp_path, "grpo", {"steps": 2}, resumed=False)
    first = read_run_record(tmp_path)
    assert first is not None and first["trainer"] == "grpo" and first["config"] == {"steps": 2}
    write_run_record(tmp_path, "grpo", {"steps": 4}, resumed=True)
    resumed = read_run_record(tmp_path)
    assert resumed is not None and resumed["started"] == first["started"] and resumed["config"] == {"steps": 4}
    write_run_record(tmp_path, "grpo", {"steps": 4}, resumed=False)
    fresh = read_run_record(tmp_path)
    assert fresh is not None and fresh["started"] > first["started"]


def test_a_run_from_before_the_record_is_read_from_its_newest_checkpoint(tmp_path):
    for step, trainer in ((100, "grpo"), (200, "ppo")):
        meta = tmp_path / "checkpoints" / f"step-{step:08d}" / "meta.json"
        meta.parent.mkdir(parents=True)
        meta.write_text(json.dumps({"format": 1, "step": step, "extra": {"trainer": trainer, "config": {"x": step}}}))
    assert read_run_record(tmp_path) == {"trainer": "ppo", "config": {"x": 200}}
    assert read_run_record(tmp_path / "nothing-here") is None


def test_a_checkpoint_of_another_trainer_is_a_conflict_and_one_of_the_same_run_is_not(tmp_path):
    config = GRPOConfig().model_dump(mode="json")
    said = resume_conflict(tmp_path, "ppo", "grpo", config, config)
    assert said is not None and "checkpoints of the ppo trainer, not grpo" in said
    assert resume_conflict(tmp_path, "grpo", "grpo", config, {**config, "steps": 9}) is None


def test_run_status_tells_running_finished_and_stopped_apart(tmp_path):
    assert run_status(tmp_path, last_step=5, steps=10) == "stopped"
    (tmp_path / "final").mkdir()
    (tmp_path / "final" / "config.json").write_text("{}")
    assert run_status(tmp_path, last_step=5, steps=10) == "stopped"  # a final policy, but not all steps
    assert run_status(tmp_path, last_step=10, steps=10) == "finished"
    with RunLock(tmp_path):
        assert run_status(tmp_path, last_step=10, steps=10) == "running"
