"""Tools that run the model's code in the sandbox: a Python interpreter session, and a program run.

* ``PYTHON`` (``python``): the episode's interpreter (``rlvr.sandbox.session``).
  Each call's ``code`` runs after the episode's earlier calls, whose variables,
  imports and functions it sees; the result is what the code printed, then its
  last expression's value, or its traceback. For tool-integrated reasoning
  (math with a code interpreter, as in ToRA).
* ``RUN_PROGRAM`` (``run``): one complete program run on the given standard
  input, with nothing kept; the result is its exit status, output and errors.
  For code tasks: the model tries its program on its own inputs before it
  answers, while the hidden tests alone decide the reward.

Both run with the sandbox's whole confinement (no network, limits on time,
memory, processes and output; see ``rlvr.sandbox.pool``) and need Docker and
the sandbox image. When the sandbox itself fails they raise ``ToolFault``, so
the episode ends with reward None instead of a score the model did not earn.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rlvr.envs.core.tools import Tool, ToolFault

__all__ = ["PYTHON", "RUN_PROGRAM", "python_session", "run_program"]


class _PythonCalls:
    """An episode's ``python`` tool: each call runs one cell in the episode's ``PythonSession``."""

    def __init__(self, timeout: float, pool: Any = None) -> None:
        from rlvr.sandbox.session import PythonSession

        self.session = PythonSession(timeout=timeout, pool=pool)

    def __call__(self, code: str) -> str:
        from rlvr.sandbox.session import SandboxFault

        try:
            result = self.session.run(code)
        except SandboxFault as fault:
            raise ToolFault(str(fault)) from None
        return result.output.rstrip("\n") or "(no output)"


def python_session(timeout: float, pool: Any = None) -> Callable[..., str]:
    """One episode's ``python`` tool: ``code -> output``, with state kept from call to call.

    Args:
        timeout: seconds each call's code may run.
        pool: a ``SandboxPool``; None: the process's shared pool.
    """
    return _PythonCalls(timeout, pool)


PYTHON = Tool(
    name="python",
    description=(
        "Run Python code in a persistent interpreter: variables, imports and functions from earlier calls are kept. "
        "Returns what the code prints, then the value of its last expression, or the error."
    ),
    parameters={
        "type": "object",
        "properties": {"code": {"type": "string", "description": "Python statements to run"}},
        "required": ["code"],
        "additionalProperties": False,
    },
    session=python_session,
)
"""The interpreter tool: argument ``code``; a session kept for the episode."""


def run_program(code: str, stdin: str = "", *, timeout: float = 5.0, pool: Any = None) -> str:
    """Run ``code`` as a complete program on ``stdin``; its exit status, standard output and errors, as text.

    Raises:
        ToolFault: the sandbox is unavailable or failed.
    """
    from rlvr.sandbox.errors import SandboxUnavailable
    from rlvr.sandbox.result import ExecStatus

    if pool is None:
        from rlvr.sandbox.pool import shared_pool

        try:
            pool = shared_pool()
        except SandboxUnavailable as error:
            raise ToolFault(str(error)) from None
    result = pool.run(code, stdin=stdin, timeout=timeout)
    if result.status is ExecStatus.SANDBOX_ERROR:
        raise ToolFault(result.message or "the sandbox failed")
    ended = {
        ExecStatus.OK: "exit code 0",
        ExecStatus.RUNTIME_ERROR: f"exit code {result.exit_code}",
        ExecStatus.TIMEOUT: f"stopped: ran longer than {timeout:g} s",
        ExecStatus.OOM: "stopped: out of memory",
        ExecStatus.OUTPUT_LIMIT: "stopped: too much output",
    }[result.status]
    parts = [ended, f"stdout:\n{result.stdout}" if result.stdout else "stdout: (empty)"]
    if result.stderr:
        parts.append(f"stderr:\n{result.stderr}")
    return "\n".join(parts)


def _program_runs(timeout: float) -> Callable[..., str]:
    def run(code: str, stdin: str = "") -> str:
        return run_program(code, stdin, timeout=timeout)

    return run


RUN_PROGRAM = Tool(
    name="run",
    description=(
        "Run a complete Python program on the given standard input and return its exit status, output and errors. "
        "Nothing is kept between runs."
    ),
    parameters={
        "type": "object",
        "properties": {
            "code": {"type": "string", "description": "the whole program"},
            "stdin": {"type": "string", "description": "its standard input (default empty)"},
        },
        "required": ["code"],
        "additionalProperties": False,
    },
    session=_program_runs,
)
"""The program-run tool: arguments ``code`` and ``stdin``; each call a fresh program."""
