"""The plugin's verifier, property-tested with rlvr-gym's kit, and the ways a policy could game it."""

import random

from hypothesis import given
from hypothesis import strategies as st
from rlvr_letter_count import ENV_ID, counted_right, make_task

from rlvr import envs
from rlvr.verifiers import Status
from rlvr.verifiers.properties import check_verifier

TASKS = st.integers(0, 10**9).map(envs.entry(ENV_ID).make_source().get)


def test_verifier_properties_hold():
    check_verifier(
        counted_right,
        TASKS,
        reference=lambda task: str(task.answer),
        wrong=lambda task: st.integers(task.answer + 1, 99).map(str),
    )


@given(TASKS)
def test_hedging_with_every_count_scores_zero(task):
    score = counted_right(" ".join(map(str, range(10))), task)
    assert score.value == 0.0 and score.status is Status.HEDGED


@given(TASKS)
def test_leading_zeros_and_words_around_the_number_are_fine(task):
    assert counted_right(f"It occurs 0{task.answer} times.", task).value == 1.0


def test_huge_numbers_and_foreign_digits_do_not_raise():
    task = make_task(random.Random(0))
    assert counted_right("9" * 100_000, task).value == 0.0
    assert counted_right("\u0663", task).status is Status.UNPARSEABLE  # ARABIC-INDIC DIGIT THREE


def test_the_env_makes_scores_and_credits_its_package():
    env = envs.make(ENV_ID)
    _, info = env.reset(seed=3)
    assert env.step(str(info["task"].answer))[1] == 1.0
    assert envs.entry(ENV_ID).provider == "rlvr-letter-count"
