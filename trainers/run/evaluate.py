"""Evaluation on held-out env seeds: greedy accuracy, mean reward, and pass@k.

Held-out seeds start at ``EVAL_SEED_OFFSET`` (2**40); training draws its seeds
below 2**31, so no seed is shared. (Small task families can still repeat a
problem under two seeds: Arithmetic level 1 has 81 problems.)

Tasks are evaluated in chunks of ``EVAL_CHUNK`` seeds; chunk ``c``'s samples are
drawn with ``chunk_sampling_seed(seed, c)``. The trainers' evaluation and
``rlvr eval`` go through the same chunks, so they give the same numbers for the
same model and seeds, and an interrupted ``rlvr eval`` resumes chunk by chunk.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from rlvr import envs
from rlvr.trainers.rollout.engines import RolloutEngine, SamplingParams
from rlvr.trainers.rollout.env_mixture import EnvRef, short_names
from rlvr.trainers.rollout.episodes import Episode, PromptRenderer, collect_episodes

__all__ = [
    "EVAL_CHUNK",
    "EVAL_SEED_OFFSET",
    "REQUEST_FAILED",
    "chunk_sampling_seed",
    "eval_chunks",
    "evaluate",
    "evaluate_envs",
    "evaluation_episodes",
    "held_out_metrics",
    "mixture_metrics",
    "pass_at_k",
    "status_counts",
]

EVAL_SEED_OFFSET = 2**40
"""Env seed of the first held-out task."""

EVAL_CHUNK = 256
"""Held-out tasks evaluated together (one batch of greedy and one of sampled episodes)."""

REQUEST_FAILED = "request_failed"
"""Status of a sample no model answer was obtained for (a server that failed every retry): left out of every rate."""


def eval_chunks(seeds: Sequence[int]) -> list[list[int]]:
    """``seeds`` in chunks of ``EVAL_CHUNK``, in order."""
    return [list(seeds[start : start + EVAL_CHUNK]) for start in range(0, len(seeds), EVAL_CHUNK)]


def chunk_sampling_seed(seed: int, chunk: int) -> int:
    """The sampling seed of chunk ``chunk``: ``seed`` itself for the first, a mix of both after."""
    if chunk == 0:
        return seed
    return int(np.random.default_rng([seed, chunk, 0x5EED]).integers(0, 2**31))


def pass_at_k(n: int, correct: int, k: int) -> float:
    """The unbiased pass@k estimate of Chen et al. (2021) from ``n`` samples of which ``correct`` are right.

    ``1 - C(n - correct, k) / C(n, k)``: the chance that k samples drawn without replacement from
    the n include a right one, computed as a product (no huge binomials).

    Raises:
        ValueError: ``k`` outside ``1..n`` or ``correct`` outside ``0..n``.
    """
    if not 1 <= k <= n:
        raise ValueError(f"pass@{k} needs 1 <= k <= n samples, got n={n}")
    if not 0 <= correct <= n:
        raise ValueError(f"correct={correct} must be within 0..{n}")
    if n - correct < k:
        return 1.0
    return 1.0 - float(np.prod(1.0 - k / np.arange(n - correct + 1, n + 1)))


def held_out_metrics(
    greedy: Sequence[tuple[str, float | None]],
    sampled: Sequence[Sequence[str]],
    ks: Sequence[int],
) -> dict[str, float]:
    """The held-out numbers from per-task outcomes.

    Args:
        greedy: per task, the greedy episode's ``(status, reward)``.
        sampled: per task, the statuses of its sampled episodes.
        ks: the k of each ``pass@k`` reported.

    Returns:
        ``accuracy`` (share of greedy episodes with status ``ok``), ``reward`` (mean greedy
        reward over those judged, NaN if none), ``pass@k`` for each k (unbiased, averaged over
        the tasks with at least k samples; NaN if none). Samples with status ``REQUEST_FAILED``
        are left out of every rate, never counted as wrong.
    """
    answered = [(status, reward) for status, reward in greedy if status != REQUEST_FAILED]
    rewards = [reward for _, reward in answered if reward is not None]
    metrics = {
        "accuracy": float(np.mean([status == "ok" for status, _ in answered])) if answered else math.nan,
        "reward": float(np.mean(rewards)) if rewards else math.nan,
    }
    for k in ks:
        estimates = []
        for statuses in sampled:
            kept = [status for status in statuses if status != REQUEST_FAILED]
            if len(kept) >= k:
                estimates.append(pass_at_k(len(kept), sum(status == "ok" for status in kept), k))
        metrics[f"pass@{k}"] = float(np.mean(estimates)) if estimates else math.nan
    return metrics


def status_counts(statuses: Sequence[str]) -> dict[str, int]:
    """How many episodes ended with each status, most frequent first."""
    return dict(Counter(statuses).most_common())


def evaluation_episodes(
    env_id: str,
    env_options: dict[str, Any],
    engine: RolloutEngine,
    renderer: PromptRenderer,
    seeds: Sequence[int],
    *,
    max_new_tokens: int,
    samples: int,
    temperature: float,
    seed: int,
    options: dict[str, Any] | None = None,
    max_episode_tokens: int | None = None,
) -> tuple[list[Episode], list[Episode]]:
    """One chunk's episodes: one greedy per seed, and ``samples`` per seed at ``temperature`` drawn with ``seed``.

    ``options`` are the reset options of every task (a curriculum's level, say); None: none.
    ``max_episode_tokens`` bounds each episode's generated tokens over its turns (``collect_episodes``).

    Returns:
        ``(greedy, sampled)``: ``greedy[i]`` is task ``seeds[i]``'s; ``sampled[i * samples + j]`` its j-th sample.
    """
    per_task = [options] * len(seeds)
    greedy_envs = [envs.make(env_id, **env_options) for _ in seeds]
    greedy_params = SamplingParams(max_new_tokens, temperature=0.0)
    greedy = collect_episodes(greedy_envs, seeds, engine, renderer, greedy_params, per_task, max_episode_tokens)
    sample_envs = [envs.make(env_id, **env_options) for _ in range(len(seeds) * samples)]
    sample_params = SamplingParams(max_new_tokens, temperature=temperature, seed=seed)
    sampled = collect_episodes(sample_envs, seeds, engine, renderer, sample_params, per_task, max_episode_tokens)
    for env in (*greedy_envs, *sample_envs):  # their tool sessions, and the sessions of envs played on servers
        env.close()
    return greedy, sampled


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
    options: dict[str, Any] | None = None,
    max_episode_tokens: int | None = None,
) -> dict[str, float]:
    """Held-out metrics for the engine's current policy.

    Args:
        env_id, env_options: the environment, as trained on.
        options: reset options of every task (a curriculum's level); None: the env's own.
        engine, renderer: how completions are sampled and prompts tokenized.
        seeds: held-out env seeds, one task each.
        max_new_tokens: generation budget per turn.
        max_episode_tokens: generation budget per episode, over its turns (None: none).
        k: samples per task for pass@k (at ``temperature``).
        seed: seeds the sampling, so two evaluations of one policy agree.

    Returns:
        ``accuracy`` (greedy completions whose every criterion is ok),
        ``reward`` (mean greedy reward), ``pass@k`` (share of tasks with at
        least one of k sampled completions ok), as ``held_out_metrics`` computes them; with tools,
        ``tool_call_share`` (greedy episodes that called a tool).
    """
    greedy: list[tuple[str, float | None]] = []
    sampled: list[list[str]] = []
    tool_calls: list[int] = []
    for index, chunk in enumerate(eval_chunks(seeds)):
        chunk_greedy, chunk_sampled = evaluation_episodes(
            env_id,
            env_options,
            engine,
            renderer,
            chunk,
            max_new_tokens=max_new_tokens,
            samples=k,
            temperature=temperature,
            seed=chunk_sampling_seed(seed, index),
            options=options,
            max_episode_tokens=max_episode_tokens,
        )
        greedy += [(e.status, e.reward) for e in chunk_greedy]
        sampled += [[e.status for e in chunk_sampled[i * k : (i + 1) * k]] for i in range(len(chunk))]
        tool_calls += [e.tool_calls for e in chunk_greedy if e.tool_calls is not None]
    metrics = held_out_metrics(greedy, sampled, [k])
    if tool_calls:
        metrics["tool_call_share"] = float(np.mean([calls > 0 for calls in tool_calls]))
    return metrics


def evaluate_envs(
    refs: Sequence[EnvRef],
    engine: RolloutEngine,
    renderer: PromptRenderer,
    seeds: Sequence[int],
    *,
    max_new_tokens: int,
    k: int = 4,
    temperature: float = 1.0,
    seed: int = 0,
    max_episode_tokens: int | None = None,
) -> dict[str, float]:
    """``evaluate`` on each env of ``refs``: one env's metrics as they are; a mixture's per env
    (``env/<name>/accuracy``, ``/reward``, ``/pass@k``; ``short_names``) and as totals weighted
    by the envs' weights under the plain names (``mixture_metrics``). Each env gets every seed."""
    names = short_names(refs)
    per_env = {
        name: evaluate(
            ref.id,
            ref.options,
            engine,
            renderer,
            seeds,
            max_new_tokens=max_new_tokens,
            k=k,
            temperature=temperature,
            seed=seed,
            max_episode_tokens=max_episode_tokens,
        )
        for name, ref in zip(names, refs, strict=True)
    }
    if len(per_env) == 1:
        return next(iter(per_env.values()))
    return mixture_metrics(per_env, {name: ref.weight for name, ref in zip(names, refs, strict=True)})


def mixture_metrics(per_env: dict[str, dict[str, float]], weights: dict[str, float]) -> dict[str, float]:
    """A mixture's held-out metrics: each env's under ``env/<label>/<name>``, and their totals weighted by
    ``weights`` under the plain names (an env whose value is NaN, or that has no such metric, such as
    ``tool_call_share`` for an env without tools, is left out of that total)."""
    metrics = {f"env/{label}/{name}": value for label, numbers in per_env.items() for name, value in numbers.items()}
    names = dict.fromkeys(name for numbers in per_env.values() for name in numbers)
    for name in names:
        pairs = [
            (numbers[name], weights[label])
            for label, numbers in per_env.items()
            if name in numbers and not math.isnan(numbers[name])
        ]
        total = sum(weight for _, weight in pairs)
        metrics[name] = sum(value * weight for value, weight in pairs) / total if pairs else math.nan
    return metrics
