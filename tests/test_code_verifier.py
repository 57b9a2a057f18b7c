"""The code verifier: reading programs out of completions, scoring them by unit tests, and the ways a model games it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rlvr.sandbox import AssertTests, CallTests, SandboxPool
from rlvr.verifiers.code import UnitTests, build_program, code_blocks, extract_code
from rlvr.verifiers.properties import check_verifier
from rlvr.verifiers.score import Score, Status


@dataclass(frozen=True)
class Problem:
    """A task as the verifier sees one: tests, and optionally the stub a body completes."""

    tests: AssertTests | CallTests
    entry_point: str | None = None
    stub: str | None = None
    reward_mode: str | None = None


def fenced(code: str, language: str = "python") -> str:
    return f"```{language}\n{code}\n```"


ADD = Problem(CallTests("add", (((1, 2), 3), ((0, 0), 0), ((-5, 5), 0), ((10, 7), 17))), "add")
ADD_RIGHT = "def add(a, b):\n    return a + b\n"
ADD_STUB = 'def add(a: int, b: int) -> int:\n    """Return a + b."""\n'


# --- extraction: hand cases ---------------------------------------------------------


def test_a_python_fence_gives_its_code():
    assert extract_code("Here it is:\n```python\nx = 1\ny = 2\n```\nDone.") == "x = 1\ny = 2"


@pytest.mark.parametrize("tag", ["python", "py", "Python3", "PY", "python title='x.py'"])
def test_python_tags_are_recognised_in_any_case_and_with_extra_info(tag):
    assert extract_code(f"```{tag}\nx = 1\n```") == "x = 1"


def test_an_untagged_fence_gives_its_code():
    assert extract_code("```\nprint(1)\n```") == "print(1)"


def test_the_last_python_block_wins_over_earlier_ones():
    completion = f"First try:\n{fenced('x = 1')}\nBetter:\n{fenced('x = 2')}\n"
    assert extract_code(completion) == "x = 2"


def test_a_python_block_wins_over_a_later_untagged_one():
    completion = f"{fenced('def f(): return 1')}\nOutput:\n```\n1\n```"
    assert extract_code(completion) == "def f(): return 1"


def test_blocks_of_other_languages_are_never_taken():
    assert extract_code(fenced("ls -la", "bash")) is None
    assert extract_code(f"{fenced('x = 1', '')}\n{fenced('x = 1 + 1', 'text')}") == "x = 1"


def test_an_empty_fence_is_skipped_and_only_empty_fences_give_none():
    assert extract_code(f"{fenced('x = 1')}\n```python\n```") == "x = 1"
    assert extract_code("```python\n\n   \n```") is None
    assert extract_code("```python\n```") is None


def test_an_unclosed_final_fence_takes_the_rest():
    assert extract_code("Sure.\n```python\ndef f():\n    return 3\n") == "def f():\n    return 3\n"


def test_a_fence_closes_only_with_at_least_as_many_backticks():
    completion = "````python\ns = '''\n```\n'''\n````"
    assert extract_code(completion) == "s = '''\n```\n'''"


def test_an_indented_fence_loses_its_indentation():
    completion = "1. Define it:\n   ```python\n   def f():\n       return 1\n   ```"
    assert extract_code(completion) == "def f():\n    return 1"


def test_inline_triple_backticks_are_not_a_fence():
    assert [b.code for b in code_blocks("Use ```x = 1``` here.\n```python\ny = 2\n```")] == ["y = 2"]


@pytest.mark.parametrize(
    "completion",
    [
        "<think>Loop.</think>\n<answer>```python\nx = 1\n```</answer>",
        "<think>Loop.</think>\n<answer>\n```python\nx = 1\n```\n</answer>",
    ],
)
def test_answer_tags_around_a_fence_do_not_hide_it(completion):
    assert extract_code(completion) == "x = 1"


def test_windows_line_endings_still_give_a_program():
    code = extract_code("```python\r\ndef f():\r\n    return 1\r\n```\r\n")
    assert code is not None
    compile(code, "<test>", "exec")


def test_bare_code_without_a_fence_is_the_program():
    assert extract_code("def f(x):\n    return x * 2\n") == "def f(x):\n    return x * 2\n"


@pytest.mark.parametrize(
    "completion",
    [
        "",
        "   \n\t",
        "I think you should use a loop and return the sum.",
        "The answer: def f(x): return x + 1 should work, I believe.",
        "Here is my solution:\ndef f(x):\n    return x\nIt doubles nothing.",
        "def f(x):\n\x00    return x",
        "def f(x):\n    return '\udcff'\nthen prose ) (",
    ],
    ids=["empty", "blank", "prose", "code-in-a-sentence", "code-between-prose", "nul", "surrogate"],
)
def test_prose_and_junk_without_a_fence_give_none(completion):
    assert extract_code(completion) is None


# --- extraction: properties -----------------------------------------------------------

CODE_LINES = st.text(st.characters(exclude_characters="\n`"), max_size=40)


@given(lines=st.lists(CODE_LINES, min_size=1, max_size=8), before=CODE_LINES, after=CODE_LINES)
def test_a_fenced_block_round_trips_whatever_prose_surrounds_it(lines, before, after):
    code = "\n".join(lines)
    completion = f"{before}\n```python\n{code}\n```\n{after}"
    assert extract_code(completion) == (code if code.strip() else None)


FENCE_SOUP = st.lists(st.sampled_from(["`", "```", "```python", "\n", " ", "x", "1", "def f():", "\t"]), max_size=40)


@given(text=FENCE_SOUP.map("".join))
def test_extraction_of_fence_soup_never_raises_and_gives_a_block_or_none(text):
    code = extract_code(text)
    if code is not None:
        assert code.strip()
        assert any(code == block.code for block in code_blocks(text)) or code == text


@pytest.mark.parametrize(
    "piece",
    [
        "`",
        "```\n",
        "```python\n",
        "```` ```\n",
        "```py ``` ```\n",
        "\n    ```\n",
        "``` x\n```\n",
        "<a>",
        "<a>```",
        "```>",
    ],
    ids=repr,
)
def test_extraction_is_linear_on_megabytes_of_backticks(piece):
    completion = piece * ((2 << 20) // len(piece))
    start = time.perf_counter()
    extract_code(completion)
    assert time.perf_counter() - start < 2.0


# --- build_program: stubs and bodies ------------------------------------------------


def test_without_a_stub_the_program_is_the_extracted_code():
    assert build_program(fenced(ADD_RIGHT)) == extract_code(fenced(ADD_RIGHT))


def test_a_bare_function_body_is_appended_to_the_stub():
    body = "    return a + b\n"
    assert build_program(body, ADD_STUB, "add") == ADD_STUB + body


def test_a_fenced_body_written_at_column_zero_is_indented_under_the_signature():
    program = build_program(fenced("total = a + b\nreturn total"), ADD_STUB, "add")
    assert program == ADD_STUB + "    total = a + b\n    return total"


def test_a_whole_function_runs_after_the_stub_so_its_imports_stay_available():
    stub = "from typing import List\n\n\ndef total(xs: List[int]) -> int:\n    " + '"""Sum."""\n'
    answer = fenced("def total(xs: List[int]) -> int:\n    return sum(xs)")
    program = build_program(answer, stub, "total")
    assert program is not None and program.startswith(stub) and program.endswith("return sum(xs)")


def test_prose_is_no_body():
    assert build_program("I am not sure how to do this.", ADD_STUB, "add") is None


def test_broken_fenced_code_still_runs_so_the_error_is_reported():
    program = build_program(fenced("def add(a, b)\n    return a +"), ADD_STUB, "add")
    assert program is not None and "return a +" in program


# --- scoring ----------------------------------------------------------------------


def test_a_right_program_scores_one_with_details(sandbox_pool):
    score = UnitTests(pool=sandbox_pool)(fenced(ADD_RIGHT), ADD)
    assert score == Score(1.0, Status.OK, {"passed": 4, "total": 4, "exec_status": "ok", "error": "", "failures": []})


def test_a_partly_right_program_scores_the_fraction_passed(sandbox_pool):
    score = UnitTests(pool=sandbox_pool)(fenced("def add(a, b):\n    return a + b if a >= 0 else 1"), ADD)
    assert (score.value, score.status, score.details["passed"]) == (0.75, Status.PARTIAL, 3)
    assert score.details["failures"] == [{"test": "add(-5, 5)", "message": "case 2: returned 1"}]


def test_in_mode_all_a_partly_right_program_scores_zero(sandbox_pool):
    completion = fenced("def add(a, b):\n    return a + b if a >= 0 else 1")
    score = UnitTests(mode="all", pool=sandbox_pool)(completion, ADD)
    assert (score.value, score.status, score.details["passed"]) == (0.0, Status.WRONG, 3)


def test_the_tasks_reward_mode_applies_unless_the_verifier_sets_one(sandbox_pool):
    completion = fenced("def add(a, b):\n    return a + b if a >= 0 else 1")
    strict = Problem(ADD.tests, "add", reward_mode="all")
    assert UnitTests(pool=sandbox_pool)(completion, strict).value == 0.0
    assert UnitTests(mode="fraction", pool=sandbox_pool)(completion, strict).value == 0.75


def test_a_failing_assert_test_is_named_with_its_message(sandbox_pool):
    tests = AssertTests.from_asserts(["assert add(1, 2) == 3", "assert add(2, 2) == 4"], entry_point="add")
    score = UnitTests(pool=sandbox_pool)(fenced("def add(a, b):\n    return 3"), Problem(tests, "add"))
    assert score.value == 0.5
    assert score.details["failures"] == [{"test": "add(2, 2)", "message": "AssertionError: got 3"}]


def test_humanevals_candidate_is_named_as_the_function_in_failures(sandbox_pool):
    tests = AssertTests.from_humaneval("def check(candidate):\n    assert candidate(1, 2) == 3\n", "add")
    score = UnitTests(pool=sandbox_pool)(fenced("def add(a, b):\n    return 0"), Problem(tests, "add"))
    assert score.details["failures"] == [{"test": "add(1, 2)", "message": "AssertionError: got 0"}]


def test_a_crash_at_import_fails_every_test_and_says_why(sandbox_pool):
    score = UnitTests(pool=sandbox_pool)(fenced("raise ValueError('boom')\n" + ADD_RIGHT), ADD)
    assert (score.value, score.status) == (0.0, Status.WRONG)
    assert "ValueError: boom" in score.details["failures"][0]["message"]
    assert len(score.details["failures"]) == 3  # kept short


def test_a_program_past_the_time_limit_scores_zero_and_says_timeout(sandbox_pool):
    score = UnitTests(pool=sandbox_pool, timeout=1.0)(fenced("while True:\n    pass"), ADD)
    assert (score.value, score.details["exec_status"]) == (0.0, "timeout")
    assert score.details["error"].startswith("timeout")


def test_no_program_is_unparseable_and_never_reaches_the_sandbox():
    closed = SandboxPool()
    closed.close()  # a verdict from this pool would be a sandbox error: value None
    score = UnitTests(pool=closed)("I would loop over the numbers.", ADD)
    assert (score.value, score.status) == (0.0, Status.UNPARSEABLE)


def test_a_task_without_tests_is_a_data_error():
    empty = Problem(AssertTests(("x = 1",)), "f")
    assert UnitTests()(fenced("x = 1"), empty) == Score(
        None, Status.DATA_ERROR, {"reason": "the task has no unit tests"}
    )


def test_a_program_over_the_size_cap_is_not_run():
    score = UnitTests(max_program_chars=100)(fenced("x = 1\n" * 50), ADD)
    assert (score.value, score.status) == (0.0, Status.WRONG)
    assert "not run" in score.details["error"]


# --- the sandbox down ---------------------------------------------------------------


def test_a_failed_sandbox_gives_no_value_never_zero():
    pool = SandboxPool()
    pool.close()  # every execution now ends in a sandbox error
    score = UnitTests(pool=pool)(fenced(ADD_RIGHT), ADD)
    assert (score.value, score.status) == (None, Status.VERIFIER_ERROR)
    assert "closed" in score.details["error"]


def test_no_docker_engine_gives_no_value_and_says_how_to_fix_it():
    script = textwrap.dedent(
        """
        from rlvr.sandbox import CallTests
        from types import SimpleNamespace
        from rlvr.verifiers.code import UnitTests
        task = SimpleNamespace(tests=CallTests("f", (((1,), 1),)))
        score = UnitTests()("```python\\ndef f(x):\\n    return x\\n```", task)
        print(score.value, score.status.value, score.details["error"])
        """
    )
    env = os.environ | {"DOCKER_HOST": "tcp://127.0.0.1:9"}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("None verifier_error sandbox unavailable: no Docker engine answers")


# --- gaming -------------------------------------------------------------------------

SQUARE_ASSERTS = Problem(
    AssertTests.from_asserts(
        ["assert square(3) == 9", "assert square(-4) == 16", "assert abs(square(1.5) - 2.25) < 1e-9"],
        entry_point="square",
    ),
    "square",
)
SQUARE_CALLS = Problem(CallTests("square", (((3,), 9), ((-4,), 16), ((7,), 49))), "square")
BOTH = pytest.mark.parametrize("task", [SQUARE_ASSERTS, SQUARE_CALLS], ids=["asserts", "calls"])

GAMES = {
    "prints-all-tests-passed": "print('All tests passed')\nprint('OK')\n",
    "sys-exit-at-import": "import sys\ndef square(x):\n    return 0\nsys.exit(0)\n",
    "os-exit-at-import": "import os\ndef square(x):\n    return 0\nos._exit(0)\n",
    "always-equal": (
        "class Anything:\n"
        "    def __eq__(self, other):\n        return True\n"
        "    def __lt__(self, other):\n        return True\n"
        "    def __sub__(self, other):\n        return self\n"
        "    def __rsub__(self, other):\n        return self\n"
        "    __abs__ = __sub__\n"
        "def square(x):\n    return Anything()\n"
    ),
    "always-equal-subclass-of-int": (
        "class Anything(int):\n    def __eq__(self, other):\n        return True\n"
        "def square(x):\n    return Anything(0)\n"
    ),
}


@BOTH
@pytest.mark.parametrize("game", GAMES, ids=list(GAMES))
def test_a_gaming_program_scores_zero(sandbox_pool, task, game):
    score = UnitTests(pool=sandbox_pool)(fenced(GAMES[game]), task)
    assert score.value == 0.0, score


def test_shadowing_a_builtin_the_tests_use_gains_nothing(sandbox_pool):
    program = "abs = lambda x: 0\ndef square(x):\n    return x * x + 1\n"
    tests = AssertTests.from_asserts(
        ["assert abs(square(2) - 4) < 1e-9", "assert abs(square(3) - 9) < 1e-9"], "", "square"
    )
    score = UnitTests(pool=sandbox_pool)(fenced(program), Problem(tests, "square"))
    assert score.value == 0.0, score


def test_monkeypatching_math_isclose_gains_nothing(sandbox_pool):
    program = "import math\nmath.isclose = lambda *a, **k: True\ndef square(x):\n    return -1.0\n"
    tests = AssertTests.from_asserts(["assert math.isclose(square(1.5), 2.25)"], "import math", "square")
    score = UnitTests(pool=sandbox_pool)(fenced(program), Problem(tests, "square"))
    assert score.value == 0.0, score


@BOTH
def test_reading_the_tests_from_disk_gains_nothing(sandbox_pool, task):
    # If the tests were ever written to a file, this program would find "square(-4)" in it and pass.
    program = textwrap.dedent(
        """
        import os
        found = False
        for root in ("/work", "/tmp", "/opt", "/var/tmp", "/dev/shm", "/run", "/home", "/root"):
            for folder, _, files in os.walk(root):
                for name in files:
                    try:
                        with open(os.path.join(folder, name), errors="ignore") as f:
                            found = found or "square(-4)" in f.read(1 << 20)
                    except OSError:
                        pass
        def square(x):
            return x * x if found else 0
        """
    )
    score = UnitTests(pool=sandbox_pool)(fenced(program), task)
    assert (score.value, score.details["exec_status"]) == (0.0, "ok"), score  # the search finished, found nothing


@BOTH
def test_overwriting_test_files_gains_nothing(sandbox_pool, task):
    program = textwrap.dedent(
        """
        import glob, os
        for path in glob.glob("/work/**", recursive=True) + glob.glob("/opt/rlvr/*") + ["/work/tests.py"]:
            try:
                with open(path, "w") as f:
                    f.write("assert True\\n")
            except OSError:
                pass
        def square(x):
            return 0
        """
    )
    score = UnitTests(pool=sandbox_pool)(fenced(program), task)
    assert score.value == 0.0, score


def test_calling_a_reporter_found_from_a_stack_frame_gains_nothing(sandbox_pool):
    program = textwrap.dedent(
        """
        import sys
        frame = sys._getframe(0)
        while frame is not None and "report" not in frame.f_locals:
            frame = frame.f_back
        if frame is not None:
            for i in range(10):
                frame.f_locals["report"](i, ok=True)
        def square(x):
            return 0
        """
    )
    score = UnitTests(pool=sandbox_pool)(fenced(program), SQUARE_ASSERTS)
    assert score.value == 0.0, score


def test_rewriting_the_tests_in_memory_gains_nothing(sandbox_pool):
    program = textwrap.dedent(
        """
        import sys
        frame = sys._getframe(0)
        while frame is not None and "spec" not in frame.f_locals:
            frame = frame.f_back
        if frame is not None:
            for step in frame.f_locals["spec"]["steps"]:
                step["code"] = "assert True"
        def square(x):
            return 0
        """
    )
    score = UnitTests(pool=sandbox_pool)(fenced(program), SQUARE_ASSERTS)
    assert score.value == 0.0, score


def test_a_body_cannot_escape_the_stub_to_redefine_the_tests_helpers(sandbox_pool):
    # the assert's own `abs` is restored, so a wrong body fails even after shadowing it
    stub = 'def square(x: float) -> float:\n    """Return x squared."""\n'
    body = "    return 0\nabs = lambda x: 0\n"
    score = UnitTests(pool=sandbox_pool)(body, Problem(SQUARE_ASSERTS.tests, "square", stub))
    assert (score.value, score.details["passed"]) == (0.0, 0), score


# --- the property kit -------------------------------------------------------------

PAIRS = st.lists(st.tuples(st.integers(-(10**6), 10**6), st.integers(-(10**6), 10**6)), min_size=1, max_size=5)
ADD_TASKS = PAIRS.map(lambda pairs: Problem(CallTests("add", tuple(((a, b), a + b) for a, b in pairs)), "add"))
WRONG_ADDS = st.sampled_from(
    [
        fenced("def add(a, b):\n    return a - b + 1"),
        fenced("def add(a, b):\n    return str(a + b)"),
        fenced("def sum2(a, b):\n    return a + b"),
        "def add(a, b):\n    return a + b + 1\n",
        fenced(GAMES["always-equal"].replace("square(x)", "add(a, b)")),
        "I cannot solve this.",
    ]
)


def test_the_verifier_keeps_every_promise_of_the_property_kit(sandbox_pool):
    check_verifier(
        UnitTests(pool=sandbox_pool),
        tasks=ADD_TASKS,
        reference=lambda task: f"Add them.\n{fenced(ADD_RIGHT)}",
        wrong=lambda task: WRONG_ADDS,
        max_examples=25,
    )


def test_the_verifier_keeps_every_promise_for_body_completions(sandbox_pool):
    stubbed = ADD_TASKS.map(lambda task: Problem(task.tests, "add", ADD_STUB))
    check_verifier(
        UnitTests(pool=sandbox_pool),
        tasks=stubbed,
        reference=lambda task: "    return a + b\n",
        wrong=lambda task: st.sampled_from(["    return a + b + 1\n", "    pass\n", "return a + b - 1"]),
        max_examples=15,
    )


def test_a_batch_gets_the_same_verdicts_as_one_by_one(sandbox_pool):
    verifier = UnitTests(pool=sandbox_pool)
    programs = [
        "def square(x):\n    return x * x\n",
        "def square(x):\n    return x\n",
        "import sys\nsys.exit(0)\n",
        "nope(",
    ]
    completions = [fenced(program) for program in programs] * 2
    tasks = [SQUARE_ASSERTS] * len(completions)
    batch = verifier.score_batch(completions, tasks)
    assert [score.value for score in batch] == [verifier(c, t).value for c, t in zip(completions, tasks, strict=True)]
    assert [score.value for score in batch[:4]] == [1.0, 0.0, 0.0, 0.0]
