"""Agreement of MathAnswer with math-verify per kind of answer, on the conformance test's generated pairs.

The pairs and the documented departures are those of
``tests/test_math_conformance.py`` (imported from there, so the table and the
test always describe the same cases).

Run:
    .venv/bin/python benchmarks/math_agreement.py
    .venv/bin/python benchmarks/math_agreement.py --per-kind 300 --seed 1
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_math_conformance import DEPARTURES, KINDS, generate, math_verify_says, we_say


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-kind", type=int, default=150, help="pairs per kind of answer")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    cases = generate(args.seed, args.per_kind)
    ours = we_say(cases)
    total, agree, departures = Counter(), Counter(), Counter()
    for (kind, reference, answer), verdict in zip(cases, ours, strict=True):
        total[kind] += 1
        if verdict == math_verify_says(reference, answer):
            agree[kind] += 1
            continue
        for name, (matches, _) in DEPARTURES.items():
            if matches(kind, reference, answer, verdict):
                departures[name] += 1
                break
        else:
            departures["UNEXPLAINED"] += 1
    print(f"{'kind':<20} {'pairs':>6} {'agree':>6} {'agreement':>10}")
    for kind in KINDS:
        print(f"{kind:<20} {total[kind]:>6} {agree[kind]:>6} {agree[kind] / total[kind]:>9.1%}")
    print(f"{'all':<20} {sum(total.values()):>6} {sum(agree.values()):>6} {sum(agree.values()) / len(cases):>9.1%}")
    print("\ndisagreements by documented departure:")
    for name, count in departures.most_common():
        reason = DEPARTURES[name][1] if name in DEPARTURES else "not documented: a bug"
        print(f"  {count:>5}  {name}: {reason}")


if __name__ == "__main__":
    main()
