"""EnvRef: an env id, its options and its weight, from a mapping or from command-line text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from rlvr.trainers.rollout.env_mixture import EnvRef, draw_envs, short_names


def test_a_weight_may_end_the_text():
    assert EnvRef.model_validate("rlvr/Math-v0@2.5").weight == 2.5
    ref = EnvRef.model_validate('rlvr/Arithmetic-v0:{"note": "a@b"}@3')
    assert ref.options == {"note": "a@b"} and ref.weight == 3
    assert EnvRef.model_validate('rlvr/Arithmetic-v0:{"note": "a@b"}').weight == 1.0
    with pytest.raises(ValidationError, match="not a number"):
        EnvRef.model_validate("rlvr/Math-v0@lots")


def test_text_names_an_id_or_an_id_with_json_options():
    assert EnvRef.model_validate("rlvr/Math-v0") == EnvRef(id="rlvr/Math-v0")
    ref = EnvRef.model_validate('rlvr/Arithmetic-v0:{"level": 2}')
    assert ref.id == "rlvr/Arithmetic-v0" and ref.options == {"level": 2} and ref.weight == 1.0


def test_a_mapping_may_give_a_weight_and_a_bad_one_is_named():
    assert EnvRef.model_validate({"id": "a/B-v0", "weight": 3}).weight == 3
    with pytest.raises(ValidationError, match="greater than 0"):
        EnvRef.model_validate({"id": "a/B-v0", "weight": 0})
    with pytest.raises(ValidationError, match="not JSON"):
        EnvRef.model_validate("a/B-v0:{level: 2}")
    with pytest.raises(ValidationError, match="JSON object"):
        EnvRef.model_validate("a/B-v0:[1]")


@given(st.dictionaries(st.text(min_size=1, max_size=5), st.integers() | st.text(max_size=5), max_size=3))
def test_the_label_reads_back_as_the_same_env(options):
    ref = EnvRef(id="rlvr/Arithmetic-v0", options=options)
    assert EnvRef.model_validate(ref.label) == ref


def test_envs_are_drawn_by_weight_from_the_seed_and_step_alone():
    draws = draw_envs([3.0, 1.0], 4000, seed=0, step=7)
    assert draws == draw_envs([3.0, 1.0], 4000, seed=0, step=7)
    assert draws != draw_envs([3.0, 1.0], 4000, seed=0, step=8)
    assert draws != draw_envs([3.0, 1.0], 4000, seed=0, step=7, round_=1)
    assert abs(draws.count(0) / 4000 - 0.75) < 0.03
    assert draw_envs([5.0], 6, seed=1, step=2) == [0] * 6


def test_metric_names_are_ids_unless_an_id_repeats():
    refs = [EnvRef(id="a/X-v0", options={"level": 1}), EnvRef(id="a/X-v0", options={"level": 2}), EnvRef(id="b/Y-v0")]
    assert short_names(refs) == ['a/X-v0:{"level":1}', 'a/X-v0:{"level":2}', "b/Y-v0"]
