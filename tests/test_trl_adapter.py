"""`rlvr train --trainer trl`: TRL's GRPOTrainer on a registered env, from our config."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rlvr import envs
from rlvr.trainers.algorithms.config import GRPOConfig
from rlvr.trainers.cli.train import TRAINERS

pytest.importorskip("trl")

from rlvr.trainers.algorithms.trl_adapter import (
    TRLConfigError,
    check_supported,
    env_data,
    train_trl,
    trl_arguments,
)

RLVR = str(Path(sys.executable).with_name("rlvr"))


def test_trl_is_a_registered_trainer():
    assert TRAINERS["trl"].load() is train_trl
    assert TRAINERS["trl"].config is GRPOConfig  # the same fields as our own GRPO


def test_train_command_with_trl_runs_and_reports_accuracy(tmp_path):
    run = tmp_path / "run"
    command = [RLVR, "train", "--trainer", "trl", "--env", "rlvr/Arithmetic-v0", "--model", "tiny", "--steps", "2"]
    command += ["--prompts-per-step", "2", "--group-size", "2", "--max-new-tokens", "8", "--cold-start-steps", "2"]
    command += ["--eval-prompts", "4", "--pass-k", "2", "--output-dir", str(run)]
    command += ["--progress", "false", "--tensorboard", "false"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "held-out accuracy:" in result.stdout and "before trl" in result.stdout
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    train = [line for line in lines if line["split"] == "train" and "reward" in line]
    assert [line["step"] for line in train] == [1, 2]
    # the names the grpo and ppo trainers log, with the criteria through TRL's log_metric
    named = {"reward", "reward_std", "kl", "completions/mean_length", "clip_ratio/region_mean", "frac_reward_zero_std"}
    assert named | {"rewards/accuracy/mean", "rewards/accuracy/std"} <= set(train[0])
    assert not any(name.startswith("rewards/rlvr_") for line in train for name in line)  # repeats of reward
    assert [line["step"] for line in lines if line["split"] == "eval"] == [0, 2]
    assert (run / "final" / "config.json").exists() and (run / "curves.png").exists()


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("fsdp", True, "fsdp"),
        ("filter_zero_std_groups", True, "filter_zero_std_groups"),
        ("dynamic_sampling", True, "dynamic_sampling"),
        ("kl_penalty", "reward", "kl_penalty"),
        ("kl_estimator", "k1", "kl_estimator"),
        ("async_rollouts", True, "async_rollouts"),
        ("stop", ["\n"], "stop"),
        ("importance_sampling_correction", True, "importance_sampling_correction"),
        ("device", "cuda:1", "device"),
        ("env_options", {"max_turns": 2}, "max_turns"),
    ],
)
def test_a_field_trl_cannot_honour_is_named(field, value, named):
    with pytest.raises(TRLConfigError, match=named):
        check_supported(GRPOConfig(**{field: value}))


def test_the_command_line_names_a_refused_field_without_a_traceback(tmp_path):
    command = [RLVR, "train", "--trainer", "trl", "--model", "tiny", "--filter-zero-std-groups", "true"]
    result = subprocess.run([*command, "--output-dir", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "filter_zero_std_groups" in result.stderr and "Traceback" not in result.stderr


def test_a_wrong_env_id_fails_before_training():
    with pytest.raises(envs.UnknownEnvError):
        check_supported(GRPOConfig(env="rlvr/Nope-v0"))


def test_fields_map_onto_trl_config(tmp_path):
    config = GRPOConfig(
        output_dir=tmp_path,
        steps=5,
        prompts_per_step=4,
        group_size=6,
        gradient_accumulation_steps=2,
        num_iterations=2,
        max_new_tokens=12,
        temperature=0.7,
        top_p=0.9,
        beta=0.0,
        epsilon=0.2,
        epsilon_high=0.28,
        loss_type="dr_grpo",
        importance_sampling_level="sequence",
        mask_truncated_completions=True,
        top_k=5,
        min_p=0.1,
        scale_rewards="none",
        learning_rate=3e-6,
        lr_scheduler="cosine",
        warmup_steps=1,
        save_every=0,
        bf16=False,
        device="cpu",
    )
    args = trl_arguments(config)
    # one GRPO step = 4 prompts x 6 completions, split into 2 micro-batches, reused num_iterations times
    assert args.num_generations == 6 and args.per_device_train_batch_size == 12
    assert args.gradient_accumulation_steps == 2 and args.generation_batch_size == 24
    assert args.max_steps == 10 and args.num_iterations == 2
    assert (args.max_completion_length, args.temperature, args.top_p, args.top_k, args.min_p) == (12, 0.7, 0.9, 5, 0.1)
    assert args.importance_sampling_level == "sequence" and args.mask_truncated_completions
    assert not args.vllm_importance_sampling_correction
    assert (args.beta, args.epsilon, args.epsilon_high) == (0.0, 0.2, 0.28)
    assert args.loss_type == "dr_grpo" and args.scale_rewards == "none"
    assert args.learning_rate == 3e-6 and args.lr_scheduler_type == "cosine" and args.warmup_steps == 1
    assert args.use_cpu and not args.bf16 and args.save_strategy == "no" and args.report_to == []


def test_trl_and_grpo_see_the_same_env():
    """The rows TRL trains on are the prompts the grpo trainer's envs pose, and the rewards agree."""
    config = GRPOConfig(env="rlvr/Arithmetic-v0", env_options={"template": "r1", "level": 2}, steps=2, seed=7)
    dataset, reward = env_data(config)
    assert len(dataset) == config.prompts_per_step * config.steps
    env = envs.make(config.env, **config.env_options)  # what rlvr.trainers.algorithms.grpo builds
    rewards_seen = set()
    for row in dataset:
        prompt, _ = env.reset(seed=row["seed"])
        assert row["prompt"] == prompt and row["seed"] >= config.seed
        candidates = [f"<think>x</think>\n<answer>{row['answer']}</answer>", str(row["answer"]), "no idea"]
        for completion in candidates:
            env.reset(seed=row["seed"])
            _, expected, *_ = env.step(completion)
            (got,) = reward([prompt], [completion], task=[row["task"]])
            assert got == pytest.approx(expected)
            rewards_seen.add(got)
    assert len(rewards_seen) > 1  # the candidates exercise both a right and a wrong answer


