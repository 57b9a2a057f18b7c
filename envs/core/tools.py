"""Tools an environment lets the model call during an episode.

A ``Tool`` is a Python callable with a JSON schema for its arguments; a
``ToolBox`` holds the tools of one env and runs the calls the model writes.
The model calls a tool the Hermes/Qwen way, which is what chat templates with
tool support render and parse::

    <tool_call>
    {"name": "calculator", "arguments": {"expression": "1234 * 56"}}
    </tool_call>

(``rlvr.verifiers.tool_calls.parse_tool_calls`` reads it, and the other common
formats.) Each call's arguments are checked against the tool's schema before
the call; a call to an unknown tool, arguments the schema refuses, an error
raised by the tool, a call past its time limit or past the episode's budget of
calls all become a result the model reads (``ToolResult.ok`` False), never an
exception. Results longer than ``max_output_chars`` are cut, with a marker
saying how much was cut.

A tool is either a plain function (``function``: deterministic, quick and
harmless, run in the trainer's process: a calculator, a lookup) or a session
(``session``: a factory called once per episode, on the episode's first call
of the tool, whose product takes that episode's calls and keeps state between
them: the Python interpreter, whose code runs in the sandbox, never here). A
tool whose own machinery fails, rather than the call, raises ``ToolFault``:
the episode ends unjudged (reward None), never scored as the model's error. Reading calls and checking
arguments needs the ``tools`` extra
(``jsonschema``).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from rlvr.verifiers.tool_calls import ToolCall

__all__ = ["TRUNCATION_MARKER", "Tool", "ToolBox", "ToolFault", "ToolResult", "call_text", "tool_instructions"]

TRUNCATION_MARKER = "...[{cut} more characters cut]"
"""Appended to a result cut at ``max_output_chars`` (``{cut}``: how many characters were dropped)."""


class ToolFault(Exception):
    """A tool's machinery failed (the sandbox behind the Python tool died): no fault of the call's."""


@dataclass(frozen=True)
class Tool:
    """A function the model may call.

    Attributes:
        name: how the model names it.
        description: what it does, shown to the model.
        parameters: JSON schema of the arguments object (``{"type": "object", "properties": ...}``).
        function: called with the arguments as keywords; returns text, or anything ``json.dumps`` takes.
            None for a session tool.
        example: the arguments a worked solution of a task calls it with (``task -> arguments``), for
            cold-start traces (``rlvr.trainers.pipelines.sft``); None: no worked call.
        session: for a tool with state: ``timeout -> function``, called on an episode's first call of the
            tool with the per-call time limit in seconds; the function it returns takes the episode's calls
            (and keeps their state) and enforces the limit itself. A ``close()`` method on it, if any, is
            called when the episode ends.
    """

    name: str
    description: str
    parameters: dict[str, Any]
    function: Callable[..., Any] | None = None
    example: Callable[[Any], dict[str, Any]] | None = None
    session: Callable[[float], Callable[..., Any]] | None = None

    def __post_init__(self) -> None:
        if (self.function is None) == (self.session is None):
            raise ValueError(f"tool {self.name!r}: give exactly one of function and session")
        try:
            import jsonschema
        except ImportError:  # checked when the tools extra is installed, as the calls are
            return
        try:
            jsonschema.validators.validator_for(self.parameters).check_schema(self.parameters)
        except jsonschema.SchemaError as error:
            problem = f"tool {self.name!r}: its parameters are not a valid JSON schema: {error.message}"
            raise ValueError(problem) from None

    def schema(self) -> dict[str, Any]:
        """The tool in the OpenAI / chat-template form: ``{"type": "function", "function": {...}}``."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }


@dataclass(frozen=True)
class ToolResult:
    """What one call gave: the text the model reads, whether the call succeeded, and whether the tool
    itself failed (``fault``: the episode cannot be judged)."""

    name: str
    content: str
    ok: bool
    fault: bool = False


