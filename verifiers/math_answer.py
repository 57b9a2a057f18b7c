"""Symbolic math-answer verifier: the completion's final answer equals the reference as mathematics.

The accuracy reward for MATH-style problems, where ``\\frac{1}{2}``, ``0.5``
and ``\\dfrac12`` are the same answer, ``\\{1,2\\}`` equals ``\\{2,1\\}`` but
``(1,2)`` does not equal ``(2,1)``. Plain numbers are compared in this process
with exact ``Decimal`` arithmetic; everything else goes to ``math-verify``
(LaTeX to SymPy, then equivalence), which runs in a worker process under a hard
time limit (``rlvr.verifiers.timed_worker``), because a short hostile answer such as
``x^x^x^...`` or twenty nested braces keeps its parser busy for minutes.

A pure function of (completion, task) in what it returns; it never raises on
what the model wrote.
"""

from __future__ import annotations

import os
import queue
import re
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Context, Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Any, Literal

from rlvr.verifiers.extract import AnswerFormat, boxed_all, boxed_spans, extract_all
from rlvr.verifiers.magnitude import least_digits
from rlvr.verifiers.numbers import parse_number
from rlvr.verifiers.reasoning import answer_text
from rlvr.verifiers.score import Score, Status
from rlvr.verifiers.timed_worker import TimedWorker, WorkerCrashed, WorkerError, WorkerStartError, WorkerTimeout

__all__ = ["MAX_EXACT_DIGITS", "WORKER", "MathAnswer", "PercentPolicy"]

PercentPolicy = Literal["strict", "value", "either"]
"""How an answer with a percent sign compares with one without (see ``MathAnswer``)."""

_PERCENT_POLICIES = ("strict", "value", "either")
_DETAIL_CHARS = 120  # extracted text kept in details, so logs stay small
_MAX_ANSWER_CHARS = 1_000  # a longer final answer is not read (MATH answers are under 200)
_MAX_DEPTH = 10  # bracket nesting past this is not read: the parser's time grows exponentially with it
_MAX_PARTS = 8  # distinct answers in one final statement that are checked before calling it a hedge
_MAX_GAP_CHARS = 200  # text between two boxes longer than this separates statements
_EXACT = Context(prec=1_000)  # parse_number reads at most 200 digits: arithmetic on them stays exact

MAX_EXACT_DIGITS = 100_000
"""Values with more digits than this are not compared: exact arithmetic on them costs too much. A reference
that large makes the task undecidable (reward None); an answer that large is wrong against any other reference."""


class Undecidable(Exception):
    """The reference is too large to compare exactly (worker side)."""


WORKER = TimedWorker(preload=("math_verify", "rlvr.verifiers.math_answer"), memory_limit_mb=2048)
"""This process's symbolic checker (one process, started on first use, replaced after a time-out)."""

BATCH_WORKERS = min(4, os.cpu_count() or 1)
"""Symbolic checkers ``score_batch`` runs at once: ``WORKER`` and as many more processes as it takes."""
_batch_workers: list[TimedWorker] = []
_batch_lock = threading.Lock()


