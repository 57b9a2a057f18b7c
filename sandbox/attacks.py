"""The attack suite: hostile programs, each with the verdict that shows it was contained.

``rlvr sandbox check`` and the tests fire the same attacks. After each one
the pool must still serve an ordinary execution correctly (``healthy``).
An attack that is not contained, or a pool that is not healthy after it,
fails the check: the sandbox fails closed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rlvr.sandbox.pool import SandboxPool
from rlvr.sandbox.result import ExecStatus
from rlvr.sandbox.testspec import AssertTests, CallTests

__all__ = ["ATTACKS", "Attack", "healthy", "run_attack"]


@dataclass(frozen=True)
class Attack:
    """One hostile behaviour.

    Attributes:
        name: short id, as shown by ``rlvr sandbox check``.
        what: one line on what the program tries.
        fire: runs the attack on a pool and returns ``(contained, detail)``.
    """

    name: str
    what: str
    fire: Callable[[SandboxPool], tuple[bool, str]]


DOUBLE = CallTests("double", (((1,), 2), ((2,), 4), ((5,), 10)))
"""Tests that a cheating program cannot pass: it never defines a correct ``double``."""


def _status(pool: SandboxPool, program: str, expected: set[ExecStatus], timeout: float = 2.0) -> tuple[bool, str]:
    result = pool.run(program, timeout=timeout)
    detail = f"status {result.status.value}, exit {result.exit_code}, {result.duration:.2f} s"
    return result.status in expected, detail


def _stdout(pool: SandboxPool, program: str, expected: str, timeout: float = 5.0) -> tuple[bool, str]:
    result = pool.run(program, timeout=timeout)
    return result.ok and result.stdout.strip() == expected, f"{result.status.value}: {result.stdout.strip()[:200]!r}"


def _no_pass(pool: SandboxPool, program: str, tests: AssertTests | CallTests = DOUBLE) -> tuple[bool, str]:
    report = pool.run_tests(program, tests, timeout=5.0)
    detail = f"{report.passed}/{report.total} passed, execution {report.execution.status.value}"
    return report.passed == 0 and not report.infrastructure_failure, detail


def infinite_loop(pool: SandboxPool) -> tuple[bool, str]:
    return _status(pool, "while True:\n    pass\n", {ExecStatus.TIMEOUT}, timeout=1.0)


def fork_bomb(pool: SandboxPool) -> tuple[bool, str]:
    program = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    return _status(pool, program, {ExecStatus.TIMEOUT}, timeout=1.0)


def memory_bomb(pool: SandboxPool) -> tuple[bool, str]:
    program = "hoard = []\nwhile True:\n    hoard.append(bytearray(16 << 20))\n"
    return _status(pool, program, {ExecStatus.OOM}, timeout=10.0)


def output_flood(pool: SandboxPool) -> tuple[bool, str]:
    program = "import sys\nline = 'x' * 1023 + '\\n'\nfor _ in range(100 * 1024):\n    sys.stdout.write(line)\n"
    result = pool.run(program, timeout=10.0)
    cap = pool.config.max_output_bytes
    contained = result.status is ExecStatus.OUTPUT_LIMIT and result.stdout_truncated and len(result.stdout) <= cap
    return contained, f"status {result.status.value}, kept {len(result.stdout):,} bytes (cap {cap:,})"


def network(pool: SandboxPool) -> tuple[bool, str]:
    program = """
import socket
reached = []
for host, port in (("1.1.1.1", 53), ("8.8.8.8", 443), ("172.17.0.1", 2375), ("deb.debian.org", 80)):
    try:
        socket.create_connection((host, port), timeout=1).close()
        reached.append(host)
    except OSError:
        pass
interfaces = sorted(line.split(":")[0].strip() for line in open("/proc/net/dev").readlines()[2:])
print(",".join(reached) or "none", ",".join(interfaces))
"""
    return _stdout(pool, program, "none lo")


def root_writes(pool: SandboxPool) -> tuple[bool, str]:
    program = """
