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
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "DatasetSource",
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


class TaskSource(ABC):
    """Index -> task, deterministically.

    Attributes:
        size: number of tasks, or None for an unbounded generator.
        options: names of the ``reset`` options (besides ``index``) that
            ``get`` understands, such as Arithmetic's ``level``.
    """

    size: int | None = None
    options: ClassVar[frozenset[str]] = frozenset()

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


class GeneratedOrDataset(TaskSource):
    """A family's tasks: its own generator, or a data set when the config names one.

    A subclass sets ``config_model`` (a pydantic model with a ``dataset``
    field; its fields are the keyword options) and implements
    ``generator(config)`` and ``read(config)``.

    Attributes:
        config: the validated options.
        skipped: row numbers of the data set's records left out (empty when generated).
    """

    config_model: ClassVar[type[Any]]

    def __init__(self, **options: Any) -> None:
        self.config = self.config_model(**options)
        self.skipped: tuple[int, ...] = ()
        self.inner: TaskSource
        dataset = getattr(self.config, "dataset", None)
        if dataset is None:
            self.inner = self.generator(self.config)
        else:
            tasks, self.skipped = self.read(self.config, str(dataset))
            self.inner = DatasetSource(tasks)
        self.size = self.inner.size

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
    """
    try:
        import datasets
    except ImportError:
        raise ImportError(f"{what} are read with the datasets library: pip install datasets") from None
    path = Path(source)
    if path.suffix in _LOCAL_BUILDERS and path.is_file():
        return datasets.load_dataset(_LOCAL_BUILDERS[path.suffix], data_files={split: str(path)}, split=split)
    return datasets.load_dataset(str(source), subset, split=split)
