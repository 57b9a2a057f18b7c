"""The property kit must catch broken verifiers, and pass a correct one."""

from __future__ import annotations

import random
import time
from types import SimpleNamespace

import pytest
from hypothesis import strategies as st

from rlvr.verifiers.properties import (
    check_bounded_time,
    check_deterministic,
    check_in_range,
    check_reference_is_max,
    check_rubric,
    check_verifier,
    check_wrong_is_lower,
)
from rlvr.verifiers.rubric import Rubric
from rlvr.verifiers.score import Score, Status

TASKS = st.builds(SimpleNamespace, answer=st.integers(min_value=0, max_value=10**6))


def reference(task: SimpleNamespace) -> str:
    return f"answer: {task.answer}"


def wrong(task: SimpleNamespace) -> st.SearchStrategy[str]:
    return st.integers(min_value=1, max_value=1000).map(lambda d: f"answer: {task.answer + d}")


def exact(completion: str, task: SimpleNamespace) -> Score:
    """A correct toy verifier: the completion must be exactly ``answer: N``."""
    if completion == f"answer: {task.answer}":
        return Score.correct()
    if completion.startswith("answer: "):
        return Score.fail(Status.WRONG, extracted=completion[8:40])
    return Score.fail(Status.UNPARSEABLE)


def test_correct_toy_verifier_passes():
    check_verifier(exact, tasks=TASKS, reference=reference, wrong=wrong, max_examples=30)


def test_correct_toy_verifier_passes_without_wrong_strategy():
    check_verifier(exact, tasks=TASKS, reference=reference, max_examples=20)


# --- broken verifiers are caught ---------------------------------------------


def test_verifier_raising_on_empty_string_is_caught():
    def fragile(completion: str, task: SimpleNamespace) -> Score:
        if not completion:
            raise ValueError("empty completion")
        return exact(completion, task)

    with pytest.raises(AssertionError):
        check_verifier(fragile, tasks=TASKS, reference=reference, max_examples=20)


def test_verifier_raising_on_a_lone_surrogate_is_caught():
    def utf8_only(completion: str, task: SimpleNamespace) -> Score:
        completion.encode("utf-8")  # UnicodeEncodeError on a lone surrogate
        return exact(completion, task)

    with pytest.raises(AssertionError):
        check_verifier(utf8_only, tasks=TASKS, reference=reference, max_examples=50)


def test_verifier_returning_a_non_score_is_caught():
    def value_only(completion: str, task: SimpleNamespace) -> float:
        return exact(completion, task).value

    with pytest.raises(AssertionError, match="returns a Score"):
        check_verifier(value_only, tasks=TASKS, reference=reference, max_examples=10)


def test_verifier_without_judgement_on_valid_tasks_is_caught():
    def never_judges(completion: str, task: SimpleNamespace) -> Score:
        return Score.no_judgement(Status.VERIFIER_ERROR)

    with pytest.raises(AssertionError, match="no judgement"):
        check_verifier(never_judges, tasks=TASKS, reference=reference, max_examples=10)


def test_value_out_of_range_is_caught_by_check_in_range():
    with pytest.raises(AssertionError, match="outside"):
        check_in_range(lambda completion, task: 1.5, "x", None)
    with pytest.raises(AssertionError, match="outside"):
        check_in_range(lambda completion, task: -0.1, "x", None)
    with pytest.raises(AssertionError, match="no judgement"):
        check_in_range(lambda completion, task: None, "x", None)
    with pytest.raises(AssertionError, match="must be a number"):
        check_in_range(lambda completion, task: "1.0", "x", None)


def test_check_in_range_accepts_values_within_bounds():
    assert check_in_range(lambda completion, task: 1, "x", None) == 1.0
    assert check_in_range(lambda completion, task: 1.2, "x", None, low=0.0, high=1.2) == 1.2
    assert check_in_range(lambda completion, task: -0.5, "x", None, low=-0.5, high=1.0) == -0.5


