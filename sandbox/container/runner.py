"""The runner: PID 1 of a sandbox container, executing one program per request.

It reads one JSON request per line on stdin and writes one JSON response per
line on stdout (the host reaches both through Docker's attach stream, which
also works with a remote engine). When stdin closes, the host is gone and the
runner exits, which stops and removes the container.

Per request it cleans /work, writes the request's files, starts the program
with resource limits in a session of its own, feeds it stdin, reads stdout
and stderr as they come (capped), enforces the wall-clock limit, then kills
every process left in the container and reaps them.

Programs start from a spare child forked in advance, between requests (so
it holds nothing of any request), that has the test harness and the modules
tests use already imported: a test run skips the interpreter's start-up and
those imports, most of its cost. The spare gets its pipes over a Unix socket
(SCM_RIGHTS), applies the limits, and either runs the harness in-process or
exec()s the program's command.

Being PID 1 is part of the design: the kernel delivers no signal to a
namespace's init from inside the namespace unless init handles it, and the
runner handles none, so the program cannot kill it (``kill(1, 9)``,
``kill(-1, 9)``); it is not dumpable, so the program (same uid) cannot ptrace
it or read its memory; and, as init, it reaps orphaned processes.

Standard library only: it runs on the image's own python3.
"""

import ctypes
import json
import os
import resource
import select
import signal
import socket
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import contextlib

import harness

for _name in harness.PRELOADED:
    __import__(_name)

WORK = "/work"
PR_SET_DUMPABLE = 4
READ_CHUNK = 65536
RESULT_CAP = 1 << 20  # bytes of harness verdicts kept
DRAIN_AFTER_EXIT = 0.05  # seconds to read what is left in the pipes once the program has exited
PROGRAM_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": WORK,
    "TMPDIR": WORK,
    "LANG": "C.UTF-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONUNBUFFERED": "1",
}


def main():
    for number in IGNORED_SIGNALS:
        signal.signal(number, signal.SIG_IGN)
    set_dumpable(False)
    send({"ready": True, "pid": os.getpid(), "python": sys.version.split()[0]})
    spare = prefork()
    for line in sys.stdin.buffer:
        response = answer(line, spare)
        send(response)
        del line, response  # nothing of this request may reach the next spare child
        spare = prefork()
    kill_all()


def answer(line, spare):
    """The response to one request line."""
    try:
        request = json.loads(line)
    except ValueError as error:
        return {"error": f"bad request: {error}"}
    try:
        response = execute(request, spare)
    except Exception as error:  # the runner must answer every request
        kill_all()
        reap()
        response = {"error": f"runner failed: {error!r}"}
    response["id"] = request.get("id")
    return response


IGNORED_SIGNALS = (
    signal.SIGTERM,
    signal.SIGINT,
    signal.SIGHUP,
    signal.SIGQUIT,
    signal.SIGUSR1,
    signal.SIGUSR2,
    signal.SIGPIPE,
)


def set_dumpable(flag):
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 1 if flag else 0, 0, 0, 0)


def prefork():
    """A spare child, waiting on a socket for its pipes and orders; ``(pid, socket)``."""
    ours, theirs = socket.socketpair()
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        ours.close()
        code = 127
        try:
            code = become_program(theirs)
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    theirs.close()
    return pid, ours


