"""Envs served by ``rlvr serve`` (openenv-core's server) and played with ``remote=URL``: the same episodes as
local, OpenEnv's own client, concurrent sessions, bad input, dead servers, and trainers on remote envs."""

from __future__ import annotations

import json
import signal
import threading

import pytest
from env_server import free_port, served, start_process

import rlvr.envs as envs
from rlvr.envs.audit.strategies import reference_completion
from rlvr.envs.core.text_env import step_batch
from rlvr.envs.serving.remote import RemoteEnvError, RemoteTextEnv
from rlvr.verifiers import Rubric, Score, Status

EASY = {"level": 1, "template": "equation"}
BUILTIN = sorted(env_id for env_id in envs.list_envs() if env_id.startswith("rlvr/"))


@pytest.fixture(scope="module")
def arithmetic():
    with served("rlvr/Arithmetic-v0", EASY) as url:
        yield url


def play(env, seed: int, completions: list[str]):
    """Reset at ``seed``, step each completion until the episode ends; the prompt and every step's verdict."""
    prompt, info = env.reset(seed=seed)
    steps = []
    for completion in completions:
        observation, reward, terminated, truncated, step = env.step(completion)
        scores = {name: (score.value, score.status.value) for name, score in step["score"].items()}
        steps.append((observation, reward, terminated, truncated, step["status"], scores))
        if terminated or truncated:
            break
    return prompt, info["task"], steps


def test_a_remote_env_plays_the_same_episodes_as_the_local_one(arithmetic):
    local = envs.make("rlvr/Arithmetic-v0", **EASY)
    remote = envs.make("rlvr/Arithmetic-v0", **EASY, remote=arithmetic)
    assert isinstance(remote.unwrapped, RemoteTextEnv) and remote.unwrapped.remote
    for seed in range(10):
        answer = local.reset(seed=seed)[1]["task"].answer
        for completions in ([f" {answer}"], [" 0"], ["junk \x00"]):
            assert play(remote, seed, completions) == play(local, seed, completions)
    assert remote.unwrapped.reward_range == local.unwrapped.reward_range


@pytest.mark.parametrize("env_id", BUILTIN)
def test_every_builtin_env_gives_the_same_verdicts_served_as_local(env_id, sandbox_pool, monkeypatch):
    import rlvr.sandbox.pool as pool_module

    monkeypatch.setattr(pool_module, "shared_pool", lambda config=None: sandbox_pool)
    local = envs.make(env_id)
    with served(env_id) as url:
        remote = envs.make(env_id, remote=url)
        for seed in range(3):
            _, info = local.reset(seed=seed)
            right = reference_completion(info["task"], local.unwrapped.template) or "0"
            for completions in ([right], ["wrong"], [""]):
                assert play(remote, seed, completions) == play(local, seed, completions)
        remote.close()


def test_multi_turn_feedback_and_the_episode_reward_rule_cross_whole():
    options = {**EASY, "max_turns": 3, "episode_reward": "discounted"}
    local = envs.make("rlvr/Arithmetic-v0", **options)
    with served("rlvr/Arithmetic-v0", options) as url:
        remote = envs.make("rlvr/Arithmetic-v0", **options, remote=url)
        answer = local.reset(seed=4)[1]["task"].answer
        completions = [" 0", " 1", f" {answer}"]
        assert play(remote, 4, completions) == play(local, 4, completions)
        rewards = [step[1] for step in play(remote, 4, completions)[2]]
        assert remote.unwrapped.episode_reward(rewards) == local.unwrapped.episode_reward(rewards) < 1.0


def test_openenvs_own_client_resets_and_steps_a_served_env(arithmetic):
    from openenv.core import GenericEnvClient

    local = envs.make("rlvr/Arithmetic-v0", **EASY)
    prompt, info = local.reset(seed=7)
    with GenericEnvClient(base_url=arithmetic).sync() as client:
        first = client.reset(seed=7)
        assert first.observation["text"] == prompt and not first.done and first.reward is None
        result = client.step({"completion": f" {info['task'].answer}"})
        assert result.reward == 1.0 and result.done and result.observation["status"] == "ok"
        assert result.observation["scores"]["accuracy"]["status"] == "ok"


def test_a_reward_the_verifiers_cannot_judge_crosses_as_none_not_zero():
    def undecided(completion: str, task) -> Score:
        return Score.no_judgement(Status.UNDECIDABLE, reason="too large to compare")

    envs.register(
        "testing/Undecided-v0",
        source=[envs.Task(question="q")],
        rubric=Rubric({"accuracy": (undecided, 1.0)}),
        template="plain",
        description="Never judged.",
        replace=True,
    )
    with served("testing/Undecided-v0") as url:
        remote = envs.make("testing/Undecided-v0", remote=url)
        remote.reset(seed=0)
        _, reward, terminated, _, info = remote.step("anything")
    assert reward is None and terminated and info["status"] == "undecidable"
    assert info["score"]["accuracy"].details == {"reason": "too large to compare"}


