"""Tasks and task sources: where an environment's problems come from.

A ``Task`` is one problem: a pydantic record with the question text and,
where the family has one, the reference answer. A ``TaskSource`` turns an
integer index into a task, deterministically: item ``i`` is a pure function of
``i``, so a seeded ``reset`` always yields the same task (a GRPO group resets
G copies of an env with one seed and must see one problem) and any item can be
fetched directly with ``reset(options={"index": i})``.

Two kinds of source:

* ``ProceduralSource``: an unbounded generator; item ``i`` is
  ``generate(random.Random(i))``. ``FunctionSource`` wraps a plain function.
* ``DatasetSource``: a fixed list of tasks (a file, a hub data set).

A family that can do both is a ``GeneratedOrDataset``; its config model
subclasses ``DecontaminationOptions``, so its data-set loader also takes
``decontaminate_against``, which drops the records that overlap evaluation
sets (``rlvr.envs.data.decontaminate``).
"""

from __future__ import annotations

import random
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rlvr.envs.core.errors import ConfigError

if TYPE_CHECKING:
    from rlvr.envs.core.tools import Tool
    from rlvr.envs.data.decontaminate import DecontaminationReport

__all__ = [
    "DatasetSource",
    "DecontaminationOptions",
    "FunctionSource",
    "GeneratedOrDataset",
    "ProceduralSource",
    "Task",
    "TaskSource",
    "check_source_options",
    "read_dataset",
]


