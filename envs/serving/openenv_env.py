"""The other direction: an OpenEnv environment whose action is text, registered and trained on as an rlvr env.

    register_openenv("textarena/Wordle-v0", url="http://10.0.0.7:8000", action_field="message", text_field="prompt")
    env = envs.make("textarena/Wordle-v0")          # then --env textarena/Wordle-v0 in rlvr train / eval / sample

Which OpenEnv envs fit: those whose action is one text field (the completion
goes there) and whose observation carries the text the model reads next in a
field (``text_field``): TextArena's games (``message`` / ``prompt``), echo-style
envs, and any rlvr env served by ``rlvr serve`` (though ``remote=URL`` plays
those with their full verdicts). Envs whose actions are structured (code
cells with arguments, browser or tool calls as objects) do not.

The env's own reward is the reward; its status is ``ok`` when the reward
reaches the top of ``reward_range`` (for the accuracy metrics) and ``wrong``
otherwise, and a step the server did not answer gets reward None and status
``remote_error``, as for ``remote=URL``. An episode lasts until the server says
``done`` or ``max_turns`` completions. Such an env has no reference answers
here, so it takes no cold start and no ``rlvr audit``: audit it where it is
judged.
"""

from __future__ import annotations

from typing import Any

from rlvr.envs.core.registration import EnvEntry, register_builder
from rlvr.envs.core.templates import BUILTIN_TEMPLATES
from rlvr.envs.core.text_env import EnvConfig
from rlvr.envs.serving.remote import MESSAGE_TIMEOUT, RemoteTextEnv, _Loop
from rlvr.envs.serving.wire import WireTask
from rlvr.verifiers.score import Score, Status

__all__ = ["OpenEnvTextEnv", "register_openenv"]


class OpenEnvTextEnv(RemoteTextEnv):
    """An OpenEnv env with a text action, as an rlvr ``TextEnv`` (see the module docs).

    Args:
        url: the OpenEnv server's URL, or a list of them.
        env_id: the id it is registered under here.
        action_field: the action's text field, which gets the completion.
        text_field: the observation's field holding the text the model reads.
        reward_range: the env's lowest and highest reward.
        max_turns: most completions per episode.
    """

    def __init__(
        self,
        url: str | list[str],
        env_id: str,
        action_field: str,
        text_field: str,
        reward_range: tuple[float, float] = (0.0, 1.0),
        max_turns: int = 1,
        render_mode: str | None = None,
    ) -> None:
        super().__init__(url, env_id, {}, render_mode)
        self.action_field, self.text_field = action_field, text_field
        self._range = (float(reward_range[0]), float(reward_range[1]))
        self._config = EnvConfig(max_turns=max_turns)
        self._template = BUILTIN_TEMPLATES["plain"]
        self._turns = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        data = {"seed": seed, **(options or {})}
        result = self._reset_with_retries({k: v for k, v in data.items() if v is not None})
        text = str(result.observation.get(self.text_field, ""))
        self.task = WireTask(question=text)
        self._messages = [{"role": "user", "content": text}]
        self._done, self._turns = False, 0
        return text, {"task": self.task, "messages": list(self._messages), "index": seed}

    def step(self, action: str) -> tuple[str, float | None, bool, bool, dict[str, Any]]:  # type: ignore[override]
        self.check_step(action)
        try:
            result = _Loop.run(self._connected().step({self.action_field: action}), MESSAGE_TIMEOUT)
        except Exception as error:  # the server, the network or the session failed: not the model's doing
            return self._fault(f"{type(error).__name__}: {error}")
        self._turns += 1
        reward = None if result.reward is None else float(result.reward)
        if reward is None:
            score = Score.no_judgement(Status.REMOTE_ERROR, reason="the env gave no reward")
        elif reward >= self._range[1]:
            score = Score(reward, Status.OK, {})
        else:
            score = Score(reward, Status.WRONG, {})
        terminated = bool(result.done)
        truncated = not terminated and self._turns >= self._config.max_turns  # type: ignore[union-attr]
        text = "" if terminated or truncated else str(result.observation.get(self.text_field, ""))
        self._messages.append({"role": "assistant", "content": action})
        if text:
            self._messages.append({"role": "user", "content": text})
        self._done = terminated or truncated
        info = {"score": {"reward": score}, "status": score.status.value, "messages": list(self._messages)}
        return text, reward, terminated, truncated, info


def register_openenv(
    id: str,
    url: str | list[str],
    *,
    action_field: str = "message",
    text_field: str = "prompt",
    reward_range: tuple[float, float] = (0.0, 1.0),
    max_turns: int = 1,
    description: str = "",
    replace: bool = False,
) -> EnvEntry:
    """Register the OpenEnv env at ``url`` under ``id``: ``envs.make(id)`` plays it (see the module docs)."""

    def build(render_mode: str | None = None, **options: Any) -> OpenEnvTextEnv:
        turns = int(options.pop("max_turns", max_turns))
        where = options.pop("remote", url)
        if options:
            raise ValueError(f"{id}: an OpenEnv env takes only max_turns and remote, got {sorted(options)}")
        return OpenEnvTextEnv(where, id, action_field, text_field, reward_range, turns, render_mode)

    text = description or f"An OpenEnv env at {url if isinstance(url, str) else ', '.join(url)} (text actions)."
    return register_builder(id, build, text, replace=replace)