@dataclass(frozen=True)
class MathAnswer:
    """Score 1.0 when the final answer is mathematically equal to ``task.<answer_field>``, else 0.0.

    Args:
        answer_format: where the answer is read from (``BOXED``, ``R1``,
            ``FIREWORKS`` or ``LAST_NUMBER``; read as ``NumericAnswer`` reads it).
        answer_field: name of the task attribute that holds the reference: a
            string in LaTeX or plain text (``\\frac{3}{4}``, ``1,000``,
            ``(1, 2)``, ``x = 3``, ``[0, 1)``, ``25\\%``), an int, a
            ``Decimal`` or a ``Fraction``.
        percent: how ``50%`` (``50\\%``, ``50 percent``) compares with a number
            written without the sign. Two percents compare by their numbers under
            every policy.

            * ``"strict"``: a percent equals only a percent; ``50\\%`` is not
              ``0.5`` and not ``50``.
            * ``"value"``: a percent is its value: ``50\\% == 0.5 == \\frac12``,
              and ``50\\% != 50``.
            * ``"either"`` (default): also ``50\\% == 50``. MATH's references
              write ``25\\%`` and ``25`` for the same kind of question, and its
              graders drop the sign. It opens no hedge: one answer still
              names one number, read two ways.
        significant_digits: how close a decimal approximation must be. A number
            written with a decimal point (``0.333333``) equals an exact value
            (``\\frac13``, ``\\pi``, a longer decimal) when it carries at least
            this many significant digits and lies within one unit of its last
            digit of that value (rounded or truncated). With fewer digits only
            exact equality counts. Default 6: ``0.333333 == \\frac13``,
            ``0.333 != \\frac13``, and ``0.000000`` never equals ``1/2004!``.
            Numbers without a decimal point compare exactly. Decimals inside
            larger expressions (tuples, sets) are left to math-verify, which
            rounds to this many decimal places.
        timeout: seconds one symbolic check may run in the worker process.

    Which answer counts (the final answer, and hedging):

    * ``BOXED``: boxes are also used for intermediate results in a worked
      solution, so the last box is the answer; earlier boxes count only when
      joined to it by nothing but connectives (``or``, ``and``, commas,
      ``x =``, ``\\quad``, math delimiters, line breaks), as in
      ``\\boxed{4} or \\boxed{5}`` or several boxes on the final line:
      together they are the final statement. A box announced as the answer
      ("the final answer is \\boxed{..}", "so the answer is ..") is declared
      final: when the last box is declared, every earlier declared box joins
      the final statement too, so two declared final answers are a hedge,
      while a corrected intermediate result ("\\boxed{3}, wait: \\boxed{4}")
      is not.
    * ``R1`` and ``FIREWORKS``: every ``<answer>`` block and every
      ``Final Answer:`` line is declared final, so all of them, and every box
      inside them, make up the final statement.
    * Inside the final statement, ``a \\text{ or } b`` offers alternatives.
    * One distinct answer in the final statement is judged. Several are judged
      together as one list when the reference lists several answers
      (``"-2, 3"``: ``x=-2 \\text{ or } x=3`` is right); against a single
      reference they are a hedge (status ``hedged``, 0) unless every one of
      them equals the reference (``\\boxed{\\frac12} = \\boxed{0.5}``).
      ``\\boxed{4, 5}`` is one answer, a list, and is ``wrong`` against 4.

    Statuses: ``ok``; ``wrong`` (an answer, not the reference); ``unparseable``
    (no answer in the format, an empty or unbalanced one, one the parser cannot
    read, or one longer than 1,000 characters or nested deeper than 10
    brackets); ``hedged``; ``data_error`` (value None: the reference is missing,
    unreadable, or cannot be parsed within ``timeout``); ``verifier_error``
    (value None: the checker process cannot start or has a bug).

    Time-outs: when the check of an answer runs past ``timeout``, the answer is
    scored ``wrong`` (0, details ``timed_out=True``); a worker process that
    dies on an answer counts the same (details ``checker_died=True``). The
    reference is checked on its own first, so a time-out there is a
    ``data_error``. A time-out is never ``None``: a model must not escape a
    penalty by writing an answer the checker cannot finish.

    The symbolic checks of a process run in one worker process (``WORKER``):
    calls from several threads take turns, and a forked process starts its own.
    ``score_batch`` runs a batch's checks in ``BATCH_WORKERS`` processes at once,
    with the same verdicts.
    """

    answer_format: AnswerFormat = AnswerFormat.BOXED
    answer_field: str = "answer"
    percent: PercentPolicy = "either"
    significant_digits: int = 6
    timeout: float = 3.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "answer_format", AnswerFormat(self.answer_format))
        if self.percent not in _PERCENT_POLICIES:
            raise ValueError(f"percent must be one of {_PERCENT_POLICIES}, got {self.percent!r}")
        if self.significant_digits < 1:
            raise ValueError(f"significant_digits must be at least 1, got {self.significant_digits}")
        if not self.timeout > 0:
            raise ValueError(f"timeout must be positive, got {self.timeout}")

    def __call__(self, completion: str, task: Any) -> Score:
        """Judge ``completion`` against ``task.<answer_field>``."""
        return self._call(completion, task, WORKER)

    def score_batch(self, completions: Sequence[str], tasks: Sequence[Any]) -> list[Score]:
        """Judge many completions, their symbolic checks in ``BATCH_WORKERS`` worker processes at once.

        Returns one ``Score`` per completion, in order, each what ``self(completion, task)`` returns.
        """
        workers = _workers_for_batches()
        free: queue.SimpleQueue[TimedWorker] = queue.SimpleQueue()
        for worker in workers:
            free.put(worker)

        def one(pair: tuple[str, Any]) -> Score:
            worker = free.get()
            try:
                return self._call(pair[0], pair[1], worker)
            finally:
                free.put(worker)

        with ThreadPoolExecutor(len(workers)) as executor:
            return list(executor.map(one, zip(completions, tasks, strict=True)))

    def _call(self, completion: str, task: Any, worker: TimedWorker) -> Score:
        try:
            return self._judge(completion, task, worker)
        except (WorkerStartError, WorkerError) as error:
            return Score.no_judgement(Status.VERIFIER_ERROR, reason=f"symbolic checker failed: {error}"[:500])

    # --- the steps ----------------------------------------------------------

    def _judge(self, completion: str, task: Any, worker: TimedWorker) -> Score:
        raw_reference = getattr(task, self.answer_field, None)
        reference = _reference(raw_reference)
        if reference is None:
            return Score.no_judgement(
                Status.DATA_ERROR, reason=f"reference {self.answer_field}={raw_reference!r:.200} is not a math answer"
            )
        expected = reference.text[:_DETAIL_CHARS]
        if (least_digits(reference.value.text) or 0) > MAX_EXACT_DIGITS:
            reason = f"the reference has more than {MAX_EXACT_DIGITS:,} digits: too large to compare exactly"
            return Score.no_judgement(Status.UNDECIDABLE, expected=expected, reason=reason)
        if reference.value.number is None:
            try:
                parses = _reference_parses(reference.value.text, self.timeout, worker)
            except (WorkerTimeout, WorkerCrashed):
                return Score.no_judgement(
                    Status.DATA_ERROR, expected=expected, reason=f"reference not parsed within {self.timeout:g} s"
                )
            if not parses:
                return Score.no_judgement(Status.DATA_ERROR, expected=expected, reason="reference cannot be parsed")

        final = self._final_statement(answer_text(completion))
        if final is None:
            return Score.fail(Status.UNPARSEABLE, expected=expected, extracted=None)
        texts, extracted = final
        details: dict[str, Any] = {"expected": expected, "extracted": extracted[:_DETAIL_CHARS]}
        limit = max(_MAX_ANSWER_CHARS, 2 * len(reference.text))
        depth = max(_MAX_DEPTH, _depth(reference.text) + 2)
        parts: list[_Answer] = []
        pieces = dict.fromkeys(piece for text in dict.fromkeys(texts) for piece in _flatten_boxes(text, limit))
        for piece in pieces:
            refusal = _refusal(piece, limit, depth)
            if refusal:
                return Score.fail(Status.UNPARSEABLE, **details, reason=refusal)
            parts.extend(_Answer.of(alternative) for alternative in _alternatives(piece))
        distinct = list({part.key: part for part in parts if part.value.text}.values())
        if not distinct:
            return Score.fail(Status.UNPARSEABLE, **details, reason="empty answer")

        if len(distinct) == 1:
            return self._verdict(reference, distinct[0], details, worker)
        if reference.several:
            if len(distinct) > max(_MAX_PARTS, reference.count):
                return Score.fail(Status.HEDGED, **details)
            return self._verdict(reference, _Answer.of(", ".join(part.text for part in distinct)), details, worker)
        if len(distinct) > _MAX_PARTS:
            return Score.fail(Status.HEDGED, **details)
        for part in distinct:
            if self._verdict(reference, part, details, worker).status is not Status.OK:
                return Score.fail(Status.HEDGED, **details)
        return Score.correct(**details)

    def _final_statement(self, completion: str) -> tuple[list[str], str] | None:
        """The texts of the final statement (see the class docstring) and the text to log, or None."""
        if self.answer_format is AnswerFormat.BOXED:
            spans = boxed_spans(completion)
            if not spans:
                return None
            first = len(spans) - 1
            while first > 0 and _is_connective(completion[spans[first - 1][1] : spans[first][0]]):
                first -= 1
            chosen = set(range(first, len(spans)))
            declared = {i for i in range(len(spans)) if _declared_final(completion, spans, i)}
            if len(spans) - 1 in declared:
                chosen |= declared
            return [spans[i][2] for i in sorted(chosen)], spans[-1][2]
        candidates = extract_all(completion, self.answer_format)
        if not candidates:
            return None
        if self.answer_format is AnswerFormat.LAST_NUMBER:
            return [candidates[-1]], candidates[-1]
        return candidates, candidates[-1]

    def _verdict(self, reference: _Reference, answer: _Answer, details: dict[str, Any], worker: TimedWorker) -> Score:
        """Score of one answer (one part, or a list) against the reference."""
        pairs = _pairs(reference.value, reference.percent, answer.value, answer.percent, self.percent)
        if not pairs:
            return Score.fail(Status.WRONG, **details, reason=f"percent against plain number, percent={self.percent!r}")
        symbolic = []
        for ref, ans in pairs:
            if ref.number is not None and ans.number is not None:
                if _decimals_match(ref.number, ans.number, self.significant_digits):
                    return Score.correct(**details)
            else:
                symbolic.append((ref.text, ans.text))
        decidable = [(ref, ans) for ref, ans in symbolic if (least_digits(ans) or 0) <= MAX_EXACT_DIGITS]
        if symbolic and not decidable:  # a tower or a factorial of a factorial: not worth a symbolic check
            return Score.fail(Status.WRONG, **details, reason=f"the answer has more than {MAX_EXACT_DIGITS:,} digits")
        symbolic = decidable
        if not symbolic:
            return Score.fail(Status.WRONG, **details)
        try:
            outcome = worker.call(_check_pairs, symbolic, self.significant_digits, timeout=self.timeout)
        except WorkerTimeout:
            return Score.fail(Status.WRONG, **details, timed_out=True, reason=f"check ran past {self.timeout:g} s")
        except WorkerCrashed:
            return Score.fail(Status.WRONG, **details, checker_died=True, reason="checker process died on this answer")
        if outcome == "equal":
            return Score.correct(**details)
        if outcome == "unequal":
            return Score.fail(Status.WRONG, **details)
        if outcome == "answer_unparseable":
            return Score.fail(Status.UNPARSEABLE, **details, reason="answer cannot be parsed")
        if outcome == "undecidable":
            return Score.no_judgement(Status.UNDECIDABLE, **details, reason="values too large to compare exactly")
        return Score.no_judgement(Status.DATA_ERROR, **details, reason="reference cannot be parsed")


