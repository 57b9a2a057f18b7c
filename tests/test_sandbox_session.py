"""The Python session: state kept from call to call, REPL display, unfinished cells, faults, and the driver."""

from __future__ import annotations

import ast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rlvr.sandbox import SandboxConfig, SandboxPool
from rlvr.sandbox.result import ExecResult
from rlvr.sandbox.session import PythonSession, SandboxFault, session_program


def test_variables_imports_and_functions_from_one_call_exist_in_the_next(sandbox_pool):
    session = PythonSession(timeout=5, pool=sandbox_pool)
    assert session.run("import math\nx = 41\ndef square(n):\n    return n * n").output == ""
    assert session.run("x + 1").output == "42\n"
    assert session.run("print(square(x), math.factorial(5))").output == "1681 120\n"
    assert len(session.cells) == 3


def test_the_last_expression_is_shown_as_a_repl_shows_it_and_none_is_not(sandbox_pool):
    session = PythonSession(timeout=5, pool=sandbox_pool)
    assert session.run("'text'").output == "'text'\n"
    assert session.run("print('a')\nNone").output == "a\n"
    assert session.run("[1, 2][0]").output == "1\n"


def test_an_exception_shows_its_traceback_and_keeps_what_ran_before_it(sandbox_pool):
    session = PythonSession(timeout=5, pool=sandbox_pool)
    result = session.run("y = 7\n1 / 0\ny = 8")
    assert result.completed
    assert "ZeroDivisionError: division by zero" in result.output
    assert "session.py" not in result.output and "main.py" not in result.output  # the driver's frames are hidden
    assert session.run("y").output == "7\n"


def test_syntax_errors_and_sys_exit_are_shown_and_the_session_goes_on(sandbox_pool):
    session = PythonSession(timeout=5, pool=sandbox_pool)
    assert "SyntaxError" in session.run("def (:").output
    assert "SystemExit: 3" in session.run("z = 1\nimport sys\nsys.exit(3)").output
    assert session.run("z").output == "1\n"


def test_output_goes_out_in_the_order_written_stdout_and_stderr_together(sandbox_pool):
    session = PythonSession(timeout=5, pool=sandbox_pool)
    output = session.run("import sys\nprint('one')\nprint('two', file=sys.stderr)\nprint('three')").output
    assert output == "one\ntwo\nthree\n"


def test_earlier_cells_run_again_silently(sandbox_pool):
    session = PythonSession(timeout=5, pool=sandbox_pool)
    session.run("print('first call only')\nimport os\nos.write(1, b'raw')\ncount = 1")
    output = session.run("count += 1\ncount").output
    assert output == "2\n"  # nothing from the replay, even written to the file descriptor directly


def test_random_numbers_drawn_in_one_call_are_the_same_in_the_next(sandbox_pool):
    session = PythonSession(timeout=5, pool=sandbox_pool)
    shown = session.run("import random\nr = random.random()\nr").output
    assert session.run("r").output == shown


def test_a_cell_past_its_time_limit_is_reported_and_the_state_is_as_before(sandbox_pool):
    session = PythonSession(timeout=1, pool=sandbox_pool)
    session.run("w = 5")
    result = session.run("w = 6\nwhile True:\n    pass")
    assert not result.completed and result.status == "timeout"
    assert "did not finish" in result.output and "longer than 1 s" in result.output
    assert session.run("w").output == "5\n"
    assert session.cells == ["w = 5", "w"]


def test_a_cell_that_ends_the_process_is_reported_and_the_session_goes_on(sandbox_pool):
    session = PythonSession(timeout=5, pool=sandbox_pool)
    session.run("v = 3")
    for killer in ("import os\nos._exit(0)", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"):
        result = session.run(killer)
        assert not result.completed and result.output.startswith("[the code did not finish")
    assert session.run("v").output == "3\n"


def test_a_cell_printing_the_end_mark_of_another_call_cannot_pass_for_finished(sandbox_pool):
    session = PythonSession(timeout=5, pool=sandbox_pool)
    result = session.run("print('\\n--cell-end-0123456789abcdef--')\nimport os\nos._exit(1)")
    assert not result.completed


def test_a_sandbox_that_fails_is_a_fault_not_an_output():
    class BrokenPool:
        def run(self, program, *, stdin="", timeout=None):
            return ExecResult.sandbox_error("the container died")

    with pytest.raises(SandboxFault, match="the container died"):
        PythonSession(pool=BrokenPool()).run("1")


def test_sessions_run_side_by_side_on_one_pool_without_mixing_state():
    from concurrent.futures import ThreadPoolExecutor

    with SandboxPool(SandboxConfig(pool_size=2)) as pool:
        sessions = [PythonSession(timeout=5, pool=pool) for _ in range(4)]

        def play(pair):
            index, session = pair
            session.run(f"mine = {index}")
            return session.run("mine * 10").output

        with ThreadPoolExecutor(4) as executor:
            assert list(executor.map(play, enumerate(sessions))) == ["0\n", "10\n", "20\n", "30\n"]
        assert pool.retired == 0


@given(st.lists(st.text(max_size=40), min_size=1, max_size=4), st.text(alphabet="0123456789abcdef", max_size=16))
def test_the_driver_is_valid_python_carrying_the_cells_as_data(cells, mark):
    program = session_program(cells, mark)
    ast.parse(program)
    assert repr(mark) in program
