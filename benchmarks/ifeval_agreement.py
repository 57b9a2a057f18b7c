"""How often ``check_instruction`` agrees with IFEval's and IFBench's own checkers, per instruction id.

For each of IFEval's 25 and IFBench's 58 instruction ids, ``--cases`` seeded
cases from ``rlvr.verifiers.instruction_cases`` (responses near every
threshold, about half following), each judged strict and loose by
``check_instruction`` (``hardened=False``) and by the reference: the checkers
of the PyPI package if-verifiable (IFEval's are the same code as lm-eval's),
run as their evaluation loop runs them. Printed per id: the number of cases,
the share the reference judges followed, agreement strict and loose, and how
often the reference raised (a crash counts as "not followed" here, a
documented departure). ``words:start_verb`` needs nltk's tagger data; without
it the row says so.

Needs: ``pip install if-verifiable`` and the Punkt model
(``python -m rlvr.verifiers.nltk_data``).

Run: .venv/bin/python benchmarks/ifeval_agreement.py [--cases 1000] [--seed 0]
"""

from __future__ import annotations

import argparse
import time

from rlvr.verifiers.ifbench import IFBENCH_IDS
from rlvr.verifiers.ifeval import INSTRUCTION_IDS, check_instruction
from rlvr.verifiers.instruction_cases import cases, prepare_reference, reference_verdict
from rlvr.verifiers.nltk_data import tagger_available


def agreement(instruction_id: str, count: int, seed: int) -> tuple[int, float, float, float, int]:
    """(cases, share followed by the reference, strict agreement, loose agreement, reference crashes)."""
    agreed = {False: 0, True: 0}
    followed = raised = 0
    for kwargs, response in cases(instruction_id, count, seed):
        for loose in (False, True):
            expected = reference_verdict(instruction_id, kwargs, response, loose=loose)
            if isinstance(expected, Exception):
                raised += 1
                expected = False
            followed += expected
            agreed[loose] += check_instruction(instruction_id, kwargs, response, loose=loose) == expected
    return count, followed / (2 * count), agreed[False] / count, agreed[True] / count, raised


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=1000, help="cases per instruction id")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    prepare_reference()
    start = time.perf_counter()
    for title, ids in (("IFEval (25 ids)", INSTRUCTION_IDS), ("IFBench (58 ids)", IFBENCH_IDS)):
        print(f"\n{title}\n")
        print("| instruction id | cases | followed | strict | loose | reference raised |")
        print("| --- | --- | --- | --- | --- | --- |")
        total = agreed = 0
        for instruction_id in ids:
            if instruction_id == "words:start_verb" and not tagger_available():
                print(f"| {instruction_id} | 0 | - | - | - | not run: nltk's tagger data is not installed |")
                continue
            count, followed, strict, loose, raised = agreement(instruction_id, args.cases, args.seed)
            total += 2 * count
            agreed += round((strict + loose) * count)
            print(f"| {instruction_id} | {count} | {followed:.0%} | {strict:.2%} | {loose:.2%} | {raised} |")
        print(f"\nall: {agreed:,} of {total:,} verdicts agree ({agreed / total:.2%})")
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
