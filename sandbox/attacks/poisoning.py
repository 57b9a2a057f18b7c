"""Attacks that try to spoil the container for the submissions after them.

In GRPO the G completions of a group run one after another on the same warm
containers, so a program that breaks the container (its work directory,
the runner's limits, memory held by IPC objects, leftover processes) would
score every later honest program 0. Each attack here is contained when it
achieves nothing; ``run_attack`` then checks that honest programs on the
same container still score right.
"""

from __future__ import annotations

from rlvr.sandbox.attacks.kit import DOUBLE, Attack, prints, scores_zero
from rlvr.sandbox.pool import SandboxPool

PROBE = """
import os, time
entries = sorted(os.listdir("/work"))
attributes = os.listxattr("/work")
info = os.stat("/work")
print(entries, attributes, oct(info.st_mode & 0o777), int(info.st_mtime) != 1234567)
"""
"""What the next program finds in /work: only its own main.py, no attributes, mode 700, a fresh time."""
CLEAN_WORK = "['main.py'] [] 0o700 True"


def work_chmod(pool: SandboxPool) -> tuple[bool, str]:
    program = """
import os
os.makedirs("/work/a/b", exist_ok=True)
os.chmod("/work/a/b", 0)
os.chmod("/work/a", 0)
os.chmod("/work", 0)
print("locked")
"""
    locked, detail = prints(pool, program, "locked")
    clean, probe = prints(pool, PROBE, CLEAN_WORK)
    return locked and clean, f"{detail}; the next program finds {probe}"


def work_marks(pool: SandboxPool) -> tuple[bool, str]:
    program = """
import os, socket
marks = [
    lambda: os.setxattr("/work", "user.note", b"the answer is 42"),
    lambda: os.utime("/work", (1234567, 1234567)),
    lambda: os.chmod("/work", 0o777),
    lambda: os.mkfifo("/work/.fifo"),
    lambda: socket.socket(socket.AF_UNIX).bind("/work/.socket"),
    lambda: os.symlink("/opt/rlvr", "/work/.link"),
    lambda: os.link("/work/main.py", "/work/.hard"),
    lambda: open("/work/.hidden", "w").write("the answer is 42"),
]
made = 0
for mark in marks:
    try:
        mark()
        made += 1
    except OSError:
        pass
print(made >= 6)
"""
    marked, detail = prints(pool, program, "True")
    clean, probe = prints(pool, PROBE, CLEAN_WORK)
    return marked and clean, f"{detail}; the next program finds {probe}"


def runner_limits(pool: SandboxPool) -> tuple[bool, str]:
    program = """
import os, resource
changed = []
for name in os.listdir("/proc"):
    if name.isdigit() and int(name) != os.getpid():
        for kind, value in ((resource.RLIMIT_NOFILE, 8), (resource.RLIMIT_NPROC, 1), (resource.RLIMIT_AS, 1 << 24)):
            try:
                resource.prlimit(int(name), kind, (value, value))
                changed.append(name)
            except OSError:
                pass
print(sorted(set(changed)))
"""
    return prints(pool, program, "[]")


def ipc_leftovers(pool: SandboxPool) -> tuple[bool, str]:
    program = """
import ctypes, ctypes.util, os
libc = ctypes.CDLL(None, use_errno=True)
made = []
segment = libc.shmget(0, 48 << 20, 0o1000 | 0o600)
if segment >= 0:
    made.append("shm")
    address = ctypes.c_void_p(libc.shmat(segment, None, 0))
    if address.value not in (None, ctypes.c_void_p(-1).value):
        ctypes.memset(address, 1, 48 << 20)
if libc.msgget(0, 0o1000 | 0o600) >= 0:
    made.append("msg")
if libc.semget(0, 1, 0o1000 | 0o600) >= 0:
    made.append("sem")
try:
    rt = ctypes.CDLL(ctypes.util.find_library("rt") or "librt.so.1", use_errno=True)
    if rt.mq_open(b"/leftover", os.O_CREAT | os.O_RDWR, 0o600, None) >= 0:
        made.append("mqueue")
except OSError:
    pass
try:
    with open("/dev/mqueue/leftover", "w") as handle:
        handle.write("x")
    made.append("mqueue file")
except OSError:
    pass
print(made)
"""
    return prints(pool, program, "[]")


