"""Tool calls: parsing each format, malformed calls, ToolCallMatch in each mode, BFCL's data, gaming, the kit."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlvr.verifiers.properties import check_verifier
from rlvr.verifiers.reasoning import answer_text
from rlvr.verifiers.score import Status
from rlvr.verifiers.tool_calls import MAX_DEPTH, ToolCall, ToolCallMatch, parse_tool_calls, read_task


@dataclass
class FunctionTask:
    functions: list[dict[str, Any]]
    expected_calls: list[dict[str, Any]] = field(default_factory=list)


WEATHER = {
    "name": "get_weather",
    "description": "Current weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "days": {"type": "integer"},
        },
        "required": ["city"],
    },
}
CONVERT = {
    "name": "convert_currency",
    "description": "Convert an amount between currencies.",
    "parameters": {
        "type": "object",
        "properties": {
            "amount": {"type": "number"},
            "from": {"type": "string"},
            "to": {"type": "string"},
            "round": {"type": "boolean"},
        },
        "required": ["amount", "from", "to"],
    },
}
FUNCTIONS = [WEATHER, CONVERT]
PARIS = {"name": "get_weather", "arguments": {"city": ["Paris", "Paris, France"], "unit": ["celsius", ""]}}
EUROS = {"name": "convert_currency", "arguments": {"amount": [100], "from": ["USD"], "to": ["EUR"]}}
WEATHER_TASK = FunctionTask(FUNCTIONS, [PARIS])
PARALLEL_TASK = FunctionTask(FUNCTIONS, [PARIS, EUROS])
NO_CALL_TASK = FunctionTask(FUNCTIONS, [])

STRICT, BASE, BFCL = ToolCallMatch("strict"), ToolCallMatch("base"), ToolCallMatch("bfcl")
PARTIAL = ToolCallMatch("strict", partial_credit=True)


def call_json(name: str, arguments: dict[str, Any]) -> str:
    return json.dumps({"name": name, "arguments": arguments})


def paris_call(**arguments: Any) -> str:
    return call_json("get_weather", {"city": "Paris", **arguments})


EUROS_CALL = call_json("convert_currency", {"amount": 100, "from": "USD", "to": "EUR"})


# --- parsing: each format ----------------------------------------------------


def test_glaive_call_with_single_quoted_arguments():
    completion = '<functioncall> {"name": "get_weather", "arguments": \'{"city": "Paris"}\'} <|endoftext|>'
    assert parse_tool_calls(completion).calls == (ToolCall("get_weather", {"city": "Paris"}),)


def test_glaive_single_quoted_arguments_may_hold_apostrophes_and_braces():
    completion = '<functioncall> {"name": "note", "arguments": \'{"text": "I\'m {here}", "n": 2}\'}'
    assert parse_tool_calls(completion).calls == (ToolCall("note", {"text": "I'm {here}", "n": 2}),)


@pytest.mark.parametrize(
    "arguments",
    ['{"city": "Paris"}', '"{\\"city\\": \\"Paris\\"}"', '\'{"city": "Paris"}\''],
    ids=["object", "double-quoted-string", "single-quoted-string"],
)
def test_glaive_arguments_as_object_or_any_quoted_string(arguments):
    completion = f'<functioncall> {{"name": "get_weather", "arguments": {arguments}}}'
    assert parse_tool_calls(completion).calls == (ToolCall("get_weather", {"city": "Paris"}),)


@pytest.mark.parametrize(
    "arguments", [{"city": "Paris", "days": 3}, json.dumps({"city": "Paris", "days": 3})], ids=["object", "string"]
)
def test_openai_call_with_arguments_as_object_or_json_string(arguments):
    completion = json.dumps({"name": "get_weather", "arguments": arguments})
    assert parse_tool_calls(completion).calls == (ToolCall("get_weather", {"city": "Paris", "days": 3}),)


def test_llama_parameters_key_reads_as_arguments():
    completion = '<|python_tag|>{"name": "get_weather", "parameters": {"city": "Paris"}}'
    assert parse_tool_calls(completion).calls == (ToolCall("get_weather", {"city": "Paris"}),)


def test_openai_tool_calls_wrapper():
    completion = json.dumps(
        {
            "tool_calls": [
                {"id": "a", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}},
                {"id": "b", "type": "function", "function": {"name": "g", "arguments": {}}},
            ]
        }
    )
    assert parse_tool_calls(completion).calls == (ToolCall("f", {"x": 1}), ToolCall("g", {}))


def test_legacy_function_call_wrapper():
    completion = json.dumps({"function_call": {"name": "f", "arguments": '{"x": 1}'}})
    assert parse_tool_calls(completion).calls == (ToolCall("f", {"x": 1}),)


def test_fenced_json_list_of_calls():
    completion = "I'll make both calls.\n```json\n" + f"[{paris_call()}, {EUROS_CALL}]" + "\n```\n"
    calls = parse_tool_calls(completion).calls
    assert [call.name for call in calls] == ["get_weather", "convert_currency"]


def test_several_hermes_blocks_in_order():
    completion = f"<tool_call>\n{EUROS_CALL}\n</tool_call>\n<tool_call>\n{paris_call()}\n</tool_call>"
    calls = parse_tool_calls(completion).calls
    assert [call.name for call in calls] == ["convert_currency", "get_weather"]


def test_hermes_block_may_omit_arguments_and_hold_a_fence():
    completion = '<tool_call>\n```json\n{"name": "get_time"}\n```\n</tool_call>'
    assert parse_tool_calls(completion).calls == (ToolCall("get_time", {}),)


def test_call_wrapped_in_prose_is_read():
    completion = f"Sure! To answer, I will call {paris_call()} and then report back."
    assert parse_tool_calls(completion).calls == (ToolCall("get_weather", {"city": "Paris"}),)


def test_call_inside_unparseable_brackets_is_read():
    completion = f"[calling {paris_call()} now]"
    assert parse_tool_calls(completion).calls == (ToolCall("get_weather", {"city": "Paris"}),)


def test_braces_and_quotes_inside_argument_strings_do_not_confuse_the_scan():
    completion = call_json("echo", {"text": 'a } and { and "quoted" ] ['}) + " then " + call_json("f", {})
    assert parse_tool_calls(completion).calls == (
        ToolCall("echo", {"text": 'a } and { and "quoted" ] ['}),
        ToolCall("f", {}),
    )


@pytest.mark.parametrize("completion", ['{"name": "Ada", "age": 36}', "[1, 2, 3]", '{"answer": 5}', "\\frac{1}{2}"])
def test_json_that_names_no_call_is_neither_call_nor_attempt(completion):
    parsed = parse_tool_calls(completion)
    assert parsed.calls == ()
    assert not parsed.attempted


def test_calls_of_different_formats_come_in_order_of_appearance():
    completion = (
        f"{call_json('a', {})}\n<tool_call>{call_json('b', {})}</tool_call>\n<functioncall> {call_json('c', {})}"
    )
    assert [call.name for call in parse_tool_calls(completion).calls] == ["a", "b", "c"]


# --- parsing: reasoning ------------------------------------------------------


def test_call_inside_think_is_not_a_call():
    completion = f"<think>Maybe {paris_call()}? No, no function fits.</think>I cannot help with that."
    assert not parse_tool_calls(completion).attempted


def test_only_the_call_outside_think_counts():
    completion = f"<think>{EUROS_CALL}</think>\n{paris_call()}"
    assert parse_tool_calls(completion).calls == (ToolCall("get_weather", {"city": "Paris"}),)


def test_text_before_a_lone_closing_think_tag_is_reasoning():
    # The chat template put <think> in the prompt; the completion starts inside the block.
    completion = f"I could use {EUROS_CALL}.</think>\n{paris_call()}"
    assert [call.name for call in parse_tool_calls(completion).calls] == ["get_weather"]


def test_unclosed_think_hides_the_rest():
    assert not parse_tool_calls(f"<think>let me call {paris_call()}").attempted
    assert answer_text("before<think>hidden") == "before"


# --- parsing: malformed ------------------------------------------------------


@pytest.mark.parametrize(
    ("completion", "error"),
    [
        ('<tool_call>{"name": "f", "arguments": {"x": 1}', "unclosed <tool_call>"),
        ('<tool_call>{"name": "f", "arguments": {"x": 1}</tool_call>', "<tool_call>: malformed JSON"),
        ("<tool_call>I want the weather</tool_call>", "<tool_call>: malformed JSON"),
        ('<tool_call>{"city": "Paris"}</tool_call>', "<tool_call>: no call"),
        ("<functioncall> get the weather", "<functioncall> is not followed by a call"),
        ('<functioncall> {"city": "Paris"}', "<functioncall> is not followed by a call"),
        ('{"name": "f", "arguments": {"x": 1}', "unbalanced brackets"),
        ('{"name": "f", "arguments": {x: 1}}', "malformed JSON"),
        ('{"name": "f", "arguments": "not json"}', "the arguments string is not JSON"),
        ('{"name": "f", "arguments": [1, 2]}', "the arguments of f are not an object"),
        ('{"name": 5, "arguments": {}}', "the call's name is not a non-empty string"),
        ('{"name": "f", "arguments": {"x": NaN}}', "malformed JSON"),
        ('{"tool_calls": {"name": "f"}}', "tool_calls is not a list of calls"),
        ('[{"name": "f", "arguments": {}}, 3]', "a list of calls holds something else"),
    ],
)
def test_malformed_attempt_is_reported(completion, error):
    parsed = parse_tool_calls(completion)
    assert parsed.malformed
    assert parsed.attempted
    assert error in parsed.errors


def test_arguments_nested_too_deeply_are_malformed():
    arguments = "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5)
    parsed = parse_tool_calls('{"name": "f", "arguments": {"x": ' + arguments + "}}")
    assert parsed.errors == ("JSON nested too deeply",)


def test_a_well_formed_call_beside_a_malformed_one_is_kept():
    parsed = parse_tool_calls(f"{paris_call()}\n<tool_call>oops</tool_call>")
    assert parsed.calls == (ToolCall("get_weather", {"city": "Paris"}),)
    assert parsed.malformed


def test_errors_are_capped_but_counted():
    parsed = parse_tool_calls("<tool_call>x</tool_call>" * 100)
    assert len(parsed.errors) == 8
    assert parsed.error_count == 100


@pytest.mark.parametrize("completion", [None, 42, b"{}"])
def test_non_text_is_no_call(completion):
    assert parse_tool_calls(completion) == parse_tool_calls("")


# --- the verifier: hand cases ------------------------------------------------


@pytest.mark.parametrize("verifier", [STRICT, BASE, PARTIAL], ids=["strict", "base", "partial"])
@pytest.mark.parametrize(
    "completion",
    [
        paris_call(),
        paris_call(unit="celsius"),
        call_json("get_weather", {"city": "  paris, FRANCE "}),
        '<functioncall> {"name": "get_weather", "arguments": \'{"city": "Paris"}\'}',
        f"<tool_call>\n{paris_call()}\n</tool_call>",
    ],
)
def test_right_call_scores_one(verifier, completion):
    score = verifier(completion, WEATHER_TASK)
    assert score.value == 1.0
    assert score.status is Status.OK
    assert score.details["called"] == ["get_weather"]


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({"city": "Lyon"}, '"Lyon" is not an accepted value'),
        ({"city": 7}, "expected string, got integer"),
        ({"city": "Paris", "unit": "kelvin"}, '"kelvin" is not one of the allowed values'),
        ({"city": "Paris", "unit": "Celsius"}, '"Celsius" is not one of the allowed values'),
        ({"city": "Paris", "days": 3}, "days: not expected"),
        ({"city": "Paris", "country": "FR"}, "country: unknown parameter"),
        ({"unit": "celsius"}, "city: missing"),
    ],
)
def test_wrong_arguments_are_wrong_in_strict_mode_and_right_in_base_mode(arguments, problem):
    completion = call_json("get_weather", arguments)
    strict = STRICT(completion, WEATHER_TASK)
    assert strict.value == 0.0
    assert strict.status is Status.WRONG
    assert any(problem in text for text in strict.details["problems"])
    assert BASE(completion, WEATHER_TASK).status is Status.OK


@pytest.mark.parametrize("verifier", [STRICT, BASE], ids=["strict", "base"])
def test_wrong_function_is_wrong(verifier):
    score = verifier(EUROS_CALL, WEATHER_TASK)
    assert score.value == 0.0
    assert score.status is Status.WRONG
    assert score.details["problems"] == ["called convert_currency, expected get_weather"]


@pytest.mark.parametrize("verifier", [STRICT, BASE], ids=["strict", "base"])
def test_unknown_function_is_wrong(verifier):
    score = verifier(call_json("get_wether", {"city": "Paris"}), WEATHER_TASK)
    assert score.status is Status.WRONG
    assert score.details["problems"] == ["get_wether: no such function"]


@pytest.mark.parametrize("verifier", [STRICT, BASE], ids=["strict", "base"])
def test_no_call_when_one_is_expected_is_wrong(verifier):
    score = verifier("The weather in Paris is usually mild.", WEATHER_TASK)
    assert score.status is Status.WRONG
    assert score.details["reason"] == "no call"


@pytest.mark.parametrize("verifier", [STRICT, BASE], ids=["strict", "base"])
def test_no_call_when_none_applies_scores_one(verifier):
    score = verifier("I have no function to book flights, sorry.", NO_CALL_TASK)
    assert score.status is Status.OK
    assert score.details == {"expected": [], "called": []}


@pytest.mark.parametrize("verifier", [STRICT, BASE], ids=["strict", "base"])
@pytest.mark.parametrize("completion", ["<tool_call>{oops}</tool_call>", '<functioncall> {"name": "get_weather"'])
def test_malformed_call_is_a_format_error(verifier, completion):
    score = verifier(completion, WEATHER_TASK)
    assert score.value == 0.0
    assert score.status is Status.FORMAT_ERROR
    assert score.details["reason"].startswith("malformed call: ")


@pytest.mark.parametrize("verifier", [STRICT, BASE, PARTIAL], ids=["strict", "base", "partial"])
@pytest.mark.parametrize(
    "completion",
    [f"[{paris_call()}, {EUROS_CALL}]", f"[{EUROS_CALL}, {paris_call()}]", f"{EUROS_CALL}\n{paris_call()}"],
    ids=["in-order", "reversed", "two-objects"],
)
def test_parallel_calls_match_in_any_order(verifier, completion):
    assert verifier(completion, PARALLEL_TASK).status is Status.OK


def test_number_matches_within_tolerance_and_int_is_a_number():
    for amount in (100, 100.0, 100.00001):
        completion = call_json("convert_currency", {"amount": amount, "from": "usd", "to": "eur"})
        assert STRICT(completion, FunctionTask(FUNCTIONS, [EUROS])).status is Status.OK
    completion = call_json("convert_currency", {"amount": 100.01, "from": "USD", "to": "EUR"})
    assert STRICT(completion, FunctionTask(FUNCTIONS, [EUROS])).status is Status.WRONG


@pytest.mark.parametrize(
    ("days", "status"), [(3, Status.OK), (3.0, Status.OK), (3.5, Status.WRONG), ("3", Status.WRONG)]
)
def test_integer_parameter_takes_integral_numbers_only(days, status):
    task = FunctionTask(FUNCTIONS, [{"name": "get_weather", "arguments": {"city": ["Paris"], "days": [3]}}])
    assert STRICT(call_json("get_weather", {"city": "Paris", "days": days}), task).status is status


@pytest.mark.parametrize(("value", "status"), [(True, Status.OK), (1, Status.WRONG), ("true", Status.WRONG)])
def test_boolean_parameter_takes_booleans_only(value, status):
    expected = {**EUROS, "arguments": {**EUROS["arguments"], "round": [True]}}
    completion = call_json("convert_currency", {"amount": 100, "from": "USD", "to": "EUR", "round": value})
    assert STRICT(completion, FunctionTask(FUNCTIONS, [expected])).status is status


@pytest.mark.parametrize(
    ("written", "accepted", "same"),
    [
        ("San Francisco, CA", "san francisco ca", True),
        ("  New   York ", "new york", True),
        ("NewYork", "New York", True),
        ("2024-01-05", "2024 01 05", True),
        ("2024/01/05", "20240105", True),
        ("a_b*c^d", "ABCD", True),
        ("O'Hare", 'O"Hare', True),
        ("C#", "C", False),
        ("C++", "C", False),
        ("john.email.com", "john@email.com", False),
        ("50", "50%", False),
        ("Paris!", "Paris", False),
        ("New\tYork", "New York", False),
        ("ＰＡＲＩＳ", "paris", False),
    ],
)
def test_strings_fold_only_what_bfcl_folds(written, accepted, same):
    """Spaces and ,./-_*^ go, case folds, ' reads as "; every other character counts, as in BFCL's checker."""
    task = FunctionTask(FUNCTIONS, [{"name": "get_weather", "arguments": {"city": [accepted]}}])
    status = STRICT(call_json("get_weather", {"city": written}), task).status
    assert (status is Status.OK) is same


def test_nested_array_and_object_values_are_checked_and_matched():
    function = {
        "name": "route",
        "parameters": {
            "type": "object",
            "properties": {
                "stops": {"type": "array", "items": {"type": "string"}},
                "options": {
                    "type": "object",
                    "properties": {"avoid_tolls": {"type": "boolean"}},
                    "additionalProperties": False,
                },
            },
            "required": ["stops"],
        },
    }
    expected = {"name": "route", "arguments": {"stops": [["Lyon", "Paris"]], "options": [{"avoid_tolls": True}]}}
    task = FunctionTask([function], [expected])
    right = {"stops": ["lyon", "PARIS"], "options": {"avoid_tolls": True}}
    assert STRICT(call_json("route", right), task).status is Status.OK
    for wrong in (
        {**right, "stops": ["Paris", "Lyon"]},
        {**right, "stops": ["Lyon", 5]},
        {**right, "options": {"avoid_tolls": True, "fast": 1}},
    ):
        assert STRICT(call_json("route", wrong), task).status is Status.WRONG


def test_bfcl_dialect_and_openai_tools_wrapping_are_read():
    function = {
        "type": "function",
        "function": {
            "name": "area",
            "parameters": {
                "type": "dict",
                "properties": {"base": {"type": "float"}, "unit": {"type": "any"}},
                "required": ["base"],
            },
        },
    }
    task = FunctionTask([function], [{"area": {"base": [10], "unit": ["", "cm"]}}])
    assert STRICT(call_json("area", {"base": 10.0}), task).status is Status.OK
    assert STRICT(call_json("area", {"base": 10, "unit": "CM"}), task).status is Status.OK


# --- BFCL's ground truth: objects, bad accepted values ------------------------

GRADES = {  # BFCL multiple_9: an object parameter whose accepted value is {key: [values]}
    "name": "calculate_average",
    "description": "Average grade across subjects.",
    "parameters": {
        "type": "dict",
        "properties": {"gradeDict": {"type": "dict", "description": "Subject -> score."}},
        "required": ["gradeDict"],
    },
}
GRADES_TRUTH = [{"calculate_average": {"gradeDict": [{"math": [90], "science": [75], "history": [82], "music": [89]}]}}]
GRADES_TASK = FunctionTask([GRADES], GRADES_TRUTH)
RIGHT_GRADES = {"math": 90, "science": 75, "history": 82, "music": 89}
POPULATION = {  # BFCL parallel_29: parallel calls with object arguments
    "name": "waste_calculation.calculate",
    "parameters": {
        "type": "dict",
        "properties": {
            "population": {"type": "dict", "required": ["adults", "children", "singles"]},
            "location": {"type": "string"},
        },
        "required": ["population", "location"],
    },
}
POPULATION_TASK = FunctionTask(
    [POPULATION],
    [
        {
            "waste_calculation.calculate": {
                "population": [{"adults": [2], "children": [2], "singles": [0]}],
                "location": ["Los Angeles", "LA"],
            }
        },
        {
            "waste_calculation.calculate": {
                "population": [{"adults": [0], "children": [0], "singles": [1]}],
                "location": ["New York", "NYC"],
            }
        },
    ],
)
PEOPLE = {  # BFCL live_simple_165-98-0: a list of objects
    "name": "extractor.extract_information",
    "parameters": {
        "type": "dict",
        "properties": {
            "data": {"type": "array", "items": {"type": "dict"}},
            "schema": {"type": "string", "enum": ["personal_info", "employment_record"]},
        },
        "required": ["data"],
    },
}
PEOPLE_TRUTH = [
    {
        "extractor.extract_information": {
            "data": [[{"name": ["Li Lei"], "age": [18]}, {"name": ["Li Li"], "age": [21]}]],
            "schema": ["", "personal_info"],
        }
    }
]
PEOPLE_TASK = FunctionTask([PEOPLE], PEOPLE_TRUTH)
RIGHT_PEOPLE = [{"name": "Li Lei", "age": 18}, {"name": "Li Li", "age": 21}]
STRICT_AND_BFCL = pytest.mark.parametrize("verifier", [STRICT, BFCL], ids=["strict", "bfcl"])


def weather_task(**arguments: list[Any]) -> FunctionTask:
    return FunctionTask(FUNCTIONS, [{"name": "get_weather", "arguments": arguments}])


def dropped(task: FunctionTask) -> list[tuple[str, str]]:
    return [(value.where, value.reason) for value in read_task(task.functions, task.expected_calls).dropped]


@STRICT_AND_BFCL
def test_an_object_written_bfcls_way_accepts_the_plain_object_not_the_list_wrapped_one(verifier):
    assert verifier(call_json("calculate_average", {"gradeDict": RIGHT_GRADES}), GRADES_TASK).status is Status.OK
    wrapped = {key: [value] for key, value in RIGHT_GRADES.items()}
    assert verifier(call_json("calculate_average", {"gradeDict": wrapped}), GRADES_TASK).status is Status.WRONG


@STRICT_AND_BFCL
@pytest.mark.parametrize(
    "grades",
    [
        {"math": 90, "science": 75, "history": 82},
        {**RIGHT_GRADES, "art": 95},
        {**RIGHT_GRADES, "math": 91},
        {**RIGHT_GRADES, "math": "90"},
        [RIGHT_GRADES],
    ],
    ids=["key-left-out", "key-added", "value-changed", "value-as-string", "in-a-list"],
)
def test_an_object_with_a_key_left_out_added_or_changed_is_wrong(verifier, grades):
    assert verifier(call_json("calculate_average", {"gradeDict": grades}), GRADES_TASK).status is Status.WRONG


@STRICT_AND_BFCL
def test_parallel_calls_with_object_arguments_match_in_any_order(verifier):
    los_angeles = call_json(
        "waste_calculation.calculate", {"population": {"adults": 2, "children": 2, "singles": 0}, "location": "LA"}
    )
    new_york = call_json(
        "waste_calculation.calculate", {"population": {"adults": 0, "children": 0, "singles": 1}, "location": "NYC"}
    )
    assert verifier(f"{los_angeles}\n{new_york}", POPULATION_TASK).status is Status.OK
    assert verifier(f"{new_york}\n{los_angeles}", POPULATION_TASK).status is Status.OK
    swapped = new_york.replace('"NYC"', '"LA"')
    assert verifier(f"{los_angeles}\n{swapped}", POPULATION_TASK).status is Status.WRONG


@STRICT_AND_BFCL
def test_a_list_of_objects_written_bfcls_way_accepts_the_plain_list_in_order(verifier):
    def judged(data: Any) -> Status:
        return verifier(call_json("extractor.extract_information", {"data": data}), PEOPLE_TASK).status

    assert judged(RIGHT_PEOPLE) is Status.OK
    assert judged([{"name": "li lei", "age": 18}, {"name": "LI LI", "age": 21}]) is Status.OK
    assert judged(RIGHT_PEOPLE[::-1]) is Status.WRONG
    assert judged([{key: [value] for key, value in item.items()} for item in RIGHT_PEOPLE]) is Status.WRONG
    assert judged(RIGHT_PEOPLE[:1]) is Status.WRONG


@STRICT_AND_BFCL
def test_a_key_whose_accepted_values_hold_the_omission_mark_may_be_left_out(verifier):
    task = FunctionTask([GRADES], [{"calculate_average": {"gradeDict": [{"math": [90], "music": ["", 89]}]}}])
    for grades, status in (({"math": 90}, Status.OK), ({"math": 90, "music": 89}, Status.OK), ({"music": 89}, None)):
        judged = verifier(call_json("calculate_average", {"gradeDict": grades}), task).status
        assert judged is (status or Status.WRONG)


@STRICT_AND_BFCL
def test_an_accepted_object_whose_values_are_not_all_lists_is_one_plain_value(verifier):
    # BFCL live_multiple_121-46-0: the position inside the accepted object is written plainly.
    function = {
        "name": "distance",
        "parameters": {
            "type": "dict",
            "properties": {"ego_info": {"type": "dict", "properties": {"position": {"type": "dict"}}}},
            "required": ["ego_info"],
        },
    }
    truth = [{"distance": {"ego_info": [{"position": [{"lateral": 10.5, "longitudinal": 50}], "orientation": [30]}]}}]
    task = FunctionTask([function], truth)
    right = {"ego_info": {"position": {"lateral": 10.5, "longitudinal": 50}, "orientation": 30}}
    assert verifier(call_json("distance", right), task).status is Status.OK
    assert read_task(task.functions, task.expected_calls).calls == (ToolCall("distance", right),)


def test_the_reference_call_writes_objects_plainly_and_leaves_out_what_may_be_left_out():
    assert read_task([GRADES], GRADES_TRUTH).calls == (ToolCall("calculate_average", {"gradeDict": RIGHT_GRADES}),)
    people = read_task([PEOPLE], PEOPLE_TRUTH).calls
    assert people == (ToolCall("extractor.extract_information", {"data": RIGHT_PEOPLE}),)
    new_york = {"population": {"adults": 0, "children": 0, "singles": 1}, "location": "New York"}
    calls = read_task(POPULATION_TASK.functions, POPULATION_TASK.expected_calls).calls
    assert calls[1] == ToolCall("waste_calculation.calculate", new_york)


@pytest.mark.parametrize(("bad", "reason"), [(None, "null"), (7, "the wrong type"), (["Paris"], "the wrong type")])
def test_an_accepted_value_that_breaks_its_schema_is_left_out_not_the_task(bad, reason):
    task = weather_task(city=["Paris", bad])
    assert STRICT(paris_call(), task).status is Status.OK
    assert STRICT(call_json("get_weather", {"city": bad}), task).status is Status.WRONG
    assert dropped(task) == [("get_weather.city", reason)]


def test_a_value_outside_the_enum_is_left_out_in_strict_mode_and_kept_in_bfcl_mode():
    task = weather_task(city=["Paris"], unit=["celsius", "kelvin"])
    assert dropped(task) == [("get_weather.unit", "not one of the enum values")]
    assert STRICT(paris_call(unit="kelvin"), task).status is Status.WRONG
    assert BFCL(paris_call(unit="kelvin"), task).status is Status.OK  # BFCL never reads the enum
    for verifier in (STRICT, BFCL):
        assert verifier(paris_call(unit="celsius"), task).status is Status.OK


@STRICT_AND_BFCL
def test_a_required_parameter_marked_omissible_is_required(verifier):
    task = weather_task(city=["", "Paris"])
    assert dropped(task) == [("get_weather.city", "a required parameter marked as omissible")]
    assert verifier(paris_call(), task).status is Status.OK
    assert verifier(call_json("get_weather", {}), task).status is Status.WRONG


@STRICT_AND_BFCL
def test_an_undefined_parameter_that_may_be_left_out_must_be_left_out(verifier):
    task = weather_task(city=["Paris"], country=["", "FR"])
    assert dropped(task) == [("get_weather.country", "a parameter the function does not define")]
    assert verifier(paris_call(), task).status is Status.OK
    assert verifier(paris_call(country="FR"), task).status is Status.WRONG


def test_an_accepted_value_of_an_object_key_outside_its_enum_is_left_out():
    # BFCL live_simple_40-17-0: the air conditioner's body holds keys with enums.
    function = {
        "name": "control",
        "parameters": {
            "type": "dict",
            "properties": {
                "body": {
                    "type": "dict",
                    "properties": {
                        "mode": {"type": "string", "enum": ["COOL", "AIR_DRY"]},
                        "power": {"type": "string", "enum": ["ON", "OFF"]},
                    },
                }
            },
            "required": ["body"],
        },
    }
    task = FunctionTask([function], [{"control": {"body": [{"mode": ["COOL", "FAN"], "power": ["", "ON"]}]}}])
    assert dropped(task) == [("control.body.mode", "not one of the enum values")]
    assert STRICT(call_json("control", {"body": {"mode": "COOL"}}), task).status is Status.OK
    assert STRICT(call_json("control", {"body": {"mode": "FAN"}}), task).status is Status.WRONG
    assert BFCL(call_json("control", {"body": {"mode": "FAN", "power": "on"}}), task).status is Status.OK


def test_a_parameter_whose_only_accepted_value_breaks_its_schema_is_a_data_error_in_strict_mode_only():
    task = weather_task(city=["Paris"], unit=["kelvin"])
    reading = read_task(task.functions, task.expected_calls)
    assert reading.error == "no accepted value of get_weather.unit fits its schema (not one of the enum values)"
    assert reading.bfcl_error is None
    assert reading.calls == (ToolCall("get_weather", {"city": "Paris", "unit": "kelvin"}),)
    assert STRICT(paris_call(unit="kelvin"), task).status is Status.DATA_ERROR
    assert BFCL(paris_call(unit="kelvin"), task).status is Status.OK


# --- bfcl mode: BFCL's own checker --------------------------------------------

BFCL_WEATHER = weather_task(city=["Paris"], unit=["", "celsius"], days=["", 3])


@pytest.mark.parametrize(
    ("arguments", "bfcl", "strict"),
    [
        ({"city": "paris"}, True, True),
        ({"city": "Paris", "unit": "Celsius"}, True, False),  # BFCL folds case, enum or not
        ({"city": "Paris", "unit": " celsius"}, True, False),  # and removes spaces
        ({"city": "Paris", "unit": ""}, True, False),  # '' equals the omission mark once folded
        ({"city": "Paris", "unit": None}, False, False),
        ({"city": "Paris\t"}, False, False),  # a tab is not folded
        ({"city": "Paris", "days": 3}, True, True),
        ({"city": "Paris", "days": 3.0}, False, True),  # 5.0 is no int for BFCL; it is for JSON Schema
        ({"city": "Paris", "days": True}, False, False),
        ({"city": "Paris", "days": "3"}, False, False),
        ({"city": "Paris", "days": 4}, False, False),
    ],
)
def test_bfcl_mode_follows_bfcls_type_and_string_rules_where_strict_mode_departs(arguments, bfcl, strict):
    completion = call_json("get_weather", arguments)
    assert (BFCL(completion, BFCL_WEATHER).status is Status.OK) is bfcl
    assert (STRICT(completion, BFCL_WEATHER).status is Status.OK) is strict


def test_bfcl_mode_compares_numbers_exactly_and_takes_an_int_for_a_float():
    function = {
        "name": "fit",
        "parameters": {
            "type": "dict",
            "properties": {"scale": {"type": "float"}, "xs": {"type": "array", "items": {"type": "float"}}},
            "required": ["scale", "xs"],
        },
    }
    task = FunctionTask([function], [{"fit": {"scale": [2.0], "xs": [[1.0, 2.5]]}}])
    cases = [
        ({"scale": 2.0, "xs": [1.0, 2.5]}, True, True),
        ({"scale": 2, "xs": [1.0, 2.5]}, True, True),  # an int for a float parameter, as BFCL
        ({"scale": 2.0000001, "xs": [1.0, 2.5]}, False, True),  # strict has a tolerance, BFCL none
        ({"scale": 2.0, "xs": [1, 2.5]}, False, True),  # BFCL takes no int for a float inside a list
        ({"scale": 2.0, "xs": [2.5, 1.0]}, False, False),
    ]
    for arguments, bfcl, strict in cases:
        assert (BFCL(call_json("fit", arguments), task).status is Status.OK) is bfcl, arguments
        assert (STRICT(call_json("fit", arguments), task).status is Status.OK) is strict, arguments


def test_bfcl_mode_takes_a_value_of_the_accepted_values_type_as_bfcl_takes_a_variable():
    # BFCL parallel_multiple_21: the accepted value of an array parameter is a variable's name.
    function = {
        "name": "linear_regression_fit",
        "parameters": {
            "type": "dict",
            "properties": {"x": {"type": "array", "items": {"type": "float"}}},
            "required": ["x"],
        },
    }
    task = FunctionTask([function], [{"linear_regression_fit": {"x": ["data['sales']"]}}])
    assert BFCL(call_json("linear_regression_fit", {"x": "data['sales']"}), task).status is Status.OK
    assert BFCL(call_json("linear_regression_fit", {"x": "data['SALES']"}), task).status is Status.WRONG
    assert BFCL(call_json("linear_regression_fit", {"x": [1.0]}), task).status is Status.WRONG
    assert STRICT(call_json("linear_regression_fit", {"x": "data['sales']"}), task).status is Status.DATA_ERROR


def test_bfcl_mode_takes_an_empty_list_for_an_omissible_array_as_bfcl_does():
    function = {
        "name": "tag",
        "parameters": {"type": "dict", "properties": {"tags": {"type": "array", "items": {"type": "string"}}}},
    }
    task = FunctionTask([function], [{"tag": {"tags": ["", ["a"]]}}])
    assert BFCL(call_json("tag", {"tags": []}), task).status is Status.OK
    assert STRICT(call_json("tag", {"tags": []}), task).status is Status.WRONG
    for verifier in (STRICT, BFCL):
        assert verifier(call_json("tag", {}), task).status is Status.OK
        assert verifier(call_json("tag", {"tags": ["A"]}), task).status is Status.OK


@STRICT_AND_BFCL
def test_parallel_calls_match_where_bfcls_greedy_matching_would_not(verifier):
    # BFCL parallel_178: the first expected call takes either company, so taking calls greedily in the
    # order of the expected calls fails on the reversed calls; a matching of every call exists.
    function = {
        "name": "get_stock_price",
        "parameters": {
            "type": "dict",
            "properties": {"company_name": {"type": "string"}, "date": {"type": "string"}},
            "required": ["company_name", "date"],
        },
    }
    truth = [
        {"get_stock_price": {"company_name": ["Microsoft", "Apple"], "date": ["2022-01-01"]}},
        {"get_stock_price": {"company_name": ["Microsoft"], "date": ["2022-02-01"]}},
        {"get_stock_price": {"company_name": ["Apple"], "date": ["2022-01-01"]}},
        {"get_stock_price": {"company_name": ["Apple"], "date": ["2022-02-01"]}},
    ]
    task = FunctionTask([function], truth)
    calls = [
        call_json("get_stock_price", {"company_name": company, "date": date})
        for company in ("Apple", "Microsoft")
        for date in ("2022-02-01", "2022-01-01")
    ]
    assert verifier("\n".join(calls), task).status is Status.OK
    twice = [calls[0], calls[3], calls[2], calls[3]]  # Microsoft on 2022-01-01 twice, Apple on 2022-01-01 never
    assert verifier("\n".join(twice), task).status is Status.WRONG


def test_bfcl_mode_counts_an_unreadable_call_as_no_call():
    unreadable = "<tool_call>{oops}</tool_call>"
    assert BFCL(unreadable, NO_CALL_TASK).status is Status.OK  # BFCL's decoder fails: no call, as asked
    assert STRICT(unreadable, NO_CALL_TASK).status is Status.FORMAT_ERROR
    assert BFCL(unreadable, WEATHER_TASK).status is Status.FORMAT_ERROR
    assert BFCL(f"{paris_call()}\n{unreadable}", WEATHER_TASK).status is Status.FORMAT_ERROR


@pytest.mark.parametrize(
    ("completion", "task"),
    [
        (f"{paris_call()}\n{paris_call()}", WEATHER_TASK),
        (paris_call(), PARALLEL_TASK),
        (f"[{paris_call()}, {EUROS_CALL}, {EUROS_CALL}]", PARALLEL_TASK),
        (paris_call(), NO_CALL_TASK),
        ("Paris is sunny.", WEATHER_TASK),
    ],
    ids=["repeated", "too-few", "too-many", "call-when-none-applies", "no-call"],
)
def test_bfcl_mode_wants_exactly_the_calls_expected(completion, task):
    assert BFCL(completion, task).status is Status.WRONG


def test_bfcl_mode_is_a_data_error_when_bfcls_rules_accept_no_call():
    for task in (weather_task(city=["Paris"], country=["FR"]), weather_task(city=[])):
        score = BFCL(paris_call(), task)
        assert score.status is Status.DATA_ERROR
        assert score.details["reason"].startswith("BFCL's rules accept no call for get_weather")


# --- partial credit ----------------------------------------------------------


def test_partial_credit_is_the_fraction_of_checks_passed():
    # Checks: the name, city, unit. A wrong city fails one of three.
    score = PARTIAL(call_json("get_weather", {"city": "Lyon"}), WEATHER_TASK)
    assert score.value == pytest.approx(2 / 3)
    assert score.status is Status.PARTIAL
    # An unknown parameter adds a failed check: 3 of 4.
    assert PARTIAL(paris_call(country="FR"), WEATHER_TASK).value == pytest.approx(3 / 4)


def test_partial_credit_is_zero_for_the_wrong_function():
    score = PARTIAL(EUROS_CALL, WEATHER_TASK)
    assert score.value == 0.0
    assert score.status is Status.WRONG


def test_partial_credit_for_parallel_calls_counts_each_expected_call():
    assert PARTIAL(paris_call(), PARALLEL_TASK).value == pytest.approx(1 / 2)
    wrong_amount = call_json("convert_currency", {"amount": 5, "from": "USD", "to": "EUR"})
    assert PARTIAL(f"[{paris_call()}, {wrong_amount}]", PARALLEL_TASK).value == pytest.approx((1 + 3 / 4) / 2)


def test_partial_credit_divides_by_the_calls_made_when_there_are_more():
    score = PARTIAL(f"[{paris_call()}, {EUROS_CALL}]", WEATHER_TASK)
    assert score.value == pytest.approx(1 / 2)
    assert "2 calls, 1 expected" in score.details["problems"]


def test_base_mode_partial_credit_counts_names():
    verifier = ToolCallMatch("base", partial_credit=True)
    assert verifier(paris_call(), PARALLEL_TASK).value == pytest.approx(1 / 2)
    assert verifier(call_json("get_weather", {"city": "Lyon"}), WEATHER_TASK).value == 1.0


# --- the task ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("functions", "expected", "reason"),
    [
        (FUNCTIONS, [{"name": "book_flight", "arguments": {}}], "names no function"),
        (FUNCTIONS, [{"name": "get_weather", "arguments": {"country": ["FR"]}}], "does not define"),
        (FUNCTIONS, [{"name": "get_weather", "arguments": {"unit": ["celsius"]}}], "leaves out required 'city'"),
        (FUNCTIONS, [{"name": "get_weather", "arguments": {"city": []}}], "no value is accepted"),
        (FUNCTIONS, [{"name": "get_weather", "arguments": {"city": [7]}}], "city fits its schema (the wrong type)"),
        (FUNCTIONS, [{"name": "get_weather", "arguments": {"city": [""]}}], "(a required parameter marked as omis"),
        ([{"name": "f", "parameters": {"type": "object", "properties": {"x": {"type": "strin"}}}}], [], "JSON Schema"),
        ([{"name": "f", "parameters": {"type": "object", "required": ["x"]}}], [], "does not define"),
        ([{"name": "f", "parameters": {"type": "array"}}], [], "not an object schema"),
        ([WEATHER, WEATHER], [], "two functions are named"),
        ([{"description": "no name"}], [], "no name"),
        ("get_weather", [], "must be a list"),
        (FUNCTIONS, [object()], "not JSON data"),
    ],
)
@pytest.mark.parametrize("verifier", [STRICT, BASE], ids=["strict", "base"])
def test_broken_task_is_a_data_error(verifier, functions, expected, reason):
    score = verifier(paris_call(), FunctionTask(functions, expected))
    assert score.value is None
    assert score.status is Status.DATA_ERROR
    assert reason in score.details["reason"]


def test_task_without_the_fields_is_a_data_error():
    score = STRICT(paris_call(), object())
    assert score.status is Status.DATA_ERROR
    assert score.details["reason"] == "the task has no functions"


def test_field_names_are_options():
    @dataclass
    class Renamed:
        tools: list[dict[str, Any]]
        answer: list[dict[str, Any]]

    verifier = ToolCallMatch(functions_field="tools", expected_field="answer")
    assert verifier(paris_call(), Renamed(FUNCTIONS, [PARIS])).status is Status.OK


@pytest.mark.parametrize(
    "options", [{"mode": "loose"}, {"rel_tol": -1.0}, {"rel_tol": 1.0}, {"mode": "bfcl", "partial_credit": True}]
)
def test_bad_options_are_refused(options):
    with pytest.raises(ValueError):
        ToolCallMatch(**options)


# --- gaming ------------------------------------------------------------------


@pytest.mark.parametrize("verifier", [STRICT, BASE], ids=["strict", "base"])
def test_two_different_calls_when_one_is_asked_are_wrong(verifier):
    score = verifier(f"{paris_call()}\n{EUROS_CALL}", WEATHER_TASK)
    assert score.value == 0.0
    assert score.details["reason"] == "2 calls, 1 expected"


@pytest.mark.parametrize("verifier", [STRICT, BASE], ids=["strict", "base"])
def test_calling_every_function_listed_is_wrong(verifier):
    assert verifier(f"[{paris_call()}, {EUROS_CALL}]", WEATHER_TASK).status is Status.WRONG


@pytest.mark.parametrize("verifier", [STRICT, BASE], ids=["strict", "base"])
def test_repeating_the_right_call_is_wrong(verifier):
    assert verifier(f"{paris_call()}\n{paris_call()}", WEATHER_TASK).status is Status.WRONG


@pytest.mark.parametrize("verifier", [STRICT, BASE, PARTIAL], ids=["strict", "base", "partial"])
def test_a_call_when_none_applies_is_wrong(verifier):
    score = verifier(paris_call(), NO_CALL_TASK)
    assert score.value == 0.0
    assert score.status is Status.WRONG
    assert score.details["reason"] == "a call where none applies"


def test_right_name_with_wrong_argument_type_is_wrong_in_strict_mode():
    assert STRICT(call_json("get_weather", {"city": ["Paris"]}), WEATHER_TASK).status is Status.WRONG


def test_right_call_only_in_the_reasoning_is_no_call():
    score = STRICT(f"<think>{paris_call()}</think>It is sunny, I think.", WEATHER_TASK)
    assert score.details["reason"] == "no call"


def test_a_malformed_second_call_beside_the_right_one_is_a_format_error():
    score = STRICT(f"{paris_call()}\n<tool_call>{{'name': 'convert_currency'}}</tool_call>", WEATHER_TASK)
    assert score.status is Status.FORMAT_ERROR


def test_right_call_after_a_megabyte_of_prose_scores_one():
    completion = "Let me think about which function fits. " * 25_000 + paris_call()
    start = time.perf_counter()
    assert STRICT(completion, WEATHER_TASK).status is Status.OK
    assert time.perf_counter() - start < 5.0


def test_thousands_of_calls_are_wrong_fast():
    start = time.perf_counter()
    score = PARTIAL(f"{paris_call()}\n" * 50_000, WEATHER_TASK)
    assert time.perf_counter() - start < 5.0
    assert score.status is Status.WRONG
    assert score.details["reason"] == "50000 calls"
    assert len(score.details["called"]) == 8


def test_a_huge_argument_is_judged_fast_and_kept_out_of_the_details():
    completion = call_json("get_weather", {"city": "Paris" * 200_000})
    start = time.perf_counter()
    score = STRICT(completion, WEATHER_TASK)
    assert time.perf_counter() - start < 5.0
    assert score.status is Status.WRONG
    assert all(len(problem) <= 160 for problem in score.details["problems"])


def test_deeply_nested_json_is_a_format_error():
    nested = "[" * 100_000 + "]" * 100_000
    score = STRICT('{"name": "get_weather", "arguments": {"city": ' + nested + "}}", WEATHER_TASK)
    assert score.status is Status.FORMAT_ERROR
    assert score.details["reason"] == "malformed call: JSON nested too deeply"


MEGABYTE = 1 << 20
ADVERSARIAL = {
    "tool_call": "<tool_call>" * (MEGABYTE // 11),
    "tool_call blocks": "<tool_call>{</tool_call>" * (MEGABYTE // 24),
    "functioncall": "<functioncall> {" * (MEGABYTE // 16),
    "open braces with a name": '{"name":' * (MEGABYTE // 8),
    "open brackets": "[" * MEGABYTE + '"name"',
    "nested keys": '{"a":' * (MEGABYTE // 5) + '"name"',
    "empty objects": "{}" * (MEGABYTE // 2) + '"name"',
    "balanced nesting": "[" * (MEGABYTE // 2) + '"name"' + "]" * (MEGABYTE // 2),
    "broken calls": '{"name"}' * (MEGABYTE // 8),
    "unterminated string": '{"name": "' + "x" * MEGABYTE,
    "backslashes": '{"name": "f", "arguments": "' + "\\" * MEGABYTE,
    "single quotes": '{"name": "f", "arguments": \'' * (MEGABYTE // 30),
    "lists of calls": '[{"name":"get_weather","arguments":{"city":"Paris"}},' * (MEGABYTE // 50),
    "think tags": "<think>" * (MEGABYTE // 7),
}


@pytest.mark.parametrize("name", list(ADVERSARIAL))
@pytest.mark.parametrize("verifier", [STRICT, PARTIAL], ids=["strict", "partial"])
def test_megabyte_adversarial_input_is_judged_in_bounded_time(verifier, name):
    start = time.perf_counter()
    score = verifier(ADVERSARIAL[name], WEATHER_TASK)
    assert time.perf_counter() - start < 5.0
    assert score.value == 0.0


# --- property kit ------------------------------------------------------------

ENUM = ["low", "medium", "high"]
KINDS = ("string", "integer", "number", "boolean", "enum", "array")
NAMES = st.from_regex(r"[a-z][a-z_]{2,10}", fullmatch=True)
PARAMS = st.from_regex(r"[a-z]{1,8}", fullmatch=True)


def schema_for(kind: str) -> dict[str, Any]:
    if kind == "enum":
        return {"type": "string", "enum": ENUM}
    if kind == "array":
        return {"type": "array", "items": {"type": "integer"}}
    return {"type": kind}


def values_for(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    if "enum" in schema:
        return st.sampled_from(ENUM)
    return {
        "string": st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 ]{0,10}", fullmatch=True),
        "integer": st.integers(-1000, 1000),
        "number": st.floats(-1000, 1000, allow_nan=False).map(lambda x: round(x, 3)),
        "boolean": st.booleans(),
        "array": st.lists(st.integers(-9, 9), max_size=3),
    }[schema["type"]]


def changed(value: Any, schema: dict[str, Any]) -> Any:
    """A value of the same type that no normalisation makes equal to ``value``."""
    if "enum" in schema:
        return ENUM[(ENUM.index(value) + 1) % len(ENUM)]
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1.5 if schema["type"] == "number" else value + 1
    if isinstance(value, str):
        return value + "x"
    return [*value, 0]


@st.composite
def function_tasks(draw: st.DrawFn) -> FunctionTask:
    names = draw(st.lists(NAMES, min_size=1, max_size=3, unique=True))
    functions: list[dict[str, Any]] = []
    for name in names:
        params = draw(st.lists(PARAMS, max_size=4, unique=True))
        properties = {param: schema_for(draw(st.sampled_from(KINDS))) for param in params}
        required = [param for param in params if draw(st.booleans())]
        parameters: dict[str, Any] = {"type": "object", "properties": properties, "required": required}
        functions.append({"name": name, "description": f"Does {name}.", "parameters": parameters})
    expected = []
    for _ in range(draw(st.integers(0, 2))):
        function = draw(st.sampled_from(functions))
        schema = function["parameters"]
        arguments = {
            param: [draw(values_for(property_schema))]
            for param, property_schema in schema["properties"].items()
            if param in schema["required"] or draw(st.booleans())
        }
        expected.append({"name": function["name"], "arguments": arguments})
    return FunctionTask(functions, expected)


def chosen_calls(task: FunctionTask) -> list[dict[str, Any]]:
    """The expected calls with their (single) accepted values."""
    return [
        {"name": call["name"], "arguments": {param: values[0] for param, values in call["arguments"].items()}}
        for call in task.expected_calls
    ]


FORMATS = ("glaive", "openai-object", "openai-string", "list", "tool_calls", "fenced", "hermes")


def render(calls: list[dict[str, Any]], fmt: str) -> str:
    """A completion that makes ``calls`` in format ``fmt`` (prose when there are none)."""
    if not calls:
        return "None of the functions can answer this; I need more information."
    if fmt == "glaive":
        return "\n".join(
            f'<functioncall> {{"name": "{c["name"]}", "arguments": \'{json.dumps(c["arguments"])}\'}}' for c in calls
        )
    if fmt == "openai-object":
        return "Calling now:\n" + "\n".join(json.dumps(c) for c in calls)
    if fmt == "openai-string":
        return "\n".join(json.dumps({"name": c["name"], "arguments": json.dumps(c["arguments"])}) for c in calls)
    if fmt == "list":
        return json.dumps(calls)
    if fmt == "tool_calls":
        wrapped = [{"type": "function", "function": {**c, "arguments": json.dumps(c["arguments"])}} for c in calls]
        return json.dumps({"tool_calls": wrapped})
    if fmt == "fenced":
        return "Here are the calls.\n```json\n" + json.dumps(calls, indent=2) + "\n```"
    return "\n".join(f"<tool_call>\n{json.dumps(c)}\n</tool_call>" for c in calls)


def rendered_reference(fmt: str):
    def reference(task: FunctionTask) -> str:
        return "<think>Which function fits?</think>\n" + render(chosen_calls(task), fmt)

    return reference


def wrong_completions(task: FunctionTask, names_only: bool) -> st.SearchStrategy[str]:
    """Completions that change the expected calls: a name, a value, a call too many or too few."""
    calls = chosen_calls(task)
    functions = {function["name"]: function for function in task.functions}
    if not calls:
        some = st.sampled_from(sorted(functions)).map(lambda name: [{"name": name, "arguments": {}}])
        return st.tuples(some, st.sampled_from(FORMATS)).map(lambda pair: render(*pair))

    @st.composite
    def wrong(draw: st.DrawFn) -> str:
        changed_calls = [dict(call, arguments=dict(call["arguments"])) for call in calls]
        index = draw(st.integers(0, len(calls) - 1))
        target = changed_calls[index]
        ways = ["name", "extra", "missing"]
        if target["arguments"] and not names_only:
            ways.append("value")
        way = draw(st.sampled_from(ways))
        if way == "name":
            others = [name for name in functions if name != target["name"]]
            target["name"] = draw(st.sampled_from(others)) if others else target["name"] + "_x"
        elif way == "extra":
            changed_calls.append(dict(target))
        elif way == "missing":
            del changed_calls[index]
        else:
            param = draw(st.sampled_from(sorted(target["arguments"])))
            schema = functions[target["name"]]["parameters"]["properties"][param]
            target["arguments"][param] = changed(target["arguments"][param], schema)
        if not changed_calls:
            return "I will not call anything."
        return render(changed_calls, draw(st.sampled_from(FORMATS)))

    return wrong()


@pytest.mark.parametrize("fmt", FORMATS)
def test_strict_mode_passes_the_property_kit(fmt):
    check_verifier(
        STRICT,
        tasks=function_tasks(),
        reference=rendered_reference(fmt),
        wrong=lambda task: wrong_completions(task, names_only=False),
        max_examples=30,
    )


@pytest.mark.parametrize(
    "verifier",
    [BASE, PARTIAL, ToolCallMatch("base", partial_credit=True), BFCL],
    ids=["base", "partial", "base-partial", "bfcl"],
)
def test_other_options_pass_the_property_kit(verifier):
    check_verifier(
        verifier,
        tasks=function_tasks(),
        reference=rendered_reference("hermes"),
        wrong=lambda task: wrong_completions(task, names_only=verifier.mode == "base"),
        max_examples=30,
    )


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=40, deadline=None)
@given(task=function_tasks())
def test_every_format_parses_back_the_calls_it_renders(fmt, task):
    calls = chosen_calls(task)
    parsed = parse_tool_calls(render(calls, fmt))
    assert not parsed.malformed
    assert [(call.name, call.arguments) for call in parsed.calls] == [(c["name"], c["arguments"]) for c in calls]


CALL_FRAGMENTS = (
    "<tool_call>", "</tool_call>", "<functioncall>", "<think>", "</think>", "```json", "```",
    '{"name": ', '"get_weather"', '"arguments": ', "'", '"', "{", "}", "[", "]", ",", ":", "\\",
    '{"city": "Paris"}', '"{\\"city\\": \\"Paris\\"}"', '"tool_calls": ', '"function": ', "NaN", "1e999",
    " ", "\n", "Paris", "7", "null", "true",
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(completion=st.lists(st.sampled_from(CALL_FRAGMENTS) | st.text(max_size=4), max_size=40).map("".join))
def test_call_shaped_soup_never_raises_and_stays_in_range(completion):
    parse_tool_calls(completion)
    for verifier in (STRICT, BASE, PARTIAL, BFCL):
        score = verifier(completion, PARALLEL_TASK)
        assert score.value is not None and 0.0 <= score.value <= 1.0
        assert score == verifier(completion, PARALLEL_TASK)
