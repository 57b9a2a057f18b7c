"""Code verifier: run the model's program against unit tests in the sandbox.

The reward of code environments (HumanEval, MBPP, rlvr/Code-v0). Two parts:

* ``extract_code``: the Python program in a completion, read from its
  Markdown code fences (or the whole completion when it is bare code);
  ``build_program`` adds HumanEval's rule for completions that are only a
  function body.
* ``UnitTests``: the verifier. It runs the program and the task's tests
  (``rlvr.sandbox.testspec.AssertTests`` or ``CallTests``) in the Docker sandbox
  and scores the share of tests passed (the scaled reward used for RLVR on
  code) or 1/0 for all tests passing.

Nothing here executes model code on the host: the only host-side checks are
``ast.parse`` and ``compile`` (which parse and compile, never run). A sandbox
that cannot run the program (Docker down, the image missing, a crashed
container) gives ``value=None`` with status ``verifier_error``, so a trainer
skips the sample instead of learning from a reward of 0 the model never
earned.
"""

from __future__ import annotations

import ast
import json
import logging
import re
import textwrap
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from rlvr.sandbox.errors import SandboxUnavailable
from rlvr.sandbox.result import TestReport
from rlvr.sandbox.testspec import AssertTests, CallTests
from rlvr.verifiers.reasoning import answer_text
from rlvr.verifiers.score import Score, Status

__all__ = ["PYTHON_TAGS", "CodeBlock", "RewardMode", "UnitTests", "build_program", "code_blocks", "extract_code"]

logger = logging.getLogger(__name__)

RewardMode = Literal["fraction", "all"]
"""``fraction``: the share of tests passed; ``all``: 1.0 when every test passes, else 0.0."""

PYTHON_TAGS = frozenset({"python", "py", "python3", "py3"})
"""Fence languages read as Python (compared lower-cased): ```` ```python ````, ```` ```py ````, ..."""

_FENCE = "```"
_INDENT = "    "
_MAX_TAG = 40  # longest tag, in characters, that _without_tags removes
_DETAIL_CHARS = 300  # longest text kept in one detail (an error, a test), so logs stay small
_MAX_FAILURES = 3  # failed tests described in details
_CANDIDATE = re.compile(r"\bcandidate\b")


# --- extraction ----------------------------------------------------------------


@dataclass(frozen=True)
class CodeBlock:
    """One fenced code block of a completion.

    Attributes:
        language: the first word of the fence's info string, lower-cased
            (``"python"`` for ```` ```Python title="x" ````); ``""`` when untagged.
        code: the lines between the fences, without the fence's own indentation.
        closed: False for a final fence that was never closed (it runs to the end).
    """

    language: str
    code: str
    closed: bool = True


def code_blocks(completion: str) -> list[CodeBlock]:
    """Every fenced code block in ``completion``, in order.

    A fence is a line of three or more backticks (leading whitespace allowed),
    optionally followed by an info string without backticks (the language).
    It closes at the next line holding only backticks, at least as many as
    opened it; an unclosed final fence takes the rest of the text. As in
    CommonMark, content lines lose up to as many leading spaces as the
    opening fence was indented. Unlike CommonMark, tags around a fence line
    are ignored, so ``<answer>```python`` opens a block and ``````</answer>``
    closes one (the R1 format puts code in answer tags). One pass over the
    lines: linear time.
    """
    blocks: list[CodeBlock] = []
    lines = completion.split("\n")
    opened: tuple[int, str, int, int] | None = None  # (backticks, language, first content line, indent)
    for number, line in enumerate(lines):
        if _FENCE not in line:
            continue
        stripped = _without_tags(line.strip())
        if not stripped.startswith(_FENCE):
            continue
        ticks = len(stripped) - len(stripped.lstrip("`"))
        if opened is None:
            info = stripped[ticks:].strip()
            if "`" in info:  # inline code such as ```x``` on one line, not a fence
                continue
            language = info.split(maxsplit=1)[0].lower() if info else ""
            indent = len(line) - len(line.lstrip(" "))
            opened = (ticks, language, number + 1, indent)
        elif ticks == len(stripped) and ticks >= opened[0]:
            blocks.append(_block(lines, opened, end=number, closed=True))
            opened = None
    if opened is not None:
        blocks.append(_block(lines, opened, end=len(lines), closed=False))
    return blocks