class Task(BaseModel):
    """One problem. Families subclass it with their own fields (``answer``, ...).

    The prompt template is filled from the task's fields, so a template may
    refer to any of them (``{question}`` always exists).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    question: str = Field(description="The problem statement, as put into the prompt template.")

    def reference_answer(self) -> str | None:
        """The reference answer as text, or None if the family has none.

        The default reads an ``answer`` field when there is one.
        """
        answer = getattr(self, "answer", None)
        return None if answer is None else str(answer)

    def worked_reasoning(self) -> str | None:
        """The working that leads to the reference answer, as a worked example writes it, or None.

        The cold start writes it before the answer where the template has room
        for reasoning (``fireworks``, ``r1``, ``boxed``), so that a model
        fine-tuned on worked examples learns the steps, not only the result.
        None (the default) gives a placeholder sentence instead.
        """
        return None

    def episode_tools(self) -> dict[str, Tool]:
        """Tools this task brings to its episode, by name, besides the env's (none by default).

        FunctionCalling's executing mode offers the task's listed functions,
        backed by simulated implementations. The task's own prompt lists them.
        """
        return {}

    def reference_calls(self) -> list[dict[str, Any]]:
        """The tool calls (``{"name", "arguments"}``) a right episode makes before its answer; none by default."""
        return []

    def judged_after(self, calls: Sequence[Mapping[str, Any]]) -> Task:
        """The task as the rubric sees it when judging an answer given after the episode's tool ``calls``
        (``{"name", "arguments"}`` each, in order). By default the task itself: only the answer is judged.
        """
        return self


class TaskSource(ABC):
    """Index -> task, deterministically.

    Attributes:
        size: number of tasks, or None for an unbounded generator.
        brings_tools: its tasks bring tools of their own (``Task.episode_tools``).
        options: names of the ``reset`` options (besides ``index``) that
            ``get`` understands, such as Arithmetic's ``level``.
    """

    size: int | None = None
    options: ClassVar[frozenset[str]] = frozenset()
    brings_tools: bool = False
    """Whether its tasks bring tools of their own (``Task.episode_tools``): their episodes default to 4 turns."""

    @abstractmethod
    def get(self, index: int, **options: Any) -> Task:
        """Task number ``index`` (a non-negative int); the same index gives the same task."""

    def check_options(self, options: dict[str, Any]) -> None:
        """Raise ``ValueError`` naming any reset option this source does not understand."""
        unknown = sorted(set(options) - self.options)
        if unknown:
            valid = ", ".join(sorted({"index", *self.options}))
            raise ValueError(f"unknown reset option(s) {unknown}; this environment accepts: {valid}")


class ProceduralSource(TaskSource):
    """An unbounded generator: task ``i`` is ``generate(random.Random(i), **options)``."""

    size = None

    @abstractmethod
    def generate(self, rng: random.Random, **options: Any) -> Task:
        """A task drawn with ``rng`` only (never the global ``random``)."""

    def get(self, index: int, **options: Any) -> Task:
        if index < 0:
            raise IndexError(f"task index must be non-negative, got {index}")
        self.check_options(options)
        return self.generate(random.Random(index), **options)


class FunctionSource(ProceduralSource):
    """A ``ProceduralSource`` from a plain function ``rng -> Task``."""

    def __init__(self, generate: Callable[[random.Random], Task]) -> None:
        self._generate = generate

    def generate(self, rng: random.Random, **options: Any) -> Task:
        return self._generate(rng)


class DatasetSource(TaskSource):
    """A fixed, ordered list of tasks."""

    def __init__(self, tasks: Sequence[Task]) -> None:
        if not tasks:
            raise ValueError("a DatasetSource needs at least one task")
        self._tasks = tuple(tasks)
        self.size = len(self._tasks)

    def get(self, index: int, **options: Any) -> Task:
        self.check_options(options)
        if not 0 <= index < len(self._tasks):
            raise IndexError(f"task index {index} out of range: this data set has tasks 0..{len(self._tasks) - 1}")
        return self._tasks[index]


def check_source_options(
    config: Any, generator_fields: frozenset[str], dataset_fields: frozenset[str] = frozenset()
) -> None:
    """Refuse options given for the other kind of source: generator options with ``dataset``, data-set options without.

    ``config`` is a pydantic model with a ``dataset`` field; only the fields
    the user set (``model_fields_set``) count. Raises ``ValueError`` naming them.
    """
    given = config.model_fields_set
    if config.dataset is not None:
        clash = generator_fields & given
        if clash:
            raise ValueError(f"{sorted(clash)} apply to generated tasks, not to a dataset")
    else:
        clash = dataset_fields & given
        if clash:
            raise ValueError(f"{sorted(clash)} apply to a dataset; give dataset= too")


class DecontaminationOptions(BaseModel):
    """Decontamination against evaluation sets: the base of every ``GeneratedOrDataset`` family's config model.

    A family's config subclasses it and declares its own ``dataset`` field, so
    ``envs.make(id, dataset=..., decontaminate_against=[...])`` works for
    every family. The rule is ``rlvr.envs.data.decontaminate``'s (Tulu 3).
    """

    decontaminate_against: list[str] | None = Field(
        None,
        min_length=1,
        description="Evaluation sets to decontaminate the dataset against: local .jsonl, .json or .parquet files or "
        "hub ids written ID[:SUBSET][@SPLIT] (split 'test' by default). A record whose question shares more than "
        "decontaminate_threshold of its 8-grams (lower-cased words) with them is left out, with a warning. The eval "
        "text is the first of their fields question, problem, prompt, instruction, text, input.",
    )
    decontaminate_threshold: float = Field(
        0.5,
        ge=0,
        le=1,
        description="With decontaminate_against: leave out records with more than this share of their 8-grams in "
        "the evaluation sets (Tulu 3: 0.5).",
    )

    @model_validator(mode="after")
    def _check_decontamination(self) -> DecontaminationOptions:
        if getattr(self, "dataset", None) is None:
            clash = {"decontaminate_against", "decontaminate_threshold"} & self.model_fields_set
            if clash:
                raise ValueError(f"{sorted(clash)} apply to a dataset; give dataset= too")
        return self


class GeneratedOrDataset(TaskSource):
    """A family's tasks: its own generator, or a data set when the config names one.

    A subclass sets ``config_model`` (a pydantic model with a ``dataset``
    field; its fields are the keyword options) and implements
    ``generator(config)`` and ``read(config)``.

    The config model subclasses ``DecontaminationOptions``
    (``decontaminate_against``, ``decontaminate_threshold``). With
    ``decontaminate_against``, the records that ``read`` returns whose
    ``question`` overlaps the evaluation sets are left out after reading,
    with a warning that counts them.

    Attributes:
        config: the validated options.
        skipped: row numbers of the data set's records left out (empty when
            generated), by ``read`` or by decontamination.
        decontamination: the ``rlvr.envs.data.decontaminate.DecontaminationReport`` over
            the tasks ``read`` returned (its indices count those tasks, not
            rows), or None without ``decontaminate_against``.
    """

    config_model: ClassVar[type[Any]]

    def __init__(self, **options: Any) -> None:
        self.config = self.config_model(**options)
        self.skipped: tuple[int, ...] = ()
        self.decontamination: DecontaminationReport | None = None
        self.inner: TaskSource
        dataset = getattr(self.config, "dataset", None)
        if dataset is None:
            self.inner = self.generator(self.config)
        else:
            try:
                tasks, self.skipped = self.read(self.config, str(dataset))
            except ValueError as error:  # wrong columns, an unknown format, no usable record: one line, as an option
                named = str(error) if str(error).startswith(str(dataset)) else f"{dataset}: {error}"
                raise ConfigError(f"dataset {named}") from None
            against = getattr(self.config, "decontaminate_against", None)
            if against:
                threshold = getattr(self.config, "decontaminate_threshold", 0.5)
                tasks, self.skipped = self._decontaminate(str(dataset), tasks, self.skipped, against, threshold)
            self.inner = DatasetSource(tasks)
        self.size = self.inner.size

    def _decontaminate(
        self, dataset: str, tasks: Sequence[Task], skipped: tuple[int, ...], against: Sequence[str], threshold: float
    ) -> tuple[list[Task], tuple[int, ...]]:
        """Leave out the tasks whose question overlaps the eval sets ``against``; the kept tasks and all skipped rows.

        Row numbers assume ``read``'s contract: one task per record not in
        ``skipped``, in order.
        """
        from rlvr.envs.data.decontaminate import decontaminate, load_eval_index

        index = load_eval_index(list(against), argument="decontaminate_against")
        report = decontaminate(tasks, index, threshold, index.n, eval_sources=list(against))
        self.decontamination = report
        kept = [tasks[i] for i in report.kept]
        if not report.dropped:
            return kept, skipped
        left_out = set(skipped)
        rows = [row for row in range(len(tasks) + len(skipped)) if row not in left_out]
        dropped = [rows[i] for i in report.dropped_indices]
        first = ", ".join(str(i) for i in dropped[:10]) + (", ..." if len(dropped) > 10 else "")
        rule = f"more than {threshold:.0%} of their {index.n}-grams in {', '.join(against)}"
        if not kept:
            raise ValueError(f"{dataset}: all {len(tasks)} usable records overlap the evaluation sets ({rule})")
        warnings.warn(
            f"{dataset}: left out {len(dropped)} of {len(tasks)} records that overlap the evaluation sets ({rule}); "
            f"rows {first}",
            stacklevel=3,
        )
        return kept, tuple(sorted(left_out.union(dropped)))

    @abstractmethod
    def generator(self, config: Any) -> TaskSource:
        """The family's generator, for ``config``."""

    @abstractmethod
    def read(self, config: Any, dataset: str) -> tuple[Sequence[Task], tuple[int, ...]]:
        """The data set ``dataset`` (``config.dataset``): its tasks, and the row numbers left out."""

    def get(self, index: int, **options: Any) -> Task:
        """Task ``index`` of the generator or the data set."""
        return self.inner.get(index, **options)


