"""Device energy per task, per policy, split into the states the energy meter charges."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from simulator.plots._style import legend_outside, new_figure, note, require_columns, require_rows
from simulator.summary import t_half_width

#: Record columns of the device energy split and their legend labels, in stacking order.
ENERGY_COMPONENTS: dict[str, str] = {
    "energy_compute_j": "compute",
    "energy_tx_j": "transmit",
    "energy_rx_j": "receive",
    "energy_idle_j": "idle (waiting)",
    "energy_tail_j": "radio tail",
}
_COMPONENT_COLOURS = ("#D55E00", "#0072B2", "#56B4E9", "#999999", "#CC79A7")
#: Totals spanning at least this ratio are drawn on a logarithmic axis, components side by side.
LOG_SPAN = 100.0
_WIDTH = 0.7


def energy_per_task(records: pd.DataFrame, *, policy_column: str = "policy", completed_only: bool = True,
                    log_y: bool | None = None) -> Figure:
    """Mean device energy per task for each policy, one bar segment per energy component, with 95 % intervals.

    On a linear axis the components are stacked and the interval (Student t over the replications' means, when
    there are at least two replications) is drawn on the total. When the totals span two decades or more (a
    local policy at 83 J beside offloading at 0.4 J) the axis is logarithmic and the components stand side by
    side, each with its own interval, so that the small split stays readable; stacking on a log axis would
    misstate the segments.

    Parameters
    ----------
    records : DataFrame
        One row per task with ``policy_column`` and any of the :data:`ENERGY_COMPONENTS` columns (joules);
        absent components are skipped, at least one must be present. A ``replication`` column gives intervals.
    completed_only : bool
        Average over completed tasks only (rows with ``dropped`` or ``in_flight`` set are left out when those
        columns exist): a frame skipped before any work costs nothing and would dilute the energy per result.
    log_y : bool, optional
        Force the logarithmic (True) or linear stacked (False) view; default: logarithmic when the positive
        totals span :data:`LOG_SPAN` or more.
    """
    present = [c for c in ENERGY_COMPONENTS if c in records.columns]
    require_columns(records, [policy_column, *(present or ["energy_compute_j"])], "records")
    notes = []
    if completed_only:
        for flag in ("dropped", "in_flight"):
            if flag in records.columns:
                records = records[~records[flag].astype(bool)]
    require_rows(records, "completed records" if completed_only else "records")
    table = records.assign(_total_j=records[present].sum(axis=1))
    unused = [c for c in present if not (table[c] != 0).any()]
    if len(unused) == len(present):
        notes.append("no device spent energy (the scenario gives no powers)")
    elif unused:  # a component no policy spent energy on is an empty series
        present = [c for c in present if c not in unused]
        notes.append(f"no energy spent on {', '.join(ENERGY_COMPONENTS[c] for c in unused)}")
    means = table.groupby(policy_column, sort=False, observed=True)[[*present, "_total_j"]].mean()
    half_widths = _half_widths(table, policy_column, [*present, "_total_j"]).reindex(means.index)
    totals = means["_total_j"].to_numpy(dtype=np.float64)
    positive = totals[totals > 0]
    if log_y is None:
        log_y = bool(positive.size >= 2 and positive.max() / positive.min() >= LOG_SPAN)
    figure, (ax,) = new_figure()
    positions = np.arange(len(means.index), dtype=np.float64)
    if log_y:
        _side_by_side(ax, means, half_widths, present, positions)
    else:
        _stacked(ax, means, half_widths, present, positions)
    for x, total in zip(positions, totals, strict=True):
        ax.annotate(f"{total:.3g} J", (x, total), xytext=(0, 3), textcoords="offset points", ha="center",
                    va="bottom", fontsize="small")
    ax.set_xticks(positions, [str(p) for p in means.index])
    ax.set_xlabel("policy")
    ax.set_ylabel("device energy per completed task [J]" if completed_only else "device energy per task [J]")
    ax.grid(True, axis="y", which="both", alpha=0.3)
    legend_outside(ax, title="component")
    ax.set_title("Energy per task")
    notes.insert(0, "one replication: no intervals" if half_widths.isna().all().all() else
                 "whiskers: 95 % CI over replications")
    if log_y:
        notes.append("log scale")
    note(ax, "; ".join(notes))
    return figure


def _half_widths(table: pd.DataFrame, policy_column: str, columns: list[str]) -> pd.DataFrame:
    """Per policy and column, the Student-t 95 % half-width over the replications' means (NaN for fewer than 2)."""
    if "replication" not in table.columns:
        return pd.DataFrame(np.nan, index=pd.Index(table[policy_column].unique()), columns=columns)
    per_replication = table.groupby([policy_column, "replication"], sort=False, observed=True)[columns].mean()
    def half_width(values: pd.Series) -> float:
        width = t_half_width(values.tolist())
        return np.nan if width is None else width

    return per_replication.groupby(level=0, sort=False, observed=True).agg(half_width)


def _whiskers(ax: Axes, x: np.ndarray, centre: np.ndarray, half: np.ndarray, cap: float) -> None:
    keep = np.isfinite(half) & (half > 0)
    if not keep.any():
        return
    low, high = np.maximum(centre[keep] - half[keep], 0.0), centre[keep] + half[keep]
    ax.vlines(x[keep], low, high, color="black", linewidth=1.0, zorder=3)
    ax.hlines(np.concatenate([low, high]), np.tile(x[keep] - cap, 2), np.tile(x[keep] + cap, 2), color="black",
              linewidth=1.0, zorder=3)


def _stacked(ax: Axes, means: pd.DataFrame, half_widths: pd.DataFrame, present: list[str],
             positions: np.ndarray) -> None:
    bottom = np.zeros(positions.size)
    for column, colour in zip(ENERGY_COMPONENTS, _COMPONENT_COLOURS, strict=True):
        if column not in present:
            continue
        values = means[column].to_numpy(dtype=np.float64)
        ax.bar(positions, values, bottom=bottom, color=colour, label=ENERGY_COMPONENTS[column], width=_WIDTH)
        bottom += values
    _whiskers(ax, positions, bottom, half_widths["_total_j"].to_numpy(dtype=np.float64), _WIDTH / 8)


def _side_by_side(ax: Axes, means: pd.DataFrame, half_widths: pd.DataFrame, present: list[str],
                  positions: np.ndarray) -> None:
    width = _WIDTH / len(present)
    for k, column in enumerate(present):
        colour = _COMPONENT_COLOURS[list(ENERGY_COMPONENTS).index(column)]
        x = positions - _WIDTH / 2 + (k + 0.5) * width
        values = means[column].to_numpy(dtype=np.float64)
        ax.bar(x, values, color=colour, label=ENERGY_COMPONENTS[column], width=width)
        _whiskers(ax, x, values, half_widths[column].to_numpy(dtype=np.float64), width / 4)
    ax.set_yscale("log")
    heights = means[present].to_numpy(dtype=np.float64)
    ax.set_ylim(bottom=float(heights[heights > 0].min()) / 3.0)
