"""Rubric: weights, reward range, weighted sum, crash containment; answer_rubric."""

from __future__ import annotations

import logging
import math
from types import SimpleNamespace

import pytest
from hypothesis import strategies as st
from pydantic import BaseModel

from rlvr.verifiers.extract import AnswerFormat
from rlvr.verifiers.numeric_answer import NumericAnswer
from rlvr.verifiers.properties import check_rubric
from rlvr.verifiers.r1_format import R1Format
from rlvr.verifiers.recipes import answer_rubric
from rlvr.verifiers.rubric import Criterion, Rubric, RubricResult
from rlvr.verifiers.score import Score, Status

TASK = SimpleNamespace(answer=7)


def constant(value: float | None, status: Status = Status.OK):
    """A verifier that always gives ``value`` (status ``partial`` for values in between)."""

    def verifier(completion: str, task: object) -> Score:
        if value is None:
            return Score.no_judgement(status)
        if status is Status.OK and value != 1.0:
            return Score(value, Status.PARTIAL)
        return Score(value, status)

    return verifier


def crash(completion: str, task: object) -> Score:
    raise ZeroDivisionError("division by zero")


def not_a_score(completion: str, task: object) -> float:
    return 1.0


# --- weights and range -----------------------------------------------------------


def test_mapping_and_criteria_build_the_same_rubric():
    from_mapping = Rubric({"accuracy": (constant(1.0), 1.0), "format": (constant(1.0), 0.2)})
    assert from_mapping.weights == {"accuracy": 1.0, "format": 0.2}
    assert [c.name for c in from_mapping.criteria] == ["accuracy", "format"]
    from_list = Rubric([Criterion("accuracy", constant(1.0)), Criterion("format", constant(1.0), 0.2)])
    assert from_list.weights == from_mapping.weights


def test_default_weight_is_one():
    assert Criterion("accuracy", constant(1.0)).weight == 1.0


@pytest.mark.parametrize(
    ("weights", "expected"),
    [
        ([1.0], (0.0, 1.0)),
        ([1.0, 0.2], (0.0, 1.2)),
        ([1.0, -0.5], (-0.5, 1.0)),
        ([-1.0, -2.0], (-3.0, 0.0)),
        ([2.0, 0.0, -0.25], (-0.25, 2.0)),
    ],
)
def test_reward_range(weights, expected):
    rubric = Rubric([Criterion(f"c{i}", constant(1.0), w) for i, w in enumerate(weights)])
    low, high = rubric.reward_range
    assert low == pytest.approx(expected[0])
    assert high == pytest.approx(expected[1])


def test_repr_lists_names_and_weights():
    rubric = Rubric({"accuracy": (constant(1.0), 1.0), "format": (constant(1.0), 0.2)})
    assert repr(rubric) == "Rubric(accuracy=1, format=0.2)"


# --- scoring -------------------------------------------------------------------


def test_reward_is_the_weighted_sum():
    rubric = Rubric(
        {
            "a": (constant(1.0), 1.0),
            "b": (constant(0.5), 0.2),
            "c": (constant(0.0, Status.WRONG), 3.0),
            "penalty": (constant(1.0), -0.5),
        }
    )
    result = rubric.score("anything", TASK)
    assert isinstance(result, RubricResult)
    assert result.reward == pytest.approx(1.0 + 0.1 + 0.0 - 0.5)
    assert [name for name in result.scores] == ["a", "b", "c", "penalty"]
    assert result.scores["b"] == Score(0.5, Status.PARTIAL)


def test_negative_weight_lowers_the_reward():
    rubric = Rubric({"accuracy": (constant(1.0), 1.0), "too_long": (constant(1.0), -1.5)})
    result = rubric.score("x", TASK)
    assert result.reward == pytest.approx(-0.5)
    assert rubric.reward_range[0] <= result.reward <= rubric.reward_range[1]


