"""``rlvr demo``: make an environment by id, show a prompt, score sample completions.

It shows, for one task, how the rubric treats a right answer, a wrong one, a
hedged one (two different final answers), one in the wrong format, and junk.
A task family whose answers are not numbers (code, tool calls) gives its own
samples: a task method ``demo_completions(template) -> {name: completion}``.
"""

from __future__ import annotations

import argparse
from typing import Any, cast

from rlvr.envs.cli.arguments import add_env_options_argument, add_import_argument, env_options
from rlvr.envs.core.plugins import import_modules
from rlvr.envs.core.registration import make
from rlvr.envs.core.task import Task
from rlvr.envs.core.text_env import TextEnv
from rlvr.envs.core.tools import call_text
from rlvr.verifiers.numbers import format_number, parse_number


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
    calls = "".join(call_text(call["name"], call["arguments"]) for call in info["task"].reference_calls())
    if calls:  # a task judged after its tool calls: each sample is the last turn of an episode that made them
        print(f"each sample follows the right tool calls: {calls}\n")
    rows = []
    for name, completion in sample_completions(text_env, info["task"]).items():
        env.reset(seed=seed)
        if calls:
            env.step(calls)
        _, reward, _, _, step_info = env.step(completion)
        statuses = ", ".join(f"{k}={s.status.value}" for k, s in step_info["score"].items())
        print(f"{name:<26} reward={reward!s:<5} {statuses}")
        rows.append({"name": name, "reward": reward, "status": step_info["status"]})
    env.close()
    return rows


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``rlvr demo``: ``--env``, ``--seed``, ``--template``, ``--env-options``, ``--import``."""
    parser.add_argument("--env", default="rlvr/Arithmetic-v0", help="env id (see `rlvr envs`)")
    parser.add_argument("--seed", type=int, default=0, help="reset seed: picks the task")
    parser.add_argument("--template", default=None, help="prompt template name, e.g. fireworks or r1")
    add_env_options_argument(parser)
    add_import_argument(parser)


def run_demo_command(args: argparse.Namespace) -> int:
    """``rlvr demo``: import ``--import`` modules, then ``run_demo`` with the flags. Returns 0."""
    import_modules(args.imports)
    options = env_options(args.env_options)
    if args.template:
        options["template"] = args.template
    run_demo(args.env, args.seed, options)
    return 0
