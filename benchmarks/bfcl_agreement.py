"""How often ToolCallMatch agrees with BFCL's own AST checker, on the data bfcl-eval ships.

The reference is the PyPI package ``bfcl-eval`` (2026.3.23), installed without
its dependencies (``pip install --no-deps bfcl-eval==2026.3.23``): its checker
module (``bfcl_eval/eval_checker/ast_eval/ast_checker.py``) is loaded from the
installed files, with the one module it imports that pulls in every model
handler (``bfcl_eval.constants.model_config``, read only to rename dotted
function names for some hosted models) replaced by a table that renames none.
Its data files (``bfcl_eval/data``) are read as they ship.

For every record of the AST categories (simple, multiple, parallel,
parallel_multiple and their live_ versions, Python) and of the irrelevance
categories (no call is right), ``completions`` writes the right call(s) as a
model would, in one of the formats ``parse_tool_calls`` reads, and seeded
perturbations of them: another accepted value, a wrong function, a missing,
extra or wrong-typed parameter, an enum or string in another case, spaces and
punctuation changed, an int for a float and back, floats off by a little and
by a lot, objects written BFCL's way (``{key: [value]}``), calls reordered,
dropped or repeated, no call, a call that cannot be read. Each completion is
judged by BFCL's checker (on the calls it makes; a completion whose calls
cannot be read is one BFCL's decoder fails on) and by ToolCallMatch in each
mode; a record counts for a mode when the mode can score it (no data_error)
and BFCL's checker accepts at least one of its completions.

Also the differential harness of tests/test_bfcl_conformance.py.

Run: .venv/bin/python benchmarks/bfcl_agreement.py  (about 20 seconds; over 40,000 completions)
"""

from __future__ import annotations

import copy
import importlib.util
import itertools
import json
import random
import sys
import types
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rlvr.envs.function_calling.env import FunctionCallingTask, bfcl_task
from rlvr.verifiers.score import Status
from rlvr.verifiers.tool_calls import ToolCallMatch, parse_tool_calls, read_task

INSTALL = "pip install --no-deps bfcl-eval==2026.3.23"
AST_CATEGORIES = (
    "simple_python",
    "multiple",
    "parallel",
    "parallel_multiple",
    "live_simple",
    "live_multiple",
    "live_parallel",
    "live_parallel_multiple",
)
NO_CALL_CATEGORIES = ("irrelevance", "live_irrelevance")
CATEGORIES = AST_CATEGORIES + NO_CALL_CATEGORIES
MODES = ("strict", "bfcl")
SEED = 2026

Call = tuple[str, dict[str, Any]]


# --- the reference -----------------------------------------------------------


def bfcl_root() -> Path:
    """Where bfcl-eval is installed; RuntimeError with the install line when it is not."""
    spec = importlib.util.find_spec("bfcl_eval")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the reference checker is missing: install it with `{INSTALL}`")
    return Path(next(iter(spec.submodule_search_locations)))


def bfcl_checker() -> types.ModuleType:
    """BFCL's AST checker module, loaded from the installed package without its model handlers."""
    root = bfcl_root()
    name = "bfcl_eval.constants.model_config"

    class _NoRenaming:
        underscore_to_dot = False

    class _Configs(dict):  # type: ignore[type-arg]
        def __missing__(self, key: str) -> _NoRenaming:
            return _NoRenaming()

    stub = types.ModuleType(name)
    stub.MODEL_CONFIG_MAPPING = _Configs()  # type: ignore[attr-defined]
    saved = sys.modules.get(name)
    sys.modules[name] = stub
    try:
        spec = importlib.util.spec_from_file_location(
            "bfcl_reference_ast_checker", root / "eval_checker" / "ast_eval" / "ast_checker.py"
        )
        if spec is None or spec.loader is None:
            raise RuntimeError(f"bfcl-eval at {root} has no ast_checker.py; install it with `{INSTALL}`")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        if saved is None:
            del sys.modules[name]
        else:
            sys.modules[name] = saved
    return module


