"""Latency figures: the empirical CDF per policy, and a latency percentile against load (the queueing knee)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from simulator.plots._style import colours, legend_outside, new_figure, require_columns, require_rows
from simulator.plots.theory import QueueTheory


def latency_cdf(records: pd.DataFrame, *, policy_column: str = "policy", latency_column: str = "latency_s",
                log_x: bool = True, max_points: int = 2000, deadlines_s: Mapping[str, float] | None = None,
                theory: QueueTheory | None = None) -> Figure:
    """Empirical CDF of task latency, one step line per policy (replications pooled).

    Tasks without a finite latency (dropped, still in flight) are left out; the legend gives the count plotted
    per policy and, when the records say so (``dropped``, ``in_flight`` columns), the share of the policy's tasks
    that were dropped or left unfinished, or says that none completed.

    Parameters
    ----------
    records : DataFrame
        One row per task with ``policy_column`` and ``latency_column`` (seconds).
    log_x : bool
        Logarithmic latency axis: local and offloaded latencies often differ by orders of magnitude.
    max_points : int
        Draw at most this many points per policy (evenly spaced ranks of the sorted latencies, each exactly on
        the empirical CDF), so a million-task run plots as fast as a small one.
    deadlines_s : mapping of label to seconds, optional
        Deadlines drawn as dashed vertical lines (one per distinct value; the label names the services).
    theory : QueueTheory, optional
        The analytic distribution of the time in system (:func:`simulator.plots.theory.queue_theory`), drawn as
        a black curve with its mean as a dotted vertical line.
    """
    require_columns(records, [policy_column, latency_column], "records")
    require_rows(records, "records")
    figure, (ax,) = new_figure(width_in=8.0)
    palette = colours(records[policy_column].astype(str))
    for policy, group in records.groupby(policy_column, sort=False, observed=True):
        latency_s = np.sort(group[latency_column].to_numpy(dtype=np.float64))
        latency_s = latency_s[np.isfinite(latency_s)]
        if latency_s.size == 0:  # keep the policy in the legend: nothing completed is a result too
            ax.plot([], [], color=palette[str(policy)], label=f"{policy} (none completed{_lost(group)})")
            continue
        # at most max_points points, each exactly on the empirical CDF: (x_(i), i / n) for evenly spaced ranks i
        rank = np.unique(np.linspace(1, latency_s.size, min(latency_s.size, max_points)).round().astype(np.int64))
        ax.step(latency_s[rank - 1], rank / latency_s.size, where="post", color=palette[str(policy)],
                label=f"{policy} (n={latency_s.size}{_lost(group)})")
    finite = records[latency_column].to_numpy(dtype=np.float64)
    finite = finite[np.isfinite(finite) & (finite > 0)]
    if theory is not None and finite.size:
        t_s = np.geomspace(finite.min(), finite.max(), 400) if log_x else np.linspace(0.0, finite.max(), 400)
        ax.plot(t_s, theory.sojourn_cdf(t_s), color="black", linewidth=1.0, label=f"{theory.label} theory")
        mean_s = theory.mean_sojourn_s()
        ax.axvline(mean_s, color="black", linestyle=":", linewidth=1.0,
                   label=f"{theory.label} mean {_seconds(mean_s)}")
    by_value: dict[float, list[str]] = {}
    for name, deadline_s in (deadlines_s or {}).items():
        by_value.setdefault(float(deadline_s), []).append(name)
    for deadline_s, names in sorted(by_value.items()):
        where = f" ({', '.join(names)})" if len(by_value) > 1 else ""
        ax.axvline(deadline_s, color="#D55E00", linestyle="--", linewidth=1.2,
                   label=f"deadline {_seconds(deadline_s)}{where}")
    if log_x and finite.size:
        ax.set_xscale("log")
    ax.set_xlabel("latency [s]")
    ax.set_ylabel("fraction of completed tasks ≤ latency")
    ax.set_ylim(0.0, 1.0)
    ax.grid(True, which="both", alpha=0.3)
    legend_outside(ax, title="policy")
    ax.set_title("Latency CDF per policy")
    return figure


def _lost(group: pd.DataFrame) -> str:
    """``; 74 % dropped, 13 % unfinished``: the shares of a policy's tasks that have no latency, when recorded."""
    parts = [f"{_percent(share)} {word}" for column, word in (("dropped", "dropped"), ("in_flight", "unfinished"))
             if column in group.columns and (share := float(group[column].astype(bool).mean())) > 0]
    return "; " + ", ".join(parts) if parts else ""


def _percent(share: float) -> str:
    return "<1 %" if share < 0.01 else f"{100.0 * share:.0f} %"


def _seconds(value_s: float) -> str:
    return f"{value_s * 1e3:.3g} ms" if value_s < 1.0 else f"{value_s:.3g} s"


def latency_vs_load(table: pd.DataFrame, *, load_column: str, value_column: str, policy_column: str = "policy",
                    ci_low_column: str | None = None, ci_high_column: str | None = None,
                    capacity_load: float | None = None, markers: Mapping[str, float] | None = None,
                    load_label: str = "number of cameras",
                    value_label: str = "p95 latency [s]", log_y: bool = True,
                    title: str = "Latency against load") -> Figure:
    """A latency statistic against offered load, one line per policy, with the saturation point marked.

    Parameters
    ----------
    table : DataFrame
        One row per (policy, load) with the statistic in ``value_column`` (seconds) and optionally a confidence
        interval in ``ci_low_column`` / ``ci_high_column``, drawn as a band.
    capacity_load : float, optional
        The load at which the shared server saturates (utilisation ρ = 1, e.g. from
        :func:`offload.queueing.utilisation`); drawn as a vertical line: the knee of the curves sits just before it.
    markers : mapping of label to load, optional
        Further labelled vertical lines (e.g. where a shared uplink saturates), dotted.
    """
    columns = [load_column, value_column, policy_column]
    columns += [c for c in (ci_low_column, ci_high_column) if c is not None]
    require_columns(table, columns, "load table")
    require_rows(table, "load table")
    figure, (ax,) = new_figure()
    palette = colours(table[policy_column].astype(str))
    for policy, group in table.groupby(policy_column, sort=False, observed=True):
        group = group.sort_values(load_column)
        colour = palette[str(policy)]
        ax.plot(group[load_column], group[value_column], marker="o", color=colour, label=str(policy))
        if ci_low_column is not None and ci_high_column is not None:
            ax.fill_between(group[load_column], group[ci_low_column], group[ci_high_column], color=colour,
                            alpha=0.2, linewidth=0)
    if capacity_load is not None:
        ax.axvline(capacity_load, color="black", linestyle="--", linewidth=1, label=f"ρ = 1 at {capacity_load:.4g}")
    for label, load in (markers or {}).items():
        ax.axvline(load, color="dimgray", linestyle=":", linewidth=1.2, label=label)
    if log_y and (table[value_column] > 0).all():
        ax.set_yscale("log")
    ax.set_xlabel(load_label)
    ax.set_ylabel(value_label)
    ax.grid(True, which="both", alpha=0.3)
    legend_outside(ax)
    ax.set_title(title)
    return figure
