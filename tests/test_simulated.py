"""rlvr.envs.function_calling.simulated: every tool answers, deterministically, with facts taken from its result."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlvr.envs.function_calling.simulated import Simulation, simulate
from rlvr.envs.function_calling.tool_library import TOOLS

NAMES = sorted(TOOLS)


def _request_arguments(name: str, index: int) -> dict:
    return TOOLS[name].request(random.Random(index)).arguments


def _leaves(value) -> list:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def _changed(value):
    """Another value of the same kind: what a call with a wrong argument would pass."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 7
    if isinstance(value, list):
        return [*value, "someone.else@example.com"]
    return f"{value} North"


# --- coverage and determinism ----------------------------------------------------------------


def test_every_tool_has_its_own_implementation_not_the_generic_answer():
    generic = simulate("no_such_tool", {}, 0).result.keys()
    for name in NAMES:
        assert simulate(name, _request_arguments(name, 0), 0).result.keys() != generic, name


def test_the_same_call_in_the_same_world_gives_the_same_simulation():
    for name in NAMES:
        arguments = _request_arguments(name, 1)
        first, second = simulate(name, arguments, 5), simulate(name, dict(reversed(arguments.items())), 5)
        assert first == second, name


def test_a_fresh_process_with_another_hash_seed_draws_the_same_results():
    script = (
        "import json; from rlvr.envs.function_calling.simulated import simulate;"
        "from rlvr.envs.function_calling.tool_library import TOOLS; import random;"
        "print(json.dumps([simulate(n, t.request(random.Random(2)).arguments, 3).result for n, t in TOOLS.items()]))"
    )
    here = json.dumps([simulate(n, t.request(random.Random(2)).arguments, 3).result for n, t in TOOLS.items()])
    there = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
    ).stdout.strip()
    assert there == here


def test_a_null_or_default_argument_or_a_whole_float_is_the_same_call_as_the_plain_one():
    plain = simulate("get_current_weather", {"location": "Paris"}, 4)
    assert simulate("get_current_weather", {"location": "Paris", "unit": "celsius"}, 4) == plain
    assert simulate("get_current_weather", {"location": "Paris", "unit": None}, 4) == plain
    assert simulate("convert_currency", {"amount": 80.0, "from_currency": "USD", "to_currency": "EUR"}, 4) == (
        simulate("convert_currency", {"amount": 80, "from_currency": "USD", "to_currency": "EUR"}, 4)
    )


def test_a_wrong_argument_value_gives_other_facts():
    changes, unchanged = 0, []
    for name in NAMES:
        for index in range(3):
            arguments = _request_arguments(name, index)
            right = simulate(name, arguments, 0).facts
            for key, value in arguments.items():
                changes += 1
                if simulate(name, {**arguments, key: _changed(value)}, 0).facts == right:
                    unchanged.append((name, key))
    assert len(unchanged) <= changes // 20, unchanged


def test_another_seed_is_another_world_for_tools_that_are_not_pure_computations():
    computed = {"calculate_tip", "calculate_loan_payment", "calculate_bmi", "calculate_age", "convert_units"}
    for name in sorted(set(NAMES) - computed):
        arguments = _request_arguments(name, 3)
        assert len({simulate(name, arguments, seed).facts for seed in range(5)}) >= 4, name


# --- results and facts -----------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_results_are_json_and_facts_are_few_leaves_of_them(name):
    for index in range(15):
        simulation = simulate(name, _request_arguments(name, index), index)
        assert isinstance(simulation, Simulation)
        assert json.loads(json.dumps(simulation.result, allow_nan=False)) == simulation.result
        assert 1 <= len(simulation.facts) <= 3
        leaves = _leaves(simulation.result)
        for fact in simulation.facts:
            assert isinstance(fact, (int, float, str)) and not isinstance(fact, bool), (name, fact)
            assert fact in leaves and fact != "", (name, fact)


