"""The calculator tool of rlvr/Arithmetic-v0: exact integer and rational arithmetic on an expression.

``calculate("1234 * 56")`` returns ``"69104"``. It reads numbers, ``+ - * /``,
``//``, ``%``, ``**`` and parentheses (Python's syntax, parsed with ``ast``,
never ``eval``) and computes exactly: ``/`` gives a fraction, written as an
integer when it divides (``"12 / 4"`` -> ``"3"``) and as ``p/q`` otherwise.
Sizes are bounded so no expression can run long: at most 200 characters,
exponents up to 64, results up to 10,000 digits. Anything else raises
``ValueError`` with the reason, which the model reads as the tool's error.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from fractions import Fraction

from rlvr.envs.core.tools import Tool

__all__ = ["CALCULATOR", "calculate"]

MAX_EXPRESSION_CHARS = 200
MAX_EXPONENT = 64
MAX_DIGITS = 10_000

_BINARY: dict[type[ast.operator], Callable[[Fraction, Fraction], Fraction]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: lambda a, b: Fraction(a // b),
    ast.Mod: operator.mod,
}


def calculate(expression: str) -> str:
    """The exact value of an arithmetic ``expression``, as text (see the module docs).

    Raises:
        ValueError: not arithmetic, too long, dividing by zero, or too large.
    """
    if not isinstance(expression, str) or not expression.strip():
        raise ValueError("give an arithmetic expression, such as 1234 * 56")
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise ValueError(f"the expression is over {MAX_EXPRESSION_CHARS} characters")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        raise ValueError(f"not an arithmetic expression: {expression!r}") from None
    value = _value(tree.body)
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def _value(node: ast.AST) -> Fraction:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        return Fraction(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = _value(node.operand)
        return -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp):
        left, right = _value(node.left), _value(node.right)
        if isinstance(node.op, ast.Pow):
            if right.denominator != 1 or abs(right) > MAX_EXPONENT:
                raise ValueError(f"exponents must be whole numbers up to {MAX_EXPONENT}")
            if left == 0 and right < 0:
                raise ValueError("division by zero")
            return _bounded(left ** int(right))
        combine = _BINARY.get(type(node.op))
        if combine is None:
            raise ValueError(f"unsupported operator {type(node.op).__name__}")
        if isinstance(node.op, ast.Div | ast.FloorDiv | ast.Mod) and right == 0:
            raise ValueError("division by zero")
        return _bounded(combine(left, right))
    raise ValueError("only numbers, + - * / // % ** and parentheses are allowed")


def _bounded(value: Fraction) -> Fraction:
    if max(abs(value.numerator), value.denominator).bit_length() > MAX_DIGITS * 3.33:
        raise ValueError(f"the result has more than {MAX_DIGITS} digits")
    return value


CALCULATOR = Tool(
    name="calculator",
    description="Evaluate an arithmetic expression exactly (+ - * / // % ** and parentheses).",
    parameters={
        "type": "object",
        "properties": {"expression": {"type": "string", "description": "for example 1234 * 56"}},
        "required": ["expression"],
        "additionalProperties": False,
    },
    function=calculate,
    example=lambda task: {"expression": task.question},
)
"""``calculate`` as a tool: the argument ``expression``; a worked solution calls it with the task's expression."""
