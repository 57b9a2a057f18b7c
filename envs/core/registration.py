"""The registry: an env id maps to the data that builds its environment.

``register`` records an ``EnvEntry`` (task source, rubric, prompt templates,
description) and registers the id in gymnasium's own registry, so both
``gymnasium.make(id, **options)`` and ``envs.make(id, **options)`` work. Adding
a task family is one ``register`` call in the family's own module; nothing
central is edited, and trainers only ever see an id.

Envs of installed plugins (``rlvr.envs.core.plugins``) are registered the
first time the registry is used: ``make``, ``entry`` or ``list_envs``.

Options given to ``make`` are split in two: ``template``, ``render_mode`` and
the ``EnvConfig`` fields (``max_turns``, ...) configure the environment; every
other option goes to the family's task source (``digits=[3, 3]`` for
Arithmetic), which validates it and names any bad field.
"""

from __future__ import annotations

import difflib
import functools
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import pydantic

from rlvr.envs.core.errors import ConfigError, UnknownEnvError
from rlvr.envs.core.plugins import current_distribution, load_plugins, provider
from rlvr.envs.core.task import DatasetSource, Task, TaskSource
from rlvr.envs.core.templates import BUILTIN_TEMPLATES, PromptTemplate
from rlvr.envs.core.text_env import EnvConfig, Feedback, TextEnv
from rlvr.envs.core.tools import Tool
from rlvr.verifiers.rubric import Rubric

__all__ = ["ConfigError", "EnvEntry", "UnknownEnvError", "entry", "list_envs", "make", "register", "register_builder"]

