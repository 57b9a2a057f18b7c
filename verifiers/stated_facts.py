"""Does a reply to the user state what a function returned? The check behind executed function calls.

After a model calls a function and reads its result, its reply to the user
should report that result: the temperature, the converted amount, the booking's
confirmation code. ``check_facts`` takes the reply and the facts (values from
the results that a helpful reply states) and says which facts are missing.

* A number fact is stated when a number written in the reply equals it
  exactly: ``12`` for ``12.0``, ``1,234.5`` for ``1234.5``; a fact with more
  than two decimals may be written rounded to two (``18.33`` for ``18.333``).
  Numbers are compared as decimals, so big ones are never "close enough"
  (``1000000000`` is not ``999999999``). Signs are read, so ``-4`` is not ``4``.
* A text fact is stated when the reply contains it, ignoring case and runs of
  white space (``"Light Rain"`` in ``"light  rain expected"``).
* Booleans and other values are not facts a reply states; they are skipped.

Listing candidates in the hope of hitting the right one is refused: a reply
that writes more than ``max_foreign`` runs of digits found nowhere in what it
may fairly repeat (``known``: the request and the results) states nothing
(``hedged``). Digits are ASCII digits only: full-width or other look-alike
digits are not numbers here.

Pure functions, linear in the reply's length; nothing here raises on what a
model wrote.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

__all__ = ["FactCheck", "check_facts", "digit_runs", "numbers_in"]

_NUMBER = re.compile(r"(?<![0-9.])-?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?")
_DIGITS = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class FactCheck:
    """The verdict on one reply.

    Attributes:
        missing: the facts the reply does not state, in the order given.
        hedged: the reply wrote more numbers of its own than allowed (candidates), so it is taken to state nothing.
    """

    missing: tuple[Any, ...]
    hedged: bool = False

    @property
    def ok(self) -> bool:
        """Every fact is stated, and the reply does not hedge with numbers of its own."""
        return not self.missing and not self.hedged


def numbers_in(text: str) -> list[Decimal]:
    """The numbers written in ``text``, in order, exactly (thousands separators read: ``1,234.5`` is 1234.5)."""
    return [Decimal(match.group().replace(",", "")) for match in _NUMBER.finditer(text)]


def digit_runs(text: str) -> list[str]:
    """The runs of ASCII digits in ``text``, thousands separators read and leading zeros dropped
    (``"EVT-04821 at 15:30, 1,250 km"``: 4821, 15, 30, 1250)."""
    return [run.replace(",", "").lstrip("0") or "0" for run in _DIGITS.findall(text)]


def check_facts(reply: str, facts: Sequence[Any], known: str = "", max_foreign: int = 2) -> FactCheck:
    """Which of ``facts`` ``reply`` does not state (see the module docs).

    Args:
        reply: the model's reply to the user (reasoning already removed).
        facts: ints, floats or strings; other values are skipped.
        known: text whose numbers the reply may repeat freely (the request, the results as JSON).
        max_foreign: most runs of digits the reply may write that are neither in ``known`` nor in ``facts``.

    Returns:
        The missing facts, and whether the reply hedged with numbers of its own.
    """
    stated = [fact for fact in facts if _is_fact(fact)]
    allowed = set(digit_runs(known)) | set(digit_runs(" ".join(map(str, stated))))
    if sum(1 for run in digit_runs(reply) if run not in allowed) > max_foreign:
        return FactCheck(tuple(stated), hedged=True)
    numbers = numbers_in(reply)
    folded = _fold(reply)
    missing = tuple(fact for fact in stated if not _states(fact, numbers, folded))
    return FactCheck(missing)


def _is_fact(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return math.isfinite(value)
    return isinstance(value, str) and bool(value.strip())


def _states(fact: int | float | str, numbers: list[Decimal], folded: str) -> bool:
    """A text fact found in the folded reply, or a number fact equal to a number written in it: exactly (as the
    fact's shortest decimal form), or rounded to two decimals."""
    if isinstance(fact, str):
        return _fold(fact) in folded
    exact = Decimal(repr(fact)) if isinstance(fact, float) else Decimal(fact)
    accepted = {exact, exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)}
    return any(number in accepted for number in numbers)


def _fold(text: str) -> str:
    return _SPACE.sub(" ", text).strip().casefold()
