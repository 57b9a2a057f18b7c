"""Tools: schema checks before a call, and every failure as a result the model reads, within the limits."""

from __future__ import annotations

import json
import time

from rlvr.envs.core.tools import Tool, ToolBox, tool_instructions
from rlvr.verifiers.tool_calls import ToolCall

ADD = Tool(
    name="add",
    description="Add two integers.",
    parameters={
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"],
        "additionalProperties": False,
    },
    function=lambda a, b: a + b,
)


def _box(*tools: Tool, **limits) -> ToolBox:
    return ToolBox({tool.name: tool for tool in tools}, **limits)


def test_a_well_formed_call_runs_and_its_value_is_the_result():
    (result,) = _box(ADD).run([ToolCall("add", {"a": 2, "b": 40})])
    assert (result.name, result.content, result.ok) == ("add", "42", True)


def test_arguments_the_schema_refuses_are_an_error_result_and_the_tool_is_not_called():
    called = []
    spy = Tool("add", ADD.description, ADD.parameters, lambda a, b: called.append((a, b)))
    results = _box(spy).run([ToolCall("add", {"a": "2", "b": 3}), ToolCall("add", {"a": 1}), ToolCall("add", {})])
    assert all(not r.ok and r.content.startswith("error: bad arguments for add:") for r in results)
    assert "'2' is not of type 'integer'" in results[0].content and "'b' is a required property" in results[1].content
    assert called == []


def test_unknown_tools_failing_tools_and_slow_tools_are_error_results():
    def broken(a: int, b: int) -> int:
        raise ZeroDivisionError("no")

    def slow(a: int, b: int) -> int:
        time.sleep(1.0)
        return a

    box = _box(Tool("broken", "", ADD.parameters, broken), Tool("slow", "", ADD.parameters, slow), timeout=0.2)
    unknown, failed, late = box.run(
        [ToolCall("nope", {}), ToolCall("broken", {"a": 1, "b": 2}), ToolCall("slow", {"a": 1, "b": 2})]
    )
    assert not unknown.ok and "no tool named 'nope'; the tools are ['broken', 'slow']" in unknown.content
    assert not failed.ok and failed.content == "error: ZeroDivisionError: no"
    assert not late.ok and "took longer than 0.2 s" in late.content


def test_the_episode_budget_of_calls_holds_until_reset():
    box = _box(ADD, max_calls=2)
    results = box.run([ToolCall("add", {"a": 1, "b": 1})] * 3)
    assert [r.ok for r in results] == [True, True, False] and "at most 2 per episode" in results[2].content
    box.reset()
    assert box.run([ToolCall("add", {"a": 1, "b": 1})])[0].ok


def test_long_results_are_cut_with_a_marker_saying_how_much():
    echo = Tool("echo", "", {"type": "object"}, lambda: "x" * 50)
    (result,) = _box(echo, max_output_chars=10).run([ToolCall("echo", {})])
    assert result.content == "x" * 10 + "...[40 more characters cut]"


def test_the_prompt_lists_each_tools_schema_and_the_call_format():
    text = tool_instructions([ADD])
    listed = text.split("<tools>\n")[1].split("\n</tools>")[0]
    assert json.loads(listed) == ADD.schema() and ADD.schema()["function"]["name"] == "add"
    assert "<tool_call>" in text and "<tool_response>" in text


def test_the_brief_listing_names_each_tool_and_its_arguments_in_one_line():
    text = tool_instructions([ADD], "brief")
    assert text == 'Tools: add(a, b). Call: <tool_call>{"name": NAME, "arguments": {...}}</tool_call>'


def test_an_env_lists_its_tools_before_the_task_briefly_when_asked():
    import rlvr.envs as envs

    prompt, info = envs.make("rlvr/Arithmetic-v0", level=1, tools=["calculator"], tool_prompt="brief").reset(seed=0)
    assert prompt.startswith("Tools: calculator(expression). Call: <tool_call>")
    assert prompt.endswith(info["task"].question) or info["task"].question in prompt.split("\n\n", 1)[1]
    assert info["tools"][0]["function"]["name"] == "calculator"


def test_a_tool_whose_parameters_are_not_a_json_schema_is_refused_when_defined():
    import pytest

    with pytest.raises(ValueError, match="not a valid JSON schema"):
        Tool(name="bad", description="", parameters={"type": "dictionary"}, function=print)
