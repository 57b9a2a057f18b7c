"""How fast the IFEval checkers judge realistic responses, strict and loose, against IFEval's own code.

Items are (instructions, response) pairs drawn from a fixed seed: 1-3 of the 25
IFEval instructions with kwargs in IFEval's ranges, and a 100-400 word
response built from the pieces models write (prose paragraphs, bullet lists,
titles, highlights, sections, JSON in fences, postscripts, quotes, capitals),
so about half the instructions are followed. Measured in instruction
verifications per second (median of repeats):

1. ``check_instruction`` strict and loose, over all 25 instruction types.
2. The peer, on the 23 types it can run here: IFEval's ``instructions.py`` as
   shipped in lm-eval (``lm_eval/tasks/ifeval``), built and checked per
   instruction the way its evaluation loop does, loose as its
   ``test_instruction_following_loose``. Its sentence counter and its
   capital-word counter need nltk's punkt data, which cannot be downloaded
   here, so ``length_constraints:number_sentences`` and
   ``change_case:capital_word_frequency`` are left out of the comparison.
   The peer needs ``nltk`` and ``immutabledict`` importable and the lm-eval
   wheel (``pip download --no-deps lm-eval``); pass the wheel with
   ``--peer-wheel``. lm-eval's package import pulls in its whole harness, so
   the script loads the three ifeval files from the wheel on their own.

Also printed: how often our verdicts agree with the peer's, per instruction.

Run: .venv/bin/python benchmarks/ifeval_speed.py [--peer-wheel lm_eval-*.whl]
"""

from __future__ import annotations

import argparse
import importlib
import logging
import random
import statistics
import sys
import tempfile
import time
import types
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rlvr.verifiers.ifeval import INSTRUCTION_IDS, check_instruction, instruction_variants

Item = tuple[str, dict[str, Any], str]  # (instruction id, kwargs, response)

NEEDS_PUNKT = {"length_constraints:number_sentences", "change_case:capital_word_frequency"}
WORDS = (
    "river", "light", "garden", "system", "market", "policy", "energy", "winter", "city", "model", "music",
    "history", "data", "ocean", "travel", "health", "science", "family", "story", "water", "school", "village",
    "mountain", "future", "engine", "paper", "window", "bridge", "forest",
)  # fmt: skip


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(6, 16))]
    if rng.random() < 0.3:
        words.insert(rng.randint(1, len(words) - 1), rng.choice(["and,", "however,", "which,"]))
    return " ".join(words).capitalize() + rng.choice([".", ".", ".", "!", "?"])


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(2, 5)))


def response(rng: random.Random) -> str:
    parts = []
    if rng.random() < 0.3:
        parts.append(f"<<{rng.choice(WORDS).title()} {rng.choice(WORDS)}>>")
    if rng.random() < 0.2:
        parts.append("Sure, here is my answer:")
    for index in range(rng.randint(1, 4)):
        kind = rng.random()
        if kind < 0.15:
            parts.append("\n".join(f"{rng.choice('*-')} {sentence(rng)}" for _ in range(rng.randint(2, 5))))
        elif kind < 0.25:
            parts.append(f"SECTION {index + 1}\n{paragraph(rng)}")
        elif kind < 0.33:
            parts.append(f"*{rng.choice(WORDS)} {rng.choice(WORDS)}* {paragraph(rng)}")
        elif kind < 0.38:
            parts.append(paragraph(rng).upper())
        else:
            parts.append(paragraph(rng))
    text = rng.choice(["\n\n", "\n***\n", "\n******\n"]).join(parts)
    roll = rng.random()
    if roll < 0.08:
        text = '```json\n{"answer": "' + rng.choice(WORDS) + '", "items": [1, 2, 3]}\n```'
    elif roll < 0.15:
        text = text.lower()
    elif roll < 0.2:
        text = f'"{text}"'
    if rng.random() < 0.2:
        text += "\n\nP.S. " + sentence(rng)
    if rng.random() < 0.15:
        text += " " + rng.choice(
            ["Any other questions?", "My answer is yes.", "Is there anything else I can help with?"]
        )
    return text


