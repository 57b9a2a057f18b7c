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
to the list of values accepted) and scores in ``base`` mode (the right
functions by name, or rightly none, as in Fireworks' function-calling
experiment) or ``strict`` mode (the arguments too, as BFCL's AST checker).

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
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any, Literal

from jsonschema.exceptions import SchemaError
from jsonschema.validators import Draft202012Validator, validator_for

from rlvr.verifiers.reasoning import answer_text
from rlvr.verifiers.score import Score, Status

__all__ = ["ToolCall", "ToolCallMatch", "ToolCallParse", "parse_tool_calls"]

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

ModeName = Literal["base", "strict"]


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

_OMIT = ""  # in a list of accepted values: the parameter may be left out


@dataclass(frozen=True)
class _Function:
    name: str
    properties: Mapping[str, Any]
    required: frozenset[str]


@dataclass(frozen=True)
class _Expected:
    name: str
    arguments: Mapping[str, tuple[Any, ...]]  # parameter -> accepted values (without the omit mark)
    optional: frozenset[str]  # parameters that may be left out


@dataclass(frozen=True)
class _Reference:
    functions: Mapping[str, _Function]
    expected: tuple[_Expected, ...]


class _BrokenTask(Exception):
    """The task's functions or expected calls are unusable; the message says why."""


_BFCL_TYPES = {"dict": "object", "float": "number", "tuple": "array"}


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
    parameters = _standard_schema(raw.get("parameters") or {"type": "object", "properties": {}})
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
    return _Function(name, properties, frozenset(required))


def _read_expected(raw: Any, functions: Mapping[str, _Function]) -> _Expected:
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
    function = functions[name]
    accepted: dict[str, tuple[Any, ...]] = {}
    optional = set()
    for param, values in arguments.items():
        if param not in function.properties:
            raise _BrokenTask(f"expected call {name} sets {param!r}, which the function does not define")
        values = list(values) if isinstance(values, list | tuple) else [values]
        if _OMIT in values:
            if param in function.required:
                raise _BrokenTask(f"{name}.{param} is required but may be omitted in the expected call")
            optional.add(param)
        values = [value for value in values if not (isinstance(value, str) and value == _OMIT)]
        if not values and param not in optional:
            raise _BrokenTask(f"no value is accepted for {name}.{param}")
        for value in values:
            problem = _type_problem(value, function.properties[param])
            if problem:
                raise _BrokenTask(f"expected value of {name}.{param} does not fit its schema: {problem}")
        accepted[param] = tuple(values)
    missing = function.required - set(accepted)
    if missing:
        raise _BrokenTask(f"expected call {name} leaves out required {sorted(missing)[0]!r}")
    return _Expected(name, accepted, frozenset(optional))


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
    """The checked task (or why it is broken), cached by its JSON text."""
    functions = _functions_from_json(functions_key)
    if isinstance(functions, str):
        return functions
    raw_expected = json.loads(expected_key)
    try:
        if not isinstance(raw_expected, list):
            raise _BrokenTask("expected_calls must be a list")
        expected = tuple(_read_expected(raw, functions) for raw in raw_expected)
    except _BrokenTask as error:
        return str(error)[:300]
    except RecursionError:
        return "the task's expected values are nested too deeply"
    return _Reference(functions, expected)


def _reference(task: Any, functions_field: str, expected_field: str) -> _Reference | str:
    functions = getattr(task, functions_field, None)
    expected = getattr(task, expected_field, None)
    if functions is None or expected is None:
        return f"the task has no {functions_field if functions is None else expected_field}"
    try:
        functions_key = json.dumps(functions, sort_keys=True, allow_nan=False)
        expected_key = json.dumps(expected, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return "the task's functions or expected calls are not JSON data"
    return _reference_from_json(functions_key, expected_key)


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


def _json_type(value: Any) -> str:
    for name in ("boolean", "integer", "number", "string", "array", "object", "null"):
        if _JSON_TYPES[name](value):
            return name
    return type(value).__name__


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, float) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _type_problem(value: Any, schema: Any) -> str | None:
    """Why ``value`` breaks ``schema`` (type, enum, required, properties, items), or None.

    Other JSON Schema keywords (minimum, pattern, format, ...) are not checked.
    """
    if not isinstance(schema, Mapping):
        return None
    enum = schema.get("enum")
    if isinstance(enum, list) and not any(_same_json(value, option) for option in enum):
        return f"{_short(value)} is not one of the allowed values"
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


class _Punctuation(dict):  # type: ignore[type-arg]
    """``str.translate`` table: every punctuation character (Unicode category P) to a space, built lazily."""

    def __missing__(self, code: int) -> int:
        result = 32 if unicodedata.category(chr(code)).startswith("P") else code
        self[code] = result
        return result


_PUNCTUATION_TO_SPACE = _Punctuation()


def _normal_text(text: str) -> str:
    """Case, width and punctuation folded, whitespace collapsed: ``" San Francisco, CA "`` -> ``"san francisco ca"``."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(folded.translate(_PUNCTUATION_TO_SPACE).split())


def _numbers_close(a: int | float, b: int | float, rel_tol: float) -> bool:
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    try:
        return math.isclose(a, b, rel_tol=rel_tol, abs_tol=1e-9)
    except OverflowError:
        return False


def _matches(value: Any, accepted: Any, rel_tol: float) -> bool:
    """``value`` (the model's) equals ``accepted`` (the reference's) up to the documented normalisation."""
    if isinstance(value, bool) or isinstance(accepted, bool):
        return isinstance(value, bool) and isinstance(accepted, bool) and value == accepted
    if isinstance(value, int | float) and isinstance(accepted, int | float):
        return _numbers_close(value, accepted, rel_tol)
    if isinstance(value, str) and isinstance(accepted, str):
        return value == accepted or _normal_text(value) == _normal_text(accepted)
    if isinstance(value, list) and isinstance(accepted, list | tuple):
        if len(value) != len(accepted):
            return False
        return all(_matches(v, a, rel_tol) for v, a in zip(value, accepted, strict=True))
    if isinstance(value, dict) and isinstance(accepted, Mapping):
        return value.keys() == accepted.keys() and all(_matches(value[k], accepted[k], rel_tol) for k in value)
    return value is None and accepted is None


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
    ``{f: {param: [...]}}`` is read too. An empty ``expected_calls`` means the
    right answer is no call (no function applies, or information is missing).

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
            ``rel_tol`` (ints with ints exactly); strings after Unicode NFKC,
            casefolding, punctuation (Unicode category P) turned into spaces
            and whitespace collapsed, so ``"San Francisco, CA"`` equals
            ``"san francisco ca"`` and ``"2024-01-05"`` equals ``"2024 01
            05"`` but ``"NewYork"`` does not equal ``"New York"``; lists
            element by element in order; objects key by key.
        partial_credit: False: 1.0 when every expected call is matched by a
            fully right call and there are no other calls, else 0.0. True: a
            call earns the fraction of its checks passed (the name, one check
            per expected parameter, and one failed check per parameter it sets
            that is not expected), 0 when the name is wrong (in base mode the
            name is the only check); calls and expected calls are paired one
            to one to earn the most (exactly up to six parallel calls,
            greedily beyond), and the score is the sum divided by the larger
            of the number of expected and made calls, so extra calls cost.
            Status ``partial`` between 0 and 1.
        rel_tol: relative tolerance for numbers (absolute 1e-9 near zero).
        functions_field, expected_field: the task attributes read.

    Calls are read by ``parse_tool_calls`` (only outside ``<think>`` blocks).

    Statuses: ``ok``; ``partial``; ``wrong`` (a wrong function or argument, a
    call when none applies, no call when one was expected, too many calls);
    ``format_error`` (0: an attempted call that cannot be read, even beside
    well-formed ones); ``data_error`` (value None: the task is broken, e.g. an
    expected call names a function the task does not define, a schema is not
    valid JSON Schema, or an expected value does not fit its schema). Details
    name the expected and the made calls and, in strict mode, what was wrong.
    """

    mode: ModeName = "strict"
    partial_credit: bool = False
    rel_tol: float = 1e-6
    functions_field: str = "functions"
    expected_field: str = "expected_calls"

    def __post_init__(self) -> None:
        if self.mode not in ("base", "strict"):
            raise ValueError(f"mode must be 'base' or 'strict', got {self.mode!r}")
        if not 0 <= self.rel_tol < 1:
            raise ValueError(f"rel_tol must be in [0, 1), got {self.rel_tol}")

    def __call__(self, completion: str, task: Any) -> Score:
        """Judge the calls in ``completion`` against the task's expected calls."""
        reference = _reference(task, self.functions_field, self.expected_field)
        if isinstance(reference, str):
            return Score.no_judgement(Status.DATA_ERROR, reason=reference)
        parsed = parse_tool_calls(completion)
        expected = reference.expected
        details: dict[str, Any] = {
            "expected": [call.name for call in expected][:8],
            "called": [call.name[:_DETAIL_CHARS] for call in parsed.calls[:8]],
        }
        if parsed.malformed:
            return Score.fail(Status.FORMAT_ERROR, reason=f"malformed call: {parsed.errors[0]}", **details)
        calls = parsed.calls
        if not expected:
            if calls:
                return Score.fail(Status.WRONG, reason="a call where none applies", **details)
            return Score.correct(**details)
        if not calls:
            return Score.fail(Status.WRONG, reason="no call", **details)
        if len(calls) > MAX_CALLS:
            return Score.fail(Status.WRONG, reason=f"{len(calls)} calls", **details)
        if len(calls) > len(expected) and not self.partial_credit:
            return Score.fail(Status.WRONG, reason=f"{len(calls)} calls, {len(expected)} expected", **details)
        table = [[self._judge(want, call, reference) for call in calls] for want in expected]
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
