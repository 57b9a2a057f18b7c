"""A warm pool of hardened containers that execute programs and unit tests.

Each container runs the runner (sandbox/container/runner.py) as its PID 1
and talks to the host over Docker's attach stream: one JSON request and one
JSON response per execution, so an execution pays no container start.
``pool_size`` containers serve at most ``pool_size`` executions at once;
``run`` and ``run_tests`` are thread-safe and block while all are busy.

Confinement of every container: no network; read-only root file system
with a size-capped tmpfs at /work; memory limit with swap equal to it; CPU
limit; process limit; user nobody (65534); all capabilities dropped;
no-new-privileges; per-process file-size, open-file and CPU-time limits.
Time is limited twice: by the runner inside (it kills the program at the
limit) and by the host (it kills a container that has not answered by the
limit plus ``host_grace``).

A container whose program hit the time limit, ran out of memory or left
many processes behind is retired and replaced. None outlives the process
that made it: containers are removed on ``close()`` and at interpreter exit,
and should the process die without either (a crash, SIGKILL), the attach
stream closes, the runner reads end-of-file and exits, and Docker removes
the stopped container (``auto_remove``). ``remove_stale_containers`` sweeps
up what a dead engine connection may have left.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import queue
import secrets
import socket
import struct
import threading
import time
import weakref
from typing import Any

from rlvr.sandbox.config import SandboxConfig
from rlvr.sandbox.errors import SandboxUnavailable
from rlvr.sandbox.image import image_exists, image_tag
from rlvr.sandbox.result import ExecResult, ExecStatus, TestOutcome, TestReport
from rlvr.sandbox.testspec import AssertTests, CallTests

__all__ = ["SandboxPool", "connect", "remove_stale_containers", "shared_pool"]

LABEL = "rlvr-sandbox.owner"
"""Container label: ``<hostname>:<pid>`` of the process that made it."""
RUNNER = "/opt/rlvr/runner.py"
WORK = "/work"
USER = "65534:65534"
ENGINE_HELP = (
    "Start a Docker engine (on Debian: apt-get install docker.io, then dockerd &; from a checkout of "
    "rlvr-gym: bash .ci/docker), or point DOCKER_HOST at a running one."
)


def connect() -> Any:
    """A ``docker.DockerClient`` for the engine of the environment (``DOCKER_HOST`` or the local socket).

    Raises:
        SandboxUnavailable: the Docker SDK is not installed or no engine answers.
    """
    try:
        import docker
    except ImportError:
        raise SandboxUnavailable("the sandbox needs the Docker SDK: pip install 'rlvr-gym[sandbox]'") from None
    where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except docker.errors.DockerException as error:
        raise SandboxUnavailable(f"no Docker engine answers at {where} ({error}). {ENGINE_HELP}") from None
    return client


class SandboxPool:
    """Warm hardened containers executing Python programs and their tests.

    Args:
        config: limits and pool size (``SandboxConfig()`` by default).
        client: a ``docker.DockerClient``; default ``connect()``.

    Raises:
        SandboxUnavailable: no engine, or the image is not built (the message
            says to run ``rlvr sandbox build``).
    """

    def __init__(self, config: SandboxConfig | None = None, client: Any = None) -> None:
        self.config = config or SandboxConfig()
        self.client = client if client is not None else connect()
        self.image = self.config.image or image_tag()
        if not image_exists(self.client, self.image):
            raise SandboxUnavailable(
                f"the sandbox image {self.image} is not built. Build it with: rlvr sandbox build "
                "(offline: from Debian packages with debootstrap, about a minute; needs root)"
            )
        self.pid = os.getpid()
        self.owner = f"{socket.gethostname()}:{self.pid}"
        remove_stale_containers(self.client)
        self._idle: queue.LifoQueue[_Container] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(self.config.pool_size)
        self._lock = threading.Lock()
        self._containers: set[_Container] = set()
        self._closed = False
        self.retired = 0
        """Containers retired so far (time-outs, out-of-memory, leftover processes, failures)."""
        _LIVE.add(self)

    # --- executing ---------------------------------------------------------------

    def run(self, program: str, *, stdin: str = "", timeout: float | None = None) -> ExecResult:
        """Run ``program`` as ``python3 main.py`` in /work, with ``stdin`` as its standard input.

        Args:
            program: Python source.
            stdin: text fed to the program's standard input.
            timeout: wall-clock limit in seconds (default ``config.timeout``).

        Returns:
            The execution's result; ``sandbox_error`` if the sandbox failed.
        """
        request = {"argv": ["python3", "-I", "main.py"], "files": {"main.py": program}, "stdin": stdin}
        response = self._execute(request, timeout)
        return _result(response)

    def run_tests(self, program: str, tests: AssertTests | CallTests, *, timeout: float | None = None) -> TestReport:
        """Run ``program``, then ``tests`` against it, in the harness; one outcome per test.

        The tests travel over a pipe, never touch the container's disk, and
        verdicts come back over a private channel keyed by a random nonce,
        so the program can neither read the tests nor fake a pass (see
        sandbox/container/harness.py). ``timeout`` covers program and tests.
        """
        nonce = secrets.token_hex(16)
        result_fd = 20 + secrets.randbelow(150)
        payload = {"program": program, "spec": tests.payload(), "nonce": nonce, "result_fd": result_fd}
        request = {
            "argv": None,  # the runner's warm child runs the harness in-process
            "stdin": json.dumps(payload),
            "nonce": nonce,
            "result_fd": result_fd,
        }
        response = self._execute(request, timeout)
        execution = _result(response)
        return TestReport(execution, _outcomes(tests, response.get("results") or [], execution))

    def _execute(self, request: dict[str, Any], timeout: float | None) -> dict[str, Any]:
        config = self.config
        limit = float(timeout if timeout is not None else config.timeout)
        request = request | {
            "timeout": limit,
            "max_output": config.max_output_bytes,
            "max_file_bytes": config.max_file_bytes,
            "max_open_files": config.max_open_files,
            "retire_at_processes": max(2, config.pids_limit // 2),
        }
        with self._slots:
            try:
                container = self._take()
            except SandboxUnavailable as error:
                return {"status": "sandbox_error", "message": str(error)}
            try:
                response = container.request(request, limit + config.host_grace)
            except _HostTimeout:
                self._retire(container)
                return {"status": "timeout", "message": "the container did not answer in time; it was killed"}
            except (OSError, ValueError, _StreamClosed) as error:
                self._retire(container)
                return {"status": "sandbox_error", "message": f"the container failed: {error!r}"}
            if "error" in response:
                self._retire(container)
                return {"status": "sandbox_error", "message": response["error"]}
            if response.get("retire"):
                self._retire(container)
            else:
                self._give_back(container)
            return response

    # --- the containers ------------------------------------------------------------

    def _take(self) -> _Container:
        if self._closed:
            raise SandboxUnavailable("the sandbox pool is closed")
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        container = _Container(self.client, self.config, self.image, self.owner)
        with self._lock:
            self._containers.add(container)
        return container

    def _give_back(self, container: _Container) -> None:
        self._idle.put(container)

    def _retire(self, container: _Container) -> None:
        with self._lock:
            self._containers.discard(container)
            self.retired += 1
        threading.Thread(target=container.destroy, daemon=True).start()
        if not self._closed:
            threading.Thread(target=self._replace, daemon=True).start()

    def _replace(self) -> None:
        """Start a container to take a retired one's place, so the next execution finds it warm."""
        try:
            container = _Container(self.client, self.config, self.image, self.owner)
        except (SandboxUnavailable, OSError, ValueError):
            return  # the next execution starts one itself, and reports the failure
        with self._lock:
            keep = not self._closed and len(self._containers) < self.config.pool_size
            if keep:
                self._containers.add(container)
        if keep:
            self._idle.put(container)
        else:
            container.destroy()

    def warm_up(self) -> None:
        """Start all ``pool_size`` containers now, instead of on first use."""
        with self._lock:
            missing = self.config.pool_size - len(self._containers)
        started = [_Container(self.client, self.config, self.image, self.owner) for _ in range(max(missing, 0))]
        with self._lock:
            self._containers.update(started)
        for container in started:
            self._idle.put(container)

    def container_ids(self) -> list[str]:
        """Ids of the pool's live containers."""
        with self._lock:
            return [container.id for container in self._containers]

    def close(self) -> None:
        """Kill and remove every container of the pool. Further executions return ``sandbox_error``."""
        with self._lock:
            self._closed = True
            containers = list(self._containers)
            self._containers.clear()
        for container in containers:
            container.destroy()

    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _HostTimeout(Exception):
    """The runner did not answer before the host's deadline."""


