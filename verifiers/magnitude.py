"""How many digits a number written in LaTeX has at least, read from its structure without computing it.

``9^{9^{9^{9}}}``, ``((10!)!)!`` and ``e^{e^{e^{100}}}`` are short to write and
take a computer algebra system minutes (or all memory) to evaluate. The math
verifier asks ``least_digits`` first: an answer that has more digits than any
reference it is compared with cannot equal it, and is refused at once.

``least_digits`` reads plain arithmetic: integers and decimals, ``+ - *``,
``\\cdot``, ``\\times``, ``/``, ``\\frac``, ``\\binom``, ``^``, ``!``,
``\\sqrt``, ``e`` and ``\\pi``, brackets. It tracks a lower bound of
``log10 |value|`` (minus infinity when the value may be 0, as in ``a - b``)
and returns a lower bound on the number of digits before the decimal point;
``None`` for anything else (a variable, a set, a matrix), which is left to the
symbolic checker. Bounds are computed in floating point on logarithms, so
towers give ``math.inf`` instead of overflowing. Linear in the text; nesting
is bounded by the caller's depth limit.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

__all__ = ["least_digits"]

_LOG2 = math.log10(2)
_TOKEN = re.compile(
    r"\s*(?:(\d+(?:\.\d*)?|\.\d+)|(\\[a-zA-Z]+)|([-+*/^!(){}\[\]])|(e))",
)
_SKIPPED = {"\\left", "\\right", "\\!", "\\,", "\\;", "\\:", "\\displaystyle"}
_TIMES = {"*", "\\cdot", "\\times"}
_FRACTIONS = {"\\frac", "\\dfrac", "\\tfrac"}


@dataclass(frozen=True)
class _Bound:
    """A lower bound of ``log10 |x|`` (``-inf``: x may be 0) and whether x is surely positive."""

    low: float
    positive: bool


class _NotArithmetic(Exception):
    """The text is not plain arithmetic."""


def least_digits(text: str) -> float | None:
    """A lower bound on the number of digits of ``text``'s value before the decimal point, or None.

    ``least_digits("2^{2023}-1")`` is 609.0 (the value has 609 digits);
    ``least_digits("9^{9^{9^{9}}}")`` is ``math.inf``; ``least_digits("x^2")``
    is None. The bound is 0.0 for values that may be below 1 (``0.5``,
    ``a - b``). Never raises.
    """
    try:
        tokens = _tokens(text)
        parser = _Parser(tokens)
        bound = parser.expression()
        if parser.position != len(tokens):
            return None
    except (_NotArithmetic, RecursionError, OverflowError, ValueError):
        return None
    if bound.low == -math.inf:
        return 0.0
    return math.inf if bound.low == math.inf else max(0.0, math.floor(bound.low) + 1.0)


def _tokens(text: str) -> list[str]:
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            if text[position:].strip():
                raise _NotArithmetic(text[position : position + 10])
            break
        position = match.end()
        token = match.group(match.lastindex or 0)
        if token not in _SKIPPED:
            tokens.append(token)
    return tokens


class _Parser:
    """Recursive descent over the tokens, computing bounds (precedence: sums, products, powers, factorials)."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens, self.position = tokens, 0

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise _NotArithmetic(f"expected {expected!r}, got {token!r}")
        self.position += 1
        return token

    def expression(self) -> _Bound:
        terms = [self.term()]
        signs = [True]
        while self.peek() in ("+", "-"):
            signs.append(self.take() == "+")
            terms.append(self.term())
        if len(terms) == 1:
            return terms[0]
        return _sum(terms, signs)

    def term(self) -> _Bound:
        bound = self.signed()
        while True:
            token = self.peek()
            if token in _TIMES:
                self.take()
                bound = _product(bound, self.signed())
            elif token == "/":
                self.take()
                bound = _quotient(bound, self.signed())
            elif token is not None and token not in ("+", "-", ")", "}", "]", "^", "!"):
                bound = _product(bound, self.signed())  # juxtaposition: 2\pi, 3(4)
            else:
                return bound

    def signed(self) -> _Bound:
        if self.peek() == "-":
            self.take()
            return _Bound(self.power().low, False)
        if self.peek() == "+":
            self.take()
        return self.power()

    def power(self) -> _Bound:
        base = self.factorial()
        if self.peek() != "^":
            return base
        self.take()
        exponent = self.exponent()
        return _power(base, exponent)

    def exponent(self) -> _Bound:
        """A power's exponent: a braced group, or one token (``2^3``, ``2^x``), itself possibly a power."""
        if self.peek() == "{":
            self.take()
            bound = self.expression()
            self.take("}")
            return bound
        token = self.take()
        if token.isdigit():  # 2^3: one digit (LaTeX reads 2^34 as 2^3 times 4)
            return _number(token[0])
        raise _NotArithmetic(f"exponent {token!r}")

    def factorial(self) -> _Bound:
        bound = self.atom()
        while self.peek() == "!":
            self.take()
            bound = _factorial(bound)
        return bound

    def atom(self) -> _Bound:
        token = self.take()
        if token[0].isdigit() or token[0] == ".":
            return _number(token)
        if token in ("(", "{", "["):
            bound = self.expression()
            self.take({"(": ")", "{": "}", "[": "]"}[token])
            return bound
        if token in _FRACTIONS:
            return _quotient(self.group(), self.group())
        if token == "\\binom":
            self.group()
            self.group()
            return _Bound(0.0, True)  # at least 1 (for 0 <= k <= n); no more is claimed
        if token == "\\sqrt":
            root = 2.0
            if self.peek() == "[":
                self.take()
                index = self.expression()
                self.take("]")
                root = 10**index.low if index.low != -math.inf else math.inf
            radicand = self.group()
            return _Bound(radicand.low / root if radicand.low != -math.inf else -math.inf, radicand.positive)
        if token in ("e", "\\e"):
            return _Bound(math.log10(math.e), True)
        if token == "\\pi":
            return _Bound(math.log10(math.pi), True)
        raise _NotArithmetic(token)

    def group(self) -> _Bound:
        self.take("{")
        bound = self.expression()
        self.take("}")
        return bound


