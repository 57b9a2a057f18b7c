"""The sandboxed tools in episodes: Python kept across calls, program runs, faults as reward None, batches."""

from __future__ import annotations

import json

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import rlvr.envs as envs
from rlvr.envs.core.sandbox_tools import PYTHON, RUN_PROGRAM, python_session, run_program
from rlvr.envs.core.text_env import step_batch
from rlvr.envs.core.tools import ToolBox, ToolFault, call_text
from rlvr.sandbox.result import ExecResult
from rlvr.verifiers.tool_calls import ToolCall


def python_call(code: str) -> str:
    return call_text("python", {"code": code})


@pytest.fixture(autouse=True)
def _shared_pool_is_the_test_pool(sandbox_pool, monkeypatch):
    """Episodes use the process's shared pool; here it is the session's warm test pool."""
    import rlvr.sandbox.pool as pool_module

    monkeypatch.setattr(pool_module, "shared_pool", lambda config=None: sandbox_pool)


def test_math_tool_episode_keeps_python_state_and_judges_the_final_answer():
    env = envs.make("rlvr/MathTool-v0")
    prompt, info = env.reset(seed=0)
    assert '"name": "python"' in prompt and prompt.index("<tools>") < prompt.index(info["task"].question)
    observation, reward, terminated, _, step = env.step(python_call(f"answer = {info['task'].answer}"))
    assert (observation, step["status"], terminated) == (
        "<tool_response>\n(no output)\n</tool_response>\n",
        "tool_call",
        False,
    )
    observation, *_ = env.step(python_call("answer"))
    assert observation == f"<tool_response>\n{info['task'].answer}\n</tool_response>\n"
    _, reward, terminated, _, step = env.step(f"The answer is \\boxed{{{info['task'].answer}}}.")
    assert (reward, terminated, step["status"]) == (1.0, True, "ok")


def test_math_tool_is_math_with_the_python_tool_and_four_turns():
    env = envs.make("rlvr/MathTool-v0").unwrapped
    assert env.config.tools == ("python",) and env.config.max_turns == 4
    assert envs.make("rlvr/Math-v0").unwrapped.toolbox is None
    assert envs.make("rlvr/Math-v0", tools=["python"]).unwrapped.config.max_turns == 4


def test_math_tool_passes_gymnasiums_env_checker():
    check_env(envs.make("rlvr/MathTool-v0").unwrapped, skip_render_check=True)


def test_each_episode_starts_a_fresh_interpreter():
    env = envs.make("rlvr/MathTool-v0")
    env.reset(seed=0)
    env.step(python_call("secret = 1"))
    env.reset(seed=1)
    observation, *_ = env.step(python_call("secret"))
    assert "NameError" in observation


@pytest.mark.filterwarnings("ignore:.*reward returned by")  # None: gymnasium's checker expects a number
def test_a_sandbox_fault_ends_the_episode_with_reward_none_never_zero(monkeypatch):
    import rlvr.sandbox.pool as pool_module

    class DeadPool:
        def run(self, program, *, stdin="", timeout=None):
            return ExecResult.sandbox_error("the engine went away")

    monkeypatch.setattr(pool_module, "shared_pool", lambda config=None: DeadPool())
    env = envs.make("rlvr/MathTool-v0")
    env.reset(seed=0)
    observation, reward, terminated, truncated, info = env.step(python_call("1 + 1"))
    assert (observation, reward, terminated, truncated) == ("", None, True, False)
    assert info["status"] == "tool_error" and "engine went away" in info["error"]
    assert env.unwrapped.episode_reward([reward]) is None
    with pytest.raises(RuntimeError, match="episode is over"):
        env.step("\\boxed{2}")


def test_the_models_own_crash_is_an_observation_not_a_fault():
    env = envs.make("rlvr/MathTool-v0", tool_timeout=1)
    env.reset(seed=0)
    for code in ("import os\nos._exit(1)", "while True:\n    pass", "raise SystemExit"):
        _, reward, terminated, _, info = env.step(python_call(code))
        assert (reward, terminated, info["status"]) == (0.0, False, "tool_call")
        env.reset(seed=0)


