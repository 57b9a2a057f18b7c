"""Serving envs on loopback for tests: ``rlvr serve``'s app in a thread, or the real command in a process."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

RLVR = str(Path(sys.executable).with_name("rlvr"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not come up within {seconds} s")


@contextmanager
def served(env_id: str, options: dict[str, Any] | None = None, max_sessions: int = 256) -> Iterator[str]:
    """``env_id`` served by ``make_app`` on a free loopback port, in a thread of this process; its URL."""
    import uvicorn

    from rlvr.envs.serving.server import make_app

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(make_app(env_id, options, max_sessions), host="127.0.0.1", port=port, log_level="critical")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url)
        yield url
    finally:
        server.should_exit = True
        thread.join(30)


def start_process(env_id: str, port: int, options: str = "{}") -> subprocess.Popen:
    """The real ``rlvr serve`` command, in a process of its own, up and healthy."""
    command = [RLVR, "serve", "--env", env_id, "--env-options", options, "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_healthy(f"http://127.0.0.1:{port}", 180)  # it imports openenv-core's server: slow on a busy machine
    return process
