"""Evaluation on held-out env seeds: greedy accuracy, mean reward, and pass@k.

Held-out seeds start at ``EVAL_SEED_OFFSET`` (2**40); training draws its seeds
below 2**31, so no seed is shared. (Small task families can still repeat a
problem under two seeds: Arithmetic level 1 has 81 problems.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rlvr import envs
from rlvr.trainers.rollout.engines import RolloutEngine, SamplingParams
from rlvr.trainers.rollout.episodes import PromptRenderer, collect_episodes

__all__ = ["EVAL_SEED_OFFSET", "evaluate"]

EVAL_SEED_OFFSET = 2**40


def evaluate(
    env_id: str,
    env_options: dict[str, Any],
    engine: RolloutEngine,
    renderer: PromptRenderer,
    seeds: Sequence[int],
    *,
    max_new_tokens: int,
    k: int = 4,
    temperature: float = 1.0,
    seed: int = 0,
) -> dict[str, float]:
    """Held-out metrics for the engine's current policy.

    Args:
        env_id, env_options: the environment, as trained on.
        engine, renderer: how completions are sampled and prompts tokenized.
        seeds: held-out env seeds, one task each.
        max_new_tokens: generation budget per turn.
        k: samples per task for pass@k (at ``temperature``).
        seed: seeds the sampling, so two evaluations of one policy agree.

    Returns:
        ``accuracy`` (greedy completions whose every criterion is ok),
        ``reward`` (mean greedy reward), ``pass@k`` (share of tasks with at
        least one of k sampled completions ok).
    """
    greedy_envs = [envs.make(env_id, **env_options) for _ in seeds]
    greedy = collect_episodes(greedy_envs, seeds, engine, renderer, SamplingParams(max_new_tokens, temperature=0.0))
    sample_envs = [envs.make(env_id, **env_options) for _ in range(len(seeds) * k)]
    sampled = collect_episodes(
        sample_envs, seeds, engine, renderer, SamplingParams(max_new_tokens, temperature=temperature, seed=seed)
    )
    solved = np.array([e.status == "ok" for e in sampled]).reshape(len(seeds), k).any(axis=1)
    rewards = [e.reward for e in greedy if e.reward is not None]
    return {
        "accuracy": float(np.mean([e.status == "ok" for e in greedy])),
        "reward": float(np.mean(rewards)) if rewards else float("nan"),
        f"pass@{k}": float(solved.mean()),
    }