def kwargs_for(instruction_id: str, rng: random.Random) -> dict[str, Any]:
    relation = rng.choice(["less than", "at least"])
    match instruction_id:
        case "keywords:existence":
            return {"keywords": rng.sample(WORDS, rng.randint(1, 3))}
        case "keywords:frequency":
            return {"keyword": rng.choice(WORDS), "frequency": rng.randint(1, 4), "relation": relation}
        case "keywords:forbidden_words":
            return {"forbidden_words": rng.sample(WORDS, rng.randint(1, 3))}
        case "keywords:letter_frequency":
            return {"letter": rng.choice("aeiorstxyz"), "let_frequency": rng.randint(1, 12), "let_relation": relation}
        case "language:response_language":
            return {"language": rng.choice(["en", "fr", "de"])}
        case "length_constraints:number_sentences":
            return {"num_sentences": rng.randint(1, 12), "relation": relation}
        case "length_constraints:number_paragraphs":
            return {"num_paragraphs": rng.randint(1, 4)}
        case "length_constraints:number_words":
            return {"num_words": rng.choice([50, 100, 200, 300]), "relation": relation}
        case "length_constraints:nth_paragraph_first_word":
            return {"num_paragraphs": rng.randint(1, 4), "nth_paragraph": rng.randint(1, 3), "first_word": "the"}
        case "detectable_content:number_placeholders":
            return {"num_placeholders": rng.randint(1, 2)}
        case "detectable_content:postscript":
            return {"postscript_marker": rng.choice(["P.S.", "P.P.S"])}
        case "detectable_format:number_bullet_lists":
            return {"num_bullets": rng.randint(1, 5)}
        case "detectable_format:number_highlighted_sections":
            return {"num_highlights": rng.randint(1, 3)}
        case "detectable_format:multiple_sections":
            return {"section_spliter": "SECTION", "num_sections": rng.randint(1, 3)}
        case "combination:repeat_prompt":
            return {"prompt_to_repeat": "Sure, here is my answer:"}
        case "startend:end_checker":
            return {"end_phrase": rng.choice(["Any other questions?", "Is there anything else I can help with?"])}
        case "change_case:capital_word_frequency":
            return {"capital_frequency": rng.randint(1, 20), "capital_relation": relation}
    return {}


def make_items(count: int, seed: int = 0) -> list[Item]:
    rng = random.Random(seed)
    items = []
    for _ in range(count):
        text = response(rng)
        for instruction_id in rng.sample(INSTRUCTION_IDS, rng.randint(1, 3)):
            items.append((instruction_id, kwargs_for(instruction_id, rng), text))
    return items


# --- the peer ----------------------------------------------------------------


def load_peer(wheel: Path) -> Any:
    """IFEval's registry from an lm-eval wheel, without importing the rest of lm-eval."""
    folder = Path(tempfile.mkdtemp(prefix="ifeval_peer_"))
    with zipfile.ZipFile(wheel) as archive:
        for name in ("instructions.py", "instructions_util.py", "instructions_registry.py"):
            (folder / name).write_bytes(archive.read(f"lm_eval/tasks/ifeval/{name}"))
    for name, path in (("lm_eval", []), ("lm_eval.tasks", []), ("lm_eval.tasks.ifeval", [str(folder)])):
        module = types.ModuleType(name)
        module.__path__ = path
        sys.modules[name] = module
    logging.disable(logging.CRITICAL)  # it logs every undetectable language
    return importlib.import_module("lm_eval.tasks.ifeval.instructions_registry")


def peer_check(registry: Any, item: Item, loose: bool) -> bool:
    instruction_id, kwargs, text = item
    instruction = registry.INSTRUCTION_DICT[instruction_id](instruction_id)
    instruction.build_description(**{key: value for key, value in kwargs.items() if value})
    return any(
        variant.strip() and instruction.check_following(variant) for variant in instruction_variants(text, loose)
    )


# --- measurement -------------------------------------------------------------


def rate(check: Callable[[Item], bool], items: list[Item], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for item in items:
            check(item)
        times.append(time.perf_counter() - start)
    return len(items) / statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=600, help="responses (1-3 instructions each)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--peer-wheel", type=Path, help="lm-eval wheel holding IFEval's instructions.py")
    args = parser.parse_args()

    items = make_items(args.items)
    shared = [item for item in items if item[0] not in NEEDS_PUNKT]
    check_instruction("language:response_language", {"language": "en"}, "warm up the language profiles")
    print(f"{len(items)} instruction checks over {args.items} responses ({len(shared)} of the 23 shared types)")
    for loose in (False, True):
        name = "loose" if loose else "strict"

        def ours(item: Item, loose: bool = loose) -> bool:
            return check_instruction(item[0], item[1], item[2], loose=loose)

        print(f"ours {name:6}  all 25 types: {rate(ours, items, args.repeats):9,.0f} checks/s")
        print(f"ours {name:6}  23 shared:    {rate(ours, shared, args.repeats):9,.0f} checks/s")
        if args.peer_wheel is None:
            continue
        registry = load_peer(args.peer_wheel)

        def peer(item: Item, loose: bool = loose, registry: Any = registry) -> bool:
            return peer_check(registry, item, loose)

        print(f"peer {name:6}  23 shared:    {rate(peer, shared, args.repeats):9,.0f} checks/s")
        disagree: Counter[str] = Counter()
        for item in shared:
            if ours(item) != peer(item):
                disagree[item[0]] += 1
        agreed = len(shared) - sum(disagree.values())
        print(f"  verdicts agree on {agreed}/{len(shared)}; disagreements: {dict(disagree) or 'none'}")


if __name__ == "__main__":
    main()
