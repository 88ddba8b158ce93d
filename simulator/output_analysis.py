"""Output analysis of a single run: batch means whose batches are long enough not to be correlated, MSER-5 warm-up
detection and overload detection.

A run's statistics come as *base bins* (consecutive equal spans of the measured window, each a sum and a weight:
latencies and task counts, or queue-length areas and durations). :func:`batch_means` merges neighbouring bins
into fewer, longer batches until the lag-1 autocorrelation of the batch means is no longer significant (the test of
Law & Carson, *Operations Research* 27(5), 1979, in its simplest form: ``r1 < z / √k`` for ``k`` batches), and
then gives the Student-t interval over :data:`INTERVAL_BATCHES` batches at least that long; with fewer than
:data:`MIN_BATCHES` batches still correlated, the run is too short to say (no interval).
:func:`mser_truncation` is White's MSER over batch means
of the same kind; :func:`queue_growth` fits a line to a queue-length series.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats as scipy_stats

FloatArray = npt.NDArray[np.float64]
#: Fewest batches an interval is built from.
MIN_BATCHES = 10
#: Base bins of a run's measured window: MIN_BATCHES times a power of two, so batches halve down to MIN_BATCHES.
BASE_BINS = MIN_BATCHES * 128
#: Batches an interval is built from once the run is long enough (at most; fewer when the bins run out).
INTERVAL_BATCHES = MIN_BATCHES
#: One-sided 95 % normal quantile: batch means count as uncorrelated when ``r1 < LAG1_Z / √k``.
LAG1_Z = 1.645


@dataclass(frozen=True, slots=True)
class BatchMeans:
    """The interval of one statistic of one run: its estimate, the 95 % half-width (``None``: too short to say),
    the number of batches used and their lag-1 autocorrelation."""

    mean: float
    half_width: float | None
    batches: int
    lag1: float


def lag1_autocorrelation(values: FloatArray) -> FloatArray:
    """Sample lag-1 autocorrelation ``Σ (x_i − x̄)(x_{i+1} − x̄) / Σ (x_i − x̄)²`` along the last axis (0 for a
    constant series): a float for one series, an array for rows of series."""
    centred = values - values.mean(axis=-1, keepdims=True)
    denominator = np.einsum("...i,...i->...", centred, centred)
    numerator = np.einsum("...i,...i->...", centred[..., :-1], centred[..., 1:])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / denominator, 0.0)[()]


def finite_mean(values: Sequence[float]) -> float | None:
    """Mean of the finite values (``None`` when there is none)."""
    finite = [v for v in values if math.isfinite(v)]
    return float(np.mean(finite)) if finite else None


@functools.cache
def t975(dof: int) -> float:
    """The 97.5 % quantile of Student's t with ``dof`` degrees of freedom (two-sided 95 %)."""
    return float(scipy_stats.t.ppf(0.975, dof))


def student_half_width(values: FloatArray) -> float:
    """Half-width of the 95 % Student-t interval of the mean of ``values`` (two or more finite values)."""
    return t975(values.size - 1) * float(values.std(ddof=1)) / math.sqrt(values.size)


def batch_means(sums: FloatArray, weights: FloatArray, *, min_batches: int = MIN_BATCHES) -> BatchMeans:
    """The ratio ``R = Σ sums / Σ weights`` and its interval by batch means over the base bins ``(sums, weights)``.

    The run is long enough when batches of some :func:`batch_size` pass the lag-1 test; the interval then comes
    from :data:`INTERVAL_BATCHES` equal batches (Law & Kelton's 10 to 20 batches: more, shorter batches undercover
    a busy queue's mean), with the ratio estimator's variance ``Σ (S_i − R W_i)² / ((k − 1) k W̄²)`` (batches of
    unequal weight, e.g. task counts). Otherwise there is no interval (too short to say).
    """
    return batch_means_rows(sums[None, :], weights[None, :], min_batches=min_batches)[0]


