"""IFEval's 25 checks against IFEval's own code: verdict for verdict on generated cases, and every departure listed.

The reference is IFEval's ``instructions.py`` as shipped in the PyPI package
if-verifiable (the same checkers as lm-eval's ``lm_eval/tasks/ifeval``), run as
its evaluation loop runs it (``rlvr.verifiers.instruction_cases``). For each
instruction, seeded responses near every threshold (about half follow), strict
and loose: ``check_instruction`` (``hardened=False``) must give the reference's
verdict on every one. Where it does not on purpose, the case is in DEPARTURES
with the reason.
"""

from __future__ import annotations

from typing import Any

import pytest

from rlvr.verifiers.ifeval import INSTRUCTION_IDS, check_instruction
from rlvr.verifiers.instruction_cases import cases, dump, prepare_reference, reference_verdict

CASES_PER_ID = 200


@pytest.fixture(scope="module", autouse=True)
def reference() -> None:
    try:
        import if_verifiable  # noqa: F401
    except ImportError:
        pytest.fail("the reference checkers are the package if-verifiable: pip install if-verifiable==0.1.2")
    prepare_reference()


@pytest.mark.parametrize("instruction_id", INSTRUCTION_IDS)
def test_check_instruction_gives_ifevals_verdict_on_every_generated_case(instruction_id):
    disagreements, followed = [], 0
    for case in cases(instruction_id, CASES_PER_ID):
        for loose in (False, True):
            expected = reference_verdict(instruction_id, *case, loose=loose)
            assert not isinstance(expected, Exception), f"reference raised {expected!r}: {dump(instruction_id, case)}"
            followed += expected
            if check_instruction(instruction_id, *case, loose=loose) != expected:
                disagreements.append(f"loose={loose} reference={expected} {dump(instruction_id, case)}")
    assert not disagreements, "\n".join(disagreements[:10])
    assert 0 < followed < 2 * CASES_PER_ID, "the cases should hold some that follow and some that do not"


# --- departures, on purpose -------------------------------------------------------------

# (instruction id, kwargs, response, the reference's verdict or the exception it raises, ours, reason)
DEPARTURES: list[tuple[str, dict[str, Any], str, bool | type[Exception], bool, str]] = [
    (
        "detectable_format:json_format",
        {},
        "[" * 100_000 + "]" * 100_000,
        RecursionError,
        False,
        "JSON nested past Python's recursion limit: json.loads raises RecursionError, which IFEval does not catch "
        "(it crashes the evaluation); here it is not JSON.",
    ),
    (
        "keywords:existence",
        {"keywords": ["f(x"]},
        "where f(x is",
        Exception,  # re.error, a subclass of Exception
        False,  # never reached: check_instruction raises ValueError when the check is built
        "A keyword that does not compile as a regular expression: IFEval raises re.error on every response; here "
        "parse_instruction raises ValueError (a data error) before any response is judged.",
    ),
]


@pytest.mark.parametrize(
    ("instruction_id", "kwargs", "response", "theirs", "ours", "reason"),
    DEPARTURES,
    ids=[departure[0] for departure in DEPARTURES],
)
def test_each_departure_from_ifeval_is_as_documented(instruction_id, kwargs, response, theirs, ours, reason):
    expected = reference_verdict(instruction_id, kwargs, response)
    if isinstance(theirs, type):
        assert isinstance(expected, theirs), expected
    else:
        assert expected is theirs
    if instruction_id == "keywords:existence":
        with pytest.raises(ValueError, match="regular expression"):
            check_instruction(instruction_id, kwargs, response)
    else:
        assert check_instruction(instruction_id, kwargs, response) is ours
    assert reason


def test_the_hardened_checks_depart_only_where_the_module_says():
    """Hardened verdicts equal IFEval's on the generated cases except for the documented hacks."""
    hardened_ids = {
        "detectable_format:constrained_response",  # exactly one option
        "language:response_language",  # padding-proof detection
        "change_case:english_capital",
        "change_case:english_lowercase",
        "keywords:existence",  # literal keywords
        "keywords:frequency",
        "keywords:forbidden_words",
        "detectable_format:multiple_sections",
        "detectable_content:postscript",
    }
    for instruction_id in sorted(set(INSTRUCTION_IDS) - hardened_ids):
        for kwargs, response in cases(instruction_id, 40, seed=1):
            plain = check_instruction(instruction_id, kwargs, response)
            assert check_instruction(instruction_id, kwargs, response, hardened=True) == plain, instruction_id
