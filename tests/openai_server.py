"""A real OpenAI-compatible HTTP server on loopback, for the tests of ``rlvr eval`` and its client.

``serve(answer)`` runs a ``ThreadingHTTPServer`` on 127.0.0.1 (a free port) in a
thread and yields it; its ``url`` is the base up to ``/v1``. ``answer(path, body)``
decides each reply: a ``(status, json, headers)`` triple. ``model_answer(model,
tokenizer)`` answers with a transformers model (greedy at temperature 0, else
sampled with the request's seed), so a model can be evaluated through HTTP as a
served model would be. The server records every request body and the most
requests it held at once.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = Callable[[str, dict[str, Any]], tuple[int, dict[str, Any], dict[str, str]]]


class Server:
    """The running server: ``url``, the request bodies seen, the most requests in flight at once."""

    def __init__(self, httpd: ThreadingHTTPServer) -> None:
        self.httpd = httpd
        self.url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
        self.requests: list[dict[str, Any]] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.lock = threading.Lock()


@contextmanager
def serve(answer: Answer) -> Iterator[Server]:
    """Run a server that replies with ``answer`` until the block ends."""
    holder: dict[str, Server] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # the name http.server calls
            server = holder["server"]
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            with server.lock:
                server.requests.append(body)
                server.in_flight += 1
                server.most_in_flight = max(server.most_in_flight, server.in_flight)
            try:
                status, payload, headers = answer(self.path, body)
            finally:
                with server.lock:
                    server.in_flight -= 1
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (its deadline passed)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    holder["server"] = Server(httpd)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder["server"]
    finally:
        httpd.shutdown()
        httpd.server_close()


def model_answer(model: Any, tokenizer: Any) -> Answer:
    """Answers from ``model``: ``/completions`` continues the prompt text, ``/chat/completions`` the
    last message's content (the tiny model has no chat template)."""
    from rlvr.trainers.rollout.engines import SamplingParams, make_engine

    engine = make_engine("hf", model, tokenizer)
    generating = threading.Lock()

    def answer(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        chat = path.endswith("/chat/completions")
        text = body["messages"][-1]["content"] if chat else body["prompt"]
        temperature = float(body.get("temperature", 1.0))
        params = SamplingParams(int(body["max_tokens"]), temperature=temperature, seed=body.get("seed"))
        with generating:
            (completion,) = engine.sample([list(tokenizer(text)["input_ids"])], params)
        reply = tokenizer.decode(completion.token_ids, skip_special_tokens=True)
        choice: dict[str, Any] = {"index": 0, "finish_reason": completion.finish_reason}
        choice.update({"message": {"role": "assistant", "content": reply}} if chat else {"text": reply})
        return 200, {"object": "chat.completion" if chat else "text_completion", "choices": [choice]}, {}

    return answer
