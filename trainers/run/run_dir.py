"""A run directory belongs to one run: what may change on resume, the lock, and starting over.

A training run writes its checkpoints, metrics, TensorBoard events, cold-start
and final policies into ``output_dir``. Three rules keep tomorrow's run the one
started today:

- **Resume only the same run.** Each checkpoint records the config it was
  saved under; resuming with a config that differs in a field that shapes the
  learning problem (the env and its options, the model, the algorithm and its
  numbers) is refused, naming the fields (``config_differences``). Fields
  outside the problem may change (``RESUMABLE_FIELDS``: the number of steps,
  logging, evaluation and checkpoint frequency, the device) and are recorded.
- **One run per directory at a time.** ``RunLock`` holds ``output_dir/run.lock``
  (the owner's host and process id) while a run is live; a lock left by a
  process that no longer exists is taken over, with a note.
- **Starting over is explicit.** ``clear_run`` removes what an earlier run left
  (``overwrite=True``).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = [
    "LOCK_FILE",
    "RESUMABLE_FIELDS",
    "RUN_ARTIFACTS",
    "RunLock",
    "RunLockedError",
    "clear_run",
    "config_differences",
    "resumable_changes",
]

LOCK_FILE = "run.lock"
"""The lock's file name inside the run directory."""

RESUMABLE_FIELDS = frozenset(
    {
        "steps",
        "eval_every",
        "eval_prompts",
        "pass_k",
        "save_every",
        "keep_checkpoints",
        "resume",
        "overwrite",
        "tensorboard",
        "progress",
        "output_dir",
        "device",
        "imports",
    }
)
"""Config fields that may differ between a checkpoint and the run resuming it: they do not change what is learned."""

RUN_ARTIFACTS = ("checkpoints", "metrics.jsonl", "tensorboard", "final", "sft", "curves.png", "resumes.jsonl")
"""What a run writes into its directory, and ``clear_run`` removes."""


class RunLockedError(RuntimeError):
    """Another live process holds the run directory."""


def config_differences(saved: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The fields that shape the learning problem and differ: ``name -> (saved value, current value)``.

    Args:
        saved: the config a checkpoint was saved under (``model_dump(mode="json")``).
        current: the config of the run that would resume it, dumped the same way.

    Returns:
        Differing fields outside ``RESUMABLE_FIELDS``, in sorted order. Only fields both sides have
        are compared: one newer than the checkpoint took its default then, and one the config has
        since lost (renamed, as ``loss_aggregation`` to ``loss_type``) cannot be given now.
    """
    names = sorted((set(saved) & set(current)) - RESUMABLE_FIELDS)
    return {name: (saved[name], current[name]) for name in names if saved[name] != current[name]}


def resumable_changes(saved: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The ``RESUMABLE_FIELDS`` that differ (``name -> (saved, current)``): allowed, and worth recording."""
    return {
        name: (saved.get(name), current.get(name))
        for name in sorted(RESUMABLE_FIELDS)
        if name in saved and saved.get(name) != current.get(name)
    }


def clear_run(run_dir: Path) -> list[str]:
    """Remove what an earlier run left in ``run_dir`` (``RUN_ARTIFACTS``, and TRL's ``checkpoint-*``).

    Returns the names removed.

    Other files (the user's own) are left alone.
    """
    removed = []
    trl_checkpoints = sorted(p.name for p in Path(run_dir).glob("checkpoint-*") if p.is_dir())  # TRL's layout
    for name in [*RUN_ARTIFACTS, *trl_checkpoints]:
        path = Path(run_dir) / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
        else:
            continue
        removed.append(name)
    return removed


class RunLock:
    """``run_dir/run.lock`` held while a run is live; re-entrant within one process.

    ``acquire`` creates the file with the owner's host and process id (atomically, ``O_EXCL``). A lock
    of another process on this host that is still alive is refused with ``RunLockedError``; one whose
    process is gone is taken over, with a note on stderr. A lock written on another host is refused
    too (its process cannot be checked from here): remove the file by hand once that run is over.
    ``release`` removes the file if this process holds it.
    """

    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / LOCK_FILE
        self.owner = {"host": socket.gethostname(), "pid": os.getpid()}
        self.held = False

    def acquire(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(3):
            try:
                descriptor = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._holder()
                if holder == self.owner:  # this process already holds it (another trainer object)
                    return self
                if holder is not None and not self._is_stale(holder):
                    raise RunLockedError(
                        f"{self.path.parent} is in use by process {holder.get('pid')} on {holder.get('host')}: "
                        "one run per output_dir at a time; choose another output_dir, or wait for that run to end"
                    ) from None
                print(f"rlvr: taking over {self.path} from a process that no longer runs ({holder})", file=sys.stderr)
                self.path.unlink(missing_ok=True)
                continue
            with os.fdopen(descriptor, "w") as file:
                json.dump(self.owner, file)
            self.held = True
            return self
        raise RunLockedError(f"could not take {self.path}: other processes keep taking it")

    def release(self) -> None:
        if self.held and self._holder() == self.owner:
            self.path.unlink(missing_ok=True)
        self.held = False

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.release()

    def _holder(self) -> dict[str, Any] | None:
        try:
            holder = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None  # unreadable or half-written: treated as stale
        return holder if isinstance(holder, dict) else None

    def _is_stale(self, holder: dict[str, Any]) -> bool:
        if holder.get("host") != self.owner["host"]:
            return False
        pid = holder.get("pid")
        if not isinstance(pid, int) or pid <= 0:
            return True
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False
