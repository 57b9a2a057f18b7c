"""Reasoning and answer: the part of a completion that verifiers judge.

A reasoning model writes its chain of thought between ``<think>`` and
``</think>`` and its answer after. Only the answer is judged, by every
verifier that reads an answer (numbers, math, tool calls, IFEval): an answer
written only inside the reasoning is no answer, and a draft there does not
make the final answer a hedge.

The rule, one for all: everything up to the last ``</think>`` is reasoning,
whether or not a ``<think>`` opened it (a chat template may have put that in
the prompt), and a ``<think>`` left open after it hides the rest.
"""

from __future__ import annotations

__all__ = ["THINK_CLOSE", "THINK_OPEN", "answer_text"]

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"


def answer_text(completion: str) -> str:
    """The answer part of ``completion``: after the last ``</think>``, before a ``<think>`` left open there.

    ``"<think>draft 41</think>The answer is 42"`` -> ``"The answer is 42"``;
    ``"draft</think>42"`` -> ``"42"``; ``"42<think>maybe 41"`` -> ``"42"``;
    text without think tags is returned whole. Linear time; never raises.
    """
    _, closed, tail = completion.rpartition(THINK_CLOSE)
    text = tail if closed else completion
    opened = text.find(THINK_OPEN)
    return text if opened == -1 else text[:opened]
