"""The calculator tool: exact values, Python's arithmetic and nothing else, bounded sizes."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rlvr.envs.arithmetic.calculator import CALCULATOR, calculate

integers = st.integers(min_value=-(10**12), max_value=10**12)


@given(integers, integers, st.sampled_from(["+", "-", "*"]))
def test_integer_arithmetic_is_exact(a, b, op):
    expected = {"+": a + b, "-": a - b, "*": a * b}[op]
    assert calculate(f"{a} {op} ({b})") == str(expected)


@given(integers, integers.filter(bool))
def test_division_is_exact_and_written_as_a_fraction_when_it_does_not_divide(a, b):
    value = Fraction(a, b)
    expected = str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    assert calculate(f"{a} / ({b})") == expected


def test_precedence_parentheses_powers_and_the_other_operators():
    assert calculate("2 + 3 * 4") == "14" and calculate("(2 + 3) * 4") == "20"
    assert calculate("2 ** 10 - 1") == "1023" and calculate("17 // 5") == "3" and calculate("17 % 5") == "2"
    assert calculate("1234 * 56") == "69104" and calculate("-(3)") == "-3"


@pytest.mark.parametrize(
    ("expression", "said"),
    [
        ("__import__('os').system('true')", "only numbers"),
        ("x + 1", "only numbers"),
        ("2 ** 100000", "exponents"),
        ("9" * 300, "over 200 characters"),
        ("1 / 0", "division by zero"),
        ("1 +", "not an arithmetic expression"),
        ("True + 1", "only numbers"),
        ("", "give an arithmetic expression"),
    ],
)
def test_anything_else_is_refused_with_the_reason(expression, said):
    with pytest.raises(ValueError, match=said):
        calculate(expression)


@given(st.text(max_size=60))
def test_any_text_gives_a_value_or_a_value_error(text):
    try:
        value = calculate(text)
    except ValueError as error:
        assert str(error)  # the reason the model reads
    else:
        assert Fraction(value) == Fraction(calculate(value))  # a number, written so that it reads back


def test_the_tool_takes_one_expression_argument():
    assert CALCULATOR.parameters["required"] == ["expression"] and CALCULATOR.function("6 * 7") == "42"
