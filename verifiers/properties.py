"""Property kit: test a verifier (or a whole rubric) in a few lines.

Like gymnasium's ``check_env``, the kit is a handful of small checks, each for
one promise a reward function makes, and one call that runs them all under
hypothesis::

    from hypothesis import strategies as st
    from rlvr.verifiers.properties import check_verifier

    check_verifier(
        MyVerifier(),
        tasks=st.builds(MyTask, ...),               # tasks to judge against
        reference=lambda task: task.answer,          # a completion that must score the max
        wrong=lambda task: st.just(task.answer + "x"),  # completions that must score less
    )

The promises:

* ``check_in_range``: the value lies in [low, high] (and is not None on a valid task);
* ``check_deterministic``: the same input gives the same verdict;
* never raises: every check runs on arbitrary text (``strategies.completions()``);
* ``check_reference_is_max``: the reference completion scores ``high``;
* ``check_wrong_is_lower``: a wrong completion scores less than ``high``;
* ``check_bounded_time``: megabyte-sized adversarial inputs finish in bounded time.

A failing promise raises ``AssertionError``; hypothesis shrinks it to a small
example first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rlvr.verifiers.rubric import Rubric
from rlvr.verifiers.score import Score
from rlvr.verifiers.strategies import completions, pathological_completions

__all__ = [
    "check_bounded_time",
    "check_deterministic",
    "check_in_range",
    "check_reference_is_max",
    "check_rubric",
    "check_verifier",
    "check_wrong_is_lower",
]

ValueFn = Callable[[str, Any], "float | None"]
"""A reward as a function: ``(completion, task) -> value``."""


# --- one promise each --------------------------------------------------------


def check_in_range(value_fn: ValueFn, completion: str, task: Any, low: float = 0.0, high: float = 1.0) -> float:
    """The value for ``completion`` is a float in [low, high]; returns it."""
    value = value_fn(completion, task)
    assert value is not None, f"no judgement (value None) on a valid task for {completion[:80]!r}"
    assert isinstance(value, float | int), f"value must be a number, got {type(value).__name__}"
    assert low <= value <= high, f"value {value} outside [{low}, {high}] for {completion[:80]!r}"
    return float(value)


def check_deterministic(judge: Callable[[str, Any], Any], completion: str, task: Any) -> None:
    """Two calls with the same input give equal verdicts (value, status and details)."""
    first, second = judge(completion, task), judge(completion, task)
    assert first == second, f"not deterministic: {first!r} != {second!r}"


def check_reference_is_max(value_fn: ValueFn, task: Any, reference: str, high: float = 1.0) -> None:
    """The reference completion gets the highest value."""
    value = value_fn(reference, task)
    assert value == high, f"reference completion {reference[:80]!r} scored {value}, expected {high}"


def check_wrong_is_lower(value_fn: ValueFn, task: Any, wrong: str, high: float = 1.0) -> None:
    """A wrong completion scores strictly less than the maximum."""
    value = value_fn(wrong, task)
    assert value is not None and value < high, f"wrong completion {wrong[:80]!r} scored {value}"


def check_bounded_time(value_fn: ValueFn, task: Any, seconds_per_input: float = 5.0) -> None:
    """Every megabyte-sized adversarial input is judged within ``seconds_per_input`` of CPU time.

    The limit is generous on purpose: it catches quadratic parsers and regex
    backtracking (minutes to hours on these inputs), not small slow-downs. It is
    CPU time of this process, not wall-clock time, so other work on a busy
    machine does not count against the verifier.
    """
    for completion in pathological_completions():
        start = time.process_time()
        value_fn(completion, task)
        elapsed = time.process_time() - start
        assert elapsed < seconds_per_input, (
            f"{elapsed:.1f} CPU s on a {len(completion):,}-character input starting {completion[:40]!r}"
        )


# --- everything at once ------------------------------------------------------


def check_verifier(
    verifier: Callable[[str, Any], Score],
    tasks: st.SearchStrategy[Any],
    reference: Callable[[Any], str],
    wrong: Callable[[Any], st.SearchStrategy[str]] | None = None,
    max_examples: int = 100,
) -> None:
    """Run every promise on ``verifier`` over tasks drawn from ``tasks``.

    Args:
        verifier: ``(completion, task) -> Score``.
        tasks: hypothesis strategy of valid tasks.
        reference: the completion that must score 1.0 on a task.
        wrong: for a task, a strategy of completions that must score below 1.0.
        max_examples: hypothesis examples per property.
    """

    def judge(completion: str, task: Any) -> Score:
        try:
            score = verifier(completion, task)
        except Exception as error:
            raise AssertionError(f"verifier raised {error!r} on {completion[:80]!r}") from error
        assert isinstance(score, Score), f"a verifier returns a Score, got {type(score).__name__}"
        return score

    def value(completion: str, task: Any) -> float | None:
        return judge(completion, task).value

    _check_all(judge, value, tasks, reference, wrong, 0.0, 1.0, max_examples)


def check_rubric(
    rubric: Rubric,
    tasks: st.SearchStrategy[Any],
    reference: Callable[[Any], str],
    wrong: Callable[[Any], st.SearchStrategy[str]] | None = None,
    max_examples: int = 100,
) -> None:
    """``check_verifier`` for a whole rubric: the reward stays in ``rubric.reward_range``,
    the reference completion earns the top of it, and so on."""
    low, high = rubric.reward_range

    def value(completion: str, task: Any) -> float | None:
        return rubric.score(completion, task).reward

    _check_all(rubric.score, value, tasks, reference, wrong, low, high, max_examples)


def _check_all(
    judge: Callable[[str, Any], Any],
    value: ValueFn,
    tasks: st.SearchStrategy[Any],
    reference: Callable[[Any], str],
    wrong: Callable[[Any], st.SearchStrategy[str]] | None,
    low: float,
    high: float,
    max_examples: int,
) -> None:
    config = settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )

    @config
    @given(task=tasks, completion=completions())
    def arbitrary_text_is_judged_in_range(task: Any, completion: str) -> None:
        check_in_range(value, completion, task, low, high)
        check_deterministic(judge, completion, task)

    @config
    @given(task=tasks)
    def reference_scores_the_maximum(task: Any) -> None:
        completion = reference(task)
        check_in_range(value, completion, task, low, high)
        check_reference_is_max(value, task, completion, high)

    arbitrary_text_is_judged_in_range()
    reference_scores_the_maximum()

    if wrong is not None:

        @config
        @given(data=st.data(), task=tasks)
        def wrong_scores_less(data: st.DataObject, task: Any) -> None:
            completion = data.draw(wrong(task), label="wrong completion")
            check_in_range(value, completion, task, low, high)
            check_wrong_is_lower(value, task, completion, high)

        wrong_scores_less()

    @settings(config, max_examples=1)
    @given(task=tasks)
    def pathological_inputs_finish(task: Any) -> None:
        check_bounded_time(value, task)

    pathological_inputs_finish()
