"""From a simulated world to a placement problem and back: place replicas, then simulate the placement.

:func:`place_world` builds the :mod:`scheduler` view of a :class:`~simulator.world.World`, solves it with a
registered solver, verifies the answer with the independent :func:`scheduler.checker.check_placement` and returns
the world rebuilt around the placement:

- topology: access points become base stations, each with a radio node (``{ap}/radio``, where its users attach)
  behind a link of the access point's uplink rate and access latency; servers become edge sites or clouds by tier
  (linked to their ``location`` with no delay); other link endpoints become routers (sites without capacity);
  links keep their bandwidth, fixed latency and distance (fibre propagation, as in the simulator);
- users: one user group per device group, at ``count × workload.mean_rate_per_s`` requests per second (every
  request is assumed offloaded, the worst case for the servers);
- services: rate-weighted mean work, input and output of the groups calling them (in scenario files every group
  of a service has the service's sizes; groups built in Python with different sizes are planned at that mean); the
  variability the queueing estimate needs: the SCV of the work (of the rate-weighted mixture of the groups' work
  distributions) and of the arrivals: the rate-weighted mean over the groups of the SCV a replica pool sees from a
  group's ``count`` devices, by Whitt's QNA hybrid (:func:`offload.queueing.superposition_arrival_scv`) at the target
  utilisation — the workload's ``arrival_scv`` (long-run dispersion) for one device, tending to Poisson's 1 for many
  (the simulator also splits a group's tasks over its routes at random, which thins the stream towards Poisson);
  SLO the tightest deadline; ``hosts`` restrict placement to those servers (each server is its own region);
- the answer: a server with replicas of service ``s`` becomes the server ``{server}/{s}`` at the same place, with
  one worker per replica at the replica's speed (``cpu × speed + gpu × gpu_speed``; a per-service pool is the
  pooled node of :mod:`scheduler.model`); servers without replicas are left out; each service's hosts are its
  replicas' servers; each device group's ``routes`` are its shares of the placement.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import networkx as nx
import numpy as np

from offload.errors import InfeasibleError, MecsimError, ParameterError
from offload.queueing import superposition_arrival_scv
from scheduler.checker import CheckReport, check_placement
from scheduler.model import compile_model
from scheduler.problem import PlacementProblem, ServiceDemand, UserGroups, Weights, build_problem
from scheduler.result import PlacementResult
from scheduler.solvers import Budget, solve
from scheduler.solvers.milp import run_milp
from scheduler.topology import NodeKind, Prices, Resources, TopologyNode, add_link, add_node
from simulator.world import DeviceGroup, EdgeServer, Service, World

logger = logging.getLogger(__name__)

#: Memory a node offers when its placement entry does not say: effectively unconstrained (bits).
UNLIMITED_MEMORY_BITS = 1e24
#: Suffix of the node where an access point's users attach (behind its radio link).
RADIO_SUFFIX = "/radio"


@dataclass(frozen=True, slots=True)
class ReplicaSpec:
    """What one replica of a service reserves and how many replicas it may have in total."""

    replica: Resources = field(default_factory=lambda: Resources(cpu_cores=1.0))
    min_replicas: int = 0
    max_replicas: int = 1_000_000


@dataclass(frozen=True, slots=True)
class NodeOffer:
    """What a server offers replicas: cores (None: one per worker), GPUs, memory (None: unlimited), GPU speed and
    prices per unit and second."""

    cpu_cores: float | None = None
    gpu_units: float = 0.0
    memory_bits: float | None = None
    gpu_speed_ops_per_s: float = 0.0
    prices: Prices = field(default_factory=Prices)


@dataclass(frozen=True, slots=True)
class PlacementSettings:
    """How to place: solver ``policy`` (a :data:`scheduler.solvers.SOLVERS` name), its budget and seed, objective
    weights, the utilisation cap, the traffic price per bit and link, per-service / per-server overrides and the cap
    on every link's traffic as a share of its bandwidth (None: links only set transfer times)."""

    policy: str = "greedy"
    budget: Budget = field(default_factory=Budget)
    seed: int = 0
    weights: Weights = field(default_factory=Weights)
    target_utilisation: float = 0.8
    traffic_price_per_bit: float = 0.0
    services: Mapping[str, ReplicaSpec] = field(default_factory=dict)
    nodes: Mapping[str, NodeOffer] = field(default_factory=dict)
    link_utilisation: float | None = None


@dataclass(frozen=True, slots=True)
class PlacedWorld:
    """The world rebuilt around a placement, with everything that produced it."""

    world: World
    graph: nx.Graph
    problem: PlacementProblem
    result: PlacementResult
    check: CheckReport


