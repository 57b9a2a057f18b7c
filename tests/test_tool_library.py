"""rlvr.envs.function_calling.tool_library: valid JSON Schema tools; every phrasing states arguments that fit."""

from __future__ import annotations

import random
import string

import pytest

from rlvr.envs.function_calling.tool_library import GROUPS, TOOLS, Fill, Phrase, Tool, pick, tool

jsonschema = pytest.importorskip("jsonschema")

SEEDS = range(40)


def _placeholders(text: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]


def _value_types(schema: dict) -> set[str]:
    kinds = set()
    for spec in schema["parameters"]["properties"].values():
        kinds.add("enum" if "enum" in spec else spec["type"])
    return kinds


# --- the schemas ---------------------------------------------------------------------------


def test_the_library_has_at_least_25_tools_covering_every_parameter_type():
    assert len(TOOLS) >= 25
    kinds = set().union(*(_value_types(t.schema) for t in TOOLS.values()))
    assert {"string", "integer", "number", "boolean", "enum", "array"} <= kinds
    assert any(t.required and len(t.required) < len(t.schema["parameters"]["properties"]) for t in TOOLS.values())


@pytest.mark.parametrize("name", sorted(TOOLS))
def test_every_schema_is_valid_json_schema_in_openai_function_format(name):
    schema = TOOLS[name].schema
    assert set(schema) == {"name", "description", "parameters"} and schema["name"] == name
    assert schema["description"]
    parameters = schema["parameters"]
    jsonschema.Draft202012Validator.check_schema(parameters)
    assert parameters["type"] == "object" and parameters["properties"]
    assert set(parameters["required"]) <= set(parameters["properties"])
    for param, spec in parameters["properties"].items():
        assert spec.get("description"), f"{name}.{param} has no description"
        if "default" in spec:
            jsonschema.validate(spec["default"], spec)


def test_groups_partition_the_tools_by_name():
    names = [name for members in GROUPS.values() for name in members]
    assert sorted(names) == sorted(TOOLS)
    assert GROUPS["messaging"] == ("send_email", "send_text_message")
    assert all(TOOLS[name].group == group for group, members in GROUPS.items() for name in members)


# --- the requests ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(TOOLS))
def test_every_phrasing_states_arguments_that_validate_against_the_schema(name):
    t = TOOLS[name]
    properties = t.schema["parameters"]["properties"]
    for phrase in t.requests:
        assert not phrase.missing
        for seed in SEEDS:
            request = phrase.draw(name, random.Random(seed))
            assert request.tool == name and request.text and "{" not in request.text
            jsonschema.validate(request.arguments, t.schema["parameters"])
            assert set(t.required) <= set(request.arguments)
            for param, others in request.alternatives.items():
                for value in others:
                    jsonschema.validate(value, properties[param])


@pytest.mark.parametrize("name", sorted(n for n, t in TOOLS.items() if t.incomplete))
def test_incomplete_phrasings_leave_out_a_required_argument_and_fit_the_schema_otherwise(name):
    t = TOOLS[name]
    relaxed = {**t.schema["parameters"], "required": []}
    for phrase in t.incomplete:
        assert phrase.missing and set(phrase.missing) <= set(t.required)
        for seed in SEEDS:
            request = phrase.draw(name, random.Random(seed))
            assert request.missing == phrase.missing
            assert not set(request.missing) & set(request.arguments)
            jsonschema.validate(request.arguments, relaxed)


def test_most_tools_have_an_incomplete_phrasing():
    assert sum(bool(t.incomplete) for t in TOOLS.values()) >= 20


def test_a_tool_without_incomplete_phrasings_says_so():
    with pytest.raises(ValueError, match="get_word_definition"):
        TOOLS["get_word_definition"].incomplete_request(random.Random(0))


@pytest.mark.parametrize("name", sorted(TOOLS))
def test_requests_vary_over_seeds_and_repeat_for_one_seed(name):
    t = TOOLS[name]
    texts = {t.request(random.Random(seed)).text for seed in SEEDS}
    assert len(texts) >= 5
    assert t.request(random.Random(7)) == t.request(random.Random(7))


def test_slots_turn_natural_text_into_exact_arguments():
    rng = random.Random(0)
    flights = [TOOLS["search_flights"].requests[2].draw("search_flights", rng) for _ in range(20)]
    for request in flights:
        assert request.arguments["departure_date"] < request.arguments["return_date"]
        assert request.arguments["origin"] != request.arguments["destination"]
    timers = [TOOLS["set_timer"].request(random.Random(seed)) for seed in SEEDS]
    assert any("minutes" in r.text and r.arguments["duration_seconds"] % 60 == 0 for r in timers)
    currencies = [TOOLS["convert_currency"].request(random.Random(seed)) for seed in SEEDS]
    assert all(r.arguments["from_currency"] != r.arguments["to_currency"] for r in currencies)
    assert all(len(r.arguments["to_currency"]) == 3 and r.arguments["to_currency"].isupper() for r in currencies)


def test_expected_call_accepts_stated_values_and_lets_unstated_optionals_be_left_out():
    weather = TOOLS["get_current_weather"]
    request = Phrase("Weather in {location}?", {"location": pick(("Paris", "Paris", "Paris, France"))}).draw(
        weather.name, random.Random(0)
    )
    assert weather.expected_call(request) == {
        "name": "get_current_weather",
        "arguments": {"location": ["Paris", "Paris, France"], "unit": ["", "celsius"]},
    }
    flights = TOOLS["search_flights"]
    nonstop = flights.requests[1].draw(flights.name, random.Random(1))
    arguments = flights.expected_call(nonstop)["arguments"]
    assert arguments["nonstop_only"] == [True] and arguments["return_date"] == [""]
    assert arguments["passengers"] == ["", 1]


def test_pick_reads_plain_values_and_text_value_alternatives_tuples():
    assert pick(42)(random.Random(0)) == Fill("42", 42)
    assert pick(("a dozen", 12, 12.0))(random.Random(0)) == Fill("a dozen", 12, (12.0,))


def test_tool_builds_an_openai_function_whose_group_defaults_to_its_name():
    echo = tool(
        "echo",
        "Repeat a text",
        {"text": {"type": "string", "description": "What to repeat"}},
        ["text"],
        requests=[Phrase("Say {text}", {"text": pick("hi")})],
    )
    assert isinstance(echo, Tool) and echo.group == "echo" and echo.required == ("text",)
    assert echo.schema["parameters"] == {
        "type": "object",
        "properties": {"text": {"type": "string", "description": "What to repeat"}},
        "required": ["text"],
    }
    assert echo.request(random.Random(0)).text == "Say hi"


def test_every_placeholder_of_a_phrasing_is_filled_by_one_of_its_slots():
    for t in TOOLS.values():
        for phrase in (*t.requests, *t.incomplete):
            names = {n for key in phrase.slots for n in (key if isinstance(key, tuple) else (key,))}
            assert set(_placeholders(phrase.text)) <= names, phrase.text
            assert not set(phrase.fixed) & names
