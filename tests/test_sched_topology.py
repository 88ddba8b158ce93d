"""Topology: great-circle geometry, link delays, the three builders and the path tables."""

from __future__ import annotations

import math
import socket

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from offload.errors import ParameterError
from scheduler.builders import eua_melbourne, hierarchical, topohub_backbone, topohub_keys
from scheduler.eua import load_sites, load_users
from scheduler.geo import EARTH_RADIUS_M, great_circle_m
from scheduler.paths import path_tables
from scheduler.problem_io import users_to_groups
from scheduler.topology import NodeKind, TopologyNode, add_link, add_node, nearest_node


def test_great_circle_known_distances() -> None:
    assert great_circle_m(0, 0, 0, 0) == 0.0
    assert great_circle_m(0, 0, 0, 180) == pytest.approx(math.pi * EARTH_RADIUS_M)
    assert great_circle_m(0, 0, 90, 0) == pytest.approx(math.pi / 2 * EARTH_RADIUS_M)
    # Melbourne GPO to Sydney GPO is about 714 km
    assert great_circle_m(-37.8136, 144.9631, -33.8688, 151.2093) == pytest.approx(714e3, rel=0.005)


@given(st.floats(-80, 80), st.floats(-179, 179), st.floats(-80, 80), st.floats(-179, 179))
def test_great_circle_matches_spherical_law_of_cosines(lat1: float, lon1: float, lat2: float, lon2: float) -> None:
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    cosine = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    expected = EARTH_RADIUS_M * math.acos(max(-1.0, min(1.0, cosine)))
    assert float(great_circle_m(lat1, lon1, lat2, lon2)) == pytest.approx(expected, abs=50.0)


def test_link_delay_is_fibre_propagation_plus_hop() -> None:
    graph = nx.Graph()
    add_node(graph, "a", TopologyNode(NodeKind.EDGE_SITE, 0.0, 0.0))
    add_node(graph, "b", TopologyNode(NodeKind.EDGE_SITE, 0.0, 1.0))
    add_link(graph, "a", "b", bandwidth_bps=1e9, hop_delay_s=1e-4)
    link = graph.edges["a", "b"]
    assert link["delay_s"] == pytest.approx(link["distance_m"] * 4.9e-9 + 1e-4)
    assert link["distance_m"] == pytest.approx(111_195, rel=1e-3)  # one degree on the equator


def test_topology_rejects_bad_values() -> None:
    graph = nx.Graph()
    add_node(graph, "a", TopologyNode(NodeKind.EDGE_SITE, 0.0, 0.0))
    with pytest.raises(ParameterError, match="already exists"):
        add_node(graph, "a", TopologyNode(NodeKind.EDGE_SITE, 0.0, 0.0))
    with pytest.raises(ParameterError, match=r"lat_deg=91.0: must be between -90 and 90"):
        TopologyNode(NodeKind.EDGE_SITE, 91.0, 0.0)
    with pytest.raises(ParameterError, match=r"'zz'.*is not in the topology"):
        add_link(graph, "a", "zz", bandwidth_bps=1e9)


def test_hierarchical_structure_and_determinism() -> None:
    graph = hierarchical(np.random.default_rng(4), regions=3, stations_per_region=5, devices_per_station=2)
    kinds = [spec.kind for _, spec in graph.nodes(data="spec")]
    assert kinds.count(NodeKind.CLOUD) == 1
    assert kinds.count(NodeKind.REGIONAL_DC) == 3
    assert kinds.count(NodeKind.BASE_STATION) == 15
    assert kinds.count(NodeKind.DEVICE) == 30
    assert nx.is_connected(graph)
    for u, v in graph.edges:  # a device only talks to its own base station
        if graph.nodes[u]["spec"].kind is NodeKind.DEVICE:
            assert graph.nodes[v]["spec"].kind is NodeKind.BASE_STATION
    again = hierarchical(np.random.default_rng(4), regions=3, stations_per_region=5, devices_per_station=2)
    assert [s.lat_deg for _, s in graph.nodes(data="spec")] == [s.lat_deg for _, s in again.nodes(data="spec")]
    with pytest.raises(ParameterError, match="stations_per_region"):
        hierarchical(np.random.default_rng(0), regions=2, stations_per_region=[1, 2, 3])


