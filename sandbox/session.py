"""A Python interpreter session in the sandbox: code run call after call, with its state kept between calls.

A model that uses Python as a tool writes one piece of code per call (a
"cell"), the way it would type into a REPL or a notebook: variables, imports
and functions defined by one cell exist in the next, and a cell whose last
statement is an expression shows that expression's value.

``PythonSession`` keeps an episode's state as the list of cells that ran to
their end. Each call runs, as one ordinary sandboxed program
(``SandboxPool.run``), the earlier cells again with their output discarded,
then the new cell with its output captured. So every call has the sandbox's
whole confinement, no container is held while the model is writing its next
turn (a batch of any size shares the pool's containers, and nothing is left
to release when an episode ends or fails), and a container lost between two
calls loses nothing. The price is the replay time, small next to a
generation step for the few calls an episode makes. The interpreter seeds
``random`` the same way in every run, so code that draws random numbers
rebuilds the same state; code that reads the clock may not.

A cell that raises, or calls ``sys.exit``, shows its traceback and keeps its
effects up to the error, as in a REPL. A cell that does not run to its end (it
passed its time limit, ran out of memory, wrote past the output cap, or ended
the process with ``os._exit`` or a signal) is reported to the model, and the
session goes on from the state before it. Only a failure of the sandbox itself
is a fault (``SandboxFault``): the caller gives the episode reward None.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from rlvr.sandbox.result import ExecStatus

__all__ = ["CellResult", "PythonSession", "SandboxFault", "session_program"]


class SandboxFault(Exception):
    """The sandbox failed while running a cell (no engine, a container died, a broken stream).

    Nothing the model's code did: the episode cannot be judged.
    """


@dataclass(frozen=True)
class CellResult:
    """One call's outcome.

    Attributes:
        output: what the cell printed (stdout and stderr, interleaved as written), then its last
            expression's value, or its traceback; with a note when the cell did not run to its end.
        completed: the cell ran to its end (an exception it raised counts as an end); its effects are kept.
        status: how the sandboxed run ended (``ExecStatus`` value).
        seconds: the run's duration inside the container, replay included.
    """

    output: str
    completed: bool
    status: str
    seconds: float


_DRIVER = r'''
import ast, json, os, random, sys, traceback

CELLS = json.loads(%(cells)s)
MARK = %(mark)s


def run_cell(source, scope):
    """Run one cell in scope; show its last expression's value, or its traceback."""
    try:
        tree = ast.parse(source, "<cell>", "exec")
    except SyntaxError:
        traceback.print_exc(limit=0)
        return
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    try:
        exec(compile(tree, "<cell>", "exec"), scope)
        if last is not None:
            value = eval(compile(ast.Expression(last.value), "<cell>", "eval"), scope)
            if value is not None:
                print(repr(value))
    except BaseException:
        kind, error, trace = sys.exc_info()
        traceback.print_exception(kind, error, trace.tb_next)


random.seed(0)
sys.stdout.reconfigure(line_buffering=True)  # printed and raised text interleave as written
scope = {"__name__": "__main__", "__builtins__": __builtins__}
out, err = os.dup(1), os.dup(2)
quiet = os.open(os.devnull, os.O_WRONLY)
os.dup2(quiet, 1)
os.dup2(quiet, 2)
for cell in CELLS[:-1]:
    run_cell(cell, scope)
    sys.stdout.flush()
    sys.stderr.flush()
os.dup2(out, 1)
os.dup2(out, 2)
run_cell(CELLS[-1], scope)
sys.stdout.flush()
sys.stderr.flush()
os.write(out, ("\n" + MARK + "\n").encode())
'''


def session_program(cells: list[str], mark: str) -> str:
    """The program one call runs: ``cells[:-1]`` silently, then ``cells[-1]`` shown, then the line ``mark``."""
    return _DRIVER % {"cells": repr(json.dumps(cells)), "mark": repr(mark)}


@dataclass
class PythonSession:
    """One episode's interpreter (see the module docs).

    Args:
        timeout: seconds one cell may run, replay of the earlier cells not counted.
        pool: the sandbox pool; None: ``shared_pool()`` on first call.

    ``run(code)`` returns a ``CellResult`` and never raises for anything the code
    does; it raises ``SandboxFault`` when the sandbox fails.
    """

    timeout: float = 5.0
    pool: Any = None
    cells: list[str] = field(default_factory=list)
    """The cells that ran to their end, in order: the session's state."""
    replay_seconds: float = 0.0
    """How long the last completed run took: the time the next call spends replaying."""

    def run(self, code: str) -> CellResult:
        """Run ``code`` after the session's earlier cells; what it showed.

        Raises:
            SandboxFault: the sandbox is unavailable or failed.
        """
        from rlvr.sandbox.errors import SandboxUnavailable

        pool = self.pool
        if pool is None:
            from rlvr.sandbox.pool import shared_pool

            try:
                pool = self.pool = shared_pool()
            except SandboxUnavailable as error:
                raise SandboxFault(str(error)) from None
        mark = f"--cell-end-{secrets.token_hex(8)}--"
        limit = self.timeout + 2 * self.replay_seconds + 1.0
        result = pool.run(session_program([*self.cells, code], mark), timeout=limit)
        if result.status is ExecStatus.SANDBOX_ERROR:
            raise SandboxFault(result.message or "the sandbox failed")
        shown, ended, _ = result.stdout.partition(f"\n{mark}\n")
        completed = bool(ended) and result.status is ExecStatus.OK
        if completed:
            self.cells.append(code)
            self.replay_seconds = result.duration
            return CellResult(shown, True, result.status.value, result.duration)
        note = _unfinished(result.status, result.exit_code, self.timeout)
        joint = "" if not shown or shown.endswith("\n") else "\n"
        return CellResult(shown + joint + note, False, result.status.value, result.duration)


def _unfinished(status: ExecStatus, exit_code: int | None, timeout: float) -> str:
    """The note telling the model its cell did not finish, and that the state is as before it."""
    why = {
        ExecStatus.TIMEOUT: f"it ran longer than {timeout:g} s",
        ExecStatus.OOM: "it ran out of memory",
        ExecStatus.OUTPUT_LIMIT: "it wrote more output than allowed",
    }.get(status, f"the Python process ended (exit code {exit_code})")
    return f"[the code did not finish: {why}; variables are as they were before this call]"
