"""Function calling: reading tool calls out of a completion, and judging them against a task.

The parser (``parse_tool_calls``) reads the formats models are trained on:

* Glaive: ``<functioncall> {"name": "f", "arguments": '{"a": 1}'}``; the
  arguments are a single-quoted JSON string inside otherwise-JSON text. A JSON
  object or a double-quoted JSON string there is read too.
* OpenAI-style JSON anywhere in the text (prose around it, or a fenced
  ```json block): ``{"name": "f", "arguments": "<json>" | {...}}`` (Llama 3's
  ``"parameters"`` is read as ``"arguments"``), a list of those,
  ``{"tool_calls": [{"type": "function", "function": {...}}]}`` and
  ``{"function_call": {...}}``.
* Hermes / Qwen: ``<tool_call>{...}</tool_call>``, one block per call.

Only the answer counts (``rlvr.verifiers.reasoning.answer_text``, the rule
every verifier shares): a call written in the reasoning is not a call.

The verifier (``ToolCallMatch``) reads ``task.functions`` (OpenAI-style
function schemas) and ``task.expected_calls`` (BFCL-style: each parameter maps
to the list of values accepted; an object's accepted value is itself ``{key:
[values]}``) and scores in one of three modes:

* ``base``: the right functions by name, or rightly none (Fireworks'
  function-calling experiment).
* ``bfcl``: BFCL's own AST checker (bfcl-eval 2026.3.23,
  ``eval_checker/ast_eval/ast_checker.py``, Python categories), so scores
  compare with its leaderboard. The call count must equal the expected count;
  a call meets an expected call when it has the function's name, sets every
  parameter the schema requires, sets only parameters both the schema and the
  expected call name, and each value passes BFCL's rules (``_bfcl_value_problem``:
  the schema's Python type, an int taken for a float at the top level only;
  the type of the first accepted value taken as a "variable" and compared as
  written; strings folded as BFCL folds them, spaces and ``,./-_*^`` removed,
  lower case, ``'`` as ``"``; no enum check; numbers exactly; lists element by
  element; objects one level deep, key by key); expected parameters not set
  must be marked omissible. When no call is expected, a completion whose call
  cannot be read is right (BFCL's decoder fails on it: no call). One
  difference, argued: BFCL pairs parallel calls greedily, each expected call
  taking the first call that meets it, and so rejects right calls in some
  orders (``parallel_178`` reversed); bfcl mode pairs them with a maximum
  matching. tests/test_bfcl_conformance.py checks the agreement case by case
  against BFCL's checker on every record bfcl-eval ships.
* ``strict``: the arguments checked against the schema and the accepted
  values; the mode for training rewards. It departs from BFCL on purpose: an
  enum is obeyed exactly (BFCL folds case and never reads the enum); types are
  JSON Schema's (3.0 is an integer; an int is a number inside lists too; a
  bool is never a number); numbers compare within ``rel_tol``; strings fold
  the same way as BFCL at any depth; ``""`` or ``[]`` for an omissible
  parameter is a value, not the omission (BFCL folds them into its mark); an
  accepted value that breaks its schema (``null``, outside the enum, the wrong
  type, including BFCL's "variables") is left out, and a parameter left with
  none makes the task a data error; a ``""`` on a required parameter is
  ignored (BFCL requires the parameter too); an unreadable call is a format
  error even when no call is expected; and an accepted string outside the
  enum that folds to exactly one enum value is read as that value.

Everything runs in time linear in the completion: one scan finds every
balanced ``{...}``/``[...]`` group with plain string search, and ``json`` parses
each outermost group once, so megabytes of ``<tool_call>`` or ``{`` cost no
more than any other megabytes. Nothing here raises on what a model wrote.
"""

from __future__ import annotations

import bisect
import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any, Literal, cast

from jsonschema.exceptions import SchemaError
from jsonschema.validators import Draft202012Validator, validator_for

from rlvr.verifiers.reasoning import answer_text
from rlvr.verifiers.score import Score, Status

__all__ = [
    "DROP_REASONS",
    "DroppedValue",
    "TaskReading",
    "ToolCall",
    "ToolCallMatch",
    "ToolCallParse",
    "parse_tool_calls",
    "read_task",
    "standard_schema",
]

TOOL_CALL_OPEN, TOOL_CALL_CLOSE = "<tool_call>", "</tool_call>"
FUNCTION_CALL_MARKER = "<functioncall>"

MAX_DEPTH = 32
"""Arguments nested deeper than this are not read (a call with them is malformed)."""
MAX_CALLS = 64
"""A completion with more calls than this is judged wrong without matching them."""
_MAX_ERRORS = 8  # malformed attempts described in a parse; later ones are only counted
_MAX_DESCENT = 3  # levels of unparseable brackets searched for calls inside them
_EXACT_MATCH_LIMIT = 6  # parallel calls matched exactly up to this many; greedily beyond
_DETAIL_CHARS = 80

ModeName = Literal["base", "strict", "bfcl"]


# --- parsing -----------------------------------------------------------------


@dataclass(frozen=True)
class ToolCall:
    """One function call read from a completion.

    Attributes:
        name: the function's name, as written.
        arguments: the arguments, decoded from JSON (an empty dict when none).
    """

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ToolCallParse:
    """What ``parse_tool_calls`` found in a completion.

    Attributes:
        calls: the well-formed calls, in the order they appear.
        errors: a short description of each malformed attempt (a
            ``<tool_call>`` block or ``<functioncall>`` that holds no valid
            call, JSON that names a call but does not parse, arguments that are
            not an object), the first eight of them.
        error_count: how many malformed attempts there were in all.
    """

    calls: tuple[ToolCall, ...] = ()
    errors: tuple[str, ...] = ()
    error_count: int = 0

    @property
    def malformed(self) -> bool:
        """True when the completion attempted a call that could not be read."""
        return self.error_count > 0

    @property
    def attempted(self) -> bool:
        """True when the completion made or attempted at least one call."""
        return bool(self.calls) or self.malformed


def parse_tool_calls(completion: str) -> ToolCallParse:
    """Every tool call in the answer part of ``completion`` (see the module docs for the formats).

    Returns the calls in order of appearance and the malformed attempts.
    JSON in the text that does not name a call (``{"answer": 5}``, ``[1, 2]``)
    is neither. Runs in linear time and never raises.
    """
    if not isinstance(completion, str):
        return ToolCallParse()
    return _Parser(answer_text(completion)).run()


