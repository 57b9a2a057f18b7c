"""Code-v0's procedural task families: a function to write, its reference solution, and how to draw inputs.

Each family is a function ``rng -> Problem`` that draws its own parameters
and variant (the multiple in "sum of multiples", the shift of a Caesar
cipher, ...); ``FAMILIES`` maps names to them. ``rlvr.envs.code.env.ProgramSource``
turns a problem into a task: a stub with two examples, and hidden cases
computed by the reference solution.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["FAMILIES", "Problem"]


@dataclass(frozen=True)
class Problem:
    """A function to write: its signature, statement, reference body and how to draw inputs."""

    name: str
    params: str
    returns: str
    doc: str
    body: str
    draw: Callable[[random.Random], tuple[Any, ...]]
    edges: tuple[tuple[Any, ...], ...] = ()

    @property
    def signature(self) -> str:
        return f"def {self.name}({self.params}) -> {self.returns}:"


_WORDS = (
    "apple", "river", "stone", "cloud", "tiger", "lamp", "green", "music", "paper", "quiet",
    "sun", "moon", "bread", "chair", "ocean", "pixel", "robot", "sugar", "violet", "wind",
)  # fmt: skip
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _ints(rng: random.Random, max_length: int, low: int, high: int, min_length: int = 0) -> list[int]:
    return [rng.randint(low, high) for _ in range(rng.randint(min_length, max_length))]


def _sentence(rng: random.Random, max_words: int = 6, mixed_case: bool = False) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(1, max_words))]
    if mixed_case:
        words = [w.upper() if rng.random() < 0.2 else w.capitalize() if rng.random() < 0.3 else w for w in words]
    gaps = [rng.choice([" ", " ", " ", "  "]) for _ in words[1:]]
    text = words[0] + "".join(gap + word for gap, word in zip(gaps, words[1:], strict=True))
    return rng.choice(["", " "]) + text + rng.choice(["", "", " "])


def _text(rng: random.Random, max_length: int = 24, alphabet: str = _LETTERS + _LETTERS.upper() + " ,.!?") -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, max_length)))


def _sum_multiples(rng: random.Random) -> Problem:
    k = rng.choice([2, 3, 4, 5, 7])
    return Problem(
        name="sum_multiples",
        params="numbers: list[int]",
        returns="int",
        doc=f"Return the sum of the numbers in `numbers` that are divisible by {k} (0 when there are none).",
        body=f"    return sum(x for x in numbers if x % {k} == 0)\n",
        draw=lambda r: (_ints(r, 12, -50, 50),),
        edges=(([],), ([k],), ([1],)),
    )


def _reverse_words(rng: random.Random) -> Problem:
    if rng.random() < 0.5:
        return Problem(
            name="reverse_words",
            params="sentence: str",
            returns="str",
            doc="Return the words of `sentence` in reverse order, joined by single spaces. Words are "
            "separated by one or more spaces; leading and trailing spaces are dropped.",
            body='    return " ".join(reversed(sentence.split()))\n',
            draw=lambda r: (_sentence(r),),
            edges=(("",), ("one",)),
        )
    return Problem(
        name="reverse_each_word",
        params="sentence: str",
        returns="str",
        doc="Reverse the letters of each word of `sentence`, keeping the words in order, and join them "
        "by single spaces. Words are separated by one or more spaces; leading and trailing spaces are dropped.",
        body='    return " ".join(word[::-1] for word in sentence.split())\n',
        draw=lambda r: (_sentence(r),),
        edges=(("",), ("ab",)),
    )


def _count_vowels(rng: random.Random) -> Problem:
    vowels = rng.choice(["aeiou", "aeiouy"])
    listed = ", ".join(vowels)
    return Problem(
        name="count_vowels",
        params="text: str",
        returns="int",
        doc=f"Return how many characters of `text` are vowels ({listed}), in either case.",
        body=f'    return sum(1 for c in text.lower() if c in "{vowels}")\n',
        draw=lambda r: (_text(r, 30),),
        edges=(("",), ("AEIOUY",), ("xyz",)),
    )


def _fizzbuzz(rng: random.Random) -> Problem:
    a, b, word_a, word_b = rng.choice(
        [(3, 5, "Fizz", "Buzz"), (2, 3, "Foo", "Bar"), (3, 7, "Fizz", "Bang"), (4, 6, "Ping", "Pong")]
    )
    return Problem(
        name="fizzbuzz",
        params="n: int",
        returns="list[str]",
        doc=f'Return a list of strings for the numbers 1 to `n`: "{word_a}{word_b}" for multiples of both {a} '
        f'and {b}, "{word_a}" for the other multiples of {a}, "{word_b}" for the other multiples of {b}, '
        "and the number itself in decimal otherwise.",
        body=(
            "    out = []\n"
            "    for i in range(1, n + 1):\n"
            f'        word = ("{word_a}" if i % {a} == 0 else "") + ("{word_b}" if i % {b} == 0 else "")\n'
            "        out.append(word or str(i))\n"
            "    return out\n"
        ),
        draw=lambda r: (r.randint(1, 40),),
        edges=((0,), (a * b,)),
    )


def _run_length_encode(rng: random.Random) -> Problem:
    return Problem(
        name="run_length_encode",
        params="text: str",
        returns="str",
        doc="Run-length encode `text`: write each maximal run of one repeated character as the run's "
        'length followed by the character, so "aaabcc" becomes "3a1b2c".',
        body=(
            "    out = []\n"
            "    i = 0\n"
            "    while i < len(text):\n"
            "        j = i\n"
            "        while j < len(text) and text[j] == text[i]:\n"
            "            j += 1\n"
            "        out.append(str(j - i) + text[i])\n"
            "        i = j\n"
            '    return "".join(out)\n'
        ),
        draw=lambda r: ("".join(r.choice("abcxyz") * r.randint(1, 12) for _ in range(r.randint(1, 6))),),
        edges=(("",), ("a",)),
    )


def _palindrome_text(rng: random.Random) -> str:
    half = "".join(rng.choice("abcdefg") for _ in range(rng.randint(0, 6)))
    middle = rng.choice(["", rng.choice("xyz")])
    text = half + middle + half[::-1] if rng.random() < 0.6 else half + middle + _text(rng, 6, "abcdefg")
    decorated = []
    for c in text:
        decorated.append(c.upper() if rng.random() < 0.3 else c)
        if rng.random() < 0.2:
            decorated.append(rng.choice(" ,.!"))
    return "".join(decorated)


def _is_palindrome(rng: random.Random) -> Problem:
    return Problem(
        name="is_palindrome",
        params="text: str",
        returns="bool",
        doc="Return True when `text` reads the same forwards and backwards once everything but its "
        "letters and digits is removed and case is ignored, else False.",
        body="    kept = [c.lower() for c in text if c.isalnum()]\n    return kept == kept[::-1]\n",
        draw=lambda r: (_palindrome_text(r),),
        edges=(("",), ("Ab",), ("A man, a plan, a canal: Panama",)),
    )


def _second_largest(rng: random.Random) -> Problem:
    return Problem(
        name="second_largest",
        params="numbers: list[int]",
        returns="int | None",
        doc="Return the second largest distinct value in `numbers`, or None when it has fewer than two "
        "distinct values.",
        body="    values = sorted(set(numbers), reverse=True)\n    return values[1] if len(values) > 1 else None\n",
        draw=lambda r: (_ints(r, 8, -5, 12),),
        edges=(([],), ([3, 3],), ([1, 2],)),
    )


def _gcd(rng: random.Random) -> Problem:
    def draw(r: random.Random) -> tuple[int, int]:
        g = r.randint(1, 24)
        return (g * r.randint(0, 40), g * r.randint(1, 40))

    return Problem(
        name="gcd",
        params="a: int, b: int",
        returns="int",
        doc="Return the greatest common divisor of `a` and `b`, two non-negative integers that are not both zero.",
        body="    while b:\n        a, b = b, a % b\n    return a\n",
        draw=draw,
        edges=((0, 7), (7, 0), (12, 18)),
    )


def _lcm(rng: random.Random) -> Problem:
    return Problem(
        name="lcm",
        params="a: int, b: int",
        returns="int",
        doc="Return the least common multiple of the positive integers `a` and `b`.",
        body="    x, y = a, b\n    while y:\n        x, y = y, x % y\n    return a * b // x\n",
        draw=lambda r: (r.randint(1, 60), r.randint(1, 60)),
        edges=((1, 1), (4, 6)),
    )


def _rotate(rng: random.Random) -> Problem:
    if rng.random() < 0.5:
        direction, body = "right", "    k %= len(items)\n    return items[len(items) - k :] + items[: len(items) - k]\n"
        example = "[1, 2, 3, 4] rotated by 1 is [4, 1, 2, 3]"
    else:
        direction, body = "left", "    k %= len(items)\n    return items[k:] + items[:k]\n"
        example = "[1, 2, 3, 4] rotated by 1 is [2, 3, 4, 1]"
    return Problem(
        name=f"rotate_{direction}",
        params="items: list[int], k: int",
        returns="list[int]",
        doc=f"Return `items` rotated {direction} by `k` positions ({example}). `k` is non-negative and may "
        "exceed the length; an empty list stays empty.",
        body="    if not items:\n        return []\n" + body,
        draw=lambda r: (_ints(r, 8, 0, 9), r.randint(0, 20)),
        edges=(([], 3), ([1, 2, 3], 0), ([1, 2, 3], 3)),
    )


def _caesar(rng: random.Random) -> Problem:
    shift = rng.randint(1, 25)
    return Problem(
        name="caesar_shift",
        params="text: str",
        returns="str",
        doc=f"Shift every letter of `text` {shift} places forward in the alphabet, wrapping from z to a and "
        "keeping its case; leave every other character as it is.",
        body=(
            "    out = []\n"
            "    for c in text:\n"
            '        if "a" <= c <= "z":\n'
            f'            out.append(chr((ord(c) - ord("a") + {shift}) % 26 + ord("a")))\n'
            '        elif "A" <= c <= "Z":\n'
            f'            out.append(chr((ord(c) - ord("A") + {shift}) % 26 + ord("A")))\n'
            "        else:\n"
            "            out.append(c)\n"
            '    return "".join(out)\n'
        ),
        draw=lambda r: (_text(r, 24),),
        edges=(("",), ("xyz XYZ",)),
    )


def _digit_sum(rng: random.Random) -> Problem:
    def draw(r: random.Random) -> tuple[int]:
        bound = 10 ** r.randint(1, 12)
        return (r.randint(-bound, bound),)

    if rng.random() < 0.5:
        return Problem(
            name="digit_sum",
            params="n: int",
            returns="int",
            doc="Return the sum of the decimal digits of `n`, ignoring its sign.",
            body="    return sum(int(d) for d in str(abs(n)))\n",
            draw=draw,
            edges=((0,), (-909,)),
        )
    return Problem(
        name="digital_root",
        params="n: int",
        returns="int",
        doc="Replace `n` by the sum of its decimal digits (ignoring its sign) until one digit is left, and "
        "return that digit.",
        body="    n = abs(n)\n    while n >= 10:\n        n = sum(int(d) for d in str(n))\n    return n\n",
        draw=draw,
        edges=((0,), (-99999,)),
    )


def _most_frequent(rng: random.Random) -> Problem:
    if rng.random() < 0.5:
        tie, pick = "the smallest of them", "    return min(x for x in items if counts[x] == best)\n"
    else:
        tie, pick = "the one that appears first", "    return next(x for x in items if counts[x] == best)\n"
    return Problem(
        name="most_frequent",
        params="items: list[int]",
        returns="int | None",
        doc=f"Return the value that occurs most often in `items`; when several tie, {tie}. Return None for "
        "an empty list.",
        body=(
            "    if not items:\n"
            "        return None\n"
            "    counts = {}\n"
            "    for x in items:\n"
            "        counts[x] = counts.get(x, 0) + 1\n"
            "    best = max(counts.values())\n" + pick
        ),
        draw=lambda r: (_ints(r, 10, 0, 6),),
        edges=(([],), ([5, 3, 3, 5],)),
    )


def _merge_sorted(rng: random.Random) -> Problem:
    def draw(r: random.Random) -> tuple[list[int], list[int]]:
        return (sorted(_ints(r, 7, -20, 20)), sorted(_ints(r, 7, -20, 20)))

    return Problem(
        name="merge_sorted",
        params="a: list[int], b: list[int]",
        returns="list[int]",
        doc="`a` and `b` are sorted in ascending order. Return one ascending list of all their elements, "
        "duplicates kept.",
        body="    return sorted(a + b)\n",
        draw=draw,
        edges=(([], []), ([1, 1], [1])),
    )


def _running(rng: random.Random) -> Problem:
    if rng.random() < 0.5:
        return Problem(
            name="running_total",
            params="numbers: list[int]",
            returns="list[int]",
            doc="Return the running totals of `numbers`: element i is the sum of numbers[0] to numbers[i].",
            body=(
                "    out, total = [], 0\n"
                "    for x in numbers:\n"
                "        total += x\n"
                "        out.append(total)\n"
                "    return out\n"
            ),
            draw=lambda r: (_ints(r, 10, -30, 30),),
            edges=(([],),),
        )
    return Problem(
        name="running_max",
        params="numbers: list[int]",
        returns="list[int]",
        doc="Return the running maximum of `numbers`: element i is the largest of numbers[0] to numbers[i].",
        body=(
            "    out = []\n"
            "    for x in numbers:\n"
            "        out.append(x if not out else max(out[-1], x))\n"
            "    return out\n"
        ),
        draw=lambda r: (_ints(r, 10, -30, 30),),
        edges=(([],), ([-3, -5],)),
    )


def _unique_in_order(rng: random.Random) -> Problem:
    return Problem(
        name="unique_in_order",
        params="items: list[int]",
        returns="list[int]",
        doc="Return the distinct values of `items` in the order of their first occurrence.",
        body=(
            "    seen, out = set(), []\n"
            "    for x in items:\n"
            "        if x not in seen:\n"
            "            seen.add(x)\n"
            "            out.append(x)\n"
            "    return out\n"
        ),
        draw=lambda r: (_ints(r, 12, 0, 8),),
        edges=(([],), ([2, 2, 2],)),
    )


def _word_counts(rng: random.Random) -> Problem:
    return Problem(
        name="word_counts",
        params="text: str",
        returns="dict[str, int]",
        doc="Return a dict mapping each word of `text`, lower-cased, to the number of times it occurs. Words "
        "are separated by one or more spaces.",
        body=(
            "    counts = {}\n"
            "    for word in text.lower().split():\n"
            "        counts[word] = counts.get(word, 0) + 1\n"
            "    return counts\n"
        ),
        draw=lambda r: (_sentence(r, 8, mixed_case=True),),
        edges=(("",), ("Sun sun SUN",)),
    )


def _to_base(rng: random.Random) -> Problem:
    base = rng.randint(2, 9)
    return Problem(
        name=f"to_base_{base}",
        params="n: int",
        returns="str",
        doc=f"Return the digits of the non-negative integer `n` written in base {base}, most significant "
        'first, without a prefix ("0" for 0).',
        body=(
            "    if n == 0:\n"
            '        return "0"\n'
            "    digits = []\n"
            "    while n:\n"
            f"        digits.append(str(n % {base}))\n"
            f"        n //= {base}\n"
            '    return "".join(reversed(digits))\n'
        ),
        draw=lambda r: (r.randint(0, 10 ** r.randint(1, 6)),),
        edges=((0,), (1,), (base,)),
    )


def _chunk(rng: random.Random) -> Problem:
    return Problem(
        name="chunk",
        params="items: list[int], size: int",
        returns="list[list[int]]",
        doc="Split `items` into consecutive pieces of `size` elements (size >= 1); the last piece may be "
        "shorter. Return the list of pieces ([] for an empty list).",
        body="    return [items[i : i + size] for i in range(0, len(items), size)]\n",
        draw=lambda r: (_ints(r, 11, 0, 9), r.randint(1, 5)),
        edges=(([], 2), ([1, 2, 3], 5)),
    )


def _longest_run(rng: random.Random) -> Problem:
    return Problem(
        name="longest_run",
        params="text: str",
        returns="int",
        doc="Return the length of the longest run of one character repeated in a row in `text` (0 when "
        "`text` is empty).",
        body=(
            "    best = run = 0\n"
            "    previous = None\n"
            "    for c in text:\n"
            "        run = run + 1 if c == previous else 1\n"
            "        previous = c\n"
            "        best = max(best, run)\n"
            "    return best\n"
        ),
        draw=lambda r: ("".join(r.choice("ab") * r.randint(1, 5) for _ in range(r.randint(0, 6))),),
        edges=(("",), ("z",)),
    )


def _anagram_pair(rng: random.Random) -> tuple[str, str]:
    a = "".join(rng.choice("abcdeABC ") for _ in range(rng.randint(0, 10)))
    if rng.random() < 0.6:
        letters = list(a)
        rng.shuffle(letters)
        return (a, "".join(letters))
    return (a, "".join(rng.choice("abcdeABC ") for _ in range(rng.randint(0, 10))))


def _is_anagram(rng: random.Random) -> Problem:
    return Problem(
        name="is_anagram",
        params="a: str, b: str",
        returns="bool",
        doc="Return True when `a` and `b` contain the same letters the same number of times, ignoring "
        "case and spaces, else False.",
        body='    return sorted(a.replace(" ", "").lower()) == sorted(b.replace(" ", "").lower())\n',
        draw=_anagram_pair,
        edges=(("", ""), ("Listen", "Silent")),
    )


FAMILIES: dict[str, Callable[[random.Random], Problem]] = {
    "sum_multiples": _sum_multiples,
    "reverse_words": _reverse_words,
    "count_vowels": _count_vowels,
    "fizzbuzz": _fizzbuzz,
    "run_length_encode": _run_length_encode,
    "is_palindrome": _is_palindrome,
    "second_largest": _second_largest,
    "gcd": _gcd,
    "lcm": _lcm,
    "rotate": _rotate,
    "caesar_shift": _caesar,
    "digit_sum": _digit_sum,
    "most_frequent": _most_frequent,
    "merge_sorted": _merge_sorted,
    "running": _running,
    "unique_in_order": _unique_in_order,
    "word_counts": _word_counts,
    "to_base": _to_base,
    "chunk": _chunk,
    "longest_run": _longest_run,
    "is_anagram": _is_anagram,
}
"""Code-v0's task families: name -> ``rng -> problem`` (each draws its own parameters and variant)."""
