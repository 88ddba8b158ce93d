"""Shared helpers for the scheduler tests: tiny hand-built topologies and solve-then-check."""

from __future__ import annotations

import networkx as nx
import numpy as np

from scheduler.checker import check_placement
from scheduler.problem import PlacementProblem, ServiceDemand, UserGroups, Weights, build_problem
from scheduler.result import PlacementResult
from scheduler.solvers import solve
from scheduler.topology import NodeKind, Prices, Resources, TopologyNode, add_link, add_node

MELBOURNE = (-37.8136, 144.9631)


def tiny_graph(cpu_cores: float = 4.0) -> nx.Graph:
    """Two base stations 1 km apart and a data centre: hand-checkable numbers."""
    graph = nx.Graph()
    lat, lon = MELBOURNE
    cheap, dear = Prices(per_cpu_core_s=1e-3), Prices(per_cpu_core_s=2e-3)
    add_node(graph, "bs0", TopologyNode(NodeKind.BASE_STATION, lat, lon, "city", Resources(cpu_cores, 0, 8e9), 1e9,
                                    prices=dear))
    add_node(graph, "bs1", TopologyNode(NodeKind.BASE_STATION, lat, lon + 0.0114, "city", Resources(cpu_cores, 0, 8e9),
                                    1e9, prices=dear))
    add_node(graph, "dc", TopologyNode(NodeKind.REGIONAL_DC, lat - 0.5, lon, "metro", Resources(64, 0, 1e12), 2e9,
                                   prices=cheap))
    add_link(graph, "bs0", "bs1", bandwidth_bps=1e9, hop_delay_s=1e-3, cost_per_bit=1e-9)
    add_link(graph, "bs0", "dc", bandwidth_bps=1e10, hop_delay_s=2e-3, cost_per_bit=1e-8)
    add_link(graph, "bs1", "dc", bandwidth_bps=1e10, hop_delay_s=2e-3, cost_per_bit=1e-8)
    return graph


def tiny_problem(rates: np.ndarray, *, cpu_cores: float = 4.0, slo_s: float = 10.0, min_replicas: int = 0,
                 weights: Weights | None = None) -> tuple[nx.Graph, PlacementProblem]:
    """Two services and one group per base station; ``rates`` is (2 groups, 2 services)."""
    graph = tiny_graph(cpu_cores)
    services = [
        ServiceDemand("detect", 1e8, 8e5, 8e3, Resources(1, 0, 1e9), min_replicas=min_replicas, slo_s=slo_s),
        ServiceDemand("ocr", 4e8, 1e5, 8e3, Resources(2, 0, 2e9), slo_s=slo_s),
    ]
    groups = UserGroups(("west", "east"), ("bs0", "bs1"), np.asarray(rates, dtype=float))
    return graph, build_problem(graph, services, groups, weights=weights or Weights(1.0, 100.0, 100.0),
                                target_utilisation=0.5)


def solve_checked(graph: nx.Graph, problem: PlacementProblem, policy: str, **options: object) -> PlacementResult:
    """Solve, then require the checker to accept the placement and agree on every objective term."""
    result = solve(problem, policy, **options)  # type: ignore[arg-type]
    assert result.success, result.message
    assert result.placement is not None
    assert result.objective is not None
    report = check_placement(graph, problem, result.placement)
    assert report.feasible, report.violations
    for name in ("mean_latency_s", "compute_cost_per_s", "traffic_cost_per_s", "total"):
        mine, theirs = getattr(result.objective, name), getattr(report.terms, name)
        assert abs(mine - theirs) <= 1e-9 * max(1.0, abs(theirs)), (name, mine, theirs)
    assert result.lower_bound <= result.objective.total * (1 + 1e-7) + 1e-12
    return result