written = []
for path in ("/etc/passwd", "/opt/rlvr/runner.py", "/opt/rlvr/harness.py", "/usr/bin/python3", "/tmp/x", "/x"):
    try:
        with open(path, "a") as handle:
            handle.write("owned")
        written.append(path)
    except OSError:
        pass
print(",".join(written) or "none")
"""
    return _stdout(pool, program, "none")


def tmpfs_fill(pool: SandboxPool) -> tuple[bool, str]:
    program = (
        f"LIMIT = {pool.config.tmpfs_mb << 20}\n"
        + """
import errno
written, error = 0, None
try:
    for index in range(1000):
        with open(f"/work/fill{index}", "wb") as handle:
            for _ in range(8):
                handle.write(b"0" * (1 << 20))
                written += 1 << 20
except OSError as failure:
    error = errno.errorcode.get(failure.errno, failure.errno)
print(error, written <= LIMIT)
"""
    )
    contained, detail = _stdout(pool, program, "ENOSPC True", timeout=10.0)
    clean, clean_detail = _stdout(pool, "import os\nprint(len(os.listdir('/work')) - 1)", "0")  # main.py is there
    return contained and clean, f"{detail}; files left for the next program: {clean_detail}"


def orphan(pool: SandboxPool) -> tuple[bool, str]:
    program = """
import os, subprocess, sys
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        import time
        time.sleep(600)
    os._exit(0)
print("left")
"""
    launched, detail = _stdout(pool, program, "left")
    census = "import os\nprint(sum(name.isdigit() for name in os.listdir('/proc')) - 2)"  # minus runner and self
    alone, census_detail = _stdout(pool, census, "0")
    return launched and alone, f"{detail}; other processes at the next execution: {census_detail}"


def early_exit(pool: SandboxPool) -> tuple[bool, str]:
    return _no_pass(pool, "import sys\nsys.exit(0)\n")


def hard_exit(pool: SandboxPool) -> tuple[bool, str]:
    return _no_pass(pool, "import os\nos._exit(0)\n")


def fake_success(pool: SandboxPool) -> tuple[bool, str]:
    program = "print('All tests passed')\nprint('3/3 passed')\nimport sys\nsys.stdout.flush()\nimport os\nos._exit(0)\n"
    return _no_pass(pool, program)


def test_file_tampering(pool: SandboxPool) -> tuple[bool, str]:
    program = """
import glob, os
found = [path for pattern in ("/work/*", "/tmp/*", "/opt/rlvr/*") for path in glob.glob(pattern)]
for path in found + ["/work/test.py", "/work/tests.py"]:
    try:
        with open(path, "w") as handle:
            handle.write("assert True\\n")
    except OSError:
        pass
def double(x):
    return x
"""
    tests = AssertTests(("assert candidate(1) == 2", "assert candidate(3) == 6"), entry_point="double")
    return _no_pass(pool, program, tests)


def always_equal(pool: SandboxPool) -> tuple[bool, str]:
    program = """
class Anything:
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
def double(x):
    return Anything()
"""
    tests = AssertTests(("assert candidate(1) == 2", "assert candidate(3) == 6"), entry_point="double")
    first, detail = _no_pass(pool, program, tests)
    second, call_detail = _no_pass(pool, program)
    return first and second, f"asserts: {detail}; calls: {call_detail}"


def builtin_tampering(pool: SandboxPool) -> tuple[bool, str]:
    program = """
import builtins, math
math.isclose = lambda *args, **kwargs: True
builtins.abs = lambda x: 0
abs = lambda x: 0
def double(x):
    return x
"""
    tests = AssertTests(
        ("import math\nassert math.isclose(candidate(1.5), 3.0)", "assert abs(candidate(2) - 4) < 1e-9"),
        entry_point="double",
    )
    return _no_pass(pool, program, tests)


def harness_introspection(pool: SandboxPool) -> tuple[bool, str]:
    program = """
import gc, os, signal, sys
def forge(namespace):
    report = namespace.get("report") if isinstance(namespace, dict) else None
    if callable(report):
        for index in range(10):
            report(index, ok=True)
