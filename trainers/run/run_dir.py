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

``run.json`` says what the run is (``write_run_record``: the trainer, its whole
config, when it started) for ``rlvr runs`` and for resuming TRL's checkpoints,
which carry no config of ours; ``run_status`` tells a finished run from a live
or stopped one.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = [
    "LOCK_FILE",
    "RESUMABLE_FIELDS",
    "RUN_ARTIFACTS",
    "RUN_FILE",
    "RunLock",
    "RunLockedError",
    "clear_run",
    "config_differences",
    "read_run_record",
    "record_resume",
    "resumable_changes",
    "resume_conflict",
    "run_status",
    "write_run_record",
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

RUN_FILE = "run.json"
"""What the run is (trainer, config, start time), inside the run directory."""

RUN_ARTIFACTS = (
    "checkpoints",
    "metrics.jsonl",
    "tensorboard",
    "final",
    "sft",
    "curves.png",
    "resumes.jsonl",
    RUN_FILE,
)
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


def resume_conflict(
    run_dir: Path, saved_trainer: str, trainer: str, saved: Mapping[str, Any], current: Mapping[str, Any]
) -> str | None:
    """Why a run of ``trainer`` with config ``current`` may not resume ``run_dir``'s checkpoint, or None.

    The checkpoint was saved by ``saved_trainer`` under config ``saved``; another trainer, or
    a field outside ``RESUMABLE_FIELDS`` that differs (``config_differences``), is a conflict.
    The message lists the differing fields and the three ways on.
    """
    if saved_trainer != trainer:
        return (
            f"output_dir {run_dir} holds checkpoints of the {saved_trainer} trainer, not {trainer}: "
            "choose another output_dir, or set resume=false to start over there"
        )
    if differences := config_differences(saved, current):
        listed = "; ".join(f"{name}: {old!r} there, {new!r} here" for name, (old, new) in differences.items())
        return (
            f"output_dir {run_dir} holds a run saved with other settings ({listed}): resume with the "
            "same settings, choose another output_dir, set resume=false to start over there, or "
            "overwrite=true to delete it first"
        )
    return None


def resumable_changes(saved: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The ``RESUMABLE_FIELDS`` that differ (``name -> (saved, current)``): allowed, and worth recording."""
    return {
        name: (saved.get(name), current.get(name))
        for name in sorted(RESUMABLE_FIELDS)
        if name in saved and saved.get(name) != current.get(name)
    }


def record_resume(run_dir: Path, step: int, changes: Mapping[str, tuple[Any, Any]]) -> None:
    """Append the allowed changes a resume made (``resumable_changes``) to ``run_dir/resumes.jsonl``."""
    with open(Path(run_dir) / "resumes.jsonl", "a", encoding="utf-8") as file:
        file.write(json.dumps({"step": int(step), "changed": dict(changes)}) + "\n")


def write_run_record(run_dir: Path, trainer: str, config: Mapping[str, Any], *, resumed: bool) -> None:
    """Write ``run_dir/run.json``: ``{"trainer", "config", "started", "updated"}`` (times in Unix seconds).

    Resumed, ``started`` is kept from the earlier record of the run; ``config`` is always the
    current one, resumable changes included. Written atomically.
    """
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    path = Path(run_dir) / RUN_FILE
    earlier = (read_run_record(run_dir) or {}) if resumed else {}
    now = time.time()
    record = {"trainer": trainer, "config": dict(config), "started": earlier.get("started", now), "updated": now}
    tmp = path.with_name(f".{RUN_FILE}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def read_run_record(run_dir: Path) -> dict[str, Any] | None:
    """What ``run_dir`` holds a run of: ``run.json``, else the newest checkpoint's record, else None.

    Returns ``{"trainer": str, "config": dict, ...}``; a run written before ``run.json`` existed
    is read from ``checkpoints/step-*/meta.json`` (its ``trainer`` and ``config``).
    """
    path = Path(run_dir) / RUN_FILE
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(record, dict) and isinstance(record.get("config"), dict):
            return record
    except (OSError, ValueError):
        pass
    for meta in sorted(Path(run_dir).glob("checkpoints/step-*/meta.json"), reverse=True):
        try:
            extra = json.loads(meta.read_text(encoding="utf-8")).get("extra", {})
        except (OSError, ValueError):
            continue
        if isinstance(extra.get("config"), dict):
            return {"trainer": extra.get("trainer", "grpo"), "config": extra["config"]}
    return None


def run_status(run_dir: Path, last_step: int | None, steps: int | None) -> str:
    """``"running"`` (a live process holds the lock), ``"finished"`` (the final policy is saved and
    ``last_step`` reached ``steps``) or ``"stopped"`` (anything else: interrupted, crashed, not begun)."""
    if RunLock(run_dir).live_holder() is not None:
        return "running"
    finished = (Path(run_dir) / "final" / "config.json").exists()
    if finished and last_step is not None and (steps is None or last_step >= steps):
        return "finished"
    return "stopped"


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

    def live_holder(self) -> dict[str, Any] | None:
        """The host and process id of the live process holding the lock, or None (no lock, or a stale one)."""
        holder = self._holder()
        return holder if holder is not None and not self._is_stale(holder) else None

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
