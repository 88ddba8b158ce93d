"""Placement map and solver comparison on a hand-built three-site topology with a hand-written placement.

The map aggregates flows (issue 18): one arrow per (site, replica node), no longer one line per assignment."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.patches import FancyArrowPatch

from offload.errors import ParameterError
from scheduler.problem import PlacementProblem, ServiceDemand, UserGroups, build_problem
from scheduler.result import Placement
from scheduler.topology import NodeKind, Resources, TopologyNode, add_link, add_node
from simulator.plots.placement import placement_map, site_flows, solver_comparison


def _topology() -> nx.Graph:
    graph = nx.Graph()
    site = Resources(cpu_cores=8)
    add_node(graph, "bs0", TopologyNode(NodeKind.BASE_STATION, -37.81, 144.96, capacity=site))
    add_node(graph, "bs1", TopologyNode(NodeKind.BASE_STATION, -37.82, 144.97, capacity=site))
    add_node(graph, "dc", TopologyNode(NodeKind.REGIONAL_DC, -37.83, 144.93, capacity=Resources(cpu_cores=64)))
    add_node(graph, "cloud", TopologyNode(NodeKind.CLOUD, -33.87, 151.21, capacity=Resources(cpu_cores=1000)))
    for u, v in (("bs0", "dc"), ("bs1", "dc"), ("bs0", "bs1"), ("dc", "cloud")):
        add_link(graph, u, v, bandwidth_bps=1e9)
    return graph


def _case() -> tuple[nx.Graph, PlacementProblem, Placement]:
    graph = _topology()
    services = [ServiceDemand("plates", 1e8), ServiceDemand("faces", 2e8)]
    groups = UserGroups(("g0", "g1"), ("bs0", "bs1"), np.array([[1.0, 2.0], [3.0, 0.0]]))
    problem = build_problem(graph, services, groups)
    assert problem.node_names == ("bs0", "bs1", "dc", "cloud")
    # plates: 2 replicas on bs0, 1 on dc; g0 -> bs0, g1 split bs0/dc. faces: 1 replica in the cloud serving g0.
    placement = Placement(replicas=np.array([[2, 0, 1, 0], [0, 0, 0, 1]]), group=np.array([0, 1, 1, 0]),
                          service=np.array([0, 0, 0, 1]), node=np.array([0, 0, 2, 3]),
                          share=np.array([1.0, 0.5, 0.5, 1.0]))
    return graph, problem, placement


def _arrows(ax: Axes) -> dict[str, FancyArrowPatch]:
    return {str(p.get_gid()): p for p in ax.patches if isinstance(p, FancyArrowPatch)}


def test_placement_map_one_arrow_per_site_and_replica_node_width_by_rate() -> None:
    graph, problem, placement = _case()
    ax = placement_map(graph, problem, placement).axes[0]
    # plates: g0 at bs0 served at bs0 (no arrow), g1 at bs1 half to bs0 (1.5 req/s), half to dc (1.5 req/s);
    # faces: g0 at bs0 -> cloud (2 req/s), the widest flow
    arrows = _arrows(ax)
    assert sorted(arrows) == ["faces:bs0->cloud", "plates:bs1->bs0", "plates:bs1->dc"]
    widest = arrows["faces:bs0->cloud"].get_linewidth()
    assert widest == pytest.approx(6.0)
    assert arrows["plates:bs1->dc"].get_linewidth() == pytest.approx(0.6 + 5.4 * 1.5 / 2.0)
    assert sum(line.get_color() == "lightgray" for line in ax.get_lines()) == graph.number_of_edges()
    rings = [c for c in ax.collections if isinstance(c, PathCollection) and len(c.get_facecolors()) == 0]
    np.testing.assert_allclose(rings[0].get_offsets(), [[144.96, -37.81], [144.93, -37.83]])
    # plates load: bs0 serves 1 + 1.5 = 2.5 req/s, dc 1.5; the busiest node of all is bs0
    np.testing.assert_allclose(rings[0].get_sizes(), [40 + 400 * 2.5 / 2.5, 40 + 400 * 1.5 / 2.5])
    assert [t.get_text() for t in ax.texts if t.get_text().startswith("×")] == ["×2"]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "plates: 3 replicas on 2 nodes" in labels
    assert "faces: 1 replica on 1 node" in labels
    assert "cloud (cloud, off the map)" in labels
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    (cloud,) = [c for c in ax.collections if c.get_label() == "cloud (cloud, off the map)"]
    ((cloud_x, cloud_y),) = cloud.get_offsets()  # near the frame's edge, towards Sydney (north-east)
    assert (x0 + x1) / 2 < cloud_x < x1
    assert cloud_y == pytest.approx(y1, abs=0.05 * (y1 - y0))
    assert x0 <= cloud_x <= x1
    assert y0 <= cloud_y <= y1
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("longitude [°]", "latitude [°]")


def test_site_flows_add_up_groups_at_one_site() -> None:
    _graph, problem, placement = _case()
    flows = site_flows(problem, placement)
    assert flows["rate_per_s"].sum() == pytest.approx(problem.rate_per_s.sum())
    row = flows[(flows.service == "plates") & (flows.site == "bs1") & (flows.node == "dc")].iloc[0]
    assert row.rate_per_s == pytest.approx(1.5)


def test_placement_map_one_service_and_unknown_name() -> None:
    graph, problem, placement = _case()
    ax = placement_map(graph, problem, placement, services=["faces"]).axes[0]
    assert list(_arrows(ax)) == ["faces:bs0->cloud"]
    with pytest.raises(ParameterError, match="unknown; valid: plates, faces"):
        placement_map(graph, problem, placement, services=["cars"])


def test_solver_comparison_bars_and_gaps() -> None:
    table = pd.DataFrame({"solver": ["greedy", "milp"], "total": [1.2, 1.0], "lower_bound": [0.9, 1.0],
                          "runtime_s": [0.01, 2.0]})
    left, right = solver_comparison(table).axes
    assert [p.get_height() for p in left.patches] == [1.2, 1.0]
    assert [t.get_text() for t in left.texts] == ["gap 16.67%", "gap 0.00%"]  # (1.2 - 1.0) / 1.2
    assert [p.get_height() for p in right.patches] == [0.01, 2.0]
    assert right.get_yscale() == "log"