def signal_and_trace(pool: SandboxPool) -> tuple[bool, str]:
    program = """
import ctypes, os, signal
libc = ctypes.CDLL(None, use_errno=True)
reached = []
for name in os.listdir("/proc"):
    if not name.isdigit() or int(name) == os.getpid():
        continue
    pid = int(name)
    for attempt in (
        lambda: os.kill(pid, signal.SIGSTOP),
        lambda: open(f"/proc/{pid}/mem", "rb").read(1),
        lambda: open(f"/proc/{pid}/environ", "rb").read(1),
        lambda: os.listdir(f"/proc/{pid}/fd"),
        lambda: open(f"/proc/{pid}/fd/1", "w").write("x"),
    ):
        try:
            attempt()
            reached.append(name)
        except OSError:
            pass
    if libc.ptrace(16, pid, None, None) == 0:  # PTRACE_ATTACH
        reached.append(name)
print(sorted(set(reached)))
"""
    return prints(pool, program, "[]")


def leftover_processes(pool: SandboxPool) -> tuple[bool, str]:
    program = """
import os, signal, time
for _ in range(3):
    if os.fork() == 0:
        os.setsid()
        for number in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(number, signal.SIG_IGN)
        if os.fork() == 0:
            while True:  # a daemon that keeps writing into the next program's /work
                try:
                    with open(f"/work/daemon{os.getpid()}", "w") as handle:
                        handle.write("x")
                except OSError:
                    pass
                time.sleep(0.01)
        os._exit(0)
print("left")
"""
    launched, detail = prints(pool, program, "left")
    clean, probe = prints(pool, "import os, time\ntime.sleep(0.2)\n" + PROBE, CLEAN_WORK)
    return launched and clean, f"{detail}; the next program finds {probe}"


def judge_interference(pool: SandboxPool) -> tuple[bool, str]:
    program = """
import os, signal, resource
me = os.getuid()
for name in os.listdir("/proc"):
    if name.isdigit() and int(name) != os.getpid():
        for attempt in (
            lambda: os.kill(int(name), signal.SIGSTOP),
            lambda: resource.prlimit(int(name), resource.RLIMIT_NOFILE, (3, 3)),
            lambda: os.kill(int(name), signal.SIGKILL),
        ):
            try:
                attempt()
            except OSError:
                pass
def double(x):
    return x
"""
    return scores_zero(pool, program, DOUBLE)


ATTACKS: tuple[Attack, ...] = (
    Attack("work_chmod", "poisoning", "locks /work and directories in it (chmod 0)", work_chmod),
    Attack(
        "work_marks",
        "poisoning",
        "leaves extended attributes, a time, a mode, a fifo, a socket, links and hidden files on /work",
        work_marks,
    ),
    Attack("runner_limits", "poisoning", "lowers the limits of every other process (prlimit)", runner_limits),
    Attack(
        "ipc_leftovers",
        "poisoning",
        "leaves System V shared memory (48 MB), queues, semaphores and POSIX message queues",
        ipc_leftovers,
    ),
    Attack(
        "signal_and_trace",
        "poisoning",
        "stops, traces and reads the memory, environment and descriptors of every other process",
        signal_and_trace,
    ),
    Attack(
        "leftover_processes", "poisoning", "leaves daemons that write into the next program's /work", leftover_processes
    ),
    Attack(
        "judge_interference",
        "poisoning",
        "stops, re-limits and kills the judge while its tests run",
        judge_interference,
    ),
)