def test_a_server_of_another_env_or_other_options_is_refused_by_name(arithmetic):
    with pytest.raises(RemoteEnvError, match=r"serves rlvr/Arithmetic-v0 .* asked for rlvr/Math-v0"):
        envs.make("rlvr/Math-v0", remote=arithmetic).reset(seed=0)
    with pytest.raises(RemoteEnvError, match="level"):
        envs.make("rlvr/Arithmetic-v0", level=2, remote=arithmetic).reset(seed=0)


def test_bad_input_gets_an_error_answer_and_the_server_stays_up(arithmetic):
    import asyncio

    import websockets

    async def exchange(messages: list[str]) -> list[dict]:
        ws_url = arithmetic.replace("http://", "ws://") + "/ws"
        async with websockets.connect(ws_url) as ws:
            answers = []
            for message in messages:
                await ws.send(message)
                answers.append(json.loads(await ws.recv()))
            return answers

    step = json.dumps({"type": "step", "data": {"completion": " 1"}})
    huge = json.dumps({"type": "step", "data": {"completion": "9" * (1 << 20 + 1)}})
    answers = asyncio.run(
        exchange(
            [
                step,  # before any reset
                "{not json",
                json.dumps({"type": "step", "data": {"completion": 5}}),  # wrong type
                json.dumps({"type": "warp"}),
                json.dumps({"type": "reset", "data": {"seed": 1}}),
                huge,  # over the env's max_completion_chars
            ]
        )
    )
    assert [a["type"] for a in answers] == ["error", "error", "error", "error", "observation", "error"]
    assert "over this env's bound" in answers[-1]["data"]["message"]
    remote = envs.make("rlvr/Arithmetic-v0", **EASY, remote=arithmetic)  # still serving
    answer = remote.reset(seed=1)[1]["task"].answer
    assert remote.step(f" {answer}")[1] == 1.0


