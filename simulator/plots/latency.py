"""Latency figures: the empirical CDF per policy, and a latency percentile against load (the queueing knee)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from simulator.plots._style import colours, new_figure, require_columns, require_rows


def latency_cdf(records: pd.DataFrame, *, policy_column: str = "policy", latency_column: str = "latency_s",
                log_x: bool = True, max_points: int = 2000) -> Figure:
    """Empirical CDF of task latency, one step line per policy (replications pooled).

    Tasks without a finite latency (dropped, still in flight) are left out; the legend gives the count plotted
    per policy, or says that none completed.

    Parameters
    ----------
    records : DataFrame
        One row per task with ``policy_column`` and ``latency_column`` (seconds).
    log_x : bool
        Logarithmic latency axis: local and offloaded latencies often differ by orders of magnitude.
    max_points : int
        Draw at most this many points per policy (evenly spaced ranks of the sorted latencies, each exactly on
        the empirical CDF), so a million-task run plots as fast as a small one.
    """
    require_columns(records, [policy_column, latency_column], "records")
    require_rows(records, "records")
    figure, (ax,) = new_figure()
    palette = colours(records[policy_column].astype(str))
    for policy, group in records.groupby(policy_column, sort=False, observed=True):
        latency_s = np.sort(group[latency_column].to_numpy(dtype=np.float64))
        latency_s = latency_s[np.isfinite(latency_s)]
        if latency_s.size == 0:  # keep the policy in the legend: nothing completed is a result too
            ax.plot([], [], color=palette[str(policy)], label=f"{policy} (none completed)")
            continue
        # at most max_points points, each exactly on the empirical CDF: (x_(i), i / n) for evenly spaced ranks i
        rank = np.unique(np.linspace(1, latency_s.size, min(latency_s.size, max_points)).round().astype(np.int64))
        ax.step(latency_s[rank - 1], rank / latency_s.size, where="post", color=palette[str(policy)],
                label=f"{policy} (n={latency_s.size})")
    if log_x and (records[latency_column] > 0).any():
        ax.set_xscale("log")
    ax.set_xlabel("latency [s]")
    ax.set_ylabel("fraction of completed tasks ≤ latency")
    ax.set_ylim(0.0, 1.0)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(title="policy")
    ax.set_title("Latency CDF per policy")
    return figure


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
    ax.legend()
    ax.set_title(title)
    return figure
