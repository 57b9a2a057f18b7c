"""What crosses the network between a served env and its clients, in OpenEnv's types.

An rlvr env served with ``rlvr serve`` is an OpenEnv environment: its action
is ``CompletionAction`` (the model's completion text) and its observation
``TextObservation`` (OpenEnv's ``Observation``: ``done`` and ``reward``, plus
the text the model reads next and what the env said about the step). A
reward the verifiers could not judge crosses as ``null``, never as 0.

``reset_info`` and ``step_info`` turn a ``TextEnv``'s info into plain JSON
(scores with their status and details, the task record with its class, the
messages); ``task_from_wire`` builds the task again on the client, as its own
class where the client can import it.
"""

from __future__ import annotations

import importlib
import json
import math
from collections.abc import Mapping
from typing import Any

from openenv.core import Action, Observation
from pydantic import BaseModel, ConfigDict, Field

from rlvr.envs.core.task import Task

__all__ = ["CompletionAction", "TextObservation", "WireTask", "reset_info", "step_info", "task_from_wire"]


class CompletionAction(Action):
    """One completion of the model: the text the env judges, or whose tool calls it runs."""

    completion: str = Field(description="The model's completion, as text.")


class TextObservation(Observation):
    """What the env gives back: after ``reset`` the prompt, after ``step`` the next observation and the verdict.

    OpenEnv's ``done`` and ``reward`` (None: not judged) travel beside these fields.
    """

    text: str = Field("", description="The prompt after reset; the next observation after a step ('' at the end).")
    status: str = Field("", description="After a step: the first non-ok status ('ok', 'wrong', 'tool_call', ...).")
    scores: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="After a step: per rubric criterion, {'value', 'status', 'details'}."
    )
    truncated: bool = Field(False, description="The episode ended at its turn limit, not by the env's choice.")
    info: dict[str, Any] = Field(
        default_factory=dict,
        description="The env's info as JSON: after reset the task record, its index, the messages, the tools and "
        "the env's settings; after a step the messages and the turn's details.",
    )


class WireTask(Task):
    """A task whose class the client cannot import: its fields as sent, each readable as an attribute."""

    model_config = ConfigDict(frozen=True, extra="allow")


def _plain(value: Any) -> Any:
    """``value`` as JSON data: mappings as objects, sequences as lists, numbers, text and None as they are,
    anything else as its text."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, BaseModel):
        return _plain(value.model_dump(mode="json"))
    return str(value)


def reset_info(info: dict[str, Any], env: Any) -> dict[str, Any]:
    """A ``TextEnv.reset`` info as JSON, with the env's settings (``reward_range``, ``config``, ``template``)."""
    task = info["task"]
    return {
        "task": task.model_dump(mode="json"),
        "task_class": f"{type(task).__module__}:{type(task).__qualname__}",
        "index": info["index"],
        "messages": _plain(info["messages"]),
        "tools": _plain(info.get("tools")),
        "reward_range": list(env.reward_range),
        "config": env.config.model_dump(mode="json"),
        "template": env.template.model_dump(mode="json"),
    }


def step_info(info: dict[str, Any]) -> dict[str, Any]:
    """A ``TextEnv.step`` info as JSON, the scores left out (they cross in ``TextObservation.scores``)."""
    return {key: _plain(value) for key, value in info.items() if key not in ("score", "status")}


def scores_to_wire(scores: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each criterion's ``Score`` as ``{'value', 'status', 'details'}``."""
    return {
        name: {"value": score.value, "status": score.status.value, "details": _plain(score.details)}
        for name, score in scores.items()
    }


def task_from_wire(record: dict[str, Any], task_class: str) -> Task:
    """The task of a reset, as its own class when the client can import it, else a ``WireTask``."""
    module_name, _, name = task_class.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), name)
        if isinstance(cls, type) and issubclass(cls, Task):
            return cls.model_validate_json(json.dumps(record))  # JSON mode: fields that read JSON as JSON
    except Exception:  # not importable here, or another version of it: the fields as sent
        pass
    return WireTask.model_validate(record)
