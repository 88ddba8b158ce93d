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


def lag1_autocorrelation(values: FloatArray) -> float:
    """Sample lag-1 autocorrelation ``Σ (x_i − x̄)(x_{i+1} − x̄) / Σ (x_i − x̄)²`` (0 for a constant series)."""
    centred = values - values.mean()
    denominator = float(np.dot(centred, centred))
    return float(np.dot(centred[:-1], centred[1:]) / denominator) if denominator > 0 else 0.0


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
    total = float(weights.sum())
    mean = float(sums.sum()) / total if total > 0 else math.nan
    size = batch_size(sums, weights, min_batches=min_batches)
    if size == 0:
        batch_sums, batch_weights = _batched(sums, weights, max(sums.size // min_batches, 1))
        lag1 = (lag1_autocorrelation(batch_sums / batch_weights) if np.all(batch_weights > 0) and batch_sums.size > 1
                else math.nan)
        return BatchMeans(mean, None, 0, lag1)
    batch_sums, batch_weights = _batched(sums, weights, max(size, sums.size // INTERVAL_BATCHES))
    k = batch_sums.size
    deviation = batch_sums - mean * batch_weights
    spread = math.sqrt(float(np.dot(deviation, deviation)) / (k - 1)) / (float(batch_weights.mean()) * math.sqrt(k))
    half_width = t975(k - 1) * spread
    return BatchMeans(mean, half_width, k, lag1_autocorrelation(batch_sums / batch_weights))


def _batched(sums: FloatArray, weights: FloatArray, size: int) -> tuple[FloatArray, FloatArray]:
    """Sums and weights of batches of ``size`` neighbouring bins, the earliest ``n mod size`` bins left out."""
    k = sums.size // size
    start = sums.size - k * size
    return sums[start:].reshape(k, size).sum(axis=1), weights[start:].reshape(k, size).sum(axis=1)


def batch_size(sums: FloatArray, weights: FloatArray, *, min_batches: int = MIN_BATCHES) -> int:
    """Bins per batch: the first of ``1, 2, 4, …`` whose batch means pass the lag-1 test (0: none does while
    ``min_batches`` batches remain)."""
    size = 1
    while sums.size // size >= min_batches:
        batch_sums, batch_weights = _batched(sums, weights, size)
        if np.all(batch_weights > 0) and lag1_autocorrelation(batch_sums / batch_weights) < LAG1_Z / math.sqrt(
                batch_sums.size):
            return size
        size *= 2
    return 0


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


def queue_growth(times_s: FloatArray, queue: FloatArray) -> tuple[float, float]:
    """A least-squares line through ``queue`` against ``times_s``: how much it grew over the series (slope times
    span) and the standard deviation of the series around it (``(0, 0)`` for fewer than three points)."""
    if times_s.size < 3 or times_s[-1] <= times_s[0]:
        return 0.0, 0.0
    slope, intercept = np.polyfit(times_s, queue, 1)
    residual = queue - (slope * times_s + intercept)
    return float(slope) * float(times_s[-1] - times_s[0]), float(residual.std())
