"""rlvr/InstructionFollowing-v0: writing prompts with IFEval's (and IFBench's) verifiable instructions.

Where tasks come from:

* by default, made offline (``rlvr.envs.instruction_following.prompts``): task ``i`` is a
  pure function of ``random.Random(i)``: one of the base writing prompts plus
  ``min_constraints``..``max_constraints`` mutually compatible instructions
  (from ``instructions``: default IFEval's 25; IFBench's ids in
  ``prompts.IFBENCH_GENERATED`` may be named too), each with kwargs under the
  benchmark's names and phrased as it phrases them. Every generated task has a
  reference response that follows all of its instructions.
* ``dataset=...``: IFEval- or IFBench-format records (``prompt``,
  ``instruction_id_list``, ``kwargs``), a local ``.jsonl``, ``.json`` or
  ``.parquet`` file or a hub id (``google/IFEval``, ``allenai/IFBench_test``).
  A record with an instruction id outside IFEval's 25 and IFBench's 58 is left
  out, with a warning that counts them.

The reward is ``rlvr.verifiers.ifeval.InstructionFollowing``: the fraction of
instructions followed (``reward_mode="fraction"``, IFEval's instruction-level
accuracy) or 1 only when all are (``"all"``, prompt-level), strict by default
or IFEval's loose check with ``loose=True``. Templates: ``chat`` (the prompt
as the user message) and ``r1`` (think first; only the text after
``</think>`` is judged).

    env = gymnasium.make("rlvr/InstructionFollowing-v0", max_constraints=2, reward_mode="all")
    env = gymnasium.make("rlvr/InstructionFollowing-v0", dataset="google/IFEval")
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

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
from rlvr.envs.core.templates import PromptTemplate
from rlvr.envs.instruction_following.prompts import (
    BASE_PROMPTS,
    IFBENCH_GENERATED,
    INSTRUCTIONS,
    Unconstructible,
    build_response,
    describe,
    sample_constraints,
)
from rlvr.verifiers.extract import AnswerFormat
from rlvr.verifiers.ifeval import known_instruction_ids
from rlvr.verifiers.rubric import Criterion, Rubric

__all__ = [
    "TEMPLATES",
    "InstructionConfig",
    "InstructionRecords",
    "InstructionSource",
    "InstructionTask",
    "ProceduralInstructionSource",
    "ifeval_task",
    "instruction_rubric",
    "load_ifbench",
    "load_ifeval",
]

RewardMode = Literal["fraction", "all"]


class InstructionTask(Task):
    """One prompt with IFEval or IFBench instructions, in IFEval's record layout."""

    instruction_ids: list[str] = Field(
        description="IFEval or IFBench instruction ids, e.g. ['punctuation:no_comma', 'count:numbers']."
    )
    kwargs: list[dict[str, Any]] = Field(
        description="One dict of keyword arguments per instruction id, IFEval's names, None values dropped."
    )
    prompt_text: str = Field(description="The full prompt, as combination:repeat_prompt may ask to repeat it.")
    reward_mode: RewardMode = Field(
        "fraction", description="fraction: the share of instructions followed; all: 1 only when every one is."
    )
    loose: bool = Field(False, description="Judge with IFEval's loose check instead of the strict one.")
    source: str = Field("procedural", description="Where the task came from: 'procedural', or the data set.")

    def constraints(self) -> list[tuple[str, dict[str, Any]]]:
        """The instructions as ``(id, kwargs)`` pairs."""
        return list(zip(self.instruction_ids, self.kwargs, strict=True))

    def reference_answer(self) -> str | None:
        """A response that follows every instruction, or None when none can be made (some data set records)."""
        try:
            return build_response(self.constraints())
        except Unconstructible:
            return None

    def demo_completions(self, template: PromptTemplate) -> dict[str, str]:
        """For ``rlvr demo``: a following response, one that breaks one instruction, an empty one and junk."""
        samples: dict[str, str] = {}
        reference = self.reference_answer()
        think = "<think>Let me plan the response.</think>\n" if template.name == "r1" else ""
        if reference is not None:
            samples["right answer"] = think + reference
        broken = break_one(self)
        if broken is not None:
            samples[f"breaks {broken[0]}"] = think + broken[1]
        samples["empty"] = ""
        samples["junk"] = "\x00\ufffd<think>}}{{***"
        return samples