def _without_tags(text: str) -> str:
    """``text`` without the short tags (``<answer>``, ``</answer>``) that lead or end it."""
    start, end = 0, len(text)
    while start < end and text[start] == "<":
        close = text.find(">", start, min(end, start + _MAX_TAG))
        if close == -1 or "<" in text[start + 1 : close]:
            break
        start = close + 1
        while start < end and text[start] in " \t":
            start += 1
    while end > start and text[end - 1] == ">":
        opening = text.rfind("<", max(start, end - _MAX_TAG), end - 1)
        if opening == -1 or ">" in text[opening + 1 : end - 1]:
            break
        end = opening
        while end > start and text[end - 1] in " \t":
            end -= 1
    return text[start:end]


def _block(lines: list[str], opened: tuple[int, str, int, int], end: int, closed: bool) -> CodeBlock:
    _, language, start, indent = opened
    content = lines[start:end]
    if indent:
        content = [line[min(indent, len(line) - len(line.lstrip(" "))) :] for line in content]
    return CodeBlock(language, "\n".join(content), closed)


def extract_code(completion: str) -> str | None:
    """The Python program in a completion, or None.

    * With fenced code blocks: the last non-blank block tagged as Python
      (``PYTHON_TAGS``), else the last non-blank untagged block. Blocks
      tagged as another language (```` ```text ````, ```` ```bash ````) are
      never taken, and blank blocks are skipped.
    * Without any fence: the whole completion, when it is not blank and
      ``ast.parse`` accepts it (bare code, as a base model writes it).

    Linear time in the length of the completion.
    """
    blocks = code_blocks(completion)
    if blocks:
        candidates = [block for block in blocks if block.code.strip()]
        python = [block for block in candidates if block.language in PYTHON_TAGS]
        untagged = [block for block in candidates if not block.language]
        chosen = python or untagged
        return chosen[-1].code if chosen else None
    if completion.strip() and _parses(completion):
        return completion
    return None


def build_program(completion: str, stub: str | None = None, entry_point: str | None = None) -> str | None:
    """The program to run for ``completion``, or None when it holds none.

    Without a ``stub`` this is ``extract_code(completion)``.

    With a ``stub`` (HumanEval's prompt: imports, helpers, then the signature
    and docstring of ``entry_point``), a completion may be either of the two
    things models write for such a prompt:

    1. A whole program that defines ``entry_point`` at top level (chat
       models re-write the function, usually in a fence). It runs after the
       stub, so the stub's imports and helper functions stay available
       (``List`` in a copied signature, ``is_palindrome`` in HumanEval/10),
       and its definition replaces the stub's.
    2. Only the function body (a base model continuing the prompt, or a
       fenced body). The body is the extracted code when there is any, else
       the raw completion; it runs appended to the stub, as written when
       that compiles, else re-indented under the signature. As in the
       original benchmark, nothing after the body is cut off: a sampler
       should stop at HumanEval's stop sequences (``"\\ndef"``, ...) if it
       does not want trailing code run.

    A body that compiles in neither way gives None, unless there was
    extracted code: then stub + code runs, and the sandbox reports the error.
    "Compiles" means CPython's ``compile`` on the host accepts it.
    """
    code = extract_code(completion)
    if stub is None:
        return code
    stub = stub if stub.endswith("\n") else stub + "\n"
    if code is not None and entry_point is not None and _defines(code, entry_point):
        return f"{stub}\n\n{code}"
    body = code if code is not None else completion
    if body.strip():
        reindented = textwrap.indent(textwrap.dedent(body), _INDENT)
        for candidate in (body, reindented):
            program = stub + candidate
            if _compiles(program):
                return program
    return None if code is None else f"{stub}\n\n{code}"


def _parses(source: str) -> bool:
    try:
        ast.parse(source)
    except Exception:  # SyntaxError, ValueError (NUL bytes), UnicodeError, RecursionError, MemoryError
        return False
    return True


def _compiles(source: str) -> bool:
    try:
        compile(source, "<program>", "exec", dont_inherit=True)
    except Exception:
        return False
    return True


