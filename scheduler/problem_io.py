"""Plain inputs and outputs of placement: users grouped by attachment node, results as JSON-ready dicts.

No file formats here (the scheduler stays pure); ``simulator.scenario.placement_file`` reads YAML and the CLI prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import networkx as nx
import numpy as np
import numpy.typing as npt

from scheduler.problem import PlacementProblem, UserGroups
from scheduler.result import PlacementResult
from scheduler.topology import NodeKind, nearest_node

#: Node kinds a located user attaches to (the closest by great-circle distance).
ACCESS_KINDS = frozenset({NodeKind.BASE_STATION, NodeKind.EDGE_SITE})


def users_to_groups(
    graph: nx.Graph,
    lat_deg: npt.ArrayLike,
    lon_deg: npt.ArrayLike,
    rate_per_user_per_s: npt.ArrayLike,
    *,
    kinds: frozenset[NodeKind] = ACCESS_KINDS,
) -> UserGroups:
    """One group per attachment node: users attach to their nearest node of ``kinds`` and their rates add up.

    ``rate_per_user_per_s`` is (S,) (every user alike) or (users, S). Groups are named ``users@{node}`` and
    ordered by node name, so the result does not depend on the order of the users.
    """
    lat, lon = np.atleast_1d(np.asarray(lat_deg, dtype=float)), np.atleast_1d(np.asarray(lon_deg, dtype=float))
    rates = np.asarray(rate_per_user_per_s, dtype=float)
    if rates.ndim == 1:
        rates = np.broadcast_to(rates, (len(lat), len(rates)))
    attach = [nearest_node(graph, float(a), float(b), kinds) for a, b in zip(lat, lon, strict=True)]
    nodes = sorted(set(attach))
    index = {name: k for k, name in enumerate(nodes)}
    total = np.zeros((len(nodes), rates.shape[1]))
    np.add.at(total, [index[name] for name in attach], rates)
    return UserGroups(tuple(f"users@{n}" for n in nodes), tuple(nodes), total)


def replica_rows(problem: PlacementProblem, result: PlacementResult) -> list[dict[str, Any]]:
    """Per service: total replicas, where they run, and the request rate each node serves."""
    if result.placement is None:
        return []
    placement = result.placement
    served = np.zeros(placement.replicas.shape)
    np.add.at(served, (placement.service, placement.node),
              problem.rate_per_s[placement.group, placement.service] * placement.share)
    rows = []
    for s, service in enumerate(problem.services):
        nodes = np.flatnonzero(placement.replicas[s])
        rows.append({
            "service": service.name,
            "replicas": int(placement.replicas[s].sum()),
            "nodes": {problem.node_names[n]: {"replicas": int(placement.replicas[s, n]),
                                              "rate_per_s": float(served[s, n])} for n in nodes},
        })
    return rows


def result_to_dict(problem: PlacementProblem, result: PlacementResult,
                   assignment: bool = False) -> dict[str, Any]:
    """A JSON-ready summary of one solver run (with every (group, service, node, share) when ``assignment``)."""
    terms = result.objective
    out: dict[str, Any] = {
        "solver": result.solver,
        "success": result.success,
        "status": result.status.value,
        "message": result.message,
        "runtime_s": result.runtime_s,
        "lower_bound": _finite(result.lower_bound),
        "gap": _finite(result.gap),
        "approximation_error": result.approximation_error,
        "objective": None if terms is None else {
            "total": terms.total, "mean_latency_s": terms.mean_latency_s,
            "compute_cost_per_s": terms.compute_cost_per_s, "traffic_cost_per_s": terms.traffic_cost_per_s,
        },
        "services": replica_rows(problem, result),
    }
    if assignment and result.placement is not None:
        p = result.placement
        out["assignment"] = [
            {"group": problem.group_names[g], "service": problem.services[s].name,
             "node": problem.node_names[n], "share": float(x)}
            for g, s, n, x in zip(p.group, p.service, p.node, p.share, strict=True)]
    return out


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def describe(problem: PlacementProblem, names: Sequence[str] = ()) -> str:
    """One line: counts of services, candidate nodes, groups and served (group, service) pairs."""
    demands = int((problem.rate_per_s > 0).sum())
    label = f"{names[0]}: " if names else ""
    return (f"{label}{len(problem.services)} services, {len(problem.node_names)} candidate nodes, "
            f"{len(problem.group_names)} user groups, {demands} demands, "
            f"{problem.rate_per_s.sum():.4g} requests/s")