def become_program(control):
    """In the spare child: take the pipes and limits, then run the harness or exec the command."""
    message, fds, _, _ = socket.recv_fds(control, 1 << 16, 4)
    if not message:
        return 0  # the runner is gone
    order = json.loads(message)
    os.setsid()
    limits(order)()
    for number in IGNORED_SIGNALS:
        signal.signal(number, signal.SIG_DFL)
    for target, fd in zip((0, 1, 2), fds, strict=False):
        os.dup2(fd, target)
    keep = [0, 1, 2]
    if order.get("result_fd") is not None:
        os.dup2(fds[3], order["result_fd"])
        keep.append(order["result_fd"])
    keep.sort()
    for low, high in zip(keep, [*keep[1:], resource.getrlimit(resource.RLIMIT_NOFILE)[0]], strict=False):
        os.closerange(low + 1, high)
    os.chdir(WORK)
    os.environ.clear()
    os.environ.update(PROGRAM_ENV)
    if order.get("argv"):
        os.execvpe(order["argv"][0], order["argv"], PROGRAM_ENV)
    sys.stdin = open(0, encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115 (lives as long as the process)
    sys.stdout = open(1, "w", encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
    sys.argv = [harness.__file__]
    code = 0
    try:
        harness.main()
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:
        traceback.print_exc()
        code = 1
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    return code


def send(message):
    sys.stdout.buffer.write(json.dumps(message).encode() + b"\n")
    sys.stdout.buffer.flush()


def execute(request, spare):
    """Run one program; the response says how it ended, what it wrote, and what the harness reported."""
    timeout = float(request.get("timeout", 10.0))
    cap = int(request.get("max_output", 1 << 20))
    for name, content in request.get("files", {}).items():
        path = os.path.join(WORK, name)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(content)
    stdin_data = request.get("stdin", "").encode("utf-8", "replace")
    nonce = request.get("nonce")

    pipes = [os.pipe() for _ in range(4 if nonce else 3)]  # stdin, stdout, stderr[, verdicts]
    theirs = [pipes[0][0]] + [write for _, write in pipes[1:]]
    ours = [pipes[0][1]] + [read for read, _ in pipes[1:]]
    order = {
        "argv": request.get("argv"),
        "result_fd": int(request["result_fd"]) if nonce else None,
        "timeout": timeout,
        "max_file_bytes": request.get("max_file_bytes"),
        "max_open_files": request.get("max_open_files"),
    }
    oom_before = oom_kills()
    started = time.monotonic()
    pid, control = spare
    try:
        socket.send_fds(control, [json.dumps(order).encode()], theirs)
    except OSError as error:
        close_fds(*theirs, *ours)
        kill_all()
        reap()
        return {"status": "sandbox_error", "message": f"could not start the program: {error}", "retire": True}
    control.close()
    close_fds(*theirs)
    process = Child(pid, *ours)
    result_read = process.verdicts

    streams = {process.stdout: bytearray(), process.stderr: bytearray()}
    truncated = {fd: False for fd in streams}
    results = bytearray()
    readers = set(streams) | ({result_read} if result_read is not None else set())
    pending = stdin_data
    writers = {process.stdin} if pending else set()
    if not pending:
        process.close_stdin()
    deadline = started + timeout
    killed_for = None
    exited_at = None
    while readers or writers:
        now = time.monotonic()
        if exited_at is None and process.poll() is not None:
            exited_at = now
        if exited_at is not None and now - exited_at > DRAIN_AFTER_EXIT:
            break  # the program is done; what still holds a pipe open is a leftover process
        if now >= deadline:
            killed_for = "timeout"
            break
        wait = min(deadline - now, 0.05 if exited_at is None else DRAIN_AFTER_EXIT)
        ready_read, ready_write, _ = select.select(list(readers), list(writers), [], wait)
        for fd in ready_write:
            try:
                written = os.write(fd, pending[:READ_CHUNK])
            except OSError:
                written, pending = 0, b""
            pending = pending[written:]
            if not pending:
                writers.discard(fd)
                process.close_stdin()
        for fd in ready_read:
            chunk = os.read(fd, READ_CHUNK)
            if not chunk:
                readers.discard(fd)
                continue
            if fd == result_read:
                results += chunk[: max(0, RESULT_CAP - len(results))]
                continue
            room = cap - len(streams[fd])
            streams[fd] += chunk[: max(room, 0)]
            if len(chunk) > room:
                truncated[fd] = True
                killed_for = "output_limit"
        if killed_for:
            break
    leftover = count_processes(exclude=process.pid)
    kill_all()
    returncode = process.wait()
    duration = time.monotonic() - started
    reap()
    if result_read is not None:
        results += drain(result_read, RESULT_CAP - len(results))
    process.close()
    clean_work()

    if killed_for:
        status = killed_for
    elif oom_kills() > oom_before or returncode == -signal.SIGKILL:
        status = "oom"  # SIGKILL that the runner did not send: the kernel's OOM killer
    elif returncode == -signal.SIGXFSZ:
        status = "output_limit"  # a file grew past the file-size limit
    else:
        status = "ok" if returncode == 0 else "runtime_error"
    stdout_buffer, stderr_buffer = list(streams.values())
    stdout_flag, stderr_flag = list(truncated.values())
    return {
        "status": status,
        "exit_code": returncode,
        "stdout": stdout_buffer.decode("utf-8", "replace"),
        "stderr": stderr_buffer.decode("utf-8", "replace"),
        "stdout_truncated": stdout_flag,
        "stderr_truncated": stderr_flag,
        "duration": duration,
        "results": verdicts(results, nonce) if nonce else None,
        "leftover_processes": leftover,
        "retire": status in ("timeout", "oom") or leftover >= int(request.get("retire_at_processes", 32)),
    }


def limits(order):
    """The child's resource limits, applied in the child before it runs the program."""
    cpu_seconds = int(float(order.get("timeout") or 10)) + 1
    file_bytes = int(order.get("max_file_bytes") or 16 << 20)
    open_files = int(order.get("max_open_files") or 256)

    def apply():
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
        resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        try:
            with open("/proc/self/oom_score_adj", "w") as handle:
                handle.write("1000")  # under memory pressure the kernel kills the program, not the runner
        except OSError:
            pass

    return apply


class Child:
    """The program's process (a child of the runner) and the runner's ends of its pipes."""

    def __init__(self, pid, stdin, stdout, stderr, verdicts=None):
        self.pid, self.stdin, self.stdout, self.stderr, self.verdicts = pid, stdin, stdout, stderr, verdicts
        self.returncode = None

    def poll(self):
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self):
        if self.returncode is None:
            _, status = os.waitpid(self.pid, 0)
            self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def close_stdin(self):
        if self.stdin is not None:
            close_fds(self.stdin)
            self.stdin = None

    def close(self):
        self.close_stdin()
        close_fds(self.stdout, self.stderr, self.verdicts)


def verdicts(raw, nonce):
    """The harness's verdict lines that carry this execution's nonce, parsed; anything else is ignored."""
    found = []
    prefix = nonce + "\t"
    for line in bytes(raw).decode("utf-8", "replace").splitlines():
        if not line.startswith(prefix):
            continue
        try:
            found.append(json.loads(line[len(prefix) :]))
        except ValueError:
            continue
    return found


def drain(fd, limit):
    data = bytearray()
    while len(data) < limit:
        ready, _, _ = select.select([fd], [], [], 0)
        if not ready:
            break
        chunk = os.read(fd, READ_CHUNK)
        if not chunk:
            break
        data += chunk
    return bytes(data[: max(limit, 0)])


def close_fds(*fds):
    for fd in fds:
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)