# --- values, references and answers ---------------------------------------------


@dataclass(frozen=True)
class _Value:
    """Text for the symbolic checker and, for a plain number, its exact value."""

    text: str
    number: Decimal | None

    @classmethod
    def of(cls, text: str) -> _Value:
        number = parse_number(text)
        if number is not None:
            return cls(format(number, "f"), number)
        return cls(text, None)

    def hundredth(self) -> _Value:
        """This value divided by 100 (what ``x%`` means)."""
        if self.number is not None:
            number = self.number.scaleb(-2, context=_EXACT)
            return _Value(format(number, "f"), number)
        return _Value(f"\\frac{{{self.text}}}{{100}}", None)


@dataclass(frozen=True)
class _Answer:
    """One answer read from the completion: its value and whether it was written as a percent."""

    text: str
    value: _Value
    percent: bool

    @classmethod
    def of(cls, text: str) -> _Answer:
        cleaned = _clean(text)
        body, percent = _split_percent(cleaned)
        return cls(cleaned, _Value.of(body), percent)

    @property
    def key(self) -> tuple[Any, bool]:
        """Equal for answers that are the same as written (same number, or same text up to spaces)."""
        value = self.value.number if self.value.number is not None else re.sub(r"\s+", "", self.value.text)
        return value, self.percent


