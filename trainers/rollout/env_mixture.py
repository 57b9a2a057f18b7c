"""Naming envs in a config, and drawing a mixture's envs step by step.

A config names an env as a mapping ``{"id": ..., "options": {...}, "weight": ...,
"loss_weight": ...}`` or, on the command line, as text: ``rlvr/Math-v0``,
``rlvr/Arithmetic-v0:{"level": 2}`` (the id, a colon, the options as JSON;
gymnasium ids have no colon), either with ``@weight`` at the end
(``rlvr/Math-v0@3``). The weight is the env's share of a mixture's prompts,
relative to the others' (1 each by default).

``draw_envs`` picks the env of each of a step's prompts by weight, from the run's
seed, the step and the sampling round alone, so a resumed run draws the same.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["EnvRef", "EnvSelection", "draw_envs", "short_names"]


class EnvRef(BaseModel):
    """One env of a run: its registered id, the options it is made with, its weights in a mixture."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="Registered env id (see `rlvr envs`).")
    options: dict[str, Any] = Field(default_factory=dict, description="Options the env is made with.")
    weight: float = Field(1.0, gt=0, description="Share of the mixture's prompts, relative to the other envs'.")
    loss_weight: float = Field(
        1.0, ge=0, description="Multiplies this env's advantages: its weight in the loss, per completion."
    )

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        """``"ID"``, ``"ID:{json options}"``, either ending in ``"@weight"``, as a mapping; mappings pass through."""
        if not isinstance(value, str):
            return value
        text, fields = value.strip(), dict[str, Any]()
        head, at, tail = text.rpartition("@")
        if at and "}" not in tail:
            try:
                fields["weight"] = float(tail)
            except ValueError:
                raise ValueError(f"{value!r}: the weight after '@' is not a number") from None
            text = head
        env_id, colon, options = text.partition(":")
        if colon:
            try:
                parsed = json.loads(options)
            except ValueError as error:
                raise ValueError(f"{value!r}: the options after ':' are not JSON ({error})") from None
            if not isinstance(parsed, dict):
                raise ValueError(f"{value!r}: the options after ':' must be a JSON object")
            fields["options"] = parsed
        return {"id": env_id.strip(), **fields}

    @property
    def label(self) -> str:
        """How the env is named in metrics and reports: the id, with its options when it has any."""
        if not self.options:
            return self.id
        return f"{self.id}:{json.dumps(self.options, sort_keys=True, separators=(',', ':'))}"


class EnvSelection(BaseModel):
    """The config fields that name what a command runs on: one env (``env``, ``env_options``) or a ``mixture``.

    Shared by ``rlvr train`` and ``rlvr sample``; ``env_refs`` is the list either way.
    """

    env: str = Field("rlvr/Arithmetic-v0", description="Registered env id (see `rlvr envs`).")
    env_options: dict[str, Any] = Field(
        default_factory=dict, description='Options passed to the env, e.g. {"level": 2, "template": "r1"}.'
    )
    mixture: list[EnvRef] = Field(
        default_factory=list,
        description="Several envs at once, instead of env: each an id, id:{json options} or id@weight "
        '(rlvr/Arithmetic-v0:{"level": 2}@3); in a config file a list of {id, options, weight, loss_weight}. '
        "Each prompt's env is drawn by weight; a group never mixes envs.",
        json_schema_extra={"flag": "mix", "repeatable": True},
    )

    @model_validator(mode="after")
    def _check_mixture(self) -> EnvSelection:
        if self.mixture and self.env_options:
            raise ValueError("with a mixture, give each env's options in its entry, not in env_options")
        labels = [ref.label for ref in self.mixture]
        if len(set(labels)) != len(labels):
            raise ValueError(f"mixture names an env twice: {sorted(k for k in labels if labels.count(k) > 1)[0]}")
        return self

    @property
    def env_refs(self) -> list[EnvRef]:
        """The envs run on: the mixture, or ``env`` with ``env_options`` alone."""
        return list(self.mixture) or [EnvRef(id=self.env, options=self.env_options)]

    @property
    def env_name(self) -> str:
        """The env, or the mixture's envs, as people read it: ``rlvr/Math-v0`` or ``rlvr/Math-v0 + rlvr/Code-v0``."""
        return " + ".join(ref.id for ref in self.env_refs)


def draw_envs(weights: Sequence[float], count: int, seed: int, step: int, round_: int = 0) -> list[int]:
    """The env of each of ``count`` prompts (an index into ``weights``), drawn in proportion to ``weights``.

    Depends only on ``(seed, step, round_)`` and the weights; one env gives ``[0] * count``
    without drawing anything.
    """
    if len(weights) == 1:
        return [0] * count
    shares = np.asarray(weights, dtype=float)
    rng = np.random.default_rng([seed, step, round_, 0x313])
    return [int(i) for i in rng.choice(len(shares), size=count, p=shares / shares.sum())]


def short_names(refs: Sequence[EnvRef]) -> list[str]:
    """How each env of a mixture is named in metrics: its id, or its ``label`` (id and options)
    where two entries share the id. Distinct, in the order of ``refs``."""
    ids = [ref.id for ref in refs]
    return [ref.id if ids.count(ref.id) == 1 else ref.label for ref in refs]
