"""Human-readable summary tables of a simulate run and of a placement (the CLI prints them; no I/O here)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from simulator.result import LATENCY_KEYS, Estimate, LatencySummary, SimulationResult, TaskCounts
from simulator.scenario.loader import Scenario


def _time(value: float | None, half_width: float | None = None) -> str:
    """``134.8 ms`` or ``134.8±18.4 ms``: one unit for the value and its CI half-width."""
    if value is None:
        return "-"
    scale, unit = next(((f, u) for f, u in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")) if abs(value) >= f),
                       (1e-6, "µs"))
    if half_width is None:
        return f"{value / scale:.4g} {unit}"
    return f"{value / scale:.4g}±{_half(half_width / scale)} {unit}"


def _half(half_width: float) -> str:
    """A CI half-width in two significant digits ("0" below 5e-4 of the unit)."""
    return "0" if half_width < 5e-4 else f"{float(f'{half_width:.2g}'):g}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100.0 * value:.1f}%"


def _share(tasks: TaskCounts, count: int) -> str:
    """Share of ``tasks.generated`` that ``count`` is (over all replications)."""
    return _percent(count / tasks.generated) if tasks.generated else "-"


def _latencies(values: LatencySummary, half_widths: LatencySummary) -> list[str]:
    pairs = zip((values.mean_s, values.p50_s, values.p95_s, values.p99_s),
                (half_widths.mean_s, half_widths.p50_s, half_widths.p95_s, half_widths.p99_s), strict=True)
    return [_time(value, half) for value, half in pairs]


def _energy(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g} J"


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) if i == 0 else cell.rjust(width)
                      for i, (cell, width) in enumerate(zip(row, widths, strict=True))).rstrip() for row in rows]


def format_gap(gap: float | None) -> str:
    """A relative gap as a percentage; ``None`` or non-finite is "unknown", below 1e-9 (solver tolerance) "0%"."""
    if gap is None or not math.isfinite(gap):
        return "unknown"
    return "0%" if gap < 1e-9 else f"{100 * gap:.3g}%"


def placement_lines(entry: Mapping[str, Any], weights: Mapping[str, float]) -> list[str]:
    """One solver's placement: status, replicas per service and node, objective terms, lower bound and gap.

    ``entry`` is a :func:`scheduler.problem_io.result_to_dict` object and ``weights`` the objective weights
    (``latency``, ``compute``, ``traffic``). Callers pass only placements the independent checker accepted.
    """
    lines = [f"solver {entry['solver']}: {entry['status']} — {entry['message']} ({entry['runtime_s']:.2f} s)"]
    for row in entry["services"]:
        where = ", ".join(f"{node} x{v['replicas']} ({v['rate_per_s']:.3g} req/s)" for node, v in row["nodes"].items())
        lines.append(f"  {row['service']:<22} {row['replicas']:>3} replicas  {where or '-'}")
    terms = entry["objective"]
    if terms is not None:
        lines.append(f"objective {terms['total']:.6g} = {weights['latency']:g} x mean latency "
                     f"{terms['mean_latency_s'] * 1e3:.4g} ms + {weights['compute']:g} x compute "
                     f"{terms['compute_cost_per_s'] * 3600:.4g}/h + {weights['traffic']:g} x traffic "
                     f"{terms['traffic_cost_per_s'] * 3600:.4g}/h")
    bound = entry["lower_bound"]
    lines.append(f"lower bound {'unknown' if bound is None else f'{bound:.6g}'}, gap {format_gap(entry['gap'])}"
                 + ("; checked: feasible" if terms is not None else ""))
    return lines


def format_summary(scenario: Scenario, result: SimulationResult) -> str:
    """The placement (when the scenario has one), the summary table per policy and the per-service monitor, as
    printed by ``mecsim simulate``."""
    meta = result.metadata
    head = (f"{scenario.name} (sha256 {scenario.sha256[:12]})  seed {meta['seed']}, "
            f"{meta['replications']} replication(s) of {meta['duration_s']:g} s, warm-up {meta['warmup_s']:g} s")
    placement = result.placement
    if placement is not None:
        head = "\n".join([head, "", "placement (replicas placed before simulating):",
                           *placement_lines(placement, placement["weights"])])
    rows = [["policy", *(f"{key} latency" for key in LATENCY_KEYS), "energy/task", "offload", "dropped",
             "unfinished", "deadline miss", "utilisation"]]
    for name, stats in result.policies.items():
        utilisation = ", ".join(f"{server} {_percent(value)}" for server, value in stats.utilisation.items())
        rows.append([name, *_latencies(stats.latency_s, stats.latency_ci95_s), _energy(stats.energy_j_per_task),
                     _percent(stats.offload_fraction), _share(stats.tasks, stats.tasks.dropped),
                     _share(stats.tasks, stats.tasks.in_flight), _percent(stats.deadline_miss_rate),
                     utilisation or "-"])
    monitor = [["monitor", "service", "avg QPM", "avg request time", "calls"]]
    for name, stats in result.policies.items():
        for service, values in stats.monitor.items():
            qpm = values.avg_qpm
            monitor.append([name, service, "-" if qpm is None else f"{qpm:.2f}", _time(values.avg_req_time_s),
                            str(values.counter)])
    stations = _station_rows(result)
    replications = meta["replications"]
    spread = (f"mean of {replications} replications ± 95% CI half-width (Student t over the replications)"
              if isinstance(replications, int) and replications >= 2 else
              "the one replication's mean ± 95% CI half-width over its batch means")
    note = [(f"latency: {spread}; offload, deadline miss, utilisation, avg QPM, avg request time: means over "
             "replications."),
            ("energy/task: device energy per completed task (energy spent on dropped tasks included; - when no "
             "device has a power)."),
            ("counts are totals over all replications: dropped and unfinished (still in progress at the end) are "
             "shares of every generated task; calls are the requests served after the warm-up."),
            ("station: per server, utilisation, wait (time at the server beyond the service needed), service, "
             "time-average queue length (± 95% CI half-width, as for latency), its 95th percentile, offered load "
             "λE[S]/c and drops by reason.")]
    warnings = [f"warning: {warning}" for warning in meta.get("warnings", [])]
    return "\n".join([head, "", *_table(rows), "", *_table(monitor), "", *_table(stations), "", *note,
                      *(["", *warnings] if warnings else [])])


def _number(estimate: Estimate, digits: str = ".3g") -> str:
    """``2.31±0.4``: a dimensionless estimate and its CI half-width."""
    if estimate.mean is None:
        return "-"
    return f"{estimate.mean:{digits}}" + ("" if estimate.ci95 is None else f"±{_half(estimate.ci95)}")


def _station_rows(result: SimulationResult) -> list[list[str]]:
    """Per policy and server: utilisation, wait, service, queue length (mean and p95), offered load, drops."""
    rows = [["station", "server", "utilisation", "wait", "service", "queue length", "queue p95", "offered load",
             "drops"]]
    for name, stats in result.policies.items():
        for server, station in stats.stations.items():
            util = station.utilisation
            drops = ", ".join(f"{reason} {count}" for reason, count in station.drops.items() if count)
            p95 = station.queue_quantiles.get("p95")
            rows.append([name, server, _number(Estimate(None if util.mean is None else 100 * util.mean,
                                                        None if util.ci95 is None else 100 * util.ci95), ".1f")
                         + ("%" if util.mean is not None else ""),
                         _time(station.wait_s.mean, station.wait_s.ci95),
                         _time(station.service_s.mean, station.service_s.ci95), _number(station.queue_length),
                         "-" if p95 is None else f"{p95:g}",
                         "-" if station.offered_load is None else f"{station.offered_load:.3g}", drops or "-"])
    return rows
