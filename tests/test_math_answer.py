"""MathAnswer: the regression table of tricky answers, percent policies, hedging, time-outs, the kit."""

from __future__ import annotations

import os
import threading
import time
from decimal import ROUND_HALF_EVEN, Context, Decimal
from fractions import Fraction
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

import rlvr.verifiers.math_answer as math_answer
from rlvr.verifiers.extract import AnswerFormat
from rlvr.verifiers.math_answer import MathAnswer
from rlvr.verifiers.properties import check_verifier
from rlvr.verifiers.score import Status
from rlvr.verifiers.timed_worker import TimedWorker

FORMATS = list(AnswerFormat)
STATEMENT_FORMATS = [AnswerFormat.BOXED, AnswerFormat.R1, AnswerFormat.FIREWORKS]
# A short answer the parser needs minutes for: x^x^...^1 without braces.
SLOW_ANSWER = "x^" * 100 + "1"


def say(answer_format: AnswerFormat, answer: str) -> str:
    """A completion that states ``answer`` the way ``answer_format`` asks."""
    match answer_format:
        case AnswerFormat.FIREWORKS:
            return f"Simplify.\nFinal Answer: The final answer is ${answer}$. I hope it is correct."
        case AnswerFormat.R1:
            return f"<think>Simplify the expression.</think>\n<answer>{answer}</answer>"
        case AnswerFormat.BOXED:
            return f"Simplifying gives $\\boxed{{{answer}}}$."
        case AnswerFormat.LAST_NUMBER:
            return f"Simplifying gives {answer}"
    raise AssertionError(answer_format)


def judge(reference: object, completion: str, **options: object):
    return MathAnswer(**options)(completion, SimpleNamespace(answer=reference))  # type: ignore[arg-type]


def boxed(answer: str) -> str:
    return say(AnswerFormat.BOXED, answer)


# --- regression table ----------------------------------------------------------

OK, WRONG, UNPARSEABLE, HEDGED = Status.OK, Status.WRONG, Status.UNPARSEABLE, Status.HEDGED

