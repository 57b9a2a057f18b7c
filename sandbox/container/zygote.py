"""The zygote: a clean template process that forks every process in which a request's code runs.

The runner forks the zygote once, before it reads any request, so the zygote
never holds a request, a program, a test or a value, and neither does any
process forked from it. It imports what programs and tests use, then waits
for orders from the runner on a socket: "make a spare of role R". It forks
the spare and sends back its pid; as the spares' parent it reaps them, and
sends ``{"exited": pid, "status": code}`` on the same socket when one ends.

A spare waits, still privileged, on a socket of its own for its one order
from the runner: limits, user, file descriptors and, for a program, its
files. It then drops to its role's user for good and becomes:

* ``candidate``: the program. Its own user; no capabilities; limits on CPU
  time, file size, open files and processes; first in line for the OOM
  killer; standard streams from the runner. It runs the program as a command
  (``run``) or serves the judge's calls (``test``, candidate.py).
* ``judge``: runs the tests (judge.py) as a second user, which the program
  cannot read, signal or trace.
* ``cleaner``: empties /work as the program's user (so a symlink or a
  locked directory the program left gives it no more rights than the
  program had), iteratively, at any depth.
* ``killer``: kills every process of one user (``kill(-1)`` as that user,
  which the kernel applies to all of them at once, so none forks away).

Standard library only: it runs on the image's own python3.
"""

import contextlib
import ctypes
import gc
import json
import os
import resource
import select
import signal
import socket
import struct
import sys

ROLES = ("candidate", "judge", "cleaner", "killer")
PR_SET_DUMPABLE = 4
FRAME = struct.Struct(">Q")
PROGRAM_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/work",
    "TMPDIR": "/work",
    "LANG": "C.UTF-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONUNBUFFERED": "1",
}
JUDGE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"}
LIBC = ctypes.CDLL(None, use_errno=True)
RESET_SIGNALS = [signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2]
RESET_SIGNALS += [signal.SIGPIPE, signal.SIGXFSZ, signal.SIGCHLD]
"""Signals whose handling a program must get back to the default: those the runner ignores, those Python itself
ignores or catches (SIGPIPE, SIGXFSZ, SIGINT), and SIGCHLD, which the zygote catches."""
PRELOADED = ("math", "re", "string", "collections", "itertools", "functools", "random", "heapq", "bisect", "hashlib")


def start():
    """Fork the zygote (from the runner, before any request); ``(pid, socket to it)``."""
    ours, theirs = socket.socketpair()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            ours.close()
            code = serve(theirs)
        finally:
            os._exit(code)
    theirs.close()
    return pid, ours


def serve(control):
    """The zygote's loop: a spare per order, an exit report per ended spare, until the runner closes the socket."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    keep = sorted({0, 1, 2, control.fileno()})
    for low, high in zip(keep, [*keep[1:], resource.getrlimit(resource.RLIMIT_NOFILE)[0]], strict=False):
        os.closerange(low + 1, high)  # the runner's stream to the host among them
    import candidate
    import judge

    for name in PRELOADED:
        __import__(name)
    del candidate, judge
    gc.freeze()  # spares share these objects with the zygote: the collector must not touch (and so copy) them
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda number, frame: None)  # only to wake the select below
    try:
        while True:
            ready, _, _ = select.select([control, wake_read], [], [])
            if wake_read in ready:
                os.read(wake_read, 4096)
            report_exits(control)
            if control not in ready:
                continue
            order, fds = receive(control)
            if order is None:
                return 0
            try:
                pid = os.fork()
                if pid == 0:
                    code = 1
                    try:
                        signal.set_wakeup_fd(-1)
                        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                        for fd in (wake_read, wake_write, control.fileno()):
                            os.close(fd)
                        code = run_spare(order["role"], fds[0])
                    finally:
                        os._exit(code)
            finally:
                for fd in fds:
                    os.close(fd)
            send(control, {"pid": pid})
    except OSError:
        return 0  # the runner is gone


def report_exits(control):
    """Reap every ended spare and tell the runner its exit status."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        send(control, {"exited": pid, "status": os.waitstatus_to_exitcode(status)})


def run_spare(role, spare_fd):
    """In the spare: wait for the order, take the user and limits, become the role. Returns the exit status."""
    control = socket.socket(fileno=spare_fd)
    send(control, {"pid": os.getpid(), "role": role})
    order, fds = receive(control)
    control.close()
    if order is None:
        return 0  # the runner is gone
    os.setsid()
    if role == "candidate":
        return become_candidate(order, fds)
    if role == "judge":
        return become_judge(order, fds)
    if role == "cleaner":
        drop_privileges(order["uid"], order["gid"], dumpable=False)
        return clean("/work", order["mode"])
    if role == "killer":
        drop_privileges(order["uid"], order["gid"], dumpable=False)
        with contextlib.suppress(ProcessLookupError):
            os.kill(-1, signal.SIGKILL)  # every process of this user but the killer itself
        return 0
    return 2


