"""The attack suite against a real Docker engine: every attack contained, honest programs served right after it."""

import pytest

from rlvr.cli import main
from rlvr.sandbox import AssertTests, CallTests, SandboxConfig, SandboxPool
from rlvr.sandbox.attacks import ATTACKS, DOUBLE, healthy, run_attack
from rlvr.sandbox.attacks.kit import live_containers

KINDS = ("limits", "poisoning", "copying", "forging", "host", "cleanup")


@pytest.fixture(scope="module")
def one_container():
    """A pool of one container: every attack is followed by honest programs on the container it attacked."""
    with SandboxPool(SandboxConfig(pool_size=1)) as pool:
        yield pool


@pytest.mark.parametrize("attack", ATTACKS, ids=[attack.name for attack in ATTACKS])
def test_attack_is_contained_and_honest_programs_after_it_score_right(one_container, attack):
    held, detail = run_attack(one_container, attack)
    assert held, detail


def test_every_class_of_attack_has_several_attacks():
    for kind in KINDS:
        assert sum(attack.kind == kind for attack in ATTACKS) >= 3, kind
    assert {attack.kind for attack in ATTACKS} == set(KINDS)


def test_the_whole_suite_leaves_no_container_behind_and_retires_none(one_container):
    assert live_containers(one_container) <= 1
    assert one_container.retired == 0  # every attack was cleaned up after, not thrown away


def test_the_same_tests_pass_an_honest_program():
    # the tests the cheating programs fail are passable: the attacks fail for cheating, not for the tests
    from rlvr.sandbox import SandboxPool

    with SandboxPool() as pool:
        honest = "def double(x):\n    return 2 * x\n"
        assert pool.run_tests(honest, DOUBLE).all_passed
        tests = AssertTests(
            ("import math\nassert math.isclose(candidate(1.5), 3.0)", "assert abs(candidate(2) - 4) < 1e-9"),
            entry_point="double",
        )
        assert pool.run_tests(honest, tests).all_passed
        mixed = AssertTests(
            ("assert abs(candidate(2) - 4) < 1e-9", "assert candidate(3) in (6,)", "assert candidate(1) == 2"),
            entry_point="double",
        )
        assert pool.run_tests(honest, mixed).all_passed
        assert healthy(pool)[0]


def test_a_program_using_namedtuple_enum_frames_and_imports_runs_as_usual(sandbox_pool):
    # nothing is refused inside the program's own process: it holds nothing of the tests
    program = (
        "import collections, enum, fractions, typing\n"
        "Point = collections.namedtuple('Point', 'x y')\n"
        "Color = enum.Enum('Color', 'RED GREEN')\n"
        "class Pair(typing.NamedTuple):\n    a: int\n    b: int\n"
        "def double(x):\n    return int(fractions.Fraction(x) * 2) + Point(0, 0).x + Pair(0, 0).a\n"
    )
    assert sandbox_pool.run_tests(program, DOUBLE).all_passed


def test_sandbox_check_command_passes_and_names_each_attack(capsys):
    assert main(["sandbox", "check", "--only", "kill_everyone", "early_exit", "group_of_four"]) == 0
    out = capsys.readouterr().out
    assert "kill_everyone" in out and "early_exit" in out and "ok: all 3 attacks contained" in out
    assert "copying   group_of_four" in out


def test_sandbox_check_rejects_an_unknown_attack(capsys):
    assert main(["sandbox", "check", "--only", "no_such_attack"]) == 2
    assert "unknown attack" in capsys.readouterr().err


def test_a_call_test_never_sends_expected_values_into_the_sandbox(sandbox_pool):
    secret = 918273645
    tests = CallTests("f", (((1,), secret),))
    program = "import sys, os\ndef f(x):\n    return int(os.environ.get('X', 0))\n"
    assert str(secret) not in str(tests.payload())
    assert not sandbox_pool.run_tests(program, tests).all_passed
