"""The audit of one env: right answers, gaming strategies and the property kit, as a table and a verdict.

``audit(env_id)`` makes ``tasks`` tasks of the env (seeds ``seed, seed + 1,
...``) and scores, with the env's own rubric and template:

1. a right completion of each task (``reference_completion``), which must
   get the rubric's maximum reward (each miss is a false negative);
2. every strategy of ``STRATEGIES``, which must not (each hit is a hole a
   policy can learn to use), unless the env declared the strategy exempt;
3. the property kit (``check_rubric``): rewards in range and deterministic
   on arbitrary text, right completions at the maximum, megabyte inputs in
   bounded time.

The audit passes when no strategy reaches the maximum on any task, no right
completion misses it, and the properties hold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from rlvr.envs.audit.strategies import STRATEGIES, Context, reference_completion
from rlvr.envs.core.registration import entry
from rlvr.envs.core.text_env import TextEnv
from rlvr.verifiers.properties import check_rubric

__all__ = ["AuditReport", "StrategyRow", "audit"]

_EXAMPLE_CHARS = 60


@dataclass(frozen=True)
class StrategyRow:
    """How one strategy fared.

    Attributes:
        name: the strategy.
        what: what it tries.
        reached: tasks on which it got the maximum reward.
        judged: tasks on which it was judged (reward not None).
        max_reward: its highest reward (None when never judged).
        mean_reward: its mean reward over the judged tasks (None when never judged).
        example: the start of its completion on the task where it scored highest.
        exempt: why it does not apply (the env declared so, or it says nothing about the template), or None.
    """

    name: str
    what: str
    reached: int
    judged: int
    max_reward: float | None
    mean_reward: float | None
    example: str
    exempt: str | None = None


@dataclass
class AuditReport:
    """The outcome of ``audit``.

    Attributes:
        env_id: the env audited.
        template: the template's name.
        tasks: tasks made.
        high: the rubric's maximum reward.
        references: tasks with a right completion (the others cannot be audited).
        blank_solved: of those, tasks an empty completion already solves; strategies are judged on the rest.
        false_negatives: ``(task seed, reward, status)`` of right completions below the maximum.
        rows: one per strategy.
        properties_checked: whether the property kit ran.
        property_failure: the property kit's first failure, or None.
        unknown_exemptions: exempted names that are no strategy.
    """

    env_id: str
    template: str
    tasks: int
    high: float
    references: int
    blank_solved: int = 0
    false_negatives: list[tuple[int, float | None, str]] = field(default_factory=list)
    rows: list[StrategyRow] = field(default_factory=list)
    properties_checked: bool = False
    property_failure: str | None = None
    unknown_exemptions: list[str] = field(default_factory=list)

    @property
    def holes(self) -> list[StrategyRow]:
        """The strategies that reached the maximum reward (exempt ones aside)."""
        return [row for row in self.rows if row.reached and row.exempt is None]

    @property
    def judged(self) -> int:
        """Tasks the strategies were judged on."""
        return self.references - self.blank_solved

    @property
    def passed(self) -> bool:
        return bool(self.judged) and not self.holes and not self.false_negatives and self.property_failure is None

    def table(self) -> str:
        """The report as text: a header, one line per strategy, then the properties and the verdict."""
        lines = [
            f"{self.env_id} (template {self.template}): {self.tasks} tasks, maximum reward {self.high:g}",
            f"right completions at the maximum: {self.references - len(self.false_negatives)}/{self.references}"
            + (f" (no right completion for {self.tasks - self.references})" if self.references < self.tasks else ""),
        ]
        for seed, reward, status in self.false_negatives[:5]:
            lines.append(f"  false negative: task seed {seed}, reward {reward}, status {status}")
        if self.blank_solved:
            lines.append(
                f"tasks an empty completion solves: {self.blank_solved} (strategies judged on the other {self.judged})"
            )
        lines.append(f"{'strategy':<24} {'reaches max':>11} {'max':>6} {'mean':>6}  example / note")
        for row in self.rows:
            reached = "n/a" if row.exempt is not None else f"{row.reached}/{row.judged}"
            note = f"not applicable: {row.exempt}" if row.exempt is not None else repr(row.example)
            lines.append(
                f"{row.name:<24} {reached:>11} {_number(row.max_reward):>6} {_number(row.mean_reward):>6}  {note}"
            )
        if self.unknown_exemptions:
            lines.append(f"exemptions that name no strategy: {', '.join(self.unknown_exemptions)}")
        properties = "not checked" if not self.properties_checked else (self.property_failure or "ok")
        lines.append(f"properties: {properties}")
        holes = ", ".join(row.name for row in self.holes)
        verdict = "passed" if self.passed else "FAILED" + (f": {holes} reach the maximum" if holes else "")
        lines.append(f"verdict: {verdict}")
        return "\n".join(lines)


def audit(
    env_id: str,
    options: dict[str, Any] | None = None,
    tasks: int = 20,
    seed: int = 0,
    properties: bool = True,
    property_examples: int = 20,
) -> AuditReport:
    """Audit ``env_id`` made with ``options`` on ``tasks`` tasks; see the module docstring.

    Raises:
        UnknownEnvError, ConfigError: a bad env id or option.
        ValueError: ``tasks`` below 1.
    """
    if tasks < 1:
        raise ValueError(f"tasks must be at least 1, got {tasks}")
    registered = entry(env_id)
    env = registered.build(**dict(options or {}))
    judge: _Judge | None = None
    try:
        contexts, seeds = _contexts(env, tasks, seed)
        report = AuditReport(env_id, env.template.name, tasks, env.reward_range[1], len(contexts))
        report.unknown_exemptions = sorted(set(registered.audit_exempt) - {s.name for s in STRATEGIES})
        judge = _Judge(env, registered, dict(options or {}), contexts, seeds)
        task_list = list(range(len(contexts)))  # the judge knows each task by its position
        references = judge.score_batch([context.reference for context in contexts], task_list)
        for context_seed, result in zip(seeds, references, strict=True):
            if not _at_maximum(result.reward, report.high):
                report.false_negatives.append((context_seed, result.reward, result.status.value))
        # A task that an empty completion already solves (a request no function answers: "no call" is right)
        # cannot tell gaming from answering; strategies are judged on the others.
        blank = judge.score_batch([""] * len(contexts), task_list)
        judged = [i for i, result in enumerate(blank) if not _at_maximum(result.reward, report.high)]
        report.blank_solved = len(contexts) - len(judged)
        for strategy in STRATEGIES:
            exempt = registered.audit_exempt.get(strategy.name) or strategy.not_for(env.template)
            tried = judged if exempt is None else []
            if tried and strategy.control is not None:  # judged only where the trick could make the difference
                controls = judge.score_batch([strategy.control(contexts[i]) for i in tried], tried)
                tried = [
                    i for i, result in zip(tried, controls, strict=True) if not _at_maximum(result.reward, report.high)
                ]
            completions = [strategy.make(contexts[i]) for i in tried]
            results = judge.score_batch(completions, tried) if completions else []
            rewards = [result.reward for result in results]
            report.rows.append(_row(strategy.name, strategy.what, completions, rewards, report.high, exempt))
        if properties and not env.remote:  # the property kit reads the rubric, which a served env keeps there
            report.properties_checked = True
            report.property_failure = _properties(env, seed, property_examples)
    finally:
        env.close()
        if judge is not None:
            judge.close()
    return report


@dataclass(frozen=True)
class _StatusText:
    value: str


@dataclass(frozen=True)
class _Verdict:
    """A served env's verdict on one completion, read as a ``RubricResult`` is (``reward``, ``status.value``)."""

    reward: float | None
    status: _StatusText


