"""The result of one verification: a score in [0, 1], a status and details.

A verifier's answer is more than a number. A trainer needs to know *why* a
completion got 0 (a wrong answer is a learning signal; an unparseable one points
at the format), and it must be able to tell "the model was wrong" from "we could
not judge" (a broken reference, a crashed checker): the latter carries
``value=None`` and is skipped by trainers instead of training on noise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Any


class Status(str, Enum):
    """Why a verifier gave the score it gave.

    The first group are judgements about the completion; the last group mean no
    judgement could be made, and always come with ``Score.value is None``.
    """

    OK = "ok"
    """The completion is right."""
    WRONG = "wrong"
    """An answer was found and it is not the reference."""
    UNPARSEABLE = "unparseable"
    """No answer could be read from the completion."""
    FORMAT_ERROR = "format_error"
    """The completion does not follow the required output format."""
    HEDGED = "hedged"
    """The completion states several different final answers."""
    PARTIAL = "partial"
    """Partly right; the value says how much."""

    DATA_ERROR = "data_error"
    """The task itself is broken (for example an unparseable reference)."""
    VERIFIER_ERROR = "verifier_error"
    """The verifier crashed; a bug in the checker, never the model's fault."""
    GRADER_ERROR = "grader_error"
    """A model grader gave no usable grade: its backend failed (HTTP error,
    time-out, refused connection) or its output held no grade in [0, 1]."""
    UNDECIDABLE = "undecidable"
    """The answer cannot be checked exactly (values too large to compare), so it is not judged."""
    TOOL_ERROR = "tool_error"
    """A tool's machinery failed during the episode (the sandbox behind the Python tool), so it ended unjudged."""
    REMOTE_ERROR = "remote_error"
    """The server of a remote env did not give the step's verdict (connection lost, time-out, an error answer)."""

    @property
    def is_judgement(self) -> bool:
        """True when the status judges the completion (value is a float)."""
        return self not in _NO_JUDGEMENT


_NO_JUDGEMENT = frozenset(
    {
        Status.DATA_ERROR,
        Status.VERIFIER_ERROR,
        Status.GRADER_ERROR,
        Status.UNDECIDABLE,
        Status.TOOL_ERROR,
        Status.REMOTE_ERROR,
    }
)


@dataclass(frozen=True, slots=True)
class Score:
    """One verifier's verdict on one completion.

    Attributes:
        value: the score in [0, 1], or ``None`` when no judgement was possible
            (status ``data_error``, ``verifier_error`` or ``grader_error``).
        status: why the score is what it is.
        details: small, JSON-friendly facts for logs (extracted answer,
            reference, ...). Read-only.
    """

    value: float | None
    status: Status
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status.is_judgement:
            if self.value is None or not 0.0 <= self.value <= 1.0:
                raise ValueError(f"a {self.status.value!r} score needs a value in [0, 1], got {self.value!r}")
        elif self.value is not None:
            raise ValueError(f"a {self.status.value!r} score carries no value, got {self.value!r}")
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))

    @classmethod
    def correct(cls, **details: Any) -> Score:
        """Full marks: value 1.0, status ``ok``."""
        return cls(1.0, Status.OK, details)

    @classmethod
    def fail(cls, status: Status, **details: Any) -> Score:
        """Zero, with the status that says why (``wrong``, ``unparseable``, ...)."""
        return cls(0.0, status, details)

    @classmethod
    def no_judgement(cls, status: Status, **details: Any) -> Score:
        """No value: the task or the verifier is at fault, not the completion."""
        return cls(None, status, details)

    def __repr__(self) -> str:
        return f"Score(value={self.value!r}, status={self.status.value}, details={dict(self.details)!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # MappingProxyType does not pickle; vector envs in subprocesses pickle infos.
        return (Score, (self.value, self.status, dict(self.details)))
