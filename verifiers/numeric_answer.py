"""Exact-answer verifier: the completion's final number equals the reference.

The accuracy reward of the DeepSeek-R1 recipe and of the Fireworks arithmetic
experiment. A pure function of (completion, task); it never raises on what the
model wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rlvr.verifiers.extract import AnswerFormat, extract_all
from rlvr.verifiers.numbers import format_number, parse_number
from rlvr.verifiers.reasoning import answer_text
from rlvr.verifiers.score import Score, Status

__all__ = ["NumericAnswer"]

_DETAIL_CHARS = 120  # extracted text kept in details, so logs stay small


@dataclass(frozen=True)
class NumericAnswer:
    """Score 1.0 when the final answer equals the task's reference number, else 0.0.

    Args:
        answer_format: where the answer is read from (see ``AnswerFormat``).
        answer_field: name of the task attribute that holds the reference
            (an int, a Decimal, or a string such as ``"1,234"``).

    Statuses: ``ok``; ``wrong`` (a number, not the reference); ``unparseable``
    (no answer in the format, or not exactly one number); ``hedged`` (several
    different final answers stated: the model does not get to pick after the
    fact); ``data_error`` (the reference itself is not a number: value None).
    With ``LAST_NUMBER`` every number in the text is a candidate, so hedging is
    not checked there.
    """

    answer_format: AnswerFormat = AnswerFormat.FIREWORKS
    answer_field: str = "answer"

    def __post_init__(self) -> None:
        object.__setattr__(self, "answer_format", AnswerFormat(self.answer_format))

    def __call__(self, completion: str, task: Any) -> Score:
        """Judge ``completion`` against ``task.<answer_field>``."""
        raw_reference = getattr(task, self.answer_field, None)
        reference = _as_number(raw_reference)
        if reference is None:
            return Score.no_judgement(
                Status.DATA_ERROR,
                reason=f"reference {self.answer_field}={raw_reference!r} is not a number",
            )
        expected = format_number(reference)
        candidates = extract_all(answer_text(completion), self.answer_format)
        if not candidates:
            return Score.fail(Status.UNPARSEABLE, expected=expected, extracted=None)
        final = candidates[-1]
        value = parse_number(final)
        details = {"expected": expected, "extracted": final[:_DETAIL_CHARS]}
        if value is None:
            return Score.fail(Status.UNPARSEABLE, **details)
        if self.answer_format is not AnswerFormat.LAST_NUMBER and _is_hedged(candidates):
            return Score.fail(Status.HEDGED, **details)
        if value == reference:
            return Score.correct(**details)
        return Score.fail(Status.WRONG, **details)


def _as_number(reference: Any) -> Decimal | None:
    if isinstance(reference, bool):
        return None
    if isinstance(reference, int):
        return Decimal(reference)
    if isinstance(reference, Decimal):
        return reference if reference.is_finite() else None
    if isinstance(reference, str):
        return parse_number(reference)
    return None


def _is_hedged(candidates: list[str]) -> bool:
    """Several final answers whose values differ (repeating the same one is fine)."""
    values = {parse_number(c) for c in candidates}
    values.discard(None)
    return len(values) > 1
