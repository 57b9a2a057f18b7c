"""R1Format: the anchored <think>...</think><answer>...</answer> check."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from rlvr.verifiers.properties import check_verifier
from rlvr.verifiers.r1_format import R1Format, r1_format_problem
from rlvr.verifiers.score import Score, Status
from rlvr.verifiers.strategies import completions, pathological_completions

# --- accepted shapes ---------------------------------------------------------


@pytest.mark.parametrize(
    "completion",
    [
        "<think>1497 * 63 = 94311</think><answer>94311</answer>",
        "   \n\t<think>reasoning</think><answer>42</answer>",
        "reasoning without the opening tag</think><answer>42</answer>",
        "  prefilled reasoning</think>\n<answer>42</answer>",
        "<think>a</think>\n\n<answer>42</answer>",
        "<think>a</think> \n <answer>42</answer>\n\n",
        "<think>\nline one\nline two\n</think>\n<answer>\n42\n</answer>\n",
        "<think>a</think><answer>any answer text, not only numbers</answer>",
    ],
)
def test_accepted_shapes(completion):
    assert r1_format_problem(completion) is None
    assert R1Format()(completion, None) == Score.correct()


def test_task_is_ignored():
    completion = "<think>a</think><answer>1</answer>"
    verifier = R1Format()
    assert verifier(completion, None) == verifier(completion, object()) == Score.correct()
    assert verifier("nope", None) == verifier("nope", {"answer": 1})


# --- every rejection reason --------------------------------------------------

REJECTIONS = {
    "two think blocks": (
        "<think>a</think><think>b</think><answer>1</answer>",
        "more than one <think> tag",
    ),
    "two answer blocks": (
        "<think>a</think><answer>1</answer><answer>2</answer>",
        "expected exactly one <answer>, found 2",
    ),
    "empty think": ("<think>  \n\t</think><answer>1</answer>", "empty think block"),
    "empty prefilled think": ("</think><answer>1</answer>", "empty think block"),
    "empty answer": ("<think>a</think><answer> \n </answer>", "empty answer block"),
    "text between blocks": (
        "<think>a</think> So: <answer>1</answer>",
        "text between </think> and <answer>",
    ),
    "text after answer": ("<think>a</think><answer>1</answer> Done!", "text after </answer>"),
    "answer opened inside think": (
        "<think>a<answer>1</think></answer>",
        "tags out of order",
    ),
    "answer closed before opened": (
        "<think>a</think></answer>1<answer>",
        "tags out of order",
    ),
    "think closed after answer": ("reasoning<answer>1</answer></think>", "tags out of order"),
    "nested think": (
        "<think>a<think>b</think></think><answer>1</answer>",
        "more than one <think> tag",
    ),
    "nested answer": (
        "<think>a</think><answer><answer>1</answer></answer>",
        "expected exactly one <answer>, found 2",
    ),
    "answer nested in think": (
        "<think>a<answer>1</answer></think><answer>1</answer>",
        "expected exactly one <answer>, found 2",
    ),
    "think nested in answer": (
        "<answer><think>a</think>1</answer>",
        "more than one <think> tag",
    ),
    "missing </think>": ("<think>a<answer>1</answer>", "expected exactly one </think>, found 0"),
    "missing <answer>": ("<think>a</think>1</answer>", "expected exactly one <answer>, found 0"),
    "missing </answer>": ("<think>a</think><answer>1", "expected exactly one </answer>, found 0"),
    "no tags at all": ("The answer is 42.", "expected exactly one </think>, found 0"),
    "empty completion": ("", "expected exactly one </think>, found 0"),
    "text before <think>": (
        "Sure! <think>a</think><answer>1</answer>",
        "more than one <think> tag",
    ),
}


@pytest.mark.parametrize(("completion", "reason"), REJECTIONS.values(), ids=REJECTIONS.keys())
def test_rejection_reason(completion, reason):
    problem = r1_format_problem(completion)
    assert problem is not None
    assert problem.startswith(reason)
    score = R1Format()(completion, None)
    assert score == Score.fail(Status.FORMAT_ERROR, reason=problem)


# --- gaming ------------------------------------------------------------------


@pytest.mark.parametrize(
    "completion",
    [
        "<think></think><answer>x</answer>",
        "<think> </think><answer>x</answer>",
        "<think>\n\n</think>\n<answer>x</answer>",
    ],
)
def test_blank_think_block_scores_zero(completion):
    assert R1Format()(completion, None).value == 0.0


def test_answer_tags_inside_the_think_block_score_zero():
    completion = "<think>maybe <answer>1</answer> or</think><answer>2</answer>"
    score = R1Format()(completion, None)
    assert score.value == 0.0
    assert score.status is Status.FORMAT_ERROR


@pytest.mark.parametrize(
    "completion",
    [
        "<think>a</think><answer>1</answer><answer>2</answer>",
        "<think>a</think><answer>1</answer>\n<answer>1</answer>",
        "<think>a</think><answer>1</answer>\n<think>more</think>",
        "<think>a</think><answer>1</answer></answer>",
    ],
)
def test_second_block_after_the_answer_scores_zero(completion):
    assert R1Format()(completion, None).value == 0.0


def test_reward_for_format_is_not_given_for_loose_matches():
    # A regex search for <think>.*</think>.*<answer>.*</answer> would accept these.
    for completion in [
        "junk <think>a</think> junk <answer>1</answer> junk",
        "<think>a</think><answer>1</answer>\n\nP.S. the answer might be 2",
    ]:
        assert R1Format()(completion, None).status is Status.FORMAT_ERROR


# --- properties --------------------------------------------------------------

TAGLESS = st.characters(exclude_characters="<>")
CONTENT = st.text(TAGLESS, min_size=1, max_size=40).filter(str.strip)
JUNK = CONTENT
BLANK = st.text(st.sampled_from(" \t\n\r"), max_size=5)


@st.composite
def well_formed(draw: st.DrawFn) -> str:
    lead = draw(BLANK)
    opening = draw(st.sampled_from(["<think>", ""]))
    think, answer = draw(CONTENT), draw(CONTENT)
    gap, tail = draw(BLANK), draw(BLANK)
    return f"{lead}{opening}{think}</think>{gap}<answer>{answer}</answer>{tail}"


@st.composite
def broken(draw: st.DrawFn) -> str:
    t, a, junk, blank = draw(CONTENT), draw(CONTENT), draw(JUNK), draw(BLANK)
    shapes = [
        f"<think>{t}</think><answer>{a}</answer>{junk}",
        f"<think>{t}</think>{junk}<answer>{a}</answer>",
        f"{junk}<think>{t}</think><answer>{a}</answer>",
        f"<think>{blank}</think><answer>{a}</answer>",
        f"<think>{t}</think><answer>{blank}</answer>",
        f"<think>{t}</think><answer>{a}</answer><answer>{a}</answer>",
        f"<think>{t}</think><think>{t}</think><answer>{a}</answer>",
        f"<think>{t}<answer>{a}</answer></think><answer>{a}</answer>",
        f"<think>{t}</think>{a}</answer>",
        f"<think>{t}</think><answer>{a}",
        f"<think>{t}<answer>{a}</answer>",
        f"<answer>{a}</answer><think>{t}</think>",
        f"{t}",
    ]
    return draw(st.sampled_from(shapes))


@settings(max_examples=100, deadline=None)
@given(well_formed())
def test_every_well_formed_completion_is_accepted(completion):
    assert r1_format_problem(completion) is None


@settings(max_examples=100, deadline=None)
@given(broken())
def test_every_broken_completion_is_rejected(completion):
    assert r1_format_problem(completion) is not None
    assert R1Format()(completion, None).status is Status.FORMAT_ERROR


@settings(max_examples=100, deadline=None)
@given(completions())
def test_arbitrary_text_gets_a_zero_or_one_verdict(completion):
    score = R1Format()(completion, None)
    assert score.value in (0.0, 1.0)
    assert (score.value == 1.0) == (r1_format_problem(completion) is None)


def test_pathological_inputs_finish_quickly():
    for completion in pathological_completions():
        start = time.perf_counter()
        R1Format()(completion, None)
        assert time.perf_counter() - start < 5.0


class IntTask(BaseModel):
    answer: int


def test_r1_format_passes_the_property_kit():
    check_verifier(
        R1Format(),
        tasks=st.builds(IntTask, answer=st.integers(min_value=-(10**9), max_value=10**9)),
        reference=lambda task: f"<think>Compute it.</think>\n<answer>{task.answer}</answer>",
        wrong=lambda task: broken(),
        max_examples=50,
    )