def walk(frame):
    while frame is not None:
        forge(frame.f_locals)
        frame = frame.f_back
attempts = [
    lambda: walk(sys._getframe()),
    lambda: walk(sys._current_frames()[next(iter(sys._current_frames()))]),
    lambda: [forge(getattr(f, "__closure__", None) and {"report": f}) for f in gc.get_objects() if callable(f)],
    lambda: signal.signal(signal.SIGUSR1, lambda number, frame: walk(frame)) or os.kill(os.getpid(), signal.SIGUSR1),
    lambda: __import__("ctypes").string_at(id(sys), 64),
    lambda: open("/proc/self/mem", "rb").read(1),
    lambda: __import__("_thread").start_new_thread(lambda: None, ()),
    lambda: setattr(sys.modules["harness"].run_asserts, "__code__", (lambda *a: None).__code__),
]
for attempt in attempts:
    try:
        attempt()
    except BaseException:
        pass
try:
    raise ValueError
except ValueError as error:
    try:
        walk(error.__traceback__.tb_frame)
    except BaseException:
        pass
def double(x):
    return x
"""
    tests = AssertTests(
        ("assert abs(candidate(2) - 4) < 1e-9", "assert candidate(3) in (6,)", "assert candidate(1) == 2"),
        entry_point="double",
    )
    return _no_pass(pool, program, tests)


def kill_init(pool: SandboxPool) -> tuple[bool, str]:
    program = """
import os, signal
for number in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    try:
        os.kill(1, number)
    except OSError:
        pass
try:
    os.kill(-1, signal.SIGKILL)
except OSError:
    pass
print("still here")
"""
    return _stdout(pool, program, "still here")


ATTACKS: tuple[Attack, ...] = (
    Attack("infinite_loop", "loops forever", infinite_loop),
    Attack("fork_bomb", "forks until the process limit, forever", fork_bomb),
    Attack("memory_bomb", "allocates memory until it is killed", memory_bomb),
    Attack("output_flood", "writes 100 MB to stdout", output_flood),
    Attack("network", "connects to the internet, the Docker host and DNS", network),
    Attack("root_writes", "writes to the root file system and the runner", root_writes),
    Attack("tmpfs_fill", "fills the work directory", tmpfs_fill),
    Attack("orphan", "leaves children running after it exits", orphan),
    Attack("early_exit", "calls sys.exit(0) before the tests run", early_exit),
    Attack("hard_exit", "calls os._exit(0) before the tests run", hard_exit),
    Attack("fake_success", "prints a success line and exits 0", fake_success),
    Attack("test_file_tampering", "reads and rewrites test files", test_file_tampering),
    Attack("always_equal", "returns an object equal to everything", always_equal),
    Attack("builtin_tampering", "replaces abs and math.isclose for the tests", builtin_tampering),
    Attack(
        "harness_introspection",
        "looks for the harness's reporter through frames, the GC, signals, ctypes, /proc/self/mem",
        harness_introspection,
    ),
    Attack("kill_init", "kills PID 1 and every process it can", kill_init),
)


def healthy(pool: SandboxPool) -> tuple[bool, str]:
    """An ordinary execution and an ordinary test run give the right answers."""
    result = pool.run("import sys\nprint(sum(map(int, sys.stdin.read().split())))", stdin="1 2 3", timeout=5.0)
    report = pool.run_tests("def double(x):\n    return 2 * x\n", DOUBLE, timeout=5.0)
    ok = result.ok and result.stdout == "6\n" and report.all_passed
    return ok, f"run {result.status.value} {result.stdout.strip()!r}, tests {report.passed}/{report.total}"


def run_attack(pool: SandboxPool, attack: Attack) -> tuple[bool, str]:
    """Fire ``attack``, then check the pool still serves; ``(both held, details)``."""
    try:
        contained, detail = attack.fire(pool)
    except Exception as error:  # an attack that breaks the host side is not contained
        contained, detail = False, f"the host raised {error!r}"
    fine, health = healthy(pool)
    return contained and fine, f"{detail}; afterwards: {health}"