def test_crashing_verifier_becomes_verifier_error_and_does_not_raise(caplog):
    rubric = Rubric({"accuracy": (crash, 1.0), "format": (constant(1.0), 0.2)})
    with caplog.at_level(logging.ERROR, logger="rlvr.verifiers.rubric"):
        result = rubric.score("x", TASK)
    crashed = result.scores["accuracy"]
    assert crashed.status is Status.VERIFIER_ERROR
    assert crashed.value is None
    assert crashed.details["error"] == "ZeroDivisionError: division by zero"
    assert result.reward is None
    assert result.scores["format"] == Score.correct()
    assert result.status is Status.VERIFIER_ERROR
    assert any("accuracy" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize("returned", [not_a_score, lambda c, t: None, lambda c, t: (1.0, "ok")])
def test_verifier_returning_a_non_score_becomes_verifier_error(returned):
    result = Rubric({"accuracy": (returned, 1.0)}).score("x", TASK)
    score = result.scores["accuracy"]
    assert score.status is Status.VERIFIER_ERROR
    assert score.value is None
    assert "expected Score" in score.details["error"]
    assert result.reward is None


def test_no_judgement_from_a_weighted_verifier_voids_the_reward():
    rubric = Rubric({"accuracy": (constant(None, Status.DATA_ERROR), 1.0), "f": (constant(1.0), 0.2)})
    result = rubric.score("x", TASK)
    assert result.reward is None
    assert result.status is Status.DATA_ERROR


@pytest.mark.parametrize("broken", [constant(None, Status.DATA_ERROR), crash, not_a_score])
def test_zero_weight_criterion_without_value_does_not_void_the_reward(broken):
    rubric = Rubric({"accuracy": (constant(1.0), 1.0), "logged_only": (broken, 0.0)})
    result = rubric.score("x", TASK)
    assert result.reward == 1.0
    assert result.scores["logged_only"].value is None


def test_status_is_the_first_non_ok_in_rubric_order():
    rubric = Rubric(
        {
            "a": (constant(1.0), 1.0),
            "b": (constant(0.0, Status.FORMAT_ERROR), 1.0),
            "c": (constant(0.0, Status.WRONG), 1.0),
        }
    )
    assert rubric.score("x", TASK).status is Status.FORMAT_ERROR


def test_status_is_ok_when_every_verifier_is_ok():
    rubric = Rubric({"a": (constant(1.0), 1.0), "b": (constant(1.0), 0.2)})
    result = rubric.score("x", TASK)
    assert result.status is Status.OK
    assert result.reward == pytest.approx(1.2)


def test_every_verifier_sees_the_completion_and_task():
    seen = []

    def record(completion: str, task: object) -> Score:
        seen.append((completion, task))
        return Score.correct()

    Rubric({"a": (record, 1.0), "b": (record, 0.5)}).score("hello", TASK)
    assert seen == [("hello", TASK), ("hello", TASK)]


# --- construction errors -----------------------------------------------------


def test_duplicate_names_are_rejected():
    with pytest.raises(ValueError, match="unique"):
        Rubric([Criterion("a", constant(1.0)), Criterion("a", constant(0.5, Status.OK))])


def test_empty_rubric_is_rejected():
    with pytest.raises(ValueError, match="at least one"):
        Rubric([])
    with pytest.raises(ValueError, match="at least one"):
        Rubric({})


@pytest.mark.parametrize("weight", [math.inf, -math.inf, math.nan])
def test_non_finite_weight_is_rejected(weight):
    with pytest.raises(ValueError, match="finite"):
        Criterion("a", constant(1.0), weight)
    with pytest.raises(ValueError, match="finite"):
        Rubric({"a": (constant(1.0), weight)})


def test_empty_name_is_rejected():
    with pytest.raises(ValueError, match="name"):
        Criterion("", constant(1.0))


# --- answer_rubric ---------------------------------------------------------------


@pytest.mark.parametrize("answer_format", list(AnswerFormat))
def test_answer_rubric_adds_format_criterion_only_for_r1(answer_format):
    rubric = answer_rubric(NumericAnswer(answer_format), answer_format)
    if answer_format is AnswerFormat.R1:
        assert rubric.weights == {"accuracy": 1.0, "format": 0.2}
        assert isinstance(rubric.criteria[1].verifier, R1Format)
    else:
        assert rubric.weights == {"accuracy": 1.0}
    assert rubric.criteria[0].verifier == NumericAnswer(answer_format)


def test_answer_rubric_format_weight_is_configurable():
    rubric = answer_rubric(NumericAnswer(AnswerFormat.R1), AnswerFormat.R1, format_weight=0.5)
    assert rubric.weights == {"accuracy": 1.0, "format": 0.5}
    assert rubric.reward_range == (0.0, 1.5)


def test_answer_rubric_accepts_the_format_as_a_string():
    rubric = answer_rubric(NumericAnswer(AnswerFormat.R1), "r1")  # type: ignore[arg-type]
    assert rubric.weights == {"accuracy": 1.0, "format": 0.2}


@pytest.mark.parametrize(
    ("completion", "reward"),
    [
        ("<think>7 = 3 + 4</think><answer>7</answer>", 1.2),
        ("<think>7 = 3 + 4</think><answer>8</answer>", 0.2),
        ("<answer>7</answer>", 1.0),
        ("<think>x</think><answer>7</answer> trailing", 1.0),
        ("7", 0.0),
    ],
)
def test_r1_answer_rubric_right_answer_beats_right_format(completion, reward):
    rubric = answer_rubric(NumericAnswer(AnswerFormat.R1), AnswerFormat.R1)
    assert rubric.score(completion, TASK).reward == pytest.approx(reward)


class IntTask(BaseModel):
    answer: int


def test_r1_answer_rubric_passes_check_rubric():
    rubric = answer_rubric(NumericAnswer(AnswerFormat.R1), AnswerFormat.R1)
    assert rubric.reward_range == pytest.approx((0.0, 1.2))

    def reference(task: IntTask) -> str:
        return f"<think>Compute it.</think>\n<answer>{task.answer}</answer>"

    def wrong(task: IntTask) -> st.SearchStrategy[str]:
        deltas = st.integers(min_value=-1000, max_value=1000).filter(bool)
        formats = st.sampled_from(["<think>Compute it.</think>\n<answer>{}</answer>", "<answer>{}</answer>", "{}"])
        return st.tuples(formats, deltas).map(lambda fd: fd[0].format(task.answer + fd[1]))

    task = IntTask(answer=94311)
    assert rubric.score(reference(task), task).reward == pytest.approx(1.2)
    check_rubric(
        rubric,
        tasks=st.builds(IntTask, answer=st.integers(min_value=-(10**9), max_value=10**9)),
        reference=reference,
        wrong=wrong,
        max_examples=50,
    )


# --- batches -----------------------------------------------------------------------------


class Counting:
    """A batch verifier that records how it was called."""

    def __init__(self) -> None:
        self.batches: list[int] = []

    def __call__(self, completion: str, task: object) -> Score:
        return Score.correct() if completion.strip() == str(task.answer) else Score.fail(Status.WRONG)

    def score_batch(self, completions: list[str], tasks: list[object]) -> list[Score]:
        self.batches.append(len(completions))
        return [self(completion, task) for completion, task in zip(completions, tasks, strict=True)]


def test_score_batch_gives_what_score_gives_and_batch_verifiers_get_the_whole_batch():
    counting = Counting()
    rubric = Rubric({"accuracy": (counting, 1.0), "format": (R1Format(), 0.2), "plain": (constant(0.5), 0.1)})
    completions = ["7", "<think>x</think><answer>7</answer>", "8", "", "7 "]
    tasks = [TASK] * len(completions)
    assert rubric.score_batch(completions, tasks) == [
        rubric.score(c, t) for c, t in zip(completions, tasks, strict=True)
    ]
    assert counting.batches == [5]


def test_a_batch_verifier_that_raises_or_miscounts_gives_verifier_errors_not_an_exception():
    class Raising(Counting):
        def score_batch(self, completions, tasks):
            raise RuntimeError("broken")

    class Short(Counting):
        def score_batch(self, completions, tasks):
            return [Score.correct()]

    for verifier in (Raising(), Short()):
        results = Rubric({"accuracy": (verifier, 1.0)}).score_batch(["7", "7"], [TASK, TASK])
        assert [result.reward for result in results] == [None, None]
        assert {result.scores["accuracy"].status for result in results} == {Status.VERIFIER_ERROR}


def test_score_batch_checks_lengths():
    with pytest.raises(ValueError, match="2 completions for 1 tasks"):
        Rubric({"accuracy": (constant(1.0), 1.0)}).score_batch(["a", "b"], [TASK])
