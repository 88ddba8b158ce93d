"""Does the placement model predict what the simulator measures? Play placements forward and compare (issue 15).

A solver's prediction is its objective's mean latency (network + compute + the pools' queueing,
:mod:`scheduler.model`); the measurement is the mean latency of the ``always_edge`` policy (every request offloaded,
as the placement assumes) in the world the placement implies, with its 95 % interval. Two kinds of input:

- a simulation scenario: the world is :func:`~simulator.placement_bridge.apply_placement` of the scenario's world;
- a placement file (a topology and user groups, no devices): :func:`problem_world` builds the world the problem
  describes — every user group an access point at its attachment node with no radio delay, one device group per
  (group, service) with Poisson arrivals at the group's rate and the service's work (constant when ``work_scv`` is
  0, exponential when 1, lognormal with that SCV otherwise), every topology link a backhaul link with the link's
  one-way delay and bandwidth, every pool with replicas a server ``node/service`` with one worker per replica.

The *simulated total* is the objective with the simulated mean latency in place of the predicted one (compute and
traffic costs do not depend on time), so solvers can be ranked by what the simulator measures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import networkx as nx
import numpy as np

from offload.errors import InfeasibleError
from offload.profiles import Device
from scheduler.problem import PlacementProblem
from scheduler.result import Placement, PlacementResult
from simulator.distributions import Distribution, Exponential, LogNormal
from simulator.placement_bridge import placed_server_name
from simulator.run import run
from simulator.workloads import Poisson
from simulator.world import AccessPoint, BackhaulLink, DeviceGroup, EdgeServer, PolicySpec, Service, TaskSizes, World

#: The runtime policy a placement is measured with: every request offloaded, to the placed replicas.
MEASURED_POLICY = "always_edge"


@dataclass(frozen=True, slots=True)
class Comparison:
    """One solver's prediction next to the simulator's measurement.

    Attributes
    ----------
    predicted_latency_s, simulated_latency_s : float
        Mean latency by the placement model and by simulation (``always_edge``).
    ci95_s : float or None
        Half-width of the simulated mean's 95 % interval.
    predicted_total, simulated_total : float
        The weighted objective with the predicted and with the simulated mean latency.
    tasks : int
        Completed measured tasks behind the simulated mean.
    """

    solver: str
    predicted_latency_s: float
    simulated_latency_s: float
    ci95_s: float | None
    predicted_total: float
    simulated_total: float
    tasks: int

    @property
    def relative_error(self) -> float:
        """``predicted / simulated − 1``."""
        return self.predicted_latency_s / self.simulated_latency_s - 1.0


def _work(mean_ops: float, scv: float) -> Distribution | float:
    if scv == 0:
        return mean_ops
    if scv == 1:
        return Exponential(mean_ops)
    return LogNormal(mean_ops, math.sqrt(scv))


def problem_world(graph: nx.Graph, problem: PlacementProblem, placement: Placement) -> World:
    """The world a placement file's problem describes, playing ``placement`` (see the module docstring)."""
    attach = sorted(set(problem.group_nodes))
    access = tuple(AccessPoint(node, math.inf, math.inf, 0.0, shared=False) for node in attach)
    links = tuple(BackhaulLink(str(a), str(b), float(data["bandwidth_bps"]), float(data["delay_s"]))
                  for a, b, data in graph.edges(data=True))
    servers = []
    hosts: dict[str, list[str]] = {s.name: [] for s in problem.services}
    for s, n in zip(*np.nonzero(placement.replicas > 0), strict=True):
        service, node = problem.services[int(s)], problem.node_names[int(n)]
        name = placed_server_name(node, service.name)
        servers.append(EdgeServer(name, speed_ops_per_s=float(problem.replica_speed_ops_per_s[s, n]),
                                  workers=int(placement.replicas[s, n]), location=node))
        hosts[service.name].append(name)
    routes: dict[tuple[int, int], list[tuple[str, float]]] = {}
    for g, s, n, share in zip(placement.group, placement.service, placement.node, placement.share, strict=True):
        server = placed_server_name(problem.node_names[int(n)], problem.services[int(s)].name)
        routes.setdefault((int(g), int(s)), []).append((server, float(share)))
    groups = []
    for (g, s), shares in sorted(routes.items()):
        service = problem.services[s]
        total = sum(share for _, share in shares)
        groups.append(DeviceGroup(
            f"{problem.group_names[g]}/{service.name}", 1, Device(speed_ops_per_s=1e9),
            Poisson(float(problem.rate_per_s[g, s])), problem.group_nodes[g],
            TaskSizes(_work(service.work_ops, service.work_scv), service.input_bits, service.output_bits),
            service=service.name, routes=tuple((server, share / total) for server, share in shares)))
    services = tuple(Service(name, tuple(names)) for name, names in hosts.items())
    return World(tuple(groups), access, tuple(servers), links, services, (PolicySpec(MEASURED_POLICY),))


def measure(world: World, *, duration_s: float, warmup_s: float, seed: int, replications: int = 1
            ) -> tuple[float, float | None, int]:
    """Simulated mean latency of :data:`MEASURED_POLICY` in ``world``, its 95 % half-width and the task count."""
    result = run(world, duration_s=duration_s, seed=seed, replications=replications, warmup_s=warmup_s,
                 policies=[MEASURED_POLICY])
    summary = result.policies[MEASURED_POLICY]
    mean = summary.latency_s.mean_s
    return (math.nan if mean is None else float(mean), summary.latency_ci95_s.mean_s,
            int(summary.tasks.completed))


def compare(problem: PlacementProblem, result: PlacementResult, world: World, *, duration_s: float,
            warmup_s: float, seed: int, replications: int = 1) -> Comparison:
    """Simulate ``world`` (placed by ``result``) and set the measurement next to the prediction."""
    terms = result.objective
    if terms is None:
        raise InfeasibleError(f"placement solver {result.solver!r} found no placement to simulate: {result.message}")
    mean, ci, tasks = measure(world, duration_s=duration_s, warmup_s=warmup_s, seed=seed, replications=replications)
    simulated_total = terms.total + problem.weights.latency * (mean - terms.mean_latency_s)
    return Comparison(result.solver, terms.mean_latency_s, mean, ci, terms.total, simulated_total, tasks)
