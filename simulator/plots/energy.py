"""Device energy per task, per policy, split into the states the energy meter charges."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from simulator.plots._style import new_figure, require_columns, require_rows

#: Record columns of the device energy split and their legend labels, in stacking order.
ENERGY_COMPONENTS: dict[str, str] = {
    "energy_compute_j": "compute",
    "energy_tx_j": "transmit",
    "energy_rx_j": "receive",
    "energy_idle_j": "idle (waiting)",
    "energy_tail_j": "radio tail",
}
_COMPONENT_COLOURS = ("tab:red", "tab:blue", "tab:cyan", "tab:gray", "tab:purple")


def energy_per_task(records: pd.DataFrame, *, policy_column: str = "policy", completed_only: bool = True) -> Figure:
    """Stacked bars of mean device energy per task for each policy, one segment per energy component.

    Parameters
    ----------
    records : DataFrame
        One row per task with ``policy_column`` and any of the :data:`ENERGY_COMPONENTS` columns (joules);
        absent components are skipped, at least one must be present.
    completed_only : bool
        Average over completed tasks only (rows with ``dropped`` or ``in_flight`` set are left out when those
        columns exist): a frame skipped before any work costs nothing and would dilute the energy per result.
    """
    present = [c for c in ENERGY_COMPONENTS if c in records.columns]
    require_columns(records, [policy_column, *(present or ["energy_compute_j"])], "records")
    if completed_only:
        for flag in ("dropped", "in_flight"):
            if flag in records.columns:
                records = records[~records[flag].astype(bool)]
    require_rows(records, "completed records" if completed_only else "records")
    means = records.groupby(policy_column, sort=False, observed=True)[present].mean()
    figure, (ax,) = new_figure()
    positions = np.arange(len(means.index))
    bottom = np.zeros(len(means.index))
    for column, colour in zip(ENERGY_COMPONENTS, _COMPONENT_COLOURS, strict=True):
        if column not in present:
            continue
        values = means[column].to_numpy(dtype=np.float64)
        ax.bar(positions, values, bottom=bottom, color=colour, label=ENERGY_COMPONENTS[column], width=0.6)
        bottom += values
    for x, total in zip(positions, bottom, strict=True):
        ax.annotate(f"{total:.3g} J", (x, total), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(positions, [str(p) for p in means.index])
    ax.set_xlabel("policy")
    ax.set_ylabel("device energy per completed task [J]" if completed_only else "device energy per task [J]")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(title="component")
    ax.set_title("Energy per task")
    return figure