def test_topohub_chinanet_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("topohub tried to use the network")

    monkeypatch.setattr(socket, "socket", no_network)
    graph = topohub_backbone("topozoo/Chinanet", cloud_deg=(39.9, 116.4))
    assert "Shanghai" in graph
    assert "cloud" in graph
    assert nx.is_connected(graph)
    import topohub

    raw = topohub.get("topozoo/Chinanet")
    names = {str(n["id"]): n["name"] for n in raw["nodes"]}
    edge = raw["edges"][0]
    link = graph.edges[names[str(edge["source"])], names[str(edge["target"])]]
    assert link["distance_m"] == pytest.approx(edge["dist"] * 1e3)
    assert "sndlib/polska" in topohub_keys("sndlib")


def test_topohub_unknown_key_names_examples() -> None:
    with pytest.raises(ParameterError, match=r"topozoo/Nowhere.*no such topology \(e\.g\. topozoo/"):
        topohub_backbone("topozoo/Nowhere")
    with pytest.raises(ParameterError, match=r"unknown topohub group; valid groups: .*topozoo"):
        topohub_keys("nope")


def test_eua_dataset_and_builder() -> None:
    sites, (lat, lon) = load_sites(), load_users()
    assert len(sites.site_id) == 125
    assert len(lat) == len(lon) == 816
    assert (np.abs(lat + 37.815) < 0.05).all()
    assert (np.abs(lon - 144.963) < 0.05).all()
    graph = eua_melbourne()
    stations = [n for n, s in graph.nodes(data="spec") if s.kind is NodeKind.BASE_STATION]
    assert len(stations) == 125
    assert nx.is_connected(graph)
    user_bs = nearest_node(graph, float(lat[0]), float(lon[0]), frozenset({NodeKind.BASE_STATION}))
    assert user_bs in stations
    subset = eua_melbourne(sites=20, rng=np.random.default_rng(1))
    assert sum(1 for _, s in subset.nodes(data="spec") if s.kind is NodeKind.BASE_STATION) == 20
    with pytest.raises(ParameterError, match="rng"):
        eua_melbourne(sites=20)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000))
def test_path_tables_match_networkx(seed: int) -> None:
    rng = np.random.default_rng(seed)
    graph = hierarchical(rng, regions=int(rng.integers(1, 4)), stations_per_region=int(rng.integers(1, 5)))
    names = list(graph.nodes)
    for _ in range(3):  # a few shortcut links so that paths are not unique by construction
        a, b = rng.choice(len(names), size=2, replace=False)
        if not graph.has_edge(names[a], names[b]):
            add_link(graph, names[a], names[b], bandwidth_bps=float(rng.uniform(1e8, 1e10)),
                     cost_per_bit=float(rng.uniform(0, 1e-9)))
    delay, width, cost = path_tables(graph, names, names)
    for i, u in enumerate(names):
        lengths, paths = nx.single_source_dijkstra(graph, u, weight="delay_s")
        for j, v in enumerate(names):
            hops = list(zip(paths[v][:-1], paths[v][1:], strict=True))
            assert delay[i, j] == pytest.approx(lengths[v], rel=1e-9, abs=1e-15)
            assert cost[i, j] == pytest.approx(sum(graph.edges[h]["cost_per_bit"] for h in hops), abs=1e-18)
            assert width[i, j] == min((graph.edges[h]["bandwidth_bps"] for h in hops), default=math.inf)


def test_users_group_by_nearest_base_station() -> None:
    graph = nx.Graph()
    add_node(graph, "west", TopologyNode(NodeKind.BASE_STATION, -37.81, 144.95))
    add_node(graph, "east", TopologyNode(NodeKind.BASE_STATION, -37.81, 144.98))
    add_node(graph, "dc", TopologyNode(NodeKind.REGIONAL_DC, -37.811, 144.951))  # closest to user 0, wrong kind
    add_link(graph, "west", "dc", bandwidth_bps=1e9)
    add_link(graph, "east", "dc", bandwidth_bps=1e9)
    lat = np.array([-37.8109, -37.81, -37.8101])
    lon = np.array([144.9509, 144.979, 144.951])
    groups = users_to_groups(graph, lat, lon, np.array([[1.0, 0.5], [2.0, 0.0], [3.0, 1.0]]))
    assert groups.names == ("users@east", "users@west")
    assert groups.nodes == ("east", "west")
    assert groups.rate_per_s.tolist() == [[2.0, 0.0], [4.0, 1.5]]
