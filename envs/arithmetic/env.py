"""rlvr/Arithmetic-v0: integer arithmetic with an exact answer.

The default is the Fireworks RLVR experiment: a 4-digit by 2-digit
multiplication (``1497 * 63``) under their fixed prompt, reward 1 when the
stated final answer equals the product. Digits per operand, operations
(``+ - * /``, division always exact), number of operands and the prompt
template are options; ``level`` picks one of eight difficulty presets, and
``reset(options={"level": k})`` switches level per episode, for curricula.

    env = gymnasium.make("rlvr/Arithmetic-v0", digits=[3, 3, 2], operations=["+", "*"])
    prompt, info = env.reset(seed=0, options={"level": 2})
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rlvr.envs.arithmetic.calculator import CALCULATOR
from rlvr.envs.core.registration import register
from rlvr.envs.core.sandbox_tools import PYTHON
from rlvr.envs.core.task import ProceduralSource, Task
from rlvr.envs.core.templates import BOXED, FIREWORKS, PLAIN, R1, PromptTemplate
from rlvr.verifiers.extract import AnswerFormat
from rlvr.verifiers.numeric_answer import NumericAnswer
from rlvr.verifiers.recipes import answer_rubric
from rlvr.verifiers.rubric import Rubric

__all__ = ["LEVELS", "ArithmeticConfig", "ArithmeticSource", "ArithmeticTask", "evaluate", "long_multiplication"]

Operation = Literal["+", "-", "*", "/"]

LEVELS: dict[int, dict[str, Any]] = {
    1: {"digits": [1, 1], "operations": ["+"]},
    2: {"digits": [2, 2], "operations": ["+", "-"]},
    3: {"digits": [2, 1], "operations": ["*"]},
    4: {"digits": [3, 2], "operations": ["+", "-", "*"]},
    5: {"digits": [4, 2], "operations": ["*"]},  # the Fireworks experiment
    6: {"digits": [4, 2, 2], "operations": ["+", "-", "*", "/"]},
    7: {"digits": [5, 3, 2], "operations": ["+", "-", "*", "/"]},
    8: {"digits": [6, 4, 3, 2], "operations": ["+", "-", "*", "/"]},
}
"""Difficulty presets, easiest first: each sets ``digits`` and ``operations``."""


class ArithmeticTask(Task):
    """One expression, e.g. ``question="1497 * 63"``, ``answer=94311``."""

    operands: tuple[int, ...] = Field(description="The numbers, left to right.")
    operations: tuple[Operation, ...] = Field(description="The operators between them (len(operands) - 1).")
    answer: int = Field(description="The exact value, with * and / before + and -.")
    level: int | None = Field(None, description="The difficulty preset this task came from, if any.")

    def worked_reasoning(self) -> str | None:
        """Long multiplication written out, for a product of two positive numbers; None for other expressions.

        One line per digit of the second number, right to left, multiplying
        the first number by it one digit at a time with the carries, then
        the shifted rows added up. ``47 * 8`` reads::

            7 * 8 = 56, carry 5. 4 * 8 = 32, 32 + 5 = 37. So 47 * 8 = 376.

        and a two-digit second number adds a second row and ``376 + 1410 = 1786.``
        """
        if self.operations != ("*",) or min(self.operands) <= 0:
            return None
        return long_multiplication(*self.operands)


class ArithmeticConfig(BaseModel):
    """Task options of rlvr/Arithmetic-v0."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    digits: list[Annotated[int, Field(ge=1, le=18)]] = Field(
        default=[4, 2],
        min_length=1,
        description="Digits of each operand, left to right; one entry per operand (or one for all).",
    )
    operations: list[Operation] = Field(
        default=["*"], min_length=1, description="Operators to draw from: + - * / (exact division)."
    )
    num_operands: int | None = Field(
        None, ge=2, le=16, description="Number of operands; default len(digits). With one digits entry, it repeats."
    )
    level: int | None = Field(
        None, description=f"Difficulty preset {min(LEVELS)}..{max(LEVELS)}; sets digits and operations."
    )

    @model_validator(mode="after")
    def _resolve(self) -> ArithmeticConfig:
        if self.level is not None:
            if self.level not in LEVELS:
                raise ValueError(f"level must be one of {sorted(LEVELS)}, got {self.level}")
            clash = {"digits", "operations", "num_operands"} & self.model_fields_set
            if clash:
                raise ValueError(f"level sets digits and operations; do not also give {sorted(clash)}")
            preset = LEVELS[self.level]
            object.__setattr__(self, "digits", list(preset["digits"]))
            object.__setattr__(self, "operations", list(preset["operations"]))
        count = self.num_operands or len(self.digits)
        if len(self.digits) == 1:
            object.__setattr__(self, "digits", self.digits * count)
        elif len(self.digits) != count:
            raise ValueError(f"num_operands={count} but digits lists {len(self.digits)} operands")
        if len(self.digits) < 2:
            raise ValueError("digits: an expression needs at least two operands")
        object.__setattr__(self, "num_operands", count)
        return self


