"""An independent checker: recomputes feasibility and every objective term of a placement from the graph.

It deliberately shares no code with the solvers' cost path (:mod:`scheduler.model`, :mod:`scheduler.paths`):
paths come from :func:`networkx.single_source_dijkstra`, resources, speeds and prices from the nodes'
:class:`~scheduler.topology.TopologyNode`, and the wait of each pool (the ``k`` replicas of a service on a node,
one queue) is Erlang C written out from its definition, ``C = (A^k/k! · k/(k−A)) / (Σ_{i<k} A^i/i! + A^k/k! ·
k/(k−A))`` (Kleinrock Vol. 1, §3.5, in log space), ``Wq = C / (kμ − λ)`` scaled by Allen–Cunneen's
``(c_a² + c_s²) / 2``. Plain loops, so it is slow but easy to audit; it is a test oracle.
"""

from __future__ import annotations

import itertools
import math
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
    hops: tuple[tuple[str, str], ...]


def _paths_from(graph: nx.Graph, source: str) -> dict[str, _Path]:
    _, paths = nx.single_source_dijkstra(graph, source, weight="delay_s")
    out = {}
    for target, nodes in paths.items():
        hops = [graph.edges[a, b] for a, b in itertools.pairwise(nodes)]
        out[target] = _Path(sum(h["delay_s"] for h in hops), min((h["bandwidth_bps"] for h in hops),
                                                                  default=float("inf")),
                            sum(h["cost_per_bit"] for h in hops), tuple(itertools.pairwise(nodes)))
    return out


def _pool_wait_s(load: float, mu: float, replicas: int, factor: float) -> float:
    if load <= 1e-9 * mu:
        return 0.0
    if replicas <= 0 or load >= replicas * mu:
        return math.inf
    a = load / mu
    logs = [i * math.log(a) - math.lgamma(i + 1) for i in range(replicas)]
    last = replicas * math.log(a) - math.lgamma(replicas + 1) + math.log(replicas / (replicas - a))
    top = max([*logs, last])
    waiting = math.exp(last - top) / (sum(math.exp(x - top) for x in logs) + math.exp(last - top))
    return factor * waiting / (replicas * mu - load)


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
    link_bits: dict[frozenset[str], float] = defaultdict(float)
    entries = [(int(g), int(s), int(n), float(share)) for g, s, n, share in zip(
        placement.group, placement.service, placement.node, placement.share, strict=True)]
    for g, s, n, share in entries:
        load[s, n] += float(problem.rate_per_s[g, s]) * share
    for g, s, n, share in entries:
        svc, node = services[s], spec[nodes[n]]
        rate = float(problem.rate_per_s[g, s])
        if share < -rel_tol:
            bad.append(f"negative share {share} for group {problem.group_names[g]} service {svc.name}")
        shares[g, s] += share
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
        wait = _pool_wait_s(load[s, n], speed / svc.work_ops, int(placement.replicas[s, n]),
                            (svc.arrival_scv + svc.work_scv) / 2)
        latency = (2 * path.delay_s + (svc.input_bits + svc.output_bits) / path.bottleneck_bps + wait
                   + svc.work_ops / speed)
        if share > rel_tol and latency > svc.slo_s * (1 + rel_tol):
            bad.append(f"group {problem.group_names[g]} served by {nodes[n]} for {svc.name} in "
                       f"{latency * 1e3:.3f} ms > SLO {svc.slo_s * 1e3:.3f} ms")
        if share > 0:
            weighted_latency += rate * share * latency
        traffic += rate * share * (svc.input_bits + svc.output_bits) * path.cost_per_bit
        for a, b in path.hops:
            link_bits[frozenset((a, b))] += rate * share * (svc.input_bits + svc.output_bits)
    if problem.link_utilisation is not None:
        for a, b, data in graph.edges(data=True):
            allowed_bits = problem.link_utilisation * data["bandwidth_bps"]
            carried = link_bits[frozenset((a, b))]
            if carried > allowed_bits * (1 + rel_tol) + 1e-9:
                bad.append(f"link {a}–{b} carries {carried / 1e6:.6g} Mbit/s > {problem.link_utilisation:g} × "
                           f"{data['bandwidth_bps'] / 1e6:.6g} Mbit/s")
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
