"""Attacks on cleaning up: work directories that are slow, deep, locked or treacherous to empty.

/work holds at most ``max_files`` entries (its tmpfs's inodes), so emptying
it is bounded; the cleaner walks it iteratively (any depth), as the
program's user (a link gives it no more than the program had), after the
program's time is over. Each attack is contained when the step took at
most the time limit plus ``STEP_SLACK``, the next program finds /work empty,
and the runner's files are untouched.
"""

from __future__ import annotations

from rlvr.sandbox.attacks.kit import Attack, prints, timed_run
from rlvr.sandbox.pool import SandboxPool

NEXT = """
import hashlib, os
print(os.listdir("/work"), len(open("/opt/rlvr/runner.py").read()) > 1000, os.access("/opt/rlvr/judge.py", os.R_OK))
"""
CLEAN = "['main.py'] True True"


def then_clean(pool: SandboxPool, program: str, timeout: float = 3.0) -> tuple[bool, str]:
    """Run ``program`` (within the step bound), then check the next program finds /work empty."""
    result, in_time = timed_run(pool, program, timeout=timeout)
    clean, detail = prints(pool, NEXT, CLEAN)
    head = (
        f"{result.status.value} in {result.duration:.2f} s (step bound kept: {in_time}): {result.stdout.strip()[:60]!r}"
    )
    return in_time and clean, f"{head}; the next program finds {detail}"


def many_files(pool: SandboxPool) -> tuple[bool, str]:
    program = """
made = 0
try:
    while True:
        open(f"/work/f{made}", "w").close()
        made += 1
except OSError as error:
    print(made, error.strerror)
"""
    return then_clean(pool, program)


def deep_directories(pool: SandboxPool) -> tuple[bool, str]:
    program = """
import os
depth = 0
try:
    for depth in range(1, 3001):
        os.mkdir("d")
        os.chdir("d")
        if depth % 500 == 0:
            open("file", "w").close()
except OSError as error:
    print(depth, error.strerror)
os.chdir("/work")
os.chmod("/work/d", 0)
print(depth)
"""
    return then_clean(pool, program)


def wide_directories(pool: SandboxPool) -> tuple[bool, str]:
    program = """
import os
made = 0
try:
    while True:
        os.mkdir(f"/work/d{made}")
        os.chmod(f"/work/d{made}", 0)
        made += 1
except OSError as error:
    print(made, error.strerror)
"""
    return then_clean(pool, program)


def locked_tree(pool: SandboxPool) -> tuple[bool, str]:
    program = """
import os
for top in range(20):
    path = f"/work/t{top}"
    os.makedirs(f"{path}/a/b/c")
    for depth_path in (f"{path}/a/b/c", f"{path}/a/b", f"{path}/a", path):
        open(f"{depth_path}/x", "w").close()
        os.chmod(f"{depth_path}/x", 0)
        os.chmod(depth_path, 0o100 if top % 2 else 0)
print("locked")
"""
    return then_clean(pool, program)


def link_traps(pool: SandboxPool) -> tuple[bool, str]:
    program = """
import os
links = {
    "/work/runner": "/opt/rlvr/runner.py",
    "/work/rlvr": "/opt/rlvr",
    "/work/root": "/",
    "/work/init": "/proc/1/root",
    "/work/up": "..",
    "/work/loop": "/work/loop",
}
for link, target in links.items():
    os.symlink(target, link)
os.makedirs("/work/dir")
os.symlink("/opt/rlvr", "/work/dir/inner")
os.link("/work/main.py", "/work/dir/hard")
os.mkfifo("/work/dir/fifo")
print(sorted(os.listdir("/work")))
"""
    return then_clean(pool, program)


def racing_writer(pool: SandboxPool) -> tuple[bool, str]:
    program = """
import os
for _ in range(4):
    if os.fork() == 0:
        os.setsid()
        count = 0
        while True:  # keeps adding files while /work is being emptied
            try:
                os.makedirs(f"/work/r{os.getpid()}/{count}")
                count += 1
            except OSError:
                count = 0
print("racing")
"""
    return then_clean(pool, program)


ATTACKS: tuple[Attack, ...] = (
    Attack("many_files", "cleanup", "creates empty files as fast as it can until refused", many_files),
    Attack("deep_directories", "cleanup", "nests 3,000 directories, the top one locked", deep_directories),
    Attack("wide_directories", "cleanup", "creates locked directories until refused", wide_directories),
    Attack("locked_tree", "cleanup", "locks files and directories at every depth (chmod 0)", locked_tree),
    Attack("link_traps", "cleanup", "leaves links to the runner, /, .., itself; hard links; a fifo", link_traps),
    Attack("racing_writer", "cleanup", "leaves processes that keep writing while /work is cleaned", racing_writer),
)
