"""KL estimators: the formulas, their signs, and that k1 and k3 are unbiased on samples from the policy."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rlvr.trainers.losses.kl import KL_ESTIMATORS, kl_estimate, sequence_kl

log_probs = st.floats(min_value=-40.0, max_value=0.0, allow_nan=False)


def test_each_estimator_follows_its_formula() -> None:
    logp = torch.tensor([-1.0, -2.0, -0.5], dtype=torch.float64)
    ref = torch.tensor([-1.5, -1.0, -0.5], dtype=torch.float64)
    x = ref - logp
    torch.testing.assert_close(kl_estimate(logp, ref, "k1"), -x)
    torch.testing.assert_close(kl_estimate(logp, ref, "k2"), 0.5 * x**2)
    torch.testing.assert_close(kl_estimate(logp, ref, "k3"), torch.exp(x) - x - 1)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(log_probs, log_probs), min_size=1, max_size=20))
def test_k2_and_k3_are_non_negative_finite_and_zero_when_equal(pairs: list[tuple[float, float]]) -> None:
    logp = torch.tensor([p for p, _ in pairs])
    ref = torch.tensor([q for _, q in pairs])
    for estimator in ("k2", "k3"):
        values = kl_estimate(logp, ref, estimator)
        assert torch.isfinite(values).all() and (values >= 0).all()
        assert torch.equal(kl_estimate(logp, logp, estimator), torch.zeros_like(logp))


@pytest.mark.parametrize("estimator", ["k1", "k3"])
def test_unbiased_estimators_average_to_the_true_kl(estimator: str) -> None:
    generator = torch.Generator().manual_seed(0)
    p = torch.tensor([0.5, 0.3, 0.15, 0.05], dtype=torch.float64)
    q = torch.tensor([0.25, 0.25, 0.25, 0.25], dtype=torch.float64)
    true_kl = float((p * (p / q).log()).sum())
    tokens = torch.multinomial(p, 200_000, replacement=True, generator=generator)
    estimate = kl_estimate(p.log()[tokens], q.log()[tokens], estimator).mean()  # type: ignore[arg-type]
    assert math.isclose(float(estimate), true_kl, rel_tol=0.02)


def test_unknown_estimators_and_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown KL estimator"):
        kl_estimate(torch.zeros(2), torch.zeros(2), "k4")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="same shape"):
        kl_estimate(torch.zeros(2), torch.zeros(3), "k1")
    assert KL_ESTIMATORS == ("k1", "k2", "k3")


def test_sequence_kl_sums_each_rows_masked_tokens() -> None:
    nan = float("nan")
    token_kl = torch.tensor([[0.5, -0.25, nan], [nan, 2.0, 1.0], [nan, nan, nan]], dtype=torch.float64)
    mask = torch.tensor([[1, 1, 0], [0, 1, 1], [0, 0, 0]])
    torch.testing.assert_close(sequence_kl(token_kl, mask), torch.tensor([0.25, 3.0, 0.0], dtype=torch.float64))


def test_sequence_kl_rejects_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="token_kl"):
        sequence_kl(torch.zeros(2, 3), torch.ones(2, 4))
    with pytest.raises(ValueError, match="token_kl"):
        sequence_kl(torch.zeros(3), torch.ones(3))