TABLE = [
    # exact constants: math-verify alone calls these equal (both below its chop threshold)
    ("factorials-differ", "\\frac{1}{2004!}", boxed("\\frac{1}{2006!}"), WRONG),
    ("factorial-same", "\\frac{1}{2004!}", boxed("\\frac{1}{2004!}"), OK),
    ("tiny-vs-zero-decimal", "\\frac{1}{2004!}", boxed("0.000000"), WRONG),
    ("tiny-vs-zero", "\\frac{1}{2004!}", boxed("0"), WRONG),
    ("big-power-off-by-one", "2^{200}", boxed("2^{200}+1"), WRONG),
    ("big-power-other-form", "2^{200}", boxed("4^{100}"), OK),
    ("denested-root", "1+\\sqrt{2}", boxed("\\sqrt{3+2\\sqrt{2}}"), OK),
    ("one-vs-division-by-zero", "1", boxed("\\frac{1}{0}"), WRONG),
    ("finite-vs-infinite-product", "12", boxed("e \\cdot 0.3 \\cdot \\infty"), WRONG),
    ("infinity", "\\infty", boxed("\\infty"), OK),
    ("infinity-vs-minus-infinity", "\\infty", boxed("-\\infty"), WRONG),
    # decimals against exact values
    ("third-3-digits", "\\frac{1}{3}", boxed("0.333"), WRONG),
    ("third-6-digits", "\\frac{1}{3}", boxed("0.333333"), OK),
    ("third-7-digits", "\\frac{1}{3}", boxed("0.3333333"), OK),
    ("two-thirds-rounded", "\\frac{2}{3}", boxed("0.666667"), OK),
    ("two-thirds-truncated", "\\frac{2}{3}", boxed("0.666666"), OK),
    ("two-thirds-off-by-two-units", "\\frac{2}{3}", boxed("0.666665"), WRONG),
    ("pi-6-digits", "\\pi", boxed("3.14159"), OK),
    ("pi-3-digits", "\\pi", boxed("3.14"), WRONG),
    ("root-over-two", "\\frac{\\sqrt{2}}{2}", boxed("0.707107"), OK),
    ("integer-vs-near-decimal", "2", boxed("1.9999999"), WRONG),
    ("integer-vs-decimal-off-by-a-tenth", "123457", boxed("123456.9"), WRONG),
    ("long-decimal-reference", "0.3333333333", boxed("\\frac{1}{3}"), OK),
    ("short-decimal-reference-vs-exact", "0.33", boxed("\\frac{1}{3}"), WRONG),
    ("trailing-zeros", "0.5", boxed("0.50"), OK),
    ("integer-with-point-zero", "1000", boxed("1000.0"), OK),
    # forms of the same number
    ("dfrac-half", "0.5", boxed("\\dfrac{1}{2}"), OK),
    ("tfrac-half", "\\frac{1}{2}", boxed("\\tfrac12"), OK),
    ("slash-half", "\\frac{1}{2}", boxed("1/2"), OK),
    ("half-unreduced", "0.5", boxed("\\frac{2}{4}"), OK),
    ("thousands-comma", "1000", boxed("1,000"), OK),
    ("reference-with-comma", "1,000", boxed("1000"), OK),
    ("thousands-braced-comma", "10{,}000", boxed("10000"), OK),
    ("thousands-thin-space", "1000", boxed("1\\,000"), OK),
    ("sqrt-8", "2\\sqrt{2}", boxed("\\sqrt{8}"), OK),
    ("sqrt-product-order", "\\frac{\\sqrt{3}}{2}", boxed("\\frac{1}{2}\\sqrt{3}"), OK),
    ("power-of-ten", "10^{10}", boxed("10000000000"), OK),
    ("polynomial-factored", "x^2+2x+1", boxed("(x+1)^2"), OK),
    ("polynomial-different", "x^2+2x+1", boxed("(x-1)^2"), WRONG),
    ("degrees", "30^\\circ", boxed("30"), OK),
    ("dollar-sign", "5", boxed("\\$5"), OK),
    ("brace-less-box", "5", "so the answer is $\\boxed 5$", OK),
    # sets, tuples, intervals, lists
    ("set-order", "\\{1,2\\}", boxed("\\{2,1\\}"), OK),
    ("tuple-order", "(1,2)", boxed("(2,1)"), WRONG),
    ("tuple-same", "(1, 2)", boxed("(1,2)"), OK),
    ("half-open-vs-closed", "[0,1)", boxed("[0,1]"), WRONG),
    ("half-open-same", "[0,1)", boxed("[0, 1)"), OK),
    ("infinite-interval", "(-\\infty, 3]", boxed("(-\\infty, 3]"), OK),
    ("list-any-order", "-2, 3", boxed("3, -2"), OK),
    ("list-vs-one-of-it", "4", boxed("4,5"), WRONG),
    ("matrix", "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", boxed("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}"), OK),
    # equations
    ("assignment-vs-value", "3", boxed("x=3"), OK),
    ("value-vs-assignment", "x = 3", boxed("3"), OK),
    ("other-variable", "x=3", boxed("y=3"), WRONG),
    # which box counts
    ("last-box-counts", "4", "Half is $\\boxed{3}$ here.\nSo the answer is $\\boxed{4}$.", OK),
    ("earlier-box-does-not-count", "3", "Half is $\\boxed{3}$ here.\nSo the answer is $\\boxed{4}$.", WRONG),
    ("box-inside-box", "5", boxed("\\boxed{5}"), OK),
    # nothing to read
    ("no-box", "1", "the answer is 1", UNPARSEABLE),
    ("empty-box", "1", boxed(""), UNPARSEABLE),
    ("blank-box", "1", boxed("  "), UNPARSEABLE),
    ("junk-box", "1", boxed("@#"), UNPARSEABLE),
    ("unclosed-box", "1", "so $\\boxed{1", UNPARSEABLE),
    # large values: compared exactly, whatever their size
    ("power-off-by-two", "2^{2023}-1", boxed("2^{2023}+1"), WRONG),
    ("factorial-plus-one", "2024!", boxed("2024!+1"), WRONG),
    ("binomial-plus-one", "\\binom{2024}{1012}", boxed("\\binom{2024}{1012}+1"), WRONG),
    ("ten-power-plus-one", "10^{1000}", boxed("10^{1000}+1"), WRONG),
    ("pi-times-power-plus-one", "10^{1000}\\pi", boxed("10^{1000}\\pi+1"), WRONG),
    ("power-same", "2^{2023}-1", boxed("2 \\cdot 2^{2022}-1"), OK),
    ("factorial-same", "2024!", boxed("2024 \\cdot 2023!"), OK),
    ("small-power-off-by-two", "2^{500}-1", boxed("2^{500}+1"), WRONG),
    ("small-tower", "256", boxed("2^{2^{3}}"), OK),
    # sets are not tuples, intervals or numbers
    ("tuple-vs-set", "\\{1,2\\}", boxed("(1,2)"), WRONG),
    ("set-vs-tuple", "(1,2)", boxed("\\{1,2\\}"), WRONG),
    ("singleton-vs-number", "1", boxed("\\{1\\}"), WRONG),
    ("number-vs-singleton", "\\{1\\}", boxed("1"), WRONG),
    # degrees and repeating decimals are the numbers they write
    ("degrees", "45", boxed("45^\\circ"), OK),
    ("degrees-reference", "45^\\circ", boxed("45"), OK),
    ("degrees-braced", "45", boxed("45^{\\circ}"), OK),
    ("degree-sign", "45", boxed("45°"), OK),
    ("degrees-wrong", "45", boxed("46^\\circ"), WRONG),
    ("repeating-decimal", "\\frac{1}{3}", boxed("0.\\overline{3}"), OK),
    ("repeating-decimal-reference", "0.\\overline{3}", boxed("\\frac{1}{3}"), OK),
    ("repeating-tail", "\\frac{1}{6}", boxed("0.1\\overline{6}"), OK),
    ("repeating-integer-part", "\\frac{5}{3}", boxed("1.\\overline{6}"), OK),
    ("repeating-wrong", "\\frac{1}{3}", boxed("0.\\overline{6}"), WRONG),
]


