"""Curricula: an env's reset option (its ``level``, say) moved over training.

Envs take per-episode options through ``reset(options={"level": k})`` (each task
source lists the ones it takes in ``TaskSource.options``). A ``Curriculum``
names an env, one such option and how its value moves:

- a fixed **schedule**: ``[[0, 1], [200, 2], [500, 3]]`` gives value 1 from step
  0, 2 from step 200, 3 from step 500;
- a **rule** on measured accuracy: the value climbs ``levels`` one at a time, the
  next once the share of ok episodes over the last ``window`` episodes at the
  current level reaches ``threshold``; with ``replay`` > 0, that share of the
  prompts goes back to an earlier level (drawn uniformly), so the easier tasks
  are not forgotten.

``CurriculumState`` is what a rule remembers (the level reached, the recent
outcomes at it); it is plain JSON, saved with every checkpoint, so a resumed run
continues where it was. Each prompt's value is drawn from the run's seed, the
step and the prompt's position alone (``prompt_values``).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["Curriculum", "CurriculumState", "curriculum_env", "prompt_values"]


class Curriculum(BaseModel):
    """How one env's reset option moves over training: a fixed ``schedule``, or a rule over ``levels``."""

    model_config = ConfigDict(extra="forbid")

    env: str | None = Field(
        None, description="The env it moves: its id (or its metric name in a mixture); None: the run's only env."
    )
    option: str = Field("level", description="The reset option it sets (one the env's task source takes).")
    schedule: list[tuple[int, Any]] = Field(
        default_factory=list, description="Fixed schedule: [[step, value], ...], each value holding from its step on."
    )
    levels: list[Any] = Field(
        default_factory=list, description="The rule's values, easiest first; it starts at the first."
    )
    threshold: float = Field(
        0.8, gt=0, le=1, description="Rolling accuracy (share of ok episodes) at which the rule moves up a level."
    )
    window: int = Field(
        256, ge=1, description="Episodes at the current level the rolling accuracy is taken over (all must be seen)."
    )
    replay: float = Field(
        0.0, ge=0, lt=1, description="Share of prompts sent back to an earlier level, drawn uniformly."
    )

    @model_validator(mode="after")
    def _one_kind(self) -> Curriculum:
        if bool(self.schedule) == bool(self.levels):
            raise ValueError("a curriculum needs either a schedule ([[step, value], ...]) or levels (for the rule)")
        steps = [step for step, _ in self.schedule]
        if steps and (steps[0] != 0 or steps != sorted(set(steps))):
            raise ValueError(f"a schedule's steps must start at 0 and increase, got {steps}")
        return self

    @property
    def values(self) -> list[Any]:
        """Every value it may set, in order, each once."""
        found = [value for _, value in self.schedule] or list(self.levels)
        return [value for index, value in enumerate(found) if value not in found[:index]]

    def value_at(self, step: int, state: CurriculumState | None = None) -> Any:
        """The option's value for ``step`` (a schedule), or the rule's current level (``state``)."""
        if self.schedule:
            steps = [start for start, _ in self.schedule]
            return self.schedule[bisect.bisect_right(steps, step) - 1][1]
        return self.levels[state.level if state is not None else 0]


class CurriculumState(BaseModel):
    """What a rule remembers: the index of the level reached and the latest outcomes at it (True: ok)."""

    level: int = 0
    recent: list[bool] = Field(default_factory=list)

    def observe(self, curriculum: Curriculum, outcomes: Sequence[bool]) -> bool:
        """Record the outcomes of episodes at the current level; move up when the window is full and its
        accuracy reaches the threshold. Returns whether it moved (the window then starts empty)."""
        if not curriculum.levels:
            return False
        self.recent = [*self.recent, *outcomes][-curriculum.window :]
        full = len(self.recent) == curriculum.window
        if full and self.level + 1 < len(curriculum.levels) and np.mean(self.recent) >= curriculum.threshold:
            self.level += 1
            self.recent = []
            return True
        return False

    @property
    def accuracy(self) -> float:
        """The rolling accuracy at the current level (NaN before any episode)."""
        return float(np.mean(self.recent)) if self.recent else float("nan")


def prompt_values(
    curriculum: Curriculum, state: CurriculumState | None, count: int, seed: int, step: int, round_: int = 0
) -> list[tuple[Any, bool]]:
    """The option's value for each of ``count`` prompts of ``step``, and whether it is a replayed earlier level.

    A schedule gives every prompt its value for ``step``. The rule gives the current level,
    except that each prompt goes back to an earlier level with probability ``replay``; the
    draws depend only on ``(seed, step, round_)``.
    """
    current = curriculum.value_at(step, state)
    if curriculum.schedule or state is None or state.level == 0 or curriculum.replay == 0:
        return [(current, False)] * count
    rng = np.random.default_rng([seed, step, round_, 0xC0DE])
    back = rng.random(count) < curriculum.replay
    earlier = rng.integers(0, state.level, count)
    return [
        (curriculum.levels[int(level)], True) if is_back else (current, False)
        for is_back, level in zip(back, earlier, strict=True)
    ]


def curriculum_env(curriculum: Curriculum, names: Sequence[str], ids: Sequence[str]) -> int:
    """The index of the env ``curriculum`` names among a run's envs (their metric ``names`` and ``ids``).

    Raises:
        ValueError: no ``env`` in a mixture, or one that names no env (or several).
    """
    if curriculum.env is None:
        if len(names) > 1:
            raise ValueError(f"a curriculum in a mixture must name its env: one of {list(names)}")
        return 0
    matches = [i for i, (name, env_id) in enumerate(zip(names, ids, strict=True)) if curriculum.env in (name, env_id)]
    if len(matches) != 1:
        raise ValueError(f"curriculum env {curriculum.env!r} names none of the run's envs {list(names)}")
    return matches[0]
