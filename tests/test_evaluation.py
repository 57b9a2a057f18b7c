"""rlvr eval: the same numbers as the trainers' evaluation, served models over real HTTP, resuming, failures."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest
from openai_server import model_answer, serve

from rlvr.trainers.algorithms.config import GRPOConfig
from rlvr.trainers.algorithms.grpo import train_grpo
from rlvr.trainers.models.policy import load_policy
from rlvr.trainers.pipelines.evaluation import SAMPLES_FILE, EvalConfig, EvalConfigError, run_eval
from rlvr.trainers.rollout.env_mixture import EnvRef
from rlvr.trainers.run.evaluate import EVAL_CHUNK, REQUEST_FAILED
from rlvr.verifiers.openai_endpoint import EndpointError

EASY = {"level": 1, "template": "equation"}
ARITHMETIC = f"rlvr/Arithmetic-v0:{json.dumps(EASY)}"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny model cold-started on easy arithmetic, and the trainer's own evaluation of it."""
    run_dir = tmp_path_factory.mktemp("trained")
    config = GRPOConfig(
        env="rlvr/Arithmetic-v0",
        env_options=EASY,
        model="tiny",
        output_dir=run_dir,
        steps=0,
        cold_start_steps=40,
        max_new_tokens=4,
        eval_prompts=40,
        pass_k=3,
        progress=False,
        tensorboard=False,
    )
    result = train_grpo(config)
    return run_dir, result.eval_after


def evaluation(tmp_path: Path, **fields) -> EvalConfig:
    values = dict(env=[ARITHMETIC], tasks=40, samples=3, max_new_tokens=4, output_dir=tmp_path, progress=False)
    values.update(fields)
    return EvalConfig(**values)


def test_a_local_model_scores_exactly_as_the_trainers_own_evaluation(trained, tmp_path):
    run_dir, trainer_eval = trained
    summary = run_eval(evaluation(tmp_path, model=str(run_dir), pass_k=[3])).summary
    numbers = summary["envs"][EnvRef.model_validate(ARITHMETIC).label]
    assert 0.0 < trainer_eval["accuracy"] < 1.0  # a model that gets some, not all: the comparison means something
    assert numbers["accuracy"] == trainer_eval["accuracy"]
    assert numbers["reward"] == trainer_eval["reward"]
    assert numbers["pass@3"] == trainer_eval["pass@3"]


def test_every_episode_is_written_with_its_prompt_completion_reward_and_status(trained, tmp_path):
    run_dir, _ = trained
    run_eval(evaluation(tmp_path, model=str(run_dir), tasks=5))
    rows = [json.loads(line) for line in (tmp_path / SAMPLES_FILE).read_text().splitlines()]
    assert len(rows) == 5 * (1 + 3)
    first = rows[0]
    assert first["sample"] == "greedy" and first["task"] == 0 and first["prompt"].endswith("=")
    assert set(first) >= {"env", "seed", "prompt", "completions", "reward", "scores", "status", "turns"}
    assert (tmp_path / "summary.md").read_text().startswith("| env | tasks | accuracy | reward | pass@1 | pass@3 |")


def test_a_served_model_answers_over_http_as_the_same_model_here(trained, tmp_path):
    run_dir, _ = trained
    local = run_eval(evaluation(tmp_path / "local", model=str(run_dir))).summary
    model, tokenizer = load_policy(str(run_dir))
    with serve(model_answer(model, tokenizer)) as server:
        served = run_eval(
            evaluation(tmp_path / "served", model="tiny-arithmetic", endpoint=server.url, api="completions")
        ).summary
    key = next(iter(local["envs"]))
    assert served["envs"][key]["accuracy"] == local["envs"][key]["accuracy"]  # greedy: the same answers
    assert served["envs"][key]["reward"] == local["envs"][key]["reward"]
    assert served["total"]["failed"] == 0 and server.most_in_flight > 1  # requests were in flight together
    assert all(r["model"] == "tiny-arithmetic" and r["max_tokens"] == 4 for r in server.requests)


def test_a_multi_turn_env_sends_the_feedback_in_the_next_request(trained, tmp_path):
    run_dir, _ = trained
    model, tokenizer = load_policy(str(run_dir))
    two_turns = json.dumps({**EASY, "max_turns": 2})
    with serve(model_answer(model, tokenizer)) as server:
        summary = run_eval(
            evaluation(tmp_path, env=[f"rlvr/Arithmetic-v0:{two_turns}"], endpoint=server.url, tasks=10, samples=1)
        ).summary
    rows = [json.loads(line) for line in (tmp_path / SAMPLES_FILE).read_text().splitlines()]
    retried = [r for r in rows if r["turns"] == 2]
    assert retried, "some first answers were wrong, so some episodes took a second turn"
    second_turn = [r for r in server.requests if len(r["messages"]) > 1]
    assert second_turn and "not accepted" in second_turn[0]["messages"][-1]["content"]
    assert summary["total"]["failed"] == 0