@pytest.mark.parametrize(
    ("reference", "completion", "status"),
    [row[1:] for row in TABLE],
    ids=[row[0] for row in TABLE],
)
def test_regression_table(reference, completion, status):
    score = judge(reference, completion)
    assert score.status is status, score
    assert score.value == (1.0 if status is OK else 0.0)


# --- percent policies --------------------------------------------------------------

PERCENT_TABLE = [
    # (policy, reference, answer, status)
    ("strict", "50\\%", "50\\%", OK),
    ("strict", "50\\%", "50%", OK),
    ("strict", "50\\%", "50 percent", OK),
    ("strict", "50\\%", "0.5", WRONG),
    ("strict", "50\\%", "50", WRONG),
    ("strict", "50", "50\\%", WRONG),
    ("strict", "0.5", "50\\%", WRONG),
    ("value", "50\\%", "50\\%", OK),
    ("value", "50\\%", "0.5", OK),
    ("value", "50\\%", "\\frac{1}{2}", OK),
    ("value", "50\\%", "50", WRONG),
    ("value", "0.5", "50\\%", OK),
    ("value", "50", "50\\%", WRONG),
    ("value", "\\frac{100}{3}\\%", "\\frac{1}{3}", OK),
    ("either", "50\\%", "50\\%", OK),
    ("either", "50\\%", "0.5", OK),
    ("either", "50\\%", "50", OK),
    ("either", "50", "50\\%", OK),
    ("either", "0.5", "50\\%", OK),
    ("either", "50\\%", "51", WRONG),
    ("either", "50\\%", "0.51", WRONG),
    ("either", "50\\%", "5\\%", WRONG),
    ("either", "\\frac{100}{3}\\%", "33.3333\\%", OK),
]


@pytest.mark.parametrize(
    ("policy", "reference", "answer", "status"),
    PERCENT_TABLE,
    ids=[f"{p}:{r}~{a}" for p, r, a, _ in PERCENT_TABLE],
)
def test_percent_policy(policy, reference, answer, status):
    assert judge(reference, boxed(answer), percent=policy).status is status


def test_default_percent_policy_is_either():
    assert MathAnswer().percent == "either"
    assert judge("25\\%", boxed("25")).status is OK


# --- formats ---------------------------------------------------------------------


@pytest.mark.parametrize("answer_format", STATEMENT_FORMATS)
@pytest.mark.parametrize("written", ["\\frac{3}{4}", "\\dfrac34", "0.75", "3/4"])
def test_right_answer_scores_one_in_every_format(answer_format, written):
    score = judge("\\frac{3}{4}", say(answer_format, written), answer_format=answer_format)
    assert score.value == 1.0
    assert score.status is OK
    assert score.details["expected"] == "\\frac{3}{4}"