@dataclass(frozen=True)
class _Reference:
    text: str
    value: _Value
    percent: bool
    count: int  # answers the reference lists ("-2, 3": 2)

    @property
    def several(self) -> bool:
        return self.count > 1


def _reference(raw: Any) -> _Reference | None:
    """The reference as a value, or None when it is not a usable math answer."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        raw = str(raw)
    elif isinstance(raw, Decimal):
        if not raw.is_finite():
            return None
        raw = format(raw, "f")
    elif isinstance(raw, Fraction):
        raw = f"\\frac{{{raw.numerator}}}{{{raw.denominator}}}"
    if not isinstance(raw, str):
        return None
    text = _clean(raw)
    inner = _whole_box(text)
    if inner is not None:
        text = _clean(inner)
    if not text or not _balanced(text):
        return None
    alternatives = _alternatives(text)
    body, percent = _split_percent(text) if len(alternatives) == 1 else (", ".join(alternatives), False)
    value = _Value.of(body)
    count = 1 if value.number is not None else len(_top_level_split(body))
    return _Reference(text, value, percent, count)


def _pairs(ref: _Value, ref_percent: bool, ans: _Value, ans_percent: bool, policy: str) -> list[tuple[_Value, _Value]]:
    """The (reference, answer) readings to compare under the percent policy; equal if any pair is."""
    if ref_percent == ans_percent:
        return [(ref, ans)]
    if policy == "strict":
        return []
    as_value = (ref.hundredth(), ans) if ref_percent else (ref, ans.hundredth())
    return [as_value] if policy == "value" else [as_value, (ref, ans)]


def _decimals_match(a: Decimal, b: Decimal, digits: int) -> bool:
    """Two plain numbers are equal, or the one written with a decimal point approximates the other.

    The approximation ``d`` (the side with a decimal point and fewer decimals)
    must carry at least ``digits`` significant digits and lie within one unit
    of its last digit of the other value.
    """
    if a == b:
        return True
    d, v = (a, b) if _places(a) <= _places(b) else (b, a)
    if _places(d) == 0:
        d, v = v, d
    if _places(d) == 0 or _significant(d) < digits:
        return False
    return _EXACT.abs(_EXACT.subtract(d, v)) < Decimal(1).scaleb(-_places(d), context=_EXACT)


def _places(number: Decimal) -> int:
    exponent = number.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _significant(number: Decimal) -> int:
    digits = number.as_tuple().digits
    nonzero = next((i for i, digit in enumerate(digits) if digit), len(digits))
    return len(digits) - nonzero


# --- reading text -------------------------------------------------------------

_DELIMITERS = (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]"))
_THOUSANDS_SPACE = re.compile(r"(?<=\d)(?:\\,|\\!|\\ |~|\{,\})(?=\d{3}(?!\d))")
_PERCENT = re.compile(r"\s*(?:\\?%|\\text\{\s*\\?%\s*\}|\\(?:text|mbox|mathrm)\{\s*percent\s*\}|percent)\s*$", re.I)
_OR = re.compile(r"\\(?:text|textrm|textnormal|textbf|mbox|mathrm)\s*\{\s*or\s*\}|\bor\b", re.I)
_WRAPPED_WORD = re.compile(r"\\(?:text|textrm|textnormal|textbf|textit|mbox|mathrm)\s*\{([^{}]{0,40})\}")
_CONNECTIVE = re.compile(
    r"(?:\s|[$,;.:&=*~]|\\[\[\]()\\,;:! ]|\\q?quad\b|\b[a-zA-Z](?:_\{?\w{1,3}\}?)?\s*="
    r"|\b(?:or|and|either|maybe|perhaps|possibly|alternatively|also)\b)*",
    re.I,
)
_OPEN, _CLOSE = "([{", ")]}"
_DEGREES = re.compile(r"\s*(?:\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|°|\\degree)\s*$")
_REPEATING = re.compile(r"(-?)(\d*)\.(\d*)\\overline\s*\{\s*(\d{1,30})\s*\}")


_DECLARES_FINAL = re.compile(r"\b(?:final answer|answer is|answer:)", re.I)
_DECLARATION_CHARS = 80  # how far before a box its announcement may stand


def _declared_final(text: str, spans: list[tuple[int, int, str]], index: int) -> bool:
    """True when the text just before box ``index`` (and after the previous box) announces it as the answer."""
    start = spans[index][0]
    previous_end = spans[index - 1][1] if index else 0
    return _DECLARES_FINAL.search(text, max(previous_end, start - _DECLARATION_CHARS), start) is not None


def _is_connective(gap: str) -> bool:
    """True when the text between two boxes only joins them (``or``, commas, delimiters, spacing)."""
    if len(gap) > _MAX_GAP_CHARS:
        return False
    return _CONNECTIVE.fullmatch(_WRAPPED_WORD.sub(r" \1 ", gap)) is not None


def _whole_box(text: str) -> str | None:
    """The content of ``\\boxed{...}`` when that box is the whole text."""
    spans = boxed_spans(text)
    if len(spans) == 1 and spans[0][0] == 0 and spans[0][1] == len(text):
        return spans[0][2]
    return None


def _flatten_boxes(text: str, limit: int) -> Iterator[str]:
    """The contents of the boxes in ``text`` (boxes in boxes unpacked), or ``text`` if it has none."""
    contents = boxed_all(text)
    if not contents:
        yield text
        return
    for content in contents:
        if len(content) > limit:
            yield content  # refused later for its length; not unpacked, to stay linear
        else:
            yield from _flatten_boxes(content, limit)


def _clean(text: str) -> str:
    """Without surrounding whitespace, math delimiters and a closing full stop; thousands written plainly."""
    text = text.strip()
    changed = True
    while changed:
        changed = False
        if text.endswith(".") and not text.endswith("\\."):
            text, changed = text[:-1].rstrip(), True
        for left, right in _DELIMITERS:
            if len(text) >= len(left) + len(right) and text.startswith(left) and text.endswith(right):
                inner = text[len(left) : len(text) - len(right)]
                if left not in inner and right not in inner:  # one pair, not "$4$ or $5$"
                    text, changed = inner.strip(), True
                    break
    if len(text) > 4 * _MAX_ANSWER_CHARS:
        return text
    text = _REPEATING.sub(_repeating_as_fraction, _DEGREES.sub("", text))
    return _THOUSANDS_SPACE.sub(",", text)


def _repeating_as_fraction(match: re.Match[str]) -> str:
    """``0.1\\overline{6}`` as ``\\frac{1}{6}``: the repeating decimal's exact value."""
    sign, whole, fixed, repeating = match.group(1), match.group(2) or "0", match.group(3), match.group(4)
    numerator = int(whole + fixed + repeating) - int(whole + fixed)
    fraction = Fraction(numerator, (10 ** len(repeating) - 1) * 10 ** len(fixed))
    return f"{sign}\\frac{{{fraction.numerator}}}{{{fraction.denominator}}}"