def test_the_reward_function_logs_each_criterion_through_trls_log_metric():
    config = GRPOConfig(env="rlvr/Arithmetic-v0", env_options={"template": "r1", "level": 1}, steps=1)
    dataset, reward = env_data(config)
    rows = [dataset[0], dataset[1]]
    right = f"<think>x</think>\n<answer>{rows[0]['answer']}</answer>"
    logged: dict[str, float] = {}
    reward(
        [r["prompt"] for r in rows],
        [right, "no idea"],
        task=[r["task"] for r in rows],
        log_metric=lambda name, value: logged.__setitem__(name, value),
    )
    env = envs.make(config.env, **config.env_options)
    criteria = set(env.unwrapped.rubric.weights)
    assert {f"rewards/{name}/mean" for name in criteria} | {f"rewards/{name}/std" for name in criteria} == set(logged)
    assert logged["rewards/accuracy/mean"] == 0.5  # one right answer of two
    assert logged["rewards/accuracy/std"] == pytest.approx(2**-0.5)


def test_the_soft_overlong_punishment_is_trls_own_and_other_penalties_are_refused(tmp_path):
    with pytest.raises(TRLConfigError, match="overlong_penalty"):
        check_supported(GRPOConfig(overlong_buffer=2, overlong_penalty=0.5, max_new_tokens=8))
    check_supported(GRPOConfig(overlong_buffer=2, max_new_tokens=8))  # penalty 1: TRL's reward function


def test_resuming_a_trl_checkpoint_with_other_settings_is_refused_naming_them(tmp_path):
    from rlvr.trainers.run.run_dir import write_run_record

    saved = GRPOConfig(env="rlvr/Arithmetic-v0", model="tiny", output_dir=tmp_path, learning_rate=1e-6)
    write_run_record(tmp_path, "trl", saved.model_dump(mode="json"), resumed=False)
    (tmp_path / "checkpoint-4").mkdir()  # TRL's layout
    again = saved.model_copy(update={"learning_rate": 1e-3})
    with pytest.raises(TRLConfigError, match=r"learning_rate: 1e-06 there, 0\.001 here"):
        train_trl(again)
    grpo_run = saved.model_copy(update={"output_dir": tmp_path / "other"})
    write_run_record(tmp_path / "other", "grpo", grpo_run.model_dump(mode="json"), resumed=False)
    (tmp_path / "other" / "checkpoint-4").mkdir()
    with pytest.raises(TRLConfigError, match="checkpoints of the grpo trainer, not trl"):
        train_trl(grpo_run)


def test_a_mixture_is_one_data_set_whose_rows_carry_their_env_and_one_reward_that_dispatches():
    config = GRPOConfig(
        mixture=[
            {"id": "rlvr/Arithmetic-v0", "options": {"level": 1, "template": "equation"}, "weight": 3},
            {"id": "rlvr/Math-v0", "options": {"level": 1, "template": "plain"}},
        ],
        steps=10,
        prompts_per_step=8,
    )
    dataset, reward = env_data(config)
    assert len(dataset) == 80 and set(dataset["env"]) == {"rlvr/Arithmetic-v0", "rlvr/Math-v0"}
    assert 0.55 < dataset["env"].count("rlvr/Arithmetic-v0") / 80 < 0.95
    math_row = dataset["env"].index("rlvr/Math-v0")
    arithmetic_row = dataset["env"].index("rlvr/Arithmetic-v0")
    rows = [arithmetic_row, math_row]
    right = [f" {dataset['answer'][i]}" for i in rows]
    logged = {}
    scores = reward(
        prompts=[dataset["prompt"][i] for i in rows],
        completions=right,
        env=[dataset["env"][i] for i in rows],
        task=[dataset["task"][i] for i in rows],
        log_metric=lambda name, value: logged.setdefault(name, value),
    )
    assert scores == [1.0, 1.0]  # each completion judged by its own env's rubric
    assert logged["env/rlvr/Math-v0/reward"] == 1.0 and logged["env/rlvr/Arithmetic-v0/reward"] == 1.0
    wrong = reward(
        completions=[" -1", " -1"], env=[dataset["env"][i] for i in rows], task=[dataset["task"][i] for i in rows]
    )
    assert wrong == [0.0, 0.0]


def test_mixture_settings_trl_cannot_honour_are_named():
    base = {"mixture": ["rlvr/Arithmetic-v0", "rlvr/Math-v0"]}
    with pytest.raises(TRLConfigError, match="scale_rewards_by_env"):
        check_supported(GRPOConfig(**base, scale_rewards="batch", scale_rewards_by_env=True))
    with pytest.raises(TRLConfigError, match="loss_weight"):
        check_supported(GRPOConfig(mixture=[{"id": "rlvr/Math-v0", "loss_weight": 2}]))
    with pytest.raises(TRLConfigError, match="curriculum"):
        check_supported(GRPOConfig(curriculum=[{"schedule": [[0, 1], [5, 2]]}]))
