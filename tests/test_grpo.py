"""The GRPO trainer end to end, on the tiny model and rlvr/Arithmetic-v0 (level 1, equation template)."""

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from rlvr import envs
from rlvr.trainers.algorithms.config import GRPOConfig
from rlvr.trainers.algorithms.grpo import GRPOTrainer, train_grpo
from rlvr.trainers.run.metrics import read_metrics

EASY = {"level": 1, "template": "equation"}


def config(tmp_path: Path, **overrides) -> GRPOConfig:
    values = dict(
        env="rlvr/Arithmetic-v0",
        env_options=EASY,
        model="tiny",
        output_dir=tmp_path / "run",
        steps=3,
        prompts_per_step=4,
        group_size=4,
        max_new_tokens=4,
        cold_start_steps=0,
        learning_rate=3e-4,
        beta=0.0,
        eval_prompts=8,
        pass_k=2,
        eval_every=0,
        save_every=0,
        progress=False,
        tensorboard=False,
    )
    values.update(overrides)
    return GRPOConfig(**values)


def train_rows(run_dir: Path) -> list[dict]:
    return [r for r in read_metrics(run_dir / "metrics.jsonl") if r["split"] == "train"]


def test_grpo_improves_the_reward_of_a_cold_started_tiny_model(tmp_path):
    result = train_grpo(
        config(
            tmp_path,
            steps=800,  # the main job's length and learning rate: held-out greedy accuracy needs them to move
            cold_start_steps=50,
            prompts_per_step=8,
            group_size=8,
            eval_prompts=64,
            learning_rate=5e-4,
        )
    )
    rewards = [r["reward"] for r in train_rows(result.output_dir)]
    first, last = sum(rewards[:50]) / 50, sum(rewards[-50:]) / 50
    assert last > first + 0.08, (first, last)
    assert result.eval_after["accuracy"] > result.eval_before["accuracy"]


def test_run_writes_trl_named_metrics_curves_and_a_final_policy(tmp_path):
    result = train_grpo(config(tmp_path, tensorboard=True))
    rows = train_rows(result.output_dir)
    assert [r["step"] for r in rows] == [1, 2, 3]
    for name in (
        "reward",
        "reward_std",
        "frac_reward_zero_std",
        "kl",
        "entropy",
        "clip_ratio/low_mean",
        "clip_ratio/high_mean",
        "clip_ratio/region_mean",
        "reward_group_std",
        "completions/mean_length",
        "completions/clipped_ratio",
        "loss",
        "grad_norm",
        "learning_rate",
        "rewards/accuracy/mean",
        "rewards/accuracy/std",
    ):
        assert name in rows[0], name
    evals = [r for r in read_metrics(result.output_dir / "metrics.jsonl") if r["split"] == "eval"]
    assert [r["step"] for r in evals] == [0, 3]
    assert {"accuracy", "reward", "pass@2"} <= set(evals[0])
    assert (result.output_dir / "curves.png").read_bytes()[:4] == b"\x89PNG"
    assert any((result.output_dir / "tensorboard").iterdir())
    assert (result.output_dir / "final" / "config.json").exists()


def test_no_reference_model_is_loaded_when_beta_is_zero(tmp_path):
    assert GRPOTrainer(config(tmp_path, beta=0.0)).reference is None


def test_kl_to_the_reference_grows_once_the_policy_moves(tmp_path):
    # the entropy bonus moves the policy even when every reward of the random model is 0
    trainer = GRPOTrainer(config(tmp_path, beta=0.04, learning_rate=1e-2, entropy_coef=0.1))
    assert trainer.reference is not None
    first = trainer.train_step()
    trainer.step += 1
    second = trainer.train_step()
    assert first["kl"] == pytest.approx(0.0, abs=1e-6)  # the policy starts as the reference
    assert second["kl"] > 0.0


def test_inner_iterations_reuse_the_batch_and_clip(tmp_path):
    # a short cold start gives some right answers, hence non-zero advantages to clip
    trainer = GRPOTrainer(config(tmp_path, num_iterations=4, learning_rate=1e-2, epsilon=0.05, cold_start_steps=30))
    for _ in range(5):  # until a step draws a group with some spread in reward
        metrics = trainer.train_step()
        if metrics["frac_reward_zero_std"] < 1.0:
            break
        trainer.step += 1
    assert metrics["frac_reward_zero_std"] < 1.0
    assert metrics["clip_ratio/region_mean"] > 0.0
    assert metrics["clip_ratio/region_mean"] == pytest.approx(
        metrics["clip_ratio/low_mean"] + metrics["clip_ratio/high_mean"]
    )


