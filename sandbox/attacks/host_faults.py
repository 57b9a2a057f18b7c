"""Attacks on the host's side of the sandbox: values and output that could break the host's reading of results.

A value nested thousands deep, an integer of a hundred thousand digits,
tens of megabytes of return value or invalid output must be the program's
failure (reward 0), never an exception on the host or a reward of None, and
must leave no container behind (``run_attack`` counts them).
"""

from __future__ import annotations

from rlvr.sandbox.attacks.kit import Attack, scores_zero, timed_run
from rlvr.sandbox.pool import SandboxPool
from rlvr.sandbox.result import ExecStatus
from rlvr.sandbox.testspec import AssertTests, CallTests

NESTED = CallTests("nested", (((1,), [[1]]), ((2,), [[2]]), ((3,), [[3]])))
NESTED_ASSERTS = AssertTests(
    ("assert candidate(1) == [[1]]", "assert candidate(2) == [[2]]", "assert len(candidate(3)) == 1"),
    entry_point="nested",
)


def twice(pool: SandboxPool, program: str) -> tuple[bool, str]:
    """Contained when ``program`` scores 0, judged (not a sandbox error), under call and assert tests."""
    calls, call_detail = scores_zero(pool, program, NESTED, timeout=10.0)
    asserts, assert_detail = scores_zero(pool, program, NESTED_ASSERTS, timeout=10.0)
    return calls and asserts, f"calls: {call_detail}; asserts: {assert_detail}"


def deep_values(pool: SandboxPool) -> tuple[bool, str]:
    program = """
import sys
sys.setrecursionlimit(100000)
def build(depth, make):
    value = 0
    for _ in range(depth):
        value = make(value)
    return value
SHAPES = [
    lambda: build(5000, lambda v: [v]),
    lambda: build(985, lambda v: {"k": v}),
    lambda: build(3000, lambda v: (v,)),
]
calls = [0]
def nested(x):
    calls[0] += 1
    return SHAPES[calls[0] % len(SHAPES)]()
"""
    return twice(pool, program)


def huge_values(pool: SandboxPool) -> tuple[bool, str]:
    program = """
import sys
if hasattr(sys, "set_int_max_str_digits"):
    sys.set_int_max_str_digits(0)
SHAPES = [lambda: 10 ** 100000, lambda: "x" * (40 << 20), lambda: list(range(3_000_000))]
calls = [0]
def nested(x):
    calls[0] += 1
    return SHAPES[calls[0] % len(SHAPES)]()
"""
    return twice(pool, program)


def cyclic_values(pool: SandboxPool) -> tuple[bool, str]:
    program = """
def nested(x):
    value = [x]
    value.append(value)
    return value
"""
    return twice(pool, program)


def invalid_output(pool: SandboxPool) -> tuple[bool, str]:
    program = """
import os
chunk = bytes(range(128, 256)) * 512
for _ in range(64):
    os.write(1, chunk)
    os.write(2, b"\\xed\\xa0\\x80" * 1000)
"""
    result, in_time = timed_run(pool, program, timeout=10.0)
    handled = result.status in (ExecStatus.OK, ExecStatus.OUTPUT_LIMIT) and in_time
    return handled, f"status {result.status.value}, {len(result.stdout):,} characters of stdout read"


def silent_program(pool: SandboxPool) -> tuple[bool, str]:
    program = """
import os, time
os.close(3)
os.close(4)
def nested(x):
    return [[x]]
time.sleep(1)
"""
    return twice(pool, program)


ATTACKS: tuple[Attack, ...] = (
    Attack("deep_values", "host", "returns lists, dicts and tuples nested thousands deep", deep_values),
    Attack("huge_values", "host", "returns a 100,000-digit int, 40 MB of text, 3 million items", huge_values),
    Attack("cyclic_values", "host", "returns a list that contains itself", cyclic_values),
    Attack("invalid_output", "host", "writes megabytes of invalid UTF-8 to stdout and stderr", invalid_output),
    Attack("silent_program", "host", "closes its channel to the judge and stops answering", silent_program),
)
