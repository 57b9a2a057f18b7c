"""sandbox/container/judge.py and candidate.py: tests in one process, the program in another, plain data between.

The two run here as real processes joined by pipes, as in a container (where
they are also two users; tests/test_sandbox_attacks.py covers that part).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from rlvr.sandbox import container
from rlvr.sandbox.container import wire
from rlvr.sandbox.testspec import AssertTests, CallTests

CONTAINER = str(Path(container.__file__).parent)
BOOT = "import sys; sys.path.insert(0, {folder!r}); import {module}; sys.exit({module}.{call})"


def judge(program: str, tests: AssertTests | CallTests) -> list[dict]:
    """Run ``tests`` against ``program`` with a real judge and a real candidate; the verdict lines."""
    to_program, to_judge, verdicts = os.pipe(), os.pipe(), os.pipe()
    candidate = subprocess.Popen(
        [
            sys.executable,
            "-c",
            BOOT.format(folder=CONTAINER, module="candidate", call=f"serve({to_program[0]}, {to_judge[1]})"),
        ],
        pass_fds=(to_program[0], to_judge[1]),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    call = f"main({to_judge[0]}, {to_program[1]}, {verdicts[1]})"
    judge_process = subprocess.Popen(
        [sys.executable, "-c", BOOT.format(folder=CONTAINER, module="judge", call=call)],
        pass_fds=(to_judge[0], to_program[1], verdicts[1]),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    for fd in (to_program[0], to_judge[1], to_judge[0], to_program[1], verdicts[1]):
        os.close(fd)
    _, errors = judge_process.communicate(json.dumps({"program": program, "spec": tests.payload()}).encode(), 60)
    output = b""
    while chunk := os.read(verdicts[0], 1 << 16):
        output += chunk
    os.close(verdicts[0])
    candidate.wait(60)
    assert judge_process.returncode == 0, errors.decode()
    lines = [json.loads(line) for line in output.decode().splitlines()]
    assert lines[-1] == {"done": True}
    return lines[:-1]


def outcomes(program: str, tests: AssertTests | CallTests) -> list[tuple[bool, str]]:
    """What the host makes of the judge's verdicts, test by test."""
    verdicts = {verdict["i"]: verdict for verdict in judge(program, tests)}
    if isinstance(tests, CallTests):
        return [tests.judge(i, verdicts[i]) for i in range(tests.total)]
    expected = tests.expected_values()
    return [tests.judge(i, verdicts[i], expected) for i in range(tests.total)]


DOUBLE = "def double(x):\n    return 2 * x\n"
ASSERTS = AssertTests(
    ("assert candidate(2) == 4", "assert abs(candidate(1.5) - 3.0) < 1e-9", "assert candidate(3) in (6,)"),
    entry_point="double",
)


def test_an_honest_program_passes_asserts_judged_in_the_judge_and_on_the_host():
    verdicts = judge(DOUBLE, ASSERTS)
    assert verdicts[0] == {"i": 0, "value": "4"}  # a value check: the host compares it with the literal
    assert verdicts[1:] == [{"i": 1, "ok": True}, {"i": 2, "ok": True}]
    assert outcomes(DOUBLE, ASSERTS) == [(True, "")] * 3


def test_call_tests_send_back_values_for_the_host():
    tests = CallTests("double", (((2,), 4), (([1, 2],), [1, 2, 1, 2])))
    assert outcomes(DOUBLE, tests) == [(True, ""), (True, "")]


def test_the_programs_helpers_are_callable_from_the_tests_and_its_constants_readable():
    program = "SCALE = 3\ndef scale(x):\n    return SCALE * x\ndef triple(x):\n    return scale(x)\n"
    tests = AssertTests(("assert candidate(2) == scale(2) == SCALE * 2",), entry_point="triple")
    assert outcomes(program, tests) == [(True, "")]


def test_a_program_that_fails_to_load_fails_every_test_with_its_error():
    assert [message for _, message in outcomes("raise KeyError('x')\n", ASSERTS)] == [
        "the program raised KeyError: 'x'"
    ] * 3


def test_a_program_that_exits_midway_fails_the_rest():
    program = "import os\ncalls = []\ndef double(x):\n    calls.append(x)\n"
    program += "    if len(calls) > 1:\n        os._exit(0)\n    return 2 * x\n"
    results = outcomes(program, ASSERTS)
    assert results[0] == (True, "")
    assert results[1:] == [(False, "ProgramGone: the program exited")] * 2


def test_values_that_are_not_plain_data_fail_with_a_reason():
    program = (
        "class Anything:\n    def __eq__(self, other):\n        return True\ndef double(x):\n    return Anything()\n"
    )
    results = outcomes(program, ASSERTS)
    assert not any(passed for passed, _ in results)
    assert "not plain data" in results[1][1]


def test_the_programs_exceptions_reach_the_tests_as_built_in_exceptions():
    program = "def double(x):\n    if x < 0:\n        raise ValueError('negative')\n    return 2 * x\n"
    tests = AssertTests(
        ("try:\n    candidate(-1)\nexcept ValueError as error:\n    assert str(error) == 'negative'",),
        entry_point="double",
    )
    assert outcomes(program, tests) == [(True, "")]


def test_a_test_that_passes_a_function_to_the_program_fails_and_says_why():
    tests = AssertTests(("assert candidate(lambda: 1) == 2",), entry_point="double")
    ((passed, message),) = outcomes(DOUBLE, tests)
    assert not passed and "cannot cross to the program" in message


def test_tests_that_print_do_not_disturb_the_verdicts():
    tests = AssertTests(('print(\'{"i": 0, "ok": true}\')\nassert candidate(1) == 3',), entry_point="double")
    assert outcomes(DOUBLE, tests) == [(False, "AssertionError")]


def test_garbage_from_the_program_fails_its_tests_and_the_judge_still_finishes():
    program = "import os\ndef double(x):\n    os.write(4, b'\\x7f\\xff\\xff\\xffgarbage')\n    return 2 * x\n"
    assert not any(passed for passed, _ in outcomes(program, ASSERTS))


def test_a_deep_return_value_fails_its_test_on_the_host_without_an_error():
    program = "def double(x):\n    value = x\n    for _ in range(500):\n        value = [value]\n    return value\n"
    results = outcomes(program, CallTests("double", (((1,), 2),)))
    assert results == [(False, results[0][1])] and "nested deeper" in results[0][1]


def test_the_wire_format_of_a_value_check_is_what_the_host_reads():
    (verdict,) = judge(
        "def f():\n    return (1, {2}, b'x', None)\n", AssertTests(("assert f() == (1, {2}, b'x', None)",))
    )
    assert wire.loads(verdict["value"]) == (1, {2}, b"x", None)
