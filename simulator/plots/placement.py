"""Placement figures: a map of the topology with replicas and user assignments, and a solver comparison."""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from offload.errors import ParameterError
from scheduler.problem import PlacementProblem
from scheduler.result import Placement, relative_gap
from scheduler.topology import NodeKind, node_spec
from simulator.plots._style import colours, new_figure, require_columns, require_rows

_KIND_STYLE: dict[NodeKind, tuple[str, str, float]] = {  # marker, colour, size
    NodeKind.DEVICE: (".", "lightgray", 6.0),
    NodeKind.BASE_STATION: ("^", "dimgray", 14.0),
    NodeKind.EDGE_SITE: ("s", "dimgray", 16.0),
    NodeKind.REGIONAL_DC: ("D", "black", 30.0),
    NodeKind.CLOUD: ("*", "black", 80.0),
}
_MARGIN = 0.08


def placement_map(graph: nx.Graph, problem: PlacementProblem, placement: Placement, *,
                  services: Sequence[str] | None = None, title: str = "Placement") -> Figure:
    """Nodes at their coordinates, replicas as rings sized by count, and each user group joined to its replicas.

    Parameters
    ----------
    graph : networkx.Graph
        The topology the problem was built from (nodes carry a ``spec`` with ``lat_deg``/``lon_deg``).
    problem, placement :
        The problem and a solver's placement (:class:`scheduler.result.Placement`).
    services : sequence of str, optional
        Services to draw (default all); one colour each.

    Notes
    -----
    The view is framed on the non-cloud nodes so that a distant cloud does not shrink the map to a dot; lines to a
    node outside the frame leave the map towards it, and such nodes are listed in the title.
    """
    names = list(problem.service_names if services is None else services)
    unknown = [s for s in names if s not in problem.service_names]
    if unknown:
        raise ParameterError("services", unknown, f"unknown; valid: {', '.join(problem.service_names)}")
    chosen = [problem.service_names.index(s) for s in names]
    position = {n: (node_spec(graph, n).lon_deg, node_spec(graph, n).lat_deg) for n in graph.nodes}
    figure, (ax,) = new_figure(width_in=7.0, height_in=6.0)
    for u, v in graph.edges:
        (x0, y0), (x1, y1) = position[u], position[v]
        ax.plot([x0, x1], [y0, y1], color="lightgray", linewidth=0.6, zorder=1)
    for kind, (marker, colour, size) in _KIND_STYLE.items():
        members = [n for n in graph.nodes if node_spec(graph, n).kind is kind]
        if members:
            xy = np.array([position[n] for n in members])
            ax.scatter(xy[:, 0], xy[:, 1], marker=marker, color=colour, s=size, zorder=2,
                       label=kind.value.replace("_", " "))
    palette = colours(names)
    handles: list[Line2D] = []
    for s, name in zip(chosen, names, strict=True):
        colour = palette[name]
        rows = np.flatnonzero(placement.service == s)
        for g, n, share in zip(placement.group[rows], placement.node[rows], placement.share[rows], strict=True):
            (x0, y0), (x1, y1) = position[problem.group_nodes[g]], position[problem.node_names[n]]
            ax.plot([x0, x1], [y0, y1], color=colour, alpha=0.25 + 0.5 * float(share), linewidth=1.0, zorder=3)
        hosts = np.flatnonzero(placement.replicas[s] > 0)
        xy = np.array([position[problem.node_names[n]] for n in hosts]).reshape(-1, 2)
        ax.scatter(xy[:, 0], xy[:, 1], s=60 + 40 * placement.replicas[s, hosts], facecolors="none",
                   edgecolors=colour, linewidths=2.0, zorder=4)
        handles.append(Line2D([], [], color=colour, marker="o", markerfacecolor="none", markersize=7,
                              label=f"{name}: {int(placement.replicas[s].sum())} replicas on {hosts.size} nodes"))
    off_map = _frame(ax, graph, position)
    ax.ticklabel_format(useOffset=False)
    ax.set_xlabel("longitude [°]")
    ax.set_ylabel("latitude [°]")
    kinds, _ = ax.get_legend_handles_labels()
    ax.legend(handles=[*kinds, *handles], fontsize=7, loc="best")
    ax.set_title(title + (f" ({', '.join(off_map)} off the map)" if off_map else ""))
    return figure


def _frame(ax: Axes, graph: nx.Graph, position: dict[str, tuple[float, float]]) -> list[str]:
    inner = [n for n in graph.nodes if node_spec(graph, n).kind is not NodeKind.CLOUD] or list(graph.nodes)
    xy = np.array([position[n] for n in inner])
    low, high = xy.min(axis=0), xy.max(axis=0)
    pad = np.maximum((high - low) * _MARGIN, 1e-3)
    low, high = low - pad, high + pad
    ax.set_xlim(low[0], high[0])
    ax.set_ylim(low[1], high[1])
    return [str(n) for n, (x, y) in position.items()
            if not (low[0] <= x <= high[0] and low[1] <= y <= high[1])]


def solver_comparison(table: pd.DataFrame, *, solver_column: str = "solver", total_column: str = "total",
                      bound_column: str = "lower_bound", runtime_column: str = "runtime_s") -> Figure:
    """Objective of each solver against the best certified lower bound (left) and its runtime (right).

    Parameters
    ----------
    table : DataFrame
        One row per solver with its objective total, its lower bound and its runtime in seconds (e.g. built from
        :class:`scheduler.result.PlacementResult` fields).
    """
    require_columns(table, [solver_column, total_column, bound_column, runtime_column], "solver table")
    require_rows(table, "solver table")
    figure, (left, right) = new_figure(1, 2, width_in=10.0, height_in=4.0)
    positions = np.arange(len(table))
    labels = table[solver_column].astype(str).tolist()
    best_bound = float(table[bound_column].max())
    totals = table[total_column].to_numpy(dtype=np.float64)
    left.bar(positions, totals, color="tab:blue", width=0.6, label="objective")
    left.axhline(best_bound, color="black", linestyle="--", linewidth=1, label="best lower bound")
    for x, total in zip(positions, totals, strict=True):
        gap = relative_gap(float(total), best_bound)
        left.annotate(f"gap {gap:.2%}", (x, total), ha="center", va="bottom", fontsize=8)
    left.set_xticks(positions, labels, rotation=20)
    left.set_ylabel("objective (weighted total)")
    left.legend(fontsize=8)
    left.set_title("Objective against the lower bound")
    right.bar(positions, table[runtime_column].to_numpy(dtype=np.float64), color="tab:gray", width=0.6)
    right.set_yscale("log")
    right.set_xticks(positions, labels, rotation=20)
    right.set_ylabel("runtime [s]")
    right.set_title("Solver runtime")
    return figure
