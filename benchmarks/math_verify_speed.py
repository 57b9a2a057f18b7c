"""How fast MathAnswer judges math answers, and what its hard time limit costs.

Four measurements, each in verifications per second (median over repeats):

1. Numeric fast path: MathAnswer on plain-number references and answers
   (``1,000`` against ``1000``, ``0.5`` against ``0.50``): exact Decimals in
   this process, no SymPy.
2. The same completions through math-verify directly (``parse`` + ``verify``
   in this process), the usual way of calling it.
3. Symbolic path: MathAnswer on a mix of MATH-style answers (fractions, roots,
   pi, intervals, sets, tuples, equations, polynomials, percents; right, in
   another form, and wrong), checked by math-verify in the worker process under
   the hard time limit.
4. MathAnswer's own checks on the same completions run in this process, with
   no time limit at all: the peer that shows what the worker process costs.
5. The same completions through math-verify directly, in this process, with
   its own signal-based time-outs (main thread only).

Every repeat draws fresh numbers, and the parse caches are emptied (the worker
restarted) before each measurement.
Also printed: one round trip to the worker (a call that does no work), and how
often MathAnswer and math-verify agree on the symbolic mix.

Run: .venv/bin/python benchmarks/math_verify_speed.py
Prints medians over repeats; these machines are shared, so compare ratios.
"""

from __future__ import annotations

import logging
import random
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

from math_verify import parse, verify

import rlvr.verifiers.math_answer as math_answer
from rlvr.verifiers.extract import AnswerFormat
from rlvr.verifiers.math_answer import MathAnswer, _check_reference

logging.getLogger("math_verify").setLevel(logging.ERROR)

Item = tuple[str, SimpleNamespace]  # (completion, task)


def boxed(answer: str) -> str:
    return f"Working through the algebra step by step, we find the result.\nThe answer is $\\boxed{{{answer}}}$."


def numeric_items(rng: random.Random, count: int) -> list[Item]:
    items = []
    for _ in range(count):
        n = rng.randint(1, 10**6)
        reference, written = rng.choice(
            [
                (f"{n:,}", str(n)),  # right, other grouping
                (str(n), f"{n}.0"),  # right, with a decimal point
                (str(n), str(n + rng.randint(1, 9))),  # wrong
                (f"{n / 8:.3f}", f"{n / 8:.4f}"),  # right, trailing zero
            ]
        )
        items.append((boxed(written), SimpleNamespace(answer=reference)))
    return items


def symbolic_items(rng: random.Random, count: int) -> list[Item]:
    """MATH-style answers with fresh numbers: (right in another form | wrong) against a LaTeX reference."""
    items = []
    for _ in range(count):
        a, b, c = rng.randint(2, 40), rng.randint(2, 40), rng.randint(2, 9)
        square_free = rng.choice([2, 3, 5, 6, 7, 10, 11])
        forms = [
            (f"\\frac{{{a}}}{{{a + b}}}", f"\\dfrac{{{2 * a}}}{{{2 * (a + b)}}}", f"\\frac{{{a + 1}}}{{{a + b}}}"),
            (f"{c}\\sqrt{{{square_free}}}", f"\\sqrt{{{c * c * square_free}}}", f"{c + 1}\\sqrt{{{square_free}}}"),
            (
                f"\\frac{{{a}\\sqrt{{{square_free}}}}}{{{b}}}",
                f"\\frac{{{a}}}{{{b}}}\\sqrt{{{square_free}}}",
                f"\\frac{{{a}}}{{{b}}}",
            ),
            (f"{a}\\pi", f"\\pi \\cdot {a}", f"{a + 1}\\pi"),
            (f"[{a}, {a + b})", f"[{a},{a + b})", f"[{a}, {a + b}]"),
            (f"\\{{{a}, {b + 41}\\}}", f"\\{{{b + 41}, {a}\\}}", f"\\{{{a}, {b + 42}\\}}"),
            (f"({a}, {b + 41})", f"({a},{b + 41})", f"({b + 41}, {a})"),
            (f"x = {a}", f"{a}", f"x = {a + 1}"),
            (f"x^2 + {2 * a}x + {a * a}", f"(x + {a})^2", f"(x - {a})^2"),
            (f"{a}\\%", f"\\frac{{{a}}}{{100}}", f"{a + 1}\\%"),
            (f"\\frac{{1}}{{{a}}}", f"{1 / a:.8f}", f"{1 / a:.3f}"),
        ]
        reference, right, wrong = rng.choice(forms)
        items.append((boxed(right if rng.random() < 0.6 else wrong), SimpleNamespace(answer=reference)))
    return items