class _Malformed(Exception):
    """A call was attempted and cannot be read; the message says why."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
_STRUCTURE = re.compile(r'[\[\]{}"]')
_SINGLE_QUOTED_ARGUMENTS = re.compile(r"\"(?:arguments|parameters)\"[ \t\r\n]*:[ \t\r\n]*'")
_NAME_KEY = re.compile(r"[\"']name[\"']")
_FENCE = re.compile(r"^```[A-Za-z]*[ \t]*\n?|\n?```$")


class _Parser:
    """One pass over the answer text; see ``parse_tool_calls``."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.found: list[tuple[int, list[ToolCall]]] = []
        self.errors: list[str] = []
        self.error_count = 0
        self.read_at: set[int] = set()  # where groups that held calls start

    def run(self) -> ToolCallParse:
        for start, end in self._segments():
            self._scan_json(start, end)
        self.found.sort(key=lambda item: item[0])
        calls = tuple(call for _, group in self.found for call in group)
        return ToolCallParse(calls, tuple(self.errors), self.error_count)

    def _error(self, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < _MAX_ERRORS:
            self.errors.append(message)

    def _segments(self) -> Iterator[tuple[int, int]]:
        """Read the ``<tool_call>`` blocks; yield the stretches of text between them."""
        text, position = self.text, 0
        while True:
            start = text.find(TOOL_CALL_OPEN, position)
            if start == -1:
                yield position, len(text)
                return
            yield position, start
            body_start = start + len(TOOL_CALL_OPEN)
            end = text.find(TOOL_CALL_CLOSE, body_start)
            if end == -1:
                self._error("unclosed <tool_call>")
                return
            self._read_block(start, text[body_start:end])
            position = end + len(TOOL_CALL_CLOSE)

    def _read_block(self, position: int, body: str) -> None:
        body = _FENCE.sub("", body.strip()).strip()
        try:
            calls = _calls_in(_load(body), marked=True)
            if not calls:
                raise _Malformed("no call")
        except _Malformed as error:
            self._error(f"<tool_call>: {error}")
            return
        self.found.append((position, calls))

    def _scan_json(self, start: int, end: int) -> None:
        """Read every outermost bracket group of ``text[start:end]`` that names a call."""
        text = self.text
        markers = []
        marker = text.find(FUNCTION_CALL_MARKER, start, end)
        while marker != -1:
            after = marker + len(FUNCTION_CALL_MARKER)
            while after < end and text[after] in " \t\r\n":
                after += 1
            markers.append(after)
            marker = text.find(FUNCTION_CALL_MARKER, after, end)
        marked = set(markers)
        if text.find("name", start, end) == -1 and not markers:
            return  # no call can be written without its name
        pairs, unclosed = _bracket_pairs(text, start, end)
        starts = [pair[0] for pair in pairs]
        for open_index, close_index in _outermost(pairs, starts, 0, len(pairs), start, end):
            self._read_group(pairs, starts, open_index, close_index, marked, 0)
        for after in markers:
            if after not in self.read_at:
                self._error("<functioncall> is not followed by a call")
        if unclosed and _NAME_KEY.search(text, unclosed[0], min(end, unclosed[0] + 200)):
            self._error("unbalanced brackets")

    def _read_group(
        self,
        pairs: list[tuple[int, int]],
        starts: list[int],
        open_index: int,
        close_index: int,
        marked: set[int],
        depth: int,
    ) -> bool:
        """Read one bracket group; True when it held calls."""
        text = self.text
        is_marked = open_index in marked
        if not is_marked and not _NAME_KEY.search(text, open_index, close_index):
            return False
        group = text[open_index:close_index]
        try:
            value = _load(group)
        except _Malformed as error:
            if depth < _MAX_DESCENT:
                low = bisect.bisect_right(starts, open_index)
                high = bisect.bisect_left(starts, close_index)
                inner = list(_outermost(pairs, starts, low, high, open_index + 1, close_index))
                found = [self._read_group(pairs, starts, o, c, marked, depth + 1) for o, c in inner]
                if any(found):
                    return True
            self._error(str(error))
            return False
        try:
            calls = _calls_in(value, marked=is_marked)
        except _Malformed as error:
            self._error(str(error))
            return False
        if calls:
            self.found.append((open_index, calls))
            self.read_at.add(open_index)
            return True
        if is_marked:
            self._error("<functioncall> is not followed by a call")
        return False


def _bracket_pairs(text: str, start: int, end: int) -> tuple[list[tuple[int, int]], list[int]]:
    """Every balanced ``{...}`` and ``[...]`` of ``text[start:end]`` as ``(open, close + 1)``, sorted.

    Double-quoted strings are skipped inside brackets (their brackets do not
    count); outside brackets a quote is prose. Also returns the openers never
    closed. One pass of string search: linear in the length.
    """
    pairs: list[tuple[int, int]] = []
    stack: list[int] = []
    position = start
    while True:
        match = _STRUCTURE.search(text, position, end)
        if match is None:
            break
        index = match.start()
        char = text[index]
        position = index + 1
        if char == '"':
            if stack:
                close = _string_end(text, index + 1, end)
                if close == -1:
                    break  # an unterminated string takes the rest of the text
                position = close + 1
        elif char in "{[":
            stack.append(index)
        elif stack:
            opener = stack.pop()
            if (text[opener] == "{") == (char == "}"):
                pairs.append((opener, index + 1))
    pairs.sort()
    return pairs, stack


def _string_end(text: str, position: int, end: int) -> int:
    """Index of the quote that closes a JSON string whose content starts at ``position``, or -1."""
    while True:
        quote = text.find('"', position, end)
        if quote == -1:
            return -1
        backslash = quote
        while backslash > position and text[backslash - 1] == "\\":
            backslash -= 1
        if (quote - backslash) % 2 == 0:
            return quote
        position = quote + 1


def _outermost(
    pairs: list[tuple[int, int]], starts: list[int], low: int, high: int, start: int, end: int
) -> Iterator[tuple[int, int]]:
    """The pairs among ``pairs[low:high]`` inside ``[start, end)`` that no other such pair contains."""
    reach = start
    for index in range(low, high):
        open_index, close_index = pairs[index]
        if open_index >= reach and close_index <= end:
            yield open_index, close_index
            reach = close_index


def _load(text: str) -> Any:
    """JSON (NaN and Infinity refused), or JSON with Glaive's single-quoted arguments."""
    try:
        value = _DECODER.decode(text)
    except RecursionError:
        raise _Malformed("JSON nested too deeply") from None
    except ValueError:
        value = _load_single_quoted(text)
    if _depth_exceeds(value, MAX_DEPTH):
        raise _Malformed("JSON nested too deeply")
    return value


def _load_single_quoted(text: str) -> Any:
    """Glaive's ``{"name": "f", "arguments": '{"a": 1}'}``: the quoted arguments become a JSON string."""
    match = _SINGLE_QUOTED_ARGUMENTS.search(text)
    close = text.rfind("'")
    if match is None or close < match.end():
        raise _Malformed("malformed JSON")
    inner = text[match.end() : close]
    key = text[match.start() : match.end() - 1]
    rebuilt = text[: match.start()] + key + json.dumps(inner) + text[close + 1 :]
    try:
        return _DECODER.decode(rebuilt)
    except (ValueError, RecursionError):
        raise _Malformed("malformed JSON") from None


def _depth_exceeds(value: Any, limit: int) -> bool:
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth >= limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _calls_in(value: Any, marked: bool) -> list[ToolCall]:
    """The calls a decoded JSON value holds; [] when it names none. ``marked``: after a call marker."""
    if isinstance(value, list):
        calls = []
        for item in value:
            if isinstance(item, dict) and _is_call_like(item, marked):
                calls.extend(_calls_in(item, marked))
            elif calls or marked:
                raise _Malformed("a list of calls holds something else")
            else:
                return []
        return calls
    if not isinstance(value, dict):
        return []
    if "tool_calls" in value:
        items = value["tool_calls"]
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise _Malformed("tool_calls is not a list of calls")
        return [call for item in items for call in _calls_in(item, marked=True)]
    for wrapper in ("function", "function_call"):
        inner = value.get(wrapper)
        if isinstance(inner, dict) and "name" in inner:
            return [_one_call(inner)]
    if _is_call_like(value, marked):
        return [_one_call(value)]
    return []


def _is_call_like(value: dict[str, Any], marked: bool) -> bool:
    if "tool_calls" in value or any(isinstance(value.get(key), dict) for key in ("function", "function_call")):
        return True
    return "name" in value and (marked or "arguments" in value or "parameters" in value)


def _one_call(value: dict[str, Any]) -> ToolCall:
    name = value.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _Malformed("the call's name is not a non-empty string")
    arguments = value.get("arguments", value.get("parameters", {}))
    if isinstance(arguments, str):
        arguments = _arguments_from_string(arguments)
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        raise _Malformed(f"the arguments of {name[:_DETAIL_CHARS]} are not an object")
    return ToolCall(name.strip(), arguments)


def _arguments_from_string(arguments: str) -> Any:
    if not arguments.strip():
        return {}
    for candidate in (arguments, arguments.replace("\\'", "'")):
        try:
            value = _DECODER.decode(candidate)
        except RecursionError:
            break
        except ValueError:
            continue
        if _depth_exceeds(value, MAX_DEPTH - 1):
            break
        return value
    raise _Malformed("the arguments string is not JSON")


# --- the task ----------------------------------------------------------------

_OMIT = ""  # in a list of accepted values: the parameter (or key) may be left out


def _is_omit(value: Any) -> bool:
    return isinstance(value, str) and value == _OMIT


@dataclass(frozen=True)
class DroppedValue:
    """An accepted value that strict and base mode leave out of an expected call, and why.

    Attributes:
        where: ``function.parameter`` (``function.parameter.key`` inside an object).
        value: the value, shortened for display (``'""'`` for the omission mark).
        reason: one of ``DROP_REASONS``.
    """

    where: str
    value: str
    reason: str


DROP_REASONS = (
    "null",
    "not one of the enum values",
    "the wrong type",
    "a required parameter marked as omissible",
    "a parameter the function does not define",
)
"""Why an accepted value is left out: it breaks the schema (the first three), or the mark or parameter does."""


@dataclass(frozen=True)
class _Keyed:
    """An accepted object written as BFCL writes one: each key maps to its accepted values."""

    keys: Mapping[str, tuple[Any, ...]]
    optional: frozenset[str]  # keys that may be left out


@dataclass(frozen=True)
class _KeyedList:
    """An accepted list of objects, each written as BFCL writes one (``_Keyed``)."""

    items: tuple[_Keyed, ...]


@dataclass(frozen=True)
class _Function:
    name: str
    properties: Mapping[str, Any]  # as JSON Schema (BFCL's type names translated)
    required: frozenset[str]
    written: Mapping[str, Any]  # the properties as the task writes them (what bfcl mode reads)


@dataclass(frozen=True)
class _Expected:
    name: str
    arguments: Mapping[str, tuple[Any, ...]]  # parameter -> accepted values that fit the schema (no omit mark)
    optional: frozenset[str]  # parameters that may be left out


@dataclass(frozen=True)
class _Written:
    """An expected call as the task writes it (what bfcl mode reads): parameter -> accepted values, marks kept."""

    name: str
    arguments: Mapping[str, tuple[Any, ...]]


@dataclass(frozen=True)
class _Reference:
    functions: Mapping[str, _Function]
    expected: tuple[_Expected, ...]  # empty when strict_error is set
    written: tuple[_Written, ...]
    strict_error: str | None  # why strict and base mode cannot score the task
    bfcl_error: str | None  # why bfcl mode cannot score the task
    dropped: tuple[DroppedValue, ...]
    calls: tuple[ToolCall, ...]  # one right call per expected call, as a model writes it


@dataclass(frozen=True)
class TaskReading:
    """What ``ToolCallMatch`` makes of a task's functions and expected calls (``read_task``).

    Attributes:
        error: why strict and base mode cannot score the task (None: they can).
        bfcl_error: why bfcl mode cannot score it (None: it can).
        dropped: the accepted values strict and base mode leave out (values
            that break the schema, an omission mark on a required parameter,
            values for a parameter the function does not define); bfcl mode
            keeps them all, as BFCL does.
        calls: one right call per expected call, as a model should write it:
            a parameter that may be left out is left out, any other takes the
            first accepted value that fits its schema (else the first accepted
            value), and an object written BFCL's way (``{key: [values]}``)
            becomes a plain object (``{key: value}``).
    """

    error: str | None
    bfcl_error: str | None
    dropped: tuple[DroppedValue, ...]
    calls: tuple[ToolCall, ...]


class _BrokenTask(Exception):
    """The task's functions or expected calls are unusable; the message says why."""


_BFCL_TYPES = {"dict": "object", "float": "number", "tuple": "array"}


def standard_schema(schema: Any) -> Any:
    """``schema`` as JSON Schema: BFCL's type names (``dict``, ``float``, ``tuple``, ``any``) translated."""
    return _standard_schema(schema)


def _standard_schema(schema: Any) -> Any:
    """BFCL's dialect (``dict``, ``float``, ``tuple``, ``any``) as JSON Schema; other schemas unchanged."""
    if isinstance(schema, list):
        return [_standard_schema(item) for item in schema]
    if not isinstance(schema, Mapping):
        return schema
    result: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "type" and isinstance(value, str):
            if value != "any":
                result[key] = _BFCL_TYPES.get(value, value)
        elif key == "type" and isinstance(value, list):
            result[key] = [_BFCL_TYPES.get(item, item) if isinstance(item, str) else item for item in value]
        elif key in ("properties", "patternProperties", "$defs", "definitions") and isinstance(value, Mapping):
            result[key] = {name: _standard_schema(item) for name, item in value.items()}
        elif key in ("items", "additionalProperties", "anyOf", "oneOf", "allOf", "not", "prefixItems"):
            result[key] = _standard_schema(value)
        else:
            result[key] = value
    return result


def _read_function(raw: Any) -> _Function:
    if isinstance(raw, Mapping) and raw.get("type") == "function" and isinstance(raw.get("function"), Mapping):
        raw = raw["function"]  # OpenAI's tools list wraps each schema
    if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str) or not raw["name"]:
        raise _BrokenTask("a function has no name")
    name = raw["name"]
    written = raw.get("parameters") or {"type": "object", "properties": {}}
    parameters = _standard_schema(written)
    if not isinstance(parameters, Mapping):
        raise _BrokenTask(f"the parameters of {name} are not a schema")
    try:
        validator_for(parameters, default=Draft202012Validator).check_schema(parameters)
    except SchemaError as error:
        raise _BrokenTask(f"the parameters of {name} are not valid JSON Schema: {error.message}") from None
    if parameters.get("type", "object") != "object":
        raise _BrokenTask(f"the parameters of {name} are not an object schema")
    properties = parameters.get("properties", {})
    required = parameters.get("required", [])
    unknown = [param for param in required if param not in properties]
    if unknown:
        raise _BrokenTask(f"{name} requires {unknown[0]!r}, which it does not define")
    return _Function(name, properties, frozenset(required), written.get("properties", {}))


