"""The registry: an env id maps to the data that builds its environment.

``register`` records an ``EnvEntry`` (task source, rubric, prompt templates,
description) and registers the id in gymnasium's own registry, so both
``gymnasium.make(id, **options)`` and ``envs.make(id, **options)`` work. Adding
a task family is one ``register`` call in the family's own module; nothing
central is edited, and trainers only ever see an id.

Options given to ``make`` are split in two: ``template``, ``render_mode`` and
the ``EnvConfig`` fields (``max_turns``, ...) configure the environment; every
other option goes to the family's task source (``digits=[3, 3]`` for
Arithmetic), which validates it and names any bad field.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import pydantic

from envs.task import DatasetSource, Task, TaskSource
from envs.templates import BUILTIN_TEMPLATES, PromptTemplate
from envs.text_env import EnvConfig, Feedback, TextEnv
from verifiers.rubric import Rubric

__all__ = ["ConfigError", "EnvEntry", "UnknownEnvError", "entry", "list_envs", "make", "register"]

SourceFactory = Callable[..., TaskSource]
RubricFactory = Callable[[PromptTemplate], Rubric]


class UnknownEnvError(KeyError):
    """An env id that is not registered; the message lists the registered ones."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


class ConfigError(ValueError):
    """A bad option to an environment; the message names the field."""


@dataclass(frozen=True)
class EnvEntry:
    """Everything needed to build one registered environment.

    Attributes:
        id: the env id, ``namespace/Name-vN``.
        description: one line for listings.
        make_source: task options -> ``TaskSource``.
        make_rubric: prompt template -> ``Rubric`` (the answer format decides
            which verifiers apply).
        templates: prompt templates by name; the first is the default.
        max_turns: default episode length in completions.
        feedback: multi-turn feedback; None for the default retry message.
        task_options: names of the task options, for error messages.
    """

    id: str
    description: str
    make_source: SourceFactory
    make_rubric: RubricFactory
    templates: Mapping[str, PromptTemplate]
    max_turns: int = 1
    feedback: Feedback | None = None
    task_options: tuple[str, ...] = ()

    @property
    def default_template(self) -> PromptTemplate:
        return next(iter(self.templates.values()))

    def build(
        self, template: str | PromptTemplate | None = None, render_mode: str | None = None, **options: Any
    ) -> TextEnv:
        """A new ``TextEnv`` for this entry with the given options."""
        prompt = self._template(template)
        env_fields = {k: options.pop(k) for k in list(options) if k in EnvConfig.model_fields}
        env_fields.setdefault("max_turns", self.max_turns)
        config = self._validate(lambda: EnvConfig(**env_fields))
        source = self._validate(lambda: self.make_source(**options))
        return TextEnv(source, self.make_rubric(prompt), prompt, config, self.feedback, render_mode)

    def _template(self, template: str | PromptTemplate | None) -> PromptTemplate:
        if template is None:
            return self.default_template
        if isinstance(template, PromptTemplate):
            return template
        if template in self.templates:
            return self.templates[template]
        raise ConfigError(f"{self.id}: unknown template {template!r}; choose one of {sorted(self.templates)}")

    def _validate(self, build: Callable[[], Any]) -> Any:
        """Run ``build``; turn a pydantic error or an unexpected keyword into a ConfigError."""
        try:
            return build()
        except pydantic.ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'options'}: {e['msg']}" for e in error.errors()
            )
            raise ConfigError(f"{self.id}: invalid option: {problems}. {self._valid_options()}") from None
        except TypeError as error:
            if "unexpected keyword argument" not in str(error):
                raise
            raise ConfigError(f"{self.id}: {error}. {self._valid_options()}") from None

    def _valid_options(self) -> str:
        names = ["template", *EnvConfig.model_fields, *self.task_options]
        return f"Valid options: {', '.join(names)}."


_REGISTRY: dict[str, EnvEntry] = {}