_LOCAL_BUILDERS = {".jsonl": "json", ".json": "json", ".parquet": "parquet"}


def read_dataset(source: str | Path, split: str, subset: str | None = None, what: str = "data sets") -> Any:
    """The rows of a data set, through Hugging Face ``datasets``.

    Args:
        source: a local ``.jsonl``, ``.json`` or ``.parquet`` file (read as
            ``split``), or a hub id.
        split: the split to read.
        subset: the configuration of a hub data set (``None`` for the default).
        what: what the rows are, for the error when ``datasets`` is missing.

    Returns:
        A ``datasets.Dataset`` (iterable of dict rows, with ``column_names``).

    Raises:
        ImportError: ``datasets`` is not installed.
        FileNotFoundError: ``source`` looks like a local path (a file suffix, ``/``, ``~``, ``./``) and there
            is nothing there; only what looks like a hub id (``owner/name``) goes to the hub.
    """
    try:
        import datasets
    except ImportError:
        raise ImportError(f"{what} are read with the datasets library: pip install datasets") from None
    path = Path(source).expanduser()
    if path.suffix in _LOCAL_BUILDERS and path.is_file():
        shown = datasets.is_progress_bar_enabled()
        datasets.disable_progress_bars()  # a local file: no "Generating train split" bar
        try:
            return datasets.load_dataset(_LOCAL_BUILDERS[path.suffix], data_files={split: str(path)}, split=split)
        finally:
            if shown:
                datasets.enable_progress_bars()
    if _looks_local(str(source)) and not path.exists():  # at once, not after a minute of hub retries
        raise FileNotFoundError(
            f"{source}: no such file (a local data set is a .jsonl, .json or .parquet file; a hub id looks like "
            "owner/name)"
        )
    return datasets.load_dataset(str(source), subset, split=split)


def _looks_local(source: str) -> bool:
    """A path rather than a hub id: a file suffix, an absolute, home or dot-relative path, or more than one '/'."""
    return (
        Path(source).suffix.lower() in {*_LOCAL_BUILDERS, ".csv", ".txt", ".arrow"}
        or source.startswith(("/", "~", "./", "../"))
        or source.count("/") > 1
    )
