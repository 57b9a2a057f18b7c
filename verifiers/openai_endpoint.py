"""A client of any OpenAI-compatible server (vLLM, SGLang, TGI, llama.cpp, OpenAI): text in, text out.

Used by the model grader (``verifiers.grader.OpenAIBackend``) and by ``rlvr eval``
for served models. ``OpenAIEndpoint.complete(requests)`` sends a batch with at
most ``concurrency`` requests in flight, each within a deadline (``timeout``
seconds for all its attempts). A failure that may pass (no connection, a
timeout, HTTP 408, 409, 425, 429 or 5xx) is retried up to ``retries`` times with
exponential backoff and jitter, honouring ``Retry-After``; any other failure (a
4xx such as a wrong model name or key, an answer that is not OpenAI's shape) is
not. A request that never succeeds comes back as a ``Reply`` with ``text=None``
and the reason, never as an empty answer: the caller must not score it as wrong.

Only the standard library (``urllib``): it needs no extra.
"""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "FATAL_STATUS",
    "RETRYABLE_STATUS",
    "EndpointError",
    "OpenAIEndpoint",
    "Reply",
    "Request",
    "completion_text",
    "openai_messages",
]

RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
"""HTTP statuses worth another attempt."""

FATAL_STATUS = frozenset({401, 403, 404})
"""HTTP statuses that would refuse every request (a bad key, a wrong URL or model name)."""


class EndpointError(RuntimeError):
    """The server refused in a way retrying cannot fix and that would refuse every request."""


@dataclass(frozen=True)
class Request:
    """One completion to ask for.

    Attributes:
        messages: the conversation, for the chat API (``[{"role", "content"}, ...]``).
        prompt: the prompt text, for the completions API.
        max_tokens: the completion budget, in the server's tokens.
        temperature: 0 asks for greedy decoding.
        seed: the sampling seed (servers that support it, such as vLLM, honour it).
        tools: the tools the model may call (OpenAI's ``{"type": "function", "function": {...}}`` schemas),
            sent with chat requests so the server's chat template lists them; empty: none.
    """

    messages: tuple[dict[str, str], ...] = ()
    prompt: str = ""
    max_tokens: int = 64
    temperature: float = 0.0
    seed: int | None = None
    tools: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Reply:
    """The server's answer to one request.

    Attributes:
        text: the completion, or None when no attempt succeeded.
        finish_reason: the server's (``"stop"``, ``"length"``, ...), when it gave one.
        error: why ``text`` is None.
        refused: the failure was not worth retrying (a 4xx, an answer of the wrong shape).
        status: the HTTP status of the last failed attempt, if it got one.
        attempts: the attempts made.
    """

    text: str | None
    finish_reason: str | None = None
    error: str | None = None
    refused: bool = False
    status: int | None = None
    attempts: int = 1


class OpenAIEndpoint:
    """Completions from an OpenAI-compatible server.

    Args:
        url: the server's base URL, up to and including ``/v1`` (``http://127.0.0.1:8000/v1``);
            ``/chat/completions`` or ``/completions`` is appended.
        model: the model name the server knows.
        api: ``"chat"`` sends messages (the server applies its chat template); ``"completions"``
            sends the prompt text as is.
        api_key: sent as a bearer token when given.
        concurrency: requests in flight at once.
        retries: further attempts after a failure that may pass.
        timeout: seconds each request may take, all attempts and waits together.
        backoff: seconds before the first retry; doubled each time (with up to 50% jitter), at most 30.
        extra_body: more JSON fields for every request (``{"top_p": 0.95}``).

    Raises:
        ValueError: a URL that is not ``http://`` or ``https://``, or a non-positive setting.
    """

    def __init__(
        self,
        url: str,
        model: str,
        *,
        api: Literal["chat", "completions"] = "chat",
        api_key: str | None = None,
        concurrency: int = 8,
        retries: int = 4,
        timeout: float = 120.0,
        backoff: float = 0.5,
        extra_body: dict[str, Any] | None = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"the endpoint URL must start with http:// or https://, got {url!r}")
        if concurrency < 1 or timeout <= 0 or retries < 0:
            raise ValueError("concurrency must be at least 1, timeout positive, and retries at least 0")
        self.url = url.rstrip("/") + ("/chat/completions" if api == "chat" else "/completions")
        self.model, self.api, self.api_key = model, api, api_key
        self.concurrency, self.retries, self.timeout, self.backoff = concurrency, retries, timeout, backoff
        self.extra_body = dict(extra_body or {})

    def complete(self, requests: Sequence[Request], *, raise_on_refusal: bool = True) -> list[Reply]:
        """One ``Reply`` per request, in order.

        Raises:
            EndpointError: (with ``raise_on_refusal``) HTTP 401, 403 or 404, or every request of
                the batch refused: the same settings would fail every later request too. A single
                refused request (say, a prompt over the server's context) comes back as its reply.
        """
        if not requests:
            return []
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(requests))) as pool:
            replies = list(pool.map(self._send, requests))
        if raise_on_refusal:
            refused = [r for r in replies if r.refused]
            fatal = [r for r in refused if r.status in FATAL_STATUS]
            if fatal or (refused and len(refused) == len(replies)):
                raise EndpointError(str((fatal or refused)[0].error))
        return replies

    def _send(self, request: Request) -> Reply:
        """One request with its retries, within its deadline."""
        deadline = time.monotonic() + self.timeout
        body = json.dumps(self._body(request)).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        error, status = f"no answer from {self.url} within {self.timeout:g} s", None
        attempt = 0
        while attempt <= self.retries:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            attempt += 1
            wait: float | None = None
            try:
                http = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
                with urllib.request.urlopen(http, timeout=remaining) as response:
                    return self._reply(json.loads(response.read()), attempt)
            except urllib.error.HTTPError as failure:
                detail = failure.read()[:300].decode("utf-8", "replace") if failure.fp is not None else ""
                error, status = f"HTTP {failure.code} from {self.url}: {detail}", failure.code
                if failure.code not in RETRYABLE_STATUS:
                    return Reply(None, error=error, refused=True, status=status, attempts=attempt)
                wait = _retry_after(failure.headers.get("Retry-After"))
            except urllib.error.URLError as failure:
                if isinstance(failure.reason, TimeoutError):
                    error = f"no answer from {self.url} within {self.timeout:g} s"
                else:
                    error = f"cannot reach {self.url}: {failure.reason}"
            except TimeoutError:
                error = f"no answer from {self.url} within {self.timeout:g} s"
            except OSError as failure:
                error = f"cannot reach {self.url}: {type(failure).__name__}: {failure}"
            except (ValueError, KeyError, IndexError, TypeError) as failure:
                error = (
                    f"bad answer from {self.url}: not an OpenAI-compatible answer ({type(failure).__name__}: {failure})"
                )
                return Reply(None, error=error, refused=True, attempts=attempt)
            if attempt <= self.retries:
                delay = (
                    wait
                    if wait is not None
                    else min(self.backoff * 2 ** (attempt - 1), 30.0) * (1 + 0.5 * random.random())
                )
                time.sleep(max(0.0, min(delay, deadline - time.monotonic())))
        if attempt > 1:
            error = f"failed after {attempt} attempts: {error}"
        return Reply(None, error=error, status=status, attempts=attempt)

    def _body(self, request: Request) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
        }
        if request.seed is not None:
            body["seed"] = request.seed
        if self.api == "chat":
            body["messages"] = openai_messages(request.messages)
            if request.tools:
                body["tools"] = list(request.tools)
        else:
            body["prompt"] = request.prompt
        return {**body, **self.extra_body}

    def _reply(self, answer: dict[str, Any], attempts: int) -> Reply:
        choice = answer["choices"][0]
        text = completion_text(choice["message"]) if self.api == "chat" else choice["text"]
        if not isinstance(text, str):
            raise TypeError(f"the completion is {type(text).__name__}, not text")
        return Reply(text, choice.get("finish_reason"), attempts=attempts)


