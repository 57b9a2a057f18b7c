"""Unit tests for a program, in the two shapes the sandbox's judge runs.

Tests run in the judge (sandbox/container/judge.py), a process apart from
the program's, as a user the program cannot reach; each call of the
program's functions sends plain-data arguments to the program's process and
gets a plain-data value back (sandbox/container/wire.py). So what a test
sees are values of built-in types made by the judge itself, never an object
of the program's, and no verdict passes through the program's hands.

``AssertTests``: test statements (``assert f(2) == 4``, a loop of asserts)
run after the program, one verdict per statement. HumanEval's ``check``
functions and MBPP's assert lists become these (``from_humaneval``,
``from_asserts``). A statement of the form ``assert <expression> ==
<literal>`` (nine in ten of HumanEval's) is a value check: the judge
evaluates only the expression and the host compares its value with the
literal, so the expected value never enters the sandbox at all. Other
statements run in the judge.

``CallTests``: hidden input/output cases. The judge calls the program's
function with each case's arguments and sends the value back; the host
compares it with the expected value as JSON data (tuples as lists), so the
expected values never enter the sandbox either.

What cannot be judged: a test that passes the program something other than
plain data (a function, an object of a class of the test's) fails with a
message that says so, and so does a program that returns anything but plain
data (a generator, an object of its own class).
"""

from __future__ import annotations

import ast
import functools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rlvr.sandbox.container import wire

__all__ = ["AssertTests", "CallTests", "TestSpec", "json_equal"]


@dataclass(frozen=True)
class AssertTests:
    """Statements run after the program; each one that contains an ``assert`` is one test.

    Attributes:
        statements: Python statements, run in order in one namespace. A
            statement with an ``assert`` anywhere in it is a test (passes if
            it runs without an exception); any other statement is set-up (an
            import, a helper, a variable) and is not counted.
        preamble: module-level code run before the statements (HumanEval's
            ``METADATA`` and imports).
        entry_point: the function under test, if known. It is bound as
            ``candidate`` (HumanEval's name) and its return values must be
            plain data (instances of built-in types), which stops an object
            that compares equal to anything.
    """

    statements: tuple[str, ...]
    preamble: str = ""
    entry_point: str | None = None

    @functools.cached_property
    def _parsed(self) -> tuple[tuple[str, bool, tuple[str, Any] | None], ...]:
        """Each statement with whether it is a test and its value check, parsed once."""
        return tuple((statement, _is_test(statement), _value_check(statement)) for statement in self.statements)

    @property
    def total(self) -> int:
        """Number of tests (statements that contain an ``assert``)."""
        return sum(is_test for _, is_test, _ in self._parsed)

    @classmethod
    def from_asserts(cls, asserts: Sequence[str], setup: str = "", entry_point: str | None = None) -> AssertTests:
        """MBPP style: a list of assert statements, each a test, after optional set-up code."""
        return cls(tuple(asserts), preamble=setup, entry_point=entry_point)

    @classmethod
    def from_humaneval(cls, test: str, entry_point: str) -> AssertTests:
        """HumanEval style: ``test`` defines ``check(candidate)``; each top-level statement of its body is one step.

        Raises:
            ValueError: ``test`` does not parse or defines no ``check``.
        """
        try:
            module = ast.parse(test)
        except SyntaxError as error:
            raise ValueError(f"the test code does not parse: {error}") from None
        checks = [node for node in module.body if isinstance(node, ast.FunctionDef) and node.name == "check"]
        if not checks:
            raise ValueError("the test code defines no check(candidate) function")
        check = checks[-1]
        preamble = [ast.unparse(node) for node in module.body if node is not check]
        statements = tuple(ast.unparse(node) for node in check.body if not _is_docstring(node))
        return cls(statements, preamble="\n".join(preamble), entry_point=entry_point)

    def payload(self) -> dict[str, Any]:
        """What the judge reads (JSON-ready); value checks carry their expression only."""
        steps = []
        for statement, is_test, check in self._parsed:
            if check is not None:
                steps.append({"code": check[0], "test": True, "value": True})
            else:
                steps.append({"code": statement, "test": is_test})
        return {"mode": "assert", "preamble": self.preamble, "steps": steps, "entry_point": self.entry_point}

    def expected_values(self) -> dict[int, Any]:
        """Test number -> expected value, for the tests that are value checks (judged on the host)."""
        expected: dict[int, Any] = {}
        number = 0
        for _, is_test, check in self._parsed:
            if check is not None:
                expected[number] = check[1]
            number += is_test
        return expected

    def judge(self, index: int, verdict: Mapping[str, Any], expected: Mapping[int, Any]) -> tuple[bool, str]:
        """Whether test ``index`` passed, from the judge's verdict (and, for value checks, the expected value)."""
        if index not in expected:
            return verdict.get("ok") is True, str(verdict.get("msg", ""))[:300]
        if not isinstance(verdict.get("value"), str):
            return False, str(verdict.get("msg", "no value"))[:300]
        try:
            value = wire.loads(verdict["value"])
            equal = value == expected[index]
        except (ValueError, TypeError, RecursionError, MemoryError):  # not plain data, or incomparable
            return False, "the value is not plain data"
        return (True, "") if equal is True else (False, f"AssertionError: got {_short_repr(value)}")