def test_an_unknown_tool_gets_a_generic_acknowledgement_whose_reference_is_the_fact():
    simulation = simulate("launch_rocket", {"target": "Mars"}, 9)
    assert simulation.result["status"] == "ok"
    assert set(simulation.result) == {"status", "reference"}
    assert simulation.facts == (simulation.result["reference"],)
    assert simulation.result["reference"].startswith("REF-")


# --- pure computations -----------------------------------------------------------------------


def test_tip_and_total_are_computed_from_the_bill():
    simulation = simulate("calculate_tip", {"bill_amount": 80, "tip_percentage": 15}, 0)
    assert simulation.facts == (12.0, 92.0)
    assert simulate("calculate_tip", {"bill_amount": "45.50", "tip_percentage": 20}, 1).facts == (9.1, 54.6)


def test_loan_payment_follows_the_amortisation_formula():
    arguments = {"principal": 200000, "annual_interest_rate": 6.5, "term_years": 30}
    assert simulate("calculate_loan_payment", arguments, 0).facts == (1264.14,)
    no_interest = {"principal": 12000, "annual_interest_rate": 0, "term_years": 1}
    assert simulate("calculate_loan_payment", no_interest, 0).facts == (1000.0,)


def test_bmi_is_rounded_to_one_decimal_with_its_category():
    assert simulate("calculate_bmi", {"weight_kg": 70, "height_m": 1.75}, 0).facts == (22.9, "normal")
    assert simulate("calculate_bmi", {"weight_kg": 95, "height_m": 1.7}, 0).facts == (32.9, "obese")


def test_age_is_counted_on_the_fixed_today_of_2026_06_01():
    assert simulate("calculate_age", {"birth_date": "1990-06-01"}, 0).facts == (36,)
    assert simulate("calculate_age", {"birth_date": "1990-06-02"}, 0).facts == (35,)
    assert simulate("calculate_age", {"birth_date": "2000-02-29"}, 0).facts == (26,)


def test_units_convert_with_real_factors_and_aliases():
    def convert(value, source, target):
        return simulate("convert_units", {"value": value, "from_unit": source, "to_unit": target}, 0).facts[0]

    assert convert(10, "kilometers", "miles") == 6.21
    assert convert(100, "celsius", "fahrenheit") == 212.0
    assert convert(0, "celsius", "kelvin") == 273.15
    assert convert(2, "lb", "kilograms") == 0.907
    assert convert(1, "cups", "milliliters") == 236.59
    assert convert(3, "inches", "kilometers") == 7.62e-05


def test_currency_conversion_applies_the_rate_it_reports():
    for index in range(10):
        result = simulate("convert_currency", _request_arguments("convert_currency", index), index).result
        assert result["converted_amount"] == round(result["amount"] * result["rate"], 2)


def test_a_password_has_the_requested_length_and_only_the_characters_asked_for():
    password = simulate("generate_password", {"length": 20}, 0).facts[0]
    assert len(password) == 20
    assert any(c.isdigit() for c in password) and any(not c.isalnum() for c in password)
    letters_only = {"length": 16, "include_numbers": False, "include_symbols": False}
    assert simulate("generate_password", letters_only, 0).facts[0].isalpha()


# --- arguments a model might write ------------------------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), name=st.sampled_from(NAMES))
def test_any_json_arguments_give_a_json_result_and_never_raise(data, name):
    keys = st.sampled_from(list(TOOLS[name].schema["parameters"]["properties"])) | st.text(max_size=6)
    arguments = data.draw(st.dictionaries(keys, _JSON, max_size=6))
    simulation = simulate(name, arguments, data.draw(st.integers()))
    json.dumps(simulation.result, allow_nan=False)
    assert simulation.facts and all(fact in _leaves(simulation.result) for fact in simulation.facts)
    assert simulate(name, arguments, 0) == simulate(name, arguments, 0)
