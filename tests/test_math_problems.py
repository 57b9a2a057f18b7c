"""Math-v0's word-problem generator: whole-number steps, computed answers, determinism, variety, difficulty knobs."""

from __future__ import annotations

import ast
import random
import re
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlvr.envs.math.problems import MAX_STEPS, PROBLEMS, SIZES, WordProblem, evaluate, generate_problem

_ANNOTATION = re.compile(r"= \$?<<([^=<>]+)=(\d+)>>(\d+)")


def recompute(expression: str) -> Fraction:
    """The expression's value, recomputed here from its text; every intermediate must be whole and not negative."""
    assert re.fullmatch(r"[\d+\-*/() ]+", expression), expression
    operators = {ast.Add: Fraction.__add__, ast.Sub: Fraction.__sub__, ast.Mult: Fraction.__mul__}

    def value(node: ast.AST) -> Fraction:
        if isinstance(node, ast.Constant):
            result = Fraction(node.value)
        else:
            assert isinstance(node, ast.BinOp), ast.dump(node)
            left, right = value(node.left), value(node.right)
            result = left / right if isinstance(node.op, ast.Div) else operators[type(node.op)](left, right)
        assert result.denominator == 1 and result >= 0, f"{expression}: {ast.unparse(node)} = {result}"
        return result

    return value(ast.parse(expression, mode="eval").body)


def check_worked_solution(word: WordProblem) -> None:
    """The promises of one generated problem, checked from its text alone."""
    *lines, last = word.solution.splitlines()
    assert last == f"#### {word.answer}"
    assert len(lines) == word.steps
    for line in lines:
        (match,) = _ANNOTATION.findall(line)  # one calculation per line
        expression, annotated, shown = match
        assert Fraction(annotated) == Fraction(shown) == recompute(expression), line
        assert expression.replace(" ", "") in line.replace(" ", "")  # the working is shown, not only the result
    final_expression, final_value, _ = _ANNOTATION.findall(lines[-1])[0]
    assert recompute(final_expression) == word.answer == int(final_value)
    assert isinstance(word.answer, int) and word.answer >= 0
    assert word.question.endswith("?") and "{" not in word.question and "}" not in word.question


CASES = [(name, steps) for name, shape in PROBLEMS.items() for steps in sorted(shape.steps)]


@pytest.mark.parametrize(("name", "steps"), CASES, ids=[f"{n}-{s}" for n, s in CASES])
def test_every_problem_writes_whole_number_steps_and_its_answer_is_the_last_step(name, steps):
    for size in SIZES:
        for seed in range(25):
            word = generate_problem(random.Random(seed), problems=[name], min_steps=steps, max_steps=steps, size=size)
            assert (word.problem, word.steps) == (name, steps)
            check_worked_solution(word)


def test_there_are_more_than_twenty_problem_shapes():
    assert len(PROBLEMS) >= 20
    assert all(shape.steps and max(shape.steps) <= MAX_STEPS for shape in PROBLEMS.values())


def test_item_i_is_a_pure_function_of_its_seed():
    for seed in range(50):
        assert generate_problem(random.Random(seed)) == generate_problem(random.Random(seed))
    assert generate_problem(random.Random(1), size=4) == generate_problem(random.Random(1), size=4)


def test_500_seeds_give_distinct_questions_and_reach_every_shape():
    words = [generate_problem(random.Random(seed)) for seed in range(500)]
    assert len({w.question for w in words}) >= 495
    assert {w.problem for w in words} == set(PROBLEMS)
    assert len({w.answer for w in words}) > 150


def test_names_and_items_vary_within_a_shape():
    questions = [generate_problem(random.Random(s), problems=["shopping_change"]).question for s in range(100)]
    assert len({q.split(" ")[0] for q in questions}) > 20  # the buyer's name
    assert len({q.split(" ")[3] for q in questions}) > 8  # the first item bought


@pytest.mark.parametrize("steps", range(1, MAX_STEPS + 1))
def test_the_step_range_sets_the_number_of_calculations(steps):
    fitting = {name for name, shape in PROBLEMS.items() if steps in shape.steps}
    for seed in range(60):
        word = generate_problem(random.Random(seed), min_steps=steps, max_steps=steps)
        assert word.steps == steps and word.problem in fitting
        check_worked_solution(word)


def test_size_makes_the_numbers_larger():
    def typical_largest(size: int) -> float:
        largest = [
            max(int(n) for n in re.findall(r"\d+", generate_problem(random.Random(s), size=size).question))
            for s in range(300)
        ]
        return sorted(largest)[len(largest) // 2]

    medians = [typical_largest(size) for size in sorted(SIZES)]
    assert medians == sorted(medians) and medians[-1] > 10 * medians[0]


def test_evaluate_is_exact_and_refuses_fractions_negatives_and_code():
    assert evaluate("2 * (3 + 4)") == 14
    assert evaluate("105 * 2 / 3") == 70
    with pytest.raises(ValueError, match="whole number"):
        evaluate("7 / 2")
    with pytest.raises(ValueError, match="whole number"):
        evaluate("7 / 2 * 2")  # the result is whole, the intermediate 3.5 is not
    with pytest.raises(ValueError, match="whole number"):
        evaluate("2 - 3 + 4")
    for code in ("__import__('os')", "2 ** 8", "1.5 + 1", "x + 1", "2 +"):
        with pytest.raises(ValueError, match="not an arithmetic expression"):
            evaluate(code)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"problems": ["no_such_shape"]}, "unknown problems"),
        ({"size": 9}, "size"),
        ({"problems": ["ages"], "min_steps": 5, "max_steps": 6}, "5..6 steps"),
    ],
)
def test_impossible_requests_are_errors_that_say_why(options, message):
    with pytest.raises(ValueError, match=message):
        generate_problem(random.Random(0), **options)


@settings(max_examples=300, deadline=None)
@given(
    seed=st.integers(0, 2**62),
    size=st.sampled_from(sorted(SIZES)),
    steps=st.tuples(st.integers(1, MAX_STEPS), st.integers(1, MAX_STEPS)).map(sorted),
)
def test_any_seed_and_difficulty_gives_a_consistent_problem(seed, size, steps):
    low, high = steps
    word = generate_problem(random.Random(seed), min_steps=low, max_steps=high, size=size)
    assert low <= word.steps <= high
    check_worked_solution(word)
    assert generate_problem(random.Random(seed), min_steps=low, max_steps=high, size=size) == word
