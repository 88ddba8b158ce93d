"""Per-station statistics of a run: utilisation, wait, service and queue length of every server with 95 %
intervals, queue-length percentiles, offered load and drops by reason, and the overload warning.

Over two or more replications an interval is Student-t over the replication values; over one, batch means
(:func:`simulator.output_analysis.batch_means`): the wait and service of served tasks by creation-time bins
(:class:`simulator.metrics.RecordSink`), utilisation and queue length by the time-series sample intervals after
the warm-up. A station is reported overloaded when its measured offered load ``λ E[S] / c`` is at least 1 and
nothing bounds its queue (no finite room, no reneging), or when a line fitted to its sampled queue length grew by
more than :data:`GROWTH_TASKS` tasks over the measured window and more than :data:`GROWTH_SPREAD` times the
spread of the samples around the line (a trend, not a fluctuation).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from simulator.engine import EngineOutput
from simulator.metrics import ReplicationStats
from simulator.output_analysis import batch_means, finite_mean, queue_growth, student_half_width
from simulator.result import DropReason, Estimate, StationSummary

#: Queue growth (tasks over the measured window) below which a trend is not reported.
GROWTH_TASKS = 10.0
#: Trend growth over the spread around it beyond which a queue counts as growing.
GROWTH_SPREAD = 3.0
QUANTILES = (0.50, 0.95, 0.99)


def time_quantile(time_at_length: np.ndarray, q: float) -> float:
    """The ``q``-quantile of a length that spent ``time_at_length[n]`` seconds at each value ``n``."""
    cumulative = np.cumsum(time_at_length)
    if cumulative.size == 0 or cumulative[-1] <= 0:
        return math.nan
    return float(np.searchsorted(cumulative, q * cumulative[-1], side="left"))


def station_stats(output: EngineOutput, stats: ReplicationStats, *, window_s: float,
                  warmup_s: float) -> dict[str, dict[str, Any]]:
    """One replication's statistics per server, with their within-run bins (plain floats; NaN where undefined)."""
    samples = output.samples
    times = samples.times_s
    later = np.flatnonzero(times[:-1] >= warmup_s) + 1  # sample intervals wholly after the warm-up
    spans = times[later] - times[later - 1]
    result = {}
    for k, pool in enumerate(output.pools):
        served = float(stats.station_count[k].sum())
        service_s = float(stats.station_service_s[k].sum()) / served if served else math.nan
        waiting = np.asarray(pool.queue_time, dtype=np.float64)
        at_length = np.concatenate([[max(window_s - float(waiting[1:].sum()), 0.0)], waiting[1:]])
        queue_mean = pool.queue_area / window_s
        growth, spread = queue_growth(times[later], samples.queue_length[later, k].astype(np.float64))
        result[pool.name] = {
            "utilisation": pool.busy_area / (pool.workers * window_s),
            "wait_s": float(stats.station_wait_s[k].sum()) / served if served else math.nan,
            "service_s": service_s,
            "queue_length": queue_mean,
            "queue_quantiles": {f"p{round(q * 100)}": time_quantile(at_length, q) for q in QUANTILES},
            "offered_load": pool.arrivals / window_s * service_s / pool.workers,
            "served": int(served),
            "drops": {reason.value: int(stats.station_drops[k, code])
                      for code, reason in enumerate(DropReason) if code},
            "bins": {"utilisation": (samples.utilisation[later, k] * spans, spans),
                     "wait_s": (stats.station_wait_s[k], stats.station_count[k]),
                     "service_s": (stats.station_service_s[k], stats.station_count[k]),
                     "queue_length": (samples.queue_area[later, k] - samples.queue_area[later - 1, k], spans)},
            "growth": growth,
            "spread": spread,
            "bounded": pool.bounded,
        }
    return result


def _estimate(rows: Sequence[dict[str, Any]], key: str) -> Estimate:
    values = [row[key] for row in rows]
    mean = finite_mean(values)
    if len(rows) >= 2:
        finite = np.asarray([v for v in values if math.isfinite(v)], dtype=np.float64)
        return Estimate(mean, student_half_width(finite) if finite.size >= 2 else None)
    sums, weights = rows[0]["bins"][key]
    return Estimate(mean, batch_means(np.asarray(sums, dtype=np.float64),
                                      np.asarray(weights, dtype=np.float64)).half_width)


def overload(row: dict[str, Any]) -> str | None:
    """Why one replication of a station is not in steady state (``None``: no sign of it)."""
    reasons = []
    if not row["bounded"] and row["offered_load"] >= 1.0:
        reasons.append(f"offered load ρ = {row['offered_load']:.3g} >= 1")
    if row["growth"] > max(GROWTH_TASKS, GROWTH_SPREAD * row["spread"]):
        reasons.append(f"its queue grew by {row['growth']:.0f} tasks over the measured window")
    return "; ".join(reasons) or None


def combine_stations(reps: Sequence[dict[str, dict[str, Any]]], policy: str
                     ) -> tuple[dict[str, StationSummary], list[str]]:
    """Every station's summary over the replications, and the overload warnings."""
    stations: dict[str, StationSummary] = {}
    warnings: list[str] = []
    for name in reps[0] if reps else ():
        rows = [rep[name] for rep in reps]
        stations[name] = StationSummary(
            utilisation=_estimate(rows, "utilisation"), wait_s=_estimate(rows, "wait_s"),
            service_s=_estimate(rows, "service_s"), queue_length=_estimate(rows, "queue_length"),
            queue_quantiles={key: finite_mean([row["queue_quantiles"][key] for row in rows])
                             for key in rows[0]["queue_quantiles"]},
            offered_load=finite_mean([row["offered_load"] for row in rows]),
            served=sum(row["served"] for row in rows),
            drops={reason: sum(row["drops"][reason] for row in rows) for reason in rows[0]["drops"]})
        why = next((reason for row in rows if (reason := overload(row)) is not None), None)
        if why is not None:
            warnings.append(f"{policy}: station {name} is overloaded ({why}): results are not steady-state")
    return stations, warnings
