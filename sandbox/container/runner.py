"""The runner: PID 1 of a sandbox container; runs one request at a time and checks the container after each.

It reads one JSON request per line on stdin and writes JSON lines on stdout
(the host reaches both through Docker's attach stream). For each request it
writes two lines: the response, then, after cleaning up, the container's
state (``{"state": "clean"}``, or ``"dirty"`` with the problems found, on
which the host retires the container). When stdin closes, the host is gone
and the runner exits, which stops and removes the container.

Who runs what (see zygote.py):

* the runner, as root with only the capabilities to change user and to
  signal (SETUID, SETGID, KILL): it never runs a request's code, and no
  request's code runs in a process forked from it;
* the zygote, a template forked before the first request, which forks
  every other process;
* the program, as the container's program user, in a process that never
  held anything of another request;
* the judge of a test run, as a second user the program cannot reach.

A request is ``{"op": "run", "argv", "files", "stdin", ...}`` (a program as a
command) or ``{"op": "test", "program", "spec", ...}`` (a program and its
tests; the judge runs the tests). Both carry ``timeout`` and the limits.

After every request, before the state line: every process but the runner,
the zygote and the spares is killed (a killer as each user, ``kill(-1)``);
/work is emptied by a cleaner as the program's user whenever it is not as it
was left (attributes, owner, mode, times, inode and block counts); then the
runner checks that no process is left, /work is pristine, no IPC object or
POSIX message queue exists, its own limits and descriptors are as at start
and the zygote lives. Cleaning has its own budget (``SETTLE_BUDGET``), after
the program's time is over: it never runs on the program's clock. After the
state line, while the host reads it, the runner has the zygote make the
spares for the next request; a spare that fails makes that request a
sandbox error.

Standard library only: it runs on the image's own python3.
"""

import argparse
import contextlib
import ctypes
import json
import os
import resource
import select
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import zygote

WORK = "/work"
PR_SET_DUMPABLE = 4
READ_CHUNK = 65536
RESULT_CAP = 1 << 24  # bytes of verdict lines kept
JUDGE_ERRORS_CAP = 1 << 14  # bytes of the judge's stderr kept, for sandbox errors
DRAIN_AFTER_EXIT = 0.05  # seconds to read what is left in the pipes once the program (or judge) has exited
SETTLE_BUDGET = 2.0  # seconds for killing leftovers and cleaning /work after a request
SPARE_TIMEOUT = 2.0  # seconds for a new spare to say hello
IGNORED_SIGNALS = (
    signal.SIGTERM,
    signal.SIGINT,
    signal.SIGHUP,
    signal.SIGQUIT,
    signal.SIGUSR1,
    signal.SIGUSR2,
    signal.SIGPIPE,
)
LIMITS = (resource.RLIMIT_NOFILE, resource.RLIMIT_NPROC, resource.RLIMIT_FSIZE, resource.RLIMIT_CPU, resource.RLIMIT_AS)


class SpareFailed(Exception):
    """A spare could not be made or did not take its order: the sandbox's fault."""


