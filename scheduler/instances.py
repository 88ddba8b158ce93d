"""A documented random generator of placement instances (for benchmarks and tests).

Topology: :func:`~scheduler.builders.hierarchical` with one region per 25 candidate nodes, so that there are exactly
``nodes`` candidates (one cloud, the regional data centres, the base stations); each base station's capacity is
scaled by a factor drawn from {0.5, 1, 2} and its prices by U(0.8, 1.2).

Services: work log-uniform in [5e7, 5e8] ops on 1, 2 or 4 CPU cores, or (probability 0.3) in [1e10, 4e10] ops on
half a GPU plus one core; memory 1-8 GiB; input log-uniform in [20 kB, 500 kB], output 1 kB; at least one replica;
SLO = compute time at a base station + the M/M/1 wait at the target utilisation + a network budget drawn from
U(2.5, 6) ms (so most users are served within their own region).

Groups: attached to base stations uniformly at random; each requests each service with probability
``3 / services`` (at least one service) at a rate log-uniform in [0.5, 8] requests/s.

Weights: latency 0.5 per second of mean latency, compute 1, traffic 1 (costs in currency per second).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import networkx as nx
import numpy as np

from offload.errors import ParameterError
from offload.queueing import mm1_mean_wait_s
from offload.units import GIB_BITS
from scheduler.builders import DEFAULT_TIERS, hierarchical
from scheduler.problem import PlacementProblem, ServiceDemand, UserGroups, Weights, build_problem
from scheduler.topology import NodeKind, Prices, Resources

TARGET_UTILISATION = 0.8


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(math.exp(rng.uniform(math.log(low), math.log(high))))


def random_services(rng: np.random.Generator, count: int) -> list[ServiceDemand]:
    """``count`` services as described in the module docstring (SLOs filled in by :func:`random_instance`)."""
    services = []
    for i in range(count):
        if rng.random() < 0.3:
            work, replica = _log_uniform(rng, 1e10, 4e10), Resources(1, 0.5, rng.integers(2, 9) * GIB_BITS)
        else:
            cores = float(rng.choice([1, 2, 4]))
            work, replica = _log_uniform(rng, 5e7, 5e8), Resources(cores, 0, rng.integers(1, 9) * GIB_BITS)
        input_bits = _log_uniform(rng, 20e3, 500e3) * 8
        services.append(ServiceDemand(f"svc{i}", work, input_bits, 8e3, replica, min_replicas=1))
    return services


@dataclass(frozen=True, slots=True)
class Instance:
    """A generated topology and the placement problem built on it (the checker needs both)."""

    graph: nx.Graph
    problem: PlacementProblem


def random_instance(rng: np.random.Generator, nodes: int, services: int, groups: int) -> Instance:
    """A random instance with ``nodes`` candidate nodes, ``services`` services and ``groups`` user groups."""
    for name, value, low in (("nodes", nodes, 4), ("services", services, 1), ("groups", groups, 1)):
        if value < low:
            raise ParameterError(name, value, f"must be >= {low}")
    regions = max(1, round(nodes / 25))
    stations = nodes - 1 - regions
    counts = [stations // regions + (1 if r < stations % regions else 0) for r in range(regions)]
    graph = hierarchical(rng, regions=regions, stations_per_region=counts)
    for name, spec in graph.nodes(data="spec"):
        if spec.kind is NodeKind.BASE_STATION:
            factor, price = float(rng.choice([0.5, 1.0, 2.0])), float(rng.uniform(0.8, 1.2))
            cap = spec.capacity
            graph.nodes[name]["spec"] = replace(spec, capacity=Resources(
                cap.cpu_cores * factor, cap.gpu_units * factor, cap.memory_bits * factor),
                prices=Prices(*(p * price for p in spec.prices.as_tuple())))
    catalogue = random_services(rng, services)
    bs = DEFAULT_TIERS[NodeKind.BASE_STATION]
    for i, svc in enumerate(catalogue):
        speed = svc.replica.cpu_cores * bs.core_speed_ops_per_s + svc.replica.gpu_units * bs.gpu_speed_ops_per_s
        mu = speed / svc.work_ops
        floor_s = 1.0 / mu + float(mm1_mean_wait_s(TARGET_UTILISATION * mu, mu))
        catalogue[i] = replace(svc, slo_s=floor_s + rng.uniform(2.5e-3, 6e-3))
    stations_names = [n for n, spec in graph.nodes(data="spec") if spec.kind is NodeKind.BASE_STATION]
    attach = tuple(str(stations_names[k]) for k in rng.integers(0, len(stations_names), size=groups))
    wants = rng.random((groups, services)) < min(1.0, 3.0 / services)
    wants[np.arange(groups), rng.integers(0, services, size=groups)] = True
    rates = np.where(wants, np.exp(rng.uniform(math.log(0.5), math.log(8.0), size=(groups, services))), 0.0)
    users = UserGroups(tuple(f"g{k}" for k in range(groups)), attach, rates)
    problem = build_problem(graph, catalogue, users, weights=Weights(latency=0.5, compute=1.0, traffic=1.0),
                            target_utilisation=TARGET_UTILISATION)
    return Instance(graph, problem)
