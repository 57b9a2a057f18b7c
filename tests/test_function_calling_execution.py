"""FunctionCalling-v0's executing mode: calls run against simulated functions, and the reply after them is judged."""

from __future__ import annotations

import json
import warnings

import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import given, settings
from hypothesis import strategies as st
from test_function_calling_env import BFCL_ROWS, GLAIVE_ROWS

import rlvr.envs as envs
from rlvr.envs.core.text_env import step_batch
from rlvr.envs.core.tools import call_text
from rlvr.envs.function_calling.env import _reference_calls
from rlvr.envs.function_calling.execution import response_facts
from rlvr.envs.function_calling.simulated import simulate

ID = "rlvr/FunctionCalling-v0"


def calls_text(calls) -> str:
    return "".join(call_text(call["name"], call["arguments"]) for call in calls)


def play(env, seed: int, *turns: str, options=None):
    """Reset at ``seed`` and step each turn; (task, last step's result)."""
    _, info = env.reset(seed=seed, options=options)
    result = None
    for turn in turns:
        result = env.step(turn)
    return info["task"], result


def right_episode(env, seed: int, options=None):
    """The right calls, then a reply stating every fact; (task, final reward, final info)."""
    _, info = env.reset(seed=seed, options=options)
    task = info["task"]
    calls = _reference_calls(task)
    if not calls:
        _, reward, _, _, step = env.step(task.reply or "I cannot help with that.")
        return task, reward, step
    observation, *_ = env.step(calls_text(calls))
    assert "<tool_response>" in observation
    _, reward, terminated, _, step = env.step("Done. " + "; ".join(str(fact) for fact in task.facts))
    assert terminated
    return task, reward, step


@pytest.fixture(scope="module")
def env():
    return envs.make(ID, execute=True, no_call_share=0.3, parallel_share=0.2)


def test_executing_mode_gives_episodes_four_turns_and_tasks_their_results(env):
    assert env.unwrapped.config.max_turns == 4
    _, info = env.reset(seed=0, options={"kind": "call"})
    task = info["task"]
    assert task.execute and len(task.results) == 1 and task.facts
    assert envs.make(ID).unwrapped.config.max_turns == 1


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10**6))
def test_the_right_calls_then_a_reply_stating_the_results_earns_one(seed):
    env = envs.make(ID, execute=True, no_call_share=0.3, parallel_share=0.2)
    _, reward, step = right_episode(env, seed)
    assert reward == 1.0, step["score"]["accuracy"]


def test_the_result_of_the_right_call_is_the_tasks_recorded_result(env):
    task, (observation, *_) = play(env, 5, calls_text(_reference_calls(env.reset(seed=5)[1]["task"])))
    assert json.loads(observation.split("\n")[1]) == task.results[0]


def test_an_accepted_alternative_value_gets_the_same_result(env):
    for seed in range(200):
        _, info = env.reset(seed=seed, options={"kind": "call"})
        task = info["task"]
        alternatives = {k: v for k, v in task.expected_calls[0]["arguments"].items() if len(v) > 1 and "" not in v}
        if alternatives:
            break
    name, accepted = next(iter(alternatives.items()))
    call = _reference_calls(task)[0]
    call["arguments"][name] = accepted[1]
    observation, *_ = env.step(calls_text([call]))
    assert json.loads(observation.split("\n")[1]) == task.results[0]


def test_a_call_with_wrong_arguments_gets_another_result_and_stating_it_earns_nothing(env):
    _, info = env.reset(seed=11, options={"kind": "call"})
    task = info["task"]
    call = _reference_calls(task)[0]
    key = next(k for k, v in call["arguments"].items() if isinstance(v, str))
    call["arguments"][key] = call["arguments"][key] + " Springs"
    observation, *_ = env.step(calls_text([call]))
    result = json.loads(observation.split("\n")[1])
    wrong = simulate(call["name"], call["arguments"], task.world)
    assert result == wrong.result != task.results[0]
    _, reward, _, _, step = env.step("Here you go: " + "; ".join(map(str, wrong.facts)))
    assert reward == 0.0 and "not the calls" in step["score"]["accuracy"].details["reason"]


def test_a_reply_that_does_not_state_the_result_earns_nothing(env):
    _, info = env.reset(seed=2, options={"kind": "call"})
    env.step(calls_text(_reference_calls(info["task"])))
    _, reward, _, _, step = env.step("All done!")
    assert reward == 0.0 and step["score"]["accuracy"].details["missing"] == info["task"].facts


def test_guessing_without_calling_earns_nothing_even_with_the_right_facts(env):
    _, info = env.reset(seed=3, options={"kind": "call"})
    _, reward, _, _, step = env.step("; ".join(map(str, info["task"].facts)))
    assert reward == 0.0 and step["score"]["accuracy"].details["reason"] == "no function was called"


@pytest.mark.parametrize("kind", ["no_tool", "missing_argument"])
def test_calling_when_no_call_is_right_fails_however_good_the_reply(env, kind):
    _, info = env.reset(seed=4, options={"kind": kind})
    task = info["task"]
    name = task.functions[0]["name"]
    env.step(call_text(name, {}))
    _, reward, _, _, step = env.step(task.reply)
    assert reward == 0.0 and "called a function" in step["score"]["accuracy"].details["reason"]
    _, info = env.reset(seed=4, options={"kind": kind})
    _, reward, terminated, _, _ = env.step(info["task"].reply)
    assert (reward, terminated) == (1.0, True)


