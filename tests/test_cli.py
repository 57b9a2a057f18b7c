"""The `rlvr` command, run as users run it: the installed console script."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rlvr.cli import main

RLVR = str(Path(sys.executable).with_name("rlvr"))


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([RLVR, *args], capture_output=True, text=True, timeout=120)


EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TINY_RUN = ["--model", "tiny", "--steps", "2", "--cold-start-steps", "5", "--prompts-per-step", "2"]
TINY_RUN += ["--group-size", "2", "--max-new-tokens", "4", "--eval-prompts", "4", "--eval-every", "0"]
TINY_RUN += ["--progress", "false", "--tensorboard", "false"]


def test_envs_lists_ids_with_the_providing_package_and_descriptions():
    result = run("envs")
    assert result.returncode == 0
    line = next(line for line in result.stdout.splitlines() if line.startswith("rlvr/Arithmetic-v0"))
    assert line.split()[1] == "rlvr-gym" and "multiplication" in line


def test_demo_scores_right_and_wrong_completions():
    result = run("demo", "--seed", "1")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Final Answer: the final answer is X" in out
    assert "right answer" in out and "reward=1.0" in out
    assert "hedged (two answers)       reward=0.0   accuracy=hedged" in out


def test_demo_with_the_r1_template_shows_the_format_reward():
    result = run("demo", "--template", "r1", "--env-options", json.dumps({"level": 2}))
    assert result.returncode == 0, result.stderr
    assert "Rubric(accuracy=1, format=0.2)" in result.stdout
    assert "reward=1.2" in result.stdout


def test_unknown_env_exits_2_and_lists_valid_ids():
    result = run("demo", "--env", "rlvr/Arithmetc-v0")
    assert result.returncode == 2
    assert "Registered ids: rlvr/Arithmetic-v0" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_option_exits_2_and_names_the_field(capsys):
    assert main(["demo", "--env-options", '{"digits": [0]}']) == 2
    assert "digits.0" in capsys.readouterr().err
    assert main(["demo", "--options", '{"digits": [0]}']) == 2  # the old spelling stays an alias
    assert "digits.0" in capsys.readouterr().err
    assert main(["demo", "--env-options", "[1, 2]"]) == 2
    assert "--env-options: expected a JSON object" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["envs", "demo", "train", "sample", "sft", "decontaminate"])
def test_every_subcommand_that_takes_an_env_spells_its_flags_the_same(command):
    help_text = run(command, "--help").stdout
    assert "--import" in help_text
    if command != "envs":
        assert "--env-options" in help_text


def test_train_imports_a_users_module_by_path_and_trains_its_env(tmp_path):
    result = run(
        "train", "--env", "examples/Reverse-v0", "--import", str(EXAMPLES / "custom_env.py"),
        "--output-dir", str(tmp_path), *TINY_RUN,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "held-out accuracy" in result.stdout


def test_a_config_file_names_the_modules_to_import(tmp_path):
    config = tmp_path / "reverse.yaml"
    config.write_text(f"env: examples/Reverse-v0\nimport: [{EXAMPLES / 'custom_env.py'}]\n")
    result = run("train", "--config", str(config), "--output-dir", str(tmp_path / "run"), *TINY_RUN)
    assert result.returncode == 0, result.stderr[-3000:]


def test_a_dotted_import_is_found_in_the_working_directory():
    command = [RLVR, "demo", "--env", "examples/Reverse-v0", "--import", "custom_env"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=EXAMPLES)
    assert result.returncode == 0, result.stderr
    assert "Reverse the word" in result.stdout


def test_an_env_of_ones_own_without_its_import_says_how_to_name_the_module():
    result = run("train", "--env", "examples/Reverse-v0", "--steps", "1")
    assert result.returncode == 2
    assert "unknown env id 'examples/Reverse-v0'" in result.stderr and "--import MODULE" in result.stderr


@pytest.mark.parametrize("command", ["envs", "demo", "train", "sample", "decontaminate"])
def test_a_module_that_cannot_be_imported_is_one_line_and_exit_2(command, tmp_path):
    required = {"decontaminate": ["--train", "rlvr/Arithmetic-v0", "--eval", str(tmp_path / "none.jsonl")]}
    result = run(command, "--import", "no_such_tasks_module", *required.get(command, []))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"rlvr {command}: cannot import 'no_such_tasks_module': no such module in the installed packages or in "
        f"{Path.cwd()} (give a dotted module name, or the path of a .py file)"
    )


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