@pytest.mark.parametrize("answer_format", STATEMENT_FORMATS)
def test_wrong_answer_scores_zero_in_every_format(answer_format):
    score = judge("\\frac{3}{4}", say(answer_format, "\\frac{4}{3}"), answer_format=answer_format)
    assert score.value == 0.0
    assert score.status is WRONG
    assert score.details["extracted"]


def test_last_number_format_reads_the_last_number():
    verifier = MathAnswer(AnswerFormat.LAST_NUMBER)
    task = SimpleNamespace(answer="\\frac{12}{4}")
    assert verifier("maybe 2, no: 3", task).status is OK
    assert verifier("maybe 3, no: 2", task).status is WRONG


@pytest.mark.parametrize("answer_format", FORMATS)
def test_no_answer_is_unparseable(answer_format):
    score = judge("\\frac{3}{4}", "I do not know.", answer_format=answer_format)
    assert score.status is UNPARSEABLE
    assert score.details["extracted"] is None


def test_default_format_is_boxed():
    assert MathAnswer().answer_format is AnswerFormat.BOXED


def test_answer_format_given_as_string_judges_like_the_enum():
    completion = say(AnswerFormat.R1, "\\frac{3}{4}")
    task = SimpleNamespace(answer="0.75")
    assert MathAnswer("r1")(completion, task) == MathAnswer(AnswerFormat.R1)(completion, task)


def test_answer_field_names_the_reference_attribute():
    task = SimpleNamespace(answer="1", solution="\\sqrt{2}")
    verifier = MathAnswer(answer_field="solution")
    assert verifier(boxed("2^{1/2}"), task).status is OK
    assert verifier(boxed("1"), task).status is WRONG


# --- references ------------------------------------------------------------------


@pytest.mark.parametrize(
    "reference",
    [3, Decimal("3.0"), Fraction(6, 2), "3", "$3$", "\\boxed{3}", "3."],
    ids=["int", "Decimal", "Fraction", "str", "dollars", "boxed", "full-stop"],
)
def test_reference_may_be_a_number_or_a_string(reference):
    assert judge(reference, boxed("\\frac{6}{2}")).status is OK


@pytest.mark.parametrize(
    "reference",
    [None, True, 0.5, [3], "", "   ", "\\frac{", "1}{", Decimal("NaN")],
    ids=["None", "bool", "float", "list", "empty", "blank", "unclosed", "unbalanced", "NaN"],
)
def test_reference_that_is_not_a_math_answer_is_a_data_error(reference):
    score = judge(reference, boxed("3"))
    assert score.value is None
    assert score.status is Status.DATA_ERROR


def test_reference_the_parser_cannot_read_is_a_data_error_not_a_zero():
    score = judge("@#", boxed("3"))
    assert score.value is None
    assert score.status is Status.DATA_ERROR
    assert "cannot be parsed" in score.details["reason"]


def test_unparseable_reference_is_reported_before_a_missing_answer():
    assert judge("@#", "no answer here").status is Status.DATA_ERROR


def test_missing_reference_field_is_a_data_error():
    score = MathAnswer()(boxed("3"), SimpleNamespace())
    assert score.value is None
    assert score.status is Status.DATA_ERROR


# --- hedging ----------------------------------------------------------------------

HEDGES = [
    ("or-inside-one-box", AnswerFormat.BOXED, boxed("4 \\text{ or } 5")),
    ("or-between-boxes", AnswerFormat.BOXED, "The answer is $\\boxed{4}$ or $\\boxed{5}$."),
    ("right-one-last", AnswerFormat.BOXED, "The answer is $\\boxed{5}$ or $\\boxed{4}$."),
    ("boxes-on-the-final-line", AnswerFormat.BOXED, "So: $\\boxed{4}, \\boxed{5}, \\boxed{6}$"),
    ("display-boxes", AnswerFormat.BOXED, "\\[\n\\boxed{4}\n\\]\nor maybe\n\\[\n\\boxed{5}\n\\]"),
    ("boxes-in-a-box", AnswerFormat.BOXED, boxed("\\boxed{4}\\boxed{5}")),
    ("boxes-in-an-answer-block", AnswerFormat.R1, "<think>hm</think><answer>\\boxed{4} \\boxed{5}</answer>"),
    ("two-answer-blocks", AnswerFormat.R1, "<answer>5</answer> no wait <answer>4</answer>"),
    ("or-in-an-answer-block", AnswerFormat.R1, "<answer>4 or 5</answer>"),
    ("two-final-answer-lines", AnswerFormat.FIREWORKS, "Final Answer: 4\nFinal Answer: 5"),
    ("boxes-in-a-final-answer", AnswerFormat.FIREWORKS, "Final Answer: The final answer is \\boxed{4} or \\boxed{5}."),
]


