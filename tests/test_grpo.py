"""The GRPO trainer end to end, on the tiny model and rlvr/Arithmetic-v0 (level 1, equation template)."""

import json
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
        config(tmp_path, steps=300, cold_start_steps=50, prompts_per_step=8, group_size=8, eval_prompts=64)
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
        "clip_ratio",
        "completions/mean_length",
        "completions/clipped_ratio",
        "loss",
        "grad_norm",
        "learning_rate",
        "rewards/accuracy/mean",
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
    assert metrics["clip_ratio"] > 0.0


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
