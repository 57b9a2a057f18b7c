"""Naming envs in a config: an id, its options and a weight (``EnvRef``).

A config names an env as a mapping ``{"id": ..., "options": {...}, "weight": ...}``
or, on the command line, as text: ``rlvr/Math-v0`` or
``rlvr/Arithmetic-v0:{"level": 2}`` (the id, then a colon and the options as
JSON; gymnasium ids have no colon). The weight is the env's share when several
are mixed, relative to the others' (1 each by default).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["EnvRef"]


class EnvRef(BaseModel):
    """One env of a run: its registered id, the options it is made with, its weight in a mixture."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="Registered env id (see `rlvr envs`).")
    options: dict[str, Any] = Field(default_factory=dict, description="Options the env is made with.")
    weight: float = Field(1.0, gt=0, description="Share of the mixture, relative to the other envs' weights.")

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        """``"ID"`` or ``"ID:{json options}"`` as a mapping; mappings pass through."""
        if not isinstance(value, str):
            return value
        env_id, colon, options = value.partition(":")
        if not colon:
            return {"id": value.strip()}
        try:
            parsed = json.loads(options)
        except ValueError as error:
            raise ValueError(f"{value!r}: the options after ':' are not JSON ({error})") from None
        if not isinstance(parsed, dict):
            raise ValueError(f"{value!r}: the options after ':' must be a JSON object")
        return {"id": env_id.strip(), "options": parsed}

    @property
    def label(self) -> str:
        """How the env is named in metrics and reports: the id, with its options when it has any."""
        if not self.options:
            return self.id
        return f"{self.id}:{json.dumps(self.options, sort_keys=True, separators=(',', ':'))}"
