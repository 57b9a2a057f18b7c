"""Any registered env as a data set and a reward function, for trainers outside this package.

Trainers such as TRL's ``GRPOTrainer`` take a ``datasets.Dataset`` of prompts
and reward functions ``f(prompts, completions, **columns) -> list[float]``::

    from rlvr.envs.data.export import reward_function, to_dataset

    dataset = to_dataset("rlvr/Arithmetic-v0", 1000, chat=True)
    reward = reward_function("rlvr/Arithmetic-v0")
    trainer = GRPOTrainer(model=..., reward_funcs=reward, train_dataset=dataset)

Row ``i`` of ``to_dataset(env_id, n, seed=s)`` is the task the env poses after
``reset(seed=s + i)``, so a data set is reproducible from its seed. Each row
carries its task as JSON (``task``); the reward function rebuilds the task from
that column and scores the completion with the env's rubric for the same
template, so prompt and reward always agree on the answer format.

Only the first turn is exported: the rubric scores one completion, and the
feedback of multi-turn envs has no place in a prompt/completion data set.

A completion the verifiers cannot judge (rubric reward None, e.g. a sandbox
error) gets ``none_reward``, NaN by default: TRL's GRPOTrainer (1.x) leaves NaN
rewards out of the group mean and standard deviation, as it does ``None``, so
the sample is skipped rather than trained on as a failure. Give
``none_reward=0.0`` for a trainer that cannot handle NaN.
"""

from __future__ import annotations

import functools
import math
import re
import statistics
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rlvr.envs.core.errors import ConfigError
from rlvr.envs.core.registration import entry
from rlvr.envs.core.task import Task
from rlvr.envs.core.templates import PromptTemplate
from rlvr.envs.core.text_env import TextEnv

if TYPE_CHECKING:
    import datasets

__all__ = ["completion_text", "reward_function", "to_dataset"]

RewardFunction = Callable[..., list[float]]


def to_dataset(
    env_id: str,
    n: int,
    *,
    seed: int = 0,
    template: str | PromptTemplate | None = None,
    options: Mapping[str, Any] | None = None,
    chat: bool = False,
) -> datasets.Dataset:
    """``n`` tasks of ``env_id`` as a Hugging Face data set, one row per task.

    Args:
        env_id: a registered id (``"rlvr/Arithmetic-v0"``).
        n: number of rows (non-negative).
        seed: row ``i`` is the task after ``reset(seed=seed + i)``.
        template: prompt template name or object; None for the env's default.
        options: any option ``envs.make`` takes: task options such as
            ``digits=[3, 3]`` or ``dataset=...``, ``max_turns``, and
            ``template`` (the same as the ``template`` argument; giving both
            is an error).
        chat: write ``prompt`` as chat messages (``[{"role": ..., "content": ...}]``,
            TRL's conversational form) instead of one string.

    Returns:
        A ``datasets.Dataset`` with columns ``prompt`` (str, or a list of
        messages when ``chat``), ``seed`` (the reset seed), ``task_index``
        (the task's index in the env's source), ``answer`` (the reference
        answer as text; only when the tasks have one) and ``task`` (the task
        as JSON, read back by ``reward_function``).

    Raises:
        envs.UnknownEnvError: ``env_id`` is not registered (lists the valid ids).
        envs.ConfigError: a bad template or option.
        ImportError: the ``datasets`` library is not installed.
        ValueError: ``n`` is negative.
    """
    if n < 0:
        raise ValueError(f"n must be non-negative, got {n}")
    env = _build(env_id, template, options)
    try:
        datasets = _import_datasets()
        rows: dict[str, list[Any]] = {"prompt": [], "seed": [], "task_index": [], "answer": [], "task": []}
        for i in range(n):
            prompt, info = env.reset(seed=seed + i)
            task: Task = info["task"]
            rows["prompt"].append(info["messages"] if chat else prompt)
            rows["seed"].append(seed + i)
            rows["task_index"].append(info["index"])
            rows["answer"].append(task.reference_answer())
            rows["task"].append(task.model_dump_json())
    finally:
        env.close()
    if n == 0 or all(answer is None for answer in rows["answer"]):
        del rows["answer"]
    return datasets.Dataset.from_dict(rows)


