"""An env played on a server: the same env id and options, made with ``remote=URL``.

    env = envs.make("rlvr/Code-v0", remote="http://10.0.0.5:8000")
    env = envs.make("rlvr/Code-v0", remote=["http://a:8000", "http://b:8000"])   # sessions spread over both

``RemoteTextEnv`` is a ``TextEnv`` to everything that uses one (the trainers,
``rlvr eval``, ``rlvr sample``, ``step_batch``): the same prompts for the same
seeds, the same rewards, statuses, scores and messages, because the server
(``rlvr serve``, openenv-core's server) runs the very env and the verdict
crosses whole. Each instance holds one OpenEnv WebSocket session; a batch's
steps go to the servers side by side (``step_batch``), at most
``MAX_IN_FLIGHT`` at once per process.

Faults are never a silent 0:

* ``reset`` is safe to repeat: a failed one reconnects and tries again, with
  backoff (``RESET_ATTEMPTS``), then raises ``RemoteEnvError`` saying which
  server and why;
* a ``step`` that fails (the connection lost, the server gone, a time-out, an
  error answer) is not repeated, since the server may have acted on it: the
  step's reward is None, its status ``remote_error`` and the episode ends; the
  next ``reset`` connects again, so a restarted server is used again.

The client checks at each reset that the server serves the env it names (id
and options); a server of another env is refused with both named.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import time
from collections.abc import Sequence
from typing import Any

from rlvr.envs.core.errors import ConfigError
from rlvr.envs.core.templates import PromptTemplate
from rlvr.envs.core.text_env import EnvConfig, TextEnv
from rlvr.verifiers.score import Score, Status

__all__ = ["MAX_IN_FLIGHT", "RESET_ATTEMPTS", "RemoteEnvError", "RemoteTextEnv"]

RESET_ATTEMPTS = 4
"""Tries of a reset (the first and three more, after 0.5, 1 and 2 seconds)."""
MAX_IN_FLIGHT = 64
"""Requests to the servers in flight at once, per process."""
MESSAGE_TIMEOUT = 120.0
"""Seconds to wait for a server's answer to one message (a code env's tests take a while)."""


class RemoteEnvError(ConnectionError):
    """No server answered a reset after every attempt; the message names the server and the cause."""


class _Loop:
    """The process's event loop for the clients, in a thread of its own, and the bound on requests in flight."""

    _lock = threading.Lock()
    _loop: asyncio.AbstractEventLoop | None = None
    _limit: asyncio.Semaphore | None = None

    @classmethod
    def run(cls, coroutine: Any, timeout: float) -> Any:
        """Run ``coroutine`` on the loop; its result, or its exception (``TimeoutError`` past ``timeout``)."""
        loop = cls._start()
        return asyncio.run_coroutine_threadsafe(cls._bounded(coroutine), loop).result(timeout)

    @classmethod
    async def _bounded(cls, coroutine: Any) -> Any:
        if cls._limit is None:
            cls._limit = asyncio.Semaphore(MAX_IN_FLIGHT)
        async with cls._limit:
            return await coroutine

    @classmethod
    def _start(cls) -> asyncio.AbstractEventLoop:
        with cls._lock:
            if cls._loop is None or cls._loop.is_closed():
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="rlvr-remote-envs", daemon=True).start()
                cls._loop = loop
            return cls._loop


_NEXT = itertools.count()
"""Spreads the sessions of a process over a list of servers, round robin."""


