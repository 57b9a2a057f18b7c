"""rlvr/Math-v0: math problems with a final answer checked for mathematical equivalence.

Where tasks come from:

* by default, GSM8K-style word problems made offline (``rlvr.envs.math.problems``):
  task ``i`` is a pure function of ``random.Random(i)``, drawn from 28
  problem shapes (shopping and change, rates and time, sharing equally, ages,
  percentages, unit conversion, work and pay, ...), each with a worked
  solution in GSM8K's style and an exact integer answer. ``min_steps``,
  ``max_steps`` and ``size`` set the difficulty, ``level`` picks one of
  five presets, and ``reset(options={"level": k})`` or
  ``reset(options={"problem": name})`` switch per episode, for curricula.
* ``dataset=...``: a GSM8K- or MATH-format data set, a local ``.jsonl``,
  ``.json`` or ``.parquet`` file or a Hugging Face hub id, read with
  ``datasets``. ``format`` says which (by default it is told from the
  columns: ``question`` is GSM8K, ``problem`` is MATH):

  - GSM8K: ``question``, and ``answer`` whose final answer follows
    ``####`` (commas in it are dropped: ``#### 1,200`` is ``1200``); an
    ``answer`` that is a bare number is taken as it is.
  - MATH: ``problem``, ``solution``, optional ``level`` (``"Level 3"`` or
    3) and ``type`` (or ``subject``); the answer is an ``answer`` column
    when there is one (MATH-500), else the content of the *last*
    ``\\boxed{...}`` in the solution, nested braces kept.

  A record whose final answer cannot be found is left out, not kept as a
  task that can never be scored: the loader warns with the number of such
  records and the first of their row numbers (``MathSource.skipped`` holds
  them all), and a data set with no usable record is an error.

The reward is ``rlvr.verifiers.math_answer.MathAnswer``: the final answer, read
from where the prompt template asks for it (``\\boxed{}`` by default, the
``<answer>`` tags of ``r1``, or the last number for ``plain``), must be
mathematically equal to the reference (``1/2``, ``0.5`` and
``\\frac{1}{2}`` are one answer; ``25\\%`` and ``25`` too, under its default
percent policy ``"either"``, as MATH's graders drop the sign). The ``r1``
template adds the R1 format reward.

    env = gymnasium.make("rlvr/Math-v0", level=3)
    env = gymnasium.make("rlvr/Math-v0", dataset="openai/gsm8k", subset="main", split="test")
    env = gymnasium.make("rlvr/Math-v0", dataset="math500.jsonl", template="r1")
"""

from __future__ import annotations

import random
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ConfigDict, Field, model_validator

from rlvr.envs.core.registration import register
from rlvr.envs.core.sandbox_tools import PYTHON
from rlvr.envs.core.task import (
    DecontaminationOptions,
    GeneratedOrDataset,
    ProceduralSource,
    Task,
    TaskSource,
    check_source_options,
    read_dataset,
)
from rlvr.envs.core.templates import BOXED, PLAIN, R1, PromptTemplate
from rlvr.envs.math.problems import MAX_STEPS, PROBLEMS, SIZES, generate_problem
from rlvr.verifiers.extract import extract_boxed
from rlvr.verifiers.math_answer import MathAnswer
from rlvr.verifiers.numbers import parse_number
from rlvr.verifiers.recipes import answer_rubric
from rlvr.verifiers.rubric import Rubric

__all__ = [
    "LEVELS",
    "MathConfig",
    "MathRecords",
    "MathSource",
    "MathTask",
    "WordProblemSource",
    "detect_format",
    "gsm8k_task",
    "load_math",
    "math_rubric",
    "math_task",
]

DataFormat = Literal["gsm8k", "math"]

LEVELS: dict[int, dict[str, int]] = {
    1: {"min_steps": 1, "max_steps": 2, "size": 1},
    2: {"min_steps": 2, "max_steps": 3, "size": 1},
    3: {"min_steps": 2, "max_steps": 4, "size": 2},
    4: {"min_steps": 3, "max_steps": 5, "size": 3},
    5: {"min_steps": 4, "max_steps": 7, "size": 4},
}
"""Difficulty presets of the word problems, easiest first: each sets ``min_steps``, ``max_steps`` and ``size``."""


