"""Figures of the research models in :mod:`offload`: the multi-user offloading game (Chen et al., ToN 2016), the
Wardrop split between local and edge queues, and the LODCO cost/battery trade-off (Mao et al., JSAC 2016)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from simulator.plots._style import PALETTE, colours, new_figure, require_columns, require_rows


def beneficial_users_plot(table: pd.DataFrame, *, users_column: str = "users",
                          value_column: str = "beneficial_users", group_column: str = "channels") -> Figure:
    """Beneficial cloud users at the Nash equilibrium against the number of users, one line per channel count
    (Chen et al., Fig. 7); the diagonal is "every user offloads"."""
    require_columns(table, [users_column, value_column, group_column], "table")
    require_rows(table, "table")
    figure, (ax,) = new_figure()
    palette = colours(table[group_column].astype(str))
    for group, rows in table.groupby(group_column, sort=True):
        rows = rows.sort_values(users_column)
        ax.plot(rows[users_column], rows[value_column], marker="o", color=palette[str(group)],
                label=f"{group} channels")
    top = float(table[users_column].max())
    ax.plot([0, top], [0, top], color="grey", linestyle=":", label="all users offload")
    ax.set_ylim(0, float(table[value_column].max()) * 1.3 + 1)
    ax.set_xlabel("number of users N")
    ax.set_ylabel("beneficial cloud users at equilibrium")
    ax.grid(True, alpha=0.3)
    ax.legend()
    ax.set_title("Offloading game: beneficial users saturate with N")
    return figure


def wardrop_plot(table: pd.DataFrame, *, load_column: str = "load", selfish_column: str = "selfish_s",
                 social_column: str = "social_s", poa_column: str = "price_of_anarchy") -> Figure:
    """Mean delay of the selfish (Wardrop) and the socially optimal split against load, and their ratio (the price
    of anarchy) on a second panel."""
    require_columns(table, [load_column, selfish_column, social_column, poa_column], "table")
    require_rows(table, "table")
    figure, (delay, ratio) = new_figure(2, 1, height_in=5.5, sharex=True)
    rows = table.sort_values(load_column)
    delay.plot(rows[load_column], rows[selfish_column], marker="o", label="selfish (Wardrop equilibrium)")
    delay.plot(rows[load_column], rows[social_column], marker="s", label="social optimum")
    delay.set_ylabel("mean delay per task [s]")
    delay.grid(True, alpha=0.3)
    delay.legend()
    delay.set_title("Local queues vs a shared edge queue")
    ratio.plot(rows[load_column], rows[poa_column], marker="o", color=PALETTE[3])
    ratio.axhline(1.0, color="grey", linestyle=":")
    ratio.set_xlabel(load_column.replace("_", " "))
    ratio.set_ylabel("price of anarchy")
    ratio.grid(True, alpha=0.3)
    return figure


def lyapunov_tradeoff_plot(table: pd.DataFrame, *, v_column: str = "V", cost_column: str = "cost",
                           battery_column: str = "battery_j") -> Figure:
    """Average cost and average battery level against the control knob V (log axis): the cost falls as O(1/V)
    towards its optimum while the battery the controller keeps grows as O(V)."""
    require_columns(table, [v_column, cost_column, battery_column], "table")
    require_rows(table, "table")
    figure, (ax,) = new_figure()
    rows = table.sort_values(v_column)
    ax.plot(rows[v_column], rows[cost_column], marker="o", color=PALETTE[0])
    ax.set_xscale("log")
    ax.set_xlabel("V")
    ax.set_ylabel("average cost per slot", color=PALETTE[0])
    ax.grid(True, which="both", alpha=0.3)
    twin = ax.twinx()
    twin.plot(rows[v_column], rows[battery_column], marker="s", color=PALETTE[1])
    twin.set_ylabel("average battery energy [J]", color=PALETTE[1])
    ax.set_title("LODCO: cost O(1/V) vs battery O(V)")
    if np.isfinite(rows[cost_column]).all():
        ax.set_ylim(bottom=0)
    return figure
