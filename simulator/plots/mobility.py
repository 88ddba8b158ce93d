"""Moving devices on the map: the tracks of a few devices per group over the cells (from the ``tracks`` and
``cells`` tables of a run whose devices move, :class:`simulator.motion_log.MotionLog`)."""

from __future__ import annotations

import math

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Circle

from simulator.plots._style import colours, legend_outside, new_figure, require_columns, require_rows


def trajectories(tracks: pd.DataFrame, cells: pd.DataFrame) -> Figure:
    """The tracks of the devices in ``tracks`` (one line each, colour = group, a dot where it ends) over the cells
    (a triangle at each access point, its range as a dotted circle when finite), in metres on the plane.

    Parameters
    ----------
    tracks : DataFrame
        ``group``, ``device``, ``time_s``, ``x_m``, ``y_m`` (the first policy and replication present are drawn).
    cells : DataFrame
        ``access_point``, ``x_m``, ``y_m``, ``range_m``.
    """
    require_columns(tracks, ["group", "device", "time_s", "x_m", "y_m"], "tracks")
    require_columns(cells, ["access_point", "x_m", "y_m", "range_m"], "cells")
    if "policy" in tracks.columns:
        tracks = tracks[tracks["policy"] == tracks["policy"].iloc[0]]
    if "replication" in tracks.columns:
        tracks = tracks[tracks["replication"] == tracks["replication"].min()]
    require_rows(tracks, "tracks")
    figure, (ax,) = new_figure(width_in=6.4, height_in=5.0)
    for name, x_m, y_m, range_m in zip(cells["access_point"].astype(str), cells["x_m"].astype(float),
                                       cells["y_m"].astype(float), cells["range_m"].astype(float), strict=True):
        ax.plot(x_m, y_m, marker="^", color="0.3", markersize=8, linestyle="none")
        ax.annotate(name, (x_m, y_m), textcoords="offset points", xytext=(4, 4), fontsize=7, color="0.3")
        if math.isfinite(range_m):
            ax.add_patch(Circle((x_m, y_m), range_m, fill=False, linestyle=":", color="0.6"))
    palette = colours(tracks["group"].astype(str))
    for (group, _), track in tracks.sort_values("time_s").groupby(["group", "device"], sort=False, observed=True):
        colour = palette[str(group)]
        labelled = str(group) not in ax.get_legend_handles_labels()[1]
        ax.plot(track["x_m"], track["y_m"], color=colour, linewidth=1.0, label=str(group) if labelled else None)
        ax.plot(track["x_m"].iloc[-1], track["y_m"].iloc[-1], marker="o", color=colour, markersize=3)
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    ax.set_title("device tracks over the cells")
    legend_outside(ax, title="group")
    return figure
