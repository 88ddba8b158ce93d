"""The placement problem as arrays: services, candidate nodes, user groups and the network between them.

Build one from a topology with :func:`build_problem`; solvers never see the graph. Resource columns everywhere are
``(cpu_cores, gpu_units, memory_bits)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_array

from offload.errors import ParameterError
from offload.validate import check_fraction, check_non_negative, check_positive
from scheduler.paths import path_links, path_tables
from scheduler.topology import Resources, hosting_nodes, node_spec, require_connected

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class ServiceDemand:
    """One AI service to place.

    Attributes
    ----------
    name : str
    work_ops : float
        Computation per request.
    input_bits, output_bits : float
        Request and response size, carried over the network path between user and replica.
    replica : Resources
        What each replica reserves; its speed is its cores and GPUs times the node's per-unit speeds.
    min_replicas, max_replicas : int
        Bounds on the total number of replicas.
    slo_s : float
        Latency objective: a user may only be served by a replica whose estimated latency is at most this.
    regions : frozenset of str or None
        Regions (scheduling domains) where replicas may run; None means anywhere.
    arrival_scv, work_scv : float
        Variability of the requests reaching a replica pool (c_a², 1 for Poisson) and of the work per request (c_s²,
        1 for exponential, 0 for constant): the queueing wait scales with ``(c_a² + c_s²) / 2`` (Allen–Cunneen).
    """

    name: str
    work_ops: float
    input_bits: float = 0.0
    output_bits: float = 0.0
    replica: Resources = field(default_factory=lambda: Resources(cpu_cores=1.0))
    min_replicas: int = 0
    max_replicas: int = 1_000_000
    slo_s: float = math.inf
    regions: frozenset[str] | None = None
    arrival_scv: float = 1.0
    work_scv: float = 1.0

    def __post_init__(self) -> None:
        check_positive(f"{self.name}.work_ops", self.work_ops)
        check_non_negative(f"{self.name}.arrival_scv", self.arrival_scv)
        check_non_negative(f"{self.name}.work_scv", self.work_scv)
        check_non_negative(f"{self.name}.input_bits", self.input_bits)
        check_non_negative(f"{self.name}.output_bits", self.output_bits)
        check_positive(f"{self.name}.slo_s", self.slo_s, allow_inf=True)
        if self.replica.cpu_cores <= 0 and self.replica.gpu_units <= 0:
            raise ParameterError(f"{self.name}.replica", self.replica, "must reserve some CPU cores or GPUs")
        if not 0 <= self.min_replicas <= self.max_replicas:
            raise ParameterError(f"{self.name}.min_replicas", (self.min_replicas, self.max_replicas),
                                 "must satisfy 0 <= min_replicas <= max_replicas")


@dataclass(frozen=True, slots=True)
class Weights:
    """Objective weights: ``w_latency`` per second of mean latency, the others per unit of cost per second."""

    latency: float = 1.0
    compute: float = 1.0
    traffic: float = 1.0

    def __post_init__(self) -> None:
        for name in ("latency", "compute", "traffic"):
            check_non_negative(f"weights.{name}", getattr(self, name))


@dataclass(frozen=True, slots=True)
class PlacementProblem:
    """Everything a solver needs, as arrays (S services, N candidate nodes, G user groups).

    Attributes
    ----------
    services : tuple of ServiceDemand
    node_names, group_names, group_nodes : tuple of str
        Candidate nodes (those with capacity), user groups and the topology node each group attaches to.
    capacity : (N, 3) array
        Resources each node offers.
    replica_speed_ops_per_s, replica_price_per_s : (S, N) arrays
        Speed and cost rate of one replica of service s on node n.
    allowed : (S, N) bool array
        Region restrictions.
    rate_per_s : (G, S) array
        Requests per second each group sends to each service.
    delay_s, bottleneck_bps, path_cost_per_bit : (G, N) arrays
        One-way delay, narrowest link and summed traffic price of the minimum-delay path from the group's
        attachment node to the candidate node.
    weights : Weights
    target_utilisation : float
        Upper bound on each replica's utilisation (queueing itself is charged at the load a placement assigns).
    link_names : tuple of str
        Links ``a–b`` whose traffic is capped (empty: none is).
    link_bandwidth_bps : (L,) array
        Their bandwidths.
    path_links : (G · N, L) sparse 0/1 array or None
        Row ``g · N + n``: the links on the path from group ``g``'s attachment node to candidate node ``n``.
    link_utilisation : float or None
        Cap on every link: the request and response bits per second crossing it (both directions together) stay
        within ``link_utilisation × bandwidth``. None: links only set transfer times.
    """

    services: tuple[ServiceDemand, ...]
    node_names: tuple[str, ...]
    group_names: tuple[str, ...]
    group_nodes: tuple[str, ...]
    capacity: FloatArray
    replica_speed_ops_per_s: FloatArray
    replica_price_per_s: FloatArray
    allowed: BoolArray
    rate_per_s: FloatArray
    delay_s: FloatArray
    bottleneck_bps: FloatArray
    path_cost_per_bit: FloatArray
    weights: Weights = field(default_factory=Weights)
    target_utilisation: float = 0.8
    link_names: tuple[str, ...] = ()
    link_bandwidth_bps: FloatArray = field(default_factory=lambda: np.zeros(0))
    path_links: csr_array | None = None
    link_utilisation: float | None = None

    def __post_init__(self) -> None:
        s, n, g = len(self.services), len(self.node_names), len(self.group_names)
        shapes = {"capacity": (n, 3), "replica_speed_ops_per_s": (s, n), "replica_price_per_s": (s, n),
                  "allowed": (s, n), "rate_per_s": (g, s), "delay_s": (g, n), "bottleneck_bps": (g, n),
                  "path_cost_per_bit": (g, n)}
        for name, shape in shapes.items():
            if np.shape(getattr(self, name)) != shape:
                raise ParameterError(name, np.shape(getattr(self, name)), f"must have shape {shape}")
        if len(self.group_nodes) != g:
            raise ParameterError("group_nodes", len(self.group_nodes), f"must have one node per group ({g})")
        if len(set(self.service_names)) != s:
            raise ParameterError("services", self.service_names, "names must be unique")
        for name in ("capacity", "replica_speed_ops_per_s", "replica_price_per_s", "rate_per_s", "delay_s",
                     "path_cost_per_bit"):
            if not (np.asarray(getattr(self, name)) >= 0).all():
                raise ParameterError(name, "negative or NaN entry", "must be >= 0")
        if not (np.asarray(self.bottleneck_bps) > 0).all():
            raise ParameterError("bottleneck_bps", "entry <= 0", "must be > 0")
        if self.link_utilisation is not None:
            check_fraction("link_utilisation", self.link_utilisation)
            if self.link_utilisation <= 0:
                raise ParameterError("link_utilisation", self.link_utilisation, "must be > 0 and <= 1")
            rows = (g * n, len(self.link_names))
            if self.path_links is None or self.path_links.shape != rows or len(self.link_bandwidth_bps) != rows[1]:
                raise ParameterError("path_links", None if self.path_links is None else self.path_links.shape,
                                     f"must have shape {rows}, with one bandwidth per link")
        check_fraction("target_utilisation", self.target_utilisation)
        if self.target_utilisation <= 0 or self.target_utilisation >= 1:
            raise ParameterError("target_utilisation", self.target_utilisation, "must be > 0 and < 1")

    @property
    def service_names(self) -> tuple[str, ...]:
        """Service names in array order."""
        return tuple(service.name for service in self.services)

    def service_array(self, attribute: str) -> FloatArray:
        """A per-service attribute (``work_ops``, ``slo_s``, ...) as an (S,) float array."""
        return np.array([float(getattr(service, attribute)) for service in self.services])

    @property
    def replica_demand(self) -> FloatArray:
        """(S, 3) resources each replica reserves."""
        return np.array([service.replica.as_tuple() for service in self.services]).reshape(-1, 3)


@dataclass(frozen=True, slots=True)
class UserGroups:
    """User groups as arrays: a name and attachment node each, and an (G, S) request-rate matrix."""

    names: tuple[str, ...]
    nodes: tuple[str, ...]
    rate_per_s: FloatArray

    def __post_init__(self) -> None:
        if len(self.names) != len(self.nodes) or np.shape(self.rate_per_s)[0] != len(self.names):
            raise ParameterError("user groups", (len(self.names), len(self.nodes), np.shape(self.rate_per_s)),
                                 "names, nodes and rate rows must have the same length")


def build_problem(
    graph: nx.Graph,
    services: Sequence[ServiceDemand],
    groups: UserGroups,
    *,
    weights: Weights | None = None,
    target_utilisation: float = 0.8,
    link_utilisation: float | None = None,
) -> PlacementProblem:
    """Derive the problem arrays from a topology (candidate nodes are those with capacity); with
    ``link_utilisation`` every link of finite bandwidth is capped at that share of it."""
    require_connected(graph)
    for node in groups.nodes:
        node_spec(graph, node)
    nodes = hosting_nodes(graph)
    if not nodes:
        raise ParameterError("topology", graph.name, "has no node with capacity to host a replica")
    specs = [node_spec(graph, name) for name in nodes]
    demand = np.array([s.replica.as_tuple() for s in services]).reshape(-1, 3)
    core_speed = np.array([spec.core_speed_ops_per_s for spec in specs])
    gpu_speed = np.array([spec.gpu_speed_ops_per_s for spec in specs])
    prices = np.array([spec.prices.as_tuple() for spec in specs])
    allowed = np.array([[s.regions is None or spec.region in s.regions for spec in specs] for s in services],
                       dtype=bool).reshape(len(services), len(nodes))
    delay, bottleneck, cost = path_tables(graph, list(groups.nodes), nodes)
    links: dict[str, object] = {}
    if link_utilisation is not None:
        edges = list(graph.edges(data=True))
        capped = np.flatnonzero([np.isfinite(d["bandwidth_bps"]) for _, _, d in edges])
        links = {"link_names": tuple(f"{edges[k][0]}–{edges[k][1]}" for k in capped),
                 "link_bandwidth_bps": np.array([edges[k][2]["bandwidth_bps"] for k in capped], dtype=np.float64),
                 "path_links": csr_array(path_links(graph, list(groups.nodes), nodes)[:, capped]),
                 "link_utilisation": link_utilisation}
    return PlacementProblem(
        services=tuple(services),
        node_names=tuple(nodes),
        group_names=tuple(groups.names),
        group_nodes=tuple(groups.nodes),
        capacity=np.array([spec.capacity.as_tuple() for spec in specs]),
        replica_speed_ops_per_s=demand[:, :1] * core_speed[None, :] + demand[:, 1:2] * gpu_speed[None, :],
        replica_price_per_s=demand @ prices.T,
        allowed=allowed,
        rate_per_s=np.asarray(groups.rate_per_s, dtype=np.float64).reshape(len(groups.names), len(services)),
        delay_s=delay,
        bottleneck_bps=bottleneck,
        path_cost_per_bit=cost,
        weights=weights or Weights(),
        target_utilisation=target_utilisation,
        **links,  # type: ignore[arg-type]
    )
