"""sandbox/container/zygote.py: the cleaner empties any tree without following links, and frames carry descriptors.

The cleaner runs here as the test's user on a temporary folder, in a child
process of its own (it changes its working directory); in a container it
runs as the program's user on /work (tests/test_sandbox_attacks.py).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
from pathlib import Path

from rlvr.sandbox import container

CONTAINER = str(Path(container.__file__).parent)


def clean(top: Path, mode: int = 0o700) -> None:
    code = f"import sys; sys.path.insert(0, {CONTAINER!r}); import zygote; sys.exit(zygote.clean(sys.argv[1], {mode}))"
    subprocess.run([sys.executable, "-c", code, str(top)], check=True, timeout=60)


DEEP = """
import os, sys
os.chdir(sys.argv[1])
for _ in range(3000):  # deeper than Python's recursion limit, and than PATH_MAX allows in one path
    os.mkdir("d")
    os.chdir("d")
open("leaf", "w").close()
"""


def test_the_cleaner_empties_a_tree_of_any_depth_and_width(tmp_path):
    top = tmp_path / "work"
    top.mkdir()
    try:
        subprocess.run([sys.executable, "-c", DEEP, str(top)], check=True, timeout=60)
        for index in range(2000):
            (top / f"wide{index}").mkdir()
        clean(top)
        assert os.listdir(top) == []
    finally:  # should the cleaner fail, pytest's own clean-up (recursive) must not meet the deep tree
        subprocess.run(["rm", "-rf", str(top)], check=True, timeout=60)


def test_the_cleaner_removes_links_without_following_them(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    top = tmp_path / "work"
    (top / "dir").mkdir(parents=True)
    (top / "to-outside").symlink_to(outside)
    (top / "dir" / "to-file").symlink_to(outside / "keep.txt")
    (top / "loop").symlink_to(top / "loop")
    os.mkfifo(top / "fifo")
    os.link(outside / "keep.txt", top / "hard")
    clean(top)
    assert os.listdir(top) == [] and (outside / "keep.txt").read_text() == "keep"


def test_the_cleaner_resets_the_mode_times_and_attributes_of_the_top(tmp_path):
    top = tmp_path / "work"
    top.mkdir()
    (top / "locked").mkdir()
    (top / "locked" / "file").write_text("x")
    os.chmod(top / "locked" / "file", 0)
    os.chmod(top / "locked", 0)
    os.utime(top, (1234567, 1234567))
    with contextlib.suppress(OSError):  # a file system without user attributes: nothing to remove
        os.setxattr(top, "user.note", b"answer")
    os.chmod(top, 0o777)
    clean(top, 0o700)
    info = os.stat(top)
    assert os.listdir(top) == [] and oct(info.st_mode & 0o777) == "0o700" and info.st_mtime == 0
    assert os.listxattr(top) == []


def test_frames_carry_descriptors_and_never_run_into_each_other():
    sys.path.insert(0, CONTAINER)
    try:
        import zygote
    finally:
        sys.path.remove(CONTAINER)
    ours, theirs = socket.socketpair()
    read_end, write_end = os.pipe()
    zygote.send(ours, {"role": "candidate"}, [write_end])
    zygote.send(ours, {"exited": 7, "status": 0})
    zygote.send(ours, {"big": "x" * 200_000})
    first, fds = zygote.receive(theirs)
    second, none = zygote.receive(theirs)
    third, _ = zygote.receive(theirs)
    assert first == {"role": "candidate"} and len(fds) == 1 and none == []
    assert second == {"exited": 7, "status": 0} and len(third["big"]) == 200_000
    os.write(fds[0], b"through the passed descriptor")
    assert os.read(read_end, 100) == b"through the passed descriptor"
    ours.close()
    assert zygote.receive(theirs) == (None, [])
    for fd in (read_end, write_end, fds[0]):
        os.close(fd)
    theirs.close()