def _defines(code: str, name: str) -> bool:
    """True when ``code`` parses and binds ``name`` at top level (a def, a class or an assignment)."""
    try:
        module = ast.parse(code)
    except Exception:
        return False
    for node in module.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.name == name:
            return True
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(target, ast.Name) and target.id == name for target in targets):
                return True
    return False


# --- the verifier --------------------------------------------------------------


class TestRunner(Protocol):
    """What ``UnitTests`` needs of a sandbox: ``sandbox.SandboxPool`` is one."""

    def run_tests(self, program: str, tests: Any, *, timeout: float | None = None) -> TestReport: ...


class UnitTests:
    """Score a completion by the unit tests its program passes, run in the sandbox.

    Args:
        mode: ``"fraction"`` (value = share of tests passed) or ``"all"``
            (1.0 when all pass, else 0.0). None: the task's ``reward_mode``
            attribute, else ``"fraction"``.
        pool: the sandbox to run in (anything with ``run_tests``, such as a
            ``sandbox.SandboxPool``). None: ``sandbox.shared_pool()``,
            fetched on the first call, so building the verifier never needs
            Docker.
        timeout: seconds the program and its tests may run. None: the task's
            ``timeout`` attribute, else the sandbox's default.
        max_program_chars: a longer program is not run and scores 0
            (``wrong``).

    The task must have ``tests`` (an ``AssertTests`` or ``CallTests``), and
    may have ``stub`` and ``entry_point`` (see ``build_program``).

    Statuses: ``ok`` (all tests pass); ``partial`` (some pass, mode
    ``fraction``); ``wrong`` (otherwise); ``unparseable`` (no program in the
    completion, value 0.0); ``data_error`` (the task has no tests) and
    ``verifier_error`` (the sandbox is unavailable or failed), both with
    value None. Details: ``passed``, ``total``, ``exec_status`` (how the
    run ended, ``sandbox.ExecStatus``), ``error`` (a short message) and
    ``failures`` (up to three ``{"test", "message"}`` for failed tests).
    It never raises on a completion.
    """

    __test__ = False  # not a pytest test class, despite the name

    def __init__(
        self,
        mode: RewardMode | None = None,
        pool: TestRunner | None = None,
        timeout: float | None = None,
        max_program_chars: int = 200_000,
    ) -> None:
        if mode not in (None, "fraction", "all"):
            raise ValueError(f"mode must be 'fraction' or 'all', got {mode!r}")
        self.mode = mode
        self.timeout = timeout
        self.max_program_chars = max_program_chars
        self._pool = pool

    @property
    def pool(self) -> TestRunner:
        """The sandbox; ``sandbox.shared_pool()`` on first use unless one was given.

        Raises:
            sandbox.SandboxUnavailable: Docker or the sandbox image is missing.
        """
        if self._pool is None:
            from rlvr.sandbox.pool import shared_pool

            self._pool = shared_pool()
        return self._pool

    def __call__(self, completion: str, task: Any) -> Score:
        """Run ``completion``'s program against ``task.tests``; see the class docstring."""
        tests = getattr(task, "tests", None)
        if not isinstance(tests, AssertTests | CallTests) or tests.total == 0:
            return Score.no_judgement(Status.DATA_ERROR, reason="the task has no unit tests")
        total = tests.total
        if len(completion) > self.max_program_chars:  # before parsing: parsing megabytes takes seconds
            error = f"the completion has {len(completion):,} characters, over {self.max_program_chars:,}; not run"
            return Score.fail(Status.WRONG, passed=0, total=total, exec_status=None, error=error)
        answer = answer_text(completion)  # a program written in the reasoning is not the answer
        program = build_program(answer, getattr(task, "stub", None), getattr(task, "entry_point", None))
        if program is None:
            return Score.fail(Status.UNPARSEABLE, passed=0, total=total, error="no Python program found")
        if len(program) > self.max_program_chars:
            error = f"the program has {len(program):,} characters, over {self.max_program_chars:,}; not run"
            return Score.fail(Status.WRONG, passed=0, total=total, exec_status=None, error=error)
        if not _encodes(program):
            error = "the program is not valid UTF-8 text (it holds lone surrogates); not run"
            return Score.fail(Status.WRONG, passed=0, total=total, exec_status=None, error=error)
        timeout = self.timeout if self.timeout is not None else getattr(task, "timeout", None)
        report = self._run(program, tests, timeout)
        if isinstance(report, str):
            return Score.no_judgement(Status.VERIFIER_ERROR, error=report)
        if report.infrastructure_failure:
            return Score.no_judgement(Status.VERIFIER_ERROR, error=_short(report.execution.message))
        if report.total != total:
            error = f"the sandbox reported {report.total} test outcomes for {total} tests"
            return Score.no_judgement(Status.VERIFIER_ERROR, error=error)
        return self._score(report, tests, getattr(task, "reward_mode", None))

    def score_batch(self, completions: Sequence[str], tasks: Sequence[Any]) -> list[Score]:
        """Judge many completions at once, as many at a time as the sandbox has containers.

        Returns one ``Score`` per completion, in order, each what ``self(completion, task)`` returns.
        """
        try:
            at_once = int(getattr(getattr(self.pool, "config", None), "pool_size", 1))
        except SandboxUnavailable:
            at_once = 1  # every judgement will say the sandbox is unavailable
        with ThreadPoolExecutor(max(1, at_once)) as executor:
            return list(executor.map(self, completions, tasks))

    def _run(self, program: str, tests: AssertTests | CallTests, timeout: float | None) -> TestReport | str:
        """The report, or why the sandbox could not produce one."""
        try:
            return self.pool.run_tests(program, tests, timeout=timeout)
        except SandboxUnavailable as error:
            return _short(f"sandbox unavailable: {error}", 1000)
        except Exception as error:  # a failure of the machinery, never of the model's program
            logger.exception("the sandbox failed on a test run")
            return _short(f"sandbox failure: {type(error).__name__}: {error}", 1000)

    def _score(self, report: TestReport, tests: AssertTests | CallTests, task_mode: Any) -> Score:
        mode = self.mode or (task_mode if task_mode in ("fraction", "all") else "fraction")
        failures = _failures(report, tests)
        details: dict[str, Any] = {
            "passed": report.passed,
            "total": report.total,
            "exec_status": report.execution.status.value,
            "error": _error(report, failures),
            "failures": failures[:_MAX_FAILURES],
        }
        if report.all_passed:
            return Score(1.0, Status.OK, details)
        if mode == "fraction" and report.passed:
            return Score(report.fraction, Status.PARTIAL, details)
        return Score(0.0, Status.WRONG, details)

    def __repr__(self) -> str:
        return f"UnitTests(mode={self.mode!r}, timeout={self.timeout!r})"


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _failures(report: TestReport, tests: AssertTests | CallTests) -> list[dict[str, str]]:
    """``{"test": what was tested, "message": why it failed}`` for each failed test, in order."""
    names = _test_names(tests)
    return [
        {"test": _short(names[i] if i < len(names) else f"test {i}"), "message": _short(outcome.message)}
        for i, outcome in enumerate(report.outcomes)
        if not outcome.passed
    ]