@dataclass(frozen=True)
class CallTests:
    """Hidden input/output cases for one function.

    Attributes:
        function: the name of the program's function to call.
        cases: ``(args, expected)`` pairs: the function is called as
            ``function(*args)`` and must return a value equal to ``expected``
            (JSON data; floats compared with ``rel_tol``).
        rel_tol: relative tolerance for floats.
    """

    function: str
    cases: tuple[tuple[tuple[Any, ...], Any], ...]
    rel_tol: float = 1e-9

    @property
    def total(self) -> int:
        return len(self.cases)

    def payload(self) -> dict[str, Any]:
        """What the judge reads: the arguments only, never the expected values."""
        return {"mode": "call", "function": self.function, "calls": [list(args) for args, _ in self.cases]}

    def judge(self, index: int, verdict: Mapping[str, Any]) -> tuple[bool, str]:
        """Whether case ``index`` passed, given the judge's verdict (the returned value, or the call's error)."""
        if not isinstance(verdict.get("value"), str):
            return False, str(verdict.get("error", verdict.get("msg", "no value")))[:300]
        try:  # as JSON data: tuples become lists, as in the data the cases come from
            value = json.loads(json.dumps(wire.loads(verdict["value"]), allow_nan=False))
        except (ValueError, TypeError, RecursionError, MemoryError):
            return False, "the return value is not JSON data"
        expected = json.loads(json.dumps(self.cases[index][1]))
        if json_equal(value, expected, self.rel_tol):
            return True, ""
        return False, f"case {index}: returned {_short(value)}"


TestSpec = AssertTests | CallTests


def json_equal(a: Any, b: Any, rel_tol: float = 1e-9) -> bool:
    """Equality of JSON data, floats within ``rel_tol`` (and ints equal to floats by value; bools are not numbers)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if isinstance(a, int) and isinstance(b, int):
            return a == b
        return math.isclose(a, b, rel_tol=rel_tol, abs_tol=rel_tol)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y, rel_tol) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[key], b[key], rel_tol) for key in a)
    return type(a) is type(b) and a == b


def _value_check(statement: str) -> tuple[str, Any] | None:
    """``(expression source, expected value)`` for ``assert <expression> == <literal>`` (either order), else None."""
    try:
        tree = ast.parse(statement)
    except SyntaxError:
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Assert):
        return None
    test = tree.body[0].test
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return None
    for expression, literal in ((test.left, test.comparators[0]), (test.comparators[0], test.left)):
        try:
            expected = ast.literal_eval(literal)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            continue
        if _is_literal(expression):
            return None  # literal == literal: nothing of the program's in it
        return ast.unparse(expression), expected
    return None


def _is_literal(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _is_test(statement: str) -> bool:
    try:
        tree = ast.parse(statement)
    except SyntaxError:
        return True  # a broken test statement is a test that fails, never silently dropped
    return any(isinstance(node, ast.Assert) for node in ast.walk(tree))


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _short_repr(value: Any, limit: int = 80) -> str:
    text = repr(value)  # built-in values only: wire.loads made them
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