def test_concurrent_clients_on_two_servers_never_cross_sessions():
    local = envs.make("rlvr/Arithmetic-v0", **EASY)
    expected = {seed: local.reset(seed=seed)[1]["task"].answer for seed in range(40)}
    failures = []
    with served("rlvr/Arithmetic-v0", EASY) as first, served("rlvr/Arithmetic-v0", EASY) as second:

        def client(offset: int) -> None:
            env = envs.make("rlvr/Arithmetic-v0", **EASY, remote=[first, second])
            for seed in range(offset, 40, 8):
                _, info = env.reset(seed=seed)
                right = seed % 2 == 0
                _, reward, *_ = env.step(f" {expected[seed]}" if right else " -1")
                if info["task"].answer != expected[seed] or reward != (1.0 if right else 0.0):
                    failures.append((seed, info["task"].answer, reward))
            env.close()

        threads = [threading.Thread(target=client, args=(offset,)) for offset in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []


def test_step_batch_sends_a_batchs_remote_steps_together_and_keeps_their_order(arithmetic):
    batch = [envs.make("rlvr/Arithmetic-v0", **EASY, remote=arithmetic) for _ in range(6)]
    answers = [env.reset(seed=seed)[1]["task"].answer for seed, env in enumerate(batch)]
    results = step_batch(batch, [f" {a}" if i % 3 else " -5" for i, a in enumerate(answers)])
    assert [r[1] for r in results] == [0.0, 1.0, 1.0, 0.0, 1.0, 1.0]


def test_a_server_killed_mid_episode_gives_reward_none_and_a_restarted_one_is_used_again():
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = start_process("rlvr/Arithmetic-v0", port, json.dumps(EASY))
    try:
        env = envs.make("rlvr/Arithmetic-v0", **EASY, remote=url)
        answer = env.reset(seed=2)[1]["task"].answer
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        _, reward, terminated, _, info = env.step(f" {answer}")
        assert (reward, terminated, info["status"]) == (None, True, "remote_error") and info["error"]
        with pytest.raises(RemoteEnvError, match="Is `rlvr serve"):
            env.reset(seed=2)
        process = start_process("rlvr/Arithmetic-v0", port, json.dumps(EASY))
        env.reset(seed=2)
        assert env.step(f" {answer}")[1] == 1.0
    finally:
        process.kill()


def test_grpo_on_a_remote_env_trains_exactly_as_on_the_local_one(arithmetic, tmp_path):
    from rlvr.cli import main

    def train(out, options) -> list[dict]:
        argv = ["train", "--env", "rlvr/Arithmetic-v0", "--env-options", json.dumps(options), "--steps", "3"]
        argv += ["--cold-start-steps", "10", "--max-new-tokens", "4", "--eval-prompts", "8", "--output-dir", str(out)]
        argv += ["--progress", "false", "--tensorboard", "false"]
        assert main(argv) == 0
        rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
        return [{k: v for k, v in row.items() if k in ("step", "split", "reward", "accuracy")} for row in rows]

    assert train(tmp_path / "remote", {**EASY, "remote": arithmetic}) == train(tmp_path / "local", EASY)


def test_rlvr_serve_refuses_a_wrong_env_id_listing_the_valid_ones(capsys):
    from rlvr.cli import main

    assert main(["serve", "--env", "rlvr/Arithmetc-v0"]) != 0
    assert "Did you mean 'rlvr/Arithmetic-v0'" in capsys.readouterr().err


def test_a_remote_envs_settings_are_the_servers_even_before_its_first_reset(sandbox_pool):
    with served("rlvr/MathTool-v0") as url:
        remote = envs.make("rlvr/MathTool-v0", remote=url).unwrapped
        assert remote.config.max_turns == 4 and remote.config.tools == ("python",)
        assert remote.reward_range == envs.make("rlvr/MathTool-v0").unwrapped.reward_range
        remote.close()


@pytest.mark.parametrize(
    ("env_id", "options"),
    [("rlvr/Arithmetic-v0", {}), ("rlvr/FunctionCalling-v0", {"execute": True, "no_call_share": 0.3})],
)
def test_the_audit_of_a_served_env_matches_the_local_audit(env_id, options):
    from rlvr.envs.audit.report import audit

    local = audit(env_id, options, tasks=8, property_examples=5)
    with served(env_id, options) as url:
        remote = audit(env_id, {**options, "remote": url}, tasks=8, property_examples=5)
    assert remote.passed == local.passed
    assert [(r.name, r.reached, r.judged, r.max_reward) for r in remote.rows] == [
        (r.name, r.reached, r.judged, r.max_reward) for r in local.rows
    ]
    assert remote.references == local.references and remote.false_negatives == local.false_negatives == []
    assert not remote.properties_checked and "properties: not checked" in remote.table()


def test_killing_one_of_two_servers_mid_load_fails_only_its_steps_and_it_is_used_again_once_restarted():
    port = free_port()
    dying_url = f"http://127.0.0.1:{port}"
    process = start_process("rlvr/Arithmetic-v0", port, json.dumps(EASY))
    try:
        with served("rlvr/Arithmetic-v0", EASY) as steady_url:
            batch = [envs.make("rlvr/Arithmetic-v0", **EASY, remote=[dying_url, steady_url]) for _ in range(8)]
            answers = [env.reset(seed=seed)[1]["task"].answer for seed, env in enumerate(batch)]
            on_dying = [env.unwrapped.url == dying_url for env in batch]
            assert 0 < sum(on_dying) < len(batch)
            process.send_signal(signal.SIGKILL)
            process.wait(30)
            results = step_batch(batch, [f" {a}" for a in answers])
            for lost, (_, reward, terminated, _, info) in zip(on_dying, results, strict=True):
                assert (reward, info["status"]) == ((None, "remote_error") if lost else (1.0, "ok")) and terminated
            process = start_process("rlvr/Arithmetic-v0", port, json.dumps(EASY))
            for seed, env in enumerate(batch):
                env.reset(seed=seed)
            assert [r[1] for r in step_batch(batch, [f" {a}" for a in answers])] == [1.0] * len(batch)
    finally:
        process.kill()


def test_rlvr_eval_and_rlvr_sample_on_a_remote_env_report_what_they_report_locally(
    arithmetic, cold_started_tiny, tmp_path
):
    from rlvr.trainers.pipelines.evaluation import EvalConfig, run_eval
    from rlvr.trainers.pipelines.sample import SampleConfig, sample

    def evaluation(options, out):
        env = f"rlvr/Arithmetic-v0:{json.dumps(options)}"
        config = EvalConfig(env=[env], model=str(cold_started_tiny), tasks=12, samples=2, max_new_tokens=4)
        return run_eval(config.model_copy(update={"output_dir": out, "progress": False})).summary["total"]

    local = evaluation(EASY, tmp_path / "eval-local")
    remote = evaluation({**EASY, "remote": arithmetic}, tmp_path / "eval-remote")
    assert {k: local[k] for k in ("accuracy", "reward", "pass@2")} == {
        k: remote[k] for k in ("accuracy", "reward", "pass@2")
    }

    def sampled(options, out):
        config = SampleConfig(
            env="rlvr/Arithmetic-v0",
            env_options=options,
            model=str(cold_started_tiny),
            out=out,
            prompts=6,
            k=2,
            max_new_tokens=4,
            progress=False,
        )
        return [row["completion"] for row in sample(config).dataset]

    assert sampled({**EASY, "remote": arithmetic}, tmp_path / "s-remote") == sampled(EASY, tmp_path / "s-local")
