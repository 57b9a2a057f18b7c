"""curves.png: which panels a run gets, how curves are smoothed, and that the image is written."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rlvr.trainers.run.curves import PANELS, Panel, figure_panels, plot_curves, smooth, smoothing_weight
from rlvr.trainers.run.metrics import METRICS_FILE, MetricsLogger, read_metrics

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


def _titles(records) -> list[str]:
    return [title for title, _, _ in figure_panels(records)]


def _train(step: int, **values: float) -> dict:
    return {"step": step, "split": "train", "time": float(step), **values}


@given(st.lists(finite, max_size=50))
def test_no_smoothing_returns_the_values(values):
    assert smooth(values, 0.0) == pytest.approx(values)


@given(st.lists(finite, min_size=1, max_size=50), st.floats(min_value=0.0, max_value=0.99))
def test_the_smoothed_line_stays_within_the_values_seen_so_far(values, weight):
    for index, value in enumerate(smooth(values, weight)):
        seen = values[: index + 1]
        assert min(seen) - 1e-6 * (1 + abs(min(seen))) <= value <= max(seen) + 1e-6 * (1 + abs(max(seen)))


@given(finite, st.integers(1, 40), st.floats(min_value=0.0, max_value=0.99))
def test_a_constant_curve_is_smoothed_to_itself_from_its_first_point(value, length, weight):
    assert smooth([value] * length, weight) == pytest.approx([value] * length, rel=1e-9, abs=1e-9)


def test_non_finite_values_are_skipped_and_left_as_gaps():
    smoothed = smooth([1.0, math.nan, 3.0, math.inf], 0.5)
    assert smoothed[0] == 1.0 and math.isnan(smoothed[1]) and math.isnan(smoothed[3])
    assert smoothed[2] == pytest.approx((0.5 * 1.0 + 3.0) / 1.5)  # weights 0.5 and 1 over their sum


def test_short_curves_are_not_smoothed_and_long_ones_are():
    assert smoothing_weight(10) == 0.0 and smoothing_weight(25) == 0.0
    assert 0.0 < smoothing_weight(100) < smoothing_weight(1000) <= 0.98


def test_a_single_criterion_run_draws_reward_once_and_names_its_twins():
    records = [_train(s, reward=s / 10, accuracy=s / 10, **{"rewards/accuracy/mean": s / 10}) for s in range(5)]
    records.append({"step": 4, "split": "eval", "reward": 0.5, "accuracy": 0.5})
    records[-1]["rewards/accuracy/mean"] = 0.5
    assert _titles(records) == ["reward (identical: accuracy, reward per criterion)"]


def test_accuracy_that_differs_from_reward_and_several_criteria_get_their_own_panels():
    records = [
        _train(s, reward=s / 10 + 0.2, accuracy=s / 10, kl=0.01 * s, **{"rewards/format/mean": 1.0})
        | {"rewards/accuracy/mean": s / 10}
        for s in range(5)
    ]
    panels = figure_panels(records)
    assert [title for title, _, _ in panels] == [
        "reward",
        "accuracy",
        "reward per criterion",
        "KL to the reference",
    ]
    criteria = next(series for title, _, series in panels if title == "reward per criterion")
    assert sorted(s.name for s in criteria) == ["rewards/accuracy/mean", "rewards/format/mean"]


def test_a_panel_is_data_and_matches_metric_patterns():
    records = [_train(s, **{"timing/rollout": 1.0, "timing/update": 2.0}) for s in range(3)]
    (panel,) = figure_panels(records, [*PANELS, Panel("time per phase", ("timing/*",), "seconds", label="{part}")])
    assert panel[0] == "time per phase" and [s.name for s in panel[2]] == ["timing/rollout", "timing/update"]


def test_plot_curves_writes_a_png_with_train_and_eval(tmp_path):
    with MetricsLogger(tmp_path / "run", tensorboard=False) as logger:
        for step in range(300):
            logger.log(
                step, {"reward": step / 300, "accuracy": step / 400, "completions/mean_length": 100.0 - step / 3}
            )
            if step % 100 == 0:
                logger.log(step, {"reward": step / 350, "accuracy": math.nan}, split="eval")

    out = plot_curves(tmp_path / "run" / METRICS_FILE, tmp_path / "plots" / "curves.png", title="a run")
    assert out == tmp_path / "plots" / "curves.png"
    data = out.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 10_000
    assert [t for t, _, _ in figure_panels(read_metrics(tmp_path / "run" / METRICS_FILE))] == [
        "reward",
        "accuracy",
        "completion length",
    ]


def test_plot_curves_says_no_data(tmp_path):
    with MetricsLogger(tmp_path, tensorboard=False) as logger:
        logger.log(0, {"grad_norm": 1.0})

    out = plot_curves(tmp_path / METRICS_FILE, tmp_path / "curves.png")
    data = out.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 1_000
    assert figure_panels(read_metrics(tmp_path / METRICS_FILE)) == []

    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / METRICS_FILE).write_text("")
    assert plot_curves(tmp_path / "empty" / METRICS_FILE, tmp_path / "empty.png").read_bytes().startswith(PNG_MAGIC)