def _allows(schema: Any, kind: str) -> bool:
    """Whether ``schema`` lets a value be of JSON type ``kind`` (a schema without a type allows any)."""
    if not isinstance(schema, Mapping) or "type" not in schema:
        return True
    types = schema["type"]
    return kind == types if isinstance(types, str) else isinstance(types, list) and kind in types


def _is_keyed_shape(value: Any) -> bool:
    """An object written BFCL's way: every value is a list of accepted values."""
    return isinstance(value, dict) and all(isinstance(item, list) for item in value.values())


def _drop_reason(value: Any, problem: str) -> str:
    if value is None:
        return "null"
    return "not one of the enum values" if _NOT_IN_ENUM in problem else "the wrong type"


def _read_alternatives(
    values: Sequence[Any], schema: Any, where: str, required: bool, dropped: list[DroppedValue]
) -> tuple[tuple[Any, ...], bool]:
    """The accepted values that fit ``schema``, and whether the parameter (or key) may be left out.

    Each value left out is added to ``dropped``; an omission mark on a
    required parameter is left out too (the parameter is required).
    """
    accepted, omissible = [], False
    for value in values:
        if _is_omit(value):
            if required:
                dropped.append(DroppedValue(where, '""', "a required parameter marked as omissible"))
            else:
                omissible = True
            continue
        read, problem = _read_alternative(value, schema, where, dropped)
        if problem is None:
            accepted.append(read)
        else:
            dropped.append(DroppedValue(where, _short(value), _drop_reason(value, problem)))
    return tuple(accepted), omissible