class _Judge:
    """Scores completions of the audited tasks (known by position): with the env's rubric, a task that brings
    tools judged after its right calls; for an env played on a server, each completion as the answer of an
    episode there, after the right calls."""

    def __init__(
        self, env: TextEnv, registered: Any, options: dict[str, Any], contexts: list[Context], seeds: list[int]
    ):
        self.env, self.registered, self.options, self.seeds = env, registered, options, seeds
        self.tasks = [context.task.judged_after(context.task.reference_calls()) for context in contexts]
        self.pool: list[TextEnv] = []

    def score_batch(self, completions: list[str], positions: list[int]) -> list[Any]:
        if not self.env.remote:
            return self.env.rubric.score_batch(completions, [self.tasks[i] for i in positions])
        from rlvr.envs.core.text_env import step_batch
        from rlvr.envs.core.tools import call_text

        while len(self.pool) < len(completions):
            self.pool.append(self.registered.build(**self.options))
        envs = self.pool[: len(completions)]
        for env, position in zip(envs, positions, strict=True):
            env.reset(seed=self.seeds[position])
        calls = [
            "".join(call_text(c["name"], c["arguments"]) for c in self.tasks[i].reference_calls()) for i in positions
        ]
        calling = [j for j, call in enumerate(calls) if call]
        if calling:
            step_batch([envs[j] for j in calling], [calls[j] for j in calling])
        results = step_batch(envs, completions)
        return [_Verdict(reward, _StatusText(info["status"])) for _, reward, _, _, info in results]

    def close(self) -> None:
        for env in self.pool:
            env.close()


