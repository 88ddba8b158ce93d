"""The Neurosurgeon figure: latency of every split point of a network, one line per uplink throughput."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from matplotlib.figure import Figure

from offload.errors import ParameterError
from offload.units import Dimension, format_quantity
from simulator.plots._style import new_figure


def split_latency_plot(after: Sequence[str], latency_s: npt.ArrayLike, uplink_bps: Sequence[float], *,
                       title: str | None = None, log_y: bool = True) -> Figure:
    """Latency per split point (x: ``input`` = full offload ... last layer = all local) for several uplinks.

    Parameters
    ----------
    after : sequence of str
        Split point names, as :class:`offload.split.SplitCosts` ``.after``.
    latency_s : array_like, shape (splits, uplinks)
        :class:`offload.split.SplitCosts` ``.latency_s`` for pairs that differ by uplink.
    uplink_bps : sequence of float
        The uplink of each column, for the legend.
    """
    table = np.asarray(latency_s, dtype=np.float64)
    if table.ndim != 2 or table.shape != (len(after), len(uplink_bps)) or table.size == 0:
        raise ParameterError("latency_s", table.shape, f"must have shape (splits={len(after)}, "
                                                       f"uplinks={len(uplink_bps)}) and not be empty")
    figure, (ax,) = new_figure(width_in=max(6.4, 0.28 * len(after)), height_in=4.2)
    x = np.arange(len(after))
    for column, uplink in enumerate(uplink_bps):
        line, = ax.plot(x, table[:, column], marker="o", markersize=3, label=format_quantity(uplink, Dimension.BPS))
        best = int(np.argmin(table[:, column]))
        ax.plot([best], [table[best, column]], marker="*", markersize=12, color=line.get_color())
    ax.set_xticks(x, list(after), rotation=70, fontsize=7)
    ax.set_xlabel("split after (input = full offload, last layer = all local)")
    ax.set_ylabel("latency [s]")
    if log_y and (table > 0).all():
        ax.set_yscale("log")
    ax.legend(title="uplink (★ best split)", fontsize=8)
    if title:
        ax.set_title(title)
    return figure
