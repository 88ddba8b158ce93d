"""Per-replication statistics and their combination over replications with 95 % confidence intervals.

With two or more replications a statistic's interval is Student-t over the replication values; with one, over
the batch means of the run, batches grown until their means are not correlated
(:func:`simulator.output_analysis.batch_means`; tasks batched by creation time; quantiles per batch need the
records, so they are ``None`` in streaming mode) or ``None`` with a warning when the run is too short to say.
:func:`combine` returns a :class:`simulator.result.PolicySummary` (``None`` where a statistic is undefined; its
``to_dict`` is the JSON form) and the warnings of the policy's runs: a run too short for an interval, a warm-up
shorter than MSER detects (:func:`simulator.output_analysis.mser_truncation` over the whole run) when the transient
it cuts off moves the mean latency by more than its interval, an overloaded station (:mod:`simulator.stations`).

Rates are over measured tasks (created after the warm-up) that finished: ``offload_fraction`` and
``deadline_miss_rate`` count dropped tasks (a drop is a miss); ``energy_j_per_task`` is the device energy of all
finished tasks, dropped ones included, per *completed* task, so energy wasted on dropped work is charged to the
useful results; it is undefined (``None``) when no device declares any power or tail energy.

One meaning per kind of number over replications: every *count* (``tasks``, the monitor's ``counter`` of requests
served after the warm-up) is the total over all replications; every rate, time, fraction and utilisation is the
mean of the replications' values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from simulator.jobs import EngineOutput
from simulator.output_analysis import (
    BASE_BINS,
    MIN_BATCHES,
    batch_means,
    finite_mean,
    mser_truncation,
    student_half_width,
    transient_matters,
)
from simulator.result import LATENCY_KEYS, LatencySummary, MonitorSummary, PolicySummary, TaskCounts
from simulator.stations import combine_stations, station_stats


def t_half_width(values: Sequence[float]) -> float | None:
    """Half-width of the 95 % Student-t interval of the mean of ``values`` (``None`` for fewer than two)."""
    sample = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=np.float64)
    return student_half_width(sample) if sample.size >= 2 else None


def replication_stats(output: EngineOutput, *, window_s: float, services: Sequence[str], warmup_s: float
                      ) -> dict[str, Any]:
    """The summary quantities of one replication (plain floats; NaN where undefined)."""
    sink = output.sink
    stats = sink.stats
    metered = any(bool(np.any(powers > 0)) for powers in sink.layout.group_powers.values())
    done = stats.completed_measured
    finished = stats.finished_measured
    detected = mser_truncation(stats.run_sum_s, stats.run_count)
    latency = {"mean": stats.latency_sum_s / done if done else math.nan, **sink.latency_quantiles_s()}
    monitor = {}
    for k, service in enumerate(services):
        count = float(stats.monitor_count[k])
        monitor[service] = {"avg_qpm": count / (window_s / 60.0),
                            "avg_req_time_s": float(stats.monitor_time_s[k]) / count if count else math.nan,
                            "counter": count}
    utilisation = {p.name: p.busy_area / (p.workers * window_s) for p in output.pools}
    little = {p.name: {"L": (p.busy_area + p.queue_area) / window_s,
                       "lambda_W": (p.arrivals / window_s) * (p.sojourn_sum_s / p.served) if p.served else math.nan}
              for p in output.pools}
    return {
        "latency_s": latency,
        "batches": sink.batch_quantiles_s(),
        "latency_bins": (stats.batch_sum_s, stats.batch_count),
        "warmup_s": warmup_s,
        "warmup_detected_s": detected * sink.duration_s / BASE_BINS,
        "warmup_matters": transient_matters(stats.run_sum_s, stats.run_count,
                                            math.ceil(warmup_s / sink.duration_s * BASE_BINS), detected),
        "stations": station_stats(output, stats, window_s=window_s, warmup_s=warmup_s),
        "energy_j_per_task": stats.energy_sum_j / done if done and metered else math.nan,
        "offload_fraction": stats.offloaded / finished if finished else math.nan,
        "deadline_miss_rate": stats.missed / finished if finished else math.nan,
        "utilisation": utilisation,
        "monitor": monitor,
        "littles_law": little,
        "battery_j": float(output.samples.battery_j.mean()) if output.samples.battery_j.size else math.nan,
        "tasks": {"generated": output.generated, "completed": stats.completed, "dropped": stats.dropped,
                  "in_flight": output.in_flight},
    }



def _latency(values: dict[str, float | None]) -> LatencySummary:
    return LatencySummary(*(values[key] for key in LATENCY_KEYS))


def combine(reps: Sequence[dict[str, Any]], policy: str = "") -> tuple[PolicySummary, dict[str, Any], list[str]]:
    """Summary of one policy over its replications, its Little's-law check for the metadata and its warnings."""
    warnings: list[str] = []
    latency = {key: finite_mean([r["latency_s"][key] for r in reps]) for key in LATENCY_KEYS}
    if len(reps) >= 2:
        ci = {key: t_half_width([r["latency_s"][key] for r in reps]) for key in LATENCY_KEYS}
    else:
        batches = reps[0]["batches"]
        spread = batch_means(*reps[0]["latency_bins"])
        ci = {key: t_half_width(batches[key]) if key in batches else None for key in LATENCY_KEYS}
        ci["mean"] = spread.half_width
        if spread.half_width is None and math.isfinite(spread.mean):
            why = ("some of them without a completed task" if math.isnan(spread.lag1)
                   else f"still correlated, lag-1 autocorrelation {spread.lag1:.2f}")
            warnings.append(f"{policy}: the run is too short to say how precise its latency is (with {MIN_BATCHES} "
                            f"batch means, {why}): no interval; run longer or replicate")
    detected = max(r["warmup_detected_s"] for r in reps)
    if any(r["warmup_matters"] for r in reps):
        warnings.append(f"{policy}: MSER puts the end of the warm-up at {detected:.4g} s, after the configured "
                        f"{reps[0]['warmup_s']:.4g} s: the start-up transient biases the statistics (set run.warmup "
                        f"to at least {detected:.4g} s, or auto)")
    stations, overloaded = combine_stations([r["stations"] for r in reps], policy)
    warnings.extend(overloaded)
    servers = reps[0]["utilisation"].keys()
    monitor = {}
    for service in reps[0]["monitor"]:
        rows = [r["monitor"][service] for r in reps]
        monitor[service] = MonitorSummary(avg_qpm=finite_mean([m["avg_qpm"] for m in rows]),
                                          avg_req_time_s=finite_mean([m["avg_req_time_s"] for m in rows]),
                                          counter=int(sum(m["counter"] for m in rows)))
    summary = PolicySummary(
        latency_s=_latency(latency),
        latency_ci95_s=_latency(ci),
        energy_j_per_task=finite_mean([r["energy_j_per_task"] for r in reps]),
        offload_fraction=finite_mean([r["offload_fraction"] for r in reps]),
        deadline_miss_rate=finite_mean([r["deadline_miss_rate"] for r in reps]),
        utilisation={s: finite_mean([r["utilisation"][s] for r in reps]) for s in servers},
        monitor=monitor,
        tasks=TaskCounts(**{key: int(sum(r["tasks"][key] for r in reps)) for key in reps[0]["tasks"]}),
        stations=stations,
        battery_j=finite_mean([r["battery_j"] for r in reps]),
    )
    little = {s: {key: finite_mean([r["littles_law"][s][key] for r in reps]) for key in ("L", "lambda_W")}
              for s in servers}
    return summary, little, warnings


def json_safe(value: Any) -> Any:
    """Replace NaN/inf floats by ``None`` and numpy scalars by Python ones, recursively."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