def _split_percent(text: str) -> tuple[str, bool]:
    """(the text without a closing percent sign, whether it had one)."""
    match = _PERCENT.search(text, max(0, len(text) - 40))  # only the end can hold the sign: linear time
    if match is None or match.start() == 0:
        return text, False
    return text[: match.start()].strip(), True


def _alternatives(text: str) -> list[str]:
    """The alternatives offered by ``a \\text{ or } b`` (one item when there is no "or")."""
    pieces = [_clean(piece) for piece in _OR.split(text)] if len(text) <= 4 * _MAX_ANSWER_CHARS else [text]
    return [piece for piece in pieces if piece] or [text]


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def _depth(text: str) -> int:
    """Deepest nesting of (), [] and {} (any closing bracket closes any opening one)."""
    depth = deepest = 0
    for char in text:
        if char in _OPEN:
            depth += 1
            deepest = max(deepest, depth)
        elif char in _CLOSE:
            depth = max(depth - 1, 0)
    return deepest


def _top_level_split(text: str) -> list[str]:
    """``text`` split at commas outside brackets (``\\{1,2\\}`` and ``(1, 2)`` are one item)."""
    pieces, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char in _OPEN:
            depth += 1
        elif char in _CLOSE:
            depth = max(depth - 1, 0)
        elif char == "," and depth == 0:
            pieces.append(text[start:i])
            start = i + 1
    pieces.append(text[start:])
    return [piece for piece in pieces if piece.strip()]