def test_requests_that_never_succeed_are_failures_not_wrong_answers(tmp_path):
    with serve(lambda path, body: (503, {"error": "overloaded"}, {})) as server:
        summary = run_eval(evaluation(tmp_path, endpoint=server.url, tasks=3, samples=2, retries=1)).summary
    numbers = next(iter(summary["envs"].values()))
    assert numbers["failed"] == 3 * 3
    assert math.isnan(numbers["accuracy"]) and math.isnan(numbers["reward"])  # unknown, not 0
    rows = [json.loads(line) for line in (tmp_path / SAMPLES_FILE).read_text().splitlines()]
    assert {r["status"] for r in rows} == {REQUEST_FAILED} and all(r["reward"] is None for r in rows)
    assert all("HTTP 503" in r["error"] for r in rows)
    assert len(server.requests) == 9 * 2  # each tried twice


def test_a_server_that_refuses_every_request_is_one_clear_error(tmp_path):
    refuse = serve(lambda path, body: (404, {"error": "model 'x' not found"}, {}))
    with refuse as server, pytest.raises(EndpointError, match=r"HTTP 404.*not found"):
        run_eval(evaluation(tmp_path, endpoint=server.url, tasks=2))


def test_a_request_past_its_deadline_is_a_failure(tmp_path):
    def slow(path, body):
        time.sleep(2.0)
        return 200, {"choices": [{"text": " 1", "finish_reason": "stop"}]}, {}

    with serve(slow) as server:
        summary = run_eval(
            evaluation(tmp_path, endpoint=server.url, api="completions", tasks=1, samples=1, timeout=0.5)
        ).summary
    assert summary["total"]["failed"] == 2


def test_an_interrupted_evaluation_continues_with_the_chunks_it_lacks(trained, tmp_path):
    run_dir, _ = trained
    config = evaluation(tmp_path, model=str(run_dir), tasks=EVAL_CHUNK + 4, samples=1)
    whole = run_eval(config).summary
    samples = tmp_path / SAMPLES_FILE
    lines = samples.read_text().splitlines(keepends=True)
    first_chunk = 2 * EVAL_CHUNK
    samples.write_text("".join(lines[: first_chunk + 3]) + lines[first_chunk + 3][:20])  # cut off mid-chunk, mid-line
    resumed = run_eval(config).summary
    assert resumed == whole
    rows = [json.loads(line) for line in samples.read_text().splitlines() if line.endswith("}")]
    assert sum(r["task"] < EVAL_CHUNK for r in rows) == first_chunk  # the finished chunk was not run again


def test_continuing_with_other_settings_is_refused_naming_them(trained, tmp_path):
    run_dir, _ = trained
    run_eval(evaluation(tmp_path, model=str(run_dir), tasks=2))
    with pytest.raises(EvalConfigError, match=r"max_new_tokens: 4 there, 8 here"):
        run_eval(evaluation(tmp_path, model=str(run_dir), tasks=2, max_new_tokens=8))
    fresh = run_eval(evaluation(tmp_path, model=str(run_dir), tasks=2, max_new_tokens=8, resume=False))
    assert fresh.summary["total"]["tasks"] == 2


def test_envs_are_weighted_in_the_total(trained, tmp_path):
    run_dir, _ = trained
    envs_ = [{"id": "rlvr/Arithmetic-v0", "options": EASY, "weight": 3}, {"id": "rlvr/Math-v0"}]
    summary = run_eval(evaluation(tmp_path, model=str(run_dir), env=envs_, tasks=4, samples=1)).summary
    arithmetic, math_ = (summary["envs"][label]["accuracy"] for label in summary["envs"])
    assert summary["total"]["accuracy"] == pytest.approx((3 * arithmetic + math_) / 4)
    assert summary["total"]["tasks"] == 8


def test_a_served_model_uses_tools_through_the_chat_apis_tool_calls(tmp_path):
    """A server that parses calls out of the model's text answers with tool_calls and no content; the next request
    carries the call back as tool_calls, its result as a tool message with the call's id, and the tools."""

    def scripted(path, body):
        messages = body["messages"]
        question = messages[-1]["content"].rsplit("\n\n", 1)[-1].removesuffix(" =")
        if messages[-1]["role"] == "user":
            call = {
                "id": "x",
                "type": "function",
                "function": {"name": "calculator", "arguments": json.dumps({"expression": question})},
            }
            message = {"role": "assistant", "content": None, "tool_calls": [call]}
        else:
            message = {"role": "assistant", "content": f" {messages[-1]['content']}"}
        return 200, {"choices": [{"message": message, "finish_reason": "stop"}]}, {}

    options = json.dumps({"level": 5, "template": "equation", "tools": ["calculator"]})
    with serve(scripted) as server:
        summary = run_eval(
            evaluation(tmp_path, env=[f"rlvr/Arithmetic-v0:{options}"], endpoint=server.url, tasks=3, samples=1)
        ).summary
    assert summary["total"]["accuracy"] == 1.0
    second = next(r for r in server.requests if len(r["messages"]) > 2)
    assistant, tool = second["messages"][-2:]
    (call,) = assistant["tool_calls"]
    assert call["function"]["name"] == "calculator" and json.loads(call["function"]["arguments"])["expression"]
    assert tool["role"] == "tool" and tool["tool_call_id"] == call["id"] and tool["content"].isdigit()
    assert second["tools"][0]["function"]["name"] == "calculator"
