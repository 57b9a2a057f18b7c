"""The PPO trainer end to end, on the tiny model and rlvr/Arithmetic-v0 (level 1, equation template)."""

import itertools
import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from rlvr.trainers.algorithms.config import GRPOConfig, PPOConfig, TrainerConfigError
from rlvr.trainers.algorithms.grpo import train_grpo
from rlvr.trainers.algorithms.ppo import PPOTrainer, train_ppo
from rlvr.trainers.losses.kl_controller import adaptive_kl_coef
from rlvr.trainers.models.value_model import ValueModel
from rlvr.trainers.run.checkpoint import latest_checkpoint
from rlvr.trainers.run.metrics import read_metrics

EASY = {"level": 1, "template": "equation"}


def config(tmp_path: Path, **overrides) -> PPOConfig:
    values = dict(
        env="rlvr/Arithmetic-v0",
        env_options=EASY,
        model="tiny",
        output_dir=tmp_path / "run",
        steps=3,
        prompts_per_step=16,
        max_new_tokens=4,
        cold_start_steps=0,
        learning_rate=3e-4,
        kl_coef=0.0,
        ppo_epochs=2,
        eval_prompts=8,
        pass_k=2,
        eval_every=0,
        save_every=0,
        progress=False,
        tensorboard=False,
    )
    values.update(overrides)
    return PPOConfig(**values)


def train_rows(run_dir: Path) -> list[dict]:
    return [r for r in read_metrics(run_dir / "metrics.jsonl") if r["split"] == "train"]


def test_ppo_improves_the_reward_of_a_cold_started_tiny_model(tmp_path):
    result = train_ppo(
        config(
            tmp_path,
            steps=60,
            cold_start_steps=50,
            prompts_per_step=64,
            learning_rate=5e-4,
            kl_coef=0.05,
            eval_prompts=100,
        )
    )
    rewards = [r["reward"] for r in train_rows(result.output_dir)]
    first, last = sum(rewards[:15]) / 15, sum(rewards[-15:]) / 15
    assert last > first + 0.08, (first, last)
    assert result.eval_after["accuracy"] > result.eval_before["accuracy"]
    assert train_rows(result.output_dir)[-1]["explained_variance"] > 0.0  # the critic has learnt something


def test_the_critic_starts_from_the_policy_with_weights_of_its_own(tmp_path):
    trainer = PPOTrainer(config(tmp_path, cold_start_steps=50))  # some right answers: a signal
    assert isinstance(trainer.critic, ValueModel)
    policy_body = trainer.policy.base_model.state_dict()
    critic_body = trainer.critic.body.state_dict()
    assert policy_body.keys() == critic_body.keys()
    for name, tensor in policy_body.items():
        assert torch.equal(tensor, critic_body[name]), name
        assert tensor.data_ptr() != critic_body[name].data_ptr(), name  # a copy, not shared
    trainer.train_step()
    moved = [
        name
        for name, tensor in trainer.policy.base_model.state_dict().items()
        if not torch.equal(tensor, trainer.critic.body.state_dict()[name])
    ]
    assert moved  # trained apart from then on


def test_one_optimizer_steps_policy_and_critic_at_their_own_rates(tmp_path):
    trainer = PPOTrainer(config(tmp_path, learning_rate=1e-4, critic_learning_rate=1e-3, cold_start_steps=50))
    assert [group["lr"] for group in trainer.optimizer.param_groups] == [1e-4, 1e-3]
    head_before = trainer.critic.head.weight.detach().clone()
    trainer.train_step()
    assert not torch.equal(head_before, trainer.critic.head.weight)