def openai_messages(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """An env's conversation in the chat API's form, tool calls included.

    The env's messages hold each assistant turn as the text the model wrote,
    calls in ``<tool_call>`` blocks, and each result as ``{"role": "tool",
    "name", "content"}``. The chat API wants the calls as the assistant
    message's ``tool_calls`` (each with an ``id``, its arguments a JSON string)
    and each tool message answering one by ``tool_call_id``: the calls are read
    back out of the text (``rlvr.verifiers.tool_calls.parse_tool_calls``),
    given ids in order (``call_<turn>_<k>``), and the tool messages that follow
    take those ids in the same order. Other messages pass unchanged.
    """
    converted: list[dict[str, Any]] = []
    pending: list[str] = []
    for turn, message in enumerate(messages):
        role = message.get("role")
        if role == "assistant":
            message_out, pending = _assistant_message(message, turn)
            converted.append(message_out)
        elif role == "tool":
            tool = {"role": "tool", "content": message.get("content", "")}
            if message.get("name"):
                tool["name"] = message["name"]
            tool["tool_call_id"] = pending.pop(0) if pending else f"call_{turn}_unmatched"
            converted.append(tool)
        else:
            converted.append(dict(message))
    return converted


def _assistant_message(message: Mapping[str, Any], turn: int) -> tuple[dict[str, Any], list[str]]:
    """The assistant message with its calls as ``tool_calls``, and their ids in order."""
    text = str(message.get("content") or "")
    if "<tool_call>" not in text:
        return dict(message), []
    from rlvr.verifiers.tool_calls import parse_tool_calls

    calls = parse_tool_calls(text).calls
    if not calls:
        return dict(message), []
    ids = [f"call_{turn}_{k}" for k in range(len(calls))]
    before = text[: text.index("<tool_call>")].strip()
    out: dict[str, Any] = {
        "role": "assistant",
        "content": before or None,
        "tool_calls": [
            {"id": id_, "type": "function", "function": {"name": call.name, "arguments": json.dumps(call.arguments)}}
            for id_, call in zip(ids, calls, strict=True)
        ],
    }
    return out, ids


def completion_text(message: Mapping[str, Any]) -> str:
    """A chat answer as the text the env reads: its content, then each of its ``tool_calls`` as a ``<tool_call>``
    block (servers that parse calls out of the model's text return them apart, and content None)."""
    content = message.get("content")
    if content is not None and not isinstance(content, str):
        raise TypeError(f"the completion is {type(content).__name__}, not text")
    text = content or ""
    calls = message.get("tool_calls") or []
    if not isinstance(calls, list):
        raise TypeError("tool_calls is not a list")
    blocks = []
    for call in calls:
        function = call.get("function") if isinstance(call, Mapping) else None
        if not isinstance(function, Mapping):
            raise TypeError("a tool call without a function")
        arguments = function.get("arguments")
        try:
            parsed = json.loads(arguments) if isinstance(arguments, str) else arguments
        except ValueError:
            parsed = arguments  # written as the model wrote it: the env reads it as a malformed call
        blocks.append("<tool_call>" + json.dumps({"name": function.get("name"), "arguments": parsed}) + "</tool_call>")
    return "\n".join(part for part in [text, *blocks] if part) if blocks else text


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header given in seconds (dates are ignored), capped at 30."""
    try:
        return min(max(float(value), 0.0), 30.0) if value is not None else None
    except ValueError:
        return None
