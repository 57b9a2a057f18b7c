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

Tools run in the trainer's process: they must be deterministic, quick and
harmless (a calculator, a lookup). Code the model writes runs in the sandbox,
never here. Reading calls and checking arguments needs the ``tools`` extra
(``jsonschema``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rlvr.verifiers.tool_calls import ToolCall

__all__ = ["TRUNCATION_MARKER", "Tool", "ToolBox", "ToolResult", "call_text", "tool_instructions"]

TRUNCATION_MARKER = "...[{cut} more characters cut]"
"""Appended to a result cut at ``max_output_chars`` (``{cut}``: how many characters were dropped)."""


@dataclass(frozen=True)
class Tool:
    """A function the model may call.

    Attributes:
        name: how the model names it.
        description: what it does, shown to the model.
        parameters: JSON schema of the arguments object (``{"type": "object", "properties": ...}``).
        function: called with the arguments as keywords; returns text, or anything ``json.dumps`` takes.
        example: the arguments a worked solution of a task calls it with (``task -> arguments``), for
            cold-start traces (``rlvr.trainers.pipelines.sft``); None: no worked call.
    """

    name: str
    description: str
    parameters: dict[str, Any]
    function: Callable[..., Any]
    example: Callable[[Any], dict[str, Any]] | None = None

    def schema(self) -> dict[str, Any]:
        """The tool in the OpenAI / chat-template form: ``{"type": "function", "function": {...}}``."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }


@dataclass(frozen=True)
class ToolResult:
    """What one call gave: the text the model reads, and whether the call succeeded."""

    name: str
    content: str
    ok: bool


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

    def reset(self) -> None:
        """Start a new episode's budget of calls."""
        self.calls_made = 0

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
        outcome: dict[str, Any] = {}

        def target() -> None:
            try:
                outcome["value"] = tool.function(**call.arguments)
            except Exception as error:  # the tool's own failure is the model's to read
                outcome["error"] = f"{type(error).__name__}: {error}"

        worker = threading.Thread(target=target, daemon=True)
        worker.start()
        worker.join(self.timeout)
        if worker.is_alive():
            return ToolResult(call.name, f"error: {call.name} took longer than {self.timeout:g} s", False)
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


def tool_instructions(tools: Sequence[Tool]) -> str:
    """How the prompt text lists the tools (for models without a chat template): their schemas and the call format."""
    listed = "\n".join(json.dumps(tool.schema(), separators=(", ", ": ")) for tool in tools)
    return (
        "You may call these tools:\n<tools>\n"
        f"{listed}\n</tools>\n"
        'To call one, write <tool_call>{"name": NAME, "arguments": {...}}</tool_call>; '
        "its result comes back in <tool_response></tool_response>. Answer without a tool call when you are done."
    )
