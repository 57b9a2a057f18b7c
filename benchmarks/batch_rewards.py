"""Rewards per second, one completion at a time against a whole batch (``Rubric.score_batch``), per family.

For each built-in family, 512 completions over the env's tasks: right
completions, other tasks' answers, the audit's gaming strategies (hedges,
answers in the reasoning, look-alikes, junk). Both sides score the same
completions with the same rubric in the same run, after an untimed warm-up
(the math checker's worker processes, the sandbox's containers), and must
give identical rewards. Figures: the median of ``--repeats`` runs of each.

Run (the code families need the Docker engine and image: ``bash .ci/docker``):
    .venv/bin/python benchmarks/batch_rewards.py
    .venv/bin/python benchmarks/batch_rewards.py --envs rlvr/Math-v0 --size 256
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from rlvr import envs
from rlvr.envs.audit.strategies import STRATEGIES, Context, reference_completion

FAMILIES = (
    "rlvr/Arithmetic-v0",
    "rlvr/Math-v0",
    "rlvr/FunctionCalling-v0",
    "rlvr/InstructionFollowing-v0",
    "rlvr/Code-v0",
    "rlvr/HumanEval-v0",
)


def completions_for(env_id: str, size: int) -> tuple[Any, list[str], list[Any]]:
    """The env's rubric and ``size`` (completion, task) pairs: right answers, wrong ones and gaming strategies."""
    env = envs.entry(env_id).build()
    contexts = []
    seed = 0
    while len(contexts) < 32:
        prompt, info = env.reset(seed=seed)
        seed += 1
        reference = reference_completion(info["task"], env.template)
        if reference is not None:
            answer = info["task"].reference_answer()
            contexts.append(Context(info["task"], env.template, prompt, reference, answer, []))
    answers = [context.answer or context.reference for context in contexts]
    contexts = [
        Context(c.task, c.template, c.prompt, c.reference, c.answer, [a for a in answers if a != answers[i]])
        for i, c in enumerate(contexts)
    ]
    makers = [lambda c: c.reference, lambda c: c.others[0]] + [s.make for s in STRATEGIES if s.name != "huge"]
    completions, tasks = [], []
    for index in range(size):
        context = contexts[index % len(contexts)]
        completions.append(makers[(index // len(contexts)) % len(makers)](context))
        tasks.append(context.task)
    rubric = env.rubric
    env.close()
    return rubric, completions, tasks


def timed(score: Any, repeats: int) -> tuple[float, list[float | None]]:
    """Median seconds of ``repeats`` calls of ``score()`` and the rewards of the last."""
    seconds = []
    rewards: list[float | None] = []
    for _ in range(repeats):
        start = time.perf_counter()
        rewards = [result.reward for result in score()]
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), rewards


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", nargs="+", default=list(FAMILIES), help="env ids to measure")
    parser.add_argument("--size", type=int, default=512, help="completions per family")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each side; the median is reported")
    args = parser.parse_args()

    rows = []
    for env_id in args.envs:
        rubric, completions, tasks = completions_for(env_id, args.size)
        rubric.score_batch(completions[:32], tasks[:32])  # warm up: worker processes, containers
        for completion, task in zip(completions[:8], tasks[:8], strict=True):
            rubric.score(completion, task)
        one_seconds, one_rewards = timed(
            lambda r=rubric, c=completions, t=tasks: [r.score(a, b) for a, b in zip(c, t, strict=True)],
            args.repeats,
        )
        batch_seconds, batch_rewards = timed(lambda r=rubric, c=completions, t=tasks: r.score_batch(c, t), args.repeats)
        same = one_rewards == batch_rewards
        rows.append((env_id, len(completions) / one_seconds, len(completions) / batch_seconds, same))
        print(f"{env_id}: done", flush=True)

    print(f"\n{args.size} mixed completions per family, median of {args.repeats} runs")
    print(f"{'env':<30} {'one by one /s':>14} {'batched /s':>11} {'ratio':>6}  same rewards")
    for env_id, one, batch, same in rows:
        print(f"{env_id:<30} {one:>14.0f} {batch:>11.0f} {batch / one:>5.2f}x  {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