def records(category: str) -> list[dict[str, Any]]:
    """The category's records as shipped: id, question, function and ground_truth ([] where no call is right)."""
    data = bfcl_root() / "data"
    prompts = [json.loads(line) for line in (data / f"BFCL_v4_{category}.json").read_text().splitlines() if line]
    if category in NO_CALL_CATEGORIES:
        return [{**prompt, "ground_truth": []} for prompt in prompts]
    answers = data / "possible_answer" / f"BFCL_v4_{category}.json"
    rows = [json.loads(line) for line in answers.read_text().splitlines() if line]
    truth = {row["id"]: row["ground_truth"] for row in rows}
    return [{**prompt, "ground_truth": truth[prompt["id"]]} for prompt in prompts]


class Reference:
    """BFCL's verdicts: the checker on decoded calls, as its evaluation runner calls it."""

    def __init__(self) -> None:
        self.checker = bfcl_checker()
        from bfcl_eval.constants.enums import Language

        self.python = Language.PYTHON

    def valid(self, record: dict[str, Any], category: str, calls: Sequence[Call] | None) -> bool | None:
        """True/False: BFCL's verdict; None: its checker raised. ``calls`` None: its decoder failed."""
        if category in NO_CALL_CATEGORIES:
            return not calls  # no call decoded, or no call at all
        if calls is None:
            return False
        output = [{name: copy.deepcopy(arguments)} for name, arguments in calls]
        try:
            result = self.checker.ast_checker(
                copy.deepcopy(record["function"]), output, record["ground_truth"], self.python, category, "model"
            )
        except Exception:
            return None
        return bool(result["valid"])

    def pair_valid(self, record: dict[str, Any], expected: dict[str, Any], call: Call) -> bool:
        """BFCL's verdict on one call as one expected call (its simple checker), False where it raises."""
        functions = record["function"]
        name = next(iter(expected))
        description = next((f for f in functions if f["name"] == name), None)
        try:
            result = self.checker.simple_function_checker(
                copy.deepcopy(description), {call[0]: copy.deepcopy(call[1])}, expected, self.python, "model"
            )
        except Exception:
            return False
        return bool(result["valid"])

    def some_order_valid(self, record: dict[str, Any], calls: Sequence[Call]) -> bool:
        """Whether BFCL's own per-call verdicts pair every expected call with a distinct call."""
        truth = record["ground_truth"]
        if len(calls) != len(truth) or len(calls) > 7:
            return False
        fits = [[self.pair_valid(record, want, call) for call in calls] for want in truth]
        return any(all(fits[i][j] for i, j in enumerate(order)) for order in itertools.permutations(range(len(calls))))


# --- completions -------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One completion for a record: what was done, the calls it makes (None: unreadable) and its text."""

    record: str
    category: str
    label: str
    calls: tuple[Call, ...] | None
    completion: str


def _is_omit(value: Any) -> bool:
    return isinstance(value, str) and value == ""


def _keyed(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(item, list) for item in value.values())


def _fits_enum(value: Any, schema: dict[str, Any]) -> bool:
    enum = schema.get("enum")
    return not isinstance(enum, list) or value in enum


def _plain(value: Any) -> Any:
    """A ground-truth value as a model writes it: ``{key: [values]}`` as ``{key: first value}``, one level deep."""
    if _keyed(value):
        return {key: items[0] for key, items in value.items() if items and not any(_is_omit(i) for i in items)}
    if isinstance(value, list) and value and all(_keyed(item) for item in value):
        return [_plain(item) for item in value]
    return value


def _schema(record: dict[str, Any], name: str) -> dict[str, Any]:
    function = next((f for f in record["function"] if f["name"] == name), {})
    return function.get("parameters", {})