def _refusal(text: str, limit: int, depth: int) -> str | None:
    """Why an answer text is not read at all, or None."""
    if len(text) > limit:
        return f"answer longer than {limit:,} characters"
    if not _balanced(text):
        return "unbalanced braces"
    if _depth(text) > depth:
        return f"brackets nested deeper than {depth}"
    return None


# --- the symbolic side: called in the worker process -------------------------------


_parsed_references: dict[tuple[str, float], bool] = {}


def _reference_parses(text: str, timeout: float, worker: TimedWorker) -> bool:
    """Whether a worker can parse the reference (remembered: a GRPO group shares one)."""
    key = (text, timeout)
    if key not in _parsed_references:
        if len(_parsed_references) >= 4096:
            _parsed_references.clear()
        _parsed_references[key] = bool(worker.call(_check_reference, text, timeout=timeout))
    return _parsed_references[key]


def _workers_for_batches() -> list[TimedWorker]:
    """``WORKER`` and ``BATCH_WORKERS - 1`` more, made on first use; a forked process makes its own."""
    with _batch_lock:
        if not _batch_workers or _batch_workers[0] is not WORKER:
            _batch_workers[:] = [WORKER] + [
                TimedWorker(preload=WORKER.preload, memory_limit_mb=2048) for _ in range(BATCH_WORKERS - 1)
            ]
        return list(_batch_workers)