def kill_all():
    """SIGKILL every process in the container but the runner (as PID 1, kill(-1) spares only itself)."""
    with contextlib.suppress(OSError):  # ESRCH: nothing else is running
        os.kill(-1, signal.SIGKILL)


def reap():
    """Collect every exited child and orphan, so none stays a zombie holding a pid."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.001)  # killed processes that have not exited yet


def count_processes(exclude):
    """Processes in the container besides the runner and the program itself."""
    count = 0
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) not in (os.getpid(), exclude):
            count += 1
    return count


def clean_work():
    """Empty /work, also of directories the program made unreadable or unwritable."""
    for root, dirs, _ in os.walk(WORK):  # top-down: open each directory up before descending into it
        for name in dirs:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                with contextlib.suppress(OSError):
                    os.chmod(path, 0o700)
    for root, dirs, files in os.walk(WORK, topdown=False):
        for name in files:
            try_remove(os.unlink, os.path.join(root, name))
        for name in dirs:
            path = os.path.join(root, name)
            try_remove(os.unlink if os.path.islink(path) else os.rmdir, path)


def try_remove(remove, path):
    with contextlib.suppress(OSError):
        remove(path)


def oom_kills():
    """The container's count of OOM kills (cgroup v1 or v2), or 0 where it cannot be read."""
    for path, key in (
        ("/sys/fs/cgroup/memory/memory.oom_control", "oom_kill"),
        ("/sys/fs/cgroup/memory.events", "oom_kill"),
    ):
        try:
            with open(path) as handle:
                for line in handle:
                    name, _, value = line.partition(" ")
                    if name == key:
                        return int(value)
        except (OSError, ValueError):
            continue
    return 0


if __name__ == "__main__":
    main()
