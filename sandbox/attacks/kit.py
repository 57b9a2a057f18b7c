"""What every attack shares: the ``Attack`` record, the checks attacks are built from, and the health check.

An attack fires one or more hostile programs at a pool and says whether
they were contained. ``run_attack`` then submits honest programs to the
same pool (``healthy``): they must still score right, so an attack that
poisons the container for later submissions is caught even when the
hostile program itself seemed to fail. It also checks that every step took
at most the time limit plus ``STEP_SLACK`` seconds and that no container
leaked.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from rlvr.sandbox.pool import POOL_LABEL, SandboxPool
from rlvr.sandbox.result import ExecResult, ExecStatus, TestReport
from rlvr.sandbox.testspec import AssertTests, CallTests

__all__ = [
    "DOUBLE",
    "STEP_SLACK",
    "Attack",
    "healthy",
    "live_containers",
    "prints",
    "run_attack",
    "scores_zero",
    "status_is",
    "timed_run",
    "timed_tests",
]

STEP_SLACK = 2.0
"""Seconds a step may take past its time limit: stopping the program, killing what it left, cleaning /work,
checking the container. The sandbox's bound on a step is the time limit plus this."""

DOUBLE = CallTests("double", (((1,), 2), ((2,), 4), ((5,), 10)))
"""Tests that a cheating program cannot pass: it never defines a correct ``double``."""

DOUBLE_ASSERTS = AssertTests(
    ("assert abs(candidate(2) - 4) < 1e-9", "assert candidate(3) in (6,)", "assert candidate(1) == 2"),
    entry_point="double",
)
"""The same function under assert tests: one judged in the judge, one membership, one value check on the host."""

HONEST_DOUBLE = "def double(x):\n    return 2 * x\n"

WORKOUT = """
import os, sys
hoard = bytearray(64 << 20)  # memory: a leftover shared-memory segment would have taken it
with open("/work/scratch.txt", "w") as handle:
    handle.write(sys.stdin.read())
handles = [open("/work/scratch.txt") for _ in range(100)]  # descriptors: a lowered limit would refuse them
child = os.fork()  # processes: a lowered limit or a full process table would refuse it
if child == 0:
    os._exit(7)
_, status = os.waitpid(child, 0)
print(sorted(os.listdir("/work")), len(handles), os.waitstatus_to_exitcode(status), handles[0].read())
"""
"""An honest program that needs what a poisoned container would lack: memory, descriptors, a fork, /work."""


@dataclass(frozen=True)
class Attack:
    """One hostile behaviour.

    Attributes:
        name: short id, as shown by ``rlvr sandbox check``.
        kind: the class of attack (``limits``, ``poisoning``, ``copying``, ``forging``, ``host``, ``cleanup``).
        what: one line on what the program tries.
        fire: runs the attack on a pool and returns ``(contained, detail)``.
    """

    name: str
    kind: str
    what: str
    fire: Callable[[SandboxPool], tuple[bool, str]]


def timed_run(pool: SandboxPool, program: str, timeout: float = 5.0, stdin: str = "") -> tuple[ExecResult, bool]:
    """``pool.run`` and whether the step stayed within ``timeout + STEP_SLACK`` seconds."""
    start = time.monotonic()
    result = pool.run(program, stdin=stdin, timeout=timeout)
    return result, time.monotonic() - start <= timeout + STEP_SLACK


def timed_tests(
    pool: SandboxPool, program: str, tests: AssertTests | CallTests = DOUBLE, timeout: float = 5.0
) -> tuple[TestReport, bool]:
    """``pool.run_tests`` and whether the step stayed within ``timeout + STEP_SLACK`` seconds."""
    start = time.monotonic()
    report = pool.run_tests(program, tests, timeout=timeout)
    return report, time.monotonic() - start <= timeout + STEP_SLACK


def status_is(pool: SandboxPool, program: str, expected: set[ExecStatus], timeout: float = 2.0) -> tuple[bool, str]:
    """Contained when the run ends with one of ``expected`` within the step bound."""
    result, in_time = timed_run(pool, program, timeout)
    detail = f"status {result.status.value}, exit {result.exit_code}, {result.duration:.2f} s"
    return result.status in expected and in_time, detail


def prints(pool: SandboxPool, program: str, expected: str, timeout: float = 5.0) -> tuple[bool, str]:
    """Contained when the run ends well within the step bound and prints ``expected`` (stripped)."""
    result, in_time = timed_run(pool, program, timeout)
    contained = result.ok and result.stdout.strip() == expected and in_time
    return contained, f"{result.status.value}: {result.stdout.strip()[:200]!r}"


def scores_zero(
    pool: SandboxPool, program: str, tests: AssertTests | CallTests = DOUBLE, timeout: float = 5.0
) -> tuple[bool, str]:
    """Contained when no test passes, the sandbox judged it (not a sandbox error), within the step bound."""
    report, in_time = timed_tests(pool, program, tests, timeout)
    detail = f"{report.passed}/{report.total} passed, execution {report.execution.status.value}"
    return report.passed == 0 and not report.infrastructure_failure and in_time, detail


def live_containers(pool: SandboxPool) -> int:
    """Containers of ``pool`` alive on the engine (its live ones and any it failed to remove)."""
    return len(pool.client.containers.list(all=True, filters={"label": f"{POOL_LABEL}={pool.id}"}))


def healthy(pool: SandboxPool) -> tuple[bool, str]:
    """Honest submissions after an attack still score right: a plain run, a demanding run, two test runs."""
    plain = pool.run("import sys\nprint(sum(map(int, sys.stdin.read().split())))", stdin="1 2 3", timeout=5.0)
    workout = pool.run(WORKOUT, stdin="hello", timeout=10.0)
    calls = pool.run_tests(HONEST_DOUBLE, DOUBLE, timeout=5.0)
    asserts = pool.run_tests(HONEST_DOUBLE, DOUBLE_ASSERTS, timeout=5.0)
    expected_workout = "['main.py', 'scratch.txt'] 100 7 hello"
    ok = (
        plain.ok
        and plain.stdout == "6\n"
        and workout.ok
        and workout.stdout.strip() == expected_workout
        and calls.all_passed
        and asserts.all_passed
    )
    detail = (
        f"run {plain.status.value} {plain.stdout.strip()!r}, workout {workout.status.value} "
        f"{workout.stdout.strip()[:80]!r}{workout.stderr.strip()[-120:]!r}, tests {calls.passed}/{calls.total} "
        f"and {asserts.passed}/{asserts.total}"
    )
    return ok, detail


def run_attack(pool: SandboxPool, attack: Attack) -> tuple[bool, str]:
    """Fire ``attack``, then check the pool still serves honest programs right and leaked no container."""
    try:
        contained, detail = attack.fire(pool)
    except Exception as error:  # an attack that breaks the host side is not contained
        contained, detail = False, f"the host raised {error!r}"
    fine, health = healthy(pool)
    deadline = time.monotonic() + 10.0
    while live_containers(pool) > pool.config.pool_size and time.monotonic() < deadline:
        time.sleep(0.1)  # retired containers are removed in the background
    leaked = live_containers(pool) - pool.config.pool_size
    leak = f"; {leaked} container(s) leaked" if leaked > 0 else ""
    return contained and fine and leaked <= 0, f"{detail}; afterwards: {health}{leak}"
