"""A warm pool of hardened containers that execute programs and unit tests.

Each container runs the runner (sandbox/container/runner.py) as its PID 1
and talks to the host over Docker's attach stream: one JSON request per
execution, answered by two lines, the response and then the container's
state after cleaning up, so an execution pays no container start.
``pool_size`` containers serve at most ``pool_size`` executions at once;
``run`` and ``run_tests`` are thread-safe and block while all are busy.

Confinement of every container: no network; read-only root file system
with a tmpfs at /work capped in bytes and in files; memory limit with swap
equal to it; CPU limit; process limit; no System V IPC objects or POSIX
message queues (their namespace's limits are 0); no-new-privileges; all
capabilities dropped but the three the runner needs to start processes as
other users and to signal them (SETUID, SETGID, KILL). Each container has
two users of its own, drawn at random: programs run as one, with no
capabilities and per-process limits on CPU time, file size, open files and
processes; a test run's judge runs as the other (sandbox/container/).

Time is limited twice: by the runner inside (it stops the program at the
limit) and by the host (past the limit plus ``host_grace`` it gives up on
the container: a sandbox error, reward None, never the program's 0).

Every execution ends with the container given back or retired, on every
path: a container whose state line says it is not clean, that does not send
it within ``settle_timeout``, or whose stream breaks, is retired and
replaced. None outlives the process that made it: containers are removed on
``close()`` and at interpreter exit, and should the process die without
either (a crash, SIGKILL), the attach stream closes, the runner reads
end-of-file and exits, and Docker removes the stopped container
(``auto_remove``). ``remove_stale_containers`` sweeps up what a dead engine
connection may have left.
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

__all__ = ["LABEL", "POOL_LABEL", "SandboxPool", "connect", "remove_stale_containers", "shared_pool"]

LABEL = "rlvr-sandbox.owner"
"""Container label: ``<hostname>:<pid>`` of the process that made it."""
POOL_LABEL = "rlvr-sandbox.pool"
"""Container label: the id of the pool that made it (``SandboxPool.id``)."""
RUNNER = "/opt/rlvr/runner.py"
WORK = "/work"
USER = "0:0"
"""The runner's user: root with only ``CAPABILITIES``; it runs no request's code itself."""
CAPABILITIES = ["SETUID", "SETGID", "KILL"]
IPC_SYSCTLS = {"kernel.shmmni": "0", "kernel.msgmni": "0", "kernel.sem": "0 0 0 0", "fs.mqueue.queues_max": "0"}
"""No System V shared memory, message queues or semaphores, and no POSIX message queues, in a container."""
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
        self.id = secrets.token_hex(6)
        """This pool's id, the label ``POOL_LABEL`` of its containers."""
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
        request = {"op": "run", "argv": ["python3", "-I", "main.py"], "files": {"main.py": program}, "stdin": stdin}
        response = self._execute(request, timeout)
        return _result(response)

    def run_tests(self, program: str, tests: AssertTests | CallTests, *, timeout: float | None = None) -> TestReport:
        """Run ``program``, then ``tests`` against it; one outcome per test.

        The program runs in one process and the tests in another, the judge,
        as another user the program cannot read, signal or trace; each call
        of the program's functions crosses between them as plain data (see
        sandbox/container/). Expected values of value checks and call tests
        never enter the container: the host compares them. ``timeout``
        covers the program and its tests.
        """
        request = {"op": "test", "program": program, "spec": tests.payload()}
        response = self._execute(request, timeout)
        execution = _result(response)
        return TestReport(execution, _outcomes(tests, response.get("results") or [], execution))

    def _execute(self, request: dict[str, Any], timeout: float | None) -> dict[str, Any]:
        """Send ``request`` to an idle container; its response. The container goes back or is retired, always."""
        config = self.config
        limit = float(timeout if timeout is not None else config.timeout)
        request = request | {
            "id": secrets.token_hex(8),
            "timeout": limit,
            "max_output": config.max_output_bytes,
            "max_file_bytes": config.max_file_bytes,
            "max_open_files": config.max_open_files,
            "max_processes": config.max_processes,
        }
        with self._slots:
            try:
                container = self._take()
            except SandboxUnavailable as error:
                return {"status": "sandbox_error", "message": str(error)}
            clean = False
            try:
                response = self._exchange(container, request, limit)
                clean = response.pop("clean", False)
                return response
            finally:
                if clean:
                    self._give_back(container)
                else:
                    self._retire(container)

    def _exchange(self, container: _Container, request: dict[str, Any], limit: float) -> dict[str, Any]:
        """The response to ``request``, with ``clean``: whether the container said it is clean afterwards."""
        try:
            response = container.request(request, limit + self.config.host_grace)
        except _HostTimeout:
            message = f"the container did not answer within {limit + self.config.host_grace:g} s; it is retired"
            return {"status": "sandbox_error", "message": message}
        except (OSError, ValueError, _StreamClosed) as error:
            return {"status": "sandbox_error", "message": f"the container failed: {error!r}"}
        if not isinstance(response, dict) or response.get("id") != request["id"]:
            return {"status": "sandbox_error", "message": "the runner's answer does not match the request"}
        if "error" in response:
            return {"status": "sandbox_error", "message": str(response["error"])}
        try:
            state = container.read_message(self.config.settle_timeout)
        except (_HostTimeout, OSError, ValueError, _StreamClosed):
            state = {"state": "unknown"}
        response["clean"] = isinstance(state, dict) and state.get("state") == "clean"
        if not response["clean"]:
            container.problems = list(state.get("problems", [])) if isinstance(state, dict) else []
        return response

    # --- the containers ------------------------------------------------------------

    def _take(self) -> _Container:
        if self._closed:
            raise SandboxUnavailable("the sandbox pool is closed")
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        container = self._new_container()
        with self._lock:
            self._containers.add(container)
        return container

    def _new_container(self) -> _Container:
        return _Container(self.client, self.config, self.image, self.owner, self.id)

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
            container = self._new_container()
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
        started = [self._new_container() for _ in range(max(missing, 0))]
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

    def __init__(self, client: Any, config: SandboxConfig, image: str, owner: str, pool_id: str = "") -> None:
        import docker.errors
        from docker.types import LogConfig, Ulimit

        self.stderr_tail = b""
        self.problems: list[str] = []
        """Why the container was found unclean after its last execution, as its runner said."""
        self._buffer = bytearray()
        self.program_uid = 100_000 + 2 * secrets.randbelow(1 << 29)
        """The user programs run as in this container; the judge runs as the next one."""
        uid = self.program_uid
        try:
            api = client.api
            work = f"rw,nosuid,nodev,noexec,size={config.tmpfs_mb}m,nr_inodes={config.max_files},uid={uid},gid={uid}"
            host_config = api.create_host_config(
                network_mode="none",
                read_only=True,
                tmpfs={WORK: work + ",mode=0700"},
                mem_limit=f"{config.memory_mb}m",
                memswap_limit=f"{config.memory_mb}m",
                nano_cpus=int(config.cpus * 1e9),
                pids_limit=config.pids_limit,
                cap_drop=["ALL"],
                cap_add=CAPABILITIES,
                sysctls=IPC_SYSCTLS,
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
                command=["python3", "-I", RUNNER, "--program-uid", str(uid), "--judge-uid", str(uid + 1)],
                user=USER,
                working_dir=WORK,
                stdin_open=True,  # not detached, so also StdinOnce: the stream closing (the host process
                detach=False,  # gone) closes the runner's stdin, and the runner exits
                network_disabled=True,
                labels={LABEL: owner, POOL_LABEL: pool_id},
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
            ready = self.read_message(config.start_timeout)
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
        return self.read_message(seconds)

    def read_message(self, seconds: float) -> dict[str, Any]:
        """The runner's next line, as JSON; ``_HostTimeout`` after ``seconds``."""
        deadline = time.monotonic() + seconds
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
    """One outcome per test from the judge's verdicts; a test without one failed ("not run").

    Never raises: a verdict that cannot be judged (a value that is not plain
    data, too deep, too large) fails its test.
    """
    found: dict[int, TestOutcome] = {}
    expected = tests.expected_values() if isinstance(tests, AssertTests) else {}
    total = tests.total
    for verdict in verdicts:
        if not isinstance(verdict, dict):
            continue
        index = verdict.get("i")
        if not isinstance(index, int) or isinstance(index, bool) or index in found or not 0 <= index < total:
            continue
        try:
            if isinstance(tests, CallTests):
                passed, message = tests.judge(index, verdict)
            else:
                passed, message = tests.judge(index, verdict, expected)
        except Exception as error:  # the program's value, not the host, is at fault
            passed, message = False, f"the value could not be judged ({type(error).__name__})"
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