def test_nondeterministic_verifier_is_caught():
    noise = random.Random(0)

    def moody(completion: str, task: SimpleNamespace) -> Score:
        score = exact(completion, task)
        return Score(score.value, score.status, {"seed": noise.random()})

    with pytest.raises(AssertionError, match="not deterministic"):
        check_verifier(moody, tasks=TASKS, reference=reference, max_examples=10)


def test_check_deterministic_compares_value_status_and_details():
    flips = iter([Score.correct(), Score(1.0, Status.PARTIAL)])
    with pytest.raises(AssertionError, match="not deterministic"):
        check_deterministic(lambda completion, task: next(flips), "x", None)
    check_deterministic(lambda completion, task: Score.correct(a=1), "x", None)


def test_reference_that_does_not_score_one_is_caught():
    def stingy(completion: str, task: SimpleNamespace) -> Score:
        score = exact(completion, task)
        return Score(0.9, Status.PARTIAL) if score.value == 1.0 else score

    with pytest.raises(AssertionError, match="reference completion"):
        check_verifier(stingy, tasks=TASKS, reference=reference, max_examples=10)


def test_check_reference_is_max_directly():
    with pytest.raises(AssertionError, match=r"expected 1\.0"):
        check_reference_is_max(lambda completion, task: 0.5, None, "ref")
    check_reference_is_max(lambda completion, task: 1.2, None, "ref", high=1.2)


def test_verifier_giving_wrong_completions_full_marks_is_caught():
    def lenient(completion: str, task: SimpleNamespace) -> Score:
        if completion.startswith("answer: "):
            return Score.correct()
        return Score.fail(Status.UNPARSEABLE)

    # Without `wrong` the kit cannot tell; with it, it must.
    check_verifier(lenient, tasks=TASKS, reference=reference, max_examples=10)
    with pytest.raises(AssertionError, match="wrong completion"):
        check_verifier(lenient, tasks=TASKS, reference=reference, wrong=wrong, max_examples=10)


def test_check_wrong_is_lower_directly():
    with pytest.raises(AssertionError, match="wrong completion"):
        check_wrong_is_lower(lambda completion, task: 1.0, None, "wrong")
    with pytest.raises(AssertionError, match="wrong completion"):
        check_wrong_is_lower(lambda completion, task: None, None, "wrong")
    check_wrong_is_lower(lambda completion, task: 0.99, None, "wrong")


def test_slow_verifier_on_large_input_is_caught_by_check_bounded_time():
    def slow_on_large(completion: str, task: object) -> float:
        if len(completion) > 500_000:  # 0.6 s of work (CPU time: what the bound measures)
            deadline = time.process_time() + 0.6
            while time.process_time() < deadline:
                pass
        return 0.0

    with pytest.raises(AssertionError, match="character input"):
        check_bounded_time(slow_on_large, None, seconds_per_input=0.5)


def test_check_bounded_time_passes_a_linear_verifier():
    check_bounded_time(lambda completion, task: float(completion.count("1") > 0), None, 5.0)


# --- rubrics ---------------------------------------------------------------------


def test_check_rubric_uses_the_reward_range():
    rubric = Rubric({"exact": (exact, 1.0), "bonus": (exact, 0.5)})
    check_rubric(rubric, tasks=TASKS, reference=reference, wrong=wrong, max_examples=20)


def test_check_rubric_catches_reference_below_the_top_of_the_range():
    def always_wrong(completion: str, task: object) -> Score:
        return Score.fail(Status.WRONG)

    rubric = Rubric({"exact": (exact, 1.0), "never": (always_wrong, 0.5)})
    with pytest.raises(AssertionError, match=r"expected 1\.5"):
        check_rubric(rubric, tasks=TASKS, reference=reference, max_examples=10)


def test_check_rubric_catches_a_crashing_verifier_as_no_judgement():
    rubric = Rubric({"exact": (exact, 1.0), "crash": (lambda completion, task: 1 / 0, 0.5)})
    with pytest.raises(AssertionError, match="no judgement"):
        check_rubric(rubric, tasks=TASKS, reference=reference, max_examples=10)
