"""Decision-region map: which option wins over a grid of two parameters, with break-even curves drawn on it."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import cycle

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from offload import Parameter
from offload.errors import ParameterError
from simulator.plots._style import colours, figure_of, new_figure
from simulator.plots.decision_grid import DecisionGrid

#: Display scale (SI value divided by this) and axis label per parameter.
AXIS_UNITS: dict[Parameter, tuple[float, str]] = {
    Parameter.UPLINK: (1e6, "uplink [Mbit/s]"),
    Parameter.INPUT: (8e3, "input size [kB]"),
    Parameter.WORK: (1e9, "work [G ops]"),
    Parameter.EDGE_SPEED: (1e9, "edge speed [G ops/s]"),
}
_CURVE_STYLES = ("-", "--", ":", "-.")
_CURVE_COLOURS = ("#000000", "#D55E00", "#0072B2", "#CC79A7")  # Okabe-Ito, unlike the region fills' pastel
_CURVE_WIDTH_PT = 2.4


def decision_region_map(grid: DecisionGrid, break_even: Mapping[str, npt.ArrayLike] | None = None, *,
                        title: str = "Where should the task run?", log_x: bool = True, log_y: bool = True,
                        ax: Axes | None = None) -> Figure:
    """Colour each grid cell by its winning option and overlay break-even curves.

    Parameters
    ----------
    grid : DecisionGrid
        From :func:`simulator.plots.decision_grid.decision_grid`.
    break_even : mapping of label to array, optional
        For each curve, the break-even x value (SI) at every ``grid.y_values`` (``nan`` = no flip there),
        e.g. from :func:`simulator.plots.decision_grid.break_even_curve`.
    ax : Axes, optional
        Draw into this axes (e.g. side-by-side maps); default a new figure.
    """
    if ax is None:
        figure, (ax,) = new_figure(width_in=6.4, height_in=4.8)
    else:
        figure = figure_of(ax)
    x_scale, x_label = AXIS_UNITS[grid.x_parameter]
    y_scale, y_label = AXIS_UNITS[grid.y_parameter]
    palette = colours(grid.options)
    cmap = ListedColormap([palette[o] for o in grid.options])
    norm = BoundaryNorm(np.arange(len(grid.options) + 1) - 0.5, len(grid.options))
    ax.pcolormesh(grid.x_values / x_scale, grid.y_values / y_scale, grid.winner, cmap=cmap, norm=norm,
                  shading="nearest", alpha=0.55)
    handles: list[Patch] = [Patch(color=palette[o], alpha=0.55, label=f"{o} wins") for o in grid.options]
    curves = list((break_even or {}).items())
    for k, ((label, values), style, colour) in enumerate(zip(curves, cycle(_CURVE_STYLES), cycle(_CURVE_COLOURS),
                                                             strict=False)):
        x_star = np.asarray(values, dtype=np.float64)
        if x_star.shape != grid.y_values.shape:
            raise ParameterError(f"break_even[{label!r}]", x_star.shape,
                                 f"needs one value per y ({grid.y_values.size})")
        # each curve thinner than the one before and in its own colour: curves that (nearly) coincide stay visible
        ax.plot(x_star / x_scale, grid.y_values / y_scale, color=colour, linestyle=style,
                linewidth=_CURVE_WIDTH_PT * (len(curves) - k) / len(curves) + 0.8, label=f"break-even: {label}",
                zorder=3 + k)
    if log_x:
        ax.set_xscale("log")
    if log_y:
        ax.set_yscale("log")
    ax.set_xlim(grid.x_values.min() / x_scale, grid.x_values.max() / x_scale)
    ax.set_ylim(grid.y_values.min() / y_scale, grid.y_values.max() / y_scale)
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    curve_handles, _ = ax.get_legend_handles_labels()
    ax.legend(handles=[*handles, *curve_handles], loc="best", fontsize="small")
    ax.set_title(title)
    return figure