def _negation(instruction_id: str, kwargs: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]] | None:
    """Instructions whose response cannot follow ``instruction_id``; [] when leaving it out is enough."""
    flips = {"less than": "at least", "at least": "less than"}
    match instruction_id:
        case "keywords:frequency" | "length_constraints:number_sentences" | "length_constraints:number_words":
            return [(instruction_id, {**kwargs, "relation": flips[kwargs["relation"]]})]
        case "keywords:letter_frequency":
            return [(instruction_id, {**kwargs, "let_relation": flips[kwargs["let_relation"]]})]
        case "change_case:capital_word_frequency":
            return [(instruction_id, {**kwargs, "capital_relation": flips[kwargs["capital_relation"]]})]
        case "keywords:forbidden_words":
            return [("keywords:existence", {"keywords": list(kwargs["forbidden_words"])})]
        case "keywords:existence":
            return [("keywords:forbidden_words", {"forbidden_words": list(kwargs["keywords"])})]
        case "change_case:english_capital":
            return [("change_case:english_lowercase", {})]
        case "change_case:english_lowercase":
            return [("change_case:english_capital", {})]
        case "length_constraints:number_paragraphs":
            return [(instruction_id, {**kwargs, "num_paragraphs": int(kwargs["num_paragraphs"]) + 1})]
        case "detectable_format:number_bullet_lists":
            return [(instruction_id, {**kwargs, "num_bullets": int(kwargs["num_bullets"]) + 1})]
        case "length_constraints:nth_paragraph_first_word":
            other = "meadow" if kwargs["first_word"] != "meadow" else "harbor"
            return [(instruction_id, {**kwargs, "first_word": other})]
        case "punctuation:no_comma":
            return None
    return []


def break_one(task: InstructionTask) -> tuple[str, str] | None:
    """``(instruction id, response)``: a response that follows all of ``task``'s instructions but that one.

    None when no such response can be made.
    """
    from rlvr.verifiers.ifeval import check_instruction

    constraints = task.constraints()
    for index, (instruction_id, kwargs) in enumerate(constraints):
        others = constraints[:index] + constraints[index + 1 :]
        negation = _negation(instruction_id, kwargs)
        try:
            response = build_response(others + (negation or []), comma=negation is None, check=False)
        except (Unconstructible, KeyError, ValueError):
            continue
        if check_instruction(instruction_id, kwargs, response):
            continue
        if all(check_instruction(i, k, response) for i, k in others):
            return instruction_id, response
    return None


# --- configuration ------------------------------------------------------------------

_GENERATOR_FIELDS = frozenset({"min_constraints", "max_constraints", "instructions"})
_DATASET_FIELDS = frozenset({"split", "subset"})


