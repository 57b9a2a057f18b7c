"""The adaptive KL coefficient (Ziegler et al. 2019): the update by hand, its bounds under hypothesis, and errors."""

from __future__ import annotations

import math

import pytest

pytest.importorskip("torch")  # torch comes with the "train" extra

from hypothesis import given, settings
from hypothesis import strategies as st

from rlvr.trainers.losses.kl_controller import adaptive_kl_coef

PROPERTY = settings(max_examples=200, deadline=None)


# --- adaptive_kl_coef -----------------------------------------------------------------------------------------------


def test_kl_above_the_target_raises_the_coefficient_by_the_formula() -> None:
    # error = 6.6 / 6 - 1 = 0.1; n / horizon = 100 / 1000
    assert adaptive_kl_coef(0.1, kl=6.6, target=6.0, n=100, horizon=1000) == pytest.approx(0.1 * (1 + 0.1 * 0.1))


def test_kl_below_the_target_lowers_the_coefficient_by_the_formula() -> None:
    assert adaptive_kl_coef(0.1, kl=5.4, target=6.0, n=100, horizon=1000) == pytest.approx(0.1 * (1 - 0.1 * 0.1))


def test_kl_on_the_target_leaves_the_coefficient() -> None:
    assert adaptive_kl_coef(0.1, kl=6.0, target=6.0, n=100, horizon=1000) == 0.1


@pytest.mark.parametrize(
    ("kl", "error"),
    [(60.0, 0.2), (7.2, 0.2), (1e9, 0.2), (0.0, -0.2), (4.8, -0.2), (-3.0, -0.2)],
)
def test_the_proportional_error_is_clipped_at_twenty_percent(kl: float, error: float) -> None:
    # a negative KL (the k1 estimator's noise) counts as far below the target
    assert adaptive_kl_coef(0.1, kl=kl, target=6.0, n=100, horizon=1000) == pytest.approx(0.1 * (1 + error * 0.1))


def test_held_at_the_clip_the_coefficient_grows_by_about_exp_0_2_per_horizon() -> None:
    coef = 0.05
    for _ in range(100):  # 100 batches of 100 sequences: one horizon
        coef = adaptive_kl_coef(coef, kl=100.0, target=1.0, n=100, horizon=10_000)
    assert coef / 0.05 == pytest.approx(math.exp(0.2), rel=1e-3)


def test_an_empty_batch_leaves_the_coefficient_whatever_its_kl() -> None:
    assert adaptive_kl_coef(0.1, kl=math.nan, target=6.0, n=0, horizon=1000) == 0.1


def test_a_zero_coefficient_stays_zero() -> None:
    assert adaptive_kl_coef(0.0, kl=100.0, target=6.0, n=100, horizon=1000) == 0.0


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"kl_coef": -0.1}, "kl_coef"),
        ({"target": 0.0}, "target"),
        ({"n": -1}, "n must"),
        ({"horizon": 0}, "horizon"),
        ({"n": 5000, "horizon": 1000}, "5 \\* horizon"),
        ({"kl": math.inf}, "kl must be finite"),
        ({"kl": math.nan}, "kl must be finite"),
    ],
)
def test_adaptive_kl_coef_rejects_bad_arguments(arguments: dict[str, float], field: str) -> None:
    values: dict = {"kl_coef": 0.1, "kl": 1.0, "target": 6.0, "n": 100, "horizon": 1000, **arguments}
    with pytest.raises(ValueError, match=field):
        adaptive_kl_coef(**values)


@st.composite
def updates(draw: st.DrawFn) -> tuple[float, float, float, int, int]:
    """``(kl_coef > 0, kl, target > 0, n, horizon)`` with ``0 <= n < 5 * horizon``."""
    kl_coef = draw(st.floats(min_value=1e-6, max_value=1e3))
    kl = draw(st.floats(min_value=-1e3, max_value=1e6))
    target = draw(st.floats(min_value=1e-3, max_value=1e3))
    horizon = draw(st.integers(min_value=1, max_value=100_000))
    n = draw(st.integers(min_value=0, max_value=5 * horizon - 1))
    return kl_coef, kl, target, n, horizon


@PROPERTY
@given(updates())
def test_the_coefficient_stays_positive_and_moves_at_most_0_2_n_over_horizon(
    update: tuple[float, float, float, int, int],
) -> None:
    kl_coef, kl, target, n, horizon = update
    new = adaptive_kl_coef(kl_coef, kl, target, n, horizon)
    assert new > 0.0
    assert abs(new / kl_coef - 1.0) <= 0.2 * n / horizon + 1e-12
    if kl > target:
        assert new >= kl_coef
    elif kl < target:
        assert new <= kl_coef
