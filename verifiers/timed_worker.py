"""Run a function in a child process under a hard time limit.

A checker that calls into a parser or a computer algebra system can be made to
run for hours (or to eat memory) by a short, hostile input. Python cannot stop
a thread, and ``signal.alarm`` works only on the main thread and only between
bytecodes, so the one dependable limit is a separate process that can be
killed. ``TimedWorker`` keeps one such process warm and feeds it calls over a
pipe, so a call costs a round trip (tens of microseconds), not a process start:

    worker = TimedWorker(preload=("math_verify",))
    worker.call(some_module.some_function, "argument", timeout=3.0)

* A call that runs past ``timeout`` seconds raises ``WorkerTimeout``; the
  process is killed and a fresh one starts in the background, ready for the
  next call.
* A process that dies during a call (a crash in C code, the memory limit)
  raises ``WorkerCrashed`` and is replaced the same way.
* An exception inside the function comes back as ``WorkerError``.
* The process is started on the first call, not on construction; the time it
  takes to start (imports included) is not counted against a call's limit.
* Fork-safe: a forked child process never uses its parent's worker; it starts
  its own on its first call. Thread-safe: calls from several threads take
  turns.

The function must be importable by its module and qualified name (a
module-level function, not a lambda or a closure), and its arguments and
result must pickle. POSIX only (the pipes are passed as inherited file
descriptors).
"""

from __future__ import annotations

import atexit
import importlib
import math
import os
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any

__all__ = ["TimedWorker", "WorkerCrashed", "WorkerError", "WorkerStartError", "WorkerTimeout"]

_BOOTSTRAP = "import sys; from rlvr.verifiers.timed_worker import _serve; _serve(sys.argv[1:])"
_ALARM_MARGIN_S = 5  # the child's own alarm: it outlives a dead parent by at most this much


class WorkerTimeout(Exception):
    """The call ran past its time limit; the worker process was killed and replaced."""


class WorkerCrashed(Exception):
    """The worker process died during the call; it was replaced."""


class WorkerError(Exception):
    """The function raised inside the worker.

    Attributes:
        type_name: the name of the exception's class in the worker (``"ValueError"``).
    """

    def __init__(self, type_name: str, message: str) -> None:
        super().__init__(f"{type_name}: {message}")
        self.type_name = type_name


class WorkerStartError(Exception):
    """The worker process could not be started (or could not import its preloads)."""


