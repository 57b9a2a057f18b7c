"""rlvr/FunctionCalling-v0's executing mode (``execute=True``): the calls run, and the reply to the user is judged.

In the single-turn mode the model's call is the answer. In the executing mode
the episode goes on the way an assistant's turn does: the model calls the
listed functions, reads what they return (the next observation, as ``tool``
messages), and then replies to the user. The functions are simulated,
deterministically:

* a call that is one of the calls the request asks for (as the strict checker
  judges it, so an accepted alternative such as ``"Paris, France"`` counts)
  returns that call's result, recorded on the task (``FunctionCallingTask.results``);
* any other call returns what the simulation gives for its own arguments in the
  task's world (``simulated.simulate(name, arguments, task.world)``), so a call
  with wrong arguments gets a plausible, different answer.

Results come from Glaive's ``FUNCTION RESPONSE`` turns when a record has one,
and from ``rlvr.envs.function_calling.simulated`` otherwise. ``facts`` are the
values of the results that a reply must state: the simulation's salient values,
or, for a Glaive record, the values of its response that its own reference
reply states.

An episode earns 1 (``judge_executed``) when all of these hold, else 0:

* the calls it made, repeats set aside, are exactly the calls the request asks
  for (none when none is right: guessing a missing argument, or calling a
  function that does not do what was asked, fails however polite the reply);
* its last turn is a reply, not a call;
* the reply states every fact (``rlvr.verifiers.stated_facts``), without
  hedging: at most ``FOREIGN_NUMBERS`` numbers found in neither the request,
  the functions nor the results.

A request answered by no call is judged as in the single-turn mode, once no call
was made. The judgement is all or nothing: partial credit does not apply.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rlvr.envs.core.tools import Tool
from rlvr.envs.function_calling.simulated import simulate
from rlvr.verifiers.reasoning import answer_text
from rlvr.verifiers.score import Score, Status
from rlvr.verifiers.stated_facts import check_facts

if TYPE_CHECKING:
    from rlvr.envs.function_calling.env import FunctionCallingTask

__all__ = ["episode_tools", "executing", "judge_executed", "response_facts"]

FOREIGN_NUMBERS = 2
"""Numbers a reply may write that are in neither the request, the functions nor the results (a range it
mentions, a sum it works out); more is hedging among candidates."""


def executing(task: FunctionCallingTask, world: int) -> FunctionCallingTask:
    """``task`` in the executing mode: ``execute`` set, ``world`` its seed, and the expected calls' results
    and facts filled in by the simulation where the task does not already hold them (a Glaive response)."""
    from rlvr.envs.function_calling.env import reference_arguments

    update: dict[str, Any] = {"execute": True, "world": world}
    if task.expected_calls and not task.results:
        simulations = [
            simulate(call["name"], reference_arguments(call, task.functions), world) for call in task.expected_calls
        ]
        update["results"] = [simulation.result for simulation in simulations]
        update["facts"] = _unique(fact for simulation in simulations for fact in simulation.facts)
    return task.model_copy(update=update)


def response_facts(response: Any, reply: str) -> list[Any]:
    """The values of a recorded function ``response`` that its reference ``reply`` states (Glaive records).

    Leaves of the response (strings, and numbers other than booleans), kept when the reply states them
    by the rule replies are judged by, so the reference reply itself always passes.
    """
    leaves = _unique(_leaves(response))
    missing = set(map(_key, check_facts(reply, leaves, known=reply).missing))
    return [leaf for leaf in leaves if _key(leaf) not in missing]


def episode_tools(task: FunctionCallingTask) -> dict[str, Tool]:
    """The task's listed functions as tools whose calls return the simulated results (see the module docs)."""
    from rlvr.verifiers.tool_calls import standard_schema

    tools = {}
    for function in task.functions:
        name = str(function.get("name", ""))
        if not name:
            continue
        parameters = standard_schema(function.get("parameters") or {"type": "object", "properties": {}})
        try:
            tools[name] = Tool(str(name), str(function.get("description", "")), parameters, _Simulated(task, name))
        except ValueError:  # a data set's schema that is not JSON Schema: calls are not checked against it
            tools[name] = Tool(str(name), str(function.get("description", "")), {}, _Simulated(task, name))
    return tools


class _Simulated:
    """One listed function of one task: a call returns the recorded result when it is an expected call."""

    def __init__(self, task: FunctionCallingTask, name: str) -> None:
        self.task = task
        self.name = name

    def __call__(self, **arguments: Any) -> dict[str, Any]:
        task = self.task
        for index, expected in enumerate(task.expected_calls):
            if expected.get("name") == self.name and index < len(task.results) and _meets(task, expected, arguments):
                return task.results[index]
        return simulate(self.name, arguments, task.world).result


def _meets(task: FunctionCallingTask, expected: Mapping[str, Any], arguments: Mapping[str, Any]) -> bool:
    """Whether a call of ``expected``'s function with ``arguments`` is that expected call (the strict checker)."""
    from rlvr.envs.function_calling.env import _tool_call_match, render_calls

    alone = task.model_copy(update={"expected_calls": [expected], "execute": False})
    completion = render_calls([{"name": expected["name"], "arguments": dict(arguments)}])
    return _tool_call_match("strict", False)(completion, alone).value == 1.0


def judge_executed(completion: str, task: FunctionCallingTask) -> Score:
    """The executing mode's verdict on the episode's last turn, given the calls made before it (module docs)."""
    from rlvr.envs.function_calling.env import _tool_call_match, render_calls
    from rlvr.verifiers.tool_calls import parse_tool_calls

    made = _distinct_calls(task.calls_made or [])
    reply = answer_text(completion)
    if not task.expected_calls:
        if made:
            return Score.fail(Status.WRONG, reason="called a function when the request called for none", calls=made)
        return _tool_call_match(task.mode, False)(completion, task.model_copy(update={"execute": False}))
    parsed = parse_tool_calls(reply)
    if parsed.calls or parsed.error_count:
        return Score.fail(Status.WRONG, reason="the episode ended on a call, not a reply to the user")
    if not made:
        return Score.fail(Status.WRONG, reason="no function was called")
    calls = _tool_call_match(task.mode, False)(render_calls(made), task.model_copy(update={"execute": False}))
    if calls.value != 1.0:
        return Score.fail(Status.WRONG, reason="the calls made are not the calls the request asks for", calls=made)
    known = " ".join([task.question, json.dumps(task.results), json.dumps(task.functions)])
    verdict = check_facts(reply, task.facts, known, FOREIGN_NUMBERS)
    if verdict.hedged:
        reason = f"the reply writes more than {FOREIGN_NUMBERS} numbers of its own (candidates?)"
        return Score.fail(Status.HEDGED, reason=reason)
    if verdict.missing:
        return Score.fail(Status.WRONG, reason="the reply does not state the result", missing=list(verdict.missing))
    return Score.correct()


def _distinct_calls(calls: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``calls`` in order, each repeat of an earlier call (same name and arguments) left out."""
    seen, distinct = set(), []
    for call in calls:
        key = json.dumps([call.get("name"), call.get("arguments")], sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            distinct.append({"name": call.get("name"), "arguments": call.get("arguments")})
    return distinct


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, Mapping):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    if isinstance(value, bool) or value is None:
        return []
    return [value] if isinstance(value, int | float | str) else []


def _key(value: Any) -> str:
    return json.dumps(value)


def _unique(values: Any) -> list[Any]:
    seen, kept = set(), []
    for value in values:
        if _key(value) not in seen:
            seen.add(_key(value))
            kept.append(value)
    return kept
