"""NumericAnswer: the status table per answer format, the ways a model games it, the kit."""

from __future__ import annotations

import time
from decimal import Decimal
from types import SimpleNamespace

import pytest
from hypothesis import strategies as st
from pydantic import BaseModel

from rlvr.verifiers.extract import AnswerFormat
from rlvr.verifiers.numeric_answer import NumericAnswer
from rlvr.verifiers.properties import check_verifier
from rlvr.verifiers.score import Status


class ProductTask(BaseModel):
    question: str = "1497 * 63"
    answer: int = 94311


TASK = ProductTask()
FORMATS = list(AnswerFormat)
STRICT_FORMATS = [f for f in AnswerFormat if f is not AnswerFormat.LAST_NUMBER]


def say(answer_format: AnswerFormat, answer: str) -> str:
    """A completion that states ``answer`` the way ``answer_format`` asks."""
    match answer_format:
        case AnswerFormat.FIREWORKS:
            return f"Multiply.\nFinal Answer: The final answer is {answer}. I hope it is correct."
        case AnswerFormat.R1:
            return f"<think>Multiply the two numbers.</think>\n<answer>{answer}</answer>"
        case AnswerFormat.BOXED:
            return f"Multiplying gives $\\boxed{{{answer}}}$."
        case AnswerFormat.LAST_NUMBER:
            return f"Multiplying gives {answer}"
    raise AssertionError(answer_format)


# --- status table ------------------------------------------------------------


@pytest.mark.parametrize("answer_format", FORMATS)
@pytest.mark.parametrize("written", ["94311", "94,311", "94311.0", "$94311$", "+94311"])
def test_right_answer_scores_one(answer_format, written):
    score = NumericAnswer(answer_format)(say(answer_format, written), TASK)
    assert score.value == 1.0
    assert score.status is Status.OK
    assert score.details["expected"] == "94311"
    # LAST_NUMBER reads the bare number, the other formats the whole stated answer.
    assert score.details["extracted"] in (written, written.strip("$"))


@pytest.mark.parametrize("answer_format", FORMATS)
@pytest.mark.parametrize("written", ["94312", "-94311", "9431", "0"])
def test_wrong_number_scores_zero_with_status_wrong(answer_format, written):
    score = NumericAnswer(answer_format)(say(answer_format, written), TASK)
    assert score.value == 0.0
    assert score.status is Status.WRONG
    assert score.details["expected"] == "94311"
    assert score.details["extracted"] == written


@pytest.mark.parametrize("answer_format", FORMATS)
def test_no_answer_is_unparseable(answer_format):
    score = NumericAnswer(answer_format)("I am not sure how to multiply these.", TASK)
    assert score.value == 0.0
    assert score.status is Status.UNPARSEABLE
    assert score.details["extracted"] is None


@pytest.mark.parametrize("answer_format", STRICT_FORMATS)
@pytest.mark.parametrize("written", ["ninety-four thousand", "94311 apples", "x"])
def test_answer_that_is_not_one_number_is_unparseable(answer_format, written):
    score = NumericAnswer(answer_format)(say(answer_format, written), TASK)
    assert score.value == 0.0
    assert score.status is Status.UNPARSEABLE
    assert score.details["extracted"] == written


@pytest.mark.parametrize("answer_format", STRICT_FORMATS)
@pytest.mark.parametrize("answers", [("94311", "94312"), ("94312", "94311")], ids=["right-first", "right-last"])
def test_two_different_answers_are_hedged_whichever_comes_last(answer_format, answers):
    completion = "\n".join(say(answer_format, answer) for answer in answers)
    if answer_format is AnswerFormat.R1:  # two answers after one reasoning block
        completion = "<think>Multiply.</think>" + "".join(f"<answer>{answer}</answer>" for answer in answers)
    score = NumericAnswer(answer_format)(completion, TASK)
    assert score.value == 0.0
    assert score.status is Status.HEDGED


@pytest.mark.parametrize("answer_format", STRICT_FORMATS)
def test_an_answer_only_in_the_reasoning_is_no_answer(answer_format):
    completion = "<think>" + say(answer_format, "94311") + "</think>I am not sure."
    score = NumericAnswer(answer_format)(completion, TASK)
    assert score.value == 0.0 and score.status is Status.UNPARSEABLE


@pytest.mark.parametrize("answer_format", STRICT_FORMATS)
def test_a_wrong_draft_in_the_reasoning_does_not_make_the_final_answer_a_hedge(answer_format):
    draft = say(answer_format, "94312").replace("<think>", "").replace("</think>", "")
    completion = "<think>" + draft + "</think>\n" + say(answer_format, "94311").split("</think>")[-1]
    assert NumericAnswer(answer_format)(completion, TASK).status is Status.OK


