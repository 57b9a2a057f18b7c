"""Exact save and resume of a training run: model, optimizer, scheduler, RNG streams and step.

The promise: ``load_checkpoint`` of the checkpoint that ``save_checkpoint(run_dir, k, ...)`` wrote
puts the model, optimizer, scheduler and the process-global random streams (python ``random``,
numpy's global generator, torch CPU and CUDA) back exactly where they were right after that save,
so training on from step k gives bitwise the same parameters as a run that never stopped (same
machine, same library versions, deterministic kernels).

What is not captured, and is the caller's part of the bargain:

- **The data position.** Save at a point where ``step`` says where the data pipeline is: the
  training loop derives batch ``step`` from the step number and the seed (for example
  ``torch.Generator().manual_seed(seed + step)``, or ``Random(seed + i)`` task items), so the
  resumed loop starting at ``step`` draws the same batches. An iterator or a shuffled
  ``DataLoader`` consumed part-way is not saved; anything else the loop needs goes in ``extra``.
- **Generators you own.** A ``torch.Generator``, ``env.np_random`` or a ``random.Random``
  instance is not global state; derive it from the step, or store what it needs in ``extra``.

Layout, one directory per checkpoint under ``run_dir/checkpoints``::

    checkpoints/
        latest                      "step-00000120\\n": the newest complete checkpoint
        step-00000100/
            model.pt                model.state_dict()
            optimizer.pt            optimizer.state_dict()
            scheduler.pt            scheduler.state_dict(); absent when saved with scheduler=None
            rng.pt                  python, numpy, torch CPU and torch CUDA random states
            meta.json               {"format": 1, "step": 100, "extra": {...}, "saved_at": <unix s>, "torch": "2.x"}
        step-00000120/
        .tmp-step-00000140-<hex>/   a save in progress, or one killed; never read, removed by the next save

Every ``.pt`` file is written with ``torch.save`` and read with ``torch.load(weights_only=True)``:
nothing in a checkpoint is unpickled as arbitrary code. The RNG states are stored as tensors,
tuples and numbers for that reason (numpy's key as an int64 tensor). A model, optimizer or
scheduler whose state holds other Python objects (a scheduler lambda that is a callable object
with custom attributes, a module's ``get_extra_state``) fails to load with an ``UnpicklingError``
rather than running its pickle.

Atomicity: a checkpoint is written into a temporary sibling directory, every file and the
directory are fsynced, the directory is renamed to ``step-XXXXXXXX`` (one atomic ``rename``), and
only then is ``latest`` replaced (temp file, fsync, ``os.replace``). A process killed at any
moment, SIGKILL included, leaves ``latest_checkpoint`` naming either the previous checkpoint or the
new one, both complete. Pruning renames a checkpoint out of the ``step-`` namespace before deleting
it, so a half-deleted directory never looks like a checkpoint either. One process (rank 0) writes a
run directory; two writers at once are not supported.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import time
import uuid
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

__all__ = ["CHECKPOINTS_DIR", "Stateful", "latest_checkpoint", "load_checkpoint", "save_checkpoint"]

CHECKPOINTS_DIR = "checkpoints"
"""Subdirectory of the run directory that holds the checkpoints and the ``latest`` pointer."""

FORMAT_VERSION = 1
_LATEST = "latest"
_META = "meta.json"
_STEP_NAME = re.compile(r"step-(\d{8,})")
_TMP_PREFIX = ".tmp-"
_TRASH_PREFIX = ".trash-"


class Stateful(Protocol):
    """Anything with ``state_dict()`` / ``load_state_dict(state)``: an LR scheduler, a GradScaler."""

    def state_dict(self) -> Any: ...

    def load_state_dict(self, state_dict: Any, /) -> Any: ...


def save_checkpoint(
    run_dir: Path,
    step: int,
    *,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Stateful | None,
    extra: Mapping[str, Any] | None = None,
    keep: int = 2,
) -> Path:
    """Write checkpoint ``step`` of the run atomically and make it the latest.

    Args:
        run_dir: the run's directory; checkpoints go to ``run_dir/checkpoints`` (created).
        step: the number of optimizer steps completed, i.e. the step the resumed loop runs next
            (>= 0). The data pipeline position must be a function of it (see the module docstring).
        model: its ``state_dict()`` is saved (tensors keep their device; loading maps to CPU first).
        optimizer: its ``state_dict()`` is saved.
        scheduler: an LR scheduler or any ``Stateful``; None saves no scheduler state.
        extra: JSON-serialisable values to carry across the restart (best reward so far, the
            seed, the config); given back by ``load_checkpoint``.
        keep: how many checkpoints to keep (>= 1). After the save, checkpoints with a higher step
            than ``step`` are deleted (a run resumed from an earlier checkpoint has abandoned
            them), then all but the ``keep`` highest steps.

    Returns:
        The checkpoint directory, ``run_dir/checkpoints/step-{step:08d}``. Saving a step that
        already has a checkpoint replaces it.

    Raises:
        ValueError: ``step < 0`` or ``keep < 1``.
        TypeError: ``extra`` is not JSON-serialisable (raised before anything is written).

    The random states are read before anything else happens and the save draws no random
    numbers, so the streams continue after the save exactly as after a later load.
    """
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    if keep < 1:
        raise ValueError(f"keep must be >= 1, got {keep}")
    rng = _get_rng_state()
    meta_json = _meta_json(step, extra)

    root = Path(run_dir) / CHECKPOINTS_DIR
    root.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(root)
    name = f"step-{step:08d}"
    tmp = root / f"{_TMP_PREFIX}{name}-{uuid.uuid4().hex[:12]}"
    tmp.mkdir()
    _torch_save(tmp / "model.pt", model.state_dict())
    _torch_save(tmp / "optimizer.pt", optimizer.state_dict())
    if scheduler is not None:
        _torch_save(tmp / "scheduler.pt", scheduler.state_dict())
    _torch_save(tmp / "rng.pt", rng)
    return _publish(tmp, root, name, meta_json, step, keep)


def _meta_json(step: int, extra: Mapping[str, Any] | None) -> str:
    """The text of ``meta.json``; ``TypeError`` if ``extra`` is not JSON-serialisable."""
    meta = {
        "format": FORMAT_VERSION,
        "step": int(step),
        "extra": dict(extra or {}),
        "saved_at": time.time(),
        "torch": torch.__version__,
    }
    try:
        return json.dumps(meta, indent=2) + "\n"
    except (TypeError, ValueError) as error:
        raise TypeError(f"extra must be JSON-serialisable: {error}") from error


def _publish(tmp: Path, root: Path, name: str, meta_json: str, step: int, keep: int) -> Path:
    """Finish a checkpoint written into ``tmp``: meta.json last, move it into place, point ``latest`` at it."""
    _write_bytes(tmp / _META, meta_json.encode())  # last: a directory with meta.json is complete
    _fsync_dir(tmp)
    final = root / name
    if final.exists():
        _discard(final)
    os.replace(tmp, final)
    _fsync_dir(root)
    _replace_text(root / _LATEST, name + "\n")
    _prune(root, step, keep)
    return final


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The newest complete checkpoint of the run, or None when it has none.

    Args:
        run_dir: the run's directory (the one given to ``save_checkpoint``); it need not exist.

    Returns:
        The directory named by ``run_dir/checkpoints/latest``. If that file is missing or names
        no complete checkpoint (a save killed while replacing a checkpoint of the same step),
        the complete ``step-*`` directory with the highest step. Temporary directories of
        unfinished saves are never returned.
    """
    root = Path(run_dir) / CHECKPOINTS_DIR
    try:
        name = (root / _LATEST).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        name = ""
    if _STEP_NAME.fullmatch(name) and _is_complete(root / name):
        return root / name
    for _, path in reversed(_step_dirs(root)):
        if _is_complete(path):
            return path
    return None


