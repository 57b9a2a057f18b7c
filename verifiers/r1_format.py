"""The R1 format reward: ``<think>reasoning</think> <answer>answer</answer>``, anchored.

DeepSeek-R1-Zero rewards the model for putting its reasoning between think
tags and its answer between answer tags. A loose regex search lets a model
collect the reward with junk around the tags, so this check is anchored:

* optional leading whitespace, then ``<think>`` (optional: a chat template may
  already have put ``<think>`` at the end of the prompt);
* exactly one think block, with non-blank content;
* only whitespace between ``</think>`` and ``<answer>``;
* exactly one answer block, with non-blank content;
* nothing but whitespace after ``</answer>``;
* no stray think or answer tags anywhere else.

It runs in linear time with plain string search.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rlvr.verifiers.score import Score, Status

__all__ = ["R1Format", "r1_format_problem"]

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
ANSWER_OPEN, ANSWER_CLOSE = "<answer>", "</answer>"


def r1_format_problem(completion: str) -> str | None:
    """Why ``completion`` breaks the R1 format, or None when it follows it."""
    body = completion.lstrip()
    if body.startswith(THINK_OPEN):
        body = body[len(THINK_OPEN) :]
    counts = {tag: body.count(tag) for tag in (THINK_OPEN, THINK_CLOSE, ANSWER_OPEN, ANSWER_CLOSE)}
    if counts[THINK_OPEN]:
        return "more than one <think> tag"
    for tag, count in counts.items():
        if tag != THINK_OPEN and count != 1:
            return f"expected exactly one {tag}, found {count}"
    think_end = body.index(THINK_CLOSE)
    answer_start = body.index(ANSWER_OPEN)
    answer_end = body.index(ANSWER_CLOSE)
    if not think_end < answer_start < answer_end:
        return "tags out of order: expected <think>...</think><answer>...</answer>"
    if not body[:think_end].strip():
        return "empty think block"
    if body[think_end + len(THINK_CLOSE) : answer_start].strip():
        return "text between </think> and <answer>"
    if not body[answer_start + len(ANSWER_OPEN) : answer_end].strip():
        return "empty answer block"
    if body[answer_end + len(ANSWER_CLOSE) :].strip():
        return "text after </answer>"
    return None


@dataclass(frozen=True)
class R1Format:
    """Score 1.0 when the completion follows the anchored R1 format, else 0.0 (``format_error``).

    The task is not consulted: the format reward is the same for every task.
    """

    def __call__(self, completion: str, task: Any) -> Score:
        """Judge the shape of ``completion``; ``task`` is ignored."""
        problem = r1_format_problem(completion)
        if problem is None:
            return Score.correct()
        return Score.fail(Status.FORMAT_ERROR, reason=problem)