def with_math_verify(completion: str, task: SimpleNamespace) -> bool:
    """The usual direct call: parse both (signal time-outs), then verify."""
    return bool(verify(parse(f"${task.answer}$"), parse(completion)))


def median_rate(
    make_items: Callable[[random.Random, int], list[Item]], judge: Callable[..., object], count: int, repeats: int
) -> float:
    rates = []
    for repeat in range(repeats):
        items = make_items(random.Random(repeat), count)
        start = time.perf_counter()
        for completion, task in items:
            judge(completion, task)
        rates.append(len(items) / (time.perf_counter() - start))
    return statistics.median(rates)


class InProcess:
    """The worker's interface without the process: the same checks, no time limit."""

    @staticmethod
    def call(function: Callable[..., Any], *args: Any, timeout: float) -> Any:
        return function(*args)


@contextmanager
def checks_in_this_process() -> Iterator[None]:
    worker = math_answer.WORKER
    math_answer.WORKER = InProcess()  # type: ignore[assignment]
    try:
        yield
    finally:
        math_answer.WORKER = worker


def fresh_caches() -> None:
    """Empty the parse caches here and in the worker (by restarting it), then warm the worker up."""
    math_answer._reference_parses.cache_clear()
    math_answer._parse_math.cache_clear()
    math_answer.WORKER.close()
    math_answer.WORKER.call(_check_reference, "1", timeout=60)


def round_trip_us(calls: int = 2000) -> float:
    math_answer.WORKER.call(_check_reference, "1", timeout=10)
    start = time.perf_counter()
    for _ in range(calls):
        math_answer.WORKER.call(_check_reference, "1", timeout=10)
    return (time.perf_counter() - start) / calls * 1e6


def agreement(count: int = 300) -> tuple[int, int]:
    verifier = MathAnswer(AnswerFormat.BOXED)
    items = symbolic_items(random.Random(1000), count)
    same = sum(
        (verifier(completion, task).value == 1.0) == with_math_verify(completion, task) for completion, task in items
    )
    return same, len(items)


def main() -> None:
    verifier = MathAnswer(AnswerFormat.BOXED)
    with_math_verify(boxed("\\frac12"), SimpleNamespace(answer="0.5"))  # load math-verify's grammar before timing

    rows = [("numeric fast path (MathAnswer)", median_rate(numeric_items, verifier, 2000, 5))]
    rows.append(("numeric, math-verify directly", median_rate(numeric_items, with_math_verify, 300, 5)))
    fresh_caches()
    rows.append(("symbolic: MathAnswer (worker, hard limit)", median_rate(symbolic_items, verifier, 200, 5)))
    fresh_caches()
    with checks_in_this_process():
        rows.append(("symbolic: same checks in-process, no limit", median_rate(symbolic_items, verifier, 200, 5)))
    fresh_caches()
    rows.append(("symbolic: math-verify directly", median_rate(symbolic_items, with_math_verify, 200, 5)))
    for name, rate in rows:
        print(f"{name:45} {rate:10,.0f} verifications/s")
    print(f"{'worker round trip (a call that does no work)':45} {round_trip_us():10.0f} us")
    same, total = agreement()
    print(f"verdicts agree with math-verify on {same} of {total} symbolic completions")


if __name__ == "__main__":
    main()
