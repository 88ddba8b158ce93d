"""Shared figure plumbing: object-oriented matplotlib figures (no pyplot state), stable colours, PNG saving.

Figures are built with :class:`matplotlib.figure.Figure` directly, so nothing here touches the global pyplot state
or needs a display; saving to PNG uses the Agg renderer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from offload.errors import ParameterError
from simulator.files import make_folder, replacing

_PALETTE = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:gray",
            "tab:olive", "tab:cyan")
PNG_DPI = 120


def new_figure(nrows: int = 1, ncols: int = 1, *, width_in: float = 6.4, height_in: float = 4.0,
               sharex: bool = False) -> tuple[Figure, list[Axes]]:
    """A constrained-layout figure on the Agg canvas and its axes as a flat list."""
    figure = Figure(figsize=(width_in, height_in), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(nrows, ncols, sharex=sharex, squeeze=False)
    return figure, list(axes.ravel())


def figure_of(ax: Axes) -> Figure:
    """The top-level figure holding ``ax`` (through any subfigures; works on matplotlib 3.8 and later)."""
    figure: object = ax.figure
    while figure is not None and not isinstance(figure, Figure):
        figure = getattr(figure, "figure", None)
    if figure is None:
        raise ParameterError("ax", ax, "must belong to a figure")
    return figure


def colours(names: Iterable[str]) -> dict[str, str]:
    """A stable colour per name, in order of first appearance."""
    unique = list(dict.fromkeys(names))
    return {name: _PALETTE[i % len(_PALETTE)] for i, name in enumerate(unique)}


def require_columns(table: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    """Raise :class:`ParameterError` naming the missing columns of ``table``."""
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ParameterError(what, sorted(table.columns), f"needs column(s) {', '.join(missing)}")


def require_rows(table: pd.DataFrame, what: str) -> None:
    """Raise :class:`ParameterError` if ``table`` has no rows (an empty figure would hide the problem)."""
    if table.empty:
        raise ParameterError(what, "empty table", "needs at least one row to plot")


def save_png(figure: Figure, path: Path) -> Path:
    """Write ``figure`` as PNG at ``path`` (parents created, replaced atomically) and return the path."""
    make_folder(path.parent)
    with replacing(path) as temporary:
        figure.savefig(temporary, dpi=PNG_DPI, format="png")
    return path