def reward_function(
    env_id: str,
    *,
    template: str | PromptTemplate | None = None,
    options: Mapping[str, Any] | None = None,
    none_reward: float = math.nan,
) -> RewardFunction:
    """The env's rubric as a reward function in TRL's form.

    Args:
        env_id: a registered id.
        template: the prompt template the data set was made with (it decides
            the answer format the rubric reads); None for the env's default.
        options: the options of ``envs.make``, as given to ``to_dataset``
            (they pick the task source, hence the task class; ``template``
            may be one of them).
        none_reward: the reward of a completion no verifier could judge.

    Returns:
        ``f(prompts, completions, *, task, **columns) -> list[float]``, one
        reward per completion. ``task`` is the data set's column of task JSON;
        other columns (and TRL's extra arguments) are ignored. A completion is
        a string, or a list of chat messages, of which the last assistant
        message is scored. ``f.__name__`` is ``rlvr_<name>`` (``rlvr_arithmetic``),
        the name TRL logs the reward under. Given TRL's ``log_metric`` keyword,
        it also logs ``rewards/<criterion>/mean`` and ``/std`` for each rubric
        criterion over the judged completions of the call.

    Raises:
        envs.UnknownEnvError: ``env_id`` is not registered (lists the valid ids).
        envs.ConfigError: a bad template or option.
    """
    env = _build(env_id, template, options)
    try:
        rubric = env.rubric
        task_class = type(env.source.get(0))
    finally:
        env.close()

    @functools.lru_cache(maxsize=4096)  # a GRPO batch holds each task once per generation
    def load(task_json: str) -> Task:
        return task_class.model_validate_json(task_json)

    def reward(
        prompts: Sequence[Any] | None = None,
        completions: Sequence[Any] | None = None,
        task: Sequence[str] | None = None,
        **columns: Any,
    ) -> list[float]:
        if completions is None:
            raise TypeError(f"{env_id}: the reward function needs completions")
        if task is None:
            raise TypeError(f"{env_id}: the reward function needs the data set's 'task' column (from to_dataset)")
        if len(task) != len(completions):
            raise ValueError(f"{env_id}: {len(completions)} completions but {len(task)} tasks")
        texts = [completion_text(completion) for completion in completions]
        results = rubric.score_batch(texts, [load(task_json) for task_json in task])  # judged concurrently
        log_metric = columns.get("log_metric")
        if callable(log_metric):  # TRL's hook: each rubric criterion's mean and std, as rlvr's trainers log them
            for name, value in _criterion_stats(results).items():
                log_metric(name, value)
        return [none_reward if result.reward is None else result.reward for result in results]

    reward.__name__ = reward.__qualname__ = _function_name(env_id)
    reward.__doc__ = f"Reward of {env_id} ({rubric!r}) for TRL-style trainers."
    return reward


def completion_text(completion: Any) -> str:
    """The text to score: the completion itself, or its last assistant message's content.

    Args:
        completion: a string, or chat messages (dicts with ``role`` and
            ``content``; content a string or a list of ``{"type": "text",
            "text": ...}`` parts).

    Returns:
        The text; ``""`` when the messages hold no assistant message.
    """
    if isinstance(completion, str):
        return completion
    for message in reversed(list(completion)):
        if message.get("role") == "assistant":
            content = message.get("content")
            if content is None:
                return ""
            if isinstance(content, str):
                return content
            return "".join(part.get("text", "") for part in content if isinstance(part, Mapping))
    return ""


def _function_name(env_id: str) -> str:
    """``rlvr/Arithmetic-v0`` -> ``rlvr_arithmetic``."""
    name = env_id.rsplit("/", 1)[-1]
    name = re.sub(r"-v\d+$", "", name)
    return "rlvr_" + re.sub(r"\W+", "_", name).strip("_").lower()


def _import_datasets() -> Any:
    try:
        import datasets
    except ImportError:
        raise ImportError("exporting an env as a data set needs the datasets library: pip install datasets") from None
    return datasets


def _build(env_id: str, template: str | PromptTemplate | None, options: Mapping[str, Any] | None) -> TextEnv:
    """The env as ``envs.make(env_id, **options)`` builds it, ``template`` given either way."""
    options = dict(options or {})
    if template is not None:
        if "template" in options and options["template"] != template:
            raise ConfigError(
                f"{env_id}: two templates given, template={template!r} and options['template']="
                f"{options['template']!r}; give one"
            )
        options["template"] = template
    return entry(env_id).build(**options)


def _criterion_stats(results: Sequence[Any]) -> dict[str, float]:
    """``rewards/<criterion>/mean`` and ``/std`` (unbiased; NaN below two values) over judged criterion scores."""
    values: dict[str, list[float]] = {}
    for result in results:
        for name, score in result.scores.items():
            if score.value is not None:
                values.setdefault(name, []).append(float(score.value))
    stats: dict[str, float] = {}
    for name, found in sorted(values.items()):
        stats[f"rewards/{name}/mean"] = statistics.fmean(found)
        stats[f"rewards/{name}/std"] = statistics.stdev(found) if len(found) > 1 else math.nan
    return stats