class Runner:
    """The runner's state: users, the zygote, the spares, and what a clean container looks like."""

    def __init__(self, program_uid, judge_uid):
        self.program_uid, self.judge_uid = program_uid, judge_uid
        self.exited = {}  # pid -> exit status, for children reaped before their owner asked
        self.failures = []  # what went wrong in the sandbox itself during the last request
        self.zygote_pid, self.zygote = zygote.start()
        self.spares = {}
        self.limits = {kind: resource.getrlimit(kind) for kind in LIMITS}
        self.work = None  # what /work looks like when clean: set by the first cleaning
        clean = self.clean_work(time.monotonic() + 10)
        self.descriptors = self.open_descriptors()
        self.refill_spares(time.monotonic() + 10)
        if not clean:
            raise SystemExit("could not prepare /work")

    # --- one request -------------------------------------------------------------------

    def answer(self, line):
        """The response to one request line."""
        try:
            request = json.loads(line)
        except ValueError as error:
            return {"error": f"bad request: {error}"}
        try:
            response = self.test(request) if request.get("op") == "test" else self.run(request)
        except SpareFailed as error:
            self.failures.append(f"a spare process failed: {error}")
            response = {"status": "sandbox_error", "message": self.failures[-1]}
        except Exception as error:  # the runner must answer every request
            response = {"error": f"runner failed: {error!r}"}
        response["id"] = request.get("id")
        return response

    def run(self, request):
        """A program as a command (``python3 -I main.py``), with stdin fed and output captured."""
        with Pipes() as pipes:
            stdin, stdout, stderr = pipes.make(3)
            order = {
                "mode": "run",
                "argv": request["argv"],
                "files": request.get("files", {}),
                **self.program_order(request),
            }
            candidate = self.launch("candidate", order, [stdin[0], stdout[1], stderr[1]])
            pipes.close_ends(stdin[0], stdout[1], stderr[1])
            watch = Watch(request, pipes, stdout=stdout[0], stderr=stderr[0])
            watch.feed(stdin[1], request.get("stdin", "").encode("utf-8", "replace"))
            watch.until_exit(self, candidate)
            killed = self.stop(candidate)
            watch.close()
            return watch.response(self.status_of(candidate), candidate in killed, judge_failure=None)

    def test(self, request):
        """A program and its tests: the program in one process, the tests in the judge's."""
        with Pipes() as pipes:
            stdin, stdout, stderr, to_candidate, to_judge, payload, verdicts, judge_errors = pipes.make(8)
            order = {"mode": "test", **self.program_order(request)}
            program_fds = [stdin[0], stdout[1], stderr[1], to_candidate[0], to_judge[1]]
            judge_fds = [payload[0], verdicts[1], judge_errors[1], to_judge[0], to_candidate[1]]
            judge_order = {
                "uid": self.judge_uid,
                "gid": self.judge_uid,
                "limits": {"cpu_seconds": cpu_seconds(request)},
            }
            candidate = self.launch("candidate", order, program_fds)
            try:
                judge = self.launch("judge", judge_order, judge_fds)
            except SpareFailed:
                self.stop(candidate)
                raise
            pipes.close_ends(*program_fds, *judge_fds, stdin[1])
            watch = Watch(
                request, pipes, stdout=stdout[0], stderr=stderr[0], verdicts=verdicts[0], judge_errors=judge_errors[0]
            )
            watch.feed(payload[1], json.dumps({"program": request["program"], "spec": request["spec"]}).encode())
            watch.until_exit(self, judge)
            killed = self.stop(candidate, judge)
            watch.close()
            failure = self.judge_failure(self.status_of(judge), judge in killed, watch)
            return watch.response(self.status_of(candidate), candidate in killed, judge_failure=failure)

    def program_order(self, request):
        timeout = float(request.get("timeout", 10.0))
        return {
            "uid": self.program_uid,
            "gid": self.program_uid,
            "limits": {
                "cpu_seconds": cpu_seconds(request),
                "max_file_bytes": int(request.get("max_file_bytes") or 16 << 20),
                "max_open_files": int(request.get("max_open_files") or 256),
                "max_processes": int(request.get("max_processes") or 32),
            },
            "timeout": timeout,
        }

    def launch(self, role, order, fds):
        """Hand ``order`` and ``fds`` to the waiting spare of ``role``; its pid. ``SpareFailed`` if it is gone."""
        spare = self.spares.pop(role, None)
        if spare is None:
            raise SpareFailed(f"no {role} spare is waiting")
        pid, control = spare
        try:
            zygote.send(control, order, fds)
        except OSError as error:
            raise SpareFailed(f"the {role} spare is gone ({error})") from None
        finally:
            control.close()
        return pid

    @staticmethod
    def judge_failure(code, killed, watch):
        """None when the judge ended well or was stopped for the program's doing; else what went wrong."""
        if watch.killed_for or (code == 0 and watch.done):
            return None
        if code == -signal.SIGKILL and not killed:  # the OOM killer: judged by the response's status
            return None
        return f"the judge ended with {code} before finishing: {watch.judge_errors_text()[-500:]}"

    # --- processes -----------------------------------------------------------------------

    def stop(self, *pids):
        """SIGKILL those of ``pids`` still running and wait for their exit reports; the pids that had to be killed."""
        killed = {pid for pid in pids if self.poll(pid) is None}
        for pid in killed:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 1.0
        while any(pid not in self.exited for pid in pids) and time.monotonic() < deadline:
            select.select([self.zygote], [], [], max(0.0, deadline - time.monotonic()))
            self.pump()
        return killed

    def reap(self):
        """Collect the runner's own exited children: orphans (left by programs) and the zygote, should it die."""
        collected = False
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return collected
            if pid == 0:
                return collected
            self.exited[pid] = os.waitstatus_to_exitcode(status)
            collected = True

    def poll(self, pid):
        """The exit status of ``pid`` if it has exited, else None."""
        if pid not in self.exited:
            self.pump()
            self.reap()
        return self.exited.get(pid)

    def pump(self):
        """Take in the zygote's exit reports that have arrived, without waiting."""
        while select.select([self.zygote], [], [], 0)[0]:
            message, _ = zygote.receive(self.zygote)
            if message is None:
                return
            self.note(message)

    def note(self, message):
        """Record an exit report; whether ``message`` was one."""
        if "exited" in message:
            self.exited[message["exited"]] = message["status"]
            return True
        return False

    def ask_zygote(self, order, fds, deadline):
        """Send ``order`` to the zygote; its answer (exit reports that come first are recorded)."""
        zygote.send(self.zygote, order, fds)
        self.zygote.settimeout(max(0.001, deadline - time.monotonic()))
        try:
            while True:
                message, _ = zygote.receive(self.zygote)
                if message is None or not self.note(message):
                    return message
        finally:
            self.zygote.settimeout(None)

    def status_of(self, pid):
        return self.exited.pop(pid, None)

    def others(self):
        """Pids of processes other than the runner, the zygote and the spares."""
        known = {os.getpid(), self.zygote_pid, *(pid for pid, _ in self.spares.values())}
        return [int(name) for name in os.listdir("/proc") if name.isdigit() and int(name) not in known]

    def spawn(self, role, order, deadline):
        """Make a process of ``role`` from the zygote, give it ``order``, wait for it to end; its exit status."""
        pid, control = self.new_spare(role, deadline)
        try:
            zygote.send(control, order)
        finally:
            control.close()
        while time.monotonic() < deadline:
            status = self.poll(pid)
            if status is not None:
                self.exited.pop(pid, None)
                return status
            select.select([self.zygote], [], [], max(0.0, deadline - time.monotonic()))
        self.stop(pid)
        self.exited.pop(pid, None)
        return None

    def new_spare(self, role, deadline):
        """A fresh spare of ``role``: ``(pid, socket)``; ``SpareFailed`` if the zygote or the spare fails."""
        ours, theirs = socket.socketpair()
        try:
            reply = self.ask_zygote({"role": role}, [theirs.fileno()], deadline)
            hello, _ = receive_before(ours, deadline)
        except (OSError, ValueError) as error:
            ours.close()
            raise SpareFailed(f"making a {role} spare failed: {error!r}") from None
        finally:
            theirs.close()
        if not reply or not hello or hello.get("pid") != reply.get("pid"):
            ours.close()
            raise SpareFailed(f"the {role} spare did not answer")
        return hello["pid"], ours

    def refill_spares(self, deadline):
        for role in ("candidate", "judge"):
            if role not in self.spares:
                self.spares[role] = self.new_spare(role, deadline)

    # --- after each request ----------------------------------------------------------

    def settle(self):
        """Kill leftovers, clean /work, check everything; the state line."""
        deadline = time.monotonic() + SETTLE_BUDGET
        problems, self.failures = self.failures, []
        self.pump()
        self.reap()
        for _ in range(3):
            if not self.others():
                break
            for uid in (self.program_uid, self.judge_uid):
                if self.spawn("killer", {"uid": uid, "gid": uid}, deadline) != 0:
                    problems.append(f"the killer for user {uid} failed")
            reap_deadline = time.monotonic() + 0.5
            while self.others() and time.monotonic() < reap_deadline:
                self.pump()
                if not self.reap():
                    time.sleep(0.001)
        left = self.others()
        if left:
            problems.append(f"{len(left)} processes are left after killing")
        self.exited.clear()
        if not self.work_is_clean() and not self.clean_work(deadline):
            problems.append("/work could not be cleaned in time")
        problems += self.ipc_objects()
        if {kind: resource.getrlimit(kind) for kind in LIMITS} != self.limits:
            problems.append("the runner's limits changed")
        if self.open_descriptors() != self.descriptors:
            problems.append("the runner's open descriptors changed")
        if self.poll(self.zygote_pid) is not None:
            problems.append("the zygote is gone")
        return {"state": "dirty", "problems": problems} if problems else {"state": "clean"}

    def prepare(self):
        """Make the spares for the next request, while the host reads the state line.

        A spare that cannot be made is the next request's sandbox error (and that request's state is dirty).
        """
        try:
            self.refill_spares(time.monotonic() + SPARE_TIMEOUT)
        except SpareFailed as error:
            self.failures.append(str(error))

    def work_is_clean(self):
        """/work looks exactly as the last cleaning left it (ctime moves on any change, and cannot be set)."""
        return self.work is not None and work_signature() == self.work

    def clean_work(self, deadline):
        """Empty /work as the program's user; whether it finished in time."""
        order = {"uid": self.program_uid, "gid": self.program_uid, "mode": 0o700}
        try:
            finished = self.spawn("cleaner", order, deadline) == 0
        except SpareFailed:
            return False
        signature = work_signature()
        if finished and signature[-2:] == (1, 0):  # one inode (/work itself), no blocks
            self.work = signature
            return True
        return False

    def ipc_objects(self):
        problems = []
        for kind in ("shm", "msg", "sem"):
            try:
                with open(f"/proc/sysvipc/{kind}") as handle:
                    if len(handle.readlines()) > 1:
                        problems.append(f"System V {kind} objects exist")
            except OSError:
                continue
        with contextlib.suppress(OSError):
            if os.listdir("/dev/mqueue"):
                problems.append("POSIX message queues exist")
        return problems

    def open_descriptors(self):
        spare_fds = {control.fileno() for _, control in self.spares.values()}
        return sorted(int(fd) for fd in os.listdir("/proc/self/fd") if int(fd) not in spare_fds)


