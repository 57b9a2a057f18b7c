"""rlvr/FunctionCalling-v0: call the right function with the right arguments, or rightly none.

After Fireworks' RLVR experiment on Glaive function-calling v2, where RL
raised the share of turns picking the right function from 75% to 99%. The
system prompt lists 0 to N functions as JSON schemas (OpenAI's format); the
user asks for something. The model either calls one function (or several at
once, for a message with two independent requests) or answers in plain text:
when no listed function does what was asked, or when a required argument is
missing from the request (the weather with no place given: ask, don't guess).

Where tasks come from:

* by default, requests made offline from ``rlvr.envs.function_calling.tool_library``: task ``i``
  is a pure function of ``random.Random(i)``. One of 34 tools (weather,
  currency, calendar, email, flights, timers, ...) is drawn with one of its
  phrasings, whose slots fill both the request text and the exact arguments
  (``"March 3, 2026 at 3:30 PM"`` is ``date="2026-03-03", time="15:30"``),
  and 0 to ``max_distractors`` other tools are listed with it, shuffled
  (never one that could serve the request too). A share ``no_call_share`` of
  the tasks is answered by no call, half of them because no listed tool
  does what is asked (``kind="no_tool"``), half because the request leaves
  out a required argument (``kind="missing_argument"``); a share
  ``parallel_share`` holds two independent requests, answered by two calls
  (``kind="parallel"``). ``reset(options={"kind": ...})`` picks the kind.
* ``dataset=...``: a Glaive- or BFCL-format data set (a local ``.jsonl``,
  ``.json`` or ``.parquet`` file or a hub id, read with ``datasets``);
  ``format`` says which (by default told from the columns):

  - Glaive function-calling v2 (``glaiveai/glaive-function-calling-v2``):
    ``system`` holds the function definitions as JSON objects after "Use
    them if required -"; ``chat`` holds ``USER: ... ASSISTANT: ...`` turns.
    The first USER turn is the request, the first ASSISTANT turn the
    reference: a ``<functioncall> {"name": ..., "arguments": '{...}'}``
    (single-quoted JSON arguments) means that call, with exactly those
    values (an object value written BFCL's way, ``{key: [value]}``); no
    function call means no call is right, and the turn's text is the
    reference reply.
  - BFCL: ``question`` (a string, or BFCL's nested list of messages: the
    first user message counts), ``function`` (a list of schemas, BFCL's type
    names kept) and ``ground_truth`` (a list of ``{function: {param:
    [accepted values]}}``, an object's accepted value itself ``{key:
    [accepted values]}``; an empty list means no call is right).

  A record that cannot be used is left out, not kept as a task that can
  never be scored: no request, function definitions or a call that are not
  JSON, a call to a function the record does not define, a parameter none
  of whose accepted values fits its schema (any record whose reference
  answer the verifier would not score 1). One accepted value that does not
  fit (``null``, a value outside the enum, a ``""`` on a required
  parameter) among good ones is left out, not the record. The loader warns
  with the counts, the reasons and the first row numbers
  (``FunctionCallingSource.skipped`` holds them all); a data set with no
  usable record is an error.

The reward is ``rlvr.verifiers.tool_calls.ToolCallMatch`` with the task's
``mode`` and ``partial_credit`` (carried on each task, so the config reaches
the verifier): ``strict`` (default) checks the functions and every argument,
values against their schemas; ``bfcl`` is BFCL's own AST checker (scores
comparable with its leaderboard; all or nothing); ``base`` checks only the
functions chosen, as in the Fireworks experiment; calls are read in any of
the formats models use
(``<tool_call>``, Glaive's ``<functioncall>``, OpenAI JSON). Templates:
``tool_call`` (default: Hermes/Qwen's ``<tool_call>{...}</tool_call>``),
``glaive`` (``<functioncall> {...}``) and ``r1`` (reasoning in think tags,
then the calls or the reply in answer tags; adds the R1 format reward).

    env = gymnasium.make("rlvr/FunctionCalling-v0", no_call_share=0.3, parallel_share=0.1)
    env = gymnasium.make("rlvr/FunctionCalling-v0", dataset="glaiveai/glaive-function-calling-v2", mode="base")
"""

from __future__ import annotations

import copy
import functools
import json
import random
import re
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from pydantic import ConfigDict, Field, model_validator

from rlvr.envs.core.registration import register
from rlvr.envs.core.task import (
    DecontaminationOptions,
    GeneratedOrDataset,
    ProceduralSource,
    Task,
    TaskSource,
    check_source_options,
    read_dataset,
)
from rlvr.envs.core.templates import R1, PromptTemplate
from rlvr.envs.function_calling.tool_library import TOOLS, Tool
from rlvr.verifiers.extract import AnswerFormat
from rlvr.verifiers.recipes import answer_rubric
from rlvr.verifiers.rubric import Rubric
from rlvr.verifiers.score import Score, Status

