"""Training metrics: one JSON line per ``log`` call, mirrored to TensorBoard (``curves`` plots them).

``run_dir/metrics.jsonl`` is the record of the run; TensorBoard is a view of it. Each line is one
call of ``MetricsLogger.log``::

    {"step": 120, "split": "train", "time": 431.52, "reward": 0.61, "completions/mean_length": 212.0}

- ``step``: the training step the values belong to (int).
- ``split``: ``"train"``, ``"eval"``, or any name the caller uses.
- ``time``: seconds of the run's wall clock (monotonic): since the logger was created, plus, when
  a run is resumed, the time of the last line kept from before, so it never runs backwards.
- every metric under its name, verbatim (TRL's names have slashes: ``completions/mean_length``),
  as a float; NaN and infinities are written as ``null``, so every line is strict JSON.

Each line is flushed to the operating system when it is logged, so a process killed with SIGKILL
loses at most the line it was writing; ``read_metrics`` skips such a truncated last line, and a new
logger removes it before appending. (Flushing is not fsync: a power cut can lose the last lines.)

TensorBoard gets the same values as scalars tagged ``f"{split}/{name}"`` (``train/reward``,
``eval/completions/mean_length``), non-finite values included, under ``run_dir/tensorboard``.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any

__all__ = ["METRICS_FILE", "TENSORBOARD_DIR", "MetricsLogger", "read_metrics"]

METRICS_FILE = "metrics.jsonl"
"""File name of the metrics log inside the run directory."""

TENSORBOARD_DIR = "tensorboard"
"""Subdirectory of the run directory that holds the TensorBoard event files."""

_RESERVED = frozenset({"step", "split", "time"})


class MetricsLogger:
    """Append metrics to ``run_dir/metrics.jsonl`` and TensorBoard; a context manager that closes both.

    Args:
        run_dir: the run's directory (created if missing).
        tensorboard: also write TensorBoard event files to ``run_dir/tensorboard`` (needs
            ``torch`` and ``tensorboard``; imported only when True).
        resume_step: when resuming from the checkpoint of step k, pass k: lines with
            ``step > k`` (logged after that checkpoint, by the run that died) are removed from
            metrics.jsonl first, and TensorBoard is told to discard its events after step k, so
            the resumed run does not log those steps twice. None keeps every line; a negative
            step keeps none (a run started afresh in a directory that has an earlier run's lines).

    An existing metrics.jsonl is appended to, after removing a truncated last line left by a
    killed process. ``log(step, metrics, split="train")`` writes one line; ``close()`` flushes and
    closes; ``flush()`` pushes pending TensorBoard events to disk (the JSON lines are always on
    disk already).
    """

    def __init__(self, run_dir: Path, *, tensorboard: bool = True, resume_step: int | None = None) -> None:
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.run_dir / METRICS_FILE
        kept = _repair(self.path, resume_step)
        # time goes on from the last kept line of the run being resumed, so it never runs backwards
        self._offset = max((float(r["time"]) for r in kept if isinstance(r.get("time"), int | float)), default=0.0)
        self._file: IO[str] | None = open(self.path, "a", encoding="utf-8")  # noqa: SIM115  (lives as long as the logger)
        self._writer: Any = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            purge_step = None if resume_step is None else resume_step + 1
            self._writer = SummaryWriter(str(self.run_dir / TENSORBOARD_DIR), purge_step=purge_step)
        self._start = time.monotonic()

    def log(self, step: int, metrics: Mapping[str, float], split: str = "train") -> None:
        """Append ``{"step", "split", "time", **metrics}`` as one flushed JSON line, and to TensorBoard.

        Args:
            step: the training step (int).
            metrics: name -> value; anything ``float()`` accepts (Python and numpy numbers,
                one-element tensors). Non-finite values are written as ``null``.
            split: which curve the values belong to (``"train"``, ``"eval"``).

        Raises:
            ValueError: a metric is named ``step``, ``split`` or ``time``.
            TypeError: a value is not a number.
            RuntimeError: the logger is closed.
        """
        if self._file is None:
            raise RuntimeError("log() on a closed MetricsLogger")
        clash = _RESERVED.intersection(metrics)
        if clash:
            raise ValueError(f"metric names {sorted(clash)} are reserved for the record's own fields")
        values: dict[str, float] = {}
        for name, value in metrics.items():
            try:
                values[name] = float(value)
            except (TypeError, ValueError) as error:
                raise TypeError(f"metric {name!r}: expected a number, got {value!r}") from error
        record = {
            "step": int(step),
            "split": split,
            "time": round(self._offset + time.monotonic() - self._start, 6),
            **{name: value if math.isfinite(value) else None for name, value in values.items()},
        }
        self._file.write(json.dumps(record, allow_nan=False) + "\n")
        self._file.flush()
        if self._writer is not None:
            for name, value in values.items():
                self._writer.add_scalar(f"{split}/{name}", value, global_step=int(step))

    def flush(self) -> None:
        """Write pending TensorBoard events to disk (JSON lines are flushed by ``log`` itself)."""
        if self._writer is not None:
            self._writer.flush()

    def close(self) -> None:
        """Flush and close metrics.jsonl and TensorBoard. Calling it again does nothing."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> MetricsLogger:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def read_metrics(path: Path) -> list[dict[str, Any]]:
    """The records of a metrics.jsonl file, in the order they were logged.

    Args:
        path: the metrics.jsonl file (it may be being written by a live logger).

    Returns:
        One dict per line, as written (non-finite values are None). A last line without its
        newline that is not valid JSON (a write cut off by a crash, or still in progress) is
        skipped. Blank lines are skipped.

    Raises:
        FileNotFoundError: there is no such file.
        ValueError: a complete line is not a JSON object (the file is corrupt, not truncated).
    """
    records, _ = _parse(Path(path).read_bytes(), Path(path))
    return records


def _parse(data: bytes, path: Path) -> tuple[list[dict[str, Any]], list[bytes]]:
    """Records and their raw lines (newline included), without a truncated last line."""
    records: list[dict[str, Any]] = []
    raw: list[bytes] = []
    lines = data.splitlines(keepends=True)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            if number == len(lines) and not line.endswith(b"\n"):
                break  # cut off mid-write
            raise ValueError(f"{path}:{number}: not a JSON line: {line[:80]!r}") from None
        if not isinstance(record, dict) or "step" not in record:
            raise ValueError(f"{path}:{number}: not a metrics record: {line[:80]!r}")
        records.append(record)
        raw.append(line if line.endswith(b"\n") else line + b"\n")
    return records, raw


def _repair(path: Path, resume_step: int | None) -> list[dict[str, Any]]:
    """Drop a truncated last line, and the lines after ``resume_step``; atomic, rewrites only on change.

    Returns the records kept.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    records, raw = _parse(data, path)
    if resume_step is not None:
        pairs = [(record, line) for record, line in zip(records, raw, strict=True) if record["step"] <= resume_step]
        records, raw = [record for record, _ in pairs], [line for _, line in pairs]
    kept = b"".join(raw)
    if kept == data:
        return records
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as file:
        file.write(kept)
        file.flush()
        os.fsync(file.fileno())
    os.replace(tmp, path)
    return records