class InstructionConfig(DecontaminationOptions):
    """Task options of rlvr/InstructionFollowing-v0."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dataset: str | None = Field(
        None,
        description="Read IFEval- or IFBench-format records (prompt, instruction_id_list, kwargs) instead of "
        "generating tasks: a local .jsonl, .json or .parquet file, or a Hugging Face hub id such as google/IFEval.",
    )
    split: str = Field("train", description="Split of the data set to read (a local file is read as this split).")
    subset: str | None = Field(None, description="Configuration of a hub data set, if it has several.")
    min_constraints: int = Field(1, ge=1, le=5, description="Fewest instructions in a generated task.")
    max_constraints: int = Field(3, ge=1, le=5, description="Most instructions in a generated task.")
    instructions: list[str] | None = Field(
        None,
        min_length=1,
        description="Instruction ids generated tasks draw from: IFEval's (default all 25) and the IFBench ids "
        f"the generator makes references for ({', '.join(IFBENCH_GENERATED)}).",
    )
    reward_mode: RewardMode = Field(
        "fraction",
        description="fraction: reward is the share of instructions followed (instruction-level accuracy); "
        "all: 1 only when every instruction is followed (prompt-level accuracy).",
    )
    loose: bool = Field(
        False, description="Use IFEval's loose check (also try without first/last line and '*'); strict by default."
    )

    @model_validator(mode="after")
    def _check(self) -> InstructionConfig:
        check_source_options(self, _GENERATOR_FIELDS, _DATASET_FIELDS)
        if self.dataset is not None:
            return self
        if self.min_constraints > self.max_constraints:
            raise ValueError(
                f"min_constraints={self.min_constraints} is more than max_constraints={self.max_constraints}"
            )
        unknown = sorted(set(self.instructions or ()) - set(INSTRUCTIONS))
        if unknown:
            raise ValueError(f"instructions: ids the generator cannot make {unknown}; choose from {list(INSTRUCTIONS)}")
        return self


# --- generated tasks ------------------------------------------------------------------


class ProceduralInstructionSource(ProceduralSource):
    """Base prompts with IFEval instructions drawn per ``InstructionConfig``; task ``i`` depends on ``i`` alone."""

    def __init__(self, config: InstructionConfig | None = None) -> None:
        self.config = config or InstructionConfig()

    def generate(self, rng: random.Random, **options: Any) -> InstructionTask:
        """A base prompt and its instructions, drawn with ``rng``."""
        config = self.config
        base = rng.choice(BASE_PROMPTS)
        constraints = sample_constraints(
            rng,
            base,
            allowed=config.instructions,
            min_count=config.min_constraints,
            max_count=config.max_constraints,
        )
        prompt = base + "\n\n" + " ".join(describe(i, k) for i, k in constraints)
        return InstructionTask(
            question=prompt,
            prompt_text=prompt,
            instruction_ids=[i for i, _ in constraints],
            kwargs=[k for _, k in constraints],
            reward_mode=config.reward_mode,
            loose=config.loose,
        )


# --- IFEval-format data sets ----------------------------------------------------------


@dataclass(frozen=True)
class InstructionRecords:
    """A data set read by ``load_ifeval``.

    Attributes:
        tasks: one task per usable record, in order.
        skipped: row numbers of the records left out (an unknown instruction id or no prompt).
    """

    tasks: tuple[InstructionTask, ...]
    skipped: tuple[int, ...]


def ifeval_task(
    row: Mapping[str, Any], *, source: str = "ifeval", reward_mode: RewardMode = "fraction", loose: bool = False
) -> InstructionTask | None:
    """One IFEval or IFBench record as a task, or None when it has no prompt, no ids, or an id outside both.

    Kwargs whose value is None are dropped (the hub data set fills every
    field of every instruction); missing kwargs are empty dicts.
    """
    prompt, ids = row.get("prompt"), row.get("instruction_id_list")
    known = known_instruction_ids()
    if not prompt or not isinstance(ids, list) or not ids or any(i not in known for i in ids):
        return None
    raw = row.get("kwargs") or [{}] * len(ids)
    if not isinstance(raw, list) or len(raw) != len(ids):
        return None
    kwargs = [{k: v for k, v in (entry or {}).items() if v is not None} for entry in raw]
    return InstructionTask(
        question=str(prompt),
        prompt_text=str(prompt),
        instruction_ids=[str(i) for i in ids],
        kwargs=kwargs,
        reward_mode=reward_mode,
        loose=loose,
        source=source,
    )


def load_ifeval(
    source: str,
    *,
    split: str = "train",
    subset: str | None = None,
    reward_mode: RewardMode = "fraction",
    loose: bool = False,
) -> InstructionRecords:
    """The tasks of an IFEval- or IFBench-format data set, read with the ``datasets`` library.

    Records hold ``prompt``, ``instruction_id_list`` and ``kwargs`` (one dict
    per id); the ids may be IFEval's and IFBench's, mixed.

    Records with an unknown instruction id (or no prompt) are left out; a
    warning gives their count and first row numbers.

    Raises:
        ImportError: ``datasets`` is not installed.
        ValueError: a required column is missing, or no record is usable.
    """
    rows = read_dataset(source, split, subset, what="IFEval data sets")
    columns = list(rows.column_names)
    missing = [name for name in ("prompt", "instruction_id_list") if name not in columns]
    if missing:
        raise ValueError(f"{source}: an IFEval data set needs the field(s) {missing}; it has {sorted(columns)}")
    tasks, skipped = [], []
    for index, row in enumerate(rows):
        task = ifeval_task(row, source=source, reward_mode=reward_mode, loose=loose)
        if task is None:
            skipped.append(index)
        else:
            tasks.append(task)
    if not tasks:
        raise ValueError(f"{source}: none of its {len(skipped)} records (split {split!r}) is usable")
    if skipped:
        first = ", ".join(str(i) for i in skipped[:10]) + (", ..." if len(skipped) > 10 else "")
        warnings.warn(
            f"{source}: left out {len(skipped)} of {len(skipped) + len(tasks)} records with an unknown "
            f"instruction id (or no prompt); rows {first}",
            stacklevel=2,
        )
    return InstructionRecords(tuple(tasks), tuple(skipped))


load_ifbench = load_ifeval
"""IFBench's records have IFEval's layout: ``load_ifbench("allenai/IFBench_test", split="train")``."""


class InstructionSource(GeneratedOrDataset):
    """rlvr/InstructionFollowing-v0's tasks: generated, or a data set when ``dataset`` is given.

    Takes the ``InstructionConfig`` fields as keyword options.

    Attributes:
        skipped: row numbers of the data set's records left out (empty when generated).
    """

    config_model = InstructionConfig

    def generator(self, config: InstructionConfig) -> TaskSource:
        return ProceduralInstructionSource(config)

    def read(self, config: InstructionConfig, dataset: str) -> tuple[Sequence[Task], tuple[int, ...]]:
        records = load_ifeval(
            dataset, split=config.split, subset=config.subset, reward_mode=config.reward_mode, loose=config.loose
        )
        return records.tasks, records.skipped


# --- templates and rubric -----------------------------------------------------------------

CHAT = PromptTemplate(name="chat", answer_format=AnswerFormat.LAST_NUMBER, user="{question}")
"""The prompt as the user message; the whole completion is judged."""

_R1_SYSTEM = (
    "A conversation between User and Assistant. The user asks for a piece of writing, and the Assistant "
    "writes it. The assistant first thinks about the reasoning process in the mind and then gives the user "
    "the response. The reasoning process is enclosed within <think> </think> tags and the response follows "
    "them, i.e., <think> reasoning process here </think> response here."
)

R1_CHAT = PromptTemplate(
    name="r1",
    answer_format=AnswerFormat.LAST_NUMBER,
    system=_R1_SYSTEM,
    user="{question}",
    text=_R1_SYSTEM + " User: {question} Assistant:",
)
"""DeepSeek-R1-Zero's think-first template; only the text after the last ``</think>`` is judged."""