def become_candidate(order, fds):
    """Limits, the program's user, its streams; then run the command or serve the judge."""
    limits = order["limits"]
    cpu = int(limits["cpu_seconds"])
    set_limits(
        {
            resource.RLIMIT_CPU: cpu,
            resource.RLIMIT_FSIZE: int(limits["max_file_bytes"]),
            resource.RLIMIT_NOFILE: int(limits["max_open_files"]),
            resource.RLIMIT_CORE: 0,
            resource.RLIMIT_NPROC: int(limits["max_processes"]),
        }
    )
    try:
        with open("/proc/self/oom_score_adj", "w") as handle:
            handle.write("1000")  # under memory pressure the kernel kills the program first
    except OSError:
        pass
    drop_privileges(order["uid"], order["gid"], dumpable=True)
    place_fds(fds)
    for signal_number in RESET_SIGNALS:  # ignored by the runner or Python, or caught by the zygote
        signal.signal(signal_number, signal.SIG_DFL)
    os.chdir("/work")
    os.environ.clear()
    os.environ.update(PROGRAM_ENV)
    if order["mode"] == "run":
        for name, content in order["files"].items():
            with open(os.path.join("/work", os.path.basename(name)), "w", encoding="utf-8") as handle:
                handle.write(content)
        os.execvpe(order["argv"][0], order["argv"], PROGRAM_ENV)
    import candidate

    sys.stdin = open(0, encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115 (lives with the process)
    sys.stdout = open(1, "w", encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
    code = 1
    try:
        code = candidate.serve()
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    except BaseException:
        code = 1
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BaseException):
            stream.flush()
    return code


def become_judge(order, fds):
    """Limits, the judge's user (not dumpable: no one reads its memory); then run the tests."""
    limits = order["limits"]
    set_limits({resource.RLIMIT_CPU: int(limits["cpu_seconds"]), resource.RLIMIT_CORE: 0})
    drop_privileges(order["uid"], order["gid"], dumpable=False)
    payload, verdicts, errors, answers, requests = fds
    null = os.open(os.devnull, os.O_RDWR)
    place_fds([payload, null, errors, answers, requests, verdicts])
    os.chdir("/")
    os.environ.clear()
    os.environ.update(JUDGE_ENV)
    sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 (lives with the process)
    sys.stderr = open(2, "w", errors="replace", closefd=False)  # noqa: SIM115
    import judge

    code = judge.main()
    sys.stderr.flush()
    return code


def set_limits(limits):
    for kind, value in limits.items():
        resource.setrlimit(kind, (value, value))


def drop_privileges(uid, gid, dumpable):
    """Become ``uid``/``gid`` for good, with no groups and no capabilities; exit 120 if any remain."""
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    with open("/proc/self/status") as handle:
        status = handle.read()
    capabilities = [line.split()[1] for line in status.splitlines() if line.startswith(("CapPrm:", "CapEff:"))]
    if os.getresuid() != (uid, uid, uid) or any(int(value, 16) for value in capabilities):
        os._exit(120)
    with contextlib.suppress(OSError, AttributeError):
        LIBC.prctl(PR_SET_DUMPABLE, 1 if dumpable else 0, 0, 0, 0)


def place_fds(fds):
    """Put ``fds`` at 0, 1, 2, ... in order and close every other descriptor."""
    moved = [os.dup(fd) for fd in fds]  # out of the way first: a target may be one of the sources
    for target, fd in enumerate(moved):
        os.dup2(fd, target)
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    os.closerange(len(moved), limit if limit != resource.RLIM_INFINITY else 65536)


def clean(top, mode):
    """Remove everything under ``top``; reset its mode, times and extended attributes. Returns 0.

    Iterative, one scan per directory, so any depth and any width work in time linear in the entries.
    """
    os.chmod(top, 0o700)
    os.chdir(top)
    stack = [(None, scan())]  # (name of the directory we are in, its subdirectories still to empty)
    while stack:
        name, pending = stack[-1]
        if pending:
            child = pending.pop()
            os.chdir(child)
            stack.append((child, scan()))
            continue
        stack.pop()
        if name is not None:
            os.chdir("..")
            os.rmdir(name)
    os.chdir("/")
    for name in os.listxattr(top):  # nothing of the program's may stay attached to /work itself
        os.removexattr(top, name)
    os.chmod(top, mode)
    os.utime(top, (0, 0))
    return 0


def scan():
    """Unlink every non-directory here; open up and return the subdirectories (not followed if links)."""
    subdirectories = []
    with os.scandir(".") as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):  # a directory, not a link to one: nothing else is running
                os.chmod(entry.name, 0o700)
                subdirectories.append(entry.name)
            else:
                os.unlink(entry.name)
    return subdirectories


def send(sock, message, fds=()):
    """One frame (8-byte length, JSON) on ``sock``, with ``fds`` passed along (SCM_RIGHTS)."""
    body = json.dumps(message).encode()
    data = FRAME.pack(len(body)) + body
    sent = socket.send_fds(sock, [data], list(fds)) if fds else sock.send(data)
    if sent < len(data):
        sock.sendall(data[sent:])


def receive(sock):
    """One frame from ``sock`` and the descriptors that came with it; ``(None, [])`` at end of stream.

    Reads exactly one frame, never into the next: frames may follow each other closely on one socket.
    """
    data, fds, _, _ = socket.recv_fds(sock, FRAME.size, 16)
    if not data:
        return None, list(fds)
    while len(data) < FRAME.size:
        more = sock.recv(FRAME.size - len(data))
        if not more:
            return None, list(fds)
        data += more
    (size,) = FRAME.unpack(data)
    body = bytearray()
    while len(body) < size:
        more = sock.recv(min(size - len(body), 1 << 20))
        if not more:
            return None, list(fds)
        body += more
    return json.loads(bytes(body)), list(fds)