class _StreamClosed(Exception):
    """The attach stream ended: the runner or its container is gone."""


class _Container:
    """One container and the attach stream to its runner."""

    def __init__(self, client: Any, config: SandboxConfig, image: str, owner: str) -> None:
        import docker.errors
        from docker.types import LogConfig, Ulimit

        self.stderr_tail = b""
        self._buffer = bytearray()
        try:
            api = client.api
            host_config = api.create_host_config(
                network_mode="none",
                read_only=True,
                tmpfs={WORK: f"rw,nosuid,nodev,noexec,size={config.tmpfs_mb}m,uid=65534,gid=65534,mode=0700"},
                mem_limit=f"{config.memory_mb}m",
                memswap_limit=f"{config.memory_mb}m",
                nano_cpus=int(config.cpus * 1e9),
                pids_limit=config.pids_limit,
                cap_drop=["ALL"],
                security_opt=["no-new-privileges"],
                ulimits=[
                    Ulimit(name="nofile", soft=config.max_open_files, hard=config.max_open_files),
                    Ulimit(name="fsize", soft=config.max_file_bytes, hard=config.max_file_bytes),
                    Ulimit(name="core", soft=0, hard=0),
                ],
                ipc_mode="none",
                auto_remove=True,
                log_config=LogConfig(type="none"),
            )
            created = api.create_container(
                image,
                command=["python3", "-I", RUNNER],
                user=USER,
                working_dir=WORK,
                stdin_open=True,  # not detached, so also StdinOnce: the stream closing (the host process
                detach=False,  # gone) closes the runner's stdin, and the runner exits
                network_disabled=True,
                labels={LABEL: owner},
                host_config=host_config,
            )
            self.container = client.containers.get(created["Id"])
            self.id = self.container.id
            self._socket = client.api.attach_socket(self.id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
            self._raw: socket.socket = getattr(self._socket, "_sock", self._socket)
            self.container.start()
        except docker.errors.DockerException as error:
            self.destroy()
            raise SandboxUnavailable(f"could not start a sandbox container from {image}: {error}") from None
        try:
            ready = self._read_message(time.monotonic() + config.start_timeout)
        except (_HostTimeout, _StreamClosed, OSError, ValueError) as error:
            self.destroy()
            detail = self.stderr_tail.decode(errors="replace")[-1000:]
            raise SandboxUnavailable(f"the sandbox runner did not start ({error!r}): {detail}") from None
        if not ready.get("ready"):
            self.destroy()
            raise SandboxUnavailable(f"the sandbox runner said {ready!r} instead of ready")

    def request(self, message: dict[str, Any], seconds: float) -> dict[str, Any]:
        """Send one request; its response, or ``_HostTimeout`` after ``seconds``."""
        self._raw.settimeout(seconds)
        self._raw.sendall(json.dumps(message).encode() + b"\n")
        return self._read_message(time.monotonic() + seconds)

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\n" not in self._buffer:
            kind, payload = self._read_frame(deadline)
            if kind == 1:
                self._buffer += payload
            else:  # the runner's own stderr: kept for error messages
                self.stderr_tail = (self.stderr_tail + payload)[-4000:]
        line, _, rest = bytes(self._buffer).partition(b"\n")
        self._buffer = bytearray(rest)
        message: dict[str, Any] = json.loads(line)
        return message

    def _read_frame(self, deadline: float) -> tuple[int, bytes]:
        """One frame of Docker's multiplexed stream: an 8-byte header (stream, size), then the payload."""
        header = self._read_exactly(8, deadline)
        kind, size = struct.unpack(">BxxxL", header)
        return kind, self._read_exactly(size, deadline)

    def _read_exactly(self, size: int, deadline: float) -> bytes:
        data = bytearray()
        while len(data) < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _HostTimeout()
            self._raw.settimeout(remaining)
            try:
                chunk = self._raw.recv(size - len(data))
            except TimeoutError:
                raise _HostTimeout() from None
            if not chunk:
                raise _StreamClosed()
            data += chunk
        return bytes(data)

    def destroy(self) -> None:
        """Kill and remove the container; close the stream. Safe to call twice."""
        import docker.errors

        container = getattr(self, "container", None)
        if container is not None:
            with contextlib.suppress(docker.errors.DockerException):  # gone already (auto_remove), or no engine
                container.remove(force=True)
        sock = getattr(self, "_socket", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()


def _result(response: dict[str, Any]) -> ExecResult:
    status = ExecStatus(response.get("status", "sandbox_error"))
    if status is ExecStatus.SANDBOX_ERROR:
        return ExecResult.sandbox_error(response.get("message", "the sandbox failed"))
    return ExecResult(
        status=status,
        exit_code=response.get("exit_code"),
        stdout=response.get("stdout", ""),
        stderr=response.get("stderr", ""),
        stdout_truncated=bool(response.get("stdout_truncated")),
        stderr_truncated=bool(response.get("stderr_truncated")),
        duration=float(response.get("duration", 0.0)),
        message=response.get("message", ""),
    )


def _outcomes(
    tests: AssertTests | CallTests, verdicts: list[dict[str, Any]], execution: ExecResult
) -> tuple[TestOutcome, ...]:
    """One outcome per test from the harness's verdicts; a test without one failed ("not run")."""
    found: dict[int, TestOutcome] = {}
    expected = tests.expected_values() if isinstance(tests, AssertTests) else {}
    total = tests.total
    for verdict in verdicts:
        index = verdict.get("i")
        if not isinstance(index, int) or index in found or not 0 <= index < total:
            continue
        if isinstance(tests, CallTests):
            if "value" in verdict and isinstance(verdict["value"], str):
                passed, message = tests.judge(index, verdict["value"])
            else:
                passed, message = False, str(verdict.get("error", "no value"))[:300]
        else:
            passed, message = tests.judge(index, verdict, expected)
        found[index] = TestOutcome(passed, message)
    missing = f"not run ({execution.status.value})" if not execution.ok else "not run"
    return tuple(found.get(index, TestOutcome(False, missing)) for index in range(total))


def remove_stale_containers(client: Any) -> int:
    """Remove sandbox containers whose owning process (on this host) is gone; how many were removed."""
    import docker.errors

    host = socket.gethostname()
    removed = 0
    try:
        containers = client.containers.list(all=True, filters={"label": LABEL})
    except docker.errors.DockerException:
        return 0
    for container in containers:
        owner_host, _, pid = container.labels.get(LABEL, "").rpartition(":")
        if owner_host != host or not pid.isdigit() or _alive(int(pid)):
            continue
        try:
            container.remove(force=True)
            removed += 1
        except docker.errors.DockerException:
            pass
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_LIVE: weakref.WeakSet[SandboxPool] = weakref.WeakSet()
_SHARED: dict[int, SandboxPool] = {}
_SHARED_LOCK = threading.Lock()


def shared_pool(config: SandboxConfig | None = None) -> SandboxPool:
    """The process-wide pool that environments use, made on first call (with ``config``, if given).

    A forked child process gets a pool of its own (containers are not shared across processes).

    Raises:
        SandboxUnavailable: as ``SandboxPool``.
    """
    with _SHARED_LOCK:
        pool = _SHARED.get(os.getpid())
        if pool is None or pool._closed:
            pool = _SHARED[os.getpid()] = SandboxPool(config)
        return pool


@atexit.register
def _close_all() -> None:
    for pool in list(_LIVE):
        if pool.pid == os.getpid():  # a forked child leaves its parent's containers alone
            pool.close()
