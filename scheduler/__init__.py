"""Edge topologies and service placement: where should each AI service and its replicas run?

- :mod:`scheduler.topology` — the graph (typed nodes with capacities and prices, links with delay/bandwidth/price);
  :mod:`scheduler.builders` — hierarchical generator, ``topohub`` backbones, EUA Melbourne sites.
- :mod:`scheduler.problem` — :class:`~scheduler.problem.PlacementProblem` as arrays, built from a graph by
  :func:`~scheduler.problem.build_problem`; :mod:`scheduler.model` compiles it into demands and arcs.
- :mod:`scheduler.solvers` — ``SOLVERS`` registry (nearest, greedy, least-loaded, local-search, milp, filter-score),
  :func:`~scheduler.solvers.solve` returning a :class:`~scheduler.result.PlacementResult` with objective terms,
  certified lower bound and gap.
- :mod:`scheduler.scoring` — Kubernetes-style filter and score of one replica over nodes (resource fit, least or
  most allocated, image locality, spread), used by the ``filter-score`` solver and by simulated deployments.
- :mod:`scheduler.checker` — independent re-computation of feasibility and every objective term from the graph.
- :mod:`scheduler.instances` — the documented random instance generator used by ``benchmarks/bench_place.py``.
"""

from scheduler.builders import eua_melbourne, hierarchical, topohub_backbone
from scheduler.checker import CheckReport, check_placement
from scheduler.geo import fibre_delay_s, great_circle_m
from scheduler.problem import PlacementProblem, ServiceDemand, UserGroups, Weights, build_problem
from scheduler.result import ObjectiveTerms, Placement, PlacementResult, Status
from scheduler.solvers import SOLVERS, certified_bound, get_solver, solve
from scheduler.topology import NodeKind, Prices, Resources, TopologyNode, add_link, add_node

__all__ = [
    "SOLVERS",
    "CheckReport",
    "NodeKind",
    "ObjectiveTerms",
    "Placement",
    "PlacementProblem",
    "PlacementResult",
    "Prices",
    "Resources",
    "ServiceDemand",
    "Status",
    "TopologyNode",
    "UserGroups",
    "Weights",
    "add_link",
    "add_node",
    "build_problem",
    "certified_bound",
    "check_placement",
    "eua_melbourne",
    "fibre_delay_s",
    "get_solver",
    "great_circle_m",
    "hierarchical",
    "solve",
    "topohub_backbone",
]