@pytest.mark.parametrize(("answer_format", "completion"), [h[1:] for h in HEDGES], ids=[h[0] for h in HEDGES])
def test_several_different_final_answers_are_hedged(answer_format, completion):
    score = judge("4", completion, answer_format=answer_format)
    assert score.value == 0.0
    assert score.status is HEDGED


@pytest.mark.parametrize(
    ("answer_format", "completion"),
    [
        (AnswerFormat.BOXED, "$\\boxed{4}$ or, written differently, $\\boxed{\\frac{8}{2}}$"),
        (AnswerFormat.BOXED, "$\\boxed{4}$, $\\boxed{4}$"),
        (AnswerFormat.R1, "<answer>4</answer> to repeat: <answer>4.0</answer>"),
        (AnswerFormat.FIREWORKS, "Final Answer: 4\nFinal Answer: \\frac{8}{2}"),
    ],
    ids=["boxes", "same-box-twice", "answer-blocks", "final-answer-lines"],
)
def test_the_same_answer_stated_twice_is_not_a_hedge(answer_format, completion):
    assert judge("4", completion, answer_format=answer_format).status is OK


def test_intermediate_boxes_of_a_worked_solution_are_not_a_hedge():
    completion = (
        "First, $a = \\boxed{3}$ and $b = \\boxed{4}$.\nThen $c = \\sqrt{a^2 + b^2}$, so the answer is $\\boxed{5}$."
    )
    assert judge("5", completion).status is OK


def test_a_changed_mind_in_a_later_paragraph_counts_the_last_box():
    completion = "I first thought $\\boxed{4}$.\n\nChecking the units again, it is $\\boxed{5}$."
    assert judge("5", completion).status is OK
    assert judge("4", completion).status is WRONG


@pytest.mark.parametrize(
    ("answer_format", "completion"),
    [
        (AnswerFormat.BOXED, "$x = \\boxed{-2}$ or $x = \\boxed{3}$"),
        (AnswerFormat.BOXED, boxed("x = -2 \\text{ or } x = 3")),
        (AnswerFormat.BOXED, boxed("3, -2")),
        (AnswerFormat.R1, "<answer>x=3 or x=-2</answer>"),
    ],
    ids=["boxes-joined-by-or", "or-in-one-box", "list", "answer-block"],
)
def test_several_answers_match_a_reference_that_lists_several(answer_format, completion):
    assert judge("-2, 3", completion, answer_format=answer_format).status is OK


def test_several_answers_against_a_list_must_match_the_whole_list():
    assert judge("-2, 3", "$\\boxed{-2}$ or $\\boxed{4}$").status is WRONG
    assert judge("-2, 3", "$\\boxed{-2}$ or $\\boxed{3}$ or $\\boxed{4}$").status is WRONG


# --- gaming ------------------------------------------------------------------------


def test_answer_stuffed_with_every_candidate_scores_zero():
    stuffed = ", ".join(str(n) for n in range(100))
    assert judge("7", boxed(stuffed)).value == 0.0
    every_box = " ".join(f"\\boxed{{{n}}}" for n in range(100))
    assert judge("7", every_box).status is HEDGED


@pytest.mark.parametrize("answer_format", [AnswerFormat.R1, AnswerFormat.FIREWORKS])
def test_thousands_of_different_declared_answers_are_hedged_fast(answer_format):
    completion = "\n".join(say(answer_format, str(n)) for n in range(3000))
    if answer_format is AnswerFormat.R1:  # all of them after one reasoning block
        completion = "<think>Guess.</think>" + "".join(f"<answer>{n}</answer>" for n in range(3000))
    start = time.perf_counter()
    score = judge("7", completion, answer_format=answer_format)
    assert time.perf_counter() - start < 2.0
    assert score.status is HEDGED