SourceFactory = Callable[..., TaskSource]
RubricFactory = Callable[[PromptTemplate], Rubric]


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
        module: the module that registered it.
        distribution: the installed package whose plugin registered it; None
            when it was registered by an import (built-in, script, ``--import``).
        audit_exempt: gaming strategies of ``rlvr audit`` that do not apply
            to this env, each with the reason (strategy name -> reason).
        tools: the tools the env offers, by name; the ``tools`` option picks
            the ones an episode may call.
        defaults: options ``make`` uses where it is not given them (an id for
            a family's tool-using variant: ``{"tools": ["python"]}``).
        builder: for an env that is not a task family here (an OpenEnv env on
            a server, ``register_builder``): options -> the env; None for a family.
    """

    id: str
    description: str
    make_source: SourceFactory
    make_rubric: RubricFactory
    templates: Mapping[str, PromptTemplate]
    max_turns: int = 1
    feedback: Feedback | None = None
    task_options: tuple[str, ...] = ()
    module: str = ""
    distribution: str | None = None
    audit_exempt: Mapping[str, str] = field(default_factory=dict)
    tools: Mapping[str, Tool] = field(default_factory=dict)
    defaults: Mapping[str, Any] = field(default_factory=dict)
    builder: Callable[..., TextEnv] | None = None

    @property
    def default_template(self) -> PromptTemplate:
        return next(iter(self.templates.values()))

    @property
    def provider(self) -> str:
        """The package that provides this env (``rlvr-gym`` for the built-ins), or the module for unpackaged code."""
        return provider(self.module, self.distribution)

    def build(
        self, template: str | PromptTemplate | None = None, render_mode: str | None = None, **options: Any
    ) -> TextEnv:
        """A new ``TextEnv`` for this entry with the given options."""
        if self.builder is not None:
            return self.builder(render_mode=render_mode, **options)
        remote = options.pop("remote", None)
        if remote is not None:  # played on a server of `rlvr serve`: the same id and options, there
            from rlvr.envs.serving.remote import RemoteTextEnv

            served = options if template is None else {**options, "template": template}
            return RemoteTextEnv(remote, self.id, served, render_mode)
        options = {**self.defaults, **options}
        prompt = self._template(template)
        env_fields = {k: options.pop(k) for k in list(options) if k in EnvConfig.model_fields}
        source = self._validate(lambda: self.make_source(**options))
        # A tool call and the answer take a turn each: with tools (the env's, or tasks that bring their own),
        # episodes get 4 turns unless told otherwise.
        tools = env_fields.get("tools") or getattr(source, "brings_tools", False)
        env_fields.setdefault("max_turns", max(self.max_turns, 4) if tools else self.max_turns)
        config = self._validate(lambda: EnvConfig(**env_fields))
        try:
            return TextEnv(
                source, self.make_rubric(prompt), prompt, config, self.feedback, render_mode, dict(self.tools)
            )
        except ValueError as error:
            raise ConfigError(f"{self.id}: {error}") from None

    def _template(self, template: str | PromptTemplate | None) -> PromptTemplate:
        if template is None:
            return self.default_template
        if isinstance(template, PromptTemplate):
            return template
        if not isinstance(template, str):
            raise ConfigError(
                f"{self.id}: template must be the name of one of this env's templates ({', '.join(self.templates)}) "
                f"or a PromptTemplate, got {type(template).__name__}"
            )
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
    template: PromptTemplate | str | Mapping[str, PromptTemplate | str],
    description: str,
    max_turns: int = 1,
    feedback: Feedback | None = None,
    replace: bool = False,
    audit_exempt: Mapping[str, str] | None = None,
    tools: Sequence[Tool] = (),
    defaults: Mapping[str, Any] | None = None,
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
            to either (the first is the default): ``{"short": "plain", "r1": "r1"}``.
        description: one line for ``rlvr envs``.
        max_turns: default completions per episode.
        feedback: multi-turn feedback function (default: a retry message).
        replace: allow re-registering an existing id.
        audit_exempt: ``rlvr audit`` strategies that do not apply to this
            family, with the reason for each (``{"prompt echo": "the task is
            to repeat the prompt"}``); the audit reports them as exempt.
        tools: the tools (``rlvr.envs.core.tools.Tool``) the env offers; an
            episode may call those its ``tools`` option names
            (``make(id, tools=["calculator"])``).
        defaults: options ``make`` applies unless given others, e.g.
            ``{"tools": ["python"]}`` for a family's tool-using variant.

    Returns:
        The registry entry. It records the calling module, and the plugin's
        package when a plugin registers it, for ``rlvr envs``.

    Raises:
        ValueError: ``id`` is registered already, or a template is neither a
            ``PromptTemplate`` nor a built-in template's name.
        TypeError: ``source`` or ``rubric`` is of the wrong kind.
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
        module=str(sys._getframe(1).f_globals.get("__name__", "")),
        distribution=current_distribution(),
        audit_exempt=dict(audit_exempt or {}),
        tools={tool.name: tool for tool in tools},
        defaults=dict(defaults or {}),
    )
    _REGISTRY[id] = entry_
    if replace:
        gym.registry.pop(id, None)  # replacing on purpose: no "overriding" warning
    gym.register(id=id, entry_point=functools.partial(_build_env, entry_))
    return entry_


def register_builder(id: str, builder: Callable[..., TextEnv], description: str, replace: bool = False) -> EnvEntry:
    """Register an env that is not a task family here, made by ``builder(render_mode=..., **options)``
    (``rlvr.envs.serving.openenv_env.register_openenv``: an OpenEnv env on a server).

    Raises:
        ValueError: ``id`` is registered already and ``replace`` is False.
    """
    if id in _REGISTRY and not replace:
        raise ValueError(f"{id!r} is already registered; pass replace=True to redefine it")

    def no_source(**options: Any) -> TaskSource:
        raise ConfigError(f"{id} is played on a server: it has no task source here")

    def no_rubric(template: PromptTemplate) -> Rubric:
        raise ConfigError(f"{id} is played on a server: it is judged there")

    entry_ = EnvEntry(
        id=id,
        description=description,
        make_source=no_source,
        make_rubric=no_rubric,
        templates={"plain": BUILTIN_TEMPLATES["plain"]},
        module=str(sys._getframe(1).f_globals.get("__name__", "")),
        distribution=current_distribution(),
        builder=builder,
    )
    _REGISTRY[id] = entry_
    if replace:
        gym.registry.pop(id, None)
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


def _templates(template: PromptTemplate | str | Mapping[str, PromptTemplate | str]) -> dict[str, PromptTemplate]:
    if isinstance(template, PromptTemplate | str):
        resolved = _template(template)
        return {resolved.name: resolved}
    if not isinstance(template, Mapping):
        raise ValueError(_TEMPLATE_HELP.format(got=type(template).__name__))
    if not template:
        raise ValueError("give at least one prompt template")
    return {str(name): _template(value) for name, value in template.items()}


_TEMPLATE_HELP = (
    "a template is a PromptTemplate (rlvr.envs.PromptTemplate(name=..., answer_format=..., user=...), "
    "its user/system text formatted with the task's fields) or the name of a built-in one ("
    + ", ".join(sorted(BUILTIN_TEMPLATES))
    + "); got {got}"
)


def _template(template: object) -> PromptTemplate:
    if isinstance(template, PromptTemplate):
        return template
    if isinstance(template, str):
        if template not in BUILTIN_TEMPLATES:
            raise ValueError(f"unknown built-in template {template!r}; choose one of {sorted(BUILTIN_TEMPLATES)}")
        return BUILTIN_TEMPLATES[template]
    raise ValueError(_TEMPLATE_HELP.format(got=f"{template!r} ({type(template).__name__})"))


def entry(id: str) -> EnvEntry:
    """The registry entry of ``id``; ``UnknownEnvError`` lists the valid ids (and plugins that failed to load)."""
    failures = load_plugins()
    try:
        return _REGISTRY[id]
    except KeyError:
        close = difflib.get_close_matches(id, _REGISTRY, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        failed = "".join(f" Note: {failure}." for failure in failures)
        unimported = "" if "/" not in id or id.split("/")[0] in _namespaces() else _IMPORT_HINT
        raise UnknownEnvError(
            f"unknown env id {id!r}.{hint} Registered ids: {', '.join(sorted(_REGISTRY))}.{failed}{unimported}"
        ) from None


_IMPORT_HINT = (
    " An env of your own is registered by importing its module: name it with --import MODULE (or a .py path),"
    " or install it as a plugin (entry-point group 'rlvr.envs')."
)


def _namespaces() -> set[str]:
    return {id.split("/")[0] for id in _REGISTRY if "/" in id}


def make(id: str, **options: Any) -> gym.Env:
    """``gymnasium.make(id, **options)``, with an error listing valid ids for an unknown one."""
    entry(id)
    return gym.make(id, **options)


def list_envs() -> dict[str, str]:
    """Registered env ids (installed plugins' included) and their one-line descriptions, sorted by id."""
    load_plugins()
    return {id: _REGISTRY[id].description for id in sorted(_REGISTRY)}
