"""Answer extractors: Fireworks, R1 answer blocks, boxes, last number, and the dispatch."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlvr.verifiers.extract import (
    AnswerFormat,
    boxed_all,
    boxed_spans,
    extract,
    extract_all,
    extract_boxed,
    extract_fireworks,
    extract_last_number,
    extract_r1_answer,
    fireworks_all,
    numbers_all,
    r1_answers_all,
)
from rlvr.verifiers.strategies import completions, pathological_completions

ALL_FUNCTIONS = {
    AnswerFormat.FIREWORKS: fireworks_all,
    AnswerFormat.R1: r1_answers_all,
    AnswerFormat.BOXED: boxed_all,
    AnswerFormat.LAST_NUMBER: numbers_all,
}
LAST_FUNCTIONS = {
    AnswerFormat.FIREWORKS: extract_fireworks,
    AnswerFormat.R1: extract_r1_answer,
    AnswerFormat.BOXED: extract_boxed,
    AnswerFormat.LAST_NUMBER: extract_last_number,
}
EXTRACTORS = [*ALL_FUNCTIONS.values(), *LAST_FUNCTIONS.values()]


# --- Fireworks -----------------------------------------------------------------


def test_fireworks_reads_the_answer_between_lead_and_closing_sentence():
    text = "1497 * 63 = 94311.\nFinal Answer: The final answer is 94311. I hope it is correct."
    assert extract_fireworks(text) == "94311"
    assert fireworks_all(text) == ["94311"]


def test_fireworks_keeps_latex_around_the_answer():
    text = "Final Answer: The final answer is $\\frac{1}{2}$. I hope it is correct."
    assert extract_fireworks(text) == "$\\frac{1}{2}$"


def test_fireworks_answer_ends_at_the_closing_sentence():
    # The docstring: X is what stands between "the final answer is" and
    # "I hope it is correct" on the same line; text after that sentence is not X.
    text = "Final Answer: The final answer is 94311. I hope it is correct. Thanks for asking!"
    assert extract_fireworks(text) == "94311"


def test_fireworks_closing_sentence_is_optional():
    assert extract_fireworks("Final Answer: The final answer is 42") == "42"
    assert extract_fireworks("Final Answer: The final answer is 42.") == "42"


def test_fireworks_without_the_answer_is_phrase_takes_the_rest_of_the_line():
    assert extract_fireworks("Final Answer: 42\nsome more text") == "42"
    assert extract_fireworks("Final Answer : 7") == "7"


@pytest.mark.parametrize(
    "text",
    [
        "final answer: the final answer is 5. i hope it is correct.",
        "FINAL ANSWER: THE FINAL ANSWER IS 5. I HOPE IT IS CORRECT.",
        "FiNaL aNsWeR: tHe FiNaL aNsWeR iS 5. I hOpE iT iS cOrReCt.",
    ],
)
def test_fireworks_matching_is_case_insensitive(text):
    assert extract_fireworks(text) == "5"


def test_fireworks_empty_answer_is_no_answer():
    assert fireworks_all("Final Answer: The final answer is . I hope it is correct.") == []
    assert extract_fireworks("Final Answer:") is None


def test_fireworks_answer_does_not_continue_onto_the_next_line():
    assert fireworks_all("Final Answer:\n42") == []


def test_fireworks_all_returns_every_answer_in_order():
    text = (
        "Final Answer: The final answer is 1. I hope it is correct.\n"
        "Wait, let me redo that.\n"
        "Final Answer: The final answer is 2. I hope it is correct.\n"
        "final answer: the final answer is 3"
    )
    assert fireworks_all(text) == ["1", "2", "3"]
    assert extract_fireworks(text) == "3"


def test_fireworks_two_leads_on_one_line_are_two_answers():
    text = (
        "Final Answer: The final answer is 5. I hope it is correct. "
        "Final Answer: The final answer is 6. I hope it is correct."
    )
    assert fireworks_all(text) == ["5", "6"]


def test_fireworks_hedged_answer_is_kept_verbatim():
    text = "Final Answer: the final answer is 94311 or 94312"
    assert extract_fireworks(text) == "94311 or 94312"


def test_fireworks_without_lead_finds_nothing():
    assert extract_fireworks("The final answer is 5. I hope it is correct.") is None


# --- R1 ------------------------------------------------------------------------


def test_r1_answer_block_content_is_stripped():
    assert extract_r1_answer("<think>add</think>\n<answer>\n 42 \n</answer>") == "42"


def test_r1_all_returns_every_closed_block_in_order():
    text = "<answer>1</answer> text <answer> 2 </answer><answer>3</answer>"
    assert r1_answers_all(text) == ["1", "2", "3"]
    assert extract_r1_answer(text) == "3"


def test_r1_unclosed_block_yields_nothing():
    assert r1_answers_all("<answer>1</answer><answer>2") == ["1"]
    assert extract_r1_answer("<think>x</think><answer>42") is None


def test_r1_block_closes_at_first_closing_tag():
    assert r1_answers_all("<answer>1</answer>2</answer>") == ["1"]


def test_r1_empty_block_is_an_empty_answer():
    assert r1_answers_all("<answer>  </answer>") == [""]


def test_r1_tags_are_case_sensitive():
    assert extract_r1_answer("<ANSWER>5</ANSWER>") is None


# --- boxed -----------------------------------------------------------------------


def test_boxed_simple():
    assert extract_boxed("so the answer is $\\boxed{42}$.") == "42"


def test_boxed_keeps_nested_braces():
    assert extract_boxed("\\boxed{\\frac{1}{2}}") == "\\frac{1}{2}"
    assert extract_boxed("\\boxed{{a}{b{c}}}") == "{a}{b{c}}"


def test_fbox_is_a_box():
    assert extract_boxed("\\fbox{7}") == "7"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("\\boxed 5", "5"), ("$\\boxed 5$", "5"), ("\\boxed 5 apples", "5"), ("\\boxed 12\n", "12")],
)
def test_braceless_box_takes_one_token(text, expected):
    assert extract_boxed(text) == expected


def test_unbalanced_box_yields_nothing():
    assert extract_boxed("\\boxed{42") is None
    assert extract_boxed("\\boxed{{42}") is None


def test_unbalanced_box_ends_the_scan_but_keeps_earlier_boxes():
    assert boxed_all("\\boxed{1} \\boxed{2") == ["1"]


def test_boxed_command_without_argument_is_ignored():
    assert boxed_all("\\boxed") == []
    assert boxed_all("\\boxedx \\boxed{3}") == ["3"]


def test_boxed_all_returns_every_box_in_order():
    text = "first \\boxed{1}, then \\fbox{2}, then \\boxed 3 and \\boxed{\\frac{4}{5}}"
    assert boxed_all(text) == ["1", "2", "3", "\\frac{4}{5}"]
    assert extract_boxed(text) == "\\frac{4}{5}"


# --- last number ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The total is 1,000 apples", "1,000"),
        ("1 + 2 = 3", "3"),
        ("it drops to -17 degrees", "-17"),
        ("it drops to −17 degrees", "−17"),
        ("pi is about 3.14.", "3.14"),
        ("+5", "+5"),
        ("1,234,567", "1,234,567"),
        ("9" * 50, "9" * 50),
    ],
)
def test_last_number(text, expected):
    assert extract_last_number(text) == expected


def test_last_number_none_without_digits():
    assert extract_last_number("no numbers here") is None
    assert extract_last_number("") is None


def test_numbers_all_returns_every_number_in_order():
    text = "1,000 and -3 and −7 and 3.5, then 12,34"
    assert numbers_all(text) == ["1,000", "-3", "−7", "3.5", "12", "34"]


# --- dispatch ------------------------------------------------------------------

SAMPLE = (
    "<think>2 + 2 = 4, \\boxed{4}</think><answer>5</answer>\n"
    "Final Answer: The final answer is 6. I hope it is correct.\n7"
)
SAMPLE_ALL = {
    AnswerFormat.FIREWORKS: ["6"],
    AnswerFormat.R1: ["5"],
    AnswerFormat.BOXED: ["4"],
    AnswerFormat.LAST_NUMBER: ["2", "2", "4", "4", "5", "6", "7"],
}


@pytest.mark.parametrize("answer_format", list(AnswerFormat))
def test_extract_all_dispatches_by_answer_format(answer_format):
    assert extract_all(SAMPLE, answer_format) == SAMPLE_ALL[answer_format]
    assert extract(SAMPLE, answer_format) == SAMPLE_ALL[answer_format][-1]


@pytest.mark.parametrize("answer_format", list(AnswerFormat))
def test_extract_all_dispatches_by_string(answer_format):
    assert extract_all(SAMPLE, answer_format.value) == SAMPLE_ALL[answer_format]
    assert extract(SAMPLE, answer_format.value) == SAMPLE_ALL[answer_format][-1]


def test_answer_format_string_values():
    assert [f.value for f in AnswerFormat] == ["fireworks", "r1", "boxed", "last_number"]


def test_extract_rejects_unknown_format():
    with pytest.raises(ValueError):
        extract(SAMPLE, "latex")
    with pytest.raises(ValueError):
        extract_all(SAMPLE, "R1")


@pytest.mark.parametrize("answer_format", list(AnswerFormat))
def test_extract_is_none_when_nothing_found(answer_format):
    assert extract("", answer_format) is None
    assert extract_all("", answer_format) == []


# --- properties ------------------------------------------------------------------


@pytest.mark.parametrize("extractor", EXTRACTORS, ids=lambda f: f.__name__)
@settings(max_examples=60, deadline=None)
@given(text=completions())
def test_extractors_never_raise_on_arbitrary_text(extractor, text):
    result = extractor(text)
    if extractor in ALL_FUNCTIONS.values():
        assert isinstance(result, list)
        assert all(isinstance(answer, str) for answer in result)
    else:
        assert result is None or isinstance(result, str)


@pytest.mark.parametrize("answer_format", list(AnswerFormat))
@settings(max_examples=60, deadline=None)
@given(text=completions())
def test_extract_is_the_last_of_extract_all(answer_format, text):
    answers = extract_all(text, answer_format)
    assert extract(text, answer_format) == (answers[-1] if answers else None)
    assert LAST_FUNCTIONS[answer_format](text) == extract(text, answer_format)


def _no_fireworks_lead(text: str) -> bool:
    return re.search("final answer", text, re.IGNORECASE) is None


NO_MARKER = {
    AnswerFormat.FIREWORKS: _no_fireworks_lead,
    AnswerFormat.R1: lambda text: "<answer>" not in text,
    AnswerFormat.BOXED: lambda text: "\\boxed" not in text and "\\fbox" not in text,
    AnswerFormat.LAST_NUMBER: lambda text: not any(char.isdecimal() for char in text),
}


@pytest.mark.parametrize("answer_format", list(AnswerFormat))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_text_without_the_marker_has_no_answer(answer_format, data):
    text = data.draw(completions().filter(NO_MARKER[answer_format]))
    assert extract_all(text, answer_format) == []
    assert extract(text, answer_format) is None


@pytest.mark.parametrize("extractor", EXTRACTORS, ids=lambda f: f.__name__)
def test_extractors_finish_on_pathological_input(extractor):
    for text in pathological_completions():
        start = time.perf_counter()
        extractor(text)
        elapsed = time.perf_counter() - start
        assert elapsed < 5.0, f"{extractor.__name__}: {elapsed:.1f} s on {text[:40]!r}"


@given(completions())
def test_box_spans_cover_each_box_and_its_content(text):
    for start, end, content in boxed_spans(text):
        whole = text[start:end]
        assert whole.startswith(("\\boxed", "\\fbox")) and content in whole


def test_box_spans_locate_the_boxes():
    text = "a \\boxed{1} b \\fbox{x^{2}} c \\boxed 7 d"
    assert [text[start:end] for start, end, _ in boxed_spans(text)] == ["\\boxed{1}", "\\fbox{x^{2}}", "\\boxed 7"]
    assert [content for _, _, content in boxed_spans(text)] == ["1", "x^{2}", "7"]
