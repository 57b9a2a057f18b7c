"""The demo: make an environment by id, show a prompt, score sample completions.

It shows, for one task, how the rubric treats a right answer, a wrong one, a
hedged one (two different final answers), one in the wrong format, and junk.
A task family whose answers are not numbers (code, tool calls) gives its own
samples: a task method ``demo_completions(template) -> {name: completion}``.
"""

from __future__ import annotations

from typing import Any, cast

from envs.registration import make
from envs.task import Task
from envs.text_env import TextEnv
from verifiers.numbers import format_number, parse_number


def sample_completions(env: TextEnv, task: Task) -> dict[str, str]:
    """Named completions for ``task``: the oracle answer and ways to miss it."""
    template = env.template
    own = getattr(task, "demo_completions", None)
    if callable(own):
        samples: dict[str, str] = own(template)
        return samples
    answer = task.reference_answer() or "42"
    number = parse_number(answer)
    wrong = format_number(number + 1) if number is not None else answer + "?"
    return {
        "right answer": template.answer_completion(answer),
        "wrong answer": template.answer_completion(wrong),
        "hedged (two answers)": template.answer_completion(wrong) + "\n" + template.answer_completion(answer),
        "right number, no format": f"I think it is {answer}",
        "junk": "\x00\ufffd<answer><think>}}{{\\boxed{",
    }


def run_demo(env_id: str, seed: int, options: dict[str, Any]) -> list[dict[str, Any]]:
    """Print the prompt of task ``seed`` of ``env_id`` and the reward of each sample completion.

    Returns the rows printed (name, reward, status), for tests and scripts.
    """
    env = make(env_id, **options)
    text_env = cast(TextEnv, env.unwrapped)
    prompt, info = env.reset(seed=seed)
    print(f"env: {env_id}   seed: {seed}   reward range: {text_env.reward_range}")
    print(f"rubric: {text_env.rubric}")
    print("\n--- prompt " + "-" * 60 + f"\n{prompt}\n" + "-" * 71)
    print(f"reference answer: {info['task'].reference_answer()}\n")
    rows = []
    for name, completion in sample_completions(text_env, info["task"]).items():
        env.reset(seed=seed)
        _, reward, _, _, step_info = env.step(completion)
        statuses = ", ".join(f"{k}={s.status.value}" for k, s in step_info["score"].items())
        print(f"{name:<26} reward={reward!s:<5} {statuses}")
        rows.append({"name": name, "reward": reward, "status": step_info["status"]})
    env.close()
    return rows
