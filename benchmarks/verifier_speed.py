"""How fast the Arithmetic rubric judges completions, and why extraction avoids regex backtracking.

Part 1: verifications per second of the Arithmetic rubric (Fireworks and R1
templates) on realistic completions: right, wrong, hedged and unformatted.

Part 2: our Fireworks extractor against the common one-regex extractor
(``Final Answer: The final answer is (.*?)\\. I hope it is correct``, as in
Minerva-style evaluation code) on adversarial completions of growing size,
"final answer: the final answer is 1 " repeated with no closing sentence. The
lazy group rescans the rest of the text from every start, so its time grows
with the square of the length; ours stays linear.

Run: .venv/bin/python benchmarks/verifier_speed.py
Prints medians over repeats; these machines are shared, so compare ratios.
"""

from __future__ import annotations

import re

from timing import median_seconds

from rlvr import envs
from rlvr.envs.arithmetic.env import ArithmeticSource
from rlvr.verifiers.extract import extract_fireworks

NAIVE = re.compile(r"Final Answer: The final answer is (.*?)\. I hope it is correct", re.IGNORECASE | re.DOTALL)


def naive_extract(text: str) -> str | None:
    matches = NAIVE.findall(text)
    return matches[-1] if matches else None


def rubric_throughput() -> None:
    source = ArithmeticSource()
    tasks = [source.get(i) for i in range(500)]
    for name in ("fireworks", "r1"):
        template = envs.entry("rlvr/Arithmetic-v0").templates[name]
        rubric = envs.entry("rlvr/Arithmetic-v0").make_rubric(template)
        reasoning = "Let me multiply step by step. " * 20
        completions = []
        for task in tasks:
            right, wrong = str(task.answer), str(task.answer + 7)
            completions += [
                (template.answer_completion(right, reasoning), task),
                (template.answer_completion(wrong, reasoning), task),
                (template.answer_completion(wrong) + "\n" + template.answer_completion(right), task),
                (reasoning + right, task),
            ]

        def judge_all(completions=completions, rubric=rubric):
            for completion, task in completions:
                rubric.score(completion, task)

        seconds = median_seconds(judge_all)
        print(f"rubric[{name:9}] {len(completions) / seconds:12,.0f} verifications/s  ({len(completions)} per run)")


def extraction_scaling() -> None:
    print("\nadversarial input        ours (s)   one-regex (s)   one-regex / ours")
    for size in (10_000, 20_000, 40_000, 80_000):
        unit = "final answer: the final answer is 1 "
        text = unit * (size // len(unit))
        ours = median_seconds(lambda text=text: extract_fireworks(text))
        naive = median_seconds(lambda text=text: naive_extract(text), repeats=3)
        print(f"{len(text):>10,} chars   {ours:10.4f}   {naive:13.4f}   {naive / ours:14.0f}x")


if __name__ == "__main__":
    rubric_throughput()
    extraction_scaling()
