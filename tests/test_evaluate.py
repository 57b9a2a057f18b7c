"""Held-out evaluation's numbers: the unbiased pass@k, rates that leave failed requests out, chunk seeds."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rlvr.trainers.run.evaluate import (
    EVAL_CHUNK,
    REQUEST_FAILED,
    chunk_sampling_seed,
    eval_chunks,
    held_out_metrics,
    pass_at_k,
)


@st.composite
def samples(draw):
    n = draw(st.integers(1, 8))
    return n, draw(st.integers(0, n)), draw(st.integers(1, n))


@given(samples())
def test_pass_at_k_is_the_share_of_k_subsets_holding_a_right_sample(case):
    n, correct, k = case
    outcomes = [True] * correct + [False] * (n - correct)
    subsets = list(itertools.combinations(outcomes, k))
    assert pass_at_k(n, correct, k) == pytest.approx(sum(any(s) for s in subsets) / len(subsets), abs=1e-12)


def test_pass_at_k_refuses_impossible_counts():
    with pytest.raises(ValueError, match="1 <= k <= n"):
        pass_at_k(3, 1, 4)
    with pytest.raises(ValueError, match=r"within 0\.\.3"):
        pass_at_k(3, 4, 1)


def test_failed_requests_are_left_out_of_every_rate():
    greedy = [("ok", 1.0), ("wrong", 0.0), (REQUEST_FAILED, None), ("ok", 1.0)]
    sampled = [["ok", REQUEST_FAILED], ["wrong", "wrong"], [REQUEST_FAILED, REQUEST_FAILED], ["ok", "wrong"]]
    metrics = held_out_metrics(greedy, sampled, [1, 2])
    assert metrics["accuracy"] == pytest.approx(2 / 3) and metrics["reward"] == pytest.approx(2 / 3)
    assert metrics["pass@1"] == pytest.approx((1.0 + 0.0 + 0.5) / 3)
    assert metrics["pass@2"] == pytest.approx((0.0 + 1.0) / 2)  # only the tasks with 2 answered samples


def test_nothing_answered_is_unknown_not_zero():
    metrics = held_out_metrics([(REQUEST_FAILED, None)], [[REQUEST_FAILED]], [1])
    assert all(math.isnan(value) for value in metrics.values())


def test_chunks_cover_the_seeds_in_order_and_each_has_its_own_sampling_seed():
    seeds = list(range(EVAL_CHUNK * 2 + 3))
    chunks = eval_chunks(seeds)
    assert [len(c) for c in chunks] == [EVAL_CHUNK, EVAL_CHUNK, 3] and [s for c in chunks for s in c] == seeds
    assert chunk_sampling_seed(7, 0) == 7  # the first chunk samples as a single batch always did
    assert len({chunk_sampling_seed(7, c) for c in range(50)}) == 50
