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


# --- mistakes are one clear line --------------------------------------------------------------------------------


def _one_line_error(capsys, tmp_path, *argv: str) -> str:
    """What ``rlvr train ARGV`` says when it refuses to run: exactly one line on stderr, no traceback."""
    from rlvr.cli import main

    with pytest.raises(SystemExit) as stopped:
        main(["train", *argv, "--output-dir", str(tmp_path / "run"), "--progress", "false"])
    message = str(stopped.value.code) if not isinstance(stopped.value.code, int) else capsys.readouterr().err
    lines = [line for line in message.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in message, message
    return lines[0]


def test_a_missing_config_file_is_named(capsys, tmp_path):
    line = _one_line_error(capsys, tmp_path, "--config", str(tmp_path / "nope.yaml"))
    assert line == f"rlvr train: {tmp_path / 'nope.yaml'}: no such config file"


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("bad.yaml", "steps: 10\ngroup_size: [1\n", ":3:1: not valid YAML"),
        ("bad.json", '{"steps": 10,\n', ":2:1: not valid JSON"),
    ],
)
def test_a_malformed_config_file_names_the_file_and_the_line(capsys, tmp_path, name, text, where):
    path = tmp_path / name
    path.write_text(text)
    assert f"{path}{where}" in _one_line_error(capsys, tmp_path, "--config", str(path))


def test_a_config_file_that_is_not_a_mapping_is_named(capsys, tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- steps\n- 10\n")
    assert "expected a mapping of config fields" in _one_line_error(capsys, tmp_path, "--config", str(path))


def test_a_bad_flag_value_is_one_line_without_the_usage(capsys, tmp_path):
    line = _one_line_error(capsys, tmp_path, "--steps", "ten")
    assert "argument --steps: invalid int value: 'ten'" in line and "--help" in line


def test_an_unknown_lora_key_lists_the_lora_fields(capsys, tmp_path):
    line = _one_line_error(capsys, tmp_path, "--lora", '{"rank": 4}')
    assert "--lora.rank: not a field of lora; its fields are r, alpha, dropout, target_modules" in line


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--model", "tiny:huge", "--cold-start-steps", "0"], "unknown tiny model size 'huge'"),
        (["--device", "cuda"], "no CUDA device"),
        (["--engine", "vllm"], "engine='vllm' needs vLLM"),
        (["--fsdp", "true"], "launch with torchrun"),
    ],
)
def test_what_this_machine_cannot_run_is_one_line(capsys, tmp_path, argv, said):
    import importlib.util

    import torch

    if "cuda" in argv and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    if "vllm" in argv and importlib.util.find_spec("vllm") is not None:
        pytest.skip("vLLM is installed here")
    assert said in _one_line_error(capsys, tmp_path, *argv, "--steps", "0")


def test_a_prompt_the_model_cannot_see_is_one_line_with_both_lengths(capsys, tmp_path):
    argv = ["--model", "tiny", "--max-new-tokens", "8190", "--cold-start-steps", "0", "--steps", "0"]
    line = _one_line_error(capsys, tmp_path, *argv)
    assert line.startswith("rlvr train: a prompt of rlvr/Arithmetic-v0 is ")
    assert "but the model sees 8192" in line and "max_new_tokens" in line


@pytest.mark.parametrize(
    ("rows", "said"),
    [
        ([{"prompt": "2+2?", "label": "4"}], "cannot tell the data set's format from its columns ['label', 'prompt']"),
        ([{"question": "2+2?"}], "needs the field(s) ['answer']; it has ['question']"),
    ],
)
def test_a_data_set_with_the_wrong_columns_is_one_line_naming_them(capsys, tmp_path, rows, said):
    from rlvr.cli import main

    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in rows))
    options = json.dumps({"dataset": str(data)})
    argv = ["train", "--env", "rlvr/Math-v0", "--env-options", options, "--output-dir", str(tmp_path / "run")]
    assert main([*argv, "--cold-start-steps", "0", "--steps", "0", "--progress", "false"]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err and said in lines[0] and str(data) in lines[0], err


def test_mix_flags_train_ppo_on_a_mixture(tmp_path, capsys):
    from rlvr.cli import main

    argv = ["train", "--trainer", "ppo", "--mix", 'rlvr/Arithmetic-v0:{"level": 1, "template": "equation"}@2']
    argv += ["--mix", "rlvr/Math-v0", "--steps", "2", "--cold-start-steps", "0", "--eval-prompts", "2"]
    argv += ["--max-new-tokens", "3", "--output-dir", str(tmp_path), "--progress", "false", "--tensorboard", "false"]
    assert main(argv) == 0
    first = json.loads((tmp_path / "metrics.jsonl").read_text().splitlines()[1])
    assert first["split"] == "train" and "env/rlvr/Math-v0/share" in first


def test_a_wrong_id_in_a_mixture_lists_the_valid_ones(capsys, tmp_path):
    from rlvr.cli import main

    code = main(["train", "--mix", "rlvr/Nope-v0", "--mix", "rlvr/Math-v0", "--output-dir", str(tmp_path)])
    said = capsys.readouterr().err
    assert code == 2 and "rlvr/Nope-v0" in said and "rlvr/Arithmetic-v0" in said
