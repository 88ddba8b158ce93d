"""Routing over the link graph: fastest paths (by one-way delay) from each access point to every node."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import networkx as nx


def shortest_paths(
    sources: Sequence[str], edges: Sequence[tuple[str, str, float]]
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, list[tuple[int, bool]]]]]:
    """Dijkstra (networkx) from each source over undirected ``edges`` ``(a, b, delay_s)``.

    Returns
    -------
    delays : dict
        ``delays[source][node]`` one-way delay in seconds of the fastest path (0 for the source itself).
    paths : dict
        ``paths[source][node]`` the path as ``(edge index, forward)`` pairs; ``forward`` is True when the edge is
        traversed from ``a`` to ``b``. Between two nodes joined by parallel edges the fastest is used, the first
        listed on a tie, so routes are deterministic.
    """
    graph = nx.Graph()
    graph.add_nodes_from(sources)
    for index, (a, b, delay) in enumerate(edges):
        best = graph.get_edge_data(a, b)
        if best is None or delay < best["delay_s"]:
            graph.add_edge(a, b, delay_s=delay, index=index)
    delays: dict[str, dict[str, float]] = {}
    paths: dict[str, dict[str, list[tuple[int, bool]]]] = {}
    for source in sources:
        distance, node_paths = nx.single_source_dijkstra(graph, source, weight="delay_s")
        delays[source] = {node: float(value) for node, value in distance.items()}
        paths[source] = {node: [_hop(graph, edges, u, v) for u, v in pairwise(path)]
                         for node, path in node_paths.items()}
    return delays, paths


def _hop(graph: nx.Graph, edges: Sequence[tuple[str, str, float]], u: str, v: str) -> tuple[int, bool]:
    index = int(graph.edges[u, v]["index"])
    return index, edges[index][0] == u