class Watch:
    """The pipes of one request, read and written until the watched process exits or time runs out."""

    def __init__(self, request, pipes, stdout, stderr, verdicts=None, judge_errors=None):
        self.pipes = pipes
        self.timeout = float(request.get("timeout", 10.0))
        self.cap = int(request.get("max_output", 1 << 20))
        self.streams = {stdout: bytearray(), stderr: bytearray()}
        self.stdout, self.stderr = stdout, stderr
        self.truncated = {stdout: False, stderr: False}
        self.verdicts, self.judge_errors = verdicts, judge_errors
        self.results, self.errors = bytearray(), bytearray()
        self.readers = {fd for fd in (stdout, stderr, verdicts, judge_errors) if fd is not None}
        self.writers = {}
        self.killed_for = None
        self.done = False
        self.found = []
        self.oom_before = oom_kills()
        self.started = time.monotonic()
        self.duration = 0.0

    def feed(self, fd, data):
        if data:
            self.writers[fd] = data
        else:
            self.pipes.close_ends(fd)

    def until_exit(self, runner, pid):
        """Move data until ``pid`` exits (plus a short drain), the time limit, or the output cap."""
        deadline = self.started + self.timeout
        exited_at = None
        while self.readers or self.writers:
            now = time.monotonic()
            if exited_at is None and runner.poll(pid) is not None:
                exited_at = now
            if exited_at is not None and now - exited_at > DRAIN_AFTER_EXIT:
                break
            if now >= deadline:
                self.killed_for = "timeout"
                break
            wait = min(deadline - now, 0.05 if exited_at is None else DRAIN_AFTER_EXIT)
            watched = [*self.readers, runner.zygote] if exited_at is None else list(self.readers)
            ready_read, ready_write, _ = select.select(watched, list(self.writers), [], wait)
            for fd in ready_write:
                self.write(fd)
            for fd in ready_read:
                if fd is runner.zygote:
                    runner.pump()
                else:
                    self.read(fd)
            if self.killed_for:
                break
        while not self.killed_for and exited_at is None:  # the pipes closed first: wait for the exit itself
            if runner.poll(pid) is not None:
                break
            if time.monotonic() >= deadline:
                self.killed_for = "timeout"
                break
            select.select([runner.zygote], [], [], max(0.0, deadline - time.monotonic()))
        self.duration = time.monotonic() - self.started

    def write(self, fd):
        data = self.writers[fd]
        try:
            written = os.write(fd, data[:READ_CHUNK])
        except OSError:
            written, data = 0, b""
        data = data[written:]
        if data:
            self.writers[fd] = data
        else:
            del self.writers[fd]
            self.pipes.close_ends(fd)

    def read(self, fd):
        chunk = os.read(fd, READ_CHUNK)
        if not chunk:
            self.readers.discard(fd)
            return
        if fd == self.verdicts:
            self.results += chunk[: max(0, RESULT_CAP - len(self.results))]
            return
        if fd == self.judge_errors:
            self.errors += chunk[: max(0, JUDGE_ERRORS_CAP - len(self.errors))]
            return
        room = self.cap - len(self.streams[fd])
        self.streams[fd] += chunk[: max(room, 0)]
        if len(chunk) > room:
            self.truncated[fd] = True
            self.killed_for = "output_limit"

    def close(self):
        """After the processes are stopped: take what is left in the pipes, parse the verdicts, close everything."""
        if self.verdicts is not None:
            self.results += drain(self.verdicts, RESULT_CAP - len(self.results))
            self.found = self.verdict_lines()
        if self.judge_errors is not None:
            self.errors += drain(self.judge_errors, JUDGE_ERRORS_CAP - len(self.errors))
        self.writers = {}  # the pipes close with the request

    def judge_errors_text(self):
        return bytes(self.errors).decode("utf-8", "replace")

    def verdict_lines(self):
        found = []
        for line in bytes(self.results).decode("utf-8", "replace").splitlines():
            try:
                verdict = json.loads(line)
            except ValueError:
                continue
            if type(verdict) is dict and verdict.get("done") is True:
                self.done = True
            elif type(verdict) is dict:
                found.append(verdict)
        return found

    def response(self, returncode, killed, judge_failure):
        """The response line: status, exit code (None when the runner stopped the program), output, verdicts."""
        results = self.found if self.verdicts is not None else None
        if killed:
            returncode = None
        if self.killed_for:
            status = self.killed_for
        elif oom_kills() > self.oom_before or returncode == -signal.SIGKILL:
            status = "oom"  # SIGKILL that the runner did not send: the kernel's OOM killer
        elif returncode == -signal.SIGXFSZ:
            status = "output_limit"  # a file grew past the file-size limit
        elif self.verdicts is not None:
            status = "ok" if self.done else "runtime_error"
        else:
            status = "ok" if returncode == 0 else "runtime_error"
        if judge_failure is not None and status not in ("timeout", "oom", "output_limit"):
            return {"status": "sandbox_error", "message": judge_failure}
        return {
            "status": status,
            "exit_code": returncode,
            "stdout": bytes(self.streams[self.stdout]).decode("utf-8", "replace"),
            "stderr": bytes(self.streams[self.stderr]).decode("utf-8", "replace"),
            "stdout_truncated": self.truncated[self.stdout],
            "stderr_truncated": self.truncated[self.stderr],
            "duration": self.duration,
            "results": results,
        }


