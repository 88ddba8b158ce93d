"""Human-readable summary tables of a simulate run and of a placement (the CLI prints them; no I/O here)."""

from __future__ import annotations

import math
import textwrap
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


#: Servers listed inline in the summary table; with more, the table shows mean and busiest, and a block follows.
INLINE_SERVERS = 3
#: Rows of the per-server utilisation block (the busiest servers); the JSON summary has every server.
SERVER_ROWS = 10
#: Nodes listed per service in a placement (the busiest); the JSON summary has every node.
NODES_SHOWN = 6
#: Width used when the caller does not know the terminal's.
DEFAULT_WIDTH = 100


def fit_table(rows: list[list[str]], width: int, *, fixed: int = 1) -> list[str]:
    """``rows`` as aligned text no wider than ``width`` where possible: the first ``fixed`` columns (left-aligned
    labels) start every line, and the columns that do not fit after them continue in a further block below."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    label_width = sum(widths[:fixed]) + 2 * (fixed - 1)
    blocks: list[list[int]] = [[]]
    used = label_width
    for i in range(fixed, len(widths)):
        if blocks[-1] and used + 2 + widths[i] > width:
            blocks.append([])
            used = label_width
        blocks[-1].append(i)
        used += 2 + widths[i]
    lines: list[str] = []
    for number, block in enumerate(blocks):
        if number:
            lines.append("")
        for row in rows:
            cells = [*(row[i].ljust(widths[i]) for i in range(fixed)), *(row[i].rjust(widths[i]) for i in block)]
            lines.append("  ".join(cells).rstrip())
    return lines


def _utilisation_cell(utilisation: Mapping[str, float | None]) -> str:
    if len(utilisation) <= INLINE_SERVERS:
        return ", ".join(f"{server} {_percent(value)}" for server, value in utilisation.items()) or "-"
    known = {server: value for server, value in utilisation.items() if value is not None}
    if not known:
        return "-"
    busiest = max(known, key=lambda server: known[server])
    return f"mean {_percent(sum(known.values()) / len(known))}, max {_percent(known[busiest])} {busiest}"


def _server_block(result: SimulationResult, width: int) -> list[str]:
    """The busiest servers' utilisation per policy, when there are too many servers to list inline."""
    servers: dict[str, float] = {}
    for stats in result.policies.values():
        for server, value in stats.utilisation.items():
            servers[server] = max(servers.get(server, 0.0), value or 0.0)
    if len(servers) <= INLINE_SERVERS:
        return []
    shown = sorted(servers, key=lambda server: (-servers[server], server))[:SERVER_ROWS]
    rows = [["utilisation", *result.policies]]
    rows += [[server, *(_percent(stats.utilisation.get(server)) for stats in result.policies.values())]
             for server in shown]
    rest = len(servers) - len(shown)
    more = (f"... and {rest} more servers, each at most {_percent(servers[shown[-1]])} busy (every server: --json "
            "or --out DIR/summary.json)")
    tail = [more] if rest else []
    return ["", *fit_table(rows, width), *tail]


def format_gap(gap: float | None) -> str:
    """A relative gap as a percentage; ``None`` or non-finite is "unknown", below 1e-9 (solver tolerance) "0%"."""
    if gap is None or not math.isfinite(gap):
        return "unknown"
    return "0%" if gap < 1e-9 else f"{100 * gap:.3g}%"