def placement_graph(world: World, settings: PlacementSettings) -> nx.Graph:
    """The scheduler's topology of ``world`` (see the module docstring)."""
    graph = nx.Graph(name="world")
    for ap in world.access_points:
        add_node(graph, ap.name, TopologyNode(NodeKind.BASE_STATION, 0.0, 0.0))
        add_node(graph, ap.name + RADIO_SUFFIX, TopologyNode(NodeKind.DEVICE, 0.0, 0.0))
        add_link(graph, ap.name + RADIO_SUFFIX, ap.name, bandwidth_bps=ap.uplink_bps, hop_delay_s=ap.latency_s,
                 distance_m=0.0)
    for server in world.servers:
        add_node(graph, server.name, _server_spec(server, settings.nodes.get(server.name, NodeOffer())))
    for link in world.links:
        for end in (link.a, link.b):
            if end not in graph:
                add_node(graph, end, TopologyNode(NodeKind.EDGE_SITE, 0.0, 0.0))
        add_link(graph, link.a, link.b, bandwidth_bps=link.bandwidth_bps, hop_delay_s=link.latency_s,
                 cost_per_bit=settings.traffic_price_per_bit, distance_m=link.distance_m)
    for server in world.servers:
        if server.node != server.name:
            if server.node not in graph:
                add_node(graph, server.node, TopologyNode(NodeKind.EDGE_SITE, 0.0, 0.0))
            add_link(graph, server.name, server.node, bandwidth_bps=math.inf, distance_m=0.0)
    return graph


def _server_spec(server: EdgeServer, offer: NodeOffer) -> TopologyNode:
    if server.speed_ops_per_s is None or server.batching is not None:
        raise ParameterError(f"nodes[{server.name}].speed", server.speed_ops_per_s,
                             "placement needs a speed (replica speed = cpu × speed + gpu × gpu_speed), no batching")
    capacity = Resources(float(server.workers) if offer.cpu_cores is None else offer.cpu_cores, offer.gpu_units,
                         UNLIMITED_MEMORY_BITS if offer.memory_bits is None else offer.memory_bits)
    kind = NodeKind.CLOUD if server.tier == "cloud" else NodeKind.EDGE_SITE
    return TopologyNode(kind, 0.0, 0.0, server.name, capacity, server.speed_ops_per_s, offer.gpu_speed_ops_per_s,
                    offer.prices)


def _called(world: World) -> list[Service]:
    used = {group.service for group in world.device_groups}
    return [service for service in world.services if service.name in used]


def placement_problem(world: World, graph: nx.Graph, settings: PlacementSettings) -> PlacementProblem:
    """Services, user groups and weights of ``world`` on ``graph`` as a :class:`~scheduler.problem.PlacementProblem`.
    """
    unknown = sorted(set(settings.services) - {s.name for s in world.services})
    if unknown:
        raise ParameterError("placement.services", unknown[0], "is not a service of the scenario")
    unknown = sorted(set(settings.nodes) - {s.name for s in world.servers})
    if unknown:
        raise ParameterError("placement.nodes", unknown[0], "is not a node (server) of the scenario")
    called = _called(world)
    rate = np.zeros((len(world.device_groups), len(called)))
    services = []
    for s, sim_service in enumerate(called):
        groups = [(g, group) for g, group in enumerate(world.device_groups) if group.service == sim_service.name]
        for g, group in groups:
            rate[g, s] = group.count * group.workload.mean_rate_per_s
        weight = rate[[g for g, _ in groups], s]
        weight = weight / weight.sum() if weight.sum() > 0 else np.full(len(groups), 1.0 / len(groups))

        def mean(attribute: str, groups: list[tuple[int, DeviceGroup]] = groups, weight: np.ndarray = weight
                 ) -> float:
            return float(sum(w * getattr(group.task, attribute).mean for w, (_, group) in zip(weight, groups,
                                                                                               strict=True)))

        replicas = settings.services.get(sim_service.name, ReplicaSpec())
        if mean("work_ops") <= 0:
            raise ParameterError(f"services[{sim_service.name}].work", 0.0, "placement needs a mean work > 0")
        second = float(sum(w * (group.task.work_ops.variance + group.task.work_ops.mean ** 2)  # type: ignore[union-attr]
                           for w, (_, group) in zip(weight, groups, strict=True)))
        arrival_scv = float(sum(w * superposition_arrival_scv(group.workload.arrival_scv, group.count,
                                                              settings.target_utilisation)
                                for w, (_, group) in zip(weight, groups, strict=True)))
        services.append(ServiceDemand(sim_service.name, mean("work_ops"), mean("input_bits"), mean("output_bits"),
                                replicas.replica, replicas.min_replicas, replicas.max_replicas,
                                min(group.deadline_s for _, group in groups),
                                frozenset(sim_service.hosts) if sim_service.hosts else None,
                                arrival_scv, max(second / mean("work_ops") ** 2 - 1.0, 0.0)))
    users = UserGroups(tuple(g.name for g in world.device_groups),
                       tuple(g.access_point + RADIO_SUFFIX for g in world.device_groups), rate)
    return build_problem(graph, services, users, weights=settings.weights,
                         target_utilisation=settings.target_utilisation, link_utilisation=settings.link_utilisation)