def test_an_episode_that_ends_on_a_call_earns_nothing():
    env = envs.make(ID, execute=True, max_turns=2)
    _, info = env.reset(seed=6, options={"kind": "call"})
    call = calls_text(_reference_calls(info["task"]))
    env.step(call)
    _, reward, terminated, truncated, step = env.step(call)  # the last turn: judged, not run
    assert reward == 0.0 and (terminated or truncated)
    assert "ended on a call" in step["score"]["accuracy"].details["reason"]


def test_repeating_the_right_call_is_not_an_extra_call(env):
    _, info = env.reset(seed=8, options={"kind": "call"})
    task = info["task"]
    env.step(calls_text(_reference_calls(task)))
    env.step(calls_text(_reference_calls(task)))
    _, reward, *_ = env.step("; ".join(map(str, task.facts)))
    assert reward == 1.0


def test_an_extra_call_to_another_function_fails_the_episode(env):
    for seed in range(100):
        _, info = env.reset(seed=seed, options={"kind": "call"})
        task = info["task"]
        others = [f["name"] for f in task.functions if f["name"] != task.expected_calls[0]["name"]]
        if others:
            break
    env.step(calls_text(_reference_calls(task)) + call_text(others[0], {}))
    _, reward, *_ = env.step("; ".join(map(str, task.facts)))
    assert reward == 0.0


def test_a_reply_listing_numbers_to_hit_the_result_is_refused(env):
    _, info = env.reset(seed=9, options={"kind": "call"})
    task = info["task"]
    env.step(calls_text(_reference_calls(task)))
    flood = " ".join(str(n) for n in range(100_000)) + " " + " ".join(map(str, task.facts))
    _, reward, _, _, step = env.step(flood)
    assert reward == 0.0 and step["score"]["accuracy"].status.value == "hedged"


def test_a_reply_listing_candidate_results_is_hedging(env):
    _, info = env.reset(seed=12, options={"kind": "call"})
    task = info["task"]
    env.step(calls_text(_reference_calls(task)))
    others = [fact for seed in (1, 2, 3) for fact in env.unwrapped.source.get(seed, kind="call").facts]
    _, reward, _, _, step = env.step("; ".join(map(str, [*others, *task.facts])))
    assert reward == 0.0 and step["score"]["accuracy"].status.value == "hedged"


def test_the_audit_passes_the_executing_mode():
    from rlvr.envs.audit.report import audit

    report = audit(ID, {"execute": True, "no_call_share": 0.3, "parallel_share": 0.2}, tasks=20, property_examples=10)
    assert report.passed, report.table()


def test_facts_stated_only_in_the_reasoning_do_not_count():
    env = envs.make(ID, execute=True, template="r1")
    _, info = env.reset(seed=10, options={"kind": "call"})
    task = info["task"]
    env.step("<think>calling</think><answer>" + calls_text(_reference_calls(task)) + "</answer>")
    facts = "; ".join(map(str, task.facts))
    _, _, _, _, step = env.step(f"<think>{facts}</think><answer>Done.</answer>")
    assert step["score"]["accuracy"].value == 0.0 and step["score"]["accuracy"].details["missing"] == task.facts


def test_step_batch_judges_as_step_does(env):
    batch = [envs.make(ID, execute=True) for _ in range(3)]
    tasks = []
    for seed, one in enumerate(batch):
        _, info = one.reset(seed=seed, options={"kind": "call"})
        tasks.append(info["task"])
    step_batch(batch, [calls_text(_reference_calls(task)) for task in tasks])
    replies = ["; ".join(map(str, tasks[0].facts)), "nothing", "; ".join(map(str, tasks[2].facts))]
    assert [r[1] for r in step_batch(batch, replies)] == [1.0, 0.0, 1.0]


def test_executing_mode_passes_gymnasiums_env_checker():
    check_env(envs.make(ID, execute=True).unwrapped, skip_render_check=True)


def test_the_single_turn_mode_is_unchanged():
    env = envs.make(ID)
    _, info = env.reset(seed=0, options={"kind": "call"})
    task = info["task"]
    assert not task.execute and not task.results
    _, reward, terminated, _, _ = env.step(calls_text(_reference_calls(task)))
    assert (reward, terminated) == (1.0, True)


def _data_file(tmp_path, name, rows):
    path = tmp_path / name
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return str(path)


def test_a_glaive_record_answers_with_its_own_function_response_and_its_reply_passes(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        env = envs.make(ID, execute=True, dataset=_data_file(tmp_path, "g.jsonl", GLAIVE_ROWS))
    _, info = env.reset(options={"index": 0})
    task = info["task"]
    assert task.results == [{"bmi": 22.86}] and task.facts == [22.86]
    observation, *_ = env.step(call_text("calculate_bmi", {"weight": 70, "height": 1.75}))
    assert '{"bmi": 22.86}' in observation
    _, reward, *_ = env.step("Your BMI is 22.86, in the healthy range.")
    assert reward == 1.0


def test_a_bfcl_record_runs_on_the_generic_simulation_and_its_reference_passes(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        env = envs.make(ID, execute=True, dataset=_data_file(tmp_path, "b.jsonl", BFCL_ROWS))
    for index in range(env.unwrapped.source.size):
        _, reward, _ = right_episode(env, 0, options={"index": index})
        assert reward == 1.0


def test_response_facts_are_the_values_the_reference_reply_states():
    response = {"bmi": 22.86, "category": "normal", "flag": True, "note": "unused words"}
    assert response_facts(response, "Your BMI is 22.86, which is Normal.") == [22.86, "normal"]
