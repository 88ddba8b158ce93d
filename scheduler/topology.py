"""Edge topology as a :class:`networkx.Graph`: typed nodes with capacities and prices, links with delay.

A node carries one :class:`TopologyNode` under the attribute ``"spec"``; a link carries ``distance_m``, ``delay_s``
(fibre propagation at ≈4.9 µs/km plus a per-hop delay), ``bandwidth_bps`` and ``cost_per_bit`` (the traffic price
of sending one bit over it). Functions over the graph are free functions, NetworkX style.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import networkx as nx

from offload.errors import ParameterError
from offload.validate import check_non_negative, check_positive
from scheduler.geo import fibre_delay_s, great_circle_m


class NodeKind(Enum):
    """What a node is, from the user's device up to the cloud."""

    DEVICE = "device"
    BASE_STATION = "base_station"
    EDGE_SITE = "edge_site"
    REGIONAL_DC = "regional_dc"
    CLOUD = "cloud"


@dataclass(frozen=True, slots=True)
class Resources:
    """An amount of each resource: CPU cores, GPUs (whole or fractional shares) and memory in bits."""

    cpu_cores: float = 0.0
    gpu_units: float = 0.0
    memory_bits: float = 0.0

    def __post_init__(self) -> None:
        check_non_negative("cpu_cores", self.cpu_cores)
        check_non_negative("gpu_units", self.gpu_units)
        check_non_negative("memory_bits", self.memory_bits)

    def as_tuple(self) -> tuple[float, float, float]:
        """``(cpu_cores, gpu_units, memory_bits)``: the column order of every resource array."""
        return (self.cpu_cores, self.gpu_units, self.memory_bits)


@dataclass(frozen=True, slots=True)
class Prices:
    """Cost rates per unit of resource and per second of holding it (currency units are the user's)."""

    per_cpu_core_s: float = 0.0
    per_gpu_unit_s: float = 0.0
    per_memory_bit_s: float = 0.0

    def __post_init__(self) -> None:
        check_non_negative("per_cpu_core_s", self.per_cpu_core_s)
        check_non_negative("per_gpu_unit_s", self.per_gpu_unit_s)
        check_non_negative("per_memory_bit_s", self.per_memory_bit_s)

    def as_tuple(self) -> tuple[float, float, float]:
        """Rates in the column order of :meth:`Resources.as_tuple`."""
        return (self.per_cpu_core_s, self.per_gpu_unit_s, self.per_memory_bit_s)


@dataclass(frozen=True, slots=True)
class TopologyNode:
    """One node of the topology.

    Attributes
    ----------
    kind : NodeKind
    lat_deg, lon_deg : float
        WGS84 coordinates, degrees.
    region : str
        Scheduling domain the node belongs to (services may be restricted to regions).
    capacity : Resources
        What replicas may use here; all zero means the node hosts no service (a pure router or a device).
    core_speed_ops_per_s, gpu_speed_ops_per_s : float
        Speed of one CPU core and of one GPU unit; a replica's speed is its cores and GPUs times these.
    prices : Prices
        Cost rates of the resources a replica reserves here.
    """

    kind: NodeKind
    lat_deg: float
    lon_deg: float
    region: str = "default"
    capacity: Resources = field(default_factory=Resources)
    core_speed_ops_per_s: float = 1e9
    gpu_speed_ops_per_s: float = 0.0
    prices: Prices = field(default_factory=Prices)

    def __post_init__(self) -> None:
        if not -90.0 <= self.lat_deg <= 90.0:
            raise ParameterError("lat_deg", self.lat_deg, "must be between -90 and 90")
        if not -180.0 <= self.lon_deg <= 180.0:
            raise ParameterError("lon_deg", self.lon_deg, "must be between -180 and 180")
        check_positive("core_speed_ops_per_s", self.core_speed_ops_per_s)
        check_non_negative("gpu_speed_ops_per_s", self.gpu_speed_ops_per_s)

    @property
    def hosts_services(self) -> bool:
        """True when some replica could run here (any capacity and some compute speed)."""
        return self.capacity.cpu_cores > 0 or self.capacity.gpu_units > 0


def add_node(graph: nx.Graph, name: str, spec: TopologyNode) -> None:
    """Add ``name`` with its spec; a name used twice is an error."""
    if name in graph:
        raise ParameterError("node", name, "already exists in the topology")
    graph.add_node(name, spec=spec)


def node_spec(graph: nx.Graph, name: str) -> TopologyNode:
    """The :class:`TopologyNode` of ``name``; unknown names raise an error listing a few valid ones."""
    if name not in graph:
        sample = ", ".join(map(str, list(graph.nodes)[:8]))
        raise ParameterError("node", name, f"is not in the topology (nodes include: {sample})")
    spec: TopologyNode = graph.nodes[name]["spec"]
    return spec


def add_link(
    graph: nx.Graph,
    u: str,
    v: str,
    *,
    bandwidth_bps: float,
    hop_delay_s: float = 0.0,
    cost_per_bit: float = 0.0,
    distance_m: float | None = None,
) -> None:
    """Connect ``u`` and ``v``; the distance defaults to the great circle between their coordinates.

    The link's one-way ``delay_s`` is ``distance_m`` times the fibre delay per metre plus ``hop_delay_s``.
    """
    a, b = node_spec(graph, u), node_spec(graph, v)
    if u == v:
        raise ParameterError("link", (u, v), "must join two different nodes")
    check_positive("bandwidth_bps", bandwidth_bps, allow_inf=True)
    check_non_negative("hop_delay_s", hop_delay_s)
    check_non_negative("cost_per_bit", cost_per_bit)
    if distance_m is None:
        distance_m = float(great_circle_m(a.lat_deg, a.lon_deg, b.lat_deg, b.lon_deg))
    check_non_negative("distance_m", distance_m)
    graph.add_edge(u, v, distance_m=distance_m, delay_s=float(fibre_delay_s(distance_m, hop_delay_s)),
                   bandwidth_bps=bandwidth_bps, cost_per_bit=cost_per_bit)


def hosting_nodes(graph: nx.Graph) -> list[str]:
    """Names of the nodes that can host replicas, in graph order."""
    return [name for name, spec in graph.nodes(data="spec") if spec.hosts_services]


def nearest_node(graph: nx.Graph, lat_deg: float, lon_deg: float, kinds: frozenset[NodeKind]) -> str:
    """The node of one of ``kinds`` closest to a point by great-circle distance."""
    names = [name for name, spec in graph.nodes(data="spec") if spec.kind in kinds]
    if not names:
        raise ParameterError("kinds", sorted(k.value for k in kinds), "no node of these kinds in the topology")
    specs = [graph.nodes[name]["spec"] for name in names]
    distance = great_circle_m(lat_deg, lon_deg, [s.lat_deg for s in specs], [s.lon_deg for s in specs])
    return str(names[int(distance.argmin())])


def require_connected(graph: nx.Graph) -> None:
    """Raise if some node cannot reach another: every user must reach every candidate site."""
    if graph.number_of_nodes() == 0:
        raise ParameterError("topology", "empty", "must have at least one node")
    if not nx.is_connected(graph):
        parts = sorted(nx.connected_components(graph), key=len)
        raise ParameterError("topology", f"{len(parts)} components",
                             f"must be connected; e.g. {sorted(map(str, parts[0]))[:5]} is cut off")

