"""Turning an extracted answer into a number, strictly.

``parse_number`` accepts the ways people write one number (``-1,234``,
``1234.0``, ``$1234$``, ``\\boxed{1234}``, a Unicode minus) and nothing else:
``12 or 13``, ``1234 apples`` and ``12/3`` are not numbers. Being strict here is
what stops a model from scoring by writing several numbers at once.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from rlvr.verifiers.extract import matching_brace

__all__ = ["format_number", "parse_number"]

_MAX_CHARS = 200  # longer "numbers" are junk; parsing stays O(1) past the strip
_GROUPED = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", re.ASCII)  # ASCII digits: "５" is no 5 here
_PLAIN = re.compile(r"\d+(?:\.\d+)?|\.\d+", re.ASCII)
_WRAPPERS = (("$", "$"), ("\\(", "\\)"), ("\\[", "\\]"), ("**", "**"), ("`", "`"))


def _unwrap(text: str) -> str:
    """Strip math delimiters, markdown emphasis and one ``\\boxed{}`` around the answer."""
    text = text.strip()
    changed = True
    while changed and text:
        changed = False
        for left, right in _WRAPPERS:
            if len(text) >= len(left) + len(right) and text.startswith(left) and text.endswith(right):
                text = text[len(left) : len(text) - len(right)].strip()
                changed = True
        inner = _whole_box(text)
        if inner is not None:
            text = inner
            changed = True
    return text


def _whole_box(text: str) -> str | None:
    """The content of ``\\boxed{...}`` when the box is the whole text, else None.

    ``\\boxed{12} or \\boxed{13}`` is not one box: unwrapping only its last box
    would turn a hedge into an answer.
    """
    for command in ("\\boxed", "\\fbox"):
        if not text.startswith(command):
            continue
        rest = text[len(command) :]
        if rest.startswith("{"):
            close = matching_brace(rest, 0)
            return rest[1:close].strip() if close == len(rest) - 1 else None
        token = rest.strip()
        return token if rest.startswith(" ") and token and " " not in token else None
    return None


def parse_number(text: str | None) -> Decimal | None:
    """The single number written in ``text``, or None if it is not exactly one number.

    Accepts a sign (``+``, ``-``, ``−``), thousands separators in groups of three
    (``1,234,567``), a decimal part, surrounding ``$...$``/``\\(...\\)``/``**``,
    ``\\boxed{}`` and a trailing full stop. Returns an exact ``Decimal``.
    """
    if text is None or len(text) > 4 * _MAX_CHARS:
        return None
    body = text.strip()
    # One closing full stop is allowed, outside the delimiters ("$5$.") or inside ("$5.$").
    body = _unwrap(body[:-1]) if body.endswith(".") else _unwrap(body).removesuffix(".").strip()
    if len(body) > _MAX_CHARS or not body:
        return None
    sign = ""
    if body[0] in "+-−":
        sign = "-" if body[0] in "-−" else ""
        body = body[1:].lstrip()
    if _GROUPED.fullmatch(body):
        body = body.replace(",", "")
    elif not _PLAIN.fullmatch(body):
        return None
    try:
        return Decimal(sign + body)
    except InvalidOperation:  # pragma: no cover - the patterns admit only valid literals
        return None


def format_number(value: Decimal | int) -> str:
    """A number written the plain way (``1234``, ``-0.5``): no exponent, no trailing zeros."""
    if isinstance(value, int):
        return str(value)
    normal = value.normalize()
    if normal == normal.to_integral_value():
        return str(int(normal))
    return format(normal, "f")