class Pipes:
    """The pipes of one request; whatever is still open when the block ends is closed."""

    def __init__(self):
        self.open = set()

    def make(self, count):
        pipes = [os.pipe() for _ in range(count)]
        for pipe in pipes:
            self.open.update(pipe)
        return pipes

    def close_ends(self, *fds):
        close(*fds)
        self.open.difference_update(fds)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        close(*self.open)
        self.open.clear()


def cpu_seconds(request):
    return int(float(request.get("timeout", 10.0))) + 1


def work_signature():
    """Extended attributes, owner, mode, modification and change times of /work, and its tmpfs's used inodes
    and blocks."""
    info = os.stat(WORK)
    usage = os.statvfs(WORK)
    try:
        attributes = tuple(sorted(os.listxattr(WORK)))
    except OSError:
        attributes = ()
    return (
        attributes,
        info.st_uid,
        info.st_gid,
        info.st_mode,
        info.st_mtime_ns,
        info.st_ctime_ns,
        usage.f_files - usage.f_ffree,
        usage.f_blocks - usage.f_bfree,
    )


def receive_before(sock, deadline):
    sock.settimeout(max(0.001, deadline - time.monotonic()))
    try:
        return zygote.receive(sock)
    finally:
        sock.settimeout(None)


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


def close(*fds):
    for fd in fds:
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)


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


def send(message):
    sys.stdout.buffer.write(json.dumps(message).encode() + b"\n")
    sys.stdout.buffer.flush()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--program-uid", type=int, required=True)
    parser.add_argument("--judge-uid", type=int, required=True)
    args = parser.parse_args()
    for number in IGNORED_SIGNALS:
        signal.signal(number, signal.SIG_IGN)
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    runner = Runner(args.program_uid, args.judge_uid)
    send({"ready": True, "pid": os.getpid(), "python": sys.version.split()[0]})
    for line in sys.stdin.buffer:
        send(runner.answer(line))
        del line
        send(runner.settle())
        runner.prepare()


if __name__ == "__main__":
    main()