def _check_reference(text: str) -> bool:
    """Worker side: does ``text`` parse?"""
    return _parse_math(text) is not None


def _check_pairs(pairs: list[tuple[str, str]], digits: int) -> str:
    """Worker side: ``"equal"`` if any (reference, answer) pair is equal, else ``"unequal"``,
    ``"answer_unparseable"``, ``"reference_unparseable"`` or ``"undecidable"`` (too large to compare exactly)."""
    outcome = "answer_unparseable"
    for reference_text, written in pairs:
        reference = _parse_math(reference_text)
        if reference is None:
            return "reference_unparseable"
        answer = _parse_math(written)
        if answer is None:
            continue
        try:
            if _equal(reference, answer, reference_text, written, digits):
                return "equal"
        except Undecidable:
            return "undecidable"
        outcome = "unequal"
    return outcome


@lru_cache(maxsize=4096)
def _parse_math(text: str) -> Any:
    """The SymPy object math-verify reads from ``text`` as one boxed answer, or None."""
    import logging

    from math_verify import LatexExtractionConfig, parse

    logging.getLogger("math_verify").setLevel(logging.ERROR)  # no "timeout disabled" warning per process
    found = parse(
        "\\boxed{" + text + "}",
        extraction_config=[LatexExtractionConfig(boxed_match_priority=0)],
        fallback_mode="no_fallback",
        parsing_timeout=None,  # the worker's time limit applies instead
    )
    return found[0] if found and not isinstance(found[0], str) else None


def _equal(reference: Any, answer: Any, reference_text: str, answer_text: str, digits: int) -> bool:
    """Worker side: equality of two parsed answers (numbers here, the rest by math-verify)."""
    from math_verify import verify
    from sympy import FiniteSet

    reference, answer = _unwrap_assignments(reference, answer)
    if isinstance(reference, FiniteSet) != isinstance(answer, FiniteSet):
        return False  # a set is not a tuple, an interval or a number: \\{1,2\\} != (1,2), \\{1\\} != 1
    infinite = _infinite_constants(reference, answer)
    if infinite is not None:
        return infinite
    answer_decimal, reference_decimal = _written_decimal(answer_text), _written_decimal(reference_text)
    exact_reference, exact_answer = _exact_number(reference), _exact_number(answer)
    if answer_decimal is not None and exact_reference is not None:
        return _approximates(answer_decimal, exact_reference, digits)
    if reference_decimal is not None and exact_answer is not None:
        return _approximates(reference_decimal, exact_answer, digits)
    if exact_reference is not None and exact_answer is not None:
        return _same_number(exact_reference, exact_answer)
    return bool(verify(reference, answer, float_rounding=digits, timeout_seconds=None))


def _infinite_constants(reference: Any, answer: Any) -> bool | None:
    """For two constants of which one is not finite: whether they are the same infinity; else None.

    math-verify's ``simplify(a - b).is_zero`` calls ``12`` and ``e \\cdot 0.3 \\cdot \\infty`` equal.
    """
    from sympy import Expr

    if not (isinstance(reference, Expr) and reference.is_number and isinstance(answer, Expr) and answer.is_number):
        return None
    try:
        reference, answer = reference.evalf(30), answer.evalf(30)
        if reference.is_finite is True and answer.is_finite is True:
            return None
        return bool(reference.is_infinite is True and reference == answer)
    except (TypeError, ValueError, ArithmeticError):
        return False


def _unwrap_assignments(reference: Any, answer: Any) -> tuple[Any, Any]:
    """``x = 3`` against ``3``: both 3; ``x = 3`` against ``x = 3.0``: 3 and 3.0; ``x = 3`` against ``y = 3``: kept."""
    from sympy import Eq, Symbol
    from sympy.core.relational import Relational

    def assignment(expr: Any) -> bool:
        return isinstance(expr, Eq) and isinstance(expr.lhs, Symbol)

    if assignment(reference) and assignment(answer):
        return (reference.rhs, answer.rhs) if reference.lhs == answer.lhs else (reference, answer)
    if assignment(reference) and not isinstance(answer, Relational):
        return reference.rhs, answer
    if assignment(answer) and not isinstance(reference, Relational):
        return reference, answer.rhs
    return reference, answer


