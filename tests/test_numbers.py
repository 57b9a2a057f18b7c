"""parse_number accepts the ways one number is written and nothing else; format_number."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlvr.verifiers.extract import numbers_all
from rlvr.verifiers.numbers import format_number, parse_number
from rlvr.verifiers.strategies import completions


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234", 1234),
        ("-1,234", -1234),
        ("+5", 5),
        ("−7", -7),  # U+2212 MINUS SIGN
        ("1234.0", 1234),
        ("$1234$", 1234),
        ("\\boxed{1234}", 1234),
        ("\\fbox{1234}", 1234),
        ("\\boxed 1234", 1234),
        ("**1234**", 1234),
        ("1234.", 1234),
        ("  1234  ", 1234),
        ("1,234,567", 1234567),
        ("1,234.50", Decimal("1234.5")),
        ("0.5", Decimal("0.5")),
        (".5", Decimal("0.5")),
        ("- 5", -5),
        ("\\(42\\)", 42),
        ("\\[42\\]", 42),
        ("`42`", 42),
        ("$\\boxed{-1,234}$", -1234),
        ("**$\\boxed{42}$**", 42),
        ("\\boxed{42}.", 42),
        ("$42.$", 42),
        ("0", 0),
        ("-0", 0),
    ],
)
def test_parse_number_accepts_one_number(text, expected):
    assert parse_number(text) == expected


@pytest.mark.parametrize("text", ["$1234$.", "**1234**."])
def test_parse_number_accepts_full_stop_after_math_delimiters(text):
    # "The answer is $1234$." - delimiters and a trailing full stop, both documented.
    assert parse_number(text) == 1234


def test_parse_number_returns_an_exact_decimal():
    value = parse_number("0.1")
    assert isinstance(value, Decimal)
    assert value == Decimal("0.1")
    assert parse_number("12345678901234567890123") == 12345678901234567890123


@pytest.mark.parametrize(
    "text",
    [
        "12 or 13",
        "1234 apples",
        "12/3",
        "1,23",
        "12,34,567",
        "1234,567",
        "",
        "   ",
        "$$",
        "**",
        "$5",
        "+-5",
        "--5",
        "5..",
        "1e3",
        "0x10",
        "inf",
        "NaN",
        "one",
        "12 13",
        "12\n13",
        "$12$ or $13$",
        "3.14.15",
    ],
)
def test_parse_number_rejects_what_is_not_exactly_one_number(text):
    assert parse_number(text) is None


def test_parse_number_rejects_none():
    assert parse_number(None) is None


@pytest.mark.parametrize("length", [201, 801, 10_000, 1_000_000])
def test_parse_number_rejects_very_long_strings(length):
    assert parse_number("1" * length) is None


def test_parse_number_rejects_long_wrapped_strings():
    assert parse_number("$" + "1" * 300 + "$") is None


@pytest.mark.parametrize(
    "text",
    [
        "\\boxed{12} or \\boxed{13}",
        "\\boxed{12} apples",
        "\\boxed 12 or 13",
    ],
)
def test_parse_number_rejects_text_around_a_box(text):
    # "Exactly one number": a box followed by more text is not one number.
    # Otherwise "Final Answer: the final answer is \boxed{94312} or \boxed{94311}"
    # is read as 94311 and a hedge scores.
    assert parse_number(text) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1234, "1234"),
        (-7, "-7"),
        (0, "0"),
        (Decimal("1234.0"), "1234"),
        (Decimal("-0.50"), "-0.5"),
        (Decimal("1E+3"), "1000"),
        (Decimal("0.00001"), "0.00001"),
        (Decimal("12.340"), "12.34"),
    ],
)
def test_format_number_writes_the_plain_form(value, expected):
    assert format_number(value) == expected


@given(st.integers())
def test_format_number_round_trips_integers(n):
    assert parse_number(format_number(n)) == n


@given(
    st.decimals(
        min_value=Decimal("-1e12"),
        max_value=Decimal("1e12"),
        places=6,
        allow_nan=False,
        allow_infinity=False,
    )
)
def test_format_number_round_trips_decimals(value):
    text = format_number(value)
    assert "E" not in text and "e" not in text
    assert parse_number(text) == value


@given(st.integers())
def test_str_of_any_int_parses_back(n):
    assert parse_number(str(n)) == n


@given(st.integers())
def test_thousands_grouped_int_parses_back(n):
    assert parse_number(f"{n:,}") == n


@given(st.integers(min_value=-(10**50), max_value=10**50))
def test_wrapped_int_parses_back(n):
    cases = [(f"${n}$", n), (f"\\boxed{{{n:,}}}", n), (f"**{n}**", n), (f"{n}.", n)]
    cases.append((f"−{abs(n)}", -abs(n)))
    for text, expected in cases:
        assert parse_number(text) == expected


@settings(max_examples=200, deadline=None)
@given(completions())
def test_parse_number_never_raises(text):
    value = parse_number(text)
    assert value is None or isinstance(value, Decimal)


@pytest.mark.parametrize("written", ["５２６９０", "٥٢٦٩٠", "५२६९०", "52６90"])
def test_digits_of_other_scripts_are_not_numbers(written):
    assert parse_number(written) is None
    assert all(number.isascii() for number in numbers_all(written))  # only ASCII runs of digits are read