class TimedWorker:
    """A persistent child process that runs one function call at a time under a hard time limit.

    Args:
        preload: modules the process imports before it reports ready, so that
            their import time is not charged to the first call.
        memory_limit_mb: address-space limit of the process in MiB
            (``RLIMIT_AS``); allocations past it raise ``MemoryError`` inside the
            function. None: no limit.
        start_timeout: seconds to wait for a new process to report ready.
    """

    def __init__(
        self,
        preload: Sequence[str] = (),
        memory_limit_mb: int | None = None,
        start_timeout: float = 60.0,
    ) -> None:
        if memory_limit_mb is not None and memory_limit_mb <= 0:
            raise ValueError(f"memory_limit_mb must be positive, got {memory_limit_mb}")
        self.preload = tuple(preload)
        self.memory_limit_mb = memory_limit_mb
        self.start_timeout = start_timeout
        self._lock = threading.Lock()
        self._owner = os.getpid()
        self._proc: subprocess.Popen[bytes] | None = None
        self._requests: Connection | None = None
        self._responses: Connection | None = None
        self._ready = False
        self._restarts = 0
        _LIVE.add(self)

    # --- public -------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        """Process id of the current worker process, or None before the first call."""
        return self._proc.pid if self._proc is not None and self._owner == os.getpid() else None

    @property
    def restarts(self) -> int:
        """How many times a process was killed (time-out) or found dead and replaced."""
        return self._restarts

    def call(self, function: Callable[..., Any], *args: Any, timeout: float) -> Any:
        """``function(*args)`` in the worker process; its return value.

        Args:
            function: a module-level function (imported in the worker by
                ``function.__module__`` and ``function.__qualname__``).
            *args: picklable arguments.
            timeout: seconds the call may run, measured from the moment the
                request is sent (process start-up is not counted).

        Raises:
            ValueError: ``function`` cannot be imported by name in the worker
                (a lambda, a nested function, a method of a built-in type).
            WorkerTimeout: the call ran past ``timeout``.
            WorkerCrashed: the process died during the call.
            WorkerError: ``function`` raised; the message names the exception.
            WorkerStartError: no process could be started.
        """
        if not timeout > 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        module, qualname = getattr(function, "__module__", None), getattr(function, "__qualname__", "")
        if not module or "<" in qualname:
            raise ValueError(f"{function!r} cannot be imported by name in the worker; use a module-level function")
        request = (module, qualname, args, math.ceil(timeout) + _ALARM_MARGIN_S)
        with self._lock:
            self._adopt()
            if self._proc is None or self._proc.poll() is not None:
                self._replace(count=self._proc is not None)
            self._await_ready()
            assert self._requests is not None and self._responses is not None
            try:
                self._requests.send(request)
                if not self._responses.poll(timeout):
                    self._replace()
                    raise WorkerTimeout(f"{qualname} ran past {timeout:g} s")
                reply = self._responses.recv()
            except (EOFError, OSError) as error:
                code = self._proc.poll() if self._proc is not None else None
                self._replace()
                raise WorkerCrashed(f"worker process died during {qualname} (exit {code})") from error
            except WorkerTimeout:
                raise
            except BaseException:
                # Interrupted mid-call (KeyboardInterrupt, ...): the process may
                # still answer later, so it must not serve the next call.
                self._replace()
                raise
        if reply[0] == "ok":
            return reply[1]
        raise WorkerError(reply[1], reply[2])

    def close(self) -> None:
        """Stop the worker process (a later call starts a new one)."""
        with self._lock:
            self._adopt()
            self._stop()

    def __enter__(self) -> TimedWorker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- process management (callers hold the lock) -------------------------

    def _adopt(self) -> None:
        """In a forked child, drop the parent's process without touching it."""
        if self._owner != os.getpid():
            self._forget()

    def _forget(self) -> None:
        for connection in (self._requests, self._responses):
            if connection is not None:
                connection.close()  # this process's copies of the descriptors only
        if self._proc is not None:
            _INHERITED.append(self._proc)  # never waited on or killed here: it is the parent's
        self._proc, self._requests, self._responses, self._ready = None, None, None, False
        self._lock = threading.Lock()
        self._owner = os.getpid()

    def _stop(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
        for connection in (self._requests, self._responses):
            if connection is not None:
                connection.close()
        self._proc, self._requests, self._responses, self._ready = None, None, None, False

    def _replace(self, count: bool = True) -> None:
        """Kill the current process and start the next one now, so it warms up in the background."""
        self._stop()
        if count:
            self._restarts += 1
        self._spawn()

    def _spawn(self) -> None:
        request_read, request_write = os.pipe()
        response_read, response_write = os.pipe()
        env = dict(os.environ)
        paths = [path or os.getcwd() for path in sys.path]
        env["PYTHONPATH"] = os.pathsep.join([*paths, env.get("PYTHONPATH", "")])
        limit = str(self.memory_limit_mb or 0)
        argv = [sys.executable, "-c", _BOOTSTRAP, str(request_read), str(response_write), limit, *self.preload]
        try:
            proc = subprocess.Popen(argv, pass_fds=(request_read, response_write), stdin=subprocess.DEVNULL, env=env)
        except OSError as error:
            for fd in (request_read, request_write, response_read, response_write):
                os.close(fd)
            raise WorkerStartError(f"cannot start {sys.executable}: {error}") from error
        os.close(request_read)  # the child's ends
        os.close(response_write)
        self._proc = proc
        self._requests = Connection(request_write, readable=False)
        self._responses = Connection(response_read, writable=False)
        self._ready = False

    def _await_ready(self) -> None:
        if self._ready:
            return
        assert self._responses is not None and self._proc is not None
        try:
            if not self._responses.poll(self.start_timeout):
                self._stop()
                raise WorkerStartError(f"worker process not ready after {self.start_timeout:g} s")
            message = self._responses.recv()
        except (EOFError, OSError) as error:
            code = self._proc.wait()
            self._stop()
            raise WorkerStartError(f"worker process exited during start-up (exit {code})") from error
        if message[0] != "ready":
            self._stop()
            raise WorkerStartError(f"worker process failed to start:\n{message[1]}")
        self._ready = True


# --- every worker of this process: stopped at exit, forgotten in a fork -----

_LIVE: weakref.WeakSet[TimedWorker] = weakref.WeakSet()
_INHERITED: list[subprocess.Popen[bytes]] = []


def _stop_all() -> None:
    for worker in list(_LIVE):
        if worker._owner == os.getpid():
            worker._stop()


def _forget_all() -> None:
    _INHERITED.clear()
    for worker in list(_LIVE):
        worker._forget()


atexit.register(_stop_all)
os.register_at_fork(after_in_child=_forget_all)


# --- the worker process -----------------------------------------------------


def _serve(argv: list[str]) -> None:
    """Main loop of the worker process: answer calls until the parent closes the pipe.

    ``argv``: request descriptor, response descriptor, memory limit in MiB (0:
    none), then the modules to preload.
    """
    import resource
    import signal
    import traceback

    requests = Connection(int(argv[0]), writable=False)
    responses = Connection(int(argv[1]), readable=False)
    os.dup2(2, 1)  # stray prints go to stderr, never into the protocol
    memory_mb = int(argv[2])
    try:
        if memory_mb:
            limit = memory_mb << 20
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        for module in argv[3:]:
            importlib.import_module(module)
    except BaseException:
        responses.send(("failed", traceback.format_exc()))
        return
    responses.send(("ready", os.getpid()))
    functions: dict[tuple[str, str], Callable[..., Any]] = {}
    while True:
        try:
            module, qualname, args, alarm = requests.recv()
        except (EOFError, OSError):
            return  # the parent is gone or closed the worker
        # If the parent dies mid-call nobody kills this process: the alarm does.
        signal.alarm(alarm)
        try:
            key = (module, qualname)
            if key not in functions:
                functions[key] = _resolve(module, qualname)
            reply: tuple[Any, ...] = ("ok", functions[key](*args))
        except Exception as error:
            reply = ("raised", type(error).__name__, str(error)[:2000])
        finally:
            signal.alarm(0)
        try:
            responses.send(reply)
        except Exception as error:  # an unpicklable result
            responses.send(("raised", type(error).__name__, str(error)[:2000]))


def _resolve(module: str, qualname: str) -> Callable[..., Any]:
    target: Any = importlib.import_module(module)
    for name in qualname.split("."):
        target = getattr(target, name)
    return target  # type: ignore[no-any-return]
