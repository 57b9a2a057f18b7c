"""A rubric: named verifiers with weights, composed into one reward.

As in DeepSeek-R1's recipe, an environment's reward is a weighted sum of
rule-based checks, for example ``accuracy`` (weight 1.0) plus ``format``
(weight 0.2). The rubric keeps every verifier's ``Score`` so trainers can log
the breakdown, and it turns a crashed verifier into a ``verifier_error`` with
no value instead of an exception in the middle of a training step.

``score_batch`` scores many completions at once with the same verdicts as
``score``: a verifier that can judge a batch concurrently (``BatchVerifier``:
the math checker over several worker processes, the code checker over the
sandbox's containers) gets the whole batch; the others judge one by one.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from rlvr.verifiers.score import Score, Status

__all__ = ["BatchVerifier", "Criterion", "Rubric", "RubricResult", "Verifier"]

logger = logging.getLogger(__name__)


class Verifier(Protocol):
    """A pure, deterministic judge: ``(completion, task) -> Score``.

    ``completion`` is the model's text; ``task`` is the environment's task
    record (a pydantic model). The returned value lies in [0, 1], or is None
    when no judgement is possible. It must not raise on any completion.
    """

    def __call__(self, completion: str, task: Any, /) -> Score: ...


@runtime_checkable
class BatchVerifier(Protocol):
    """A verifier that also judges many completions at once, concurrently.

    ``score_batch(completions, tasks)`` returns one ``Score`` per completion,
    in order, each exactly what ``verifier(completion, task)`` would return.
    """

    def __call__(self, completion: str, task: Any, /) -> Score: ...

    def score_batch(self, completions: Sequence[str], tasks: Sequence[Any], /) -> list[Score]: ...


@dataclass(frozen=True)
class Criterion:
    """One named, weighted verifier of a rubric.

    Attributes:
        name: key of this verifier's score in the breakdown (``"accuracy"``).
        verifier: the judge.
        weight: its factor in the reward; may be negative for a penalty.
    """

    name: str
    verifier: Verifier | Callable[[str, Any], Score]
    weight: float = 1.0

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a criterion needs a non-empty name")
        if not math.isfinite(self.weight):
            raise ValueError(f"criterion {self.name!r}: weight must be finite, got {self.weight}")


@dataclass(frozen=True)
class RubricResult:
    """A rubric's verdict on one completion.

    Attributes:
        reward: the weighted sum of the verifiers' values, or None when any
            weighted verifier could not judge (the sample should be skipped).
        scores: each verifier's ``Score`` by criterion name, in rubric order.
    """

    reward: float | None
    scores: dict[str, Score]

    @property
    def status(self) -> Status:
        """The first non-``ok`` status in rubric order, or ``ok``."""
        return next((s.status for s in self.scores.values() if s.status is not Status.OK), Status.OK)


class Rubric:
    """Weighted named verifiers; ``rubric.score(completion, task)`` gives the reward.

    Args:
        criteria: ``Criterion`` objects, or a mapping ``name -> (verifier, weight)``.

    Example:
        >>> rubric = Rubric({"accuracy": (NumericAnswer(), 1.0), "format": (R1Format(), 0.2)})
        >>> rubric.weights
        {'accuracy': 1.0, 'format': 0.2}
    """

    def __init__(self, criteria: list[Criterion] | Mapping[str, tuple[Verifier, float]]) -> None:
        if isinstance(criteria, Mapping):
            criteria = [Criterion(name, verifier, weight) for name, (verifier, weight) in criteria.items()]
        names = [c.name for c in criteria]
        if not criteria:
            raise ValueError("a rubric needs at least one criterion")
        if len(set(names)) != len(names):
            raise ValueError(f"criterion names must be unique, got {names}")
        self.criteria: tuple[Criterion, ...] = tuple(criteria)

    @property
    def weights(self) -> dict[str, float]:
        """Each criterion's weight, by name."""
        return {c.name: c.weight for c in self.criteria}

    @property
    def reward_range(self) -> tuple[float, float]:
        """The lowest and highest reward this rubric can give."""
        low = sum(min(c.weight, 0.0) for c in self.criteria)
        high = sum(max(c.weight, 0.0) for c in self.criteria)
        return (low, high)

    def score(self, completion: str, task: Any) -> RubricResult:
        """Run every verifier on ``completion`` and combine their values by weight."""
        return self._combine({c.name: _run_verifier(c, completion, task) for c in self.criteria})

    def score_batch(self, completions: Sequence[str], tasks: Sequence[Any]) -> list[RubricResult]:
        """``[self.score(c, t) for c, t in zip(completions, tasks)]``, with batch verifiers judging concurrently.

        Args:
            completions: the completions, one per task.
            tasks: their task records.

        Returns:
            One ``RubricResult`` per completion, in order, identical to ``score``'s.
        """
        if len(completions) != len(tasks):
            raise ValueError(f"{len(completions)} completions for {len(tasks)} tasks")
        columns = {c.name: _run_batch(c, completions, tasks) for c in self.criteria}
        return [self._combine({name: column[i] for name, column in columns.items()}) for i in range(len(tasks))]

    def _combine(self, scores: dict[str, Score]) -> RubricResult:
        weighted = [(c.weight, scores[c.name].value) for c in self.criteria if c.weight != 0.0]
        if any(value is None for _, value in weighted):
            return RubricResult(reward=None, scores=scores)
        reward = sum(weight * value for weight, value in weighted if value is not None)
        return RubricResult(reward=float(reward), scores=scores)

    def __repr__(self) -> str:
        parts = ", ".join(f"{c.name}={c.weight:g}" for c in self.criteria)
        return f"Rubric({parts})"


def _run_verifier(criterion: Criterion, completion: str, task: Any) -> Score:
    """Call one verifier; a crash or a wrong return type becomes ``verifier_error``."""
    try:
        score = criterion.verifier(completion, task)
    except Exception as error:  # a checker bug must not kill a training step
        logger.exception("verifier %r raised", criterion.name)
        return Score.no_judgement(Status.VERIFIER_ERROR, error=f"{type(error).__name__}: {error}")
    if not isinstance(score, Score):
        return Score.no_judgement(Status.VERIFIER_ERROR, error=f"returned {type(score).__name__}, expected Score")
    return score


def _run_batch(criterion: Criterion, completions: Sequence[str], tasks: Sequence[Any]) -> list[Score]:
    """One criterion over a batch: concurrently when its verifier can, else one by one; never raises."""
    verifier = criterion.verifier
    if not isinstance(verifier, BatchVerifier) or len(tasks) < 2:
        return [_run_verifier(criterion, completion, task) for completion, task in zip(completions, tasks, strict=True)]
    try:
        scores = list(verifier.score_batch(completions, tasks))
    except Exception as error:  # as for one completion: a checker bug is a verifier_error, not a dead step
        logger.exception("verifier %r raised on a batch", criterion.name)
        return [Score.no_judgement(Status.VERIFIER_ERROR, error=f"{type(error).__name__}: {error}")] * len(tasks)
    if len(scores) != len(tasks) or not all(isinstance(score, Score) for score in scores):
        problem = f"returned {len(scores)} results for {len(tasks)} completions, or not Scores"
        return [Score.no_judgement(Status.VERIFIER_ERROR, error=problem)] * len(tasks)
    return scores
