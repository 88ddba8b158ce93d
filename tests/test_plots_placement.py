"""Placement map and solver comparison on a hand-built three-site topology with a hand-written placement."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection

from offload.errors import ParameterError
from scheduler.problem import PlacementProblem, ServiceDemand, UserGroups, build_problem
from scheduler.result import Placement
from scheduler.topology import NodeKind, Resources, TopologyNode, add_link, add_node
from simulator.plots.placement import placement_map, solver_comparison


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


def test_placement_map_draws_replicas_and_assignments() -> None:
    graph, problem, placement = _case()
    ax = placement_map(graph, problem, placement).axes[0]
    coloured = [line for line in ax.get_lines() if line.get_color() != "lightgray"]
    assert len(coloured) == 4  # one line per (group, service, node) assignment
    assert sum(line.get_color() == "lightgray" for line in ax.get_lines()) == graph.number_of_edges()
    rings = [c for c in ax.collections if isinstance(c, PathCollection) and len(c.get_facecolors()) == 0]
    np.testing.assert_allclose(rings[0].get_offsets(), [[144.96, -37.81], [144.93, -37.83]])
    np.testing.assert_allclose(rings[0].get_sizes(), [60 + 40 * 2, 60 + 40 * 1])
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "plates: 3 replicas on 2 nodes" in labels
    assert "faces: 1 replicas on 1 nodes" in labels
    assert "cloud off the map" in ax.get_title()


def test_placement_map_one_service_and_unknown_name() -> None:
    graph, problem, placement = _case()
    ax = placement_map(graph, problem, placement, services=["faces"]).axes[0]
    assert len([line for line in ax.get_lines() if line.get_color() != "lightgray"]) == 1
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
