"""letters/CountLetter-v0: how many times does a letter occur in a word?

An rlvr-gym plugin in one module: the task record, the task generator, the
verifier and the registration. rlvr-gym imports this module through the
entry point in ``pyproject.toml``; the ``register`` call below is what adds
the env.
"""

from __future__ import annotations

import random
import re

from rlvr import envs
from rlvr.verifiers import Rubric, Score, Status

__all__ = ["ENV_ID", "CountTask", "counted_right", "make_task"]

ENV_ID = "letters/CountLetter-v0"
LETTERS = "abcdefgh"


class CountTask(envs.Task):
    """One word and one letter; ``answer`` is how many times the letter occurs in it."""

    word: str
    letter: str
    answer: int


def make_task(rng: random.Random) -> CountTask:
    """Task ``i`` is ``make_task(random.Random(i))``: a word of 3-8 letters; the letter is in it half the time."""
    word = "".join(rng.choices(LETTERS, k=rng.randint(3, 8)))
    letter = rng.choice(word) if rng.random() < 0.5 else rng.choice(LETTERS)
    question = f"How many times does the letter '{letter}' occur in '{word}'? Answer with the number."
    return CountTask(question=question, word=word, letter=letter, answer=word.count(letter))


_NUMBER = re.compile(r"[0-9]+")  # ASCII digits only: "٣" is not a 3 here


def counted_right(completion: str, task: CountTask) -> Score:
    """1.0 when the completion states one number and it is the count; never raises.

    Two different numbers are a hedge (0.0, ``hedged``); no number is
    ``unparseable``. Numbers are compared as digit strings, so a
    ten-thousand-digit number costs nothing and cannot overflow a conversion.
    """
    numbers = {match.lstrip("0") or "0" for match in _NUMBER.findall(completion)}
    if not numbers:
        return Score.fail(Status.UNPARSEABLE)
    if len(numbers) > 1:
        return Score.fail(Status.HEDGED, got=sorted(numbers, key=len)[:3])
    (number,) = numbers
    return Score.correct() if number == str(task.answer) else Score.fail(Status.WRONG, got=number[:20])


envs.register(
    ENV_ID,
    source=envs.FunctionSource(make_task),
    rubric=Rubric({"accuracy": (counted_right, 1.0)}),
    template="plain",
    description="Count how often a letter occurs in a word (an example plugin).",
)