def test_megabyte_expression_is_refused_fast():
    start = time.perf_counter()
    score = judge("2", boxed("1+" * 500_000 + "1"))
    assert time.perf_counter() - start < 2.0
    assert score.status is UNPARSEABLE
    assert "longer than" in score.details["reason"]
    assert len(score.details["extracted"]) <= 120


def test_deeply_nested_braces_are_refused_fast():
    # Twenty levels keep the LaTeX parser busy for minutes; they are not read.
    start = time.perf_counter()
    score = judge("1", boxed("{" * 20 + "1" + "}" * 20))
    assert time.perf_counter() - start < 1.0
    assert score.status is UNPARSEABLE
    assert "nested deeper" in score.details["reason"]


def test_megabyte_of_nested_boxes_is_judged_fast():
    completion = "\\boxed{" * 100_000 + "1" + "}" * 100_000
    start = time.perf_counter()
    score = judge("1", completion)
    assert time.perf_counter() - start < 2.0
    assert score.value == 0.0


@pytest.mark.parametrize(
    ("asked", "completion"),
    [
        (AnswerFormat.R1, "<think>so it is \\boxed{4}</think> I am done."),
        (AnswerFormat.R1, "\\boxed{4} <answer>"),
        (AnswerFormat.FIREWORKS, "The answer is \\boxed{4}."),
        (AnswerFormat.BOXED, "<answer>4</answer>"),
        (AnswerFormat.BOXED, "Final Answer: The final answer is 4. I hope it is correct."),
    ],
    ids=["r1-box-in-think", "r1-unclosed-block", "fireworks-box-only", "boxed-answer-block", "boxed-final-line"],
)
def test_right_answer_in_another_format_than_asked_scores_zero(asked, completion):
    score = judge("4", completion, answer_format=asked)
    assert score.value == 0.0
    assert score.status is UNPARSEABLE


def test_box_in_the_reasoning_does_not_count_for_an_r1_answer():
    completion = "<think>It is \\boxed{4}.</think><answer>5</answer>"
    assert judge("4", completion, answer_format=AnswerFormat.R1).status is WRONG


# --- the hard time limit -------------------------------------------------------------


def test_answer_that_makes_the_checker_run_long_is_cut_and_scored_wrong():
    start = time.perf_counter()
    score = judge("1", boxed(SLOW_ANSWER), timeout=1.0)
    assert time.perf_counter() - start < 4.0  # the limit, plus starting a worker when this test runs alone
    assert score.value == 0.0
    assert score.status is WRONG
    assert score.details["timed_out"] is True


def test_checker_recovers_after_a_time_out():
    judge("1", boxed(SLOW_ANSWER), timeout=0.5)
    assert judge("\\frac{1}{2}", boxed("0.5"), timeout=0.5).status is OK
    assert judge("\\frac{1}{2}", boxed("\\frac{2}{3}"), timeout=0.5).status is WRONG


def test_time_limit_holds_when_called_from_another_thread():
    scores = []

    def run() -> None:
        scores.append(judge("1", boxed(SLOW_ANSWER), timeout=0.5))
        scores.append(judge("\\sqrt{4}", boxed("2"), timeout=5.0))

    thread = threading.Thread(target=run)
    start = time.perf_counter()
    thread.start()
    thread.join(timeout=60)
    assert time.perf_counter() - start < 10.0
    assert [score.status for score in scores] == [WRONG, OK]
    assert scores[0].details["timed_out"] is True