def test_run_writes_ppo_metrics_curves_and_a_final_policy(tmp_path):
    # k3 is >= 0 on every token, so the KL shows as soon as the policy has moved (k1's mean may dip below 0)
    result = train_ppo(config(tmp_path, kl_coef=0.05, kl_estimator="k3", cold_start_steps=50))
    rows = train_rows(result.output_dir)
    assert [r["step"] for r in rows] == [1, 2, 3]
    for name in (
        "reward",
        "accuracy",
        "kl",
        "kl_per_sequence",
        "kl_coef",
        "non_score_reward",
        "loss",
        "value_loss",
        "clip_ratio/low_mean",
        "clip_ratio/high_mean",
        "clip_ratio/region_mean",
        "value_clip_ratio",
        "approx_kl",
        "entropy",
        "values/mean",
        "returns/mean",
        "explained_variance",
        "grad_norm",
        "learning_rate",
        "completions/mean_length",
        "step_time",
    ):
        assert name in rows[0], name
    assert rows[0]["kl"] == pytest.approx(0.0, abs=1e-6)  # the first batch is sampled by the reference itself
    assert rows[-1]["kl"] > 0.0 and rows[-1]["non_score_reward"] < 0.0
    assert [r["kl_coef"] for r in rows] == [0.05] * 3  # fixed without adaptive_kl
    assert (result.output_dir / "curves.png").read_bytes()[:4] == b"\x89PNG"
    assert (result.output_dir / "final" / "config.json").exists()


def test_the_penalty_and_the_logged_kl_use_the_configured_estimator(tmp_path):
    def two_steps(estimator: str) -> list[dict[str, float]]:
        settings = dict(kl_coef=0.05, kl_estimator=estimator, cold_start_steps=50, learning_rate=1e-3)
        trainer = PPOTrainer(config(tmp_path / estimator, **settings))
        return [trainer.train_step(), trainer.train_step()]

    k1, k3 = two_steps("k1"), two_steps("k3")
    assert k1[0]["kl"] == k3[0]["kl"] == 0.0  # the first batch is sampled by the reference itself
    assert k3[1]["kl"] > 0.0 and k3[1]["kl"] != k1[1]["kl"]
    for steps in (k1, k3):
        for metrics in steps:  # the rewards' penalties are the logged KL's, times the coefficient
            assert metrics["non_score_reward"] == pytest.approx(-0.05 * metrics["kl_per_sequence"], rel=1e-4, abs=1e-9)


def test_adaptive_kl_moves_the_logged_coefficient_by_the_controllers_update(tmp_path):
    settings = dict(kl_coef=0.05, adaptive_kl=True, target_kl=0.01, kl_horizon=20, cold_start_steps=50)
    rows = train_rows(train_ppo(config(tmp_path, **settings)).output_dir)
    assert rows[0]["kl_coef"] == 0.05
    assert rows[1]["kl_coef"] < 0.05  # the first batch's KL is 0, below the target
    for before, after in itertools.pairwise(rows):
        sequences = 16 - int(before["skipped"])
        expected = adaptive_kl_coef(before["kl_coef"], before["kl_per_sequence"], 0.01, sequences, 20)
        assert after["kl_coef"] == pytest.approx(expected, rel=1e-12)


def test_adaptive_kl_is_refused_with_nothing_to_scale_or_too_short_a_horizon(tmp_path):
    with pytest.raises(ValueError, match="kl_coef > 0"):
        config(tmp_path, adaptive_kl=True, kl_coef=0.0)
    with pytest.raises(ValueError, match="kl_horizon"):
        config(tmp_path, adaptive_kl=True, kl_coef=0.05, kl_horizon=3)  # 16 sequences a batch >= 5 * 3


def test_ppo_epochs_and_mini_batches_reuse_the_batch_and_clip(tmp_path):
    trainer = PPOTrainer(
        config(tmp_path, ppo_epochs=4, num_mini_batches=4, learning_rate=1e-2, epsilon=0.05, cold_start_steps=50)
    )
    metrics = trainer.train_step()
    assert metrics["clip_ratio/region_mean"] > 0.0 and metrics["approx_kl"] > 0.0
    assert metrics["clip_ratio/region_mean"] == pytest.approx(
        metrics["clip_ratio/low_mean"] + metrics["clip_ratio/high_mean"]
    )