def placed_server_name(server: str, service: str) -> str:
    """Name of the per-service server holding ``service``'s replicas on ``server``."""
    return f"{server}/{service}"


def apply_placement(world: World, problem: PlacementProblem, result: PlacementResult) -> World:
    """``world`` with servers, service hosts and group routes taken from ``result`` (see the module docstring)."""
    placement = result.placement
    if placement is None:
        raise InfeasibleError(f"placement solver {result.solver!r} found no placement: {result.message}")
    column = {name: n for n, name in enumerate(problem.node_names)}
    servers: list[EdgeServer] = []
    hosts: dict[str, list[str]] = {s.name: [] for s in problem.services}
    for server in world.servers:
        n = column[server.name]
        for s, service in enumerate(problem.services):
            count = int(placement.replicas[s, n])
            if count > 0:
                name = placed_server_name(server.name, service.name)
                servers.append(EdgeServer(name, speed_ops_per_s=float(problem.replica_speed_ops_per_s[s, n]),
                                          workers=count, compute_power_w=server.compute_power_w,
                                          idle_power_w=server.idle_power_w,
                                          queue_capacity=server.queue_capacity, location=server.node,
                                          tier=server.tier))
                hosts[service.name].append(name)
    routes: dict[int, list[tuple[str, float]]] = {g: [] for g in range(len(world.device_groups))}
    for g, s, n, share in zip(placement.group, placement.service, placement.node, placement.share, strict=True):
        routes[int(g)].append((placed_server_name(problem.node_names[n], problem.services[s].name), float(share)))
    groups = tuple(replace(group, routes=_normalised(routes[g])) for g, group in enumerate(world.device_groups))
    services = tuple(Service(s.name, tuple(hosts.get(s.name, ()))) for s in world.services)
    return World(groups, world.access_points, tuple(servers), world.links, services, world.policies,
                 world.sample_interval_s)


def _normalised(routes: list[tuple[str, float]]) -> tuple[tuple[str, float], ...]:
    total = sum(share for _, share in routes)
    return tuple((server, share / total) for server, share in routes)


def check_placeable(world: World, settings: PlacementSettings) -> None:
    """Everything :func:`place_world` needs short of solving: the graph and problem can be built, every user group
    reaches a server that can host its service within its deadline, and the servers' capacity can carry the load
    (the LP relaxation of the placement is feasible). Cheap next to solving; ``validate`` runs it.

    Raises
    ------
    InfeasibleError
        A demand no server can serve, or capacity proven too small.
    ParameterError
        A node or service that placement cannot use.
    """
    run_milp(compile_model(placement_problem(world, placement_graph(world, settings), settings)), relax=True)


def place_world(world: World, settings: PlacementSettings) -> PlacedWorld:
    """Place the services of ``world``, verify the placement independently and apply it.

    Raises
    ------
    InfeasibleError
        Nothing fits (a service with no admissible server, a deadline no server meets) or the solver found nothing.
    MecsimError
        The independent checker rejects the solver's placement.
    """
    graph = placement_graph(world, settings)
    problem = placement_problem(world, graph, settings)
    result = solve(problem, settings.policy, budget=settings.budget,
                   rng=np.random.default_rng(settings.seed))
    if result.placement is None:
        raise InfeasibleError(f"placement solver {settings.policy!r} found no placement: {result.message}")
    check = check_placement(graph, problem, result.placement)
    if not check.feasible:
        raise MecsimError(f"placement by {settings.policy!r} fails the independent check: "
                          + "; ".join(check.violations[:3]))
    terms = check.terms
    logger.info("placed by %s (%s): %d replicas, mean latency %.4g s, compute %.4g/s, traffic %.4g/s, gap %.3g",
                result.solver, result.status.value, int(result.placement.replicas.sum()), terms.mean_latency_s,
                terms.compute_cost_per_s, terms.traffic_cost_per_s, result.gap)
    return PlacedWorld(apply_placement(world, problem, result), graph, problem, result, check)
