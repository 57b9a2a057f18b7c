"""How fast ToolCallMatch judges function calls, against the checker a user would otherwise write.

Part 1: verifications per second of ``ToolCallMatch`` in base and strict mode
on realistic completions (a sentence of prose, then the call) in each format:
Glaive ``<functioncall>`` with single-quoted arguments, OpenAI JSON with the
arguments as a string, a fenced JSON list, ``{"tool_calls": [...]}``, Hermes
``<tool_call>`` blocks. Half right, half with one wrong argument value.

The peer, in the same run, is the checker found in evaluation scripts:
``re.findall(r"<tool_call>(.*?)</tool_call>", text, re.DOTALL)`` for Hermes
blocks (Qwen's and Hermes' own examples), else ``json.JSONDecoder.raw_decode``
tried at every ``{``, then ``jsonschema.validate`` of the arguments against the
function's schema and a case-folded comparison of the values. It reads fewer
formats (not Glaive's single-quoted arguments, not the ``tool_calls`` wrapper;
on those it finds no call), so compare its rate on the formats it reads.

Part 2: the same two parsers on adversarial completions of growing size:
``<tool_call>`` repeated with no closing tag (the lazy group rescans the rest
of the text from every opening tag: quadratic) and ``{"name":`` repeated (every
``{`` starts a nested parse that runs until the recursion limit). Ours scans
once.

Run: .venv/bin/python benchmarks/tool_call_speed.py
Prints medians over repeats; these machines are shared, so compare ratios.
"""

from __future__ import annotations

import contextlib
import functools
import json
import random
import re
import statistics
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import jsonschema
from timing import median_seconds

from rlvr.verifiers.tool_calls import ToolCallMatch

FUNCTIONS = [
    {
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
    },
    {
        "name": "convert_currency",
        "description": "Convert an amount between currencies.",
        "parameters": {
            "type": "object",
            "properties": {"amount": {"type": "number"}, "from": {"type": "string"}, "to": {"type": "string"}},
            "required": ["amount", "from", "to"],
        },
    },
]
CITIES = ["Paris", "Lyon", "Tokyo", "Lima", "Oslo", "Cairo", "Quito", "Perth"]
PROSE = "The user wants the current conditions, so the weather function is the one to call. "