def _read_alternative(value: Any, schema: Any, where: str, dropped: list[DroppedValue]) -> tuple[Any, str | None]:
    """One accepted value as the verifier compares it, or why it does not fit ``schema``."""
    if _is_keyed_shape(value) and _allows(schema, "object"):
        return _read_keyed(value, schema, where, dropped)
    items = schema.get("items") if isinstance(schema, Mapping) else None
    if (
        isinstance(value, list)
        and value
        and all(_is_keyed_shape(item) for item in value)
        and _allows(schema, "array")
        and _allows(items, "object")
    ):
        read = []
        for index, item in enumerate(value):
            keyed, problem = _read_keyed(item, items, f"{where}[{index}]", dropped)
            if problem is not None:
                return None, f"[{index}]: {problem}"
            read.append(keyed)
        return _KeyedList(tuple(read)), None
    problem = _type_problem(value, schema)
    if problem is not None and _NOT_IN_ENUM in problem:
        spelled = _enum_spelling(value, schema)
        if spelled is not None and _type_problem(spelled, schema) is None:
            return spelled, None  # "horror" for the enum's "Horror": the value BFCL's folding makes it
    return (None, problem) if problem else (value, None)


def _enum_spelling(value: Any, schema: Any) -> Any:
    """``value`` with each string outside its enum spelled as the one enum value it folds to, or None."""
    if not isinstance(schema, Mapping):
        return value
    enum = schema.get("enum")
    if isinstance(value, list):
        items = {"enum": enum} if _enum_of_items(value, schema) else schema.get("items")
        spelled = [_enum_spelling(item, items) for item in value]
        return None if any(item is None for item in spelled) else spelled
    if not isinstance(value, str) or not isinstance(enum, list) or value in enum:
        return value
    same = [option for option in enum if isinstance(option, str) and _fold(option) == _fold(value)]
    return same[0] if len(same) == 1 else None


def _enum_of_items(value: Any, schema: Mapping[str, Any]) -> bool:
    """An enum of non-arrays on an array schema: no array obeys it, so it is read as the items' enum (BFCL's data)."""
    enum = schema.get("enum")
    return (
        isinstance(value, list)
        and isinstance(enum, list)
        and _allows(schema, "array")
        and not any(isinstance(option, list) for option in enum)
    )


def _read_keyed(
    value: dict[str, list[Any]], schema: Any, where: str, dropped: list[DroppedValue]
) -> tuple[Any, str | None]:
    """``{key: [accepted values]}`` (BFCL's way of writing an accepted object) checked against ``schema``."""
    schema = schema if isinstance(schema, Mapping) else {}
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    closed = schema.get("additionalProperties") is False
    keys: dict[str, tuple[Any, ...]] = {}
    optional = set()
    for key, values in value.items():
        if key not in properties and closed:
            if not any(_is_omit(item) for item in values):
                return None, f"unknown key {key!r}"
            keys[key] = ()  # it must be left out
            optional.add(key)
            continue
        accepted, omissible = _read_alternatives(
            values, properties.get(key, {}), f"{where}.{key}", key in required, dropped
        )
        if not accepted and not omissible:
            return None, f"{key}: no accepted value fits its schema"
        keys[key] = accepted
        if omissible:
            optional.add(key)
    missing = required - keys.keys()
    if missing:
        return None, f"missing {sorted(missing)[0]!r}"
    return _Keyed(keys, frozenset(optional)), None


def _expected_parts(raw: Any, functions: Mapping[str, _Function]) -> tuple[str, Mapping[str, Any]]:
    if isinstance(raw, Mapping) and "name" not in raw and len(raw) == 1:
        ((name, arguments),) = raw.items()  # BFCL's {"function": {"param": [...]}}
    elif isinstance(raw, Mapping):
        name, arguments = raw.get("name"), raw.get("arguments", {})
    else:
        raise _BrokenTask("an expected call is not a mapping")
    if not isinstance(name, str) or name not in functions:
        raise _BrokenTask(f"expected call {str(name)[:_DETAIL_CHARS]!r} names no function of the task")
    if not isinstance(arguments, Mapping):
        raise _BrokenTask(f"the expected arguments of {name} are not a mapping")
    return name, arguments


def _read_written(raw: Any, functions: Mapping[str, _Function]) -> _Written:
    name, arguments = _expected_parts(raw, functions)
    listed = {param: tuple(values) if isinstance(values, list) else (values,) for param, values in arguments.items()}
    return _Written(name, listed)


