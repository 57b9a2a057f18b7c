"""The attack suite against a real Docker engine: every attack contained, the pool healthy afterwards."""

import pytest

from envs.cli import main
from sandbox import AssertTests, CallTests
from sandbox.attacks import ATTACKS, DOUBLE, healthy, run_attack


@pytest.mark.parametrize("attack", ATTACKS, ids=[attack.name for attack in ATTACKS])
def test_attack_is_contained_and_the_pool_serves_the_next_execution(sandbox_pool, attack):
    held, detail = run_attack(sandbox_pool, attack)
    assert held, detail


def test_the_same_tests_pass_an_honest_program():
    # the tests the cheating programs fail are passable: the attacks fail for cheating, not for the tests
    from sandbox import SandboxPool

    with SandboxPool() as pool:
        honest = "def double(x):\n    return 2 * x\n"
        assert pool.run_tests(honest, DOUBLE).all_passed
        tests = AssertTests(
            ("import math\nassert math.isclose(candidate(1.5), 3.0)", "assert abs(candidate(2) - 4) < 1e-9"),
            entry_point="double",
        )
        assert pool.run_tests(honest, tests).all_passed
        assert healthy(pool)[0]


def test_sandbox_check_command_passes_and_names_each_attack(capsys):
    assert main(["sandbox", "check", "--only", "kill_init", "early_exit"]) == 0
    out = capsys.readouterr().out
    assert "kill_init" in out and "early_exit" in out and "ok: all 2 attacks contained" in out


def test_sandbox_check_rejects_an_unknown_attack(capsys):
    assert main(["sandbox", "check", "--only", "no_such_attack"]) == 2
    assert "unknown attack" in capsys.readouterr().err


def test_a_call_test_never_sends_expected_values_into_the_sandbox(sandbox_pool):
    secret = 918273645
    tests = CallTests("f", (((1,), secret),))
    program = "import sys, os\ndef f(x):\n    return int(os.environ.get('X', 0))\n"
    assert str(secret) not in str(tests.payload())
    assert not sandbox_pool.run_tests(program, tests).all_passed