def test_gradient_accumulation_gives_the_same_update(tmp_path):
    def one_step(accumulation: int) -> dict[str, torch.Tensor]:
        trainer = GRPOTrainer(config(tmp_path / str(accumulation), gradient_accumulation_steps=accumulation))
        trainer.train_step()
        return {k: v.detach().clone() for k, v in trainer.policy.state_dict().items()}

    whole, split = one_step(1), one_step(4)
    for name in whole:
        torch.testing.assert_close(whole[name], split[name], rtol=1e-4, atol=1e-6)


def test_lora_trains_only_adapters_and_uses_the_base_as_reference(tmp_path):
    trainer = GRPOTrainer(config(tmp_path, beta=0.04, lora={"r": 4, "target_modules": ["q_proj", "v_proj"]}))
    trainable = [name for name, p in trainer.policy.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in name for name in trainable)
    assert trainer.reference is None  # the base model, adapters disabled, is the reference
    metrics = trainer.train_step()
    assert metrics["kl"] == pytest.approx(0.0, abs=1e-6)


def test_gradient_checkpointing_runs(tmp_path):
    trainer = GRPOTrainer(config(tmp_path, gradient_checkpointing=True))
    flag = (
        "is_activation_checkpointing"
        if hasattr(trainer.policy, "is_activation_checkpointing")
        else "is_gradient_checkpointing"
    )
    assert getattr(trainer.policy, flag)
    assert trainer.train_step()["grad_norm"] >= 0.0


def test_unknown_env_lists_the_registered_ones(tmp_path):
    with pytest.raises(envs.UnknownEnvError, match="rlvr/Arithmetic-v0"):
        GRPOTrainer(config(tmp_path, env="rlvr/Arithmetik-v0"))


def _train_command(run_dir: Path, steps: int) -> list[str]:
    return [
        str(Path(sys.executable).with_name("rlvr")),
        "train",
        "--env-options",
        json.dumps(EASY),
        "--output-dir",
        str(run_dir),
        "--steps",
        str(steps),
        "--cold-start-steps",
        "10",
        "--prompts-per-step",
        "4",
        "--group-size",
        "4",
        "--max-new-tokens",
        "4",
        "--learning-rate",
        "3e-4",
        "--beta",
        "0.04",
        "--eval-prompts",
        "8",
        "--eval-every",
        "0",
        "--save-every",
        "2",
        "--progress",
        "false",
        "--tensorboard",
        "false",
    ]


