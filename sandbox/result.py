"""What one sandboxed execution returns: output, exit code, status, duration, and test outcomes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = ["ExecResult", "ExecStatus", "TestOutcome", "TestReport"]


class ExecStatus(str, Enum):
    """How an execution ended.

    All but the last describe the program; ``sandbox_error`` means the
    sandbox itself failed (engine gone, container died, protocol broken), and
    says nothing about the program: environments turn it into reward None.
    """

    OK = "ok"
    """The program exited with status 0 within its limits."""
    RUNTIME_ERROR = "runtime_error"
    """The program exited with a non-zero status, or was killed by a signal it brought on itself."""
    TIMEOUT = "timeout"
    """The program ran past its time limit and was killed."""
    OOM = "oom"
    """The program ran out of memory (the container's limit) and was killed."""
    OUTPUT_LIMIT = "output_limit"
    """The program wrote more than the output cap to stdout or stderr and was killed."""
    SANDBOX_ERROR = "sandbox_error"
    """The sandbox failed; no verdict on the program."""


@dataclass(frozen=True)
class ExecResult:
    """One execution's outcome.

    Attributes:
        status: how it ended.
        exit_code: the program's exit status; negative for a signal
            (-9: killed); None when it never ran or its end was not seen.
        stdout: what it wrote to stdout (UTF-8, undecodable bytes replaced),
            at most the output cap.
        stderr: the same for stderr.
        stdout_truncated: True when stdout was cut at the cap.
        stderr_truncated: True when stderr was cut at the cap.
        duration: wall-clock seconds from start to end of the program, as
            measured inside the container (0.0 when it never ran).
        message: for ``sandbox_error``, what went wrong and how to fix it.
    """

    status: ExecStatus
    exit_code: int | None
    stdout: str = ""
    stderr: str = ""
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    duration: float = 0.0
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status is ExecStatus.OK

    @classmethod
    def sandbox_error(cls, message: str) -> ExecResult:
        """A failure of the sandbox, not of the program."""
        return cls(ExecStatus.SANDBOX_ERROR, None, message=message)


@dataclass(frozen=True)
class TestOutcome:
    """One test's verdict: passed or not, and a short reason when not (an assertion, an exception, "not run")."""

    passed: bool
    message: str = ""


@dataclass(frozen=True)
class TestReport:
    """A test run: the execution of the program and its tests, and one outcome per test, in the order of the tests.

    A test whose verdict never reached the host (the program exited, crashed
    or was killed first) counts as failed with message ``"not run"``.
    """

    execution: ExecResult
    outcomes: tuple[TestOutcome, ...]

    @property
    def total(self) -> int:
        return len(self.outcomes)

    @property
    def passed(self) -> int:
        return sum(outcome.passed for outcome in self.outcomes)

    @property
    def fraction(self) -> float:
        """Share of tests passed, in [0, 1] (0.0 for no tests)."""
        return self.passed / self.total if self.total else 0.0

    @property
    def all_passed(self) -> bool:
        return self.total > 0 and self.passed == self.total

    @property
    def infrastructure_failure(self) -> bool:
        """True when the sandbox failed: the outcomes say nothing about the program."""
        return self.execution.status is ExecStatus.SANDBOX_ERROR
