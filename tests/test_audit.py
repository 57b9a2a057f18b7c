"""rlvr.envs.audit: right answers at the maximum, gaming strategies below it, properties; for any env."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from rlvr import envs
from rlvr.envs.audit.report import audit
from rlvr.envs.audit.strategies import STRATEGIES, reference_completion
from rlvr.verifiers import Rubric, Score, Status

RLVR = str(Path(sys.executable).with_name("rlvr"))
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
BUILTIN = sorted(env_id for env_id in envs.list_envs() if env_id.startswith("rlvr/"))


class WordTask(envs.Task):
    answer: str


def make_word(rng: random.Random) -> WordTask:
    word = "".join(rng.choices("klmnpqrst", k=6))
    return WordTask(question=f"Write the word {word} backwards.", answer=word[::-1])


def anywhere(completion: str, task: WordTask) -> Score:
    """A weak checker: the answer anywhere in the completion counts."""
    return Score.correct() if task.answer in completion else Score.fail(Status.WRONG)


def exact(completion: str, task: WordTask) -> Score:
    return Score.correct() if completion.strip() == task.answer else Score.fail(Status.WRONG)


def register(env_id: str, verifier, **extra) -> str:
    envs.register(
        env_id,
        source=envs.FunctionSource(make_word),
        rubric=Rubric({"accuracy": (verifier, 1.0)}),
        template="plain",
        description="Reverse a word.",
        replace=True,
        **extra,
    )
    return env_id


@pytest.mark.parametrize("env_id", BUILTIN)
def test_every_builtin_env_passes_the_audit(env_id):
    report = audit(env_id, tasks=20, property_examples=10)
    assert report.passed, report.table()
    assert report.references == 20 and {row.name for row in report.rows} == {s.name for s in STRATEGIES}


def test_a_checker_that_finds_the_answer_anywhere_fails_and_the_report_names_the_holes():
    report = audit(register("audit/Anywhere-v0", anywhere), tasks=10, property_examples=5)
    assert not report.passed
    holes = {row.name for row in report.holes}
    assert {"answer in reasoning", "candidates", "candidates, right inside"} <= holes
    assert "FAILED" in report.table() and "answer in reasoning" in report.table().splitlines()[-1]


def unsure_is_right(completion: str, task: WordTask) -> Score:
    """Any completion whose visible text is "I am not sure." is right (a form-only instruction in miniature)."""
    visible = completion.rsplit("</think>", 1)[-1].strip()
    return Score.correct() if visible in (task.answer, "I am not sure.") else Score.fail(Status.WRONG)


def test_a_trick_whose_control_already_earns_the_maximum_is_not_judged_on_that_task():
    report = audit(register("audit/Unsure-v0", unsure_is_right), tasks=10, property_examples=5)
    row = next(row for row in report.rows if row.name == "answer in reasoning")
    assert row.judged == 0 and row.reached == 0  # the text after </think> is right by itself: nothing was hidden


def test_a_strict_checker_passes():
    report = audit(register("audit/Exact-v0", exact), tasks=10, property_examples=5)
    assert report.passed, report.table()


def test_right_answers_below_the_maximum_are_false_negatives():
    def never(completion: str, task: WordTask) -> Score:
        return Score.fail(Status.WRONG)

    report = audit(register("audit/Never-v0", never), tasks=5, properties=False)
    assert len(report.false_negatives) == 5 and not report.passed
    assert "right completions at the maximum: 0/5" in report.table()


def test_an_exempt_strategy_is_reported_with_its_reason_and_unknown_names_are_listed():
    exempt = {"candidates": "the task asks for several answers", "no such strategy": "typo"}
    report = audit(register("audit/Exempt-v0", exact, audit_exempt=exempt), tasks=5, properties=False)
    row = next(row for row in report.rows if row.name == "candidates")
    assert row.exempt == "the task asks for several answers" and row.judged == 0
    assert report.unknown_exemptions == ["no such strategy"]
    assert "not applicable: the task asks for several answers" in report.table()


def test_the_right_completion_of_a_plain_template_is_the_bare_answer():
    task = make_word(random.Random(0))
    assert reference_completion(task, envs.BUILTIN_TEMPLATES["plain"]) == task.answer
    fireworks = reference_completion(task, envs.BUILTIN_TEMPLATES["fireworks"])
    assert fireworks is not None and "the final answer is " + task.answer in fireworks


def test_rlvr_audit_audits_a_users_env_and_exits_by_the_verdict():
    command = [RLVR, "audit", "examples/Reverse-v0", "--import", str(EXAMPLES / "custom_env.py"), "--tasks", "5"]
    result = subprocess.run([*command, "--examples", "5"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "examples/Reverse-v0 (template plain)" in result.stdout and "passed: 1 env(s)" in result.stdout


def test_rlvr_audit_without_an_env_is_one_clear_line():
    result = subprocess.run([RLVR, "audit"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stderr.strip() == "rlvr audit: name env ids to audit, or --all"