def register(
    id: str,
    *,
    source: TaskSource | SourceFactory | Sequence[Task],
    rubric: Rubric | RubricFactory,
    template: PromptTemplate | str | Mapping[str, PromptTemplate],
    description: str,
    max_turns: int = 1,
    feedback: Feedback | None = None,
    replace: bool = False,
) -> EnvEntry:
    """Register a task family under ``id`` (also in gymnasium's registry).

    Args:
        id: ``namespace/Name-vN``, e.g. ``"myproject/Reverse-v0"``.
        source: where tasks come from: a ``TaskSource``; a factory that takes
            the task options of ``make`` (a ``TaskSource`` class whose
            ``config_model`` is a pydantic model lists them); or a list of tasks.
        rubric: a ``Rubric``, or a function of the chosen ``PromptTemplate``
            returning one (so the answer format can pick the verifiers).
        template: a ``PromptTemplate``, the name of a built-in one
            (``fireworks``, ``r1``, ``boxed``, ``plain``), or a mapping of names
            to templates (the first is the default).
        description: one line for ``rlvr envs``.
        max_turns: default completions per episode.
        feedback: multi-turn feedback function (default: a retry message).
        replace: allow re-registering an existing id.

    Returns:
        The registry entry.
    """
    if id in _REGISTRY and not replace:
        raise ValueError(f"{id!r} is already registered; pass replace=True to redefine it")
    entry_ = EnvEntry(
        id=id,
        description=description,
        make_source=_source_factory(id, source),
        make_rubric=_rubric_factory(rubric),
        templates=_templates(template),
        max_turns=max_turns,
        feedback=feedback,
        task_options=_task_options(source),
    )
    _REGISTRY[id] = entry_
    if replace:
        gym.registry.pop(id, None)  # replacing on purpose: no "overriding" warning
    gym.register(id=id, entry_point=functools.partial(_build_env, entry_))
    return entry_


def _build_env(entry_: EnvEntry, **options: Any) -> TextEnv:
    return entry_.build(**options)


def _source_factory(id: str, source: TaskSource | SourceFactory | Sequence[Task]) -> SourceFactory:
    if isinstance(source, TaskSource):
        return functools.partial(_fixed_source, id, source)
    if isinstance(source, Sequence):
        return functools.partial(_fixed_source, id, DatasetSource(source))
    if callable(source):
        return source
    raise TypeError(f"source must be a TaskSource, a factory of one, or a list of tasks, got {type(source).__name__}")


def _fixed_source(id: str, source: TaskSource, **options: Any) -> TaskSource:
    if options:
        raise ConfigError(f"{id}: takes no task options, got {sorted(options)}")
    return source


def _rubric_factory(rubric: Rubric | RubricFactory) -> RubricFactory:
    if isinstance(rubric, Rubric):
        return functools.partial(_fixed_rubric, rubric)
    if callable(rubric):
        return rubric
    raise TypeError(f"rubric must be a Rubric or a function of the template, got {type(rubric).__name__}")


def _fixed_rubric(rubric: Rubric, template: PromptTemplate) -> Rubric:
    return rubric


def _task_options(source: object) -> tuple[str, ...]:
    model = getattr(source, "config_model", None)
    if isinstance(model, type) and issubclass(model, pydantic.BaseModel):
        return tuple(model.model_fields)
    return ()


def _templates(template: PromptTemplate | str | Mapping[str, PromptTemplate]) -> dict[str, PromptTemplate]:
    if isinstance(template, PromptTemplate):
        return {template.name: template}
    if isinstance(template, str):
        if template not in BUILTIN_TEMPLATES:
            raise ValueError(f"unknown built-in template {template!r}; choose one of {sorted(BUILTIN_TEMPLATES)}")
        return {template: BUILTIN_TEMPLATES[template]}
    if not template:
        raise ValueError("give at least one prompt template")
    return dict(template)


def entry(id: str) -> EnvEntry:
    """The registry entry of ``id``; ``UnknownEnvError`` lists the valid ids."""
    try:
        return _REGISTRY[id]
    except KeyError:
        close = difflib.get_close_matches(id, _REGISTRY, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise UnknownEnvError(f"unknown env id {id!r}.{hint} Registered ids: {', '.join(sorted(_REGISTRY))}") from None


def make(id: str, **options: Any) -> gym.Env:
    """``gymnasium.make(id, **options)``, with an error listing valid ids for an unknown one."""
    entry(id)
    return gym.make(id, **options)


def list_envs() -> dict[str, str]:
    """Registered env ids and their one-line descriptions, sorted by id."""
    return {id: _REGISTRY[id].description for id in sorted(_REGISTRY)}