def model_calls(record: dict[str, Any], pick: Callable[[list[Any]], Any] | None = None) -> list[Call]:
    """The ground truth written as a model would: optional parameters left out, else an accepted value.

    ``pick`` chooses among a parameter's accepted values (default: the first
    that is not null and obeys the enum, else the first).
    """
    calls = []
    for entry in record["ground_truth"]:
        ((name, arguments),) = entry.items()
        parameters = _schema(record, name)
        properties, required = parameters.get("properties", {}), parameters.get("required", [])
        chosen = {}
        for param, values in arguments.items():
            if param not in properties or (any(_is_omit(v) for v in values) and param not in required):
                continue
            candidates = [v for v in values if not _is_omit(v)]
            if not candidates:
                continue
            if pick is not None:
                chosen[param] = _plain(pick(candidates))
                continue
            good = [v for v in candidates if v is not None and _fits_enum(v, properties[param])]
            chosen[param] = _plain((good or candidates)[0])
        calls.append((name, chosen))
    return calls


_DUMMY = {"string": "dummy", "any": "dummy", "integer": 7, "float": 2.5, "boolean": True, "dict": {"key": "dummy"}}


def _dummy(schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if kind in ("array", "tuple"):
        return [_dummy(schema.get("items", {}))]
    return _DUMMY.get(kind, "dummy")


def _wrong_type(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return 7
    if isinstance(value, list):
        return value[0] if value else "x"
    if isinstance(value, dict):
        return list(value.values())
    return "null"


def _string_variants(value: str) -> Iterator[tuple[str, str]]:
    yield "upper case", value.upper()
    yield "lower case", value.lower()
    yield "swapped case", value.swapcase()
    yield "spaces removed", value.replace(" ", "")
    yield "spaces doubled", value.replace(" ", "  ")
    yield "padded", f" {value} "
    yield "tab for space", value.replace(" ", "\t")
    yield "hyphens for spaces", value.replace(" ", "-")
    yield "exclamation added", value + "!"
    yield "percent added", value + "%"
    yield "hash added", value + "#"
    yield "quotes swapped", value.replace("'", '"') if "'" in value else value + "'"
    yield "at sign for dot", value.replace(".", "@") if "." in value else value + "@"
    yield "punctuation removed", "".join(ch for ch in value if ch.isalnum() or ch == " ")
    yield "word added", value + " x"


def _number_variants(value: float | int, kind: str) -> Iterator[tuple[str, Any]]:
    if kind == "float":
        if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
            yield "int for float", int(value)
        yield "float off by 1e-9 relative", value * (1 + 1e-9) if value else 1e-12
        yield "float off by 0.5", value + 0.5
        yield "float as string", str(value)
    elif kind == "integer":
        yield "float for int", float(value)
        yield "int off by one", value + 1
        if value in (0, 1):
            yield "bool for int", bool(value)
    yield "null", None


def _perturbations(record: dict[str, Any], calls: list[Call], rng: random.Random) -> Iterator[tuple[str, list[Call]]]:
    """Seeded changes of the right calls, each labelled."""
    if not calls:
        return
    index = rng.randrange(len(calls))
    name, arguments = calls[index]
    parameters = _schema(record, name)
    properties, required = parameters.get("properties", {}), parameters.get("required", [])

    def changed(new_arguments: dict[str, Any] | None = None, new_name: str | None = None) -> list[Call]:
        result = list(calls)
        result[index] = (new_name or name, arguments if new_arguments is None else new_arguments)
        return result

    others = [f["name"] for f in record["function"] if f["name"] != name]
    yield "wrong function", changed(new_name=rng.choice(others) if others else name + "_v2")
    present = sorted(arguments)
    if present:
        param = rng.choice(present)
        yield "parameter left out", changed({k: v for k, v in arguments.items() if k != param})
        yield "wrong type", changed({**arguments, param: _wrong_type(arguments[param])})
    missing_required = [p for p in required if p in arguments]
    if missing_required:
        param = rng.choice(missing_required)
        yield "required parameter left out", changed({k: v for k, v in arguments.items() if k != param})
    unset = [p for p in properties if p not in arguments]
    if unset:
        param = rng.choice(unset)
        yield "defined parameter added", changed({**arguments, param: _dummy(properties[param])})
    yield "unknown parameter added", changed({**arguments, "unexpected_param": "x"})
    truth = next(iter(record["ground_truth"][index].values()))
    for param, value in arguments.items():
        kind = properties.get(param, {}).get("type")
        variants: list[tuple[str, Any]] = []
        if isinstance(value, str):
            variants = list(_string_variants(value))
        elif isinstance(value, bool):
            variants = [("bool flipped", not value), ("int for bool", int(value)), ("bool as string", str(value))]
        elif isinstance(value, int | float):
            variants = list(_number_variants(value, str(kind)))
        elif isinstance(value, list):
            variants = [
                ("list reversed", value[::-1]),
                ("list emptied", []),
                ("list element added", [*value, *value[:1]]),
            ]
            if value and all(isinstance(item, str) for item in value):
                variants.append(("list strings upper case", [item.upper() for item in value]))
                variants.append(("list strings spaced", [f" {item}" for item in value]))
            if value and all(isinstance(item, float) and item.is_integer() for item in value):
                variants.append(("list ints for floats", [int(item) for item in value]))
            if value and all(isinstance(item, dict) for item in value):
                variants.append(("objects written BFCL's way", [{k: [v] for k, v in item.items()} for item in value]))
        elif isinstance(value, dict):
            variants = [
                ("object written BFCL's way", {k: [v] for k, v in value.items()}),
                ("object key added", {**value, "extra_key": "x"}),
            ]
            if value:
                key = rng.choice(sorted(value))
                variants.append(("object key left out", {k: v for k, v in value.items() if k != key}))
                if isinstance(value[key], str):
                    variants.append(("object string upper case", {**value, key: value[key].upper()}))
        for label, new in rng.sample(variants, min(3, len(variants))):
            yield f"{label} ({param})", changed({**arguments, param: new})
    for param, values in truth.items():
        if param in arguments or param not in properties or not any(_is_omit(v) for v in values):
            continue
        kind = properties[param].get("type")
        yield f"omissible parameter set to null ({param})", changed({**arguments, param: None})
        if kind in ("string", "any"):
            yield f"omissible string parameter set to '' ({param})", changed({**arguments, param: ""})
        if kind in ("array", "tuple"):
            yield f"omissible array parameter set to [] ({param})", changed({**arguments, param: []})
        break
    if len(calls) > 1:
        yield "calls reversed", calls[::-1]
        shuffled = list(calls)
        rng.shuffle(shuffled)
        yield "calls shuffled", shuffled
        yield "a call left out", [call for i, call in enumerate(calls) if i != index]
        yield (
            "a call repeated in place of another",
            [calls[index] if i == (index + 1) % len(calls) else c for i, c in enumerate(calls)],
        )
    yield "a call repeated", [*calls, calls[index]]


def _alternatives(record: dict[str, Any], rng: random.Random) -> Iterator[tuple[str, list[Call]]]:
    """The right calls with other accepted values of the ground truth, as written there."""
    yield "first accepted values", model_calls(record, pick=lambda values: values[0])
    yield "last accepted values", model_calls(record, pick=lambda values: values[-1])
    for round_ in range(2):
        yield f"random accepted values {round_ + 1}", model_calls(record, pick=rng.choice)


def _no_call_cases(record: dict[str, Any], rng: random.Random) -> Iterator[tuple[str, list[Call] | None]]:
    functions = record["function"]
    if not functions:
        yield "a call of a function not listed", [("search", {"query": "dummy"})]
        return
    function = rng.choice(functions)
    properties = function.get("parameters", {}).get("properties", {})
    required = function.get("parameters", {}).get("required", [])
    yield "a call with its required parameters", [(function["name"], {p: _dummy(properties[p]) for p in required})]
    yield "a call with no arguments", [(function["name"], {})]


FORMATS = ("tool_call", "json_list", "glaive", "tool_calls", "fenced")


def render(calls: Sequence[Call] | None, fmt: str) -> str:
    """A completion that makes ``calls`` in format ``fmt``; prose for none; an unreadable call for None."""
    if calls is None:
        return 'Let me call it.\n<tool_call>\n{"name": "f", "arguments": {"x": </tool_call>'
    if not calls:
        return "None of the functions I have can do that, sorry."
    objects = [{"name": name, "arguments": arguments} for name, arguments in calls]
    if fmt == "glaive":
        return "\n".join(
            f'<functioncall> {{"name": {json.dumps(o["name"])}, "arguments": \'{json.dumps(o["arguments"])}\'}}'
            for o in objects
        )
    if fmt == "json_list":
        return "Calling the functions now.\n" + json.dumps(objects)
    if fmt == "tool_calls":
        wrapped = [{"type": "function", "function": {**o, "arguments": json.dumps(o["arguments"])}} for o in objects]
        return json.dumps({"tool_calls": wrapped})
    if fmt == "fenced":
        return "```json\n" + json.dumps(objects, indent=2) + "\n```"
    return "\n".join(f"<tool_call>\n{json.dumps(o, ensure_ascii=False)}\n</tool_call>" for o in objects)


def _reads_back(completion: str, calls: Sequence[Call] | None) -> bool:
    parsed = parse_tool_calls(completion)
    if calls is None:
        return parsed.malformed
    same = [(c.name, c.arguments) for c in parsed.calls]
    return not parsed.malformed and json.dumps(same) == json.dumps([list(call) for call in calls])


def completions(record: dict[str, Any], category: str, seed: int = SEED) -> list[Case]:
    """The record's seeded completions (see the module docs); each reads back as exactly its calls."""
    rng = random.Random(f"{seed}:{record['id']}")
    labelled: list[tuple[str, list[Call] | None]] = [("no call", []), ("unreadable call", None)]
    if category in NO_CALL_CATEGORIES:
        labelled += list(_no_call_cases(record, rng))
    else:
        task = task_of(record, category)
        ours = read_task(task.functions, task.expected_calls).calls
        labelled.append(("our reference", [(call.name, dict(call.arguments)) for call in ours]))
        right = model_calls(record)
        labelled.append(("right calls", right))
        labelled += list(_alternatives(record, rng))
        labelled += list(_perturbations(record, right, rng))
    cases, seen = [], set()
    for label, calls in labelled:
        key = json.dumps(calls, sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        fmt = rng.choice(FORMATS)
        completion = render(calls, fmt)
        if not _reads_back(completion, calls):
            completion = render(calls, "tool_call")
            if not _reads_back(completion, calls):
                raise AssertionError(f"{record['id']} {label}: the completion does not read back as its calls")
        frozen = None if calls is None else tuple((name, arguments) for name, arguments in calls)
        cases.append(Case(record["id"], category, label, frozen, completion))
    return cases


def task_of(record: dict[str, Any], category: str) -> FunctionCallingTask:
    task = bfcl_task(record, source=category)
    if task is None:
        raise AssertionError(f"{record['id']}: bfcl_task cannot read the record")
    return task


# --- agreement ---------------------------------------------------------------


@dataclass
class Judged:
    """One case judged by BFCL (None: its checker raised) and by each of our modes (None: data_error)."""

    case: Case
    bfcl: bool | None
    ours: dict[str, bool | None]


@dataclass
class CategoryResult:
    category: str
    records: int = 0
    bfcl_scores: set[str] = field(default_factory=set)  # records BFCL accepts some completion of
    we_score: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # mode -> records scored
    judged: list[Judged] = field(default_factory=list)
    bfcl_raised: int = 0

    def compared(self, mode: str) -> list[Judged]:
        """The cases of records both BFCL and ``mode`` can score."""
        both = self.bfcl_scores & self.we_score[mode]
        return [j for j in self.judged if j.case.record in both and j.bfcl is not None and j.ours[mode] is not None]

    def agreement(self, mode: str) -> tuple[int, int]:
        cases = self.compared(mode)
        return sum(j.bfcl == j.ours[mode] for j in cases), len(cases)

    def disagreements(self, mode: str) -> list[Judged]:
        return [j for j in self.compared(mode) if j.bfcl != j.ours[mode]]


def judge(categories: Sequence[str] = CATEGORIES, seed: int = SEED) -> dict[str, CategoryResult]:
    """Every case of every record of ``categories`` judged by BFCL and by ToolCallMatch in each mode."""
    reference = Reference()
    verifiers = {mode: ToolCallMatch(mode) for mode in MODES}
    results = {}
    for category in categories:
        result = CategoryResult(category)
        for record in records(category):
            result.records += 1
            task = task_of(record, category)
            for case in completions(record, category, seed):
                verdict = reference.valid(record, category, case.calls)
                result.bfcl_raised += verdict is None
                if verdict:
                    result.bfcl_scores.add(record["id"])
                ours: dict[str, bool | None] = {}
                for mode, verifier in verifiers.items():
                    score = verifier(case.completion, task)
                    ours[mode] = None if score.status is Status.DATA_ERROR else score.status is Status.OK
                    if ours[mode] is not None:
                        result.we_score[mode].add(record["id"])
                result.judged.append(Judged(case, verdict, ours))
        results[category] = result
    return results


def _percent(agree: int, total: int) -> str:
    return f"{100 * agree / total:6.2f}%" if total else "     -"


def table(results: dict[str, CategoryResult]) -> str:
    """Agreement per category, and the records each side can score."""
    modes = MODES
    head = f"{'category':<24}{'records':>8}{'BFCL scores':>12}"
    for mode in modes:
        head += f"{mode + ' scores':>15}{mode + ' vs BFCL':>15}{'(cases)':>9}"
    lines = [head, "-" * len(head)]
    totals: Counter[str] = Counter()
    for category, result in results.items():
        line = f"{category:<24}{result.records:>8}{len(result.bfcl_scores):>12}"
        totals["records"] += result.records
        totals["bfcl"] += len(result.bfcl_scores)
        for mode in modes:
            agree, total = result.agreement(mode)
            totals[f"{mode} scores"] += len(result.we_score[mode])
            totals[f"{mode} agree"] += agree
            totals[f"{mode} total"] += total
            line += f"{len(result.we_score[mode]):>15}{_percent(agree, total):>15}{total:>9}"
        lines.append(line)
    line = f"{'all':<24}{totals['records']:>8}{totals['bfcl']:>12}"
    for mode in modes:
        agree, total = totals[f"{mode} agree"], totals[f"{mode} total"]
        line += f"{totals[f'{mode} scores']:>15}{_percent(agree, total):>15}{total:>9}"
    lines.append(line)
    raised = sum(result.bfcl_raised for result in results.values())
    lines.append(f"cases where BFCL's checker raised (left out): {raised}")
    return "\n".join(lines)


def unscorable(results: dict[str, CategoryResult], mode: str) -> list[str]:
    """Records BFCL can score and ``mode`` cannot, with our reason."""
    lines = []
    for category, result in results.items():
        for record in records(category):
            if record["id"] in result.bfcl_scores - result.we_score[mode]:
                score = ToolCallMatch(mode)("", task_of(record, category))  # type: ignore[arg-type]
                lines.append(f"{record['id']}: {score.details.get('reason')}")
    return lines


def main() -> None:
    results = judge()
    print(table(results))
    for mode in MODES:
        missing = unscorable(results, mode)
        print(f"\nrecords BFCL scores and {mode} mode does not: {len(missing)}")
        for line in missing:
            print(f"  {line}")
        wrong = [j for r in results.values() for j in r.disagreements(mode)]
        print(f"{mode} mode disagrees with BFCL on {len(wrong)} cases; by what the case changed:")
        for label, count in Counter(kind(j.case.label) for j in wrong).most_common(40):
            print(f"  {count:6d}  {label}")


def kind(label: str) -> str:
    """What a case changed, without the parameter it changed: ``"upper case (city)"`` -> ``"upper case"``."""
    return label.split(" (")[0]


if __name__ == "__main__":
    main()
