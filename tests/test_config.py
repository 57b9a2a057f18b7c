from pathlib import Path

import pytest
from pydantic import ValidationError

from rlvr.trainers.algorithms.config import GRPOConfig, PPOConfig, load_config_file


def test_every_field_has_a_description():
    for config_class in (GRPOConfig, PPOConfig):
        for name, field in config_class.model_fields.items():
            assert field.description, f"{config_class.__name__}.{name}"


def test_ppo_mini_batches_must_split_the_batch():
    with pytest.raises(ValidationError, match="num_mini_batches"):
        PPOConfig(prompts_per_step=6, num_mini_batches=4)
    with pytest.raises(ValidationError, match="gradient_accumulation_steps"):
        PPOConfig(prompts_per_step=8, num_mini_batches=2, gradient_accumulation_steps=8)
    assert PPOConfig(prompts_per_step=8, num_mini_batches=2, gradient_accumulation_steps=4).ppo_epochs == 4


def test_each_trainer_names_its_own_kl_weight():
    assert GRPOConfig(beta=0.1).kl_weight == 0.1
    assert PPOConfig(kl_coef=0.2).kl_weight == 0.2
    with pytest.raises(ValidationError, match="beta"):
        PPOConfig(beta=0.1)  # PPO's KL is in the reward: kl_coef


def test_bad_value_names_the_field():
    with pytest.raises(ValidationError, match="group_size"):
        GRPOConfig(group_size=1)
    with pytest.raises(ValidationError, match="scale_rewards"):
        GRPOConfig(scale_rewards="median")
    with pytest.raises(ValidationError, match="learning_rat"):
        GRPOConfig(learning_rat=1e-3)


def test_accumulation_must_divide_the_batch():
    with pytest.raises(ValidationError, match="gradient_accumulation_steps"):
        GRPOConfig(prompts_per_step=3, group_size=4, gradient_accumulation_steps=5)


def test_clip_high_defaults_to_epsilon():
    assert GRPOConfig(epsilon=0.1).clip_high == 0.1
    assert GRPOConfig(epsilon=0.1, epsilon_high=0.28).clip_high == 0.28


def test_cold_start_runs_by_default_only_for_the_tiny_model():
    assert GRPOConfig(model="tiny").sft_steps == 300
    assert GRPOConfig(model="Qwen/Qwen2.5-0.5B").sft_steps == 0
    assert GRPOConfig(model="tiny", cold_start_steps=0).sft_steps == 0


def test_config_files_in_yaml_and_json(tmp_path: Path):
    (tmp_path / "run.yaml").write_text("group_size: 4\nenv_options:\n  level: 2\n")
    (tmp_path / "run.json").write_text('{"group_size": 4, "env_options": {"level": 2}}')
    for name in ("run.yaml", "run.json"):
        config = GRPOConfig(**load_config_file(tmp_path / name))
        assert config.group_size == 4 and config.env_options == {"level": 2}


def test_config_file_must_hold_a_mapping(tmp_path: Path):
    (tmp_path / "bad.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ValueError, match="mapping"):
        load_config_file(tmp_path / "bad.yaml")