def test_forked_process_judges_with_its_own_checker():
    assert judge("\\frac{1}{2}", boxed("0.5")).status is OK  # the parent's worker is running
    parent_worker = math_answer.WORKER.pid
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the forked child
        try:
            score = judge("\\sqrt{2}", boxed("2^{1/2}"))
            os.write(write, f"{score.status.value} {math_answer.WORKER.pid}".encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    status, pid = os.read(read, 100).decode().split()
    os.close(read)
    assert status == "ok"
    assert int(pid) != parent_worker
    assert math_answer.WORKER.pid == parent_worker
    assert judge("\\frac{1}{2}", boxed("\\frac{1}{3}")).status is WRONG


def test_reference_that_makes_the_checker_run_long_is_a_data_error():
    score = judge(SLOW_ANSWER, boxed("1"), timeout=0.5)
    assert score.value is None
    assert score.status is Status.DATA_ERROR
    assert "within 0.5 s" in score.details["reason"]


def test_checker_that_cannot_start_is_a_verifier_error(monkeypatch):
    broken = TimedWorker(preload=("no_such_module_for_the_checker",))
    monkeypatch.setattr(math_answer, "WORKER", broken)
    score = judge("\\frac{1}{2}", boxed("\\frac{2}{4}"))
    broken.close()
    assert score.value is None
    assert score.status is Status.VERIFIER_ERROR


def test_plain_numbers_never_reach_the_checker(monkeypatch):
    monkeypatch.setattr(math_answer, "WORKER", TimedWorker(preload=("no_such_module_for_the_checker",)))
    assert judge("1,000", boxed("1000.0")).status is OK
    assert judge("50\\%", boxed("0.5")).status is OK
    assert judge("7", boxed("8")).status is WRONG


# --- options -------------------------------------------------------------------------


def test_significant_digits_sets_the_precision_of_decimals():
    assert judge("\\frac{1}{3}", boxed("0.333"), significant_digits=3).status is OK
    assert judge("\\frac{1}{3}", boxed("0.33"), significant_digits=3).status is WRONG
    assert judge("\\frac{1}{3}", boxed("0.333333"), significant_digits=8).status is WRONG


@pytest.mark.parametrize(
    "options",
    [{"percent": "loose"}, {"significant_digits": 0}, {"timeout": 0}, {"answer_format": "latex"}],
    ids=["percent", "digits", "timeout", "format"],
)
def test_invalid_options_are_refused(options):
    with pytest.raises(ValueError):
        MathAnswer(**options)


@pytest.mark.parametrize("written", ["1}{", "{1", "\\frac{1}{2"])
def test_answer_with_unbalanced_braces_is_unparseable(written):
    score = judge("1", say(AnswerFormat.R1, written), answer_format=AnswerFormat.R1)
    assert score.status is UNPARSEABLE
    assert score.details["reason"] == "unbalanced braces"


def test_details_keep_logs_small():
    score = judge("1", boxed("x" * 5000))
    assert score.status is UNPARSEABLE
    assert len(score.details["extracted"]) <= 120


# --- properties ------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    numerator=st.integers(min_value=-(10**6), max_value=10**6),
    denominator=st.integers(min_value=1, max_value=10**4),
    places=st.integers(min_value=0, max_value=12),
)
def test_a_decimal_scores_the_same_against_a_fraction_and_against_its_long_decimal(numerator, denominator, places):
    exact = Fraction(numerator, denominator)
    context = Context(prec=100)
    quotient = context.divide(Decimal(numerator), Decimal(denominator))
    answer = boxed(format(quotient.quantize(Decimal(1).scaleb(-places), ROUND_HALF_EVEN, context), "f"))
    long_decimal = format(quotient.quantize(Decimal(1).scaleb(-40), context=context), "f")
    symbolic = judge(f"\\frac{{{exact.numerator}}}{{{exact.denominator}}}", answer)  # parsed in the worker
    numeric = judge(long_decimal, answer)  # compared here, without the worker
    assert symbolic.status is numeric.status


class MathTask(BaseModel):
    answer: str


def latex_forms(value: Fraction) -> st.SearchStrategy[str]:
    """Ways a reference may write ``value``."""
    p, q = value.numerator, value.denominator
    if q == 1:
        return st.sampled_from([str(p), f"{p:,}", f"\\frac{{{2 * p}}}{{2}}"])
    sign = "-" if p < 0 else ""
    return st.sampled_from([f"{sign}\\frac{{{abs(p)}}}{{{q}}}", f"{sign}\\dfrac{{{abs(p)}}}{{{q}}}", f"{p}/{q}"])


FRACTIONS = st.fractions(min_value=-1000, max_value=1000, max_denominator=50)
MATH_TASKS = st.one_of(
    st.integers(min_value=-(10**9), max_value=10**9).map(lambda n: MathTask(answer=str(n))),
    FRACTIONS.flatmap(latex_forms).map(lambda text: MathTask(answer=text)),
)