def test_step_batch_runs_the_batchs_tool_calls_side_by_side_with_their_own_state():
    batch = [envs.make("rlvr/MathTool-v0") for _ in range(4)]
    for seed, env in enumerate(batch):
        env.reset(seed=seed)
    step_batch(batch, [python_call(f"mine = {i}") for i in range(4)])
    results = step_batch(batch, [python_call("mine * 10")] * 4)
    assert [r[0] for r in results] == [f"<tool_response>\n{10 * i}\n</tool_response>\n" for i in range(4)]


def test_the_python_tool_output_is_cut_at_the_envs_limit():
    env = envs.make("rlvr/MathTool-v0", max_tool_output_chars=50)
    env.reset(seed=0)
    observation, *_ = env.step(python_call("print('x' * 500)"))
    assert "[450 more characters cut]" in observation


def test_python_and_run_are_offered_where_code_runs_help():
    assert set(envs.entry("rlvr/Code-v0").tools) == {"python", "run"}
    assert set(envs.entry("rlvr/HumanEval-v0").tools) == {"python", "run"}
    assert {"calculator", "python"} <= set(envs.entry("rlvr/Arithmetic-v0").tools)


def test_the_run_tool_runs_a_whole_program_on_its_input_and_keeps_nothing(sandbox_pool):
    text = run_program("import sys\nprint(sys.stdin.read().upper())", "hello", pool=sandbox_pool)
    assert text == "exit code 0\nstdout:\nHELLO\n"
    failing = run_program("raise ValueError('bad')", pool=sandbox_pool)
    assert failing.startswith("exit code 1\nstdout: (empty)\nstderr:\n") and "ValueError: bad" in failing
    assert "stopped: ran longer than 1 s" in run_program("while True: pass", timeout=1, pool=sandbox_pool)


def test_code_episodes_can_run_their_program_before_answering_and_the_hidden_tests_decide():
    env = envs.make("rlvr/Code-v0", tools=["run"])
    _, info = env.reset(seed=3)
    task = info["task"]
    program = task.canonical_solution
    observation, reward, terminated, _, step = env.step(call_text("run", {"code": program + "\nprint('ran')"}))
    assert step["status"] == "tool_call" and "exit code 0" in observation and "ran" in observation
    _, reward, terminated, _, step = env.step(f"```python\n{program}\n```")
    assert (reward, terminated) == (1.0, True)


def test_a_session_tool_gets_the_toolboxs_time_limit_and_is_closed_at_reset():
    made, closed = [], []

    class Session:
        def __init__(self, timeout):
            made.append(timeout)

        def __call__(self, code):
            return code

        def close(self):
            closed.append(True)

    from rlvr.envs.core.tools import Tool

    tool = Tool(name="echo", description="", parameters={"type": "object"}, session=Session)
    box = ToolBox({"echo": tool}, timeout=2.5)
    box.run([ToolCall("echo", {"code": "a"}), ToolCall("echo", {"code": "b"})])
    assert made == [2.5]
    box.reset()
    assert closed == [True]


def test_a_tool_needs_exactly_one_of_function_and_session():
    from rlvr.envs.core.tools import Tool

    with pytest.raises(ValueError, match="exactly one"):
        Tool(name="t", description="", parameters={})
    with pytest.raises(ValueError, match="exactly one"):
        Tool(name="t", description="", parameters={}, function=print, session=lambda timeout: print)


def test_a_tool_fault_is_a_fault_result_and_other_errors_are_the_models_to_read():
    def broken(**_):
        raise ToolFault("backend down")

    from rlvr.envs.core.tools import Tool

    box = ToolBox({"b": Tool(name="b", description="", parameters={"type": "object"}, function=broken)})
    (result,) = box.run([ToolCall("b", {})])
    assert result.fault and not result.ok and "backend down" in result.content


def test_python_tool_and_run_tool_schemas_name_their_arguments():
    assert PYTHON.schema()["function"]["parameters"]["required"] == ["code"]
    assert set(RUN_PROGRAM.parameters["properties"]) == {"code", "stdin"}
    assert json.loads(json.dumps(PYTHON.schema())) == PYTHON.schema()
    assert callable(python_session(1.0))


def test_a_registered_env_with_a_tool_is_a_gymnasium_env():
    env = gym.make("rlvr/MathTool-v0")
    assert env.spec.id == "rlvr/MathTool-v0"