def test_a_run_killed_with_sigkill_resumes_exactly(tmp_path):
    steps = 24
    straight = tmp_path / "straight"
    subprocess.run(_train_command(straight, steps), check=True, capture_output=True, timeout=600)

    killed = tmp_path / "killed"
    process = subprocess.Popen(_train_command(killed, steps), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not _checkpoint_steps(killed) or max(_checkpoint_steps(killed)) < 6:
        assert time.monotonic() < deadline and process.poll() is None, "the run ended before it could be killed"
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert max(_checkpoint_steps(killed)) < steps

    subprocess.run(_train_command(killed, steps), check=True, capture_output=True, timeout=600)
    assert [r["reward"] for r in train_rows(killed)] == [r["reward"] for r in train_rows(straight)]
    assert [r["step"] for r in train_rows(killed)] == list(range(1, steps + 1))
    final_straight = load_file(straight / "final" / "model.safetensors")
    final_resumed = load_file(killed / "final" / "model.safetensors")
    for name, tensor in final_straight.items():
        assert torch.equal(tensor, final_resumed[name]), name


def _checkpoint_steps(run_dir: Path) -> list[int]:
    root = run_dir / "checkpoints"
    if not root.exists():
        return []
    return [int(p.name.split("-")[1]) for p in root.glob("step-*") if (p / "meta.json").exists()]


def test_grpo_runs_on_the_code_env_unchanged(tmp_path):
    # the same trainer, another family: nothing in the trainer knows about code or the sandbox
    # (the untrained tiny model writes no code, so this checks the plumbing, not learning)
    trainer = GRPOTrainer(
        config(tmp_path, env="rlvr/Code-v0", env_options={"families": ["gcd"]}, max_new_tokens=16, steps=1)
    )
    metrics = trainer.train_step()
    assert metrics["skipped"] == 0.0  # every completion was judged
    assert 0.0 <= metrics["reward"] <= 1.0 and metrics["completions/mean_length"] > 0


# --- the update does not depend on how the batch is split, nor on unjudged rows -----------------------------------


class GradientRecorder(GRPOTrainer):
    """The GRPO trainer, keeping each optimizer step's policy gradient (before clipping) for inspection."""

    def clip_and_step(self, *parameter_sets):
        self.gradients = torch.cat([p.grad.flatten().clone() for p in parameter_sets[0] if p.grad is not None])
        return super().clip_and_step(*parameter_sets)


def _rollout_with_rewards(trainer: GRPOTrainer, rewards: list[float | None]):
    """The trainer's own sampled batch, with the rewards set to ``rewards`` (one per episode, group by group)."""
    rollout = trainer.next_rollout()
    for episode, reward in zip(rollout.episodes, rewards, strict=True):
        episode.reward = reward
    return rollout


# four groups of four: one with spread, one flat (filtered), one with an unjudged completion, one with spread
DESIGNED = [1.0, 0.0, 0.0, 0.0] + [0.0] * 4 + [None, 1.0, 0.0, 1.0] + [0.0, 1.0, 1.0, 0.0]


@pytest.mark.parametrize("loss_type", ["grpo", "dapo", "dr_grpo"])
def test_gradient_accumulation_gives_the_same_gradient_when_rows_are_masked(tmp_path, loss_type):
    gradients = {}
    for accumulation in (1, 4):
        trainer = GradientRecorder(
            config(
                tmp_path / f"{loss_type}{accumulation}",
                gradient_accumulation_steps=accumulation,
                filter_zero_std_groups=True,
                loss_type=loss_type,
                beta=0.04,
            )
        )
        rollout = _rollout_with_rewards(trainer, DESIGNED)
        trainer.next_rollout = lambda rollout=rollout: rollout  # the same batch for both splits
        trainer.train_step()
        gradients[accumulation] = trainer.gradients
    assert gradients[1].norm() > 0
    assert (gradients[4] - gradients[1]).norm() <= 1e-5 * gradients[1].norm()  # float32 rounding, not 40%


def test_an_unjudged_completion_leaves_its_groups_advantages_as_without_it(tmp_path):
    """A None reward does not shrink its group's std: the others' gradient is that of a group of three."""
    trainer = GradientRecorder(config(tmp_path / "a", prompts_per_step=1, group_size=4))
    rollout = _rollout_with_rewards(trainer, [None, 1.0, 0.0, 1.0])
    trainer.next_rollout = lambda: rollout
    trainer.train_step()
    with_missing = trainer.gradients

    three = GradientRecorder(config(tmp_path / "b", prompts_per_step=1, group_size=3))
    smaller = three.next_rollout()  # the same prompt (same seed and step), re-built from the first batch's rows
    for episode, source in zip(smaller.episodes, rollout.episodes[1:], strict=True):
        episode.token_ids, episode.loss_mask, episode.reward = source.token_ids, source.loss_mask, source.reward
    from rlvr.trainers.rollout.async_rollouts import Rollout

    rebuilt = Rollout(smaller.episodes, three.padded(smaller.episodes))
    three.next_rollout = lambda: rebuilt
    three.train_step()
    assert with_missing.norm() > 0
    assert (with_missing - three.gradients).norm() <= 1e-5 * three.gradients.norm()


def test_a_batch_with_nothing_to_learn_takes_no_optimizer_step(tmp_path):
    trainer = GRPOTrainer(config(tmp_path, mask_truncated_completions=True, max_new_tokens=1))
    before = {k: v.clone() for k, v in trainer.policy.state_dict().items()}
    metrics = trainer.train_step()  # one token is never enough to stop: every completion is truncated
    assert metrics["completions/clipped_ratio"] == 1.0 and metrics["grad_norm"] == 0.0
    for name, tensor in trainer.policy.state_dict().items():
        assert torch.equal(tensor, before[name]), name


# --- metrics under TRL's names and meanings --------------------------------------------------------------------------


def test_reward_std_is_the_std_of_the_batch_and_reward_max_its_maximum(tmp_path):
    trainer = GRPOTrainer(config(tmp_path))
    rewards = [1.0, 0.0, 0.0, 0.0] + [0.0] * 4 + [None, 1.0, 0.5, 1.0] + [0.0, 1.0, 1.0, 0.0]
    rollout = _rollout_with_rewards(trainer, rewards)
    trainer.next_rollout = lambda: rollout
    metrics = trainer.train_step()
    judged = torch.tensor([r for r in rewards if r is not None])
    assert metrics["reward_std"] == pytest.approx(float(judged.std()))
    assert (metrics["reward_max"], metrics["reward_min"]) == (1.0, 0.0)
    assert metrics["skipped"] == 1.0
    assert metrics["frac_reward_zero_std"] == 0.25


# --- the restart of a run that died before its first checkpoint ----------------------------------------------------


class DiesAtStepThree(GRPOTrainer):
    def train_step(self):
        if self.step == 2:
            raise RuntimeError("killed")
        return super().train_step()


def test_a_restart_before_the_first_checkpoint_logs_each_step_once(tmp_path):
    settings = dict(steps=4, save_every=100)
    with pytest.raises(RuntimeError, match="killed"):
        DiesAtStepThree(config(tmp_path, **settings)).train()
    assert [r["step"] for r in train_rows(tmp_path / "run")] == [1, 2]  # logged, but no checkpoint holds them
    train_grpo(config(tmp_path, **settings))
    assert [r["step"] for r in train_rows(tmp_path / "run")] == [1, 2, 3, 4]
    evals = [r for r in read_metrics(tmp_path / "run" / "metrics.jsonl") if r["split"] == "eval"]
    assert [r["step"] for r in evals] == [0, 4]


# --- options ------------------------------------------------------------------------------------------------------


def test_dynamic_sampling_keeps_only_informative_groups_and_is_reproducible(tmp_path):
    settings = dict(dynamic_sampling=True, cold_start_steps=30, max_sampling_rounds=3, prompts_per_step=4)
    first = GRPOTrainer(config(tmp_path / "a", **settings))
    episodes, stats = first.sample_step(0, first.engine)
    again = GRPOTrainer(config(tmp_path / "b", **settings))
    episodes_again, _ = again.sample_step(0, again.engine)
    assert [e.token_ids for e in episodes] == [e.token_ids for e in episodes_again]  # exact on resume
    assert 1 <= stats["dynamic_sampling/rounds"] <= 3
    assert stats["dynamic_sampling/groups_sampled"] == 4 * stats["dynamic_sampling/rounds"]
    kept = int(stats["dynamic_sampling/groups_kept"])
    assert len(episodes) == 4 * kept or (kept == 0 and len(episodes) == 16)
    if kept:
        for g in range(kept):
            rewards = {e.reward for e in episodes[g * 4 : (g + 1) * 4]}
            assert len(rewards) > 1, rewards
            assert [e.group for e in episodes[g * 4 : (g + 1) * 4]] == [g] * 4
    metrics = first.train_step()
    assert metrics["dynamic_sampling/rounds"] >= 1 and math.isfinite(metrics["loss"])


@pytest.mark.parametrize(
    "options",
    [
        {"loss_type": "dapo"},
        {"loss_type": "bnpo", "gradient_accumulation_steps": 2},
        {"loss_type": "dr_grpo", "scale_rewards": "none"},
        {"loss_type": "cispo", "epsilon_high": 5.0},
        {"importance_sampling_level": "sequence", "epsilon": 3e-4, "epsilon_high": 4e-4},
        {"kl_penalty": "reward", "beta": 0.1, "kl_estimator": "k1"},
        {"kl_estimator": "k2", "beta": 0.1},
        {"overlong_buffer": 2, "mask_truncated_completions": True},
        {"num_iterations": 2, "top_k": 5, "min_p": 0.05},
    ],
)
def test_each_option_trains(tmp_path, options):
    result = train_grpo(config(tmp_path, steps=2, cold_start_steps=20, **options))
    rows = train_rows(result.output_dir)
    assert [r["step"] for r in rows] == [1, 2]
    assert all(math.isfinite(r["loss"]) and math.isfinite(r["grad_norm"]) for r in rows)


def test_importance_sampling_correction_sees_the_sampler_agree_with_the_trainer(tmp_path):
    """The HF engine samples from the trained model itself: its log-probs match the trainer's, the weights are ~1."""
    trainer = GRPOTrainer(config(tmp_path, importance_sampling_correction=True, cold_start_steps=20))
    metrics = trainer.train_step()
    assert metrics["sampling/importance_sampling_ratio/mean"] == pytest.approx(1.0, abs=1e-4)
    assert metrics["sampling/sampling_logp_difference/max"] < 1e-3
    assert 0.0 <= metrics["sampling/kl"] < 1e-6


def test_importance_sampling_correction_weighs_a_truncating_sampler(tmp_path):
    """Under top_k the sampler renormalises: its probabilities exceed the trainer's, the weights fall below 1."""
    trainer = GRPOTrainer(
        config(tmp_path, importance_sampling_correction=True, cold_start_steps=20, top_k=2, temperature=1.0)
    )
    metrics = trainer.train_step()
    assert metrics["sampling/importance_sampling_ratio/mean"] < 1.0
    assert metrics["sampling/sampling_logp_difference/mean"] > 0.0


def test_dr_grpo_divides_by_the_whole_episodes_budget_in_multi_turn_envs(tmp_path):
    trainer = GRPOTrainer(config(tmp_path, loss_type="dr_grpo", env_options={**EASY, "max_turns": 3}))
    assert trainer.max_episode_tokens == 3 * 4


def test_a_loss_aggregation_config_still_means_its_loss_type(tmp_path):
    assert config(tmp_path, loss_aggregation="token_mean").loss_type == "dapo"
    with pytest.raises(ValueError, match="contradicts"):
        config(tmp_path, loss_aggregation="token_mean", loss_type="grpo")
    with pytest.raises(ValueError, match="epsilon_high"):
        config(tmp_path, loss_type="cispo")