__all__ = [
    "KINDS",
    "TEMPLATES",
    "FunctionCallingConfig",
    "FunctionCallingSource",
    "FunctionCallingTask",
    "RequestSource",
    "ToolRecords",
    "bfcl_task",
    "detect_format",
    "function_calling_rubric",
    "glaive_task",
    "load_function_calling",
    "reference_arguments",
    "reference_completion",
    "render_calls",
]

Kind = Literal["call", "parallel", "no_tool", "missing_argument", "no_call"]
KINDS: tuple[str, ...] = ("call", "parallel", "no_tool", "missing_argument")
"""Kinds of generated task: one call, two parallel calls, no call (no tool applies), no call (an argument missing)."""
Mode = Literal["base", "strict", "bfcl"]
DataFormat = Literal["glaive", "bfcl"]
CallStyle = Literal["tool_call", "glaive"]


class FunctionCallingTask(Task):
    """One request, the functions on offer, and the calls that answer it (none, one or several).

    ``question`` is the user's request; ``tools`` the functions as the prompt
    lists them (one JSON object a line, filled in from ``functions`` when not
    given).
    """

    functions: list[dict[str, Any]] = Field(
        description="The function schemas shown to the model, OpenAI style: name, description, parameters."
    )
    expected_calls: list[dict[str, Any]] = Field(
        description="The right calls, BFCL style: {'name': f, 'arguments': {param: [accepted values]}}, where '' "
        "means the parameter may be left out. Empty: the right answer is no call."
    )
    tools: str = Field("", description="The functions as listed in the prompt: one JSON object a line.")
    reply: str | None = Field(
        None, description="A right plain-text answer when no call is right (a question back, or a refusal)."
    )
    kind: Kind = Field(
        "call",
        description="call, parallel (several calls), no_tool (no listed function applies), missing_argument (the "
        "request leaves out a required argument), or no_call (a data set's record answered without a call).",
    )
    mode: Mode = Field(
        "strict",
        description="How the verifier judges: strict (functions and arguments), base, or bfcl (BFCL's checker).",
    )
    partial_credit: bool = Field(False, description="Whether the verifier gives credit for partly right calls.")
    source: str = Field("procedural", description="Where the task came from: 'procedural', or the data set.")
    execute: bool = Field(
        False, description="The executing mode: calls are run (simulated) and the reply after their results is judged."
    )
    world: int = Field(0, description="Seed of the simulated functions' results for calls other than the expected.")
    results: list[dict[str, Any]] = Field(
        default_factory=list,
        description="What each expected call returns, in order (a Glaive record's FUNCTION RESPONSE, or simulated).",
    )
    facts: list[Any] = Field(
        default_factory=list, description="Values of the results that a reply to the user must state."
    )
    calls_made: list[dict[str, Any]] | None = Field(
        None,
        description="Set when an executing episode's answer is judged: the calls the model made before it, in order.",
    )

    @model_validator(mode="before")
    @classmethod
    def _fill_tools(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("tools") and isinstance(data.get("functions"), list):
            data = {**data, "tools": "\n".join(json.dumps(f, ensure_ascii=False) for f in data["functions"])}
        return data

    @model_validator(mode="after")
    def _check_scoring(self) -> FunctionCallingTask:
        _check_partial_credit(self.mode, self.partial_credit)
        return self

    def reference_answer(self) -> str:
        """A right completion: the expected calls as ``<tool_call>`` blocks, or the plain reply when none is right.

        In the executing mode, the right last turn: the reply to the user stating the results' facts.
        """
        if self.execute and self.expected_calls:
            return "Here is what I found: " + "; ".join(str(fact) for fact in self.facts) + "."
        return reference_completion(self, "tool_call")

    def reference_calls(self) -> list[dict[str, Any]]:
        """In the executing mode, the expected calls as a model should write them; otherwise none."""
        return _reference_calls(self) if self.execute else []

    def episode_tools(self) -> dict[str, Any]:
        """In the executing mode, the listed functions as simulated tools (``execution.episode_tools``)."""
        if not self.execute:
            return {}
        from rlvr.envs.function_calling.execution import episode_tools

        return episode_tools(self)

    def judged_after(self, calls: Sequence[Mapping[str, Any]]) -> FunctionCallingTask:
        """In the executing mode, the task with ``calls_made`` set, for ``execution.judge_executed``."""
        if not self.execute:
            return self
        return self.model_copy(update={"calls_made": [dict(call) for call in calls]})

    def demo_completions(self, template: PromptTemplate) -> dict[str, str]:
        """For ``rlvr demo``: the right completion, and a wrong, a missing, a malformed and a junk one."""
        style: CallStyle = "glaive" if template.name == "glaive" else "tool_call"
        names = [function["name"] for function in self.functions]
        expected = {call["name"] for call in self.expected_calls}
        other = next((name for name in names if name not in expected), None)
        right = reference_completion(self, template)
        if self.execute and self.expected_calls:
            reply = self.reference_answer()
            right = f"<think>Let me see.</think>\n<answer>{reply}</answer>" if template.name == "r1" else reply
        return {
            "right answer": right,
            "another function": render_calls([{"name": other, "arguments": {}}], style) if other else "",
            "no call": "I can help with that, but I won't call anything.",
            "malformed call": '<tool_call>{"name": "' + (names[0] if names else "f") + '", "arguments": {</tool_call>',
            "junk": "\x00\ufffd<tool_call>}}{{",
        }


def _check_partial_credit(mode: str, partial_credit: bool) -> None:
    if mode == "bfcl" and partial_credit:
        raise ValueError("mode 'bfcl' scores as BFCL does, all or nothing: it takes no partial_credit")


def reference_arguments(
    expected_call: Mapping[str, Any], functions: Sequence[Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    """One right set of arguments for a BFCL-style expected call, as a model should write them.

    With the task's ``functions``: as ``rlvr.verifiers.tool_calls.read_task``
    writes the call (a parameter that may be left out is left out; any other
    takes its first accepted value that fits its schema, an object written
    BFCL's way, ``{key: [values]}``, becoming ``{key: value}``). Without them,
    the same with no schema to check against: the first accepted value.
    """
    if functions is not None:
        from rlvr.verifiers.tool_calls import read_task

        calls = read_task(functions, [expected_call]).calls
        return dict(calls[0].arguments) if calls else {}
    arguments = {}
    for name, accepted in expected_call.get("arguments", {}).items():
        values = accepted if isinstance(accepted, list) else [accepted]
        if "" not in values and values:
            arguments[name] = _plain(values[0])
    return arguments


def _plain(value: Any) -> Any:
    """An accepted value as a model writes it: BFCL's ``{key: [values]}`` (one level deep) as ``{key: value}``."""
    if isinstance(value, dict) and all(isinstance(item, list) for item in value.values()):
        return {key: items[0] for key, items in value.items() if items and "" not in items}
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        return [_plain(item) for item in value]
    return value


def render_calls(calls: list[dict[str, Any]], style: CallStyle = "tool_call") -> str:
    """Calls ``{"name", "arguments"}`` written as a model writes them.

    ``tool_call``: one ``<tool_call>\\n{json}\\n</tool_call>`` block a call
    (Hermes, Qwen). ``glaive``: one ``<functioncall> {"name": ..., "arguments":
    '{json}'}`` line a call, the arguments single-quoted as in Glaive's data.
    """
    lines = []
    for call in calls:
        if style == "glaive":
            arguments = json.dumps(call["arguments"], ensure_ascii=False)
            lines.append(f'<functioncall> {{"name": {json.dumps(call["name"])}, "arguments": \'{arguments}\'}}')
        else:
            lines.append(f"<tool_call>\n{json.dumps(call, ensure_ascii=False)}\n</tool_call>")
    return "\n".join(lines)


def _reference_calls(task: FunctionCallingTask) -> list[dict[str, Any]]:
    """The expected calls as a model should write them (``read_task``; without jsonschema, no schema is checked)."""
    try:
        from rlvr.verifiers.tool_calls import read_task
    except ImportError:
        read = None
    else:
        read = read_task(task.functions, task.expected_calls).calls
    if read:
        return [{"name": call.name, "arguments": dict(call.arguments)} for call in read]
    return [{"name": call["name"], "arguments": reference_arguments(call)} for call in task.expected_calls]


_NO_REPLY = "I'm sorry, but none of the functions available to me can help with that."


def reference_completion(
    task: FunctionCallingTask, template: PromptTemplate | str = "tool_call", reasoning: str = "Let me see."
) -> str:
    """A right completion of ``task`` in the format of ``template`` (a template or its name).

    ``tool_call`` and ``glaive`` write the expected calls in their call style
    (``reference_arguments`` for each, with the task's functions), or the
    reply when no call is right;
    ``r1`` puts ``reasoning`` in think tags and the ``tool_call`` answer in
    answer tags.
    """
    name = template if isinstance(template, str) else template.name
    if name not in TEMPLATES:
        raise ValueError(f"unknown template {name!r}; choose one of {sorted(TEMPLATES)}")
    style: CallStyle = "glaive" if name == "glaive" else "tool_call"
    calls = _reference_calls(task)
    answer = render_calls(calls, style) if calls else (task.reply or _NO_REPLY)
    if name == "r1":
        return f"<think>{reasoning}</think>\n<answer>{answer}</answer>"
    return answer


# --- configuration ------------------------------------------------------------------


_GENERATOR_FIELDS = frozenset({"no_call_share", "parallel_share", "max_distractors"})
_DATASET_FIELDS = frozenset({"format", "split", "subset"})


class FunctionCallingConfig(DecontaminationOptions):
    """Task options of rlvr/FunctionCalling-v0."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: Mode = Field(
        "strict",
        description="strict: the right functions with the right arguments, values checked against their schemas; "
        "base: the right functions by name, or rightly none (the Fireworks experiment's measure); bfcl: BFCL's own "
        "AST checker, for scores comparable with its leaderboard.",
    )
    partial_credit: bool = Field(
        False, description="Score a partly right call by the share of its checks passed, instead of 0 (not with bfcl)."
    )
    no_call_share: float = Field(
        0.2,
        ge=0,
        le=1,
        description="Share of generated tasks answered by no call: half with no listed tool that applies, half with "
        "a required argument missing from the request.",
    )
    parallel_share: float = Field(
        0.0, ge=0, le=1, description="Share of generated tasks with two independent requests, answered by two calls."
    )
    max_distractors: int = Field(
        4, ge=0, le=10, description="Most tools listed beside the relevant one(s); each task draws 0 to this many."
    )
    dataset: str | None = Field(
        None,
        description="Read tasks from a Glaive- or BFCL-format data set instead of generating them: a local .jsonl, "
        ".json or .parquet file, or a Hugging Face hub id (read with the datasets library).",
    )
    format: Literal["auto", "glaive", "bfcl"] = Field(
        "auto",
        description="The data set's format: glaive (system, chat), bfcl (question, function, ground_truth), or auto: "
        "told from the columns.",
    )
    split: str = Field("train", description="Split of the data set to read (a local file is read as this split).")
    subset: str | None = Field(None, description="Configuration of a hub data set, if it has several.")
    execute: bool = Field(
        False,
        description="Run the calls: the listed functions answer with simulated results (a Glaive record's own "
        "FUNCTION RESPONSE where it has one), and the reply to the user after them is judged: the right calls, "
        "then a reply stating what they returned. Episodes get 4 turns unless max_turns says otherwise.",
    )

    @model_validator(mode="after")
    def _check(self) -> FunctionCallingConfig:
        _check_partial_credit(self.mode, self.partial_credit)
        check_source_options(self, _GENERATOR_FIELDS, _DATASET_FIELDS)
        if self.dataset is not None:
            return self
        if self.no_call_share + self.parallel_share > 1:
            raise ValueError(
                f"no_call_share + parallel_share must be at most 1, got {self.no_call_share} + {self.parallel_share}"
            )
        return self


# --- generated requests -------------------------------------------------------------

_TOOL_LIST: tuple[Tool, ...] = tuple(TOOLS.values())
_INCOMPLETE: tuple[Tool, ...] = tuple(t for t in _TOOL_LIST if t.incomplete)
_JOINS = (
    "{a} Also, {b}",
    "Two things, please. First: {a} Second: {b}",
    "{a}\n{b}",
    "{a} And while you're at it: {b}",
)


class RequestSource(ProceduralSource):
    """Requests generated from the tool library per ``FunctionCallingConfig``; task ``i`` depends on ``i`` alone.

    Reset option ``kind``: one of ``KINDS``, in place of a drawn kind.
    """

    options = frozenset({"kind"})

    def __init__(self, config: FunctionCallingConfig | None = None) -> None:
        self.config = config or FunctionCallingConfig()

    def generate(self, rng: random.Random, **options: Any) -> FunctionCallingTask:
        """A task of kind ``options["kind"]``, or of a kind drawn with ``rng`` by the configured shares."""
        kind = options.get("kind")
        if kind is None:
            kind = self._draw_kind(rng)
        elif kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}; choose from {list(KINDS)}")
        reply = None
        if kind == "no_tool":
            tool = rng.choice(_TOOL_LIST)
            question = tool.request(rng).text
            relevant: list[Tool] = []
            excluded = {tool.group}
            description = str(tool.schema["description"])
            reply = (
                "I'm sorry, but I can't do that: none of the functions available to me can "
                f"{description[0].lower()}{description[1:]}."
            )
            expected: list[dict[str, Any]] = []
        elif kind == "missing_argument":
            tool = rng.choice(_INCOMPLETE)
            request = tool.incomplete_request(rng)
            question, relevant, excluded, expected = request.text, [tool], {tool.group}, []
            what = " and the ".join(name.replace("_", " ") for name in request.missing)
            reply = f"I can help with that, but first I need to know the {what}. Could you tell me?"
        elif kind == "parallel":
            first, second = self._two_requests(rng)
            question = rng.choice(_JOINS).format(a=first[1].text, b=second[1].text)
            relevant = [first[0]] if first[0] is second[0] else [first[0], second[0]]
            excluded = {tool.group for tool in relevant}
            expected = [first[0].expected_call(first[1]), second[0].expected_call(second[1])]
        else:
            tool = rng.choice(_TOOL_LIST)
            request = tool.request(rng)
            question, relevant, excluded, expected = request.text, [tool], {tool.group}, [tool.expected_call(request)]
        pool = [tool for tool in _TOOL_LIST if tool.group not in excluded]
        count = min(rng.randint(0, self.config.max_distractors), len(pool))
        shown = relevant + rng.sample(pool, count)
        rng.shuffle(shown)
        task = FunctionCallingTask(
            question=question,
            functions=[copy.deepcopy(tool.schema) for tool in shown],
            expected_calls=copy.deepcopy(expected),
            reply=reply,
            kind=kind,
            mode=self.config.mode,
            partial_credit=self.config.partial_credit,
        )
        if not self.config.execute:
            return task
        from rlvr.envs.function_calling.execution import executing

        return executing(task, world=rng.getrandbits(31))  # drawn last: the task is the single-turn mode's

    def _draw_kind(self, rng: random.Random) -> str:
        draw = rng.random()
        if draw < self.config.no_call_share:
            return rng.choice(("no_tool", "missing_argument"))
        if draw < self.config.no_call_share + self.config.parallel_share:
            return "parallel"
        return "call"

    @staticmethod
    def _two_requests(rng: random.Random) -> tuple[tuple[Tool, Any], tuple[Tool, Any]]:
        """Two different requests: the same tool twice (a third of the time) or tools of two groups."""
        first = rng.choice(_TOOL_LIST)
        same = rng.random() < 1 / 3
        second = first if same else rng.choice([t for t in _TOOL_LIST if t.group != first.group])
        request = first.request(rng)
        while True:
            other = second.request(rng)
            if second.expected_call(other) != first.expected_call(request):
                return (first, request), (second, other)


# --- Glaive- and BFCL-format data sets ---------------------------------------------------


@dataclass(frozen=True)
class ToolRecords:
    """A data set read by ``load_function_calling``.

    Attributes:
        tasks: one task per usable record, in order.
        skipped: row numbers of the records left out.
        reasons: why they were left out, with a count for each reason.
        format: the format the records were read in.
        dropped: accepted values that the verifier leaves out of the kept
            tasks (strict and base mode; bfcl mode keeps them, as BFCL), with
            a count for each reason (``rlvr.verifiers.tool_calls.DROP_REASONS``).
        dropped_in: how many kept tasks had accepted values left out.
    """

    tasks: tuple[FunctionCallingTask, ...]
    skipped: tuple[int, ...]
    reasons: dict[str, int]
    format: DataFormat
    dropped: dict[str, int] = field(default_factory=dict)
    dropped_in: int = 0


def detect_format(columns: list[str] | tuple[str, ...]) -> DataFormat:
    """``glaive`` for ``system`` and ``chat`` columns, ``bfcl`` for ``question`` and ``function``.

    Raises:
        ValueError: neither pair of columns, or both.
    """
    glaive = {"system", "chat"} <= set(columns)
    bfcl = {"question", "function"} <= set(columns)
    if glaive == bfcl:
        what = "both" if glaive else "neither"
        raise ValueError(
            f"cannot tell the data set's format from its columns {sorted(columns)} ({what} of system+chat and "
            f"question+function); give format='glaive' (system, chat) or format='bfcl' (question, function, "
            f"ground_truth)"
        )
    return "glaive" if glaive else "bfcl"


class _BadRecord(ValueError):
    """A record that cannot be made into a task; the message says why."""


_REQUIRED: dict[str, tuple[str, ...]] = {"glaive": ("system", "chat"), "bfcl": ("question", "function", "ground_truth")}


def load_function_calling(
    source: str,
    *,
    format: Literal["auto", "glaive", "bfcl"] = "auto",
    split: str = "train",
    subset: str | None = None,
    mode: Mode = "strict",
    partial_credit: bool = False,
) -> ToolRecords:
    """The tasks of a Glaive- or BFCL-format data set, read with the ``datasets`` library.

    Args:
        source: a local ``.jsonl``/``.json``/``.parquet`` file (read as split
            ``split``), or a Hugging Face hub id.
        format: ``glaive``, ``bfcl``, or ``auto`` (``detect_format``).
        split: the split to read.
        subset: the hub data set's configuration, if it has several.
        mode, partial_credit: the verifier settings each task carries.

    Returns:
        The usable records as tasks (``glaive_task``, ``bfcl_task``), the row
        numbers and reasons of those left out, and the accepted values the
        verifier leaves out of the kept tasks (a value that breaks its
        schema, such as ``null`` or a value outside the enum; a ``""`` on a
        required parameter), of which a warning tells. A record is usable
        when it parses and its reference answer scores 1 under
        ``ToolCallMatch`` in its mode (strict for base): one bad accepted
        value among good ones costs that value, not the record.

    Raises:
        ImportError: ``datasets`` or ``jsonschema`` is not installed.
        ValueError: a required column is missing, the format cannot be told,
            or no record is usable.
    """
    from rlvr.verifiers.tool_calls import ToolCallMatch, read_task

    rows = read_dataset(source, split, subset, what="function-calling data sets")
    columns = list(rows.column_names)
    data_format: DataFormat = detect_format(columns) if format == "auto" else format
    missing = [name for name in _REQUIRED[data_format] if name not in columns]
    if missing:
        raise ValueError(f"{source}: a {data_format} data set needs the field(s) {missing}; it has {sorted(columns)}")
    make_task = _glaive_task if data_format == "glaive" else _bfcl_task
    check = ToolCallMatch(mode="bfcl" if mode == "bfcl" else "strict")
    tasks, skipped, reasons = [], [], Counter[str]()
    dropped, dropped_in = Counter[str](), 0
    for index, row in enumerate(rows):
        try:
            task = make_task(row, source, mode, partial_credit)
            score = check(task.reference_answer(), task)
            if score.status is not Status.OK:
                raise _BadRecord(_reason(score))
        except _BadRecord as error:
            skipped.append(index)
            reasons[str(error)] += 1
            continue
        tasks.append(task)
        if mode != "bfcl":
            left_out = read_task(task.functions, task.expected_calls).dropped
            dropped.update(value.reason for value in left_out)
            dropped_in += bool(left_out)
    if not tasks:
        raise ValueError(
            f"{source}: none of its {len(skipped)} records (split {split!r}) is usable: {_summary(reasons)}"
        )
    notes = []
    if skipped:
        first = ", ".join(str(i) for i in skipped[:10]) + (", ..." if len(skipped) > 10 else "")
        total = len(skipped) + len(tasks)
        notes.append(f"left out {len(skipped)} of {total} records ({_summary(reasons)}); rows {first}")
    if dropped:
        notes.append(
            f"left out {sum(dropped.values())} accepted values in {dropped_in} of the {len(tasks)} records kept, "
            f"values strict and base mode do not accept ({_summary(dropped)})"
        )
    if notes:
        warnings.warn(f"{source}: " + "; and ".join(notes), stacklevel=2)
    return ToolRecords(tuple(tasks), tuple(skipped), dict(reasons), data_format, dict(dropped), dropped_in)


def _reason(score: Score) -> str:
    reason = score.details.get("reason") or score.details.get("problems") or score.status.value
    return f"reference answer not accepted: {reason}"


def _summary(reasons: Counter[str]) -> str:
    return "; ".join(f"{count} {reason}" for reason, count in reasons.most_common(5))


def glaive_task(
    row: Mapping[str, Any], source: str = "glaive", mode: Mode = "strict", partial_credit: bool = False
) -> FunctionCallingTask | None:
    """One Glaive function-calling record as a task, or None when it cannot be read.

    ``system``: the function definitions, JSON objects one after another
    after "Use them if required -" (none when the text has no such marker).
    ``chat``: ``USER:``, ``ASSISTANT:`` and ``FUNCTION RESPONSE:`` turns; the
    first USER turn is the request and the ASSISTANT turn after it the
    reference: its ``<functioncall>`` (arguments as single-quoted JSON) is the
    expected call, every argument with exactly its value; no function call
    means no call is right, and the turn's text is the reply.
    """
    try:
        return _glaive_task(row, source, mode, partial_credit)
    except _BadRecord:
        return None


_GLAIVE_MARKER = "Use them if required -"
_GLAIVE_TURN = re.compile(r"(?:^|\n)[ \t]*(USER|ASSISTANT|FUNCTION RESPONSE):[ \t]?")
_END = "<|endoftext|>"


def _glaive_task(row: Mapping[str, Any], source: str, mode: Mode, partial_credit: bool) -> FunctionCallingTask:
    from rlvr.verifiers.tool_calls import FUNCTION_CALL_MARKER, parse_tool_calls

    system, chat = row.get("system"), row.get("chat")
    if not isinstance(system, str) or not isinstance(chat, str):
        raise _BadRecord("no system or chat text")
    functions = _glaive_functions(system)
    matches = list(_GLAIVE_TURN.finditer(chat))
    texts = [
        (match.group(1), chat[match.end() : matches[i + 1].start() if i + 1 < len(matches) else len(chat)])
        for i, match in enumerate(matches)
    ]
    texts = [(role, text.replace(_END, "").strip()) for role, text in texts]
    user = next((i for i, (role, _) in enumerate(texts) if role == "USER"), None)
    if user is None or not texts[user][1]:
        raise _BadRecord("no USER turn")
    assistant = next((text for role, text in texts[user + 1 :] if role == "ASSISTANT"), None)
    if assistant is None:
        raise _BadRecord("no ASSISTANT turn after the request")
    expected: list[dict[str, Any]] = []
    reply = None
    results, facts = _glaive_response(texts, user)
    if FUNCTION_CALL_MARKER in assistant:
        parsed = parse_tool_calls(assistant[assistant.index(FUNCTION_CALL_MARKER) :])
        if parsed.malformed or not parsed.calls:
            raise _BadRecord("unreadable <functioncall>")
        expected = [
            {"name": call.name, "arguments": {key: [_accepting(value)] for key, value in call.arguments.items()}}
            for call in parsed.calls
        ]
    else:
        reply = assistant
    return FunctionCallingTask(
        question=texts[user][1],
        functions=functions,
        expected_calls=expected,
        reply=reply,
        kind="no_call" if not expected else "call" if len(expected) == 1 else "parallel",
        mode=mode,
        partial_credit=partial_credit,
        source=source,
        results=results if len(expected) == 1 else [],
        facts=facts if len(expected) == 1 else [],
    )


def _glaive_response(texts: Sequence[tuple[str, str]], user: int) -> tuple[list[dict[str, Any]], list[Any]]:
    """The record's FUNCTION RESPONSE to its first call (a JSON object) and the facts its next ASSISTANT turn
    states; nothing when the record has no readable response followed by a reply."""
    from rlvr.envs.function_calling.execution import response_facts

    roles = [role for role, _ in texts]
    turn = next((i for i in range(user + 1, len(texts)) if roles[i] == "FUNCTION RESPONSE"), None)
    if turn is None or turn + 1 >= len(texts) or roles[turn + 1] != "ASSISTANT" or roles[turn - 1] != "ASSISTANT":
        return [], []
    try:
        response = json.loads(texts[turn][1])
    except ValueError:
        return [], []
    if not isinstance(response, dict):
        return [], []
    return [response], response_facts(response, texts[turn + 1][1])


def _accepting(value: Any) -> Any:
    """The accepted value that takes exactly ``value``: objects (one level deep) written BFCL's way, ``{key: [v]}``."""
    if isinstance(value, dict):
        return {key: [item] for key, item in value.items()}
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        return [_accepting(item) for item in value]
    return value


def _glaive_functions(system: str) -> list[dict[str, Any]]:
    if _GLAIVE_MARKER not in system:
        return []
    text = system.split(_GLAIVE_MARKER, 1)[1]
    decoder = json.JSONDecoder()
    functions, position = [], 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            break
        try:
            value, position = decoder.raw_decode(text, position)
        except ValueError:
            raise _BadRecord("function definitions are not JSON") from None
        if not isinstance(value, dict) or not isinstance(value.get("name"), str):
            raise _BadRecord("a function definition has no name")
        functions.append(value)
    if not functions:
        raise _BadRecord("no function definitions after the marker")
    return functions


def bfcl_task(
    row: Mapping[str, Any], source: str = "bfcl", mode: Mode = "strict", partial_credit: bool = False
) -> FunctionCallingTask | None:
    """One BFCL record as a task, or None when it cannot be read.

    ``question``: a string, or BFCL's nested list of messages (the first
    message with role ``user`` is the request). ``function``: a list of
    schemas (a single schema, or JSON text of either, is read too).
    ``ground_truth``: a list of ``{function: {param: [accepted values]}}``
    (or JSON text of it); an empty list means no call is right, a missing one
    makes the record unusable. Keys whose value is null are dropped from
    schemas and ground truth (Arrow fills in the keys other rows have).
    """
    try:
        return _bfcl_task(row, source, mode, partial_credit)
    except _BadRecord:
        return None


def _bfcl_task(row: Mapping[str, Any], source: str, mode: Mode, partial_credit: bool) -> FunctionCallingTask:
    question = _bfcl_question(row.get("question"))
    functions = _json_field(row.get("function"), "function")
    if isinstance(functions, dict):
        functions = [functions]
    if not isinstance(functions, list) or not all(isinstance(f, dict) for f in functions):
        raise _BadRecord("function is not a list of schemas")
    truth = _json_field(row.get("ground_truth"), "ground_truth")
    if isinstance(truth, dict):
        truth = [truth]
    if not isinstance(truth, list):
        raise _BadRecord("no ground_truth list")
    expected = []
    for entry in truth:
        entry = _drop_nulls(entry) if isinstance(entry, dict) else entry
        if not isinstance(entry, dict) or len(entry) != 1:
            raise _BadRecord("a ground_truth entry is not {function: {param: [values]}}")
        ((name, arguments),) = entry.items()
        if not isinstance(arguments, dict):
            raise _BadRecord("a ground_truth entry is not {function: {param: [values]}}")
        accepted = {key: value if isinstance(value, list) else [value] for key, value in arguments.items()}
        expected.append({"name": name, "arguments": accepted})
    return FunctionCallingTask(
        question=question,
        functions=[_drop_nulls(f) for f in functions],
        expected_calls=expected,
        kind="no_call" if not expected else "call" if len(expected) == 1 else "parallel",
        mode=mode,
        partial_credit=partial_credit,
        source=source,
    )


def _bfcl_question(question: Any) -> str:
    if isinstance(question, str):
        text = question
    else:
        text = ""
        stack = [question]
        while stack:  # depth first, in order: the first user message
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(reversed(item))
            elif isinstance(item, dict) and item.get("role") == "user" and isinstance(item.get("content"), str):
                text = item["content"]
                break
    if not text.strip():
        raise _BadRecord("no user request")
    return text.strip()


def _json_field(value: Any, name: str) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise _BadRecord(f"{name} is not JSON") from None
    return value


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _drop_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_drop_nulls(item) for item in value]
    return value


# --- the FunctionCalling-v0 source ---------------------------------------------------------


class FunctionCallingSource(GeneratedOrDataset):
    """rlvr/FunctionCalling-v0's tasks: generated requests, or a data set when ``dataset`` is given.

    Takes the ``FunctionCallingConfig`` fields as keyword options. The reset
    option ``kind`` applies to generated requests only.

    Attributes:
        skipped: row numbers of the data set's records left out (empty for
            generated requests).
    """

    config_model = FunctionCallingConfig
    options = frozenset({"kind"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.brings_tools = bool(self.config.execute)

    def generator(self, config: FunctionCallingConfig) -> TaskSource:
        return RequestSource(config)

    def read(self, config: FunctionCallingConfig, dataset: str) -> tuple[Sequence[Task], tuple[int, ...]]:
        records = load_function_calling(
            dataset,
            format=config.format,
            split=config.split,
            subset=config.subset,
            mode=config.mode,
            partial_credit=config.partial_credit,
        )
        if not config.execute:
            return records.tasks, records.skipped
        from rlvr.envs.function_calling.execution import executing

        tasks = [executing(cast(FunctionCallingTask, task), world=i) for i, task in enumerate(records.tasks)]
        return tasks, records.skipped


# --- templates and rubric -----------------------------------------------------------------

_RULES = (
    "Call a function only when one of them does what the user asks and the request gives every required "
    "argument. Otherwise do not call any: reply in plain text, asking for what is missing or saying that you "
    "cannot help."
)
_TOOLS_BLOCK = (
    "You may call one or more functions to assist with the user query. " + _RULES + "\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n{tools}\n</tools>\n\n"
    "For each function call, return a JSON object with the function name and arguments within "
    "<tool_call></tool_call> XML tags:\n<tool_call>\n"
    '{{"name": <function-name>, "arguments": <args-json-object>}}\n</tool_call>'
)

TOOL_CALL = PromptTemplate(
    name="tool_call",
    answer_format=AnswerFormat.LAST_NUMBER,
    system="You are a helpful assistant.\n\n# Tools\n\n" + _TOOLS_BLOCK,
    user="{question}",
)
"""Hermes/Qwen's tool prompt: the functions in ``<tools>``, each call answered in a ``<tool_call>`` block."""

_GLAIVE_SYSTEM = (
    "You are a helpful assistant with access to the following functions. Use them if required -\n{tools}\n\n"
    + _RULES
    + "\nTo call a function, write <functioncall> followed by a JSON object with its name and its arguments "
    'as a JSON string: <functioncall> {{"name": "<function-name>", "arguments": \'<args-json-object>\'}}'
)

GLAIVE = PromptTemplate(
    name="glaive",
    answer_format=AnswerFormat.LAST_NUMBER,
    system=_GLAIVE_SYSTEM,
    user="{question}",
    text="SYSTEM: " + _GLAIVE_SYSTEM + "\n\n\nUSER: {question}\n\n\nASSISTANT:",
)
"""Glaive function-calling v2's prompt and turn markers; calls as ``<functioncall> {...}``."""

_R1_TOOLS = (
    (R1.system or "")
    + "\n\n"
    + _TOOLS_BLOCK
    + "\n\nThe answer is either your function calls, as <tool_call></tool_call> blocks, or your reply to the user."
)

TOOL_R1 = PromptTemplate(
    name="r1",
    answer_format=AnswerFormat.R1,
    system=_R1_TOOLS,
    user="{question}",
    text=_R1_TOOLS + "\nUser: {question} Assistant:",
)
"""DeepSeek-R1-Zero's template around the tool prompt: think, then the calls or the reply in answer tags."""

TEMPLATES: dict[str, PromptTemplate] = {t.name: t for t in (TOOL_CALL, GLAIVE, TOOL_R1)}
"""tool_call (the default), glaive and r1."""


class _TaskToolCallMatch:
    """``ToolCallMatch`` with the mode and partial credit the task carries (strict, none when it carries none)."""

    def __call__(self, completion: str, task: Any) -> Score:
        if getattr(task, "execute", False):
            from rlvr.envs.function_calling.execution import judge_executed

            return judge_executed(completion, task)
        return _tool_call_match(getattr(task, "mode", "strict"), bool(getattr(task, "partial_credit", False)))(
            completion, task
        )


@functools.cache
def _tool_call_match(mode: Mode, partial_credit: bool) -> Any:
    from rlvr.verifiers.tool_calls import ToolCallMatch

    return ToolCallMatch(mode=mode, partial_credit=partial_credit)


def function_calling_rubric(template: PromptTemplate) -> Rubric:
    """``accuracy``: ``ToolCallMatch`` under each task's mode and partial credit, plus the R1 format reward for r1.

    Raises:
        ImportError: ``jsonschema`` (the ``tools`` extra) is not installed.
    """
    try:
        import jsonschema  # noqa: F401
    except ImportError:
        raise ImportError("function-calling tasks are checked with jsonschema: pip install 'rlvr-gym[tools]'") from None
    return answer_rubric(_TaskToolCallMatch(), template.answer_format)


register(
    "rlvr/FunctionCalling-v0",
    source=FunctionCallingSource,
    rubric=function_calling_rubric,
    template=TEMPLATES,
    description="Function calling: pick the right function and arguments, or none; offline tools, Glaive/BFCL files.",
)
