"""Human-readable summary tables of a simulate run and of a placement (the CLI prints them; no I/O here)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from simulator.scenario.loader import Scenario

_LATENCY_KEYS = ("mean", "p50", "p95", "p99")


def _time(value: float | None, half_width: float | None = None) -> str:
    """``134.8 ms`` or ``134.8±18.4 ms``: one unit for the value and its CI half-width."""
    if value is None:
        return "-"
    scale, unit = next(((f, u) for f, u in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")) if abs(value) >= f),
                       (1e-6, "µs"))
    if half_width is None:
        return f"{value / scale:.4g} {unit}"
    half = half_width / scale
    half_text = "0" if half < 5e-4 else f"{float(f'{half:.2g}'):g}"
    return f"{value / scale:.4g}±{half_text} {unit}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100.0 * value:.1f}%"


def _share(tasks: Mapping[str, Any] | None, key: str) -> str:
    """Share of generated tasks counted under ``key`` (``dropped``: queue full or deadline expired; ``in_flight``:
    still unfinished when the run ended), over all replications."""
    if not tasks or not tasks.get("generated"):
        return "-"
    return _percent(tasks.get(key, 0) / tasks["generated"])


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


def format_summary(scenario: Scenario, summary: Mapping[str, Any]) -> str:
    """The placement (when the scenario has one), the summary table per policy and the per-service monitor, as
    printed by ``mecsim simulate``."""
    policies: Mapping[str, Any] = summary["policies"]
    head = (f"{scenario.name} (sha256 {scenario.sha256[:12]})  seed {summary.get('seed')}, "
            f"{summary.get('replications')} replication(s) of {summary.get('duration_s', 0):g} s, "
            f"warm-up {summary.get('warmup_s', 0):g} s")
    placement = summary.get("placement")
    if placement is not None:
        head = "\n".join([head, "", "placement (replicas placed before simulating):",
                           *placement_lines(placement, placement["weights"])])
    rows = [["policy", *(f"{key} latency" for key in _LATENCY_KEYS), "energy/task", "offload", "dropped",
             "unfinished", "deadline miss", "utilisation"]]
    for name, stats in policies.items():
        ci = stats.get("latency_ci95_s") or {}
        utilisation = ", ".join(f"{server} {_percent(value)}" for server, value in stats["utilisation"].items())
        rows.append([name, *(_time(stats["latency_s"].get(key), ci.get(key)) for key in _LATENCY_KEYS),
                     _energy(stats.get("energy_j_per_task")), _percent(stats.get("offload_fraction")),
                     _share(stats.get("tasks"), "dropped"), _share(stats.get("tasks"), "in_flight"),
                     _percent(stats.get("deadline_miss_rate")), utilisation or "-"])
    monitor = [["monitor", "service", "avg QPM", "avg request time", "calls"]]
    for name, stats in policies.items():
        for service, values in stats["monitor"].items():
            qpm = values.get("avg_qpm")
            monitor.append([name, service, "-" if qpm is None else f"{qpm:.2f}", _time(values.get("avg_req_time_s")),
                            str(values.get("counter"))])
    replications = summary.get("replications")
    spread = (f"mean of {replications} replications ± 95% CI half-width (Student t over the replications)"
              if isinstance(replications, int) and replications >= 2 else
              "the one replication's mean ± 95% CI half-width over its batch means")
    note = [(f"latency: {spread}; offload, deadline miss, utilisation, avg QPM, avg request time: means over "
             "replications."),
            ("energy/task: device energy per completed task (energy spent on dropped tasks included; - when no "
             "device has a power)."),
            ("counts are totals over all replications: dropped and unfinished (still in progress at the end) are "
             "shares of every generated task; calls are the requests served after the warm-up.")]
    return "\n".join([head, "", *_table(rows), "", *_table(monitor), "", *note])