def value_of(task: MathTask) -> Fraction:
    text = task.answer.replace(",", "").replace("\\dfrac", "\\frac")
    if text.lstrip("-").startswith("\\frac"):
        sign = -1 if text.startswith("-") else 1
        numerator, denominator = text.lstrip("-")[len("\\frac{") : -1].split("}{")
        return sign * Fraction(int(numerator), int(denominator))
    return Fraction(text)


def written_as(value: Fraction) -> str:
    """The value in a form that differs from the reference's: \\frac{2p}{2q}."""
    return f"\\frac{{{2 * value.numerator}}}{{{2 * value.denominator}}}"


@pytest.mark.parametrize("answer_format", STATEMENT_FORMATS)
def test_math_answer_passes_the_property_kit(answer_format):
    def reference(task: MathTask) -> str:
        return say(answer_format, written_as(value_of(task)))

    def wrong(task: MathTask) -> st.SearchStrategy[str]:
        deltas = st.fractions(min_value=-5, max_value=5, max_denominator=7).filter(bool)
        return deltas.map(lambda delta: say(answer_format, written_as(value_of(task) + delta)))

    check_verifier(MathAnswer(answer_format), tasks=MATH_TASKS, reference=reference, wrong=wrong, max_examples=15)


def test_verifier_pickles_for_vector_envs():
    import pickle

    verifier = MathAnswer(AnswerFormat.R1, percent="value", timeout=2.0)
    assert pickle.loads(pickle.dumps(verifier)) == verifier


@pytest.mark.parametrize(
    ("completion", "status"),
    [
        ("The final answer is \\boxed{441}.\nLet me check. The final answer is \\boxed{440}.", HEDGED),
        ("So the answer is \\boxed{441}. Or, as the answer: \\boxed{440}", HEDGED),
        ("First \\boxed{3}, wait, I made an error: the answer is \\boxed{440}.", OK),
        ("Step: \\boxed{12}. Step: \\boxed{30}. The final answer is \\boxed{440}.", OK),
        ("The final answer is \\boxed{440}. Double-check: \\boxed{440}.", OK),
        ("The final answer is \\boxed{440}. Checking it gives \\boxed{441}.", WRONG),
    ],
    ids=["two-declared", "two-declared-other-words", "corrected", "steps-then-final", "checked-again", "last-wins"],
)
def test_two_declared_final_answers_are_a_hedge_but_a_correction_is_not(completion, status):
    assert judge("440", completion).status is status


# --- sizes past exact comparison ------------------------------------------------------


@pytest.mark.parametrize("answer", ["9^{9^{9^{9}}}", "((10!)!)!", "e^{e^{e^{100}}}", "10^{10^{10}}", "2^{2^{100}}+1"])
def test_an_answer_too_large_to_be_any_reference_is_wrong_at_once(answer):
    start = time.perf_counter()
    score = judge("7", boxed(answer))
    assert time.perf_counter() - start < 0.5  # refused from its structure, before any symbolic work
    assert score.status is WRONG and score.value == 0.0  # never None: a giant answer must not escape the penalty


def test_a_reference_too_large_to_compare_is_undecidable_and_not_judged():
    score = judge("2^{2^{100}}", boxed("2^{2^{100}}+2^{2^{99}}"))
    assert score.status is Status.UNDECIDABLE and score.value is None


def test_a_huge_answer_that_hides_its_size_is_still_wrong_not_undecidable():
    score = judge("7", boxed("2^{2^{100}}-1"))  # a difference: its size is not known from its structure
    assert score.status is WRONG and score.value == 0.0


def test_sixty_four_adversarial_answers_do_not_stall_a_step():
    completions = [boxed(answer) for answer in ("9^{9^{9^{9}}}", "((10!)!)!", "e^{e^{e^{100}}}", "10^{10^{10}}")] * 16
    start = time.perf_counter()
    scores = [judge("7", completion) for completion in completions]
    assert time.perf_counter() - start < 5.0
    assert {score.status for score in scores} == {WRONG}


def test_a_batch_gets_the_same_verdicts_as_one_by_one():
    verifier = MathAnswer()
    tasks = [SimpleNamespace(answer=reference) for _, reference, _, _ in TABLE]
    completions = [completion for _, _, completion, _ in TABLE]
    batch = verifier.score_batch(completions, tasks)
    assert [score.status for score in batch] == [status for *_, status in TABLE]
    assert batch == [verifier(c, t) for c, t in zip(completions, tasks, strict=True)]
