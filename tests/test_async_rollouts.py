"""Asynchronous rollouts: the next batch is sampled in the background by the policy from before the update."""

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from rlvr.trainers.algorithms.config import GRPOConfig, PPOConfig, TrainerConfigError
from rlvr.trainers.algorithms.grpo import GRPOTrainer, train_grpo
from rlvr.trainers.algorithms.ppo import train_ppo
from rlvr.trainers.models.logprobs import pad_batch
from rlvr.trainers.run.metrics import read_metrics

EASY = {"level": 1, "template": "equation"}


def config(tmp_path: Path, **overrides) -> GRPOConfig:
    values = dict(
        env_options=EASY,
        model="tiny",
        output_dir=tmp_path / "run",
        steps=4,
        prompts_per_step=4,
        group_size=4,
        max_new_tokens=4,
        cold_start_steps=20,
        learning_rate=1e-3,
        beta=0.04,
        eval_prompts=8,
        pass_k=1,
        eval_every=0,
        save_every=0,
        progress=False,
        tensorboard=False,
        async_rollouts=True,
    )
    values.update(overrides)
    return GRPOConfig(**values)


def train_rows(run_dir: Path) -> list[dict]:
    return [r for r in read_metrics(run_dir / "metrics.jsonl") if r["split"] == "train"]


def state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}


def test_the_next_batch_is_sampled_by_the_policy_from_before_the_update(tmp_path):
    trainer = GRPOTrainer(config(tmp_path))
    try:
        before = state(trainer.policy)
        trainer.train_step()  # trains on batch 0 while batch 1 is sampled
        assert trainer.rollouts is not None
        behaviour, after = state(trainer.rollouts.behaviour), state(trainer.policy)
        assert all(torch.equal(before[name], behaviour[name]) for name in before)
        assert any(not torch.equal(before[name], after[name]) for name in before)
    finally:
        trainer.close()


def test_each_batch_comes_with_the_log_probs_of_the_policy_that_sampled_it(tmp_path):
    trainer = GRPOTrainer(config(tmp_path))
    try:
        trainer.train_step()
        trainer.step += 1
        old_weights = state(trainer.rollouts.behaviour)  # the weights sampling batch 1 right now
        rollout = trainer.next_rollout()
        episodes = rollout.episodes
        batch = pad_batch([e.token_ids for e in episodes], [e.loss_mask for e in episodes], 0)
        reference = GRPOTrainer(config(tmp_path / "other", async_rollouts=False)).policy
        reference.load_state_dict(old_weights)
        expected = trainer.logprobs_no_grad(reference, batch)
        torch.testing.assert_close(rollout.behaviour_logp, expected)
    finally:
        trainer.close()


def test_async_grpo_learns_the_main_job(tmp_path):
    result = train_grpo(
        config(
            tmp_path,
            steps=200,
            cold_start_steps=50,
            prompts_per_step=8,
            group_size=8,
            learning_rate=5e-4,
            eval_prompts=100,
        )
    )
    rewards = [r["reward"] for r in train_rows(result.output_dir)]
    assert sum(rewards[-40:]) / 40 > sum(rewards[:40]) / 40 + 0.05
    assert result.eval_after["accuracy"] > result.eval_before["accuracy"]


def test_an_async_run_stopped_and_resumed_matches_one_never_stopped(tmp_path):
    straight = train_grpo(config(tmp_path / "a", steps=5))
    first_part = config(tmp_path / "b", steps=3)
    train_grpo(first_part)
    resumed = train_grpo(first_part.model_copy(update={"steps": 5}))
    assert [r["reward"] for r in train_rows(resumed.output_dir)] == [
        r["reward"] for r in train_rows(straight.output_dir)
    ]
    final = load_file(straight.output_dir / "final" / "model.safetensors")
    again = load_file(resumed.output_dir / "final" / "model.safetensors")
    assert all(torch.equal(tensor, again[name]) for name, tensor in final.items())


def test_resuming_with_async_rollouts_switched_is_refused(tmp_path):
    train_grpo(config(tmp_path, steps=1))
    with pytest.raises(TrainerConfigError, match="async_rollouts"):
        train_grpo(config(tmp_path, steps=2, async_rollouts=False))


def test_async_ppo_runs(tmp_path):
    ppo = PPOConfig(
        **{
            **config(tmp_path).model_dump(exclude=set(GRPOConfig.model_fields) - set(PPOConfig.model_fields)),
            "prompts_per_step": 16,
            "steps": 3,
        }
    )
    result = train_ppo(ppo)
    assert [r["step"] for r in train_rows(result.output_dir)] == [1, 2, 3]


def test_async_rollouts_with_vllm_are_refused_by_name(tmp_path):
    with pytest.raises(TrainerConfigError, match="async_rollouts"):
        GRPOTrainer(config(tmp_path, engine="vllm"))
