"""Attacks on the limits: time, processes, threads, memory, output, network, the file system, PID 1."""

from __future__ import annotations

from rlvr.sandbox.attacks.kit import Attack, prints, status_is, timed_run
from rlvr.sandbox.pool import SandboxPool
from rlvr.sandbox.result import ExecStatus

OWN_PROCESSES = (
    "import os\nprint(sum(os.stat(f'/proc/{p}').st_uid == os.getuid() for p in os.listdir('/proc') if p.isdigit()))"
)
"""A program that prints how many processes its user has: 1 (itself) when nothing was left behind."""


def infinite_loop(pool: SandboxPool) -> tuple[bool, str]:
    return status_is(pool, "while True:\n    pass\n", {ExecStatus.TIMEOUT}, timeout=1.0)


def fork_bomb(pool: SandboxPool) -> tuple[bool, str]:
    program = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    contained, detail = status_is(pool, program, {ExecStatus.TIMEOUT}, timeout=1.0)
    alone, census = prints(pool, OWN_PROCESSES, "1")
    return contained and alone, f"{detail}; processes of the program's user at the next run: {census}"


def thread_bomb(pool: SandboxPool) -> tuple[bool, str]:
    program = """
import threading, time
started = 0
try:
    while True:
        threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
        started += 1
except RuntimeError:
    pass
print(started)
"""
    result, in_time = timed_run(pool, program, timeout=5.0)
    started = int(result.stdout) if result.stdout.strip().isdigit() else -1
    contained = result.ok and 0 <= started < pool.config.max_processes and in_time
    return contained, f"{result.status.value}: {started} threads started (limit {pool.config.max_processes} tasks)"


def memory_bomb(pool: SandboxPool) -> tuple[bool, str]:
    program = "hoard = []\nwhile True:\n    hoard.append(bytearray(16 << 20))\n"
    return status_is(pool, program, {ExecStatus.OOM}, timeout=10.0)


def output_flood(pool: SandboxPool) -> tuple[bool, str]:
    program = "import sys\nline = 'x' * 1023 + '\\n'\nfor _ in range(100 * 1024):\n    sys.stdout.write(line)\n"
    result, in_time = timed_run(pool, program, timeout=10.0)
    cap = pool.config.max_output_bytes
    contained = result.status is ExecStatus.OUTPUT_LIMIT and result.stdout_truncated and len(result.stdout) <= cap
    return contained and in_time, f"status {result.status.value}, kept {len(result.stdout):,} bytes (cap {cap:,})"


def network(pool: SandboxPool) -> tuple[bool, str]:
    program = """
import socket
reached = []
for host, port in (("1.1.1.1", 53), ("8.8.8.8", 443), ("172.17.0.1", 2375), ("deb.debian.org", 80)):
    try:
        socket.create_connection((host, port), timeout=1).close()
        reached.append(host)
    except OSError:
        pass
interfaces = sorted(line.split(":")[0].strip() for line in open("/proc/net/dev").readlines()[2:])
print(",".join(reached) or "none", ",".join(interfaces))
"""
    return prints(pool, program, "none lo")


def root_writes(pool: SandboxPool) -> tuple[bool, str]:
    program = """
import glob
written = []
targets = ["/etc/passwd", "/usr/bin/python3", "/tmp/x", "/x", "/dev/shm/x", "/run/x", *glob.glob("/opt/rlvr/*")]
for path in targets:
    try:
        with open(path, "a") as handle:
            handle.write("owned")
        written.append(path)
    except OSError:
        pass
print(",".join(written) or "none")
"""
    return prints(pool, program, "none")


def tmpfs_fill(pool: SandboxPool) -> tuple[bool, str]:
    program = (
        f"LIMIT = {pool.config.tmpfs_mb << 20}\n"
        + """
import errno
written, error = 0, None
try:
    for index in range(1000):
        with open(f"/work/fill{index}", "wb") as handle:
            for _ in range(8):
                handle.write(b"0" * (1 << 20))
                written += 1 << 20
except OSError as failure:
    error = errno.errorcode.get(failure.errno, failure.errno)
print(error, written <= LIMIT)
"""
    )
    contained, detail = prints(pool, program, "ENOSPC True", timeout=10.0)
    clean, clean_detail = prints(pool, "import os\nprint(os.listdir('/work'))", "['main.py']")
    return contained and clean, f"{detail}; /work at the next program: {clean_detail}"


def orphan(pool: SandboxPool) -> tuple[bool, str]:
    program = """
import os, signal, subprocess, sys
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if os.fork() == 0:
        import time
        time.sleep(600)
    os._exit(0)
print("left")
"""
    launched, detail = prints(pool, program, "left")
    alone, census = prints(pool, OWN_PROCESSES, "1")
    return launched and alone, f"{detail}; processes of the program's user at the next run: {census}"


def kill_everyone(pool: SandboxPool) -> tuple[bool, str]:
    program = """
import os, signal
hit = []
for name in os.listdir("/proc"):
    if name.isdigit() and int(name) != os.getpid():
        for number in (signal.SIGSTOP, signal.SIGKILL, signal.SIGTERM):
            try:
                os.kill(int(name), number)
                hit.append(name)
            except OSError:
                pass
try:
    os.kill(-1, signal.SIGKILL)
except OSError:
    pass
print("still here", sorted(set(hit)))
"""
    return prints(pool, program, "still here []")


ATTACKS: tuple[Attack, ...] = (
    Attack("infinite_loop", "limits", "loops forever", infinite_loop),
    Attack("fork_bomb", "limits", "forks until the process limit, forever", fork_bomb),
    Attack("thread_bomb", "limits", "starts threads until refused", thread_bomb),
    Attack("memory_bomb", "limits", "allocates memory until it is killed", memory_bomb),
    Attack("output_flood", "limits", "writes 100 MB to stdout", output_flood),
    Attack("network", "limits", "connects to the internet, the Docker host and DNS", network),
    Attack("root_writes", "limits", "writes to the root file system, the runner's files, /tmp, /dev/shm", root_writes),
    Attack("tmpfs_fill", "limits", "fills the work directory", tmpfs_fill),
    Attack("orphan", "limits", "leaves children running after it exits, in new sessions", orphan),
    Attack("kill_everyone", "limits", "stops and kills PID 1 and every process it can see", kill_everyone),
)
