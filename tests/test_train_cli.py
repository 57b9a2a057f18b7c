"""`rlvr train` from the command line and from config files."""

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from rlvr.trainers.algorithms.config import GRPOConfig, PPOConfig, TrainerConfig
from rlvr.trainers.cli.train import TRAINERS, add_train_arguments, config_from_args, trainer_name

RLVR = str(Path(sys.executable).with_name("rlvr"))
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "tiny_arithmetic.yaml"
PPO_EXAMPLE = EXAMPLE.with_name("tiny_arithmetic_ppo.yaml")


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    return parser.parse_args(argv)


def test_every_config_field_is_a_flag():
    config = config_from_args(
        parse("--group-size", "4", "--env-options", '{"level": 2}', "--bf16", "false", "--lora", '{"r": 8}')
    )
    assert config.group_size == 4 and config.env_options == {"level": 2}
    assert config.bf16 is False and config.lora.r == 8


def test_flags_override_the_config_file(tmp_path):
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"group_size": 4, "steps": 7}))
    config = config_from_args(parse("--config", str(path), "--steps", "9"))
    assert (config.group_size, config.steps) == (4, 9)


def test_the_example_configs_are_valid():
    config = config_from_args(parse("--config", str(EXAMPLE)))
    assert config.model == "tiny" and config.env == "rlvr/Arithmetic-v0"
    ppo = config_from_args(parse("--config", str(PPO_EXAMPLE)))
    assert isinstance(ppo, PPOConfig)
    assert ppo.prompts_per_step * ppo.group_size == config.prompts_per_step * config.group_size  # the same budget


def test_bad_flag_value_names_the_flag():
    with pytest.raises(SystemExit):
        parse("--bf16", "maybe")
    result = subprocess.run([RLVR, "train", "--group-size", "1"], capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "--group-size" in result.stderr and "Traceback" not in result.stderr


def test_a_model_that_cannot_be_loaded_is_a_clear_error(tmp_path):
    command = [RLVR, "train", "--model", str(tmp_path / "missing"), "--output-dir", str(tmp_path / "run")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "missing" in result.stderr and "'tiny'" in result.stderr and "Traceback" not in result.stderr


def test_train_command_runs_and_reports_accuracy_before_and_after(tmp_path):
    command = [RLVR, "train", "--config", str(EXAMPLE), "--output-dir", str(tmp_path / "run"), "--steps", "4"]
    command += ["--cold-start-steps", "5", "--eval-prompts", "8", "--progress", "false", "--tensorboard", "false"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "held-out accuracy:" in result.stdout and "before grpo" in result.stdout
    assert (tmp_path / "run" / "curves.png").exists()


def test_trainer_flag_picks_the_config_of_that_trainer():
    ppo = config_from_args(parse("--trainer", "ppo", "--gamma", "0.9", "--group-size", "1"))
    assert isinstance(ppo, PPOConfig) and ppo.gamma == 0.9
    assert isinstance(config_from_args(parse("--trainer", "trl")), GRPOConfig)
    assert isinstance(config_from_args(parse()), GRPOConfig)


def test_a_config_file_may_name_its_trainer(tmp_path):
    path = tmp_path / "ppo.yaml"
    path.write_text("trainer: ppo\nlam: 0.9\n")
    args = parse("--config", str(path))
    assert trainer_name(args) == "ppo" and config_from_args(args).lam == 0.9
    assert trainer_name(parse("--config", str(path), "--trainer", "grpo")) == "grpo"  # the flag wins


def test_every_trainer_is_registered_with_a_config_and_a_function():
    for name, spec in TRAINERS.items():
        assert issubclass(spec.config, TrainerConfig), name
        assert callable(spec.load()), name


def test_a_field_of_another_trainer_says_which_trainers_take_it():
    result = subprocess.run([RLVR, "train", "--gamma", "0.9"], capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "--gamma: not an option of the grpo trainer (it is one of ppo)" in result.stderr


def test_ppo_command_runs_and_reports_accuracy_before_and_after(tmp_path):
    command = [RLVR, "train", "--config", str(PPO_EXAMPLE), "--output-dir", str(tmp_path / "run"), "--steps", "3"]
    command += ["--prompts-per-step", "8", "--cold-start-steps", "5", "--eval-prompts", "8"]
    command += ["--progress", "false", "--tensorboard", "false"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "before ppo" in result.stdout
    assert (tmp_path / "run" / "checkpoints" / "latest").exists()