def batch_means_rows(sums: FloatArray, weights: FloatArray, *, min_batches: int = MIN_BATCHES) -> list[BatchMeans]:
    """:func:`batch_means` of every row of ``(sums, weights)`` (rows × bins) at once: many stations' statistics
    cost a few array operations, not a Python loop per station."""
    total = weights.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(total > 0, sums.sum(axis=1) / total, math.nan)
    size = batch_sizes(sums, weights, min_batches=min_batches)
    n = sums.shape[1]
    out: list[BatchMeans | None] = [None] * sums.shape[0]
    short = np.flatnonzero(size == 0)
    if short.size:
        batch_sums, batch_weights = _batched(sums[short], weights[short], max(n // min_batches, 1))
        with np.errstate(divide="ignore", invalid="ignore"):
            lag1 = lag1_autocorrelation(batch_sums / batch_weights)
        usable = np.all(batch_weights > 0, axis=1) & (batch_sums.shape[1] > 1)
        for row, value, ok in zip(short, np.atleast_1d(lag1), usable, strict=True):
            out[row] = BatchMeans(float(mean[row]), None, 0, float(value) if ok else math.nan)
    for used in np.unique(np.maximum(size[size > 0], n // INTERVAL_BATCHES)):
        rows = np.flatnonzero((size > 0) & (np.maximum(size, n // INTERVAL_BATCHES) == used))
        batch_sums, batch_weights = _batched(sums[rows], weights[rows], int(used))
        k = batch_sums.shape[1]
        deviation = batch_sums - mean[rows, None] * batch_weights
        spread = np.sqrt(np.einsum("ij,ij->i", deviation, deviation) / (k - 1)) / (batch_weights.mean(axis=1)
                                                                                 * math.sqrt(k))
        lag1 = np.atleast_1d(lag1_autocorrelation(batch_sums / batch_weights))
        for i, row in enumerate(rows):
            out[row] = BatchMeans(float(mean[row]), t975(k - 1) * float(spread[i]), k, float(lag1[i]))
    return [result for result in out if result is not None]


def _batched(sums: FloatArray, weights: FloatArray, size: int) -> tuple[FloatArray, FloatArray]:
    """Sums and weights of batches of ``size`` neighbouring bins along the last axis, the earliest ``n mod size``
    bins left out."""
    n = sums.shape[-1]
    k = n // size
    start = n - k * size
    shape = (*sums.shape[:-1], k, size)
    return sums[..., start:].reshape(shape).sum(axis=-1), weights[..., start:].reshape(shape).sum(axis=-1)


def batch_size(sums: FloatArray, weights: FloatArray, *, min_batches: int = MIN_BATCHES) -> int:
    """Bins per batch: the first of ``1, 2, 4, …`` whose batch means pass the lag-1 test (0: none does while
    ``min_batches`` batches remain)."""
    return int(batch_sizes(sums[None, :], weights[None, :], min_batches=min_batches)[0])


def batch_sizes(sums: FloatArray, weights: FloatArray, *, min_batches: int = MIN_BATCHES) -> npt.NDArray[np.int64]:
    """:func:`batch_size` of every row of ``(sums, weights)`` (rows × bins)."""
    found = np.zeros(sums.shape[0], dtype=np.int64)
    size = 1
    while sums.shape[1] // size >= min_batches and not found.all():
        batch_sums, batch_weights = _batched(sums, weights, size)
        with np.errstate(divide="ignore", invalid="ignore"):
            lag1 = lag1_autocorrelation(batch_sums / batch_weights)
        passed = np.all(batch_weights > 0, axis=1) & (lag1 < LAG1_Z / math.sqrt(batch_sums.shape[1]))
        found = np.where((found == 0) & passed, size, found)
        size *= 2
    return found


def mser_truncation(sums: FloatArray, weights: FloatArray) -> int:
    """How many leading bins MSER deletes (White, Cobb & Spratt, WSC 2000): over the means ``Y_j`` of the ``n``
    batches of :func:`batch_size` bins (uncorrelated; the largest tried when none is; empty batches left out), the
    ``d <= n/2`` minimising ``Σ_{j>d} (Y_j − Ȳ_d)² / (n − d)²``, in bins. MSER-5 batches 5 observations; time bins
    of a busy queue are correlated far beyond 5, so the batches grow until they are not."""
    size = batch_size(sums, weights) or max(sums.size // MIN_BATCHES, 1)
    batch_sums, batch_weights = _batched(sums, weights, size)
    kept = np.flatnonzero(batch_weights > 0)
    if kept.size < 4:
        return 0
    y = batch_sums[kept] / batch_weights[kept]
    count = np.arange(1, y.size + 1, dtype=np.float64)
    tail = y[::-1]
    tail_mean = np.cumsum(tail) / count
    sse = ((np.cumsum(tail * tail) / count - tail_mean**2) * count)[::-1]  # Σ_{j>=d} (Y_j − Ȳ_d)², d = 0 … n−1
    statistic = sse / count[::-1] ** 2
    d = int(np.argmin(statistic[:y.size // 2 + 1]))
    return (sums.size - batch_sums.size * size) + int(kept[d]) * size


def transient_matters(sums: FloatArray, weights: FloatArray, measured_from: int, detected: int) -> bool:
    """Whether deleting bins ``measured_from … detected − 1`` moves the ratio estimate by more than the batch-means
    half-width of what remains: a start-up transient that biases the statistics beyond their stated precision
    (``False`` when the remainder is too short to have an interval: then nothing can be said)."""
    if detected <= measured_from:
        return False
    kept = batch_means(sums[detected:], weights[detected:])
    measured = batch_means(sums[measured_from:], weights[measured_from:])
    return kept.half_width is not None and abs(measured.mean - kept.mean) > kept.half_width


def queue_growth(times_s: FloatArray, queue: FloatArray) -> tuple[Any, Any]:
    """A least-squares line through ``queue`` against ``times_s`` (one series, or one per column of
    ``queue``): how much it grew over the series (slope times span) and the standard deviation of the series around
    it (``(0, 0)`` for fewer than three points); floats for one series, arrays for columns."""
    columns = queue.reshape(queue.shape[0], -1)
    if times_s.size < 3 or times_s[-1] <= times_s[0]:
        zero = np.zeros(columns.shape[1])
        return (0.0, 0.0) if queue.ndim == 1 else (zero, zero)
    t = times_s - times_s.mean()
    centred = columns - columns.mean(axis=0)
    slope = t @ centred / float(t @ t)
    residual = centred - np.outer(t, slope)
    growth, spread = slope * float(times_s[-1] - times_s[0]), residual.std(axis=0)
    return (float(growth[0]), float(spread[0])) if queue.ndim == 1 else (growth, spread)