def _read_expected(written: _Written, function: _Function, dropped: list[DroppedValue]) -> _Expected:
    """An expected call as strict and base mode judge it: values that do not fit their schema left out."""
    name = written.name
    accepted: dict[str, tuple[Any, ...]] = {}
    optional = set()
    for param, values in written.arguments.items():
        where = f"{name}.{param}"
        if param not in function.properties:
            if not any(_is_omit(value) for value in values):
                raise _BrokenTask(f"expected call {name} sets {param!r}, which the function does not define")
            for value in values:  # it must be left out: a call that sets it sets an unknown parameter
                if not _is_omit(value):
                    dropped.append(DroppedValue(where, _short(value), "a parameter the function does not define"))
            continue
        before = len(dropped)
        values_read, omissible = _read_alternatives(
            values, function.properties[param], where, param in function.required, dropped
        )
        if not values_read and not omissible:
            if not values:
                raise _BrokenTask(f"no value is accepted for {where}")
            why = dropped[before].reason if len(dropped) > before else "no value"
            raise _BrokenTask(f"no accepted value of {where} fits its schema ({why})")
        accepted[param] = values_read
        if omissible:
            optional.add(param)
    missing = function.required - set(accepted)
    if missing:
        raise _BrokenTask(f"expected call {name} leaves out required {sorted(missing)[0]!r}")
    return _Expected(name, accepted, frozenset(optional))


def _model_value(accepted: Any) -> Any:
    """The value a model writes for an accepted value read by ``_read_alternative``."""
    if isinstance(accepted, _Keyed):
        return {
            key: _model_value(values[0])
            for key, values in accepted.keys.items()
            if values and key not in accepted.optional
        }
    if isinstance(accepted, _KeyedList):
        return [_model_value(item) for item in accepted.items]
    return accepted


def _written_model_value(value: Any) -> Any:
    """The value a model writes for an accepted value as the task writes it (BFCL's objects unwrapped)."""
    if _is_keyed_shape(value):
        chosen = {}
        for key, values in value.items():
            candidates = [item for item in values if not _is_omit(item)]
            if candidates and len(candidates) == len(values):
                chosen[key] = candidates[0]
        return chosen
    if isinstance(value, list) and value and all(_is_keyed_shape(item) for item in value):
        return [_written_model_value(item) for item in value]
    return value


def _reference_call(written: _Written, function: _Function) -> ToolCall:
    """A right call for ``written``, as a model writes it (see ``TaskReading.calls``)."""
    arguments = {}
    for param, values in written.arguments.items():
        if param not in function.properties:
            continue
        required = param in function.required
        accepted, omissible = _read_alternatives(values, function.properties[param], "", required, [])
        if omissible:
            continue
        if accepted:
            arguments[param] = _model_value(accepted[0])
            continue
        candidates = [value for value in values if not _is_omit(value)]
        if candidates:
            arguments[param] = _written_model_value(candidates[0])
        elif values and _python_type(function.written.get(param)) in (str, list):
            arguments[param] = "" if _python_type(function.written.get(param)) is str else []  # BFCL takes these
    return ToolCall(written.name, arguments)


@lru_cache(maxsize=1024)
def _functions_from_json(key: str) -> dict[str, _Function] | str:
    """The checked functions (or why they are broken), cached by their JSON text: a tool set is checked once."""
    raw_functions = json.loads(key)
    try:
        if not isinstance(raw_functions, list):
            raise _BrokenTask("functions must be a list")
        functions: dict[str, _Function] = {}
        for raw in raw_functions:
            function = _read_function(raw)
            if function.name in functions:
                raise _BrokenTask(f"two functions are named {function.name}")
            functions[function.name] = function
    except _BrokenTask as error:
        return str(error)[:300]
    except RecursionError:
        return "the task's schemas are nested too deeply"
    return functions


@lru_cache(maxsize=4096)
def _reference_from_json(functions_key: str, expected_key: str) -> _Reference | str:
    """The checked task (or why no mode can score it), cached by its JSON text."""
    functions = _functions_from_json(functions_key)
    if isinstance(functions, str):
        return functions
    raw_expected = json.loads(expected_key)
    try:
        if not isinstance(raw_expected, list):
            raise _BrokenTask("expected_calls must be a list")
        written = tuple(_read_written(raw, functions) for raw in raw_expected)
        calls = tuple(_reference_call(call, functions[call.name]) for call in written)
    except _BrokenTask as error:
        return str(error)[:300]
    except RecursionError:
        return "the task's expected values are nested too deeply"
    dropped: list[DroppedValue] = []
    strict_error = None
    expected: tuple[_Expected, ...] = ()
    try:
        expected = tuple(_read_expected(call, functions[call.name], dropped) for call in written)
    except _BrokenTask as error:
        strict_error = str(error)[:300]
    except RecursionError:
        strict_error = "the task's expected values are nested too deeply"
    bfcl_error = None
    try:
        for want, call in zip(written, calls, strict=True):
            problem = _bfcl_call_problem(want, call, functions[want.name])
            if problem is not None:
                bfcl_error = f"BFCL's rules accept no call for {want.name}: {problem}"[:300]
                break
    except RecursionError:
        bfcl_error = "the task's expected values are nested too deeply"
    return _Reference(functions, expected, written, strict_error, bfcl_error, tuple(dropped), calls)


def _reference(task: Any, functions_field: str, expected_field: str) -> _Reference | str:
    functions = getattr(task, functions_field, None)
    expected = getattr(task, expected_field, None)
    if functions is None or expected is None:
        return f"the task has no {functions_field if functions is None else expected_field}"
    try:
        functions_key = json.dumps(functions, sort_keys=True, allow_nan=False)
        expected_key = json.dumps(expected, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return "the task's functions or expected calls are not JSON data"
    return _reference_from_json(functions_key, expected_key)


def read_task(
    functions: Sequence[Mapping[str, Any]] | Any, expected_calls: Sequence[Mapping[str, Any]] | Any
) -> TaskReading:
    """How ``ToolCallMatch`` reads a task (see ``TaskReading``); never raises on what the task holds."""
    holder = _Holder(functions, expected_calls)
    reference = _reference(holder, "functions", "expected_calls")
    if isinstance(reference, str):
        return TaskReading(reference, reference, (), ())
    return TaskReading(reference.strict_error, reference.bfcl_error, reference.dropped, reference.calls)


@dataclass(frozen=True)
class _Holder:
    functions: Any
    expected_calls: Any


# --- checking values ---------------------------------------------------------

_JSON_TYPES: dict[str, Any] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and math.isfinite(v) and v.is_integer())
    ),
    "number": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and math.isfinite(v)),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}
_NOT_IN_ENUM = "is not one of the allowed values"


def _json_type(value: Any) -> str:
    for name in ("boolean", "integer", "number", "string", "array", "object", "null"):
        if _JSON_TYPES[name](value):
            return name
    return type(value).__name__


