"""The `rlvr` command, run as users run it: the installed console script."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from envs.cli import main

RLVR = str(Path(sys.executable).with_name("rlvr"))


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([RLVR, *args], capture_output=True, text=True, timeout=120)


def test_envs_lists_ids_with_descriptions():
    result = run("envs")
    assert result.returncode == 0
    line = next(line for line in result.stdout.splitlines() if line.startswith("rlvr/Arithmetic-v0"))
    assert "multiplication" in line


def test_demo_scores_right_and_wrong_completions():
    result = run("demo", "--seed", "1")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Final Answer: the final answer is X" in out
    assert "right answer" in out and "reward=1.0" in out
    assert "hedged (two answers)       reward=0.0   accuracy=hedged" in out


def test_demo_with_the_r1_template_shows_the_format_reward():
    result = run("demo", "--template", "r1", "--options", json.dumps({"level": 2}))
    assert result.returncode == 0, result.stderr
    assert "Rubric(accuracy=1, format=0.2)" in result.stdout
    assert "reward=1.2" in result.stdout


def test_unknown_env_exits_2_and_lists_valid_ids():
    result = run("demo", "--env", "rlvr/Arithmetc-v0")
    assert result.returncode == 2
    assert "Registered ids: rlvr/Arithmetic-v0" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_option_exits_2_and_names_the_field(capsys):
    assert main(["demo", "--options", '{"digits": [0]}']) == 2
    assert "digits.0" in capsys.readouterr().err


def test_missing_subcommand_is_a_usage_error():
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2


def test_decontaminate_is_a_subcommand_that_drops_copies_of_eval_items(tmp_path):
    question = "Natalia sold clips to 48 of her friends in April and then half as many in May."
    train, evaluation = tmp_path / "train.jsonl", tmp_path / "eval.jsonl"
    train.write_text(json.dumps({"question": question}) + "\n" + json.dumps({"question": "What is 2 + 3?"}) + "\n")
    evaluation.write_text(json.dumps({"question": question.upper()}) + "\n")
    out = tmp_path / "kept.jsonl"
    command = [RLVR, "decontaminate", "--train", str(train), "--eval", str(evaluation), "--out", str(out), "--quiet"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["question"] for line in out.read_text().splitlines()] == ["What is 2 + 3?"]
