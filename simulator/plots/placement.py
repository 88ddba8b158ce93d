"""Placement figures: a map of the topology with replicas and the request flows to them, and a solver comparison."""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch

from offload.errors import ParameterError
from scheduler.problem import PlacementProblem
from scheduler.result import Placement, relative_gap
from scheduler.topology import NodeKind, node_spec
from simulator.plots._style import PALETTE, colours, legend_outside, new_figure, note, require_columns, require_rows

_KIND_STYLE: dict[NodeKind, tuple[str, str, float]] = {  # marker, colour, size
    NodeKind.DEVICE: (".", "lightgray", 6.0),
    NodeKind.BASE_STATION: ("^", "dimgray", 14.0),
    NodeKind.EDGE_SITE: ("s", "dimgray", 16.0),
    NodeKind.REGIONAL_DC: ("D", "black", 30.0),
    NodeKind.CLOUD: ("*", "black", 80.0),
}
_MARGIN = 0.08
_MIN_WIDTH, _MAX_WIDTH = 0.6, 6.0  # arrow line widths [points] of the smallest and the largest flow
_RING_MIN, _RING_SPAN = 40.0, 400.0  # ring areas [points²] of an idle replica node and of the busiest one


def placement_map(graph: nx.Graph, problem: PlacementProblem, placement: Placement, *,
                  services: Sequence[str] | None = None, title: str = "Placement") -> Figure:
    """The topology at its coordinates with, per service, one arrow per (user site → replica node) and the replicas.

    Arrow width is proportional to the request rate the site sends to that node (groups attached to the same site
    are added up; each service bends its arrows a little more, so services on the same path stay apart); a replica
    node is a ring whose area is proportional to the requests it serves, labelled with its replica count when above
    one. The view is framed on the non-cloud nodes; a node outside the frame (a
    distant cloud) is drawn as a marker on the frame's edge in its direction, named in the legend, and arrows to
    it end there.

    Parameters
    ----------
    graph : networkx.Graph
        The topology the problem was built from (nodes carry a ``spec`` with ``lat_deg``/``lon_deg``).
    problem, placement :
        The problem and a solver's placement (:class:`scheduler.result.Placement`).
    services : sequence of str, optional
        Services to draw (default all); one colour each.
    """
    names = list(problem.service_names if services is None else services)
    unknown = [s for s in names if s not in problem.service_names]
    if unknown:
        raise ParameterError("services", unknown, f"unknown; valid: {', '.join(problem.service_names)}")
    position = {n: (node_spec(graph, n).lon_deg, node_spec(graph, n).lat_deg) for n in graph.nodes}
    figure, (ax,) = new_figure(width_in=9.5, height_in=6.0)
    low, high = _frame(graph, position)
    shown = {n: _on_frame(xy, low, high) for n, xy in position.items()}
    off_map = sorted(n for n, xy in position.items() if shown[n] != xy)
    for u, v in graph.edges:
        (x0, y0), (x1, y1) = shown[u], shown[v]
        ax.plot([x0, x1], [y0, y1], color="lightgray", linewidth=0.6, zorder=1)
    for kind, (marker, colour, size) in _KIND_STYLE.items():
        members = [n for n in graph.nodes if node_spec(graph, n).kind is kind]
        if members:
            xy = np.array([shown[n] for n in members])
            label = kind.value.replace("_", " ") + "".join(f" ({n}, off the map)" for n in members if n in off_map)
            ax.scatter(xy[:, 0], xy[:, 1], marker=marker, color=colour, s=size, zorder=2, label=label)
    flows = site_flows(problem, placement)
    widest = float(flows["rate_per_s"].max()) if not flows.empty else 1.0
    served = flows.groupby(["service", "node"], sort=False)["rate_per_s"].sum()
    busiest = float(served.max()) if not served.empty else 1.0
    palette = colours(names)
    handles: list[Line2D] = []
    for k, name in enumerate(names):
        s, colour = problem.service_names.index(name), palette[name]
        mine = flows[flows["service"] == name]
        for site, node, rate_per_s in zip(mine["site"], mine["node"], mine["rate_per_s"].to_numpy(float),
                                          strict=True):
            start, end = shown[str(site)], shown[str(node)]
            if start == end:
                continue  # served where it attaches: the ring says so
            ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=10, shrinkA=2.0, shrinkB=6.0,
                                         connectionstyle=f"arc3,rad={0.12 * k:g}", color=colour, alpha=0.7,
                                         linewidth=_MIN_WIDTH + (_MAX_WIDTH - _MIN_WIDTH) * rate_per_s / widest,
                                         zorder=3, gid=f"{name}:{site}->{node}"))
        hosts = np.flatnonzero(placement.replicas[s] > 0)
        load = np.array([float(served.get((name, problem.node_names[n]), 0.0)) for n in hosts])
        xy = np.array([shown[problem.node_names[n]] for n in hosts]).reshape(-1, 2)
        ax.scatter(xy[:, 0], xy[:, 1], s=_RING_MIN + _RING_SPAN * load / busiest, facecolors="none",
                   edgecolors=colour, linewidths=2.0, zorder=4)
        for (x, y), n in zip(xy, hosts, strict=True):
            if placement.replicas[s, n] > 1:
                ax.annotate(f"×{placement.replicas[s, n]}", (x, y), xytext=(6, 6), textcoords="offset points",
                            color=colour, fontsize="small", zorder=5)
        replicas = int(placement.replicas[s].sum())
        handles.append(Line2D([], [], color=colour, marker="o", markerfacecolor="none", markersize=7,
                              label=f"{name}: {_count(replicas, 'replica')} on {_count(hosts.size, 'node')}"))
    ax.set_xlim(low[0], high[0])
    ax.set_ylim(low[1], high[1])
    ax.ticklabel_format(useOffset=False)
    ax.set_xlabel("longitude [°]")
    ax.set_ylabel("latitude [°]")
    kinds, _ = ax.get_legend_handles_labels()
    legend_outside(ax, handles=[*kinds, *handles])
    ax.set_title(title)
    note(ax, "arrow width: request rate from a site to a replica node (widest "
              f"{widest:.3g} req/s); ring area: requests served there (largest {busiest:.3g} req/s)")
    return figure