def test_gradient_accumulation_gives_the_same_update(tmp_path):
    def one_step(accumulation: int) -> dict[str, torch.Tensor]:
        trainer = PPOTrainer(config(tmp_path / str(accumulation), gradient_accumulation_steps=accumulation))
        trainer.train_step()
        return {k: v.detach().clone() for k, v in trainer.checkpoint_model().state_dict().items()}

    whole, split = one_step(1), one_step(4)
    for name in whole:
        torch.testing.assert_close(whole[name], split[name], rtol=1e-4, atol=1e-6)


def test_a_stopped_run_resumes_policy_and_critic_exactly(tmp_path):
    straight = train_ppo(config(tmp_path / "a", steps=4, cold_start_steps=10, kl_coef=0.05))
    split_config = config(tmp_path / "b", steps=2, cold_start_steps=10, kl_coef=0.05)
    train_ppo(split_config)
    resumed = train_ppo(split_config.model_copy(update={"steps": 4}))
    assert [r["reward"] for r in train_rows(resumed.output_dir)] == [
        r["reward"] for r in train_rows(straight.output_dir)
    ]
    for name, tensor in load_file(straight.output_dir / "final" / "model.safetensors").items():
        assert torch.equal(tensor, load_file(resumed.output_dir / "final" / "model.safetensors")[name]), name
    saved = [torch.load(latest_checkpoint(r.output_dir) / "model.pt", weights_only=True) for r in (straight, resumed)]
    critic_names = [name for name in saved[0] if name.startswith("critic.")]
    assert critic_names
    for name in critic_names:
        assert torch.equal(saved[0][name], saved[1][name]), name


def test_a_resumed_run_continues_the_adaptive_kl_coefficient_exactly(tmp_path):
    settings = dict(steps=4, save_every=2, cold_start_steps=10, kl_coef=0.05, adaptive_kl=True, kl_horizon=20)
    straight = train_ppo(config(tmp_path / "a", **settings))
    split_config = config(tmp_path / "b", **{**settings, "steps": 2})
    train_ppo(split_config)
    checkpoint = latest_checkpoint(split_config.output_dir)
    saved = json.loads((checkpoint / "meta.json").read_text())["extra"]["state"]["kl_coef"]
    resumed = train_ppo(split_config.model_copy(update={"steps": 4}))

    expected = train_rows(straight.output_dir)
    coefficients = [r["kl_coef"] for r in expected]
    assert len(set(coefficients)) == 4  # it moves every step, so restarting from kl_coef=0.05 would show
    assert saved == coefficients[2]  # step 2's checkpoint holds the coefficient step 3 starts with
    for name in ("kl_coef", "kl_per_sequence", "reward"):
        assert [r[name] for r in train_rows(resumed.output_dir)] == [r[name] for r in expected], name


def test_resuming_in_another_trainers_directory_is_refused(tmp_path):
    grpo = GRPOConfig(
        env_options=EASY,
        model="tiny",
        output_dir=tmp_path / "run",
        steps=1,
        prompts_per_step=2,
        group_size=2,
        max_new_tokens=4,
        cold_start_steps=0,
        beta=0.0,
        eval_prompts=4,
        pass_k=1,
        progress=False,
        tensorboard=False,
    )
    train_grpo(grpo)
    with pytest.raises(TrainerConfigError, match="checkpoints of the grpo trainer"):
        PPOTrainer(config(tmp_path)).train()


def test_ppo_runs_on_the_code_env_unchanged(tmp_path):
    trainer = PPOTrainer(config(tmp_path, env="rlvr/Code-v0", env_options={"families": ["gcd"]}, max_new_tokens=16))
    metrics = trainer.train_step()
    assert metrics["skipped"] == 0.0  # the sandbox judged every completion (plumbing, not learning)
    assert 0.0 <= metrics["reward"] <= 1.0


def test_fsdp_is_refused_by_name(tmp_path):
    with pytest.raises(TrainerConfigError, match="fsdp"):
        PPOTrainer(config(tmp_path, fsdp=True))