def _written_decimal(text: str) -> Decimal | None:
    """The number when ``text`` is a plain number written with a decimal point."""
    number = parse_number(text)
    return number if number is not None and _places(number) > 0 else None


def _exact_number(expr: Any) -> Any:
    """``expr`` when it is a constant without floating-point parts (``\\frac{1}{2004!}``, ``2\\sqrt2``), else None."""
    from sympy import Expr, Float

    if isinstance(expr, Expr) and expr.is_number and not expr.has(Float):
        return expr
    return None


def _same_number(reference: Any, answer: Any) -> bool:
    """Two exact constants are equal: exactly for rationals, else when their difference has no nonzero digit.

    Rationals (integers of any size among them: ``2^{2023}+1``, ``2024!``)
    are evaluated and compared exactly. Otherwise the difference is evaluated
    with 50 digits more than the larger value has before its decimal point,
    so that ``10^{1000}\\pi + 1 - 10^{1000}\\pi`` still shows its 1; a true
    identity such as ``\\sqrt{3+2\\sqrt2} = 1+\\sqrt2`` leaves none.
    math-verify instead compares ``(a - b).evalf(chop=True)`` with 0, which
    calls ``1/2004!`` and ``1/2006!`` equal (both are below the chop
    threshold), and SymPy's default working precision (100 digits) calls
    ``2^{2023}+1`` and ``2^{2023}-1`` equal.

    An answer with more digits than ``MAX_EXACT_DIGITS`` is not the
    reference (which has fewer, or the question was undecidable to begin with).

    Raises:
        Undecidable: the reference has more digits than ``MAX_EXACT_DIGITS``.
    """
    if reference == answer:
        return True
    try:
        reference_digits = _digits_before_point(reference)
        try:
            answer_digits = _digits_before_point(answer)
        except Undecidable:
            return False
        if reference.is_rational and answer.is_rational:
            return bool(reference.doit() == answer.doit())  # exact: at most MAX_EXACT_DIGITS digits each
        if reference.evalf(15).is_finite is not True or answer.evalf(15).is_finite is not True:
            return False  # 1 is not 1/0: infinities and nan equal only themselves (above)
        return not _known_nonzero(_difference(reference, answer, 50 + max(reference_digits, answer_digits)))
    except (TypeError, ValueError, ArithmeticError):
        return False


def _digits_before_point(expr: Any) -> int:
    """Digits of ``expr``'s integer part (a 15-digit estimate of its size); ``Undecidable`` past the limit."""
    from sympy import log

    magnitude = abs(expr.evalf(15))
    if magnitude.is_zero:
        return 0
    if not magnitude.is_finite:
        raise Undecidable("a value too large to estimate")
    digits = int(log(magnitude, 10).evalf(15)) + 1
    if digits > MAX_EXACT_DIGITS:
        raise Undecidable(f"a value with more than {MAX_EXACT_DIGITS:,} digits")
    return max(digits, 0)


def _difference(a: Any, b: Any, digits: int) -> Any:
    """``a - b`` evaluated numerically to ``digits`` digits, with working precision enough for the cancellation."""
    from sympy import Add, Mul, S

    return Add(a, Mul(S.NegativeOne, b, evaluate=False), evaluate=False).evalf(digits, maxn=digits + 100)


def _known_nonzero(value: Any) -> bool:
    """An evaluated number has a real or imaginary part with at least one significant digit."""
    return any(part != 0 and part.is_comparable for part in value.as_real_imag())


def _approximates(decimal: Decimal, exact: Any, digits: int) -> bool:
    """``decimal`` (as written) approximates the constant ``exact`` (see ``_decimals_match``)."""
    from sympy import Rational

    written = Rational(format(decimal, "f"))
    if _significant(decimal) < digits:
        return _same_number(written, exact)
    try:
        difference = _difference(exact, written, 30)
        if not _known_nonzero(difference):
            return True
        return bool(abs(difference) < Rational(1, 10 ** _places(decimal)))
    except (TypeError, ValueError, ArithmeticError):
        return False
