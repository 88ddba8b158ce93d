"""Output analysis on series whose truth is known by construction: batch means on independent and on strongly
autocorrelated (AR(1)) bins, "too short to say" on a trend, MSER on a series with a planted transient, the queue
growth of a line and the time-weighted quantile of a hand-made queue."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.signal import lfilter

from simulator.output_analysis import (
    BASE_BINS,
    INTERVAL_BATCHES,
    MIN_BATCHES,
    batch_means,
    batch_size,
    lag1_autocorrelation,
    mser_truncation,
    queue_growth,
    transient_matters,
)
from simulator.stations import time_quantile

ONES = np.ones(BASE_BINS)


def _ar1(rng: np.random.Generator, phi: float, n: int = BASE_BINS) -> np.ndarray:
    """A stationary AR(1) series of mean 0: ``x_t = φ x_{t−1} + ε_t``."""
    start = rng.normal(0.0, 1.0 / math.sqrt(1.0 - phi**2))
    noise = rng.normal(size=n)
    noise[0] = 0.0
    return np.asarray(lfilter([1.0], [1.0, -phi], noise, zi=[start])[0], dtype=np.float64)


def test_lag1_autocorrelation_by_hand() -> None:
    assert lag1_autocorrelation(np.array([1.0, -1.0, 1.0, -1.0])) == pytest.approx(-0.75)
    assert lag1_autocorrelation(np.full(5, 3.0)) == 0.0


def test_independent_bins_need_no_batching_and_the_interval_is_the_t_interval_of_ten_batches() -> None:
    x = np.random.default_rng(1).normal(5.0, 2.0, BASE_BINS)
    assert batch_size(x, ONES) == 1
    result = batch_means(x, ONES)
    assert result.batches == INTERVAL_BATCHES == 10
    assert result.mean == pytest.approx(x.mean())
    batches = x.reshape(10, -1).mean(axis=1)
    assert result.half_width == pytest.approx(2.2622 * batches.std(ddof=1) / math.sqrt(10), rel=1e-4)


def test_the_ratio_interval_weighs_batches_by_their_weight() -> None:
    sums = np.repeat([1.0, 3.0], BASE_BINS // 2)  # first half: 1 per bin over weight 1; second: 3 over weight 3
    weights = np.repeat([1.0, 3.0], BASE_BINS // 2)
    result = batch_means(sums, weights)
    assert result.mean == pytest.approx(1.0)
    assert result.half_width == pytest.approx(0.0, abs=1e-12)  # every batch has ratio 1


def test_autocorrelated_bins_grow_the_batches_and_keep_coverage() -> None:
    rng = np.random.default_rng(7)
    covered = sizes = 0
    runs = 200
    for _ in range(runs):
        result = batch_means(_ar1(rng, 0.9), ONES)
        assert result.half_width is not None
        assert result.batches < BASE_BINS  # φ = 0.9 is caught at the finest batching
        covered += abs(result.mean) <= result.half_width
        sizes += BASE_BINS // result.batches
    # nominal 95 %; the sequential test costs a few points (Law & Carson report ~90 % for such procedures)
    assert covered >= 0.88 * runs
    assert sizes / runs >= 8


def test_a_trend_is_too_short_to_say() -> None:
    trend = np.linspace(0.0, 10.0, BASE_BINS) + np.random.default_rng(3).normal(0.0, 0.1, BASE_BINS)
    result = batch_means(trend, ONES)
    assert result.half_width is None
    assert result.batches == 0
    assert batch_size(trend, ONES) == 0
    assert result.lag1 > 0.5


def test_empty_bins_are_merged_away() -> None:
    sums, weights = np.zeros(BASE_BINS), np.zeros(BASE_BINS)
    sums[::4], weights[::4] = np.random.default_rng(2).normal(1.0, 0.1, BASE_BINS // 4), 1.0
    assert batch_size(sums, weights) == 4
    result = batch_means(sums, weights)
    assert result.mean == pytest.approx(sums.sum() / weights.sum())


def test_mser_cuts_a_planted_transient_and_only_then_matters() -> None:
    rng = np.random.default_rng(5)
    steady = _ar1(rng, 0.5) * 0.2 + 1.0
    transient = steady - 3.0 * np.exp(-np.arange(BASE_BINS) / 40.0)  # 3 units below, decaying over ~200 bins
    cut = mser_truncation(transient, ONES)
    assert 60 <= cut <= 400
    assert transient_matters(transient, ONES, 0, cut)
    assert not transient_matters(transient, ONES, 400, cut)  # a long enough warm-up already covers it
    assert not transient_matters(steady, ONES, 0, mser_truncation(steady, ONES))


def test_queue_growth_of_a_line_and_of_a_flat_series() -> None:
    times = np.linspace(100.0, 1100.0, 201)
    growth, spread = queue_growth(times, 3.0 + 0.05 * (times - 100.0))
    assert growth == pytest.approx(50.0)
    assert spread == pytest.approx(0.0, abs=1e-9)
    wobble = 4.0 + np.where(np.arange(times.size) % 2 == 0, 1.0, -1.0)
    assert queue_growth(times, wobble)[0] == pytest.approx(0.0, abs=0.02)
    assert queue_growth(times, wobble)[1] == pytest.approx(1.0, abs=0.01)
    assert queue_growth(times[:2], times[:2]) == (0.0, 0.0)


def test_time_weighted_queue_quantiles_by_hand() -> None:
    spent = np.array([6.0, 2.0, 1.0, 1.0])  # 60 % of the time empty, 20 % at one, 10 % at two, 10 % at three
    assert [time_quantile(spent, q) for q in (0.5, 0.6, 0.7, 0.85, 0.95)] == [0.0, 0.0, 1.0, 2.0, 3.0]
    assert math.isnan(time_quantile(np.zeros(3), 0.5))
    assert MIN_BATCHES * 128 == BASE_BINS
