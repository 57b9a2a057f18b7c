"""Register a new task family (reverse a word), make it by name, property-test its verifier."""

import random

from hypothesis import strategies as st

from rlvr import envs
from rlvr.verifiers import Rubric, Score, Status
from rlvr.verifiers.properties import check_verifier


class ReverseTask(envs.Task):
    answer: str


def make_task(rng: random.Random) -> ReverseTask:  # task i is make_task(random.Random(i))
    word = "".join(rng.choices("abcdefgh", k=rng.randint(3, 8)))
    return ReverseTask(question=f"Reverse the word '{word}'. Reply with the reversed word only.", answer=word[::-1])


def reversed_word(completion: str, task: ReverseTask) -> Score:  # tolerate quotes and a full stop, nothing more
    answer = completion.strip().strip("'\".")
    return Score.correct() if answer == task.answer else Score.fail(Status.WRONG, got=answer[:50])


envs.register(
    "examples/Reverse-v0",
    source=envs.FunctionSource(make_task),
    rubric=Rubric({"accuracy": (reversed_word, 1.0)}),
    template="plain",
    description="Reverse a word.",
)

if __name__ == "__main__":
    env = envs.make("examples/Reverse-v0")  # gymnasium.make, with a list of valid ids on a typo
    prompt, info = env.reset(seed=0)
    print(prompt, "->", env.step(info["task"].answer)[1])  # then the verifier's properties, under hypothesis:
    tasks = st.integers(0, 10**9).map(envs.entry("examples/Reverse-v0").make_source().get)  # any task of the family
    check_verifier(reversed_word, tasks, reference=lambda t: t.answer, wrong=lambda t: st.just(t.answer[1:]))
