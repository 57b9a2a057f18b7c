"""An OpenEnv environment with a text action, registered with register_openenv and trained on as an rlvr env."""

from __future__ import annotations

import json
import threading

import pytest
from env_server import free_port, wait_healthy
from openenv.core import Action, Environment, Observation, State, create_fastapi_app

import rlvr.envs as envs
from rlvr.envs.serving.openenv_env import OpenEnvTextEnv, register_openenv

WORDS = ["stone", "river", "cloud", "amber", "maple"]


class Say(Action):
    message: str


class Prompt(Observation):
    prompt: str = ""


class ReverseWord(Environment):
    """A foreign OpenEnv env: reverse the word; two tries; reward 1 for the reversed word, else 0."""

    SUPPORTS_CONCURRENT_SESSIONS = True

    def __init__(self):
        super().__init__()
        self.word, self.tries = "", 0

    def reset(self, seed=None, episode_id=None, **kwargs) -> Prompt:
        self.word, self.tries = WORDS[(seed or 0) % len(WORDS)], 0
        return Prompt(prompt=f"Write {self.word} backwards.")

    def step(self, action: Say, timeout_s=None, **kwargs) -> Prompt:
        self.tries += 1
        right = action.message.strip() == self.word[::-1]
        done = right or self.tries >= 2
        return Prompt(prompt="" if done else "No, try again.", reward=1.0 if right else 0.0, done=done)

    @property
    def state(self) -> State:
        return State(step_count=self.tries)


@pytest.fixture(scope="module")
def reverse_word():
    import uvicorn

    port = free_port()
    app = create_fastapi_app(ReverseWord, Say, Prompt, max_concurrent_envs=128)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url)
    register_openenv(
        "testing/ReverseWord-v0", url, action_field="message", text_field="prompt", max_turns=2, replace=True
    )
    yield url
    server.should_exit = True
    thread.join(30)


def test_a_registered_openenv_env_plays_through_the_rlvr_interface(reverse_word):
    env = envs.make("testing/ReverseWord-v0")
    assert isinstance(env.unwrapped, OpenEnvTextEnv)
    prompt, info = env.reset(seed=1)
    assert prompt == "Write river backwards." and info["task"].question == prompt
    observation, reward, terminated, truncated, step = env.step("wrong")
    assert (observation, reward, terminated, truncated, step["status"]) == (
        "No, try again.",
        0.0,
        False,
        False,
        "wrong",
    )
    observation, reward, terminated, _, step = env.step("revir")
    assert (observation, reward, terminated, step["status"]) == ("", 1.0, True, "ok")
    assert [m["role"] for m in step["messages"]] == ["user", "assistant", "user", "assistant"]


def test_it_is_listed_and_a_wrong_option_is_refused(reverse_word):
    assert "testing/ReverseWord-v0" in envs.list_envs()
    with pytest.raises(ValueError, match="takes only max_turns and remote"):
        envs.make("testing/ReverseWord-v0", level=3)


def test_grpo_trains_on_it(reverse_word, tmp_path):
    from rlvr.cli import main

    argv = ["train", "--env", "testing/ReverseWord-v0", "--steps", "2", "--cold-start-steps", "0"]
    argv += ["--max-new-tokens", "6", "--eval-prompts", "4", "--output-dir", str(tmp_path)]
    argv += ["--progress", "false", "--tensorboard", "false", "--group-size", "4"]
    assert main(argv) == 0
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    train = [r for r in rows if r["split"] == "train"]
    assert len(train) == 2 and all(r["num_turns"] >= 1 for r in train)
