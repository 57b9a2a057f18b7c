"""``rlvr runs PATH...``: compare training runs in a table and one figure.

``summarize_run(run_dir)`` reads what a run directory holds (``run.json`` or its
checkpoints for what the run is, ``metrics.jsonl`` for what it did, the lock and
``final/`` for whether it is live, finished or stopped) into a ``RunSummary``;
``format_table`` lays summaries out as text; ``plot_runs`` overlays their curves
(``RUN_PANELS``), one colour per run. Nothing here changes a run directory, so a
live run can be reported on while it trains.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rlvr.trainers.rollout.env_mixture import EnvSelection
from rlvr.trainers.run.curves import Panel, panel_series, smooth, smoothing_weight
from rlvr.trainers.run.metrics import METRICS_FILE, read_metrics
from rlvr.trainers.run.run_dir import read_run_record, run_status

__all__ = [
    "RUN_PANELS",
    "NotARunError",
    "RunSummary",
    "find_runs",
    "format_table",
    "plot_runs",
    "summarize_run",
]

RUN_PANELS: tuple[Panel, ...] = (
    Panel("training reward", ("reward",), "reward", splits=("train",)),
    Panel("held-out accuracy", ("accuracy",), "share correct", splits=("eval",)),
    Panel("completion length", ("completions/mean_length",), "tokens", splits=("train",)),
    Panel("KL to the reference", ("kl",), "KL (nats per token)", splits=("train",)),
)
"""The panels of the comparison figure: training curves smoothed, evaluations as points."""


class NotARunError(ValueError):
    """A path that holds no training run (no metrics.jsonl in it or in its subdirectories)."""


@dataclass
class RunSummary:
    """What one run directory says about its run.

    Attributes:
        path: the run directory, as given.
        status: ``"running"``, ``"finished"`` or ``"stopped"`` (``run_dir.run_status``).
        trainer, env, model: from the run's record (None when the directory has none).
        steps_done: the last training step logged (0 before the first).
        steps: the steps the run was asked for (None when unknown).
        accuracy_before: held-out accuracy measured before the first step (None if not logged).
        accuracy_after: the latest held-out accuracy after step 0 (None if none yet).
        accuracy_after_step: the step of ``accuracy_after``.
        seconds: the run's wall clock at its last logged line (seconds, across resumes).
        tokens_per_second: prompt and completion tokens per second of training steps (None
            when the metrics do not say: ``step_tokens`` and ``step_time``, or TRL's ``num_tokens``).
        records: the metrics.jsonl records, for plotting.
    """

    path: Path
    status: str
    trainer: str | None
    env: str | None
    model: str | None
    steps_done: int
    steps: int | None
    accuracy_before: float | None
    accuracy_after: float | None
    accuracy_after_step: int | None
    seconds: float
    tokens_per_second: float | None
    records: list[dict[str, Any]] = field(repr=False, default_factory=list)


def find_runs(paths: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """The run directories named by ``paths``: each path itself if it holds metrics.jsonl, else its
    subdirectories that do (sorted), so ``rlvr runs runs/`` reports every run under ``runs/``.

    Raises:
        NotARunError: a path that does not exist, or holds no run at either level.
    """
    found: list[Path] = []
    for given in paths:
        path = Path(given)
        if not path.exists():
            raise NotARunError(f"{path}: no such directory")
        if (path / METRICS_FILE).is_file():
            found.append(path)
            continue
        children = sorted(p for p in path.iterdir() if p.is_dir() and (p / METRICS_FILE).is_file())
        if not children:
            raise NotARunError(f"{path}: no training run here (no {METRICS_FILE} in it or its subdirectories)")
        found.extend(children)
    return list(dict.fromkeys(found))


def summarize_run(run_dir: str | os.PathLike[str]) -> RunSummary:
    """Read ``run_dir`` into a ``RunSummary``; nothing is written.

    Raises:
        NotARunError: no metrics.jsonl in ``run_dir``.
        ValueError: a metrics.jsonl that is corrupt (not merely cut off).
    """
    path = Path(run_dir)
    metrics = path / METRICS_FILE
    if not metrics.is_file():
        raise NotARunError(f"{path}: no training run here (no {METRICS_FILE})")
    records = read_metrics(metrics)
    record = read_run_record(path) or {}
    config: Mapping[str, Any] = record.get("config", {})
    train = [r for r in records if r.get("split") == "train"]
    evaluations = [r for r in records if r.get("split") == "eval" and _finite(r.get("accuracy"))]
    first = next((r for r in evaluations if r["step"] == 0), None)
    later = [r for r in evaluations if r["step"] > 0]
    steps_done = max((int(r["step"]) for r in train), default=0)
    steps = config.get("steps")
    return RunSummary(
        path=path,
        status=run_status(path, steps_done, steps if isinstance(steps, int) else None),
        trainer=record.get("trainer"),
        env=_env_name(config),
        model=config.get("model"),
        steps_done=steps_done,
        steps=steps if isinstance(steps, int) else None,
        accuracy_before=float(first["accuracy"]) if first else None,
        accuracy_after=float(later[-1]["accuracy"]) if later else None,
        accuracy_after_step=int(later[-1]["step"]) if later else None,
        seconds=max((float(r.get("time") or 0.0) for r in records), default=0.0),
        tokens_per_second=_tokens_per_second(train),
        records=records,
    )


def format_table(summaries: Sequence[RunSummary]) -> str:
    """The summaries as an aligned text table, one row per run, with a header row.

    Columns: run, status, trainer, env, model, steps (done/asked), accuracy before and after
    (with the step of the latest evaluation when the run is not finished), wall time, tokens/s.
    Unknown values are ``-``.
    """
    header = ("run", "status", "trainer", "env", "model", "steps", "acc before", "acc after", "time", "tokens/s")
    rows = [header]
    for s in summaries:
        after = _fraction(s.accuracy_after)
        if s.accuracy_after is not None and s.status != "finished":
            after += f" @{s.accuracy_after_step}"
        rows.append(
            (
                str(s.path),
                s.status,
                s.trainer or "-",
                s.env or "-",
                s.model or "-",
                f"{s.steps_done}/{s.steps}" if s.steps is not None else str(s.steps_done),
                _fraction(s.accuracy_before),
                after,
                _duration(s.seconds),
                f"{s.tokens_per_second:,.0f}" if s.tokens_per_second is not None else "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    numeric = {5, 6, 7, 8, 9}
    lines = [
        "  ".join(
            cell.rjust(width) if i in numeric else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def plot_runs(summaries: Sequence[RunSummary], out_png: str | os.PathLike[str]) -> Path:
    """Overlay the runs' curves (``RUN_PANELS``) in one figure, one colour per run; returns its path.

    Training curves are smoothed (``curves.smooth``); held-out evaluations are points joined by
    a dotted line. The legend, outside the data, names each run by its path. Panels no run has
    data for are left out.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    panels = [p for p in RUN_PANELS if any(panel_series(s.records, p) for s in summaries)]
    columns = 1 if len(panels) <= 1 else 2
    rows = max(1, math.ceil(len(panels) / columns))
    figure = Figure(figsize=(6.0 * columns + 3.0, 2.9 * rows + 0.6), layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(f"{len(summaries)} run{'s' if len(summaries) != 1 else ''} compared")
    grid = figure.subplots(rows, columns, sharex=True, squeeze=False)
    for axes in grid.flat[len(panels) :]:
        axes.set_axis_off()
    for axes, panel in zip(grid.flat, panels, strict=False):
        for index, summary in enumerate(summaries):
            color = f"C{index % 10}"
            for series in panel_series(summary.records, panel):
                if series.split == "eval":
                    axes.plot(series.steps, series.values, color=color, linestyle=":", marker="o", markersize=4)
                elif series.split == "train":
                    weight = smoothing_weight(len(series.values))
                    axes.plot(series.steps, smooth(series.values, weight), color=color, linewidth=1.5)
        axes.set_title(panel.title)
        axes.set_ylabel(panel.ylabel)
        axes.grid(alpha=0.3)
    for axes in grid.flat[max(0, len(panels) - columns) : len(panels)]:
        axes.xaxis.set_tick_params(labelbottom=True)
        axes.set_xlabel("step")
    handles = [Line2D([], [], color=f"C{i % 10}", linewidth=2) for i in range(len(summaries))]
    handles += [Line2D([], [], color="0.35", linewidth=1.5), Line2D([], [], color="0.35", linestyle=":", marker="o")]
    labels = [str(s.path) for s in summaries] + ["train (smoothed)", "held-out evaluation"]
    figure.legend(handles, labels, loc="outside right upper", frameon=False, fontsize=9)
    out = Path(out_png)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, format="png", dpi=110)
    return out


def _env_name(config: Mapping[str, Any]) -> str | None:
    """The env the config trains on, or its mixture's ids joined with ``+`` (``EnvSelection.env_name``)."""
    if "env" not in config and not config.get("mixture"):
        return None  # no record of the run
    try:
        return EnvSelection.model_validate(config).env_name
    except ValidationError:  # a config this version cannot read: its env field as written
        return config.get("env")


def _tokens_per_second(train: Sequence[Mapping[str, Any]]) -> float | None:
    """Tokens per second of training steps: ``sum(step_tokens) / sum(step_time)``, or TRL's
    cumulative ``num_tokens`` over the wall clock of its last line."""
    timed = [
        (r["step_tokens"], r["step_time"])
        for r in train
        if _finite(r.get("step_tokens")) and _finite(r.get("step_time"))
    ]
    seconds = sum(t for _, t in timed)
    if timed and seconds > 0:
        return sum(n for n, _ in timed) / seconds
    counted = [r for r in train if _finite(r.get("num_tokens")) and _finite(r.get("time")) and r["time"] > 0]
    if counted:
        return float(counted[-1]["num_tokens"]) / float(counted[-1]["time"])
    return None


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def _fraction(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _duration(seconds: float) -> str:
    """``"42s"``, ``"3m 05s"``, ``"2h 10m"``."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m {whole % 60:02d}s"
    return f"{whole // 3600}h {whole % 3600 // 60:02d}m"
