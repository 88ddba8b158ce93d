"""Per-station statistics of a run: utilisation, wait, service and queue length of every server with 95 %
intervals, queue-length percentiles with intervals, offered load and drops by reason, and the overload warning.

Over two or more replications an interval is Student-t over the replication values; over one, batch means
(:func:`simulator.output_analysis.batch_means`): the wait and service of served tasks by creation-time bins
(:class:`simulator.metrics.RecordSink`), utilisation and queue length by the time-series sample intervals after
the warm-up. A queue-length percentile's single-run interval is Student-t over the same percentile of each batch of
sample intervals that made the queue length's batch means uncorrelated (each batch's time-at-length histogram is
the difference of the sampler's snapshots at its ends), as the latency percentiles do with their batches; a run too
short for the queue length's batch means has none either. A station is reported overloaded when its measured
offered load ``λ E[S] / c`` is at least 1 and nothing bounds its queue (no finite room, no reneging), or when a
line fitted to its sampled queue length grew by more than :data:`GROWTH_TASKS` tasks over the measured window and
more than :data:`GROWTH_SPREAD` times the spread of the samples around the line (a trend, not a fluctuation).

Every statistic is computed for all stations at once (arrays indexed by station), so a run with hundreds of
servers pays a few array operations at the end, not Python work per station.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from simulator.jobs import EngineOutput
from simulator.metrics import ReplicationStats
from simulator.output_analysis import batch_means_rows, queue_growth, t975
from simulator.result import DropReason, Estimate, StationSummary

FloatArray = npt.NDArray[np.float64]
#: Queue growth (tasks over the measured window) below which a trend is not reported.
GROWTH_TASKS = 10.0
#: Trend growth over the spread around it beyond which a queue counts as growing.
GROWTH_SPREAD = 3.0
QUANTILES = (0.50, 0.95, 0.99)
#: Statistics with an interval, each from its bins.
ESTIMATES = ("utilisation", "wait_s", "service_s", "queue_length")


def time_quantile(time_at_length: np.ndarray, q: float) -> float:
    """The ``q``-quantile of a length that spent ``time_at_length[n]`` seconds at each value ``n``."""
    return float(time_quantiles(np.asarray(time_at_length, dtype=np.float64)[None, :], (q,))[0, 0])


def time_quantiles(time_at_length: FloatArray, qs: Sequence[float]) -> FloatArray:
    """Per row of ``time_at_length`` (rows × lengths), its ``qs``-quantiles (rows × len(qs)); NaN for a row that
    spent no time."""
    cumulative = np.cumsum(time_at_length, axis=1)
    total = cumulative[:, -1:] if cumulative.shape[1] else np.zeros((cumulative.shape[0], 1))
    out = np.full((cumulative.shape[0], len(qs)), math.nan)
    spent = total[:, 0] > 0
    for j, q in enumerate(qs):
        # the smallest n whose cumulative time reaches q of the total (searchsorted "left" per row)
        out[spent, j] = np.argmax(cumulative[spent] >= q * total[spent], axis=1)
    return out


def _histograms(snapshots: Sequence[list[float]], edges: npt.NDArray[np.intp], spans: FloatArray) -> FloatArray:
    """Time-at-length histograms (batches × lengths) between consecutive snapshots ``edges``; length 0 gets the
    rest of each batch's span."""
    width = max(len(snapshots[i]) for i in edges)
    cumulative = np.zeros((edges.size, width))
    for row, i in enumerate(edges):
        cumulative[row, :len(snapshots[i])] = snapshots[i]
    hist = np.diff(cumulative, axis=0)
    hist[:, 0] = np.maximum(spans - hist[:, 1:].sum(axis=1), 0.0)
    return hist


def _quantile_intervals(output: EngineOutput, later: npt.NDArray[np.intp], batches: npt.NDArray[np.int64]
                        ) -> FloatArray:
    """Stations × quantiles: the single-run 95 % half-width of each queue-length percentile (NaN: too short)."""
    samples = output.samples
    out = np.full((len(output.pools), len(QUANTILES)), math.nan)
    n = later.size
    for k in np.flatnonzero(batches >= 2):
        count = int(batches[k])
        size = n // count
        first = later[n - count * size] - 1  # the sample that opens the first batch (earliest n mod size left out)
        edges = first + size * np.arange(count + 1)
        spans = np.diff(samples.times_s[edges])
        values = time_quantiles(_histograms(samples.queue_time[k], edges, spans), QUANTILES)
        out[k] = t975(count - 1) * values.std(axis=0, ddof=1) / math.sqrt(count)
    return out


