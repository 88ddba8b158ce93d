"""An independent checker: recomputes feasibility and every objective term of a placement from the graph.

It deliberately shares no code with the solvers' cost path (:mod:`scheduler.model`, :mod:`scheduler.paths`):
paths come from :func:`networkx.single_source_dijkstra`, resources, speeds and prices from the nodes'
:class:`~scheduler.topology.TopologyNode`, and the M/M/1 wait at the target utilisation ρ is written out as
``ρ / (μ (1 − ρ))`` (Kleinrock Vol. 1, §3.2). Plain loops, so it is slow but easy to audit; it is a test oracle.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass

import networkx as nx

from scheduler.problem import PlacementProblem
from scheduler.result import ObjectiveTerms, Placement


@dataclass(frozen=True, slots=True)
class CheckReport:
    """The verdict: feasible or not, every violated rule in words, and the recomputed objective."""

    feasible: bool
    violations: tuple[str, ...]
    terms: ObjectiveTerms


@dataclass(frozen=True, slots=True)
class _Path:
    delay_s: float
    bottleneck_bps: float
    cost_per_bit: float


def _paths_from(graph: nx.Graph, source: str) -> dict[str, _Path]:
    _, paths = nx.single_source_dijkstra(graph, source, weight="delay_s")
    out = {}
    for target, nodes in paths.items():
        hops = [graph.edges[a, b] for a, b in itertools.pairwise(nodes)]
        out[target] = _Path(sum(h["delay_s"] for h in hops), min((h["bandwidth_bps"] for h in hops),
                                                                  default=float("inf")),
                            sum(h["cost_per_bit"] for h in hops))
    return out


def check_placement(
    graph: nx.Graph, problem: PlacementProblem, placement: Placement, *, rel_tol: float = 1e-6
) -> CheckReport:
    """Check ``placement`` for ``problem`` on ``graph``; violations are listed, never raised."""
    bad: list[str] = []
    services = problem.services
    nodes = problem.node_names
    spec = {name: graph.nodes[name]["spec"] for name in nodes}
    rho = problem.target_utilisation
    paths: dict[str, dict[str, _Path]] = {}
    shares: dict[tuple[int, int], float] = defaultdict(float)
    load: dict[tuple[int, int], float] = defaultdict(float)
    weighted_latency = traffic = 0.0
    for g, s, n, share in zip(placement.group, placement.service, placement.node, placement.share, strict=True):
        g, s, n, share = int(g), int(s), int(n), float(share)
        svc, node = services[s], spec[nodes[n]]
        rate = float(problem.rate_per_s[g, s])
        if share < -rel_tol:
            bad.append(f"negative share {share} for group {problem.group_names[g]} service {svc.name}")
        shares[g, s] += share
        load[s, n] += rate * share
        if svc.regions is not None and node.region not in svc.regions:
            bad.append(f"service {svc.name} placed in region {node.region} outside {sorted(svc.regions)}")
        attach = problem.group_nodes[g]
        if attach not in paths:
            paths[attach] = _paths_from(graph, attach)
        path = paths[attach][nodes[n]]
        speed = svc.replica.cpu_cores * node.core_speed_ops_per_s + svc.replica.gpu_units * node.gpu_speed_ops_per_s
        if speed <= 0:
            bad.append(f"service {svc.name} on {nodes[n]} has no compute speed")
            continue
        mu = speed / svc.work_ops
        latency = (2 * path.delay_s + (svc.input_bits + svc.output_bits) / path.bottleneck_bps
                   + rho / (mu * (1 - rho)) + svc.work_ops / speed)
        if share > rel_tol and latency > svc.slo_s * (1 + rel_tol):
            bad.append(f"group {problem.group_names[g]} served by {nodes[n]} for {svc.name} in "
                       f"{latency * 1e3:.3f} ms > SLO {svc.slo_s * 1e3:.3f} ms")
        weighted_latency += rate * share * latency
        traffic += rate * share * (svc.input_bits + svc.output_bits) * path.cost_per_bit
    for g in range(len(problem.group_names)):
        for s, svc in enumerate(services):
            if problem.rate_per_s[g, s] > 0 and abs(shares[g, s] - 1.0) > rel_tol:
                bad.append(f"group {problem.group_names[g]} service {svc.name}: shares sum to {shares[g, s]:.6g}")
    compute = 0.0
    for n, name in enumerate(nodes):
        node = spec[name]
        used = [0.0, 0.0, 0.0]
        for s, svc in enumerate(services):
            count = int(placement.replicas[s, n])
            if count < 0:
                bad.append(f"negative replica count for {svc.name} on {name}")
            need = (svc.replica.cpu_cores, svc.replica.gpu_units, svc.replica.memory_bits)
            used = [u + count * r for u, r in zip(used, need, strict=True)]
            compute += count * (need[0] * node.prices.per_cpu_core_s + need[1] * node.prices.per_gpu_unit_s
                                + need[2] * node.prices.per_memory_bit_s)
            speed = svc.replica.cpu_cores * node.core_speed_ops_per_s + svc.replica.gpu_units * node.gpu_speed_ops_per_s
            allowed_rate = rho * count * speed / svc.work_ops
            if load[s, n] > allowed_rate * (1 + rel_tol) + 1e-12:
                bad.append(f"{svc.name} on {name}: {load[s, n]:.4g} req/s exceeds {count} replicas at "
                           f"utilisation {rho} ({allowed_rate:.4g} req/s)")
            if count > 0 and svc.regions is not None and node.region not in svc.regions:
                bad.append(f"replicas of {svc.name} on {name} in region {node.region} outside {sorted(svc.regions)}")
        for used_r, cap_r, label in zip(used, (node.capacity.cpu_cores, node.capacity.gpu_units,
                                               node.capacity.memory_bits), ("CPU", "GPU", "memory"), strict=True):
            if used_r > cap_r * (1 + rel_tol) + 1e-9:
                bad.append(f"{label} on {name} over capacity: {used_r:.6g} > {cap_r:.6g}")
    for s, svc in enumerate(services):
        total = int(placement.replicas[s].sum())
        if not svc.min_replicas <= total <= svc.max_replicas:
            bad.append(f"{svc.name} has {total} replicas, outside [{svc.min_replicas}, {svc.max_replicas}]")
    total_rate = float(problem.rate_per_s.sum()) or 1.0
    latency_s = weighted_latency / total_rate
    w = problem.weights
    weighted = w.latency * latency_s + w.compute * compute + w.traffic * traffic
    terms = ObjectiveTerms(latency_s, compute, traffic, weighted)
    return CheckReport(not bad, tuple(bad), terms)
