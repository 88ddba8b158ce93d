"""Topology builders: a synthetic hierarchy, real backbones from ``topohub`` and the EUA Melbourne sites.

Every builder returns a connected :class:`networkx.Graph` whose nodes carry a :class:`~scheduler.topology.TopologyNode`
and whose links carry delay, bandwidth and traffic price (see :mod:`scheduler.topology`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources

import networkx as nx
import numpy as np

import scheduler.eua as eua
from offload.errors import ParameterError
from offload.units import GIB_BITS
from offload.validate import check_positive
from scheduler.geo import great_circle_m
from scheduler.topology import NodeKind, Prices, Resources, TopologyNode, add_link, add_node, require_connected

_HOUR_S = 3600.0
_METRES_PER_DEGREE = 111_195.0  # one degree of latitude on the mean-radius sphere


@dataclass(frozen=True, slots=True)
class Tier:
    """What a node of one kind offers (capacity, speeds, prices) and how it links to its parent."""

    capacity: Resources = field(default_factory=Resources)
    core_speed_ops_per_s: float = 2.5e9
    gpu_speed_ops_per_s: float = 0.0
    prices: Prices = field(default_factory=Prices)
    uplink_bps: float = 10e9
    uplink_hop_delay_s: float = 0.2e-3
    uplink_cost_per_bit: float = 0.0


def _prices(cpu_per_h: float, gpu_per_h: float, gib_per_h: float) -> Prices:
    return Prices(cpu_per_h / _HOUR_S, gpu_per_h / _HOUR_S, gib_per_h / _HOUR_S / GIB_BITS)


#: Default tiers: a small MEC server at each base station, a regional data centre, a large cheap far cloud.
DEFAULT_TIERS: Mapping[NodeKind, Tier] = {
    NodeKind.DEVICE: Tier(uplink_bps=100e6, uplink_hop_delay_s=5e-3),
    NodeKind.BASE_STATION: Tier(Resources(16, 1, 64 * GIB_BITS), 2.5e9, 2e12, _prices(0.06, 0.9, 0.008),
                                uplink_bps=10e9, uplink_hop_delay_s=0.5e-3, uplink_cost_per_bit=2e-12),
    NodeKind.EDGE_SITE: Tier(Resources(64, 4, 256 * GIB_BITS), 2.5e9, 2e12, _prices(0.05, 0.8, 0.007),
                             uplink_bps=40e9, uplink_hop_delay_s=0.5e-3, uplink_cost_per_bit=2e-12),
    NodeKind.REGIONAL_DC: Tier(Resources(512, 16, 2048 * GIB_BITS), 3e9, 2e12, _prices(0.04, 0.7, 0.005),
                               uplink_bps=100e9, uplink_hop_delay_s=1e-3, uplink_cost_per_bit=5e-12),
    NodeKind.CLOUD: Tier(Resources(1e5, 1e3, 1e6 * GIB_BITS), 3e9, 2e12, _prices(0.03, 0.6, 0.004),
                         uplink_bps=100e9, uplink_hop_delay_s=2e-3, uplink_cost_per_bit=2e-11),
}


def _tier(tiers: Mapping[NodeKind, Tier] | None, kind: NodeKind) -> Tier:
    return (tiers or {}).get(kind, DEFAULT_TIERS[kind])


def _spec(tier: Tier, kind: NodeKind, lat_deg: float, lon_deg: float, region: str) -> TopologyNode:
    return TopologyNode(kind, lat_deg, lon_deg, region, tier.capacity, tier.core_speed_ops_per_s,
                    tier.gpu_speed_ops_per_s, tier.prices)


def _link_to_parent(graph: nx.Graph, child: str, parent: str, tier: Tier, distance_m: float | None = None) -> None:
    add_link(graph, child, parent, bandwidth_bps=tier.uplink_bps, hop_delay_s=tier.uplink_hop_delay_s,
             cost_per_bit=tier.uplink_cost_per_bit, distance_m=distance_m)


def _offset(lat_deg: float, lon_deg: float, east_m: float, north_m: float) -> tuple[float, float]:
    lat = lat_deg + north_m / _METRES_PER_DEGREE
    lon = lon_deg + east_m / (_METRES_PER_DEGREE * math.cos(math.radians(lat_deg)))
    return float(np.clip(lat, -90, 90)), float((lon + 180.0) % 360.0 - 180.0)


def hierarchical(
    rng: np.random.Generator,
    *,
    regions: int = 3,
    stations_per_region: int | Sequence[int] = 8,
    devices_per_station: int = 0,
    centre_deg: tuple[float, float] = (31.23, 121.47),
    region_radius_m: float = 60e3,
    station_radius_m: float = 8e3,
    cloud_distance_m: float = 1000e3,
    tiers: Mapping[NodeKind, Tier] | None = None,
) -> nx.Graph:
    """Devices → base stations with MEC servers → regional data centres → one cloud, with coordinates.

    Regional centres lie uniformly in a disc of ``region_radius_m`` around ``centre_deg``; each region's base
    stations in a disc of ``station_radius_m`` around its centre; devices within 500 m of their station; the cloud
    ``cloud_distance_m`` north-east of the centre. Regional centres are joined in a ring (a full link for two).
    ``stations_per_region`` is one count for every region or one count per region.
    Node names: ``cloud``, ``dc{r}``, ``bs{r}-{i}``, ``dev{r}-{i}-{k}``.
    """
    check_positive("regions", regions)
    counts = [stations_per_region] * regions if isinstance(stations_per_region, int) else list(stations_per_region)
    if len(counts) != regions or min(counts) < 0:
        raise ParameterError("stations_per_region", stations_per_region, f"must be >= 0, one count or {regions}")
    if devices_per_station < 0:
        raise ParameterError("devices_per_station", devices_per_station, "must be >= 0")
    graph = nx.Graph(name=f"hierarchical-{regions}x{max(counts)}")
    lat0, lon0 = centre_deg
    step = cloud_distance_m / math.sqrt(2.0)
    add_node(graph, "cloud", _spec(_tier(tiers, NodeKind.CLOUD), NodeKind.CLOUD, *_offset(lat0, lon0, step, step),
                                   "cloud"))

    def disc(radius_m: float) -> tuple[float, float]:
        r, theta = radius_m * math.sqrt(rng.random()), 2.0 * math.pi * rng.random()
        return r * math.cos(theta), r * math.sin(theta)

    for r in range(regions):
        region = f"region{r}"
        lat_r, lon_r = _offset(lat0, lon0, *disc(region_radius_m))
        dc_tier = _tier(tiers, NodeKind.REGIONAL_DC)
        add_node(graph, f"dc{r}", _spec(dc_tier, NodeKind.REGIONAL_DC, lat_r, lon_r, region))
        _link_to_parent(graph, f"dc{r}", "cloud", dc_tier)
        for i in range(counts[r]):
            bs_tier = _tier(tiers, NodeKind.BASE_STATION)
            lat_b, lon_b = _offset(lat_r, lon_r, *disc(station_radius_m))
            add_node(graph, f"bs{r}-{i}", _spec(bs_tier, NodeKind.BASE_STATION, lat_b, lon_b, region))
            _link_to_parent(graph, f"bs{r}-{i}", f"dc{r}", bs_tier)
            for k in range(devices_per_station):
                dev_tier = _tier(tiers, NodeKind.DEVICE)
                add_node(graph, f"dev{r}-{i}-{k}", _spec(dev_tier, NodeKind.DEVICE,
                                                         *_offset(lat_b, lon_b, *disc(500.0)), region))
                _link_to_parent(graph, f"dev{r}-{i}-{k}", f"bs{r}-{i}", dev_tier)
    if regions > 1:
        for r in range(regions if regions > 2 else 1):
            _link_to_parent(graph, f"dc{r}", f"dc{(r + 1) % regions}", _tier(tiers, NodeKind.REGIONAL_DC))
    return graph


def topohub_keys(group: str) -> list[str]:
    """Keys of the topologies ``topohub`` ships offline in one group (``topozoo``, ``sndlib``, ...)."""
    folder = resources.files("topohub").joinpath("data", group)
    if not folder.is_dir():
        groups = sorted(p.name for p in resources.files("topohub").joinpath("data").iterdir() if p.is_dir())
        raise ParameterError("group", group, f"unknown topohub group; valid groups: {', '.join(groups)}")
    return sorted(f"{group}/{p.name.removesuffix('.json')}" for p in folder.iterdir() if p.name.endswith(".json"))


def topohub_backbone(
    key: str,
    *,
    kind: NodeKind = NodeKind.EDGE_SITE,
    cloud_deg: tuple[float, float] | None = None,
    tiers: Mapping[NodeKind, Tier] | None = None,
) -> nx.Graph:
    """A real backbone from the ``topohub`` package (read from its bundled data, no network access).

    Every point of presence becomes a node of ``kind`` named after the topology's node name (suffixed with its id
    when names repeat); link lengths are topohub's ``dist`` (km). With ``cloud_deg`` a cloud node is added there and
    linked to the nearest point of presence. Example keys: ``topozoo/Chinanet``, ``sndlib/polska``.
    """
    import topohub

    try:
        data = topohub.get(key)
    except (KeyError, FileNotFoundError, ValueError) as error:
        group = key.split("/", 1)[0]
        hint = ", ".join(topohub_keys(group)[:6]) if "/" in key else "topozoo/Chinanet, sndlib/polska"
        raise ParameterError("topohub key", key, f"no such topology (e.g. {hint})") from error
    names = [str(node.get("name") or node["id"]) for node in data["nodes"]]
    unique = len(set(names)) == len(names)
    label = {str(node["id"]): (name if unique else f"{name}#{node['id']}") for node, name in zip(data["nodes"],
                                                                                               names, strict=True)}
    tier = _tier(tiers, kind)
    graph = nx.Graph(name=key)
    for node in data["nodes"]:
        lon, lat = node["pos"]
        add_node(graph, label[str(node["id"])], _spec(tier, kind, float(lat), float(lon), key))
    for edge in data["edges"]:
        u, v = label[str(edge["source"])], label[str(edge["target"])]
        if u != v and not graph.has_edge(u, v):
            _link_to_parent(graph, u, v, tier, distance_m=float(edge["dist"]) * 1e3 if "dist" in edge else None)
    if cloud_deg is not None:
        cloud_tier = _tier(tiers, NodeKind.CLOUD)
        add_node(graph, "cloud", _spec(cloud_tier, NodeKind.CLOUD, cloud_deg[0], cloud_deg[1], "cloud"))
        specs = {n: s for n, s in graph.nodes(data="spec") if n != "cloud"}
        gap = {n: float(great_circle_m(s.lat_deg, s.lon_deg, *cloud_deg)) for n, s in specs.items()}
        _link_to_parent(graph, min(gap, key=gap.__getitem__), "cloud", cloud_tier)
    require_connected(graph)
    return graph


#: Melbourne metro data centre (Port Melbourne) and a Sydney cloud region, used by :func:`eua_melbourne`.
MELBOURNE_DC_DEG = (-37.8300, 144.9340)
SYDNEY_CLOUD_DEG = (-33.8688, 151.2093)


def eua_melbourne(
    *,
    sites: int | None = None,
    rng: np.random.Generator | None = None,
    neighbours: int = 2,
    tiers: Mapping[NodeKind, Tier] | None = None,
) -> nx.Graph:
    """EUA Melbourne CBD: base stations with MEC servers, a metro data centre and a Sydney cloud.

    Every site links to the metro data centre (``mel-dc``) and to its ``neighbours`` nearest sites (a metro mesh);
    the data centre links to ``cloud`` in Sydney. ``sites`` picks that many of the 125 sites at random with ``rng``
    (all of them when None). Site nodes are named ``bs{SITE_ID}`` and belong to region ``melbourne``.
    """
    data = eua.load_sites()
    chosen = np.arange(len(data.site_id))
    if sites is not None:
        if not 1 <= sites <= len(chosen):
            raise ParameterError("sites", sites, f"must be between 1 and {len(chosen)}")
        if rng is None:
            raise ParameterError("rng", None, "is required to pick a subset of sites")
        chosen = np.sort(rng.choice(chosen, size=sites, replace=False))
    graph = nx.Graph(name="eua-melbourne")
    cloud_tier, dc_tier = _tier(tiers, NodeKind.CLOUD), _tier(tiers, NodeKind.REGIONAL_DC)
    add_node(graph, "cloud", _spec(cloud_tier, NodeKind.CLOUD, *SYDNEY_CLOUD_DEG, "cloud"))
    add_node(graph, "mel-dc", _spec(dc_tier, NodeKind.REGIONAL_DC, *MELBOURNE_DC_DEG, "melbourne"))
    _link_to_parent(graph, "mel-dc", "cloud", dc_tier)
    bs_tier = _tier(tiers, NodeKind.BASE_STATION)
    names = [f"bs{data.site_id[i]}" for i in chosen]
    lat, lon = data.lat_deg[chosen], data.lon_deg[chosen]
    for name, la, lo in zip(names, lat, lon, strict=True):
        add_node(graph, name, _spec(bs_tier, NodeKind.BASE_STATION, float(la), float(lo), "melbourne"))
        _link_to_parent(graph, name, "mel-dc", bs_tier)
    distance = great_circle_m(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    np.fill_diagonal(distance, np.inf)
    for i, row in enumerate(distance):
        for j in np.argsort(row, kind="stable")[: min(neighbours, len(names) - 1)]:
            if not graph.has_edge(names[i], names[j]):
                _link_to_parent(graph, names[i], names[int(j)], replace(bs_tier, uplink_hop_delay_s=0.2e-3))
    return graph
