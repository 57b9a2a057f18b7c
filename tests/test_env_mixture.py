"""EnvRef: an env id, its options and its weight, from a mapping or from command-line text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from rlvr.trainers.rollout.env_mixture import EnvRef


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