class ArithmeticSource(ProceduralSource):
    """Expressions drawn per ``ArithmeticConfig``; task ``i`` depends on ``i`` alone."""

    config_model = ArithmeticConfig
    options = frozenset({"level"})

    def __init__(self, **options: Any) -> None:
        self.config = ArithmeticConfig(**options)

    def generate(self, rng: random.Random, **options: Any) -> ArithmeticTask:
        """A task under this source's config, or under preset ``level`` when that option is given."""
        level = options.get("level")
        config = self.config if level is None else ArithmeticConfig(level=level)
        operations: list[str] = [rng.choice(config.operations) for _ in range(len(config.digits) - 1)]
        operands = [_draw(rng, d) for d in config.digits]
        _make_divisions_exact(rng, operands, operations, config.digits)
        question = " ".join(_interleave(operands, operations))
        return ArithmeticTask(
            question=question,
            operands=tuple(operands),
            operations=tuple(operations),
            answer=evaluate(operands, operations),
            level=config.level,
        )


def _draw(rng: random.Random, digits: int) -> int:
    """A number with exactly ``digits`` digits (1..9 for one digit: never 0, so never a zero divisor)."""
    return rng.randint(10 ** (digits - 1), 10**digits - 1)


def _terms(operations: Sequence[str]) -> list[list[int]]:
    """Operand indices grouped into products: ``a + b * c / d`` -> ``[[0], [1, 2, 3]]``."""
    terms = [[0]]
    for i, op in enumerate(operations, start=1):
        if op in "+-":
            terms.append([i])
        else:
            terms[-1].append(i)
    return terms


def _make_divisions_exact(rng: random.Random, operands: list[int], operations: list[str], digits: list[int]) -> None:
    """Redraw the first operand of each term as a multiple of that term's divisors.

    Then every division in the term, evaluated left to right, is exact. The
    first operand keeps its digit count whenever the divisors' product has no
    more digits than it (always true for the presets); otherwise it becomes a
    small multiple of that product.
    """
    for term in _terms(operations):
        first = term[0]
        divisor = math.prod(operands[i] for i in term[1:] if operations[i - 1] == "/")
        if divisor == 1:
            continue
        low, high = 10 ** (digits[first] - 1), 10 ** digits[first] - 1
        multiples = (-(-low // divisor), high // divisor)
        if multiples[0] <= multiples[1]:
            operands[first] = divisor * rng.randint(*multiples)
        else:
            operands[first] = divisor * rng.randint(1, 9)


def long_multiplication(a: int, b: int) -> str:
    """The working of ``a * b`` (positive integers) digit by digit, as ``ArithmeticTask.worked_reasoning`` writes it."""
    lines = []
    rows = []
    for place, digit in enumerate(int(d) for d in reversed(str(b))):
        steps, carry = [], 0
        digits = [int(d) for d in reversed(str(a))]
        for index, x in enumerate(digits):
            product = x * digit
            step = f"{x} * {digit} = {product}"
            if carry:
                step += f", {product} + {carry} = {product + carry}"
                product += carry
            carry = product // 10
            last = index == len(digits) - 1  # the last step's tens lead the row: no carry to note
            steps.append(step + (f", carry {carry}" if carry and not last else ""))
        row = a * digit
        lines.append(". ".join(steps) + f". So {a} * {digit} = {row}.")
        rows.append(row * 10**place)
    if len(rows) > 1:
        lines.append(f"{' + '.join(str(r) for r in rows)} = {a * b}. So {a} * {b} = {a * b}.")
    return " ".join(lines)


def evaluate(operands: Sequence[int], operations: Sequence[str]) -> int:
    """The exact value of ``operands`` joined by ``operations``, with * and / first.

    Division must be exact (``ArithmeticSource`` makes it so); an inexact one
    raises ``ValueError``.
    """
    total = 0
    for term in _terms(operations):
        value = operands[term[0]]
        for i in term[1:]:
            if operations[i - 1] == "*":
                value *= operands[i]
            else:
                quotient, remainder = divmod(value, operands[i])
                if remainder:
                    raise ValueError(f"{value} / {operands[i]} is not exact")
                value = quotient
        sign = -1 if term[0] > 0 and operations[term[0] - 1] == "-" else 1
        total += sign * value
    return total


def _interleave(operands: Sequence[int], operations: Sequence[str]) -> list[str]:
    parts = [str(operands[0])]
    for op, operand in zip(operations, operands[1:], strict=True):
        parts += [op, str(operand)]
    return parts


def arithmetic_rubric(template: PromptTemplate) -> Rubric:
    """Exact-answer accuracy in the template's format (plus the R1 format reward for ``r1``)."""
    return answer_rubric(NumericAnswer(template.answer_format), template.answer_format)


EQUATION = PromptTemplate(name="equation", answer_format=AnswerFormat.LAST_NUMBER, user="{question} =")
"""The expression and an equals sign, for base models: ``43 + 65 =`` -> `` 108``."""

TEMPLATES = {t.name: t for t in (FIREWORKS, R1, BOXED, PLAIN, EQUATION)}

register(
    "rlvr/Arithmetic-v0",
    source=ArithmeticSource,
    rubric=arithmetic_rubric,
    template=TEMPLATES,
    description="Integer arithmetic, exact answer; default 4-digit x 2-digit multiplication (Fireworks).",
    tools=[CALCULATOR, PYTHON],
)