def _number(token: str) -> _Bound:
    value = float(token)
    return _Bound(math.log10(value) if value > 0 else -math.inf, value > 0)


def _sum(terms: list[_Bound], signs: list[bool]) -> _Bound:
    """A sum's bound: the largest term's, when it surely outweighs all the others (else it may cancel to 0)."""
    largest = max(range(len(terms)), key=lambda i: terms[i].low)
    low = terms[largest].low
    others = [term for i, term in enumerate(terms) if i != largest]
    if low == -math.inf:
        return _Bound(-math.inf, False)
    # Without upper bounds for the others, only a sum of surely positive terms is known not to cancel.
    if all(sign for sign in signs) and all(term.positive for term in terms):
        return _Bound(low, True)
    if not others:
        return terms[largest]
    return _Bound(-math.inf, False)


def _product(a: _Bound, b: _Bound) -> _Bound:
    if a.low == -math.inf or b.low == -math.inf:
        return _Bound(-math.inf, False)
    return _Bound(a.low + b.low, a.positive and b.positive)


def _quotient(a: _Bound, b: _Bound) -> _Bound:
    """No upper bound on the divisor is kept, so a quotient is only known to be possibly small."""
    return _Bound(-math.inf, a.positive and b.positive)


def _power(base: _Bound, exponent: _Bound) -> _Bound:
    """``base^exponent`` is huge when the base is at least 2 and the exponent surely positive and large."""
    if not exponent.positive or base.low < _LOG2 or exponent.low == -math.inf:
        return _Bound(-math.inf, base.positive)
    times = 10**exponent.low if exponent.low < 308 else math.inf
    return _Bound(times * base.low, base.positive)


def _factorial(argument: _Bound) -> _Bound:
    """``n!`` for n of at least ``10^low``: ``log10 n! >= n log10(n/e)`` (Stirling), past small n."""
    if argument.low == -math.inf or argument.low < 1:
        return _Bound(0.0, True)  # n! >= 1
    n = 10**argument.low if argument.low < 308 else math.inf
    if n == math.inf:
        return _Bound(math.inf, True)
    return _Bound(n * (math.log10(n) - math.log10(math.e)), True)