TEMPLATES: dict[str, PromptTemplate] = {t.name: t for t in (CHAT, R1_CHAT)}
"""chat (the default) and r1."""


def instruction_rubric(template: PromptTemplate) -> Rubric:
    """``accuracy``: ``InstructionFollowing`` under each task's reward mode and strictness.

    The verifier judges only the text after the last ``</think>``, so one
    rubric serves both templates.
    """
    from rlvr.verifiers.ifeval import InstructionFollowing

    return Rubric([Criterion("accuracy", InstructionFollowing(), 1.0)])


_FORM_ONLY = (
    "the reward judges the form the instructions ask for, not what the text says (as IFEval does): "
    "any text in that form is a right answer"
)
_DISGUISE = (
    "a disguised right answer keeps the form the instructions judge; that a disguise never turns a broken "
    "instruction into a followed one is tested for every instruction id (tests/test_ifeval.py)"
)
INSTRUCTION_AUDIT_EXEMPT = {
    **dict.fromkeys(
        ("format only", "prompt echo", "candidates", "candidates, right inside", "huge",
         "nested", "success claim", "grader instructions"),
        _FORM_ONLY,
    ),
    "look-alikes": _DISGUISE,
    "zero-width": _DISGUISE,
}  # fmt: skip
"""``rlvr audit`` strategies that say nothing about this env: text-free gaming cannot be told from a short answer
that follows form-only instructions. Empty and blank completions are still judged, and so are the properties."""


register(
    "rlvr/InstructionFollowing-v0",
    source=InstructionSource,
    rubric=instruction_rubric,
    template=TEMPLATES,
    description="Writing prompts with IFEval's 25 verifiable instructions (and 8 of IFBench's), made offline; "
    "IFEval- or IFBench-format files or hub ids.",
    audit_exempt=INSTRUCTION_AUDIT_EXEMPT,
)
