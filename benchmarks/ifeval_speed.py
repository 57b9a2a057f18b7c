"""How fast the IFEval checkers judge realistic responses, strict and loose, against IFEval's own code.

Items are (instructions, response) pairs drawn from a fixed seed: 1-3 of the 25
IFEval instructions with kwargs in IFEval's ranges, and a 100-400 word
response built from the pieces models write (prose paragraphs, bullet lists,
titles, highlights, sections, JSON in fences, postscripts, quotes, capitals),
so about half the instructions are followed. Measured in instruction
verifications per second (median of repeats):

1. ``check_instruction`` strict and loose, IFEval's own verdicts, over all 25
   instruction types.
2. The same, hardened (``hardened=True``, the verifier's default): literal
   keywords, the windowed language check, and every instruction judged on
   the text as a reader sees it as well (``rlvr.verifiers.visible_text``).
3. The peer: IFEval's checkers as the PyPI package ``if-verifiable`` ships
   them (the same code as lm-eval's ``lm_eval/tasks/ifeval``), built and
   checked per instruction the way IFEval's evaluation loop does, loose as
   its ``test_instruction_following_loose``
   (``rlvr.verifiers.instruction_cases.reference_verdict``); it is in the
   project's ``dev`` extra.

Also printed: how often our verdicts agree with the peer's, per instruction.

Run: .venv/bin/python benchmarks/ifeval_speed.py
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from rlvr.verifiers.ifeval import INSTRUCTION_IDS, check_instruction
from rlvr.verifiers.instruction_cases import reference_verdict

Item = tuple[str, dict[str, Any], str]  # (instruction id, kwargs, response)

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
            paragraphs = rng.randint(1, 4)
            return {"num_paragraphs": paragraphs, "nth_paragraph": rng.randint(1, paragraphs), "first_word": "the"}
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


def peer_check(item: Item, loose: bool) -> bool:
    """IFEval's own verdict (if-verifiable); its crash counts as "not followed"."""
    verdict = reference_verdict(item[0], item[1], item[2], loose=loose)
    return verdict is True


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
    args = parser.parse_args()

    items = make_items(args.items)
    check_instruction("language:response_language", {"language": "en"}, "warm up the language profiles")
    peer_check(items[0], loose=False)  # loads the reference
    print(f"{len(items)} instruction checks over {args.items} responses, all 25 IFEval types; median of {args.repeats}")
    for loose in (False, True):
        name = "loose" if loose else "strict"

        def ours(item: Item, loose: bool = loose, hardened: bool = False) -> bool:
            return check_instruction(item[0], item[1], item[2], loose=loose, hardened=hardened)

        def hardened(item: Item, loose: bool = loose) -> bool:
            return ours(item, loose, hardened=True)

        def peer(item: Item, loose: bool = loose) -> bool:
            return peer_check(item, loose)

        speeds = {label: rate(check, items, args.repeats) for label, check in
                  (("ours", ours), ("ours, hardened", hardened), ("peer (if-verifiable)", peer))}  # fmt: skip
        for label, speed in speeds.items():
            ratio = speed / speeds["peer (if-verifiable)"]
            print(f"{name:6}  {label:22} {speed:9,.0f} checks/s  ({ratio:.2f}x the peer)")
        disagree: Counter[str] = Counter()
        for item in items:
            if ours(item) != peer(item):
                disagree[item[0]] += 1
        agreed = len(items) - sum(disagree.values())
        print(f"        verdicts agree on {agreed}/{len(items)}; disagreements: {dict(disagree) or 'none'}")


if __name__ == "__main__":
    main()