def station_stats(output: EngineOutput, stats: ReplicationStats, *, window_s: float,
                  warmup_s: float) -> dict[str, Any]:
    """One replication's statistics of every server as arrays indexed by station (NaN where undefined), with the
    single-run interval half-widths (batch means; NaN: too short to say)."""
    samples = output.samples
    times = samples.times_s
    later = np.flatnonzero(times[:-1] >= warmup_s) + 1  # sample intervals wholly after the warm-up
    spans = times[later] - times[later - 1]
    pools = output.pools
    workers = np.array([pool.workers for pool in pools], dtype=np.float64)
    served = stats.station_count.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        service_s = np.where(served > 0, stats.station_service_s.sum(axis=1) / served, math.nan)
        wait_s = np.where(served > 0, stats.station_wait_s.sum(axis=1) / served, math.nan)
    width = max((len(pool.queue_time) for pool in pools), default=1)
    at_length = np.zeros((len(pools), width))
    for k, pool in enumerate(pools):
        at_length[k, 1:len(pool.queue_time)] = pool.queue_time[1:]
    at_length[:, 0] = np.maximum(window_s - at_length[:, 1:].sum(axis=1), 0.0)
    utilisation = samples.utilisation[later].T
    area = (samples.queue_area[later] - samples.queue_area[later - 1]).T
    span_rows = np.broadcast_to(spans, utilisation.shape)
    bins = {"utilisation": (utilisation * spans, span_rows), "wait_s": (stats.station_wait_s, stats.station_count),
            "service_s": (stats.station_service_s, stats.station_count), "queue_length": (area, span_rows)}
    spread = {key: batch_means_rows(np.asarray(sums, dtype=np.float64), np.asarray(weights, dtype=np.float64))
              for key, (sums, weights) in bins.items()}
    growth, trend_spread = queue_growth(times[later], samples.queue_length[later].astype(np.float64))
    return {
        "names": tuple(pool.name for pool in pools),
        "utilisation": np.array([pool.busy_area for pool in pools]) / (workers * window_s),
        "wait_s": wait_s,
        "service_s": service_s,
        "queue_length": np.array([pool.queue_area for pool in pools]) / window_s,
        "ci95": {key: np.array([math.nan if b.half_width is None else b.half_width for b in rows])
                 for key, rows in spread.items()},
        "queue_quantiles": time_quantiles(at_length, QUANTILES),
        "queue_quantiles_ci95": _quantile_intervals(
            output, later, np.array([b.batches for b in spread["queue_length"]], dtype=np.int64)),
        "offered_load": np.array([pool.arrivals for pool in pools]) / window_s * service_s / workers,
        "served": served.astype(np.int64),
        "drops": stats.station_drops,
        "growth": np.atleast_1d(growth),
        "spread": np.atleast_1d(trend_spread),
        "bounded": np.array([pool.bounded for pool in pools], dtype=bool),
    }


def _mean_and_interval(values: FloatArray, single_ci95: FloatArray | None) -> tuple[FloatArray, FloatArray]:
    """Per station (``values``: replications × stations [× more]): the mean of the finite values and its 95 %
    half-width, Student-t over the replications or ``single_ci95`` (batch means) for one; NaN where undefined."""
    finite = np.isfinite(values)
    count = finite.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(finite, values, 0.0).sum(axis=0) / count
    if values.shape[0] < 2:
        return mean, (np.full(mean.shape, math.nan) if single_ci95 is None else single_ci95)
    deviation = np.where(finite, values - mean, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        std = np.sqrt((deviation**2).sum(axis=0) / (count - 1))
    t = np.full(count.shape, math.nan)
    for c in np.unique(count[count >= 2]):
        t[count == c] = t975(int(c) - 1)
    return mean, t * std / np.sqrt(count)


def _optional(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def overload(offered_load: float, growth: float, spread: float, bounded: bool) -> str | None:
    """Why one replication of a station is not in steady state (``None``: no sign of it)."""
    reasons = []
    if not bounded and offered_load >= 1.0:
        reasons.append(f"offered load ρ = {offered_load:.3g} >= 1")
    if growth > max(GROWTH_TASKS, GROWTH_SPREAD * spread):
        reasons.append(f"its queue grew by {growth:.0f} tasks over the measured window")
    return "; ".join(reasons) or None


def combine_stations(reps: Sequence[dict[str, Any]], policy: str) -> tuple[dict[str, StationSummary], list[str]]:
    """Every station's summary over the replications, and the overload warnings."""
    if not reps or not reps[0]["names"]:
        return {}, []
    single = len(reps) == 1
    estimates = {}
    for key in ESTIMATES:
        mean, half = _mean_and_interval(np.stack([rep[key] for rep in reps]), reps[0]["ci95"][key] if single
                                        else None)
        estimates[key] = [Estimate(_optional(m), _optional(h)) for m, h in zip(mean, half, strict=True)]
    quantile, quantile_ci95 = _mean_and_interval(
        np.stack([rep["queue_quantiles"] for rep in reps]), reps[0]["queue_quantiles_ci95"] if single else None)
    offered, _ = _mean_and_interval(np.stack([rep["offered_load"] for rep in reps]), None)
    served = sum(rep["served"] for rep in reps)
    drops = sum(rep["drops"] for rep in reps)
    keys = [f"p{round(q * 100)}" for q in QUANTILES]
    stations: dict[str, StationSummary] = {}
    warnings: list[str] = []
    for k, name in enumerate(reps[0]["names"]):
        stations[name] = StationSummary(
            utilisation=estimates["utilisation"][k], wait_s=estimates["wait_s"][k],
            service_s=estimates["service_s"][k], queue_length=estimates["queue_length"][k],
            queue_quantiles={key: _optional(quantile[k, j]) for j, key in enumerate(keys)},
            queue_quantiles_ci95={key: _optional(quantile_ci95[k, j]) for j, key in enumerate(keys)},
            offered_load=_optional(offered[k]), served=int(served[k]),
            drops={reason.value: int(drops[k, code]) for code, reason in enumerate(DropReason) if code})
        why = next((reason for rep in reps if (reason := overload(
            float(rep["offered_load"][k]), float(rep["growth"][k]), float(rep["spread"][k]),
            bool(rep["bounded"][k]))) is not None), None)
        if why is not None:
            warnings.append(f"{policy}: station {name} is overloaded ({why}): results are not steady-state")
    return stations, warnings
