"""Score: the value range is enforced, no-judgement statuses carry None, details are read-only."""

from __future__ import annotations

import copy
import dataclasses
import math
import pickle

import pytest

from rlvr.verifiers.score import Score, Status

JUDGEMENTS = [s for s in Status if s.is_judgement]
NO_JUDGEMENTS = [
    Status.DATA_ERROR,
    Status.VERIFIER_ERROR,
    Status.GRADER_ERROR,
    Status.UNDECIDABLE,
    Status.TOOL_ERROR,
    Status.REMOTE_ERROR,
]


def test_only_data_verifier_grader_tool_and_remote_errors_and_undecidable_are_not_judgements():
    assert {s for s in Status if not s.is_judgement} == set(NO_JUDGEMENTS)
    assert set(JUDGEMENTS) == {
        Status.OK,
        Status.WRONG,
        Status.UNPARSEABLE,
        Status.FORMAT_ERROR,
        Status.HEDGED,
        Status.PARTIAL,
    }


@pytest.mark.parametrize("status", JUDGEMENTS)
@pytest.mark.parametrize("value", [0.0, 0.25, 1.0, 0, 1])
def test_judgement_accepts_values_in_unit_interval(status, value):
    score = Score(value, status)
    assert score.value == value
    assert score.status is status


@pytest.mark.parametrize("status", JUDGEMENTS)
@pytest.mark.parametrize("value", [-0.001, 1.0001, -1.0, 2.0, math.inf, -math.inf, math.nan])
def test_judgement_rejects_values_outside_unit_interval(status, value):
    with pytest.raises(ValueError, match="needs a value in"):
        Score(value, status)


@pytest.mark.parametrize("status", JUDGEMENTS)
def test_judgement_rejects_missing_value(status):
    with pytest.raises(ValueError, match="needs a value in"):
        Score(None, status)


@pytest.mark.parametrize("status", NO_JUDGEMENTS)
@pytest.mark.parametrize("value", [0.0, 0.5, 1.0])
def test_no_judgement_status_rejects_any_value(status, value):
    with pytest.raises(ValueError, match="carries no value"):
        Score(value, status)


@pytest.mark.parametrize("status", NO_JUDGEMENTS)
def test_no_judgement_constructor_carries_none(status):
    score = Score.no_judgement(status, reason="broken reference")
    assert score.value is None
    assert score.status is status
    assert score.details == {"reason": "broken reference"}


def test_correct_is_full_marks_with_status_ok():
    score = Score.correct(expected="5", extracted="5")
    assert score.value == 1.0
    assert score.status is Status.OK
    assert dict(score.details) == {"expected": "5", "extracted": "5"}


@pytest.mark.parametrize("status", [Status.WRONG, Status.UNPARSEABLE, Status.HEDGED])
def test_fail_is_zero_with_the_given_status(status):
    score = Score.fail(status, extracted="7")
    assert score.value == 0.0
    assert score.status is status
    assert score.details["extracted"] == "7"


def test_fail_with_a_no_judgement_status_is_rejected():
    with pytest.raises(ValueError):
        Score.fail(Status.DATA_ERROR)


def test_no_judgement_with_a_judgement_status_is_rejected():
    with pytest.raises(ValueError):
        Score.no_judgement(Status.WRONG)


def test_details_default_to_empty():
    assert dict(Score(1.0, Status.OK).details) == {}


def test_details_are_read_only():
    score = Score.correct(extracted="5")
    with pytest.raises(TypeError):
        score.details["extracted"] = "6"  # type: ignore[index]
    with pytest.raises(TypeError):
        del score.details["extracted"]  # type: ignore[attr-defined]
    assert score.details["extracted"] == "5"


def test_details_are_copied_from_the_callers_dict():
    details = {"extracted": "5"}
    score = Score(1.0, Status.OK, details)
    details["extracted"] = "6"
    details["new"] = 1
    assert dict(score.details) == {"extracted": "5"}


def test_fields_cannot_be_reassigned():
    score = Score.correct()
    with pytest.raises(dataclasses.FrozenInstanceError):
        score.value = 0.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        score.details = {}  # type: ignore[misc]


def test_equal_scores_compare_equal():
    assert Score.correct(extracted="5") == Score(1.0, Status.OK, {"extracted": "5"})
    assert Score.no_judgement(Status.DATA_ERROR) == Score(None, Status.DATA_ERROR)


@pytest.mark.parametrize(
    "other",
    [
        Score(0.0, Status.OK, {"extracted": "5"}),
        Score(1.0, Status.PARTIAL, {"extracted": "5"}),
        Score(1.0, Status.OK, {"extracted": "6"}),
        Score(1.0, Status.OK),
    ],
)
def test_scores_differing_in_any_field_compare_unequal(other):
    assert Score.correct(extracted="5") != other


SAMPLES = [
    Score.correct(expected="94311", extracted="94311"),
    Score.fail(Status.HEDGED, candidates=["1", "2"]),
    Score(0.5, Status.PARTIAL, {"nested": {"a": [1, 2]}}),
    Score.no_judgement(Status.VERIFIER_ERROR, error="ZeroDivisionError: division by zero"),
]


@pytest.mark.parametrize("score", SAMPLES)
def test_pickle_round_trip_keeps_the_score(score):
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        restored = pickle.loads(pickle.dumps(score, protocol=protocol))
        assert restored == score
        assert restored.status is score.status
        with pytest.raises(TypeError):
            restored.details["x"] = 1  # type: ignore[index]


@pytest.mark.parametrize("score", SAMPLES)
def test_deepcopy_and_copy_round_trip_keep_the_score(score):
    deep = copy.deepcopy(score)
    assert deep == score
    assert deep.status is score.status
    assert copy.copy(score) == score
    with pytest.raises(TypeError):
        deep.details["x"] = 1  # type: ignore[index]


def test_status_values_are_their_string_names():
    assert Status("hedged") is Status.HEDGED
    assert Status.VERIFIER_ERROR == "verifier_error"
