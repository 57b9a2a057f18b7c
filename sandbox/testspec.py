"""Unit tests for a program, in the two shapes the harness runs.

``AssertTests``: test statements (``assert f(2) == 4``, a loop of asserts)
run after the program, one verdict per statement. HumanEval's ``check``
functions and MBPP's assert lists become these (``from_humaneval``,
``from_asserts``). A statement of the form ``assert <expression> ==
<literal>`` (nine in ten of HumanEval's) is a value check: only the
expression goes into the sandbox, its value comes back, and the host
compares it with the literal, so the expected value never enters the
sandbox and no verdict of the program's making can pass it. Other statements
run inside the sandbox, next to the program, and their verdicts are as
trustworthy as the harness's isolation (sandbox/container/harness.py).

``CallTests``: hidden input/output cases. The harness calls the program's
function with each case's arguments and sends the JSON of the return value
out; the host compares it with the expected value. The expected values
never enter the sandbox, so a program cannot read them, and a return value
that only pretends to be equal (an object whose ``__eq__`` always says yes)
cannot be serialised and fails.
"""

from __future__ import annotations

import ast
import functools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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
        """What the harness reads (JSON-ready); value checks carry their expression only."""
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
        """Whether test ``index`` passed, from the harness's verdict (and, for value checks, the expected value)."""
        if index not in expected:
            return verdict.get("ok") is True, str(verdict.get("msg", ""))[:300]
        if not isinstance(verdict.get("value"), str):
            return False, str(verdict.get("msg", "no value"))[:300]
        try:
            value = _literal(verdict["value"])
            equal = bool(value == expected[index])
        except Exception:  # an unreadable value, or one whose comparison fails
            return False, "the value is not plain data"
        return (True, "") if equal else (False, f"AssertionError: got {verdict['value'][:80]}")


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
        """What the harness reads: the arguments only, never the expected values."""
        return {"mode": "call", "function": self.function, "calls": [list(args) for args, _ in self.cases]}

    def judge(self, index: int, returned_json: str) -> tuple[bool, str]:
        """Whether case ``index`` passed, given the JSON of the value returned inside the sandbox."""
        try:
            value = json.loads(returned_json)
        except ValueError:
            return False, "the return value is not plain data"
        expected = json.loads(json.dumps(self.cases[index][1]))  # tuples -> lists, as the value went through JSON
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


def _literal(text: str) -> Any:
    """A value from its ``repr`` (built-in types only), as the harness sent it."""
    if text == "set()":
        return set()
    return ast.literal_eval(text)


def _is_test(statement: str) -> bool:
    try:
        tree = ast.parse(statement)
    except SyntaxError:
        return True  # a broken test statement is a test that fails, never silently dropped
    return any(isinstance(node, ast.Assert) for node in ast.walk(tree))


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