def _test_names(tests: AssertTests | CallTests) -> list[str]:
    """One line per test: the assert statement, or the expression of a value check, or the call with its
    arguments. Never the expected value of a value check or a call test: those stay hidden from the model.

    In assert statements HumanEval's ``candidate`` is written as the function's own name.
    """
    if isinstance(tests, AssertTests):
        statements = [step["code"] for step in tests.payload()["steps"] if step["test"]]
        if tests.entry_point:
            statements = [_CANDIDATE.sub(tests.entry_point, statement) for statement in statements]
        return statements
    return [f"{tests.function}({_arguments(args)})" for args, _ in tests.cases]


def _arguments(args: Sequence[Any]) -> str:
    return ", ".join(json.dumps(arg, ensure_ascii=False) for arg in args)


def _error(report: TestReport, failures: list[dict[str, str]]) -> str:
    """A short message: how the run ended when it did not end well, else the first failure."""
    execution = report.execution
    if not execution.ok:
        lines = [line for line in execution.stderr.strip().splitlines() if line.strip()]
        last = f": {lines[-1].strip()}" if lines else ""
        return _short(f"{execution.status.value} (exit code {execution.exit_code}){last}")
    return failures[0]["message"] if failures else ""


def _short(text: str, limit: int = _DETAIL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