def _short(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False) if not isinstance(value, float) else repr(value)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _type_problem(value: Any, schema: Any) -> str | None:
    """Why ``value`` breaks ``schema`` (type, enum, required, properties, items), or None.

    Other JSON Schema keywords (minimum, pattern, format, ...) are not checked.
    An enum of non-arrays on an array schema applies to its items.
    """
    if not isinstance(schema, Mapping):
        return None
    enum = schema.get("enum")
    if isinstance(enum, list) and _enum_of_items(value, schema):
        for index, item in enumerate(value):
            if not any(_same_json(item, option) for option in enum):
                return f"[{index}]: {_short(item)} {_NOT_IN_ENUM}"
    elif isinstance(enum, list) and not any(_same_json(value, option) for option in enum):
        return f"{_short(value)} {_NOT_IN_ENUM}"
    types = schema.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else list(types)
        if not any(name in _JSON_TYPES and _JSON_TYPES[name](value) for name in names):
            return f"expected {'/'.join(map(str, names))}, got {_json_type(value)}"
    if isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        for index, item in enumerate(value):
            problem = _type_problem(item, schema["items"])
            if problem:
                return f"[{index}]: {problem}"
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                return f"missing {key!r}"
        for key, item in value.items():
            if key in properties:
                problem = _type_problem(item, properties[key])
                if problem:
                    return f"{key}: {problem}"
            elif schema.get("additionalProperties") is False:
                return f"unknown key {key!r}"
    return None