def load_checkpoint(
    path: Path,
    *,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer | None,
    scheduler: Stateful | None,
) -> dict[str, Any]:
    """Restore a checkpoint in place: model, optimizer, scheduler and the global random states.

    Args:
        path: a checkpoint directory (from ``latest_checkpoint`` or ``save_checkpoint``).
        model: receives the saved ``state_dict`` (strict: the keys and shapes must match).
        optimizer: receives the saved optimizer state; None skips it (evaluating a checkpoint).
        scheduler: receives the saved scheduler state; None skips it.

    Returns:
        ``{"step": int, "extra": dict}``: the step to run next and the ``extra`` given to the save.

    Raises:
        FileNotFoundError: ``path`` is not a complete checkpoint, or a scheduler was given but the
            checkpoint was saved without one.
        ValueError: the checkpoint was written in a format this version does not read.
        pickle.UnpicklingError: a state holds objects that ``torch.load(weights_only=True)``
            refuses (see the module docstring).

    Everything is read from disk before anything is restored, so a missing or unreadable file
    leaves the objects untouched. The CUDA random states are restored when the checkpoint has
    them and the machine has the same number of devices; otherwise a warning says they were not.
    """
    path = Path(path)
    meta_path = path / _META
    if not meta_path.is_file():
        raise FileNotFoundError(f"{path} is not a complete checkpoint (it has no {_META})")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT_VERSION:
        raise ValueError(f"{path}: checkpoint format {meta.get('format')!r}, this version reads {FORMAT_VERSION}")
    model_state = _torch_load(path / "model.pt")
    optimizer_state: Any = _torch_load(path / "optimizer.pt") if optimizer is not None else None
    scheduler_state: Any = None
    if scheduler is not None:
        if not (path / "scheduler.pt").is_file():
            raise FileNotFoundError(f"{path} has no scheduler state: it was saved with scheduler=None")
        scheduler_state = _torch_load(path / "scheduler.pt")
    rng = _torch_load(path / "rng.pt")

    model.load_state_dict(model_state)
    if optimizer is not None:
        optimizer.load_state_dict(optimizer_state)
    if scheduler is not None:
        scheduler.load_state_dict(scheduler_state)
    _set_rng_state(rng)
    return {"step": int(meta["step"]), "extra": meta["extra"]}