def _contexts(env: TextEnv, tasks: int, seed: int) -> tuple[list[Context], list[int]]:
    """A context per task that has a right completion, and the tasks' seeds."""
    made = []
    for task_seed in range(seed, seed + tasks):
        prompt, info = env.reset(seed=task_seed)
        task = info["task"]
        reference = reference_completion(task, env.template)
        if reference is not None:
            made.append((task_seed, prompt, task, reference, task.reference_answer()))
    answers = [answer if answer is not None else reference for _, _, _, reference, answer in made]
    contexts = [
        Context(task, env.template, prompt, reference, answer, [other for other in answers if other != answers[i]])
        for i, (_, prompt, task, reference, answer) in enumerate(made)
    ]
    return contexts, [task_seed for task_seed, *_ in made]


def _row(
    name: str, what: str, completions: list[str], rewards: list[float | None], high: float, exempt: str | None
) -> StrategyRow:
    judged = [
        (reward, completion) for reward, completion in zip(rewards, completions, strict=True) if reward is not None
    ]
    if not judged:
        return StrategyRow(name, what, 0, 0, None, None, completions[0][:_EXAMPLE_CHARS] if completions else "", exempt)
    best, example = max(judged, key=lambda pair: pair[0])
    reached = sum(1 for reward, _ in judged if _at_maximum(reward, high))
    mean = sum(reward for reward, _ in judged) / len(judged)
    return StrategyRow(name, what, reached, len(judged), best, mean, example[:_EXAMPLE_CHARS], exempt)


def _properties(env: TextEnv, seed: int, examples: int) -> str | None:
    """The property kit on the env's rubric; its first failure as text, or None."""
    source, template = env.source, env.template
    size = source.size

    def task_of(index: int) -> Any:
        task = source.get(index % size if size else index)
        return task.judged_after(task.reference_calls())  # judged as the last turn of a right episode

    def reference(task: Any) -> str:
        completion = reference_completion(task, template)
        return completion if completion is not None else ""

    tasks = st.integers(seed, seed + 10**6).map(task_of).filter(lambda task: reference_completion(task, template))
    try:
        check_rubric(env.rubric, tasks, reference, max_examples=examples)
    except Exception as error:  # AssertionError from a check, or hypothesis giving up: both a failure
        return f"{type(error).__name__}: {str(error).strip().splitlines()[0][:200] if str(error).strip() else ''}"
    return None


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _at_maximum(reward: float | None, high: float) -> bool:
    return reward is not None and (reward >= high or math.isclose(reward, high))