def placement_lines(entry: Mapping[str, Any], weights: Mapping[str, float], *,
                    width: int = DEFAULT_WIDTH) -> list[str]:
    """One solver's placement: status, replicas per service and node, objective terms, lower bound and gap.

    ``entry`` is a :func:`scheduler.problem_io.result_to_dict` object and ``weights`` the objective weights
    (``latency``, ``compute``, ``traffic``). Callers pass only placements the independent checker accepted. Lines
    wrap at ``width`` columns; a service on more than :data:`NODES_SHOWN` nodes lists its busiest ones.
    """
    # the status line stays one line (read back by scripts); the node lists below wrap
    lines = [f"solver {entry['solver']}: {entry['status']} — {entry['message']} ({entry['runtime_s']:.2f} s)"]
    for row in entry["services"]:
        nodes = sorted(row["nodes"].items(), key=lambda item: -item[1]["rate_per_s"])
        where = ", ".join(f"{node} x{v['replicas']} ({v['rate_per_s']:.3g} req/s)" for node, v in nodes[:NODES_SHOWN])
        if len(nodes) > NODES_SHOWN:
            rest = nodes[NODES_SHOWN:]
            where += (f", and {len(rest)} more nodes ({sum(v['rate_per_s'] for _, v in rest):.4g} req/s; every node: "
                      "--json)")
        head = f"  {row['service']:<22} {row['replicas']:>3} replicas  "
        lines += textwrap.wrap(where or "-", width=max(width, len(head) + 20), initial_indent=head,
                               subsequent_indent=" " * len(head), break_on_hyphens=False)
    terms = entry["objective"]
    if terms is not None:
        lines += textwrap.wrap(f"objective {terms['total']:.6g} = {weights['latency']:g} x mean latency "
                               f"{terms['mean_latency_s'] * 1e3:.4g} ms + {weights['compute']:g} x compute "
                               f"{terms['compute_cost_per_s'] * 3600:.4g}/h + {weights['traffic']:g} x traffic "
                               f"{terms['traffic_cost_per_s'] * 3600:.4g}/h", width=width, subsequent_indent="  ")
    bound = entry["lower_bound"]
    lines.append(f"lower bound {'unknown' if bound is None else f'{bound:.6g}'}, gap {format_gap(entry['gap'])}"
                 + ("; checked: feasible" if terms is not None else ""))
    return lines


def format_summary(scenario: Scenario, result: SimulationResult, *, width: int = DEFAULT_WIDTH) -> str:
    """The placement (when the scenario has one), the summary table per policy and the per-service monitor, as
    printed by ``mecsim simulate``, fitted to ``width`` columns: a table too wide continues in a block below, and
    with more than :data:`INLINE_SERVERS` servers the utilisation column gives the mean and the busiest server,
    followed by the busiest servers' utilisation per policy."""
    meta = result.metadata
    head = (f"{scenario.name} (sha256 {scenario.sha256[:12]})  seed {meta['seed']}, "
            f"{meta['replications']} replication(s) of {meta['duration_s']:g} s, warm-up {meta['warmup_s']:g} s")
    placement = result.placement
    if placement is not None:
        head = "\n".join([head, "", "placement (replicas placed before simulating):",
                           *placement_lines(placement, placement["weights"], width=width)])
    rows = [["policy", *(f"{key} latency" for key in LATENCY_KEYS), "energy/task", "offload", "dropped",
             "unfinished", "deadline miss", "utilisation"]]
    for name, stats in result.policies.items():
        rows.append([name, *_latencies(stats.latency_s, stats.latency_ci95_s), _energy(stats.energy_j_per_task),
                     _percent(stats.offload_fraction), _share(stats.tasks, stats.tasks.dropped),
                     _share(stats.tasks, stats.tasks.in_flight), _percent(stats.deadline_miss_rate),
                     _utilisation_cell(stats.utilisation)])
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
    notes = [line for text in note for line in textwrap.wrap(text, width=max(width, 40), subsequent_indent="  ")]
    return "\n".join([head, "", *fit_table(rows, width), *_server_block(result, width), "", *fit_table(monitor, width),
                      "", *fit_table(stations, width, fixed=2), "", *notes, *(["", *warnings] if warnings else [])])


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
                         "-" if p95 is None else _number(Estimate(p95, station.queue_quantiles_ci95.get("p95")),
                                                         "g"),
                         "-" if station.offered_load is None else f"{station.offered_load:.3g}", drops or "-"])
    return rows
