"""``curves.png``: a run's metrics as a figure a researcher can send to a colleague.

``plot_curves(metrics.jsonl, curves.png)`` draws one panel per distinct quantity
(``PANELS``): the reward (with the accuracy when it differs), a mixture's reward
and held-out accuracy per env, a curriculum's level, rolling accuracy and held-out
accuracy per level, each rubric criterion's reward, the KL to the
reference, the loss, the policy's entropy and the completion length. Training
values are drawn raw (faint) under a smoothed line (``smooth``); held-out
evaluations are marked points, the last one labelled with its value. A quantity
that repeats one already drawn (the accuracy of a single-criterion rubric is its
reward) is named in that panel's title instead of getting a panel of its own.
The legend sits outside the data.

Panels are data: add a ``Panel`` to ``PANELS`` (or pass your own) to plot another metric.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rlvr.trainers.run.metrics import read_metrics

__all__ = ["PANELS", "Panel", "Series", "figure_panels", "panel_series", "plot_curves", "smooth", "smoothing_weight"]


@dataclass(frozen=True)
class Panel:
    """One subplot: the metrics it draws and how it is labelled.

    Attributes:
        title: the panel's title.
        metrics: metric names, or ``fnmatch`` patterns (``"rewards/*/mean"``), drawn in this panel.
        splits: the splits drawn (``("train",)``); None draws every split.
        smooth: draw training values smoothed over the raw ones; False draws them as they are
            (a step function such as a curriculum's level, or a value already averaged).
        ylabel: the y axis label (with its unit).
        label: how a matched name is shown in the legend (``{name}`` is the name, ``{part}``
            what the pattern's ``*``s matched, from the first to the last); used when the panel
            draws more than one metric.
    """

    title: str
    metrics: tuple[str, ...]
    ylabel: str
    label: str = "{name}"
    splits: tuple[str, ...] | None = None
    smooth: bool = True


PANELS: tuple[Panel, ...] = (
    Panel("reward", ("reward",), "reward"),
    Panel("accuracy", ("accuracy",), "share correct"),
    Panel("reward per env", ("env/*/reward",), "reward", label="{part}", splits=("train",)),
    Panel("held-out accuracy per env", ("env/*/accuracy",), "share correct", label="{part}", splits=("eval",)),
    Panel("curriculum level", ("curriculum/*/level",), "level", label="{part}", splits=("train",), smooth=False),
    Panel(
        "rolling accuracy at the level",
        ("curriculum/*/accuracy",),
        "share correct",
        label="{part}",
        splits=("train",),
        smooth=False,
    ),
    Panel(
        "held-out accuracy per level", ("curriculum/*=*/accuracy",), "share correct", label="{part}", splits=("eval",)
    ),
    Panel("episodes calling a tool", ("tools/call_share", "tool_call_share"), "share of episodes"),
    Panel("reward per criterion", ("rewards/*/mean",), "reward", label="{part}"),
    Panel("KL to the reference", ("kl",), "KL (nats per token)"),
    Panel("loss", ("loss",), "loss"),
    Panel("entropy", ("entropy",), "nats per token"),
    Panel("completion length", ("completions/mean_length",), "tokens"),
)
"""The panels of ``curves.png``, in order; a panel whose metrics no record has is left out."""


@dataclass(frozen=True)
class Series:
    """One metric of one split over steps: ``steps[i]`` has ``values[i]`` (NaN where not finite)."""

    name: str
    split: str
    steps: tuple[int, ...]
    values: tuple[float, ...]

    def same_as(self, other: Series, tolerance: float = 1e-9) -> bool:
        """Whether both hold the same values at the same steps (NaN equal to NaN)."""
        if self.steps != other.steps:
            return False
        return all(
            (math.isnan(a) and math.isnan(b)) or abs(a - b) <= tolerance
            for a, b in zip(self.values, other.values, strict=True)
        )


def smoothing_weight(points: int) -> float:
    """The exponential-moving-average weight for a curve of ``points`` values.

    About 1/25 of the curve is averaged (an effective window of ``points / 25``
    values), so the shape shows through the noise at any length; curves of up to
    25 points are not smoothed (weight 0). At most 0.98.
    """
    window = points / 25
    return 0.0 if window <= 1 else min(1.0 - 1.0 / window, 0.98)


def smooth(values: Sequence[float], weight: float) -> list[float]:
    """Debiased exponential moving average, as TensorBoard draws it.

    Args:
        values: the raw values in step order; non-finite ones are skipped (NaN in the output).
        weight: in [0, 1); 0 returns the values, larger smooths more.

    Returns:
        One value per input. Value ``i`` is the weighted mean of the finite values up to ``i``
        with weights ``weight**age``, divided by the weights' sum (the debiasing), so the
        line starts at the first value rather than at 0.
    """
    if not 0.0 <= weight < 1.0:
        raise ValueError(f"weight must be in [0, 1), got {weight}")
    smoothed: list[float] = []
    average, count = 0.0, 0
    for value in values:
        if not math.isfinite(value):
            smoothed.append(math.nan)
            continue
        average = average * weight + (1.0 - weight) * value
        count += 1
        smoothed.append(average / (1.0 - weight**count))
    return smoothed


def panel_series(records: Sequence[Mapping[str, Any]], panel: Panel) -> list[Series]:
    """The series ``panel`` draws from ``records`` (one per matched metric and split), sorted by name then split."""
    names = sorted(
        {
            name
            for record in records
            for name in record
            if name not in ("step", "split", "time") and any(fnmatch.fnmatchcase(name, p) for p in panel.metrics)
        }
    )
    splits = list(dict.fromkeys(str(record.get("split")) for record in records))
    if panel.splits is not None:
        splits = [split for split in splits if split in panel.splits]
    found = []
    for name in names:
        for split in splits:
            points = sorted(
                (int(record["step"]), _number(record[name]))
                for record in records
                if str(record.get("split")) == split and name in record
            )
            if points:
                steps, values = zip(*points, strict=True)
                found.append(Series(name, split, steps, values))
    return found


def figure_panels(
    records: Sequence[Mapping[str, Any]], panels: Sequence[Panel] = PANELS
) -> list[tuple[str, Panel, list[Series]]]:
    """The panels worth drawing, in order: ``(title, panel, series)`` for each panel with data.

    A panel whose every series repeats a series of a panel kept before it is left out, and
    its title joins that panel's: ``"reward (identical: accuracy)"``.
    """
    kept: list[tuple[list[str], Panel, list[Series]]] = []
    for panel in panels:
        series = panel_series(records, panel)
        if not series:
            continue
        twin = next((entry for entry in kept if all(any(s.same_as(t) for t in entry[2]) for s in series)), None)
        if twin is not None:
            twin[0].append(panel.title)
        else:
            kept.append(([panel.title], panel, series))
    return [
        (titles[0] + (f" (identical: {', '.join(titles[1:])})" if len(titles) > 1 else ""), panel, series)
        for titles, panel, series in kept
    ]


def plot_curves(
    metrics_path: Path,
    out_png: Path,
    panels: Sequence[Panel] = PANELS,
    *,
    title: str | None = None,
) -> Path:
    """Draw the run's curves from ``metrics_path`` into ``out_png``.

    Args:
        metrics_path: a metrics.jsonl file (``rlvr.trainers.run.metrics``).
        out_png: the image to write (its directory is created).
        panels: what to draw, in order (``PANELS`` by default); panels without data are left
            out, and so is a panel whose every series repeats one drawn before (its title is
            added to that panel's: "reward (identical: accuracy)"). No panel with data: the image says
            "no data".
        title: the figure's title; by default the run directory's name.

    Returns:
        ``out_png``.

    Uses matplotlib's Agg canvas directly (no pyplot, no display, safe in a training process).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    metrics_path, out_png = Path(metrics_path), Path(out_png)
    records = read_metrics(metrics_path)
    title = title or f"{metrics_path.parent.name or metrics_path.name}"

    drawn = figure_panels(records, panels)
    columns = 1 if len(drawn) <= 2 else 2
    rows = max(1, math.ceil(len(drawn) / columns))
    figure = Figure(figsize=(6.5 * columns + 1.5, 2.8 * rows + 0.6), layout="constrained")
    FigureCanvasAgg(figure)
    if not drawn:
        axes = figure.subplots()
        axes.set_axis_off()
        axes.set_title(title)
        wanted = ", ".join(name for panel in panels for name in panel.metrics)
        axes.text(0.5, 0.5, f"no data for {wanted}", ha="center", va="center", fontsize=12, wrap=True)
    else:
        figure.suptitle(title)
        grid = figure.subplots(rows, columns, sharex=True, squeeze=False)
        for axes in grid.flat[len(drawn) :]:
            axes.set_axis_off()
        for axes, (panel_title, panel, series) in zip(grid.flat, drawn, strict=False):
            _draw_panel(axes, panel, series)
            axes.set_title(panel_title)
        for axes in grid.flat[max(0, len(drawn) - columns) : len(drawn)]:  # the lowest panel of each column
            axes.xaxis.set_tick_params(labelbottom=True)
            axes.set_xlabel("step")
        handles, labels = _legend_entries()
        figure.legend(handles, labels, loc="outside lower center", ncols=len(labels), frameon=False)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out_png, format="png", dpi=110)
    return out_png


def _draw_panel(axes: Any, panel: Panel, series: list[Series]) -> None:
    """One panel: per metric, training raw and smoothed, held-out evaluations as labelled points."""
    names = list(dict.fromkeys(s.name for s in series))
    for index, name in enumerate(names):
        color = f"C{index}"
        label = _label(panel, name) if len(names) > 1 else None
        mine = [s for s in series if s.name == name]
        trained = any(s.split != "eval" for s in mine)  # the legend names the training line, else the points
        for s in mine:
            if s.split == "eval":
                shown = None if trained else label
                axes.plot(s.steps, s.values, color=color, linestyle=":", marker="o", markersize=5, label=shown)
                finite = [(x, y) for x, y in zip(s.steps, s.values, strict=True) if math.isfinite(y)]
                if finite:  # the latest evaluation, labelled with its value, inside the axes
                    axes.annotate(
                        f"{finite[-1][1]:.3g}",
                        finite[-1],
                        textcoords="offset points",
                        xytext=(-6, -12),
                        ha="right",
                        fontsize=8,
                        color=color,
                        bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.8},
                    )
                continue
            weight = smoothing_weight(len(s.values)) if panel.smooth else 0.0
            if weight > 0:
                axes.plot(s.steps, s.values, color=color, alpha=0.25, linewidth=0.8)
            axes.plot(s.steps, smooth(s.values, weight), color=color, linewidth=1.6, label=label)
    if len(names) > 1:
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    axes.set_ylabel(panel.ylabel)
    axes.grid(alpha=0.3)


def _legend_entries() -> tuple[list[Any], list[str]]:
    """The figure legend: how training (raw, smoothed) and evaluation are drawn, in neutral grey."""
    from matplotlib.lines import Line2D

    grey = "0.35"
    return (
        [
            Line2D([], [], color=grey, alpha=0.3, linewidth=0.8),
            Line2D([], [], color=grey, linewidth=1.6),
            Line2D([], [], color=grey, linestyle=":", marker="o", markersize=5),
        ],
        ["train (raw)", "train (smoothed)", "held-out evaluation"],
    )


def _label(panel: Panel, name: str) -> str:
    """A metric's legend label under ``panel.label`` (``{part}``: what the pattern's ``*`` matched)."""
    part = name
    for pattern in panel.metrics:
        if "*" in pattern and fnmatch.fnmatchcase(name, pattern):
            head, tail = pattern[: pattern.index("*")], pattern[pattern.rindex("*") + 1 :]
            part = name[len(head) : len(name) - len(tail)]
            break
    return panel.label.format(name=name, part=part)


def _number(value: Any) -> float:
    """A logged value as a float; None (a non-finite value in JSON) is NaN."""
    return math.nan if value is None else float(value)
