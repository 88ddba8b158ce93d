"""Pareto fronts of two or more costs (latency vs energy, latency vs cost) from weight sweeps."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
from matplotlib.figure import Figure

from offload.errors import ParameterError
from simulator.plots._style import colours, new_figure, require_columns, require_rows


def pareto_front(points: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Mask of the non-dominated rows of ``points`` when every column is a cost to minimise.

    Row ``j`` dominates row ``i`` when it is no worse in every column and strictly better in at least one.
    Identical rows do not dominate each other, so duplicates of a front point are all on the front.

    Parameters
    ----------
    points : array_like, shape (n, k)
        ``n`` alternatives, ``k`` costs. ``+inf`` is allowed (worst possible); NaN is not.

    Examples
    --------
    >>> pareto_front([[1, 3], [2, 2], [3, 1], [2, 3], [1, 3]]).tolist()
    [True, True, True, False, True]
    """
    array = np.asarray(points, dtype=np.float64)
    if array.ndim != 2:
        raise ParameterError("points", array.shape, "must be a 2-D array (alternatives × costs)")
    if np.isnan(array).any():
        raise ParameterError("points", "NaN", "must not contain NaN")
    front = np.ones(array.shape[0], dtype=np.bool_)
    for i, row in enumerate(array):
        no_worse = np.all(array <= row, axis=1)
        better = np.any(array < row, axis=1)
        front[i] = not np.any(no_worse & better)
    return front


def pareto_plot(table: pd.DataFrame, *, x_column: str, y_column: str, label_column: str | None = None,
                group_column: str | None = None, x_label: str | None = None, y_label: str | None = None,
                title: str = "Pareto front", max_labels: int = 12) -> Figure:
    """Scatter alternatives on two costs and join the non-dominated ones (per group) with a step line.

    Parameters
    ----------
    table : DataFrame
        One row per alternative (e.g. per weight of a weighted objective) with the two costs.
    label_column : str, optional
        Annotate front points with this column's value (e.g. the weight that produced it); at most
        ``max_labels`` evenly spaced labels per front keep the figure legible.
    group_column : str, optional
        Draw one front per group (e.g. per solver or per energy view).
    """
    columns = [x_column, y_column] + [c for c in (label_column, group_column) if c is not None]
    require_columns(table, columns, "Pareto table")
    require_rows(table, "Pareto table")
    figure, (ax,) = new_figure()
    groups = [("all", table)] if group_column is None else list(table.groupby(group_column, sort=False))
    palette = colours(str(name) for name, _ in groups)
    for name, group in groups:
        colour = palette[str(name)]
        on_front = pareto_front(group[[x_column, y_column]].to_numpy(dtype=np.float64))
        front = group[on_front].sort_values([x_column, y_column])
        ax.scatter(group[x_column], group[y_column], color=colour, alpha=0.35, s=18)
        prefix = "" if group_column is None else f"{name}: "
        ax.step(front[x_column], front[y_column], where="post", color=colour, marker="o",
                label=f"{prefix}Pareto front ({len(front)} of {len(group)})")
        if label_column is not None:
            step = max(1, -(-len(front) // max(1, max_labels)))
            labelled = front.iloc[::step]
            for label, x, y in zip(labelled[label_column], labelled[x_column], labelled[y_column], strict=True):
                text = f"{label:g}" if isinstance(label, float) else str(label)
                ax.annotate(text, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
    ax.set_xlabel(x_label or x_column)
    ax.set_ylabel(y_label or y_column)
    ax.grid(True, alpha=0.3)
    ax.legend()
    ax.set_title(title)
    return figure
