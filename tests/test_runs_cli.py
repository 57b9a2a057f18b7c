"""`rlvr runs PATH...` on the command line: the table, the figure, JSON, and one-line errors."""

from __future__ import annotations

import json

import pytest

from rlvr.cli import main
from rlvr.trainers.run.metrics import MetricsLogger


def _run(directory, trainer: str, accuracy: float) -> None:
    with MetricsLogger(directory, tensorboard=False) as log:
        log.log(0, {"accuracy": 0.1, "reward": 0.1}, split="eval")
        for step in range(1, 30):
            log.log(step, {"reward": step / 30, "kl": 0.01, "completions/mean_length": 4.0})
        log.log(29, {"accuracy": accuracy, "reward": accuracy}, split="eval")
    (directory / "run.json").write_text(json.dumps({"trainer": trainer, "config": {"env": "rlvr/Math-v0"}}))


def test_runs_prints_a_table_and_writes_the_figure_beside_the_runs(tmp_path, capsys):
    _run(tmp_path / "a", "grpo", 0.4)
    _run(tmp_path / "b", "ppo", 0.6)
    assert main(["runs", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "grpo" in out and "ppo" in out and "0.400" in out and "0.600 @29" in out
    assert (tmp_path / "runs.png").read_bytes().startswith(b"\x89PNG")
    assert f"curves of 2 runs: {tmp_path / 'runs.png'}" in out


def test_runs_json_gives_one_object_per_run_and_no_plot_writes_nothing(tmp_path, capsys):
    _run(tmp_path / "a", "grpo", 0.4)
    assert main(["runs", str(tmp_path / "a"), "--json", "--no-plot"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    record = json.loads(line)
    assert record["trainer"] == "grpo" and record["accuracy_after"] == 0.4 and record["path"] == str(tmp_path / "a")
    assert not list(tmp_path.rglob("*.png"))


def test_a_path_without_a_run_is_one_line(tmp_path):
    with pytest.raises(SystemExit) as stopped:
        main(["runs", str(tmp_path)])
    assert (
        stopped.value.code
        == f"rlvr runs: {tmp_path}: no training run here (no metrics.jsonl in it or its subdirectories)"
    )
