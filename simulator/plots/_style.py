"""Shared figure plumbing: object-oriented matplotlib figures (no pyplot state), a colour-blind-safe palette, the
paper/slides styles and saving as PNG, PDF or SVG.

Figures are built with :class:`matplotlib.figure.Figure` directly, so nothing here touches the global pyplot state
or needs a display; saving uses the Agg (PNG) or vector (PDF, SVG) renderers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import matplotlib as mpl
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from offload.errors import ParameterError
from simulator.files import make_folder, replacing

#: Okabe & Ito's colour-universal-design palette (Okabe and Ito, "Color Universal Design", 2008): distinguishable
#: under the common colour-vision deficiencies; black last, grey appended for a ninth series.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000", "#999999")
FigureFormat = Literal["png", "pdf", "svg"]
FigureStyle = Literal["paper", "slides"]
FORMATS: tuple[str, ...] = get_args(FigureFormat)
STYLES: tuple[str, ...] = get_args(FigureStyle)
DEFAULT_DPI = 150
#: Matplotlib settings per style: paper sizes text for a printed column, slides for a projector.
_RC: dict[str, dict[str, Any]] = {
    "paper": {"font.size": 9.0, "axes.titlesize": 10.0, "axes.labelsize": 9.0, "legend.fontsize": 8.0,
              "xtick.labelsize": 8.0, "ytick.labelsize": 8.0, "lines.linewidth": 1.5, "pdf.fonttype": 42,
              "svg.fonttype": "none"},
    "slides": {"font.size": 14.0, "axes.titlesize": 16.0, "axes.labelsize": 14.0, "legend.fontsize": 12.0,
               "xtick.labelsize": 12.0, "ytick.labelsize": 12.0, "lines.linewidth": 2.5, "pdf.fonttype": 42,
               "svg.fonttype": "none"},
}


@dataclass(frozen=True, slots=True)
class FigureOptions:
    """How standard figures are written: file format, raster resolution (dots per inch) and style."""

    format: FigureFormat = "png"
    dpi: int = DEFAULT_DPI
    style: FigureStyle = "paper"

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ParameterError("format", self.format, f"must be one of {', '.join(FORMATS)}")
        if self.style not in STYLES:
            raise ParameterError("style", self.style, f"must be one of {', '.join(STYLES)}")
        if not self.dpi > 0:
            raise ParameterError("dpi", self.dpi, "must be > 0")


@contextmanager
def figure_style(style: FigureStyle) -> Iterator[None]:
    """Matplotlib settings of ``style`` while the figures are built (restored afterwards)."""
    if style not in _RC:
        raise ParameterError("style", style, f"must be one of {', '.join(STYLES)}")
    with mpl.rc_context(_RC[style]):  # type: ignore[arg-type]  # the keys are valid rc names
        yield


def new_figure(nrows: int = 1, ncols: int = 1, *, width_in: float = 6.4, height_in: float = 4.0,
               sharex: bool = False) -> tuple[Figure, list[Axes]]:
    """A constrained-layout figure on the Agg canvas and its axes as a flat list.

    The size grows with the style's text (``slides`` text is 1.4 times ``paper``'s), so a figure keeps its layout
    in either style."""
    scale = max(1.0, float(mpl.rcParams["font.size"]) / 10.0)
    figure = Figure(figsize=(width_in * scale, height_in * scale), layout="constrained")
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
    """A stable colour-blind-safe colour per name, in order of first appearance."""
    unique = list(dict.fromkeys(names))
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(unique)}


def legend_outside(ax: Axes, **kwargs: object) -> None:
    """The legend of ``ax`` to the right of the axes, where it cannot cover data (constrained layout makes room);
    skipped when nothing is labelled."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, **kwargs)


def note(ax: Axes, text: str) -> None:
    """A small note under the x-axis label (what was left out of the figure and why); constrained layout makes
    room for it."""
    ax.annotate(text, xy=(0.0, 0.0), xycoords=("axes fraction", ax.xaxis.label), xytext=(0.0, -2.0),
                textcoords="offset points", ha="left", va="top", fontsize="x-small", color="dimgray",
                annotation_clip=False)


def require_columns(table: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    """Raise :class:`ParameterError` naming the missing columns of ``table``."""
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ParameterError(what, sorted(table.columns), f"needs column(s) {', '.join(missing)}")


def require_rows(table: pd.DataFrame, what: str) -> None:
    """Raise :class:`ParameterError` if ``table`` has no rows (an empty figure would hide the problem)."""
    if table.empty:
        raise ParameterError(what, "empty table", "needs at least one row to plot")


def save_figure(figure: Figure, directory: Path, stem: str, options: FigureOptions) -> Path:
    """Write ``figure`` as ``directory/stem.<format>`` (parents created, replaced atomically); returns the path."""
    path = make_folder(directory) / f"{stem}.{options.format}"
    with replacing(path) as temporary:
        figure.savefig(temporary, dpi=options.dpi, format=options.format)
    return path
