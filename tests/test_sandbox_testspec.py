"""Test specs: HumanEval and MBPP conversion, test counting, host-side judging of call tests."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rlvr.sandbox.container import wire
from rlvr.sandbox.testspec import AssertTests, CallTests, json_equal

HUMANEVAL_TEST = '''
METADATA = {"author": "jt", "dataset": "test"}


def check(candidate):
    """Checks."""
    import math
    assert candidate(1, 2) == 3
    values = [(2, 2), (3, 4)]
    for a, b in values:
        assert candidate(a, b) == a + b
    assert math.isclose(candidate(0.5, 0.25), 0.75)
'''


def test_humaneval_check_body_becomes_steps_with_one_test_per_assert_statement():
    tests = AssertTests.from_humaneval(HUMANEVAL_TEST, "add")
    assert tests.entry_point == "add"
    assert "METADATA" in tests.preamble and "def check" not in tests.preamble
    assert tests.total == 3  # two asserts and the loop of asserts; the import and the list are set-up
    steps = tests.payload()["steps"]
    assert [step["test"] for step in steps] == [False, True, False, True, True]


def test_humaneval_without_check_is_a_clear_error():
    with pytest.raises(ValueError, match="check"):
        AssertTests.from_humaneval("def test(candidate):\n    assert candidate()\n", "f")
    with pytest.raises(ValueError, match="parse"):
        AssertTests.from_humaneval("def check(:", "f")


def test_mbpp_asserts_are_one_test_each_after_the_setup():
    tests = AssertTests.from_asserts(["assert f(1) == 2", "assert f(2) == 4"], setup="import math")
    assert tests.total == 2 and tests.preamble == "import math"


def test_an_unparseable_test_statement_still_counts_as_a_test():
    assert AssertTests(("assert (",)).total == 1


def test_call_tests_send_arguments_only_and_judge_on_the_host():
    tests = CallTests("f", (((1, [2, 3]), {"a": [1.0, 2]}), (("x",), "y")))
    assert tests.payload() == {"mode": "call", "function": "f", "calls": [[1, [2, 3]], ["x"]]}
    assert tests.judge(0, {"value": wire.dumps({"a": [1.0000000000001, 2]})}) == (True, "")
    assert tests.judge(0, {"value": wire.dumps({"a": (1.0, 2)})}) == (True, "")  # a tuple is a JSON list
    assert tests.judge(1, {"value": wire.dumps("z")})[0] is False
    assert tests.judge(1, {"value": "not json"}) == (False, "the return value is not JSON data")
    assert tests.judge(1, {"value": wire.dumps({1, 2})}) == (False, "the return value is not JSON data")
    assert tests.judge(1, {"error": "ValueError: no"}) == (False, "ValueError: no")


@pytest.mark.parametrize(
    "text",
    ["[" * 5000 + "]" * 5000, '{"set": [[1]]}', "9" * 5000, '{"tuple": 3}', "x" * 100, '{"bytes": "!!"}'],
    ids=["deep", "unhashable", "huge-int", "bad-tag", "junk", "bad-base64"],
)
def test_a_malformed_or_deep_value_fails_its_test_and_never_raises(text):
    assert CallTests("f", (((1,), 1),)).judge(0, {"value": text})[0] is False
    value_check = AssertTests(("assert candidate(1) == 1",), entry_point="f")
    assert value_check.judge(0, {"value": text}, value_check.expected_values())[0] is False


def test_a_value_check_compares_the_decoded_value_with_the_literal():
    tests = AssertTests(("assert candidate(1) == (1, 'a')", "assert candidate(2) == {2}"), entry_point="f")
    expected = tests.expected_values()
    assert tests.judge(0, {"value": wire.dumps((1, "a"))}, expected) == (True, "")
    assert tests.judge(0, {"value": wire.dumps([1, "a"])}, expected) == (False, "AssertionError: got [1, 'a']")
    assert tests.judge(1, {"value": wire.dumps({2})}, expected) == (True, "")


def test_json_equal_keeps_bools_apart_from_numbers_and_compares_floats_with_tolerance():
    assert json_equal(1, 1.0) and json_equal([0.1 + 0.2], [0.3])
    assert not json_equal(True, 1) and not json_equal(0, False)
    assert not json_equal([1, 2], [1, 2, 3]) and not json_equal({"a": 1}, {"b": 1})
    assert not json_equal("1", 1)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    )
)
def test_json_equal_is_reflexive_on_json_data(value):
    assert json_equal(value, value)


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6))
def test_json_equal_accepts_a_float_within_tolerance(x):
    assert json_equal(x, x * (1 + 1e-12) if x else 1e-12)
    assert not json_equal(x, x + 1.0) or math.isclose(x, x + 1.0, rel_tol=1e-9)