def _same_json(a: Any, b: Any) -> bool:
    """Equal as JSON values: 1 == 1.0, but True != 1 and "1" != 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_json(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_json(a[k], b[k]) for k in a)
    return type(a) is type(b) and bool(a == b)


_FOLDED_AWAY = str.maketrans("", "", " ,./-_*^")


def _fold(text: str) -> str:
    """BFCL's string folding: spaces and ``,./-_*^`` removed, lower case, ``'`` as ``"``.

    ``"San Francisco, CA"`` folds to ``"sanfranciscoca"``; ``#``, ``@``, ``%``,
    ``!``, tabs and newlines are kept, so ``"C#"`` is not ``"C"``.
    """
    return text.translate(_FOLDED_AWAY).lower().replace("'", '"')


def _numbers_close(a: int | float, b: int | float, rel_tol: float) -> bool:
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    try:
        return math.isclose(a, b, rel_tol=rel_tol, abs_tol=1e-9)
    except OverflowError:
        return False


def _matches(value: Any, accepted: Any, rel_tol: float) -> bool:
    """``value`` (the model's) equals ``accepted`` (the reference's) up to the documented normalisation."""
    if isinstance(accepted, _Keyed):
        if not isinstance(value, dict) or any(key not in accepted.keys for key in value):
            return False
        if any(key not in value and key not in accepted.optional for key in accepted.keys):
            return False
        return all(any(_matches(value[key], option, rel_tol) for option in accepted.keys[key]) for key in value)
    if isinstance(accepted, _KeyedList):
        if not isinstance(value, list) or len(value) != len(accepted.items):
            return False
        return all(_matches(v, a, rel_tol) for v, a in zip(value, accepted.items, strict=True))
    if isinstance(value, bool) or isinstance(accepted, bool):
        return isinstance(value, bool) and isinstance(accepted, bool) and value == accepted
    if isinstance(value, int | float) and isinstance(accepted, int | float):
        return _numbers_close(value, accepted, rel_tol)
    if isinstance(value, str) and isinstance(accepted, str):
        return value == accepted or _fold(value) == _fold(accepted)
    if isinstance(value, list) and isinstance(accepted, list | tuple):
        if len(value) != len(accepted):
            return False
        return all(_matches(v, a, rel_tol) for v, a in zip(value, accepted, strict=True))
    if isinstance(value, dict) and isinstance(accepted, Mapping):
        return value.keys() == accepted.keys() and all(_matches(value[k], accepted[k], rel_tol) for k in value)
    return value is None and accepted is None


# --- BFCL's rules (bfcl mode) ------------------------------------------------

_PYTHON_TYPES: dict[str, type] = {
    "string": str,
    "any": str,
    "integer": int,
    "float": float,
    "number": float,
    "boolean": bool,
    "array": list,
    "tuple": list,
    "dict": dict,
    "object": dict,
}


def _python_type(schema: Any) -> type | None:
    """The Python type BFCL expects for a property (JSON Schema's names read too); None when it names none."""
    kind = schema.get("type") if isinstance(schema, Mapping) else None
    return _PYTHON_TYPES.get(kind) if isinstance(kind, str) else None


def _first_type(values: Sequence[Any]) -> type | None:
    """The type of the first accepted value that is not the omission mark: BFCL's type for a "variable"."""
    return next((type(value) for value in values if not _is_omit(value)), None)


def _folded_items(values: Any) -> list[Any] | None:
    """A list with its strings folded (a string is read as its characters, as BFCL indexes it); None otherwise."""
    if isinstance(values, str | list):
        return [_fold(item) if isinstance(item, str) else item for item in values]
    return None


def _bfcl_keyed_fits(value: Any, accepted: Any) -> bool:
    """BFCL's check of an object against one ``{key: [accepted values]}``, one level deep."""
    if not isinstance(value, dict) or not isinstance(accepted, dict):
        return False
    for key, item in value.items():
        options = _folded_items(accepted.get(key)) if key in accepted else None
        if options is None:
            return False
        folded = _fold(item) if isinstance(item, str) else item
        if not any(folded == option for option in options):
            return False
    return all(
        key in value or (isinstance(values, str | list | dict) and _OMIT in values) for key, values in accepted.items()
    )


def _bfcl_value_problem(value: Any, schema: Any, accepted: Sequence[Any]) -> str | None:
    """Why BFCL's checker rejects ``value`` for a property with ``schema`` and ``accepted`` values, or None.

    The type must be the property's (an int is taken for a float, nothing
    else converts: 5.0 is no integer, True no number) or the type of the first
    accepted value (a "variable"); array items are checked one level deep, the
    same way. Then a variable, or a number or boolean, must equal an accepted
    value (Python's ``==``); a string, folded (``_fold``), a folded accepted
    string; a list, element by element with its strings folded, an accepted
    list; an object, key by key, an accepted ``{key: [values]}`` (keys whose
    values hold ``""`` may be left out); a list of objects, an accepted list of
    such objects, element by element.
    """
    want = _python_type(schema)
    if want is float and type(value) is int:
        value = float(value)
    first = _first_type(accepted)
    if want is None:
        return None if any(value == option for option in accepted) else f"{_short(value)} is not an accepted value"
    inner = _python_type(schema.get("items")) if want is list else None
    if type(value) is want:
        if inner is not None and not any(
            not isinstance(option, list)
            or all(type(item) is inner or type(item) is _first_type(option) for item in cast(list[Any], value))
            for option in accepted
        ):
            return f"an item of {_short(value)} is not of type {inner.__name__}"
    elif first is None or type(value) is not first:
        return f"expected {want.__name__}, got {type(value).__name__}"
    if first is not None and first is not want:  # a "variable": compared as written
        return None if any(value == option for option in accepted) else f"{_short(value)} is not an accepted value"
    value = cast(Any, value)  # of type ``want`` from here on
    if want is dict:
        fits = any(_bfcl_keyed_fits(value, option) for option in accepted if not _is_omit(option))
    elif want is list and inner is dict:
        fits = any(
            isinstance(option, str | list)
            and len(option) == len(value)
            and all(_bfcl_keyed_fits(item, part) for item, part in zip(value, option, strict=True))
            for option in accepted
        )
    elif want is str:
        fits = _fold(value) in {_fold(option) for option in accepted if isinstance(option, str)}
    elif want is list:
        folded = _folded_items(value)
        fits = any(folded == _folded_items(option) for option in accepted)
    else:
        fits = any(value == option for option in accepted)
    return None if fits else f"{_short(value)} is not an accepted value"


def _bfcl_call_problem(expected: _Written, call: ToolCall, function: _Function) -> str | None:
    """Why BFCL's checker rejects ``call`` as ``expected``, or None when it accepts it."""
    if call.name != expected.name:
        return f"called {call.name[:_DETAIL_CHARS]}, expected {expected.name}"
    arguments = call.arguments
    for param in sorted(function.required):
        if param not in arguments:
            return f"{call.name}.{param}: missing (required)"
    for param, value in arguments.items():
        if param not in function.written or param not in expected.arguments:
            return f"{call.name}.{param[:_DETAIL_CHARS]}: not expected"
        problem = _bfcl_value_problem(value, function.written[param], expected.arguments[param])
        if problem is not None:
            return f"{call.name}.{param}: {problem}"
    for param, values in expected.arguments.items():
        if param not in arguments and not any(_is_omit(value) for value in values):
            return f"{call.name}.{param}: missing"
    return None


# --- the verifier ------------------------------------------------------------


@dataclass(frozen=True)
class _Verdict:
    credit: float  # in [0, 1]; 1.0 exactly when the call is fully right
    problems: tuple[str, ...]


@dataclass(frozen=True)
class ToolCallMatch:
    """Score a completion's tool calls against ``task.expected_calls``.

    The task provides ``functions``, a list of OpenAI-style function schemas
    (``{"name", "description", "parameters": {"type": "object",
    "properties": {...}, "required": [...]}}``; OpenAI's ``{"type":
    "function", "function": {...}}`` wrapping and BFCL's type names ``dict``,
    ``float``, ``tuple`` and ``any`` are read too), and ``expected_calls``,
    BFCL-style: ``[{"name": f, "arguments": {param: [accepted values]}}]``. A
    ``""`` among the accepted values means the parameter may be left out; a
    value that is not a list is the one accepted value; BFCL's
    ``{f: {param: [...]}}`` is read too. An accepted value of an object
    parameter written as BFCL writes one, ``{key: [accepted values]}`` (every
    value a list; ``""`` among them: the key may be left out), accepts the
    objects whose keys take those values, one level deep; a list of such
    objects accepts lists of such objects. An empty ``expected_calls`` means
    the right answer is no call (no function applies, or information is
    missing).

    Args:
        mode: ``"base"``: the right functions by name (as many calls as
            expected, names matched as a multiset), or rightly none.
            ``"strict"``: the arguments too. Each call is matched to one
            expected call, in any order, and is fully right when: the name is
            the expected one; every parameter it sets is defined by the schema
            (else "unknown parameter") and named in the expected call (else
            "not expected", as BFCL); each value has the schema's type (an int
            is a number; 5.0 is an integer, as in JSON Schema; a bool is never
            a number), obeys its ``enum`` exactly (no normalisation), and
            equals one of the accepted values; every expected parameter not
            marked omissible is present. Value equality: numbers within
            ``rel_tol`` (ints with ints exactly); strings after BFCL's
            folding (spaces and ``,./-_*^`` removed, lower case, ``'`` read as
            ``"``), so ``"San Francisco, CA"`` equals ``"san francisco ca"``
            and ``"NewYork"`` equals ``"New York"``, but ``"C#"`` is not
            ``"C"`` nor ``"50%"`` ``"50"``; lists element by element in
            order; objects key by key. Accepted values that break their
            schema are left out (``read_task`` lists them), as is a ``""``
            on a required parameter. ``"bfcl"``: BFCL's own AST checker (see
            the module docs), all or nothing.
        partial_credit: False: 1.0 when every expected call is matched by a
            fully right call and there are no other calls, else 0.0. True: a
            call earns the fraction of its checks passed (the name, one check
            per expected parameter, and one failed check per parameter it sets
            that is not expected), 0 when the name is wrong (in base mode the
            name is the only check); calls and expected calls are paired one
            to one to earn the most (exactly up to six parallel calls,
            greedily beyond), and the score is the sum divided by the larger
            of the number of expected and made calls, so extra calls cost.
            Status ``partial`` between 0 and 1. Not with ``"bfcl"``.
        rel_tol: relative tolerance for numbers (absolute 1e-9 near zero);
            bfcl mode compares numbers exactly, as BFCL.
        functions_field, expected_field: the task attributes read.

    Calls are read by ``parse_tool_calls`` (only outside ``<think>`` blocks).

    Statuses: ``ok``; ``partial``; ``wrong`` (a wrong function or argument, a
    call when none applies, no call when one was expected, too many calls);
    ``format_error`` (0: an attempted call that cannot be read, even beside
    well-formed ones; in bfcl mode, when no call is expected, such a
    completion is right, as a reply BFCL cannot decode is no call);
    ``data_error`` (value None: the task is broken, e.g. an expected call
    names a function the task does not define, a schema is not valid JSON
    Schema, no accepted value of a parameter fits its schema, or, in bfcl
    mode, BFCL's rules accept no call). Details name the expected and the made
    calls and, except in base mode, what was wrong.
    """

    mode: ModeName = "strict"
    partial_credit: bool = False
    rel_tol: float = 1e-6
    functions_field: str = "functions"
    expected_field: str = "expected_calls"

    def __post_init__(self) -> None:
        if self.mode not in ("base", "strict", "bfcl"):
            raise ValueError(f"mode must be 'base', 'strict' or 'bfcl', got {self.mode!r}")
        if self.mode == "bfcl" and self.partial_credit:
            raise ValueError("bfcl mode scores as BFCL does, all or nothing: partial_credit must be False")
        if not 0 <= self.rel_tol < 1:
            raise ValueError(f"rel_tol must be in [0, 1), got {self.rel_tol}")

    def __call__(self, completion: str, task: Any) -> Score:
        """Judge the calls in ``completion`` against the task's expected calls."""
        reference = _reference(task, self.functions_field, self.expected_field)
        if isinstance(reference, str):
            return Score.no_judgement(Status.DATA_ERROR, reason=reference)
        error = reference.bfcl_error if self.mode == "bfcl" else reference.strict_error
        if error is not None:
            return Score.no_judgement(Status.DATA_ERROR, reason=error)
        parsed = parse_tool_calls(completion)
        written = reference.written
        details: dict[str, Any] = {
            "expected": [call.name for call in written][:8],
            "called": [call.name[:_DETAIL_CHARS] for call in parsed.calls[:8]],
        }
        if parsed.malformed:
            if self.mode == "bfcl" and not written:
                return Score.correct(**details, note=f"no call read: {parsed.errors[0]}")
            return Score.fail(Status.FORMAT_ERROR, reason=f"malformed call: {parsed.errors[0]}", **details)
        calls = parsed.calls
        if not written:
            if calls:
                return Score.fail(Status.WRONG, reason="a call where none applies", **details)
            return Score.correct(**details)
        if not calls:
            return Score.fail(Status.WRONG, reason="no call", **details)
        if len(calls) > MAX_CALLS:
            return Score.fail(Status.WRONG, reason=f"{len(calls)} calls", **details)
        too_many = len(calls) > len(written) and not self.partial_credit
        if too_many or (self.mode == "bfcl" and len(calls) != len(written)):
            return Score.fail(Status.WRONG, reason=f"{len(calls)} calls, {len(written)} expected", **details)
        if self.mode == "bfcl":
            return self._judge_bfcl(calls, reference, details)
        expected = reference.expected
        table = [[self._judge(want, call, reference) for call in calls] for want in expected]
        full = [[verdict.credit >= 1.0 for verdict in row] for row in table]
        if not self.partial_credit and len(calls) == len(expected) and _perfect_matching(full) is not None:
            return Score.correct(**details)
        pairs = _best_pairs([[verdict.credit for verdict in row] for row in table])
        total = sum(table[i][j].credit for i, j in pairs)
        problems = [p for i, j in pairs for p in table[i][j].problems]
        missing = len(expected) - len(pairs)
        if missing:
            matched = {i for i, _ in pairs}
            problems += [f"{expected[i].name}: no call left for it" for i in range(len(expected)) if i not in matched]
        if len(calls) > len(expected):
            problems.append(f"{len(calls)} calls, {len(expected)} expected")
        if problems:
            details["problems"] = [problem[:160] for problem in problems[:4]]
        if self.partial_credit:
            value = total / max(len(expected), len(calls))
        else:
            value = 1.0 if len(calls) == len(expected) and not problems else 0.0
        if value >= 1.0:
            return Score.correct(**details)
        if value <= 0.0:
            return Score.fail(Status.WRONG, **details)
        return Score(value, Status.PARTIAL, details)

    def _judge(self, expected: _Expected, call: ToolCall, reference: _Reference) -> _Verdict:
        """How right ``call`` is as the answer to ``expected``."""
        if call.name != expected.name:
            if call.name not in reference.functions:
                return _Verdict(0.0, (f"{call.name[:_DETAIL_CHARS]}: no such function",))
            return _Verdict(0.0, (f"called {call.name}, expected {expected.name}",))
        if self.mode == "base":
            return _Verdict(1.0, ())
        properties = reference.functions[call.name].properties
        checks, passed, problems = 1 + len(expected.arguments), 1, []
        for param, accepted in expected.arguments.items():
            if param not in call.arguments:
                if param in expected.optional:
                    passed += 1
                else:
                    problems.append(f"{call.name}.{param}: missing")
                continue
            value = call.arguments[param]
            problem = _type_problem(value, properties[param])
            if problem is None and not any(_matches(value, option, self.rel_tol) for option in accepted):
                problem = f"{_short(value)} is not an accepted value"
            if problem is None:
                passed += 1
            else:
                problems.append(f"{call.name}.{param}: {problem}")
        for param in call.arguments:
            if param not in expected.arguments:
                checks += 1
                what = "not expected" if param in properties else "unknown parameter"
                problems.append(f"{call.name}.{param[:_DETAIL_CHARS]}: {what}")
        return _Verdict(passed / checks if problems else 1.0, tuple(problems))

    @staticmethod
    def _judge_bfcl(calls: Sequence[ToolCall], reference: _Reference, details: dict[str, Any]) -> Score:
        """BFCL's verdict on as many calls as expected: each expected call met by a distinct call."""
        functions = reference.functions
        table = [[_bfcl_call_problem(want, call, functions[want.name]) for call in calls] for want in reference.written]
        if _perfect_matching([[problem is None for problem in row] for row in table]) is not None:
            return Score.correct(**details)
        problems = []
        for want, row in zip(reference.written, table, strict=True):
            if all(problem is not None for problem in row):
                same_name = [p for p, call in zip(row, calls, strict=True) if call.name == want.name]
                problems.append(str((same_name or row)[0]))
        if not problems:
            problems.append("no call for each expected call: two expected calls are met only by the same call")
        details["problems"] = [problem[:160] for problem in problems[:4]]
        return Score.fail(Status.WRONG, **details)


def _perfect_matching(fits: Sequence[Sequence[bool]]) -> list[int] | None:
    """For each row a distinct column where it fits (augmenting paths), or None when there is no such matching."""
    columns = len(fits[0]) if fits else 0
    owner = [-1] * columns

    def augment(row: int, seen: list[bool]) -> bool:
        for column in range(columns):
            if fits[row][column] and not seen[column]:
                seen[column] = True
                if owner[column] == -1 or augment(owner[column], seen):
                    owner[column] = row
                    return True
        return False

    for row in range(len(fits)):
        if not augment(row, [False] * columns):
            return None
    chosen = [-1] * len(fits)
    for column, row in enumerate(owner):
        if row != -1:
            chosen[row] = column
    return chosen


def _best_pairs(credit: Sequence[Sequence[float]]) -> list[tuple[int, int]]:
    """One-to-one pairs (expected i, call j): as many as possible, with the largest total credit."""
    rows = len(credit)
    columns = len(credit[0]) if rows else 0
    if min(rows, columns) > _EXACT_MATCH_LIMIT:
        chosen = []
        used_rows: set[int] = set()
        used_columns: set[int] = set()
        order = sorted(((credit[i][j], -i, -j) for i in range(rows) for j in range(columns)), reverse=True)
        for _, i, j in order:
            if -i not in used_rows and -j not in used_columns:
                chosen.append((-i, -j))
                used_rows.add(-i)
                used_columns.add(-j)
        return sorted(chosen)
    if rows <= columns:
        return sorted(_exact_pairs(credit, rows, columns))
    transposed = [[credit[i][j] for i in range(rows)] for j in range(columns)]
    return sorted((i, j) for j, i in _exact_pairs(transposed, columns, rows))


def _exact_pairs(credit: Sequence[Sequence[float]], rows: int, columns: int) -> list[tuple[int, int]]:
    """Each of ``rows`` (at most ``columns``, few) paired with a distinct column, the total credit the largest."""
    full = (1 << rows) - 1

    @cache
    def best(column: int, used: int) -> tuple[float, tuple[tuple[int, int], ...]]:
        if used == full:
            return 0.0, ()
        if columns - column < rows - used.bit_count():
            return -math.inf, ()  # too few columns left to pair every row
        result = best(column + 1, used)
        for row in range(rows):
            if not used & (1 << row):
                gain, rest = best(column + 1, used | (1 << row))
                if gain + credit[row][column] > result[0]:
                    result = (gain + credit[row][column], ((row, column), *rest))
        return result

    return list(best(0, 0)[1])