@dataclass
class ToolBox:
    """The tools of one env, and the limits on calling them.

    Attributes:
        tools: the tools, by name.
        max_calls: calls per episode; later ones are refused (the result says so).
        max_output_chars: longest result the model reads; longer ones are cut with ``TRUNCATION_MARKER``.
        timeout: seconds a call may take; a slower one is abandoned and reported as timed out.
        calls_made: calls run in the current episode (``reset`` clears it).
    """

    tools: dict[str, Tool]
    max_calls: int = 8
    max_output_chars: int = 2000
    timeout: float = 5.0
    calls_made: int = field(default=0)
    _sessions: dict[str, Callable[..., Any]] = field(default_factory=dict, repr=False)

    def reset(self) -> None:
        """Start a new episode: a new budget of calls, and the session tools' state closed."""
        self.calls_made = 0
        self.close()

    def close(self) -> None:
        """Close the session tools' state (their ``close()``, where they have one); never raises."""
        sessions, self._sessions = self._sessions, {}
        for session in sessions.values():
            close = getattr(session, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):  # best effort: the next episode starts a new session anyway
                    close()

    def schemas(self) -> list[dict[str, Any]]:
        """Every tool's schema, for a chat template's ``tools`` or an API request."""
        return [tool.schema() for tool in self.tools.values()]

    def run(self, calls: Sequence[ToolCall]) -> list[ToolResult]:
        """Run ``calls`` in order (within the episode's budget); one result per call, never raising."""
        return [self._run_one(call) for call in calls]

    def _run_one(self, call: ToolCall) -> ToolResult:
        if self.calls_made >= self.max_calls:
            return ToolResult(call.name, f"error: no calls left (at most {self.max_calls} per episode)", False)
        self.calls_made += 1
        tool = self.tools.get(call.name)
        if tool is None:
            known = sorted(self.tools)
            return ToolResult(call.name, f"error: no tool named {call.name!r}; the tools are {known}", False)
        import jsonschema  # the 'tools' extra, as for reading the calls

        try:
            jsonschema.validate(call.arguments, tool.parameters)
        except jsonschema.ValidationError as error:
            return ToolResult(call.name, f"error: bad arguments for {call.name}: {error.message}", False)
        except jsonschema.SchemaError as error:  # the tool's definition is at fault, never the call
            return ToolResult(call.name, f"the {call.name} tool's schema is invalid: {error.message}", False, True)
        if tool.session is not None:  # a session keeps its own time limit
            function = self._sessions.get(tool.name)
            if function is None:
                function = self._sessions[tool.name] = tool.session(self.timeout)
            limit = None
        else:
            assert tool.function is not None
            function, limit = tool.function, self.timeout
        outcome: dict[str, Any] = {}

        def target() -> None:
            try:
                outcome["value"] = function(**call.arguments)
            except ToolFault as fault:
                outcome["fault"] = str(fault)
            except Exception as error:  # the tool's own failure is the model's to read
                outcome["error"] = f"{type(error).__name__}: {error}"

        worker = threading.Thread(target=target, daemon=True)
        worker.start()
        worker.join(limit)
        if worker.is_alive():
            return ToolResult(call.name, f"error: {call.name} took longer than {self.timeout:g} s", False)
        if "fault" in outcome:
            return ToolResult(call.name, f"the {call.name} tool failed: {outcome['fault']}", False, fault=True)
        if "error" in outcome:
            return ToolResult(call.name, f"error: {outcome['error']}", False)
        value = outcome.get("value")
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        return ToolResult(call.name, self._cut(text), True)

    def _cut(self, text: str) -> str:
        if len(text) <= self.max_output_chars:
            return text
        return text[: self.max_output_chars] + TRUNCATION_MARKER.format(cut=len(text) - self.max_output_chars)


def call_text(name: str, arguments: dict[str, Any]) -> str:
    """A call written the way the prompt asks: ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>``."""
    return f"<tool_call>{json.dumps({'name': name, 'arguments': arguments})}</tool_call>"


def tool_instructions(tools: Sequence[Tool], style: Literal["schemas", "brief"] = "schemas") -> str:
    """How the prompt text lists the tools (for models without a chat template), and the call format.

    ``schemas``: each tool's JSON schema, as chat templates with tool support list them.
    ``brief``: one line naming each tool and its arguments, for small models with short contexts.
    """
    call = '<tool_call>{"name": NAME, "arguments": {...}}</tool_call>'
    if style == "brief":
        listed = ", ".join(f"{tool.name}({', '.join(tool.parameters.get('properties', {}))})" for tool in tools)
        return f"Tools: {listed}. Call: {call}"
    listed = "\n".join(json.dumps(tool.schema(), separators=(", ", ": ")) for tool in tools)
    return (
        "You may call these tools:\n<tools>\n"
        f"{listed}\n</tools>\n"
        f"To call one, write {call}; "
        "its result comes back in <tool_response></tool_response>. Answer without a tool call when you are done."
    )
