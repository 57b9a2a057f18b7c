"""verifiers.openai_endpoint against a real server on loopback: bodies, concurrency, retries, deadlines."""

from __future__ import annotations

import threading
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openai_server import serve

from rlvr.envs.core.tools import call_text
from rlvr.verifiers.openai_endpoint import (
    EndpointError,
    OpenAIEndpoint,
    Request,
    completion_text,
    openai_messages,
)
from rlvr.verifiers.tool_calls import parse_tool_calls


def _text(text: str, chat: bool = True):
    choice = {"message": {"role": "assistant", "content": text}} if chat else {"text": text}
    return 200, {"choices": [{**choice, "finish_reason": "stop"}]}, {}


def test_chat_requests_send_messages_and_completions_send_the_prompt():
    with serve(lambda path, body: _text(path, chat=path.endswith("/chat/completions"))) as server:
        chat = OpenAIEndpoint(server.url, "m", api_key="k").complete(
            [Request(messages=({"role": "user", "content": "hi"},), max_tokens=7, temperature=0.0)]
        )
        plain = OpenAIEndpoint(server.url, "m", api="completions").complete([Request(prompt="2 + 2 =", seed=5)])
    assert chat[0].text == "/v1/chat/completions" and plain[0].text == "/v1/completions"
    first, second = server.requests
    assert first["messages"] == [{"role": "user", "content": "hi"}] and first["max_tokens"] == 7
    assert first["temperature"] == 0.0 and "seed" not in first
    assert second["prompt"] == "2 + 2 =" and second["seed"] == 5


def test_no_more_than_concurrency_requests_are_in_flight():
    def slow(path, body):
        time.sleep(0.1)
        return _text("ok")

    with serve(slow) as server:
        replies = OpenAIEndpoint(server.url, "m", concurrency=3).complete([Request()] * 12)
    assert [r.text for r in replies] == ["ok"] * 12
    assert server.most_in_flight == 3


def test_a_failure_that_may_pass_is_retried_honouring_retry_after():
    calls = {"n": 0}
    lock = threading.Lock()

    def flaky(path, body):
        with lock:
            calls["n"] += 1
            n = calls["n"]
        return (429, {"error": "slow down"}, {"Retry-After": "0.2"}) if n <= 2 else _text("fine")

    started = time.monotonic()
    with serve(flaky) as server:
        (reply,) = OpenAIEndpoint(server.url, "m", retries=3, backoff=0.01).complete([Request()])
    assert reply.text == "fine" and reply.attempts == 3
    assert time.monotonic() - started >= 0.4  # waited as told, twice


def test_one_refused_request_fails_alone_and_a_refused_batch_raises():
    def picky(path, body):
        return (400, {"error": "prompt too long"}, {}) if body["prompt"] == "long" else _text("ok", chat=False)

    with serve(picky) as server:
        endpoint = OpenAIEndpoint(server.url, "m", api="completions", retries=2)
        long_reply, short_reply = endpoint.complete([Request(prompt="long"), Request(prompt="short")])
        assert long_reply.text is None and "HTTP 400" in (long_reply.error or "") and long_reply.attempts == 1
        assert short_reply.text == "ok"
        with pytest.raises(EndpointError, match="prompt too long"):
            endpoint.complete([Request(prompt="long")])


def test_a_wrong_key_is_an_error_at_once():
    with serve(lambda path, body: (401, {"error": "invalid api key"}, {})) as server:
        with pytest.raises(EndpointError, match="HTTP 401"):
            OpenAIEndpoint(server.url, "m", retries=5).complete([Request(), Request()])
        assert len(server.requests) == 2  # not retried


def test_no_server_at_all_fails_every_request_after_its_retries():
    (reply,) = OpenAIEndpoint("http://127.0.0.1:9/v1", "m", retries=1, backoff=0.01, timeout=5).complete([Request()])
    assert reply.text is None and "failed after 2 attempts" in (reply.error or "")


def test_the_deadline_covers_every_attempt():
    def hang(path, body):
        time.sleep(1.0)
        return _text("late")

    started = time.monotonic()
    with serve(hang) as server:
        (reply,) = OpenAIEndpoint(server.url, "m", retries=10, timeout=0.3, backoff=0.01).complete([Request()])
    assert reply.text is None and time.monotonic() - started < 1.0 + 0.5


def test_an_envs_tool_turns_become_tool_calls_and_tool_messages_answering_them_by_id():
    calls = call_text("add", {"a": 1}) + call_text("neg", {})
    messages = [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "Let me see. " + calls},
        {"role": "tool", "name": "add", "content": "1"},
        {"role": "tool", "name": "neg", "content": "-0"},
        {"role": "assistant", "content": "1"},
    ]
    user, assistant, first, second, answer = openai_messages(messages)
    assert user == messages[0] and answer == messages[4]
    assert assistant["content"] == "Let me see."
    assert [c["function"] for c in assistant["tool_calls"]] == [
        {"name": "add", "arguments": '{"a": 1}'},
        {"name": "neg", "arguments": "{}"},
    ]
    assert [first["tool_call_id"], second["tool_call_id"]] == [c["id"] for c in assistant["tool_calls"]]
    assert len({c["id"] for c in assistant["tool_calls"]}) == 2


def test_a_chat_answer_with_tool_calls_reads_as_the_call_text_the_env_parses():
    call = {"id": "c", "type": "function", "function": {"name": "f", "arguments": '{"x": [1, 2]}'}}
    text = completion_text({"role": "assistant", "content": None, "tool_calls": [call, call]})
    parsed = parse_tool_calls(text)
    assert [(c.name, c.arguments) for c in parsed.calls] == [("f", {"x": [1, 2]})] * 2
    assert completion_text({"content": "plain"}) == "plain" and completion_text({"content": None}) == ""
    broken = {"function": {"name": "f", "arguments": "{not json"}}
    assert parse_tool_calls(completion_text({"content": None, "tool_calls": [broken]})).error_count == 1


@given(
    st.lists(st.tuples(st.sampled_from(["f", "g"]), st.dictionaries(st.text(max_size=5), st.integers())), max_size=3)
)
def test_calls_survive_the_trip_to_the_chat_api_and_back(calls):
    text = "".join(call_text(name, arguments) for name, arguments in calls)
    (message,) = openai_messages([{"role": "assistant", "content": text}])
    back = completion_text(message)
    assert [(c.name, c.arguments) for c in parse_tool_calls(back).calls] == [(n, a) for n, a in calls]
