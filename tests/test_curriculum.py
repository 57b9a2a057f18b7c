"""Curricula: schedules, the accuracy rule, replay draws, and what a config may not say."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from rlvr.trainers.rollout.curriculum import Curriculum, CurriculumState, prompt_values


def test_a_schedule_holds_each_value_from_its_step_on():
    curriculum = Curriculum(schedule=[(0, 1), (100, 2), (250, 3)])
    assert [curriculum.value_at(step) for step in (0, 99, 100, 249, 250, 10_000)] == [1, 1, 2, 2, 3, 3]


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({}, "either a schedule"),
        ({"schedule": [(0, 1)], "levels": [1, 2]}, "either a schedule"),
        ({"schedule": [(5, 1)]}, "start at 0"),
        ({"schedule": [(0, 1), (50, 2), (20, 3)]}, "increase"),
        ({"levels": [1, 2], "replay": 1.0}, "less than 1"),
    ],
)
def test_a_curriculum_that_cannot_work_is_refused(fields, said):
    with pytest.raises(ValidationError, match=said):
        Curriculum(**fields)


def test_the_rule_moves_up_once_the_window_is_full_and_accurate_enough():
    curriculum = Curriculum(levels=[1, 2, 3], threshold=0.75, window=4)
    state = CurriculumState()
    assert not state.observe(curriculum, [True, True, True])  # the window is not full yet
    assert state.observe(curriculum, [False])  # 3 of the last 4: 0.75
    assert state.level == 1 and state.recent == [] and curriculum.value_at(0, state) == 2
    assert not state.observe(curriculum, [True, False, True, False, True, False])  # last 4: 0.5
    assert state.recent == [True, False, True, False] and state.accuracy == 0.5
    state.observe(curriculum, [True] * 4)
    assert state.level == 2
    assert not state.observe(curriculum, [True] * 8) and state.level == 2  # the last level stays


@given(st.lists(st.booleans(), max_size=60), st.integers(1, 10), st.floats(0.05, 1.0))
def test_the_rule_never_skips_a_level_and_remembers_at_most_its_window(outcomes, window, threshold):
    curriculum = Curriculum(levels=list(range(5)), threshold=threshold, window=window)
    state = CurriculumState()
    for outcome in outcomes:
        before = state.level
        state.observe(curriculum, [outcome])
        assert state.level - before in (0, 1) and len(state.recent) <= window
    assert CurriculumState.model_validate(state.model_dump()) == state  # plain JSON for the checkpoint


def test_replay_sends_a_share_of_prompts_to_earlier_levels_drawn_from_the_seed_and_step():
    curriculum = Curriculum(levels=[1, 2, 3], replay=0.25)
    state = CurriculumState(level=2)
    values = prompt_values(curriculum, state, 4000, seed=0, step=9)
    assert values == prompt_values(curriculum, state, 4000, seed=0, step=9)
    assert values != prompt_values(curriculum, state, 4000, seed=0, step=10)
    replayed = [value for value, back in values if back]
    assert abs(len(replayed) / 4000 - 0.25) < 0.03 and set(replayed) == {1, 2}
    assert all(value == 3 for value, back in values if not back)
    assert prompt_values(curriculum, CurriculumState(), 5, 0, 0) == [(1, False)] * 5  # nothing earlier yet