class MathTask(Task):
    """One math problem, e.g. a word problem with ``answer="72"`` or a MATH problem with ``answer="\\frac{1}{2}"``."""

    answer: str = Field(description="The reference final answer as text: '72', '1200', '\\frac{\\sqrt{3}}{2}'.")
    solution: str | None = Field(
        None, description="A worked solution (GSM8K style ending '#### <answer>', or MATH's), if the source has one."
    )
    source: str = Field(
        "procedural", description="Where the task came from: 'procedural', or the data set's file or hub id."
    )
    level: int | None = Field(
        None, description="Difficulty: the word-problem preset, or MATH's level (1 to 5), if known."
    )
    subject: str | None = Field(None, description="MATH's subject ('Algebra', 'Geometry', ...), if known.")
    problem: str | None = Field(None, description="The word-problem shape the task was drawn from, if procedural.")

    def reference_answer(self) -> str:
        """The reference final answer (``answer``)."""
        return self.answer


# --- configuration ------------------------------------------------------------------

_GENERATOR_FIELDS = frozenset({"problems", "min_steps", "max_steps", "size", "level"})
_DATASET_FIELDS = frozenset({"format", "split", "subset"})


class MathConfig(DecontaminationOptions):
    """Task options of rlvr/Math-v0."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dataset: str | None = Field(
        None,
        description="Read tasks from a GSM8K- or MATH-format data set instead of generating word problems: "
        "a local .jsonl, .json or .parquet file, or a Hugging Face hub id (read with the datasets library).",
    )
    format: Literal["auto", "gsm8k", "math"] = Field(
        "auto",
        description="The data set's format: gsm8k (question, answer with '#### <answer>'), math (problem, solution "
        "with \\boxed{}, or an answer column), or auto: told from the columns.",
    )
    split: str = Field("train", description="Split of the data set to read (a local file is read as this split).")
    subset: str | None = Field(
        None, description="Configuration of a hub data set, if it has several (openai/gsm8k: 'main' or 'socratic')."
    )
    problems: list[str] | None = Field(
        None,
        min_length=1,
        description=f"Word-problem shapes to draw from; default all {len(PROBLEMS)}: {', '.join(PROBLEMS)}.",
    )
    min_steps: int = Field(
        2, ge=1, le=MAX_STEPS, description="Fewest calculation steps in a word problem's worked solution."
    )
    max_steps: int = Field(4, ge=1, le=MAX_STEPS, description="Most calculation steps in a word problem's solution.")
    size: int = Field(
        2,
        ge=min(SIZES),
        le=max(SIZES),
        description="Size of the numbers in word problems, 1 (counts under 7, prices under 13) to 4 (into thousands).",
    )
    level: int | None = Field(
        None, description=f"Difficulty preset {min(LEVELS)}..{max(LEVELS)}; sets min_steps, max_steps and size."
    )

    @model_validator(mode="after")
    def _check(self) -> MathConfig:
        check_source_options(self, _GENERATOR_FIELDS, _DATASET_FIELDS)
        if self.dataset is not None:
            return self
        if self.level is not None:
            if self.level not in LEVELS:
                raise ValueError(f"level must be one of {sorted(LEVELS)}, got {self.level}")
            overridden = {"min_steps", "max_steps", "size"} & self.model_fields_set
            if overridden:
                raise ValueError(f"level sets min_steps, max_steps and size; do not also give {sorted(overridden)}")
            for name, value in LEVELS[self.level].items():
                object.__setattr__(self, name, value)
        if self.min_steps > self.max_steps:
            raise ValueError(f"min_steps={self.min_steps} is more than max_steps={self.max_steps}")
        unknown = sorted(set(self.problems or ()) - set(PROBLEMS))
        if unknown:
            raise ValueError(f"unknown problems {unknown}; choose from {sorted(PROBLEMS)}")
        wanted = set(range(self.min_steps, self.max_steps + 1))
        if not any(PROBLEMS[name].steps & wanted for name in self.problems or PROBLEMS):
            raise ValueError(
                f"min_steps..max_steps: no chosen problem can be written in {self.min_steps}..{self.max_steps} steps"
            )
        return self


# --- generated word problems -----------------------------------------------------------


class WordProblemSource(ProceduralSource):
    """GSM8K-style word problems drawn per ``MathConfig``; task ``i`` depends on ``i`` alone.

    Reset options: ``level`` (a preset, in place of the config's difficulty)
    and ``problem`` (one shape by name).
    """

    options = frozenset({"level", "problem"})

    def __init__(self, config: MathConfig | None = None) -> None:
        self.config = config or MathConfig()

    def generate(self, rng: random.Random, **options: Any) -> MathTask:
        """A word problem under this source's config, or under preset ``level`` or of shape ``problem``."""
        config = self.config
        level = options.get("level")
        if level is not None:
            config = MathConfig(level=level, problems=config.problems)
        problem = options.get("problem")
        if problem is not None and problem not in PROBLEMS:
            raise ValueError(f"unknown problem {problem!r}; choose from {sorted(PROBLEMS)}")
        word = generate_problem(
            rng,
            problems=[problem] if problem is not None else config.problems,
            min_steps=config.min_steps,
            max_steps=config.max_steps,
            size=config.size,
        )
        return MathTask(
            question=word.question,
            answer=str(word.answer),
            solution=word.solution,
            level=config.level,
            problem=word.problem,
        )


# --- GSM8K- and MATH-format data sets ---------------------------------------------------


@dataclass(frozen=True)
class MathRecords:
    """A data set read by ``load_math``.

    Attributes:
        tasks: one task per usable record, in order.
        skipped: row numbers of the records left out (no final answer found).
        format: the format the records were read in.
    """

    tasks: tuple[MathTask, ...]
    skipped: tuple[int, ...]
    format: DataFormat


def detect_format(columns: list[str] | tuple[str, ...]) -> DataFormat:
    """``gsm8k`` for a ``question`` column, ``math`` for a ``problem`` column.

    Raises:
        ValueError: neither column, or both.
    """
    has_question, has_problem = "question" in columns, "problem" in columns
    if has_question == has_problem:
        what = "both 'question' and 'problem'" if has_question else "neither 'question' nor 'problem'"
        raise ValueError(
            f"cannot tell the data set's format from its columns {sorted(columns)} ({what}); "
            f"give format='gsm8k' (question, answer) or format='math' (problem, solution)"
        )
    return "gsm8k" if has_question else "math"


_REQUIRED: dict[str, tuple[str, ...]] = {"gsm8k": ("question", "answer"), "math": ("problem",)}


def load_math(
    source: str, *, format: Literal["auto", "gsm8k", "math"] = "auto", split: str = "train", subset: str | None = None
) -> MathRecords:
    """The tasks of a GSM8K- or MATH-format data set, read with the ``datasets`` library.

    Args:
        source: a local ``.jsonl``/``.json``/``.parquet`` file (read as split
            ``split``), or a Hugging Face hub id (``openai/gsm8k``).
        format: ``gsm8k``, ``math``, or ``auto`` (``detect_format``).
        split: the split to read.
        subset: the hub data set's configuration, if it has several.

    Returns:
        The usable records as tasks (``gsm8k_task``, ``math_task``) and the
        row numbers of those left out for want of a final answer, of which a
        warning gives the count.

    Raises:
        ImportError: ``datasets`` is not installed.
        ValueError: a required column is missing, the format cannot be told,
            or no record has a final answer.
    """
    rows = read_dataset(source, split, subset, what="math data sets")
    columns = list(rows.column_names)
    data_format: DataFormat = detect_format(columns) if format == "auto" else format
    missing = [name for name in _REQUIRED[data_format] if name not in columns]
    if data_format == "math" and "solution" not in columns and "answer" not in columns:
        missing.append("solution (or answer)")
    if missing:
        raise ValueError(f"{source}: a {data_format} data set needs the field(s) {missing}; it has {sorted(columns)}")
    make_task = gsm8k_task if data_format == "gsm8k" else math_task
    tasks, skipped = [], []
    for index, row in enumerate(rows):
        task = make_task(row, source=source)
        if task is None:
            skipped.append(index)
        else:
            tasks.append(task)
    if not tasks:
        raise ValueError(f"{source}: none of its {len(skipped)} records (split {split!r}) has a final answer")
    if skipped:
        where = "GSM8K needs '#### <answer>' in 'answer'" if data_format == "gsm8k" else "MATH needs a \\boxed{} answer"
        first = ", ".join(str(i) for i in skipped[:10]) + (", ..." if len(skipped) > 10 else "")
        warnings.warn(
            f"{source}: left out {len(skipped)} of {len(skipped) + len(tasks)} records with no final answer "
            f"({where}); rows {first}",
            stacklevel=2,
        )
    return MathRecords(tuple(tasks), tuple(skipped), data_format)


def gsm8k_task(row: Mapping[str, Any], source: str = "gsm8k") -> MathTask | None:
    """One GSM8K record as a task, or None when its final answer cannot be found.

    The answer is what follows the last ``####`` of ``answer``, commas
    dropped (``#### 1,200`` -> ``1200``); an ``answer`` that is a bare number
    (``42``, ``"1,200"``) is the answer itself. The whole ``answer`` text is
    the task's solution.
    """
    question, text = row.get("question"), row.get("answer")
    if not question or text is None or isinstance(text, bool):
        return None
    text = str(text)
    if "####" in text:
        final = text.rsplit("####", 1)[1]
        solution: str | None = text
    else:
        final = text if parse_number(text) is not None else ""
        solution = None
    answer = final.strip().replace(",", "")
    if not answer:
        return None
    return MathTask(question=str(question), answer=answer, solution=solution, source=source)


_LEVEL = re.compile(r"\d+")


def math_task(row: Mapping[str, Any], source: str = "math") -> MathTask | None:
    """One MATH record as a task, or None when its final answer cannot be found.

    The answer is the record's ``answer`` field when it has a non-empty one,
    else the content of the last ``\\boxed{...}`` (or ``\\fbox{...}``) of
    ``solution``, nested braces kept. ``level`` (``"Level 3"`` or ``3``;
    ``"Level ?"`` is unknown) and ``type`` (or ``subject``) are kept.
    """
    problem, solution = row.get("problem"), row.get("solution")
    if not problem:
        return None
    answer = row.get("answer")
    answer = str(answer).strip() if answer is not None else ""
    if not answer and solution:
        answer = extract_boxed(str(solution)) or ""
    if not answer:
        return None
    level = row.get("level")
    if isinstance(level, str):
        match = _LEVEL.search(level)
        level = int(match.group()) if match else None
    elif not isinstance(level, int) or isinstance(level, bool):
        level = None
    subject = row.get("type") or row.get("subject") or None
    return MathTask(
        question=str(problem),
        answer=answer,
        solution=str(solution) if solution else None,
        source=source,
        level=level,
        subject=str(subject) if subject is not None else None,
    )


# --- the Math-v0 source -------------------------------------------------------------------


class MathSource(GeneratedOrDataset):
    """rlvr/Math-v0's tasks: generated word problems, or a data set when ``dataset`` is given.

    Takes the ``MathConfig`` fields as keyword options. The reset options
    ``level`` and ``problem`` apply to word problems only.

    Attributes:
        skipped: row numbers of the data set's records left out for want of
            a final answer (empty for word problems).
    """

    config_model = MathConfig
    options = frozenset({"level", "problem"})

    def generator(self, config: MathConfig) -> TaskSource:
        return WordProblemSource(config)

    def read(self, config: MathConfig, dataset: str) -> tuple[Sequence[Task], tuple[int, ...]]:
        records = load_math(dataset, format=config.format, split=config.split, subset=config.subset)
        return records.tasks, records.skipped


# --- templates and rubric -----------------------------------------------------------------

TEMPLATES: dict[str, PromptTemplate] = {t.name: t for t in (BOXED, R1, PLAIN)}
"""boxed (the default: reason, then the answer in \\boxed{}), r1 (think/answer tags) and plain (the last number)."""


def math_rubric(template: PromptTemplate) -> Rubric:
    """``accuracy``: ``MathAnswer`` in the template's answer format, plus the R1 format reward for ``r1``."""
    return answer_rubric(MathAnswer(template.answer_format), template.answer_format)


register(
    "rlvr/Math-v0",
    source=MathSource,
    rubric=math_rubric,
    template=TEMPLATES,
    description="Math word problems, GSM8K style, made offline by default; GSM8K/MATH files or hub ids via datasets.",
    tools=[PYTHON],
)

register(
    "rlvr/MathTool-v0",
    source=MathSource,
    rubric=math_rubric,
    template=TEMPLATES,
    description="rlvr/Math-v0 with a Python interpreter as a tool (tool-integrated reasoning); the answer is judged.",
    tools=[PYTHON],
    defaults={"tools": ["python"], "max_turns": 4},
)