class RemoteTextEnv(TextEnv):
    """``env_id`` with ``options``, played on a server of ``rlvr serve`` (see the module docs).

    Args:
        remote: the server's URL (``http://host:port``), or a list of them; this instance uses one.
        env_id: the env the server must serve.
        options: the env's options, which the server must have been started with.
        render_mode: None or ``"ansi"``.
    """

    remote = True

    def __init__(
        self,
        remote: str | Sequence[str],
        env_id: str,
        options: dict[str, Any] | None = None,
        render_mode: str | None = None,
    ) -> None:
        urls = [remote] if isinstance(remote, str) else list(remote)
        if not urls or not all(isinstance(url, str) and url for url in urls):
            raise ConfigError(f"{env_id}: remote must be a server URL or a list of them, got {remote!r}")
        self.url = urls[next(_NEXT) % len(urls)]
        self.env_id = env_id
        self.options = dict(options or {})
        self.render_mode = render_mode
        self._config: EnvConfig | None = None  # the served env's, from its server at the first reset
        self._range: tuple[float, float] = (0.0, 1.0)
        self._template: PromptTemplate | None = None  # the served env's, from its server at the first reset
        self._client: Any = None
        self._messages: list[dict[str, Any]] = []
        self.toolbox = self.env_toolbox = None
        self.task = None
        self._done = True
        from rlvr.envs.core.spaces import UnicodeText

        bounds = EnvConfig(**{k: v for k, v in self.options.items() if k in EnvConfig.model_fields})
        self.observation_space = UnicodeText(bounds.max_prompt_chars)
        self.action_space = UnicodeText(bounds.max_completion_chars)

    @property
    def config(self) -> EnvConfig:  # type: ignore[override]
        """The served env's settings (turns, tools, reward rule), as its server gives them; asked for with a
        reset of task 0 when read before the first reset."""
        if self._config is None:
            self.reset(seed=0)
            self._done = True
        assert self._config is not None
        return self._config

    @property
    def template(self) -> PromptTemplate:  # type: ignore[override]
        """The served env's prompt template (its answer format), asked for as ``config`` is."""
        if self._template is None:
            _ = self.config
        assert self._template is not None
        return self._template

    @property
    def reward_range(self) -> tuple[float, float]:
        """The served env's, as its server gives it (asked for as ``config`` is)."""
        if self._config is None:
            _ = self.config
        return self._range

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        from rlvr.envs.serving.wire import task_from_wire

        self._np_random_seed = seed
        data = {"seed": seed, "options": options, "expect": {"env_id": self.env_id, "options": self.options}}
        result = self._reset_with_retries(data)
        observation = result.observation
        info = observation["info"]
        self._range = (float(info["reward_range"][0]), float(info["reward_range"][1]))
        self._config = EnvConfig.model_validate(info["config"])
        self._template = PromptTemplate.model_validate(info["template"])
        self.task = task_from_wire(info["task"], info["task_class"])
        self._messages = list(info["messages"])
        self._done = False
        out = {"task": self.task, "messages": list(self._messages), "index": info["index"]}
        if info.get("tools"):
            out["tools"] = info["tools"]
        return observation["text"], out

    def step(self, action: str) -> tuple[str, float | None, bool, bool, dict[str, Any]]:  # type: ignore[override]
        self.check_step(action)
        try:
            result = _Loop.run(self._connected().step({"completion": action}), MESSAGE_TIMEOUT)
        except Exception as error:  # the server, the network or the session failed: not the model's doing
            return self._fault(f"{type(error).__name__}: {error}")
        observation = result.observation
        info = dict(observation.get("info") or {})
        info["status"] = observation.get("status", "")
        info["score"] = {name: _score(wire) for name, wire in (observation.get("scores") or {}).items()}
        self._messages = list(info.get("messages", self._messages))
        info["messages"] = list(self._messages)
        truncated = bool(observation.get("truncated"))
        done = bool(result.done)
        self._done = done
        return observation.get("text", ""), result.reward, done and not truncated, truncated, info

    def tool_turn(self, action: str) -> Any | None:
        """Never: the server runs tool turns (a remote env's every step goes to its server)."""
        return None

    def close(self) -> None:
        """End the session (best effort)."""
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):  # the server may be gone already
                _Loop.run(client.close(), 10.0)

    def __del__(self) -> None:
        """An env dropped without ``close`` ends its session too (without waiting), so sessions do not pile up."""
        client = getattr(self, "_client", None)
        loop = _Loop._loop
        if client is not None and loop is not None and not loop.is_closed():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(client.close(), loop)

    # --- the connection -------------------------------------------------------------------

    def _connected(self) -> Any:
        if self._client is None:
            from openenv.core import GenericEnvClient

            self._client = GenericEnvClient(base_url=self.url, message_timeout_s=MESSAGE_TIMEOUT)
        return self._client

    def _reset_with_retries(self, data: dict[str, Any]) -> Any:
        last = ""
        for attempt in range(RESET_ATTEMPTS):
            if attempt:
                time.sleep(0.5 * 2 ** (attempt - 1))
            try:
                return _Loop.run(self._connected().reset(**data), MESSAGE_TIMEOUT)
            except RuntimeError as error:  # the server answered with an error: repeating will not help
                if "Server error" in str(error):
                    raise RemoteEnvError(f"{self.url} refused the reset of {self.env_id}: {error}") from None
                last = f"{type(error).__name__}: {error}"
            except Exception as error:  # no connection, a lost one, a time-out: connect again
                last = f"{type(error).__name__}: {error}"
            self.close()
        raise RemoteEnvError(
            f"no answer from {self.url} to a reset of {self.env_id} after {RESET_ATTEMPTS} attempts ({last}). "
            "Is `rlvr serve --env ...` running there?"
        )

    def _fault(self, error: str) -> tuple[str, float | None, bool, bool, dict[str, Any]]:
        """The step's result when the server could not give one: reward None, status remote_error, the end."""
        self._done = True
        self.close()
        info = {"score": {}, "status": Status.REMOTE_ERROR.value, "messages": list(self._messages), "error": error}
        return "", None, True, False, info


def _score(wire: dict[str, Any]) -> Score:
    return Score(wire.get("value"), Status(wire.get("status", "ok")), dict(wire.get("details") or {}))
