"""Server utilisation and queue length over simulated time."""

from __future__ import annotations

from itertools import cycle

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from simulator.plots._style import colours, legend_outside, new_figure, note, require_columns, require_rows

_PANELS = (("utilisation", "utilisation [%]"), ("queue_length", "queue length [tasks]"))
_SERVER_STYLES = ("-", "--", ":", "-.")


def utilisation_over_time(timeseries: pd.DataFrame, *, replication: int | None = None,
                          policy_column: str = "policy", max_server_lines: int = len(_SERVER_STYLES),
                          warmup_s: float | None = None) -> Figure:
    """Utilisation (top) and queue length (bottom) against time; colour = policy.

    A server that a policy never used (utilisation and queue zero throughout) is not drawn for that policy: a
    note under the figure names it.
    Up to ``max_server_lines`` servers are drawn one line each (line style = server: an edge and a cloud are not
    alike). With more servers (a pool of similar edges) the line is the mean over servers and a band spans the
    least and most loaded server at each instant. Samples are carried forward, so servers need not be sampled at
    the same instants.

    Parameters
    ----------
    timeseries : DataFrame
        Columns ``policy``, ``time_s``, ``server``, ``utilisation``, ``queue_length`` and optionally
        ``replication``.
    replication : int, optional
        Which replication to draw; default the lowest present (replications overlap in time).
    warmup_s : float, optional
        The warm-up period, shaded on both panels: statistics leave it out.
    """
    require_columns(timeseries, [policy_column, "time_s", "server", "utilisation", "queue_length"], "timeseries")
    require_rows(timeseries, "timeseries")
    table = timeseries
    if "replication" in table.columns:
        chosen = table["replication"].min() if replication is None else replication
        table = table[table["replication"] == chosen]
        require_rows(table, f"timeseries replication {chosen}")
    figure, axes = new_figure(2, 1, width_in=8.0, height_in=5.0, sharex=True)
    palette = colours(table[policy_column].astype(str))
    idle: list[str] = []
    for policy, group in table.groupby(policy_column, sort=False, observed=True):
        nonzero = group[["utilisation", "queue_length"]].fillna(0.0).ne(0.0).any(axis=1)
        busy = nonzero.groupby(group["server"], observed=True).any()
        unused = [str(server) for server, used in busy.items() if not used]
        if unused:
            idle.append(f"{policy}: {', '.join(unused)}")
        group = group[~group["server"].astype(str).isin(unused)]
        if group.empty:
            continue
        for ax, (column, _) in zip(axes, _PANELS, strict=True):
            _draw_servers(ax, group, column, palette[str(policy)], str(policy), max_server_lines)
    for ax, (_, label) in zip(axes, _PANELS, strict=True):
        if warmup_s is not None and warmup_s > 0:
            ax.axvspan(0.0, warmup_s, color="0.85", zorder=0, label="warm-up" if ax is axes[0] else None)
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
    axes[0].set_ylim(bottom=0.0)
    axes[0].yaxis.set_major_formatter(PercentFormatter(xmax=1.0))  # data stay fractions
    axes[1].set_ylim(bottom=0.0)
    axes[1].set_xlabel("simulated time [s]")
    legend_outside(axes[0], title="policy · server")
    axes[0].set_title("Server load over time")
    if idle:
        note(axes[1], "never busy, not drawn: " + "; ".join(idle))
    return figure


def _draw_servers(ax: Axes, group: pd.DataFrame, column: str, colour: str, label: str, max_lines: int) -> None:
    wide = group.pivot_table(index="time_s", columns="server", values=column, aggfunc="last", observed=True)
    wide = wide.sort_index().ffill()
    if wide.shape[1] <= max_lines:
        for server, style in zip(wide.columns, cycle(_SERVER_STYLES), strict=False):
            ax.step(wide.index, wide[server], where="post", color=colour, linestyle=style,
                    label=f"{label} · {server}")
        return
    ax.step(wide.index, wide.mean(axis=1), where="post", color=colour, label=f"{label} · mean of {wide.shape[1]}")
    ax.fill_between(wide.index, wide.min(axis=1), wide.max(axis=1), step="post", color=colour, alpha=0.2,
                    linewidth=0)