def test_last_number_format_judges_only_the_last_number():
    verifier = NumericAnswer(AnswerFormat.LAST_NUMBER)
    assert verifier("maybe 94312, no: 94311", TASK).status is Status.OK
    assert verifier("maybe 94311, no: 94312", TASK).status is Status.WRONG


@pytest.mark.parametrize("answer_format", FORMATS)
@pytest.mark.parametrize("reference", ["abc", None, True, 94311.0, "94311 or 94312", [94311]])
def test_reference_that_is_not_a_number_is_a_data_error(answer_format, reference):
    task = SimpleNamespace(answer=reference)
    score = NumericAnswer(answer_format)(say(answer_format, "94311"), task)
    assert score.value is None
    assert score.status is Status.DATA_ERROR
    assert "not a number" in score.details["reason"]


@pytest.mark.parametrize("answer_format", FORMATS)
def test_missing_reference_field_is_a_data_error(answer_format):
    score = NumericAnswer(answer_format)(say(answer_format, "94311"), SimpleNamespace())
    assert score.value is None
    assert score.status is Status.DATA_ERROR


@pytest.mark.parametrize("reference", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")], ids=str)
def test_non_finite_decimal_reference_is_a_data_error(reference):
    score = NumericAnswer()(say(AnswerFormat.FIREWORKS, "5"), SimpleNamespace(answer=reference))
    assert score.value is None
    assert score.status is Status.DATA_ERROR


@pytest.mark.parametrize("reference", [94311, "94311", "94,311", Decimal("94311.00"), "$94311$"])
def test_reference_may_be_int_string_or_decimal(reference):
    score = NumericAnswer()(say(AnswerFormat.FIREWORKS, "94311"), SimpleNamespace(answer=reference))
    assert score.status is Status.OK
    assert score.details["expected"] == "94311"


def test_answer_field_names_the_reference_attribute():
    task = SimpleNamespace(answer=1, product=94311)
    verifier = NumericAnswer(AnswerFormat.R1, answer_field="product")
    assert verifier(say(AnswerFormat.R1, "94311"), task).status is Status.OK
    assert verifier(say(AnswerFormat.R1, "1"), task).status is Status.WRONG


def test_default_format_is_fireworks():
    assert NumericAnswer().answer_format is AnswerFormat.FIREWORKS


@pytest.mark.parametrize("answer_format", FORMATS)
def test_answer_format_given_as_string_judges_like_the_enum(answer_format):
    # AnswerFormat is a str enum and extract() accepts its string values.
    completions = [say(answer_format, "94311"), "first 94312, finally 94311", "nothing"]
    for completion in completions:
        assert NumericAnswer(answer_format.value)(completion, TASK) == NumericAnswer(answer_format)(completion, TASK)


def test_decimal_answers_compare_by_value():
    task = SimpleNamespace(answer="0.5")
    verifier = NumericAnswer(AnswerFormat.BOXED)
    assert verifier("\\boxed{0.50}", task).status is Status.OK
    assert verifier("\\boxed{.5}", task).status is Status.OK
    assert verifier("\\boxed{0.51}", task).status is Status.WRONG


def test_details_keep_logs_small():
    completion = say(AnswerFormat.R1, "x" * 10_000)
    score = NumericAnswer(AnswerFormat.R1)(completion, TASK)
    assert score.status is Status.UNPARSEABLE
    assert len(score.details["extracted"]) <= 120


# --- gaming ------------------------------------------------------------------


def test_two_different_final_answer_lines_score_zero():
    completion = (
        "Final Answer: The final answer is 94311. I hope it is correct.\n"
        "Final Answer: The final answer is 94312. I hope it is correct."
    )
    score = NumericAnswer(AnswerFormat.FIREWORKS)(completion, TASK)
    assert score.value == 0.0
    assert score.status is Status.HEDGED


@pytest.mark.parametrize(
    "completion",
    [
        "Final Answer: the final answer is 94311 or 94312",
        "Final Answer: the final answer is 94311 or 94312. I hope it is correct.",
        "Final Answer: The final answer is 94311, 94312. I hope it is correct.",
        "Final Answer: The final answer is 94311/94312. I hope it is correct.",
        "Final Answer: The final answer is 94311 94312. I hope it is correct.",
    ],
)
def test_one_final_answer_listing_several_numbers_scores_zero(completion):
    score = NumericAnswer(AnswerFormat.FIREWORKS)(completion, TASK)
    assert score.value == 0.0
    assert score.status is Status.UNPARSEABLE


@pytest.mark.parametrize(
    "answer",
    ["94311, 94312", "94311 94312", "94311\n94312", "94311 or 94312", "94310 < x < 94312"],
)
def test_answer_block_listing_several_numbers_scores_zero(answer):
    completion = f"<think>Multiply.</think><answer>{answer}</answer>"
    assert NumericAnswer(AnswerFormat.R1)(completion, TASK).value == 0.0


@pytest.mark.parametrize(
    ("answer_format", "written"),
    [
        (AnswerFormat.FIREWORKS, "\\boxed{94312} or \\boxed{94311}"),
        (AnswerFormat.FIREWORKS, "\\boxed{94311} or 94312"),
        (AnswerFormat.R1, "\\boxed{94312} \\boxed{94311}"),
        (AnswerFormat.BOXED, "\\boxed{94312} or \\boxed{94311}"),
    ],
)
def test_several_boxes_in_one_answer_score_zero(answer_format, written):
    score = NumericAnswer(answer_format)(say(answer_format, written), TASK)
    assert score.value == 0.0


@pytest.mark.parametrize("answer_format", FORMATS)
def test_right_number_only_in_the_reasoning_scores_zero(answer_format):
    completion = "1497 * 63 = 94311, double-checking... " + say(answer_format, "94312")
    score = NumericAnswer(answer_format)(completion, TASK)
    assert score.value == 0.0
    assert score.status is Status.WRONG


def test_right_number_inside_the_think_block_scores_zero():
    completion = "<think>It is 94311.</think><answer>94312</answer>"
    assert NumericAnswer(AnswerFormat.R1)(completion, TASK).status is Status.WRONG


@pytest.mark.parametrize("answer_format", STRICT_FORMATS)
@pytest.mark.parametrize("second", ["94311", "94,311", "$94311$", "94311.0"])
def test_repeating_the_same_right_answer_scores_one(answer_format, second):
    completion = say(answer_format, "94311") + "\nTo repeat:\n" + say(answer_format, second)
    assert NumericAnswer(answer_format)(completion, TASK).status is Status.OK


@pytest.mark.parametrize(("asked", "written"), [(a, w) for a in STRICT_FORMATS for w in FORMATS if a is not w])
def test_right_answer_in_another_format_than_asked_scores_zero(asked, written):
    score = NumericAnswer(asked)(say(written, "94311"), TASK)
    assert score.value == 0.0
    assert score.status is Status.UNPARSEABLE


@pytest.mark.parametrize("answer_format", FORMATS)
def test_huge_number_as_answer_scores_zero_fast(answer_format):
    start = time.perf_counter()
    score = NumericAnswer(answer_format)(say(answer_format, "9" * 1_000_000), TASK)
    assert time.perf_counter() - start < 5.0
    assert score.value == 0.0
    assert len(score.details["extracted"]) <= 120


@pytest.mark.parametrize("answer_format", FORMATS)
def test_right_answer_after_a_megabyte_of_reasoning_scores_one(answer_format):
    completion = "let me think. " * 75_000 + say(answer_format, "94311")
    start = time.perf_counter()
    score = NumericAnswer(answer_format)(completion, TASK)
    assert time.perf_counter() - start < 5.0
    assert score.status is Status.OK


@pytest.mark.parametrize("answer_format", STRICT_FORMATS)
def test_thousands_of_different_answers_are_hedged(answer_format):
    completion = "\n".join(say(answer_format, str(n)) for n in range(90_000, 94_312))
    if answer_format is AnswerFormat.R1:  # all of them after one reasoning block
        completion = "<think>Guess.</think>" + "".join(f"<answer>{n}</answer>" for n in range(90_000, 94_312))
    score = NumericAnswer(answer_format)(completion, TASK)
    assert score.value == 0.0
    assert score.status is Status.HEDGED


# --- property kit ------------------------------------------------------------


class IntTask(BaseModel):
    answer: int


INT_TASKS = st.builds(IntTask, answer=st.integers(min_value=-(10**12), max_value=10**12))


@pytest.mark.parametrize("answer_format", FORMATS)
def test_numeric_answer_passes_the_property_kit(answer_format):
    def reference(task: IntTask) -> str:
        return say(answer_format, str(task.answer))

    def wrong(task: IntTask) -> st.SearchStrategy[str]:
        deltas = st.integers(min_value=-(10**6), max_value=10**6).filter(bool)
        return deltas.map(lambda delta: say(answer_format, f"{task.answer + delta:,}"))

    check_verifier(NumericAnswer(answer_format), tasks=INT_TASKS, reference=reference, wrong=wrong, max_examples=50)


def test_numeric_answer_passes_the_property_kit_on_simple_tasks():
    tasks = st.integers(min_value=-999, max_value=999).map(lambda n: SimpleNamespace(answer=n))
    check_verifier(
        NumericAnswer(AnswerFormat.R1),
        tasks=tasks,
        reference=lambda task: f"<think>easy</think><answer>{task.answer}</answer>",
        wrong=lambda task: st.just(f"<think>easy</think><answer>{task.answer + 1}</answer>"),
        max_examples=30,
    )