def render(fmt: str, name: str, arguments: dict[str, Any]) -> str:
    call = {"name": name, "arguments": arguments}
    if fmt == "glaive":
        return f'{PROSE}<functioncall> {{"name": "{name}", "arguments": \'{json.dumps(arguments)}\'}}'
    if fmt == "openai":
        return PROSE + json.dumps({"name": name, "arguments": json.dumps(arguments)})
    if fmt == "fenced":
        return PROSE + "\n```json\n" + json.dumps([call], indent=2) + "\n```"
    if fmt == "tool_calls":
        wrapped = {"type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}
        return PROSE + json.dumps({"tool_calls": [wrapped]})
    return f"<think>{PROSE}</think>\n<tool_call>\n{json.dumps(call)}\n</tool_call>"


def items(fmt: str, rng: random.Random, count: int) -> list[tuple[str, SimpleNamespace]]:
    result = []
    for _ in range(count):
        city, days = rng.choice(CITIES), rng.randint(1, 7)
        expected = [{"name": "get_weather", "arguments": {"city": [city], "unit": ["celsius", ""], "days": [days]}}]
        written = {"city": city.upper(), "unit": "celsius", "days": days if rng.random() < 0.5 else days + 1}
        result.append(
            (render(fmt, "get_weather", written), SimpleNamespace(functions=FUNCTIONS, expected_calls=expected))
        )
    return result


# --- the peer ------------------------------------------------------------------

HERMES = re.compile(r"<tool_call>(.*?)</tool_call>", re.DOTALL)
DECODER = json.JSONDecoder()


def naive_calls(text: str) -> list[dict[str, Any]]:
    blocks = HERMES.findall(text)
    if blocks:
        candidates = []
        for block in blocks:
            with contextlib.suppress(ValueError):
                candidates.append(json.loads(block))
    else:
        candidates, start = [], text.find("{")
        while start != -1:
            try:
                value, end = DECODER.raw_decode(text, start)
            except (ValueError, RecursionError):
                start = text.find("{", start + 1)
                continue
            candidates.extend(value if isinstance(value, list) else [value])
            start = text.find("{", end)
    calls = []
    for value in candidates:
        if isinstance(value, dict) and "name" in value:
            arguments = value.get("arguments", {})
            if isinstance(arguments, str):
                try:
                    arguments = json.loads(arguments)
                except ValueError:
                    continue
            calls.append({"name": value["name"], "arguments": arguments})
    return calls


def naive_match(text: str, task: SimpleNamespace, strict: bool) -> float:
    calls = naive_calls(text)
    expected = task.expected_calls
    if len(calls) != len(expected):
        return 0.0
    schemas = {function["name"]: function["parameters"] for function in task.functions}
    for call, want in zip(calls, expected, strict=True):
        if call["name"] != want["name"]:
            return 0.0
        if not strict:
            continue
        try:
            jsonschema.validate(call["arguments"], schemas[call["name"]])
        except jsonschema.ValidationError:
            return 0.0
        for param, accepted in want["arguments"].items():
            value = call["arguments"].get(param, "")
            folded = value.strip().lower() if isinstance(value, str) else value
            if not any(folded == (a.strip().lower() if isinstance(a, str) else a) for a in accepted):
                return 0.0
    return 1.0


def peer_base(text: str, task: SimpleNamespace) -> float:
    return naive_match(text, task, strict=False)


def peer_strict(text: str, task: SimpleNamespace) -> float:
    return naive_match(text, task, strict=True)


# --- measuring -------------------------------------------------------------------


def median_rate(judge: Callable[[str, SimpleNamespace], object], fmt: str, count: int, repeats: int) -> float:
    rates = []
    for repeat in range(repeats):
        batch = items(fmt, random.Random(repeat), count)
        start = time.perf_counter()
        for completion, task in batch:
            judge(completion, task)
        rates.append(count / (time.perf_counter() - start))
    return statistics.median(rates)


def throughput() -> None:
    base, strict = ToolCallMatch("base"), ToolCallMatch("strict")
    print(
        f"{'format':12} {'ours base':>12} {'ours strict':>12} {'peer base':>12} {'peer strict':>12}  (verifications/s)"
    )
    for fmt in ("glaive", "openai", "fenced", "tool_calls", "hermes"):
        rates = [
            median_rate(base, fmt, 2000, 5),
            median_rate(strict, fmt, 2000, 5),
            median_rate(peer_base, fmt, 2000, 5),
            median_rate(peer_strict, fmt, 2000, 5),
        ]
        print(f"{fmt:12} " + " ".join(f"{rate:12,.0f}" for rate in rates))
    batch = [item for fmt in ("openai", "fenced", "hermes") for item in items(fmt, random.Random(99), 200)]
    same = sum((strict(c, t).value == 1.0) == (naive_match(c, t, strict=True) == 1.0) for c, t in batch)
    print(f"strict verdicts agree with the peer on {same} of {len(batch)} completions it can read")


def scaling() -> None:
    strict = ToolCallMatch("strict")
    task = items("openai", random.Random(0), 1)[0][1]
    print(f"\n{'input':28} {'chars':>9} {'ours':>9} {'peer':>9} {'ratio':>7}")
    for name, fragment in (("<tool_call> unclosed", "<tool_call>"), ('{"name": nested', '{"name":')):
        for size in (10_000, 20_000, 40_000, 80_000):
            text = fragment * (size // len(fragment))
            ours = median_seconds(functools.partial(strict, text, task), repeats=3)
            peer = median_seconds(functools.partial(naive_match, text, task, strict=True), repeats=3)
            print(f"{name:28} {len(text):9,} {ours:8.4f}s {peer:8.4f}s {peer / ours:6.0f}x")


def main() -> None:
    throughput()
    scaling()


if __name__ == "__main__":
    main()
