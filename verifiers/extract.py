"""Reading the final answer out of a completion.

Each extractor takes the completion text and returns the answer text it finds,
or ``None``. They are pure and run in time linear in the input: they use plain
string search and regular expressions without nested quantifiers, so a 1 MB
completion built to make a regex backtrack costs no more than any other 1 MB.

The formats:

* Fireworks: ``Final Answer: the final answer is X. I hope it is correct.``
  (the prompt used in Fireworks' RLVR arithmetic experiment, after Minerva).
* R1: ``<think>...</think><answer>X</answer>`` (DeepSeek-R1-Zero's template).
* ``\\boxed{X}`` (MATH-style solutions), nested braces handled.
* the last number in the text, the loosest fallback.

Every extractor returns *all* candidate answers through its ``*_all`` variant,
so a checker can detect hedging (several different final answers).
"""

from __future__ import annotations

import re
from enum import Enum

__all__ = [
    "AnswerFormat",
    "boxed_all",
    "boxed_spans",
    "extract",
    "extract_all",
    "extract_boxed",
    "extract_fireworks",
    "extract_last_number",
    "extract_r1_answer",
    "fireworks_all",
    "numbers_all",
    "r1_answers_all",
]


class AnswerFormat(str, Enum):
    """Where a prompt template tells the model to put its final answer."""

    FIREWORKS = "fireworks"
    R1 = "r1"
    BOXED = "boxed"
    LAST_NUMBER = "last_number"


# --- Fireworks -------------------------------------------------------------

_FIREWORKS_LEAD = re.compile(r"final answer\s{0,20}:", re.IGNORECASE)
# The first lead of a line and the rest of that line, in one linear match.
_FIREWORKS_LINE = re.compile(r"final answer\s{0,20}:[^\n]*", re.IGNORECASE)
_FIREWORKS_PREFIX = re.compile(r"\s{0,20}the final answer is\s{0,20}", re.IGNORECASE)
_FIREWORKS_SUFFIX = re.compile(r"\s{0,20}i hope it is correct", re.IGNORECASE)


def _fireworks_answer(segment: str) -> str:
    """X from the text that follows one ``Final Answer:`` lead."""
    prefix = _FIREWORKS_PREFIX.match(segment)
    if prefix:
        segment = segment[prefix.end() :]
    suffix = _FIREWORKS_SUFFIX.search(segment)
    if suffix:
        segment = segment[: suffix.start()]
    return segment.strip().removesuffix(".").strip()


def fireworks_all(text: str) -> list[str]:
    """Every answer stated as ``Final Answer: the final answer is X. I hope it is correct.``

    X is what stands between "the final answer is" and "I hope it is correct"
    on the same line (or up to the next ``Final Answer:`` on that line),
    without its closing full stop. The closing sentence is optional (a model
    that stops early still stated X); an empty X is no answer. Matching is
    case-insensitive.
    """
    answers = []
    for line in _FIREWORKS_LINE.finditer(text):
        for segment in _FIREWORKS_LEAD.split(line.group())[1:]:
            answer = _fireworks_answer(segment)
            if answer:
                answers.append(answer)
    return answers


def extract_fireworks(text: str) -> str | None:
    """The last Fireworks-format answer, or None."""
    answers = fireworks_all(text)
    return answers[-1] if answers else None


# --- R1 --------------------------------------------------------------------

ANSWER_OPEN, ANSWER_CLOSE = "<answer>", "</answer>"


def r1_answers_all(text: str) -> list[str]:
    """The contents of every closed ``<answer>...</answer>`` block, stripped.

    Blocks are matched left to right, each ``<answer>`` with the first
    ``</answer>`` after it; an unclosed block yields nothing.
    """
    answers = []
    start = text.find(ANSWER_OPEN)
    while start != -1:
        body_start = start + len(ANSWER_OPEN)
        end = text.find(ANSWER_CLOSE, body_start)
        if end == -1:
            break
        answers.append(text[body_start:end].strip())
        start = text.find(ANSWER_OPEN, end + len(ANSWER_CLOSE))
    return answers


def extract_r1_answer(text: str) -> str | None:
    """The content of the last ``<answer>`` block, or None."""
    answers = r1_answers_all(text)
    return answers[-1] if answers else None


# --- \boxed{} ----------------------------------------------------------------

_BOX_COMMAND = re.compile(r"\\(?:boxed|fbox)")


def matching_brace(text: str, open_index: int) -> int:
    """Index of the ``}`` closing the ``{`` at ``open_index``, or -1."""
    depth = 0
    for i in range(open_index, len(text)):
        char = text[i]
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return i
    return -1


def boxed_spans(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, content)`` of every ``\\boxed{...}`` (or ``\\fbox{...}``), nested braces kept.

    ``text[start:end]`` is the whole box, command included. Also accepts the
    brace-less form ``\\boxed 5`` (one token up to a space or ``$``). An
    unbalanced box ends the scan, as no later brace can close it, so the cost
    stays linear even for ``\\boxed{`` repeated a million times.
    """
    spans: list[tuple[int, int, str]] = []
    position = 0
    while True:
        command = _BOX_COMMAND.search(text, position)
        if command is None:
            return spans
        after = command.end()
        if after < len(text) and text[after] == "{":
            close = matching_brace(text, after)
            if close == -1:
                return spans  # nothing after an unbalanced brace can close
            spans.append((command.start(), close + 1, text[after + 1 : close].strip()))
            position = close + 1
        elif after < len(text) and text[after] == " ":
            token_end = after + 1
            while token_end < len(text) and text[token_end] not in " $\n":
                token_end += 1
            if token_end > after + 1:
                spans.append((command.start(), token_end, text[after + 1 : token_end]))
            position = max(token_end, after + 1)
        else:
            position = after


def boxed_all(text: str) -> list[str]:
    """The contents of every box, in order (see ``boxed_spans``)."""
    return [content for _, _, content in boxed_spans(text)]


def extract_boxed(text: str) -> str | None:
    """The content of the last box, or None."""
    answers = boxed_all(text)
    return answers[-1] if answers else None


# --- numbers -----------------------------------------------------------------

# No nested quantifiers: each alternative consumes digits in one linear pass.
_NUMBER = re.compile(r"[-−+]?(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?", re.ASCII)


def numbers_all(text: str) -> list[str]:
    """Every number-like token (``-12``, ``1,000``, ``3.5``) in order of appearance."""
    return _NUMBER.findall(text)


def extract_last_number(text: str) -> str | None:
    """The last number in the text, or None."""
    numbers = numbers_all(text)
    return numbers[-1] if numbers else None


# --- dispatch ----------------------------------------------------------------

_ALL = {
    AnswerFormat.FIREWORKS: fireworks_all,
    AnswerFormat.R1: r1_answers_all,
    AnswerFormat.BOXED: boxed_all,
    AnswerFormat.LAST_NUMBER: numbers_all,
}


def extract_all(text: str, answer_format: AnswerFormat | str) -> list[str]:
    """All candidate answers of ``answer_format`` in ``text``, first to last."""
    return _ALL[AnswerFormat(answer_format)](text)


def extract(text: str, answer_format: AnswerFormat | str) -> str | None:
    """The final (last) answer of ``answer_format`` in ``text``, or None."""
    answers = extract_all(text, answer_format)
    return answers[-1] if answers else None
