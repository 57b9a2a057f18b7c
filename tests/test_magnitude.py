"""verifiers/magnitude.py: a sound lower bound on the digits of plain arithmetic, read without evaluating it."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rlvr.verifiers.magnitude import least_digits


def digits(value: int) -> int:
    return len(str(abs(value))) if value else 0


# (LaTeX, exact value) pairs built from small integers, kept small enough to evaluate
LEAVES = st.integers(0, 60).map(lambda n: (str(n), n))


def combine(children):
    def join(pair):
        (left, a), (right, b) = pair
        return st.sampled_from(
            [
                (f"{left}+{right}", a + b),
                (f"{left}-{right}", a - b),
                (f"{left}\\cdot {right}", a * b),
                (f"({left})({right})", a * b),
                (f"{{{left}}}^{{{min(b, 6)}}}", a ** min(b, 6)),
                (f"({left})!", math.factorial(a)) if 0 <= a <= 30 else (f"({left})", a),
            ]
        )

    return st.tuples(children, children).flatmap(join)


EXPRESSIONS = st.recursive(LEAVES, combine, max_leaves=6)


@given(EXPRESSIONS)
def test_the_bound_never_exceeds_the_digits_of_the_value(pair):
    text, value = pair
    bound = least_digits(text)
    assert bound is not None, text
    assert bound <= digits(value), (text, value)


@pytest.mark.parametrize(
    ("text", "at_least"),
    [("2^{2023}", 609), ("2024!", 5800), ("10^{1000}+1", 1000), ("2\\cdot 10^{500}", 500), ("e^{100}", 43)],
)
def test_large_values_are_recognised_from_their_structure(text, at_least):
    assert least_digits(text) >= at_least


@pytest.mark.parametrize("text", ["9^{9^{9^{9}}}", "((10!)!)!", "e^{e^{e^{100}}}", "2^{2^{2^{2^{2^{2}}}}}"])
def test_towers_and_factorials_of_factorials_are_infinite(text):
    assert least_digits(text) == math.inf


@pytest.mark.parametrize(
    "text",
    ["2^{2023}-2^{2023}", "\\frac{10^{1000}}{10^{1000}}", "\\binom{2024}{0}", "0^{10^{10}}", "(1/2)^{10^{10}}"],
)
def test_values_that_may_be_small_get_no_large_bound(text):
    assert least_digits(text) <= 1


@pytest.mark.parametrize("text", ["x^2", "\\{1, 2\\}", "\\sin(3)", "", "2^", "((1)", "\\begin{pmatrix}1\\end{pmatrix}"])
def test_what_is_not_plain_arithmetic_gets_none(text):
    assert least_digits(text) is None


@given(st.text(max_size=60))
def test_any_text_gives_a_bound_or_none_and_never_raises(text):
    bound = least_digits(text)
    assert bound is None or bound >= 0