def site_flows(problem: PlacementProblem, placement: Placement) -> pd.DataFrame:
    """Request rate per (service, user site, serving node): the assignment with the groups of a site added up.

    Returns
    -------
    DataFrame
        Columns ``service``, ``site`` (the topology node the groups attach to), ``node``, ``rate_per_s``.
    """
    rate = problem.rate_per_s[placement.group, placement.service] * placement.share
    flows = pd.DataFrame({
        "service": np.asarray(problem.service_names, dtype=object)[placement.service],
        "site": np.asarray(problem.group_nodes, dtype=object)[placement.group],
        "node": np.asarray(problem.node_names, dtype=object)[placement.node], "rate_per_s": rate})
    return flows.groupby(["service", "site", "node"], sort=False, as_index=False).agg(
        rate_per_s=("rate_per_s", "sum"))


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _frame(graph: nx.Graph, position: dict[str, tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    """Lower-left and upper-right corners framing the non-cloud nodes, with a margin."""
    inner = [n for n in graph.nodes if node_spec(graph, n).kind is not NodeKind.CLOUD] or list(graph.nodes)
    xy = np.array([position[n] for n in inner])
    low, high = xy.min(axis=0), xy.max(axis=0)
    pad = np.maximum((high - low) * _MARGIN, 1e-3)
    return low - pad, high + pad


def _on_frame(xy: tuple[float, float], low: np.ndarray, high: np.ndarray) -> tuple[float, float]:
    """``xy`` itself when inside the frame, else where the line from the frame's centre to it leaves the frame."""
    point = np.asarray(xy, dtype=np.float64)
    if np.all(point >= low) and np.all(point <= high):
        return xy
    centre, half = (low + high) / 2.0, (high - low) / 2.0
    direction = point - centre
    step = float(np.min(np.where(direction != 0, half / np.maximum(np.abs(direction), 1e-300), np.inf)))
    edge = centre + direction * step * (1.0 - _MARGIN / 4)
    return float(edge[0]), float(edge[1])


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
    left.bar(positions, totals, color=PALETTE[0], width=0.6, label="objective")
    left.axhline(best_bound, color="black", linestyle="--", linewidth=1, label="best lower bound")
    for x, total in zip(positions, totals, strict=True):
        gap = relative_gap(float(total), best_bound)
        left.annotate(f"gap {gap:.2%}", (x, total), ha="center", va="bottom", fontsize=8)
    left.set_xticks(positions, labels, rotation=20)
    left.set_ylabel("objective (weighted total)")
    left.legend(fontsize=8)
    left.set_title("Objective against the lower bound")
    right.bar(positions, table[runtime_column].to_numpy(dtype=np.float64), color=PALETTE[8], width=0.6)
    right.set_yscale("log")
    right.set_xticks(positions, labels, rotation=20)
    right.set_ylabel("runtime [s]")
    right.set_title("Solver runtime")
    return figure