# Random states, in a form torch.load(weights_only=True) reads: tensors, tuples, ints, floats, str.


def _get_rng_state() -> dict[str, Any]:
    np_state = np.random.get_state(legacy=False)
    return {
        "python": random.getstate(),
        "numpy": {
            "bit_generator": str(np_state["bit_generator"]),
            "key": torch.from_numpy(np.asarray(np_state["state"]["key"], dtype=np.int64)),
            "pos": int(np_state["state"]["pos"]),
            "has_gauss": int(np_state["has_gauss"]),
            "gauss": float(np_state["gauss"]),
        },
        "torch_cpu": torch.get_rng_state(),
        "torch_cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def _set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np_state = state["numpy"]
    np.random.set_state(
        {
            "bit_generator": np_state["bit_generator"],
            "state": {"key": np_state["key"].numpy().astype(np.uint32), "pos": np_state["pos"]},
            "has_gauss": np_state["has_gauss"],
            "gauss": np_state["gauss"],
        }
    )
    torch.set_rng_state(state["torch_cpu"])
    cuda = state["torch_cuda"]
    if not cuda:
        return
    if torch.cuda.is_available() and torch.cuda.device_count() == len(cuda):
        torch.cuda.set_rng_state_all(cuda)
    else:
        devices = torch.cuda.device_count() if torch.cuda.is_available() else 0
        warnings.warn(
            f"the checkpoint has CUDA random states for {len(cuda)} device(s), this process sees {devices}: "
            "CUDA random states not restored, so CUDA sampling will not repeat the original run",
            stacklevel=3,
        )


# Files and directories.


def _torch_save(path: Path, obj: object) -> None:
    with open(path, "wb") as file:
        torch.save(obj, file)
        file.flush()
        os.fsync(file.fileno())


def _torch_load(path: Path) -> Any:
    return torch.load(path, map_location="cpu", weights_only=True)


def _write_bytes(path: Path, data: bytes) -> None:
    with open(path, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())


def _replace_text(path: Path, text: str) -> None:
    """Atomically replace ``path`` with ``text``: a reader sees the old content or the new, whole."""
    tmp = path.with_name(f"{_TMP_PREFIX}{path.name}-{uuid.uuid4().hex[:12]}")
    _write_bytes(tmp, text.encode())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    """Make a rename or a new entry in ``path`` durable (POSIX; a no-op elsewhere)."""
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _is_complete(path: Path) -> bool:
    return (path / _META).is_file()


def _step_dirs(root: Path) -> list[tuple[int, Path]]:
    """``(step, path)`` of every ``step-*`` directory under ``root``, by increasing step."""
    if not root.is_dir():
        return []
    found = []
    for path in root.iterdir():
        match = _STEP_NAME.fullmatch(path.name)
        if match and path.is_dir():
            found.append((int(match.group(1)), path))
    return sorted(found)


def _discard(path: Path) -> None:
    """Delete a checkpoint directory, first renaming it out of the ``step-`` namespace."""
    trash = path.with_name(f"{_TRASH_PREFIX}{path.name}-{uuid.uuid4().hex[:12]}")
    os.replace(path, trash)
    shutil.rmtree(trash, ignore_errors=True)


def _remove_leftovers(root: Path) -> None:
    """Remove temporary files and directories of saves that were killed (one writer per run)."""
    for path in root.iterdir():
        if path.name.startswith((_TMP_PREFIX, _TRASH_PREFIX)):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def _prune(root: Path, step: int, keep: int) -> None:
    kept = []
    for saved_step, path in _step_dirs(root):
        if saved_step > step:
            _discard(path)
        else:
            kept.append(path)
    for path in kept[:-keep]:
        _discard(path)


# Sharded checkpoints, for models sharded over processes with FSDP.


def save_sharded_checkpoint(
    run_dir: Path,
    step: int,
    *,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Stateful | None,
    is_main: bool,
    barrier: Callable[[], None],
    extra: Mapping[str, Any] | None = None,
    keep: int = 2,
) -> Path:
    """``save_checkpoint`` for a model and optimizer sharded with FSDP; every process calls it.

    Each process writes its own shards of the model and optimizer state with
    ``torch.distributed.checkpoint`` into ``sharded/``; process 0 writes the
    scheduler, random states and ``meta.json``, then moves the directory into
    place and updates ``latest`` exactly as ``save_checkpoint`` does, so the same
    atomicity holds and ``latest_checkpoint`` finds it.

    Args:
        is_main: True on process 0.
        barrier: waits for every process (``DistContext.barrier``).
        (the rest as in ``save_checkpoint``)
    """
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_state_dict

    root = Path(run_dir) / CHECKPOINTS_DIR
    name = f"step-{step:08d}"
    tmp = root / f"{_TMP_PREFIX}{name}-sharded"
    if is_main:
        root.mkdir(parents=True, exist_ok=True)
        _remove_leftovers(root)
        tmp.mkdir()
    barrier()
    model_state, optimizer_state = get_state_dict(model, optimizer)
    dcp.save({"model": model_state, "optimizer": optimizer_state}, checkpoint_id=str(tmp / _SHARDED))
    barrier()
    if is_main:
        if scheduler is not None:
            _torch_save(tmp / "scheduler.pt", scheduler.state_dict())
        _torch_save(tmp / "rng.pt", _get_rng_state())
        _publish(tmp, root, name, _meta_json(step, extra), step, keep)
    barrier()
    return root / name


def load_sharded_checkpoint(
    path: Path, *, model: torch.nn.Module, optimizer: torch.optim.Optimizer, scheduler: Stateful | None
) -> dict[str, Any]:
    """Restore a checkpoint of ``save_sharded_checkpoint`` in place; every process calls it."""
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict

    path = Path(path)
    meta = json.loads((path / _META).read_text(encoding="utf-8"))
    model_state, optimizer_state = get_state_dict(model, optimizer)
    state: dict[str, Any] = {"model": model_state, "optimizer": optimizer_state}
    dcp.load(state, checkpoint_id=str(path / _SHARDED))
    set_state_dict(model, optimizer, model_state_dict=state["model"], optim_state_dict=state["optimizer"])
    if scheduler is not None:
        scheduler.load_state_dict(_torch_load(path / "scheduler.pt"))
    _set_rng_state(_torch_load(path / "rng.pt"))
    return {"step": int(meta["step"]), "extra": meta["extra"]}


def is_sharded_checkpoint(path: Path) -> bool:
    """True for a checkpoint written by ``save_sharded_checkpoint``."""
    return (Path(path) / _SHARDED).is_dir()


_SHARDED = "sharded"
