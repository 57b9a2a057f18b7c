"""Serve a registered env over the network as an OpenEnv environment (``rlvr serve``).

openenv-core's own server does the serving: ``/ws`` sessions (each WebSocket
connection its own env instance, up to ``max_sessions`` at once), ``/reset``,
``/step``, ``/state``, ``/schema`` and ``/health``. ``ServedEnv`` is the OpenEnv
environment that one session drives: an rlvr env made with ``envs.make(env_id,
**options)``, reset with a seed and reset options, stepped with completions.

Bad input never takes the server down: a step before a reset, a completion
longer than the env's bound, a malformed message or an unknown session are
error responses to that client. The verdict is the env's own: the reward None
where its verifiers could not judge (crossing as ``null``), the scores with
their status, the task record.

    app = make_app("rlvr/Arithmetic-v0", {"level": 2}, max_sessions=64)
    serve("rlvr/Arithmetic-v0", {}, host="0.0.0.0", port=8000)   # blocks
"""

from __future__ import annotations

import json
import uuid
from typing import Any, cast

from openenv.core import Environment, State, create_fastapi_app

from rlvr.envs.core.registration import make
from rlvr.envs.core.text_env import TextEnv
from rlvr.envs.serving.wire import CompletionAction, TextObservation, reset_info, scores_to_wire, step_info

__all__ = ["ServedEnv", "make_app", "serve"]


class ServedEnv(Environment):  # type: ignore[misc]  # openenv's generic base
    """One session's env: ``envs.make(env_id, **options)`` behind OpenEnv's ``reset``/``step``/``state``.

    Args:
        env_id: a registered env id (built-in, plugin or imported).
        options: the env's options, as ``envs.make`` takes them.
    """

    SUPPORTS_CONCURRENT_SESSIONS = True

    def __init__(self, env_id: str, options: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.env_id, self.options = env_id, dict(options or {})
        self.env = make(env_id, **self.options)
        self.text_env = cast(TextEnv, self.env.unwrapped)
        self.episode_id: str | None = None
        self.steps = 0

    def reset(
        self,
        seed: int | None = None,
        episode_id: str | None = None,
        options: dict[str, Any] | None = None,
        expect: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> TextObservation:
        """A new episode: the task of ``seed`` (reset ``options`` such as ``index`` or ``level`` go to the env).

        ``expect``: the env id and options the client means to play; another env than this server's is refused.
        """
        if expect is not None and (expect.get("env_id"), _canonical(expect.get("options"))) != (
            self.env_id,
            _canonical(self.options),
        ):
            raise ValueError(
                f"this server serves {self.env_id} with options {json.dumps(self.options, sort_keys=True)}; "
                f"the client asked for {expect.get('env_id')} with {json.dumps(expect.get('options'), sort_keys=True)}"
            )
        prompt, info = self.env.reset(seed=seed, options=options)
        self.episode_id, self.steps = episode_id or uuid.uuid4().hex, 0
        return TextObservation(text=prompt, done=False, reward=None, info=reset_info(info, self.text_env))

    def step(self, action: CompletionAction, timeout_s: float | None = None, **kwargs: Any) -> TextObservation:
        """Step the env with the completion; refuses a completion over the env's ``max_completion_chars``."""
        completion = action.completion
        bound = self.text_env.config.max_completion_chars
        if len(completion) > bound:
            raise ValueError(f"the completion has {len(completion):,} characters, over this env's bound of {bound:,}")
        observation, reward, terminated, truncated, info = self.env.step(completion)
        self.steps += 1
        return TextObservation(
            text=observation,
            done=terminated or truncated,
            reward=reward,
            status=info["status"],
            scores=scores_to_wire(info["score"]),
            truncated=truncated,
            info=step_info(info),
        )

    @property
    def state(self) -> State:
        """The session's episode id and the steps taken in it."""
        return State(episode_id=self.episode_id, step_count=self.steps)

    def close(self) -> None:
        self.env.close()


def _canonical(options: Any) -> str:
    return json.dumps(options or {}, sort_keys=True, default=str)


def make_app(env_id: str, options: dict[str, Any] | None = None, max_sessions: int = 256) -> Any:
    """openenv-core's FastAPI app serving ``env_id`` made with ``options``, ``max_sessions`` sessions at once.

    Raises:
        UnknownEnvError, ConfigError: a wrong env id or option, before anything is served.
    """
    ServedEnv(env_id, options).close()  # a wrong id or option fails here, with the valid ones listed

    def factory() -> ServedEnv:
        return ServedEnv(env_id, options)

    return create_fastapi_app(factory, CompletionAction, TextObservation, max_concurrent_envs=max_sessions)


def serve(
    env_id: str,
    options: dict[str, Any] | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    max_sessions: int = 256,
) -> None:
    """Serve ``env_id`` on ``host:port`` until interrupted (uvicorn)."""
    import uvicorn

    uvicorn.run(make_app(env_id, options, max_sessions), host=host, port=port, log_level="warning")
