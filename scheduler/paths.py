"""Minimum-delay paths between attachment nodes and candidate nodes: delay, narrowest link, traffic price and the
links on the way."""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx
import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra

FloatArray = npt.NDArray[np.float64]


def path_tables(
    graph: nx.Graph, sources: Sequence[str], targets: Sequence[str]
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """For every (source, target): one-way delay (s), bottleneck bandwidth (bps) and summed ``cost_per_bit``.

    All three follow the same minimum-``delay_s`` path (Dijkstra over the link delays). A source equal to its target
    has zero delay, zero cost and infinite bandwidth.
    """
    delay, width, cost, _ = _paths(graph, sources, targets)
    return delay, width, cost


def path_links(graph: nx.Graph, sources: Sequence[str], targets: Sequence[str]) -> csr_array:
    """(sources × targets, links) 0/1 incidence of the same minimum-delay paths as :func:`path_tables`: row
    ``i · len(targets) + j`` marks the links between ``sources[i]`` and ``targets[j]``; links in
    ``graph.edges`` order."""
    return _paths(graph, sources, targets)[3]


def _paths(
    graph: nx.Graph, sources: Sequence[str], targets: Sequence[str]
) -> tuple[FloatArray, FloatArray, FloatArray, csr_array]:
    order = list(graph.nodes)
    index = {name: i for i, name in enumerate(order)}
    edges = list(graph.edges(data=True))
    u = np.array([index[a] for a, _, _ in edges], dtype=np.int64)
    v = np.array([index[b] for _, b, _ in edges], dtype=np.int64)
    attrs = {key: np.array([d[key] for _, _, d in edges], dtype=np.float64)
             for key in ("delay_s", "bandwidth_bps", "cost_per_bit")}
    # lookup tables for the link between two node indices (both directions)
    link_id = {(int(a), int(b)): k for k, (a, b) in enumerate(zip(u, v, strict=True))}
    link_id.update({(b, a): k for (a, b), k in list(link_id.items())})
    # strictly positive weights so zero-delay links still count as edges in the sparse matrix
    weight = np.maximum(attrs["delay_s"], 1e-15)
    matrix = csr_array((np.concatenate([weight, weight]), (np.concatenate([u, v]), np.concatenate([v, u]))),
                       shape=(len(order), len(order)))
    unique = sorted(set(sources), key=index.__getitem__)
    rows = [index[name] for name in unique]
    _, predecessors = dijkstra(matrix, directed=True, indices=rows, return_predecessors=True)
    cols = np.array([index[name] for name in targets], dtype=np.int64)
    per_source: dict[str, tuple[FloatArray, FloatArray, FloatArray]] = {}
    hops: dict[str, list[list[int]]] = {}
    for k, name in enumerate(unique):
        delay, width, cost, via = _accumulate(predecessors[k], rows[k], link_id, attrs)
        per_source[name] = (delay[cols], width[cols], cost[cols])
        hops[name] = [via[int(c)] for c in cols]
    stack = [np.array([per_source[name][i] for name in sources]).reshape(len(sources), len(targets))
             for i in range(3)]
    entries = [(i * len(targets) + j, link) for i, name in enumerate(sources) for j, links in enumerate(hops[name])
               for link in links]
    row = np.array([r for r, _ in entries], dtype=np.int64)
    col = np.array([c for _, c in entries], dtype=np.int64)
    incidence = csr_array((np.ones(len(entries)), (row, col)), shape=(len(sources) * len(targets), len(edges)))
    return stack[0], stack[1], stack[2], incidence


def _accumulate(
    predecessor: npt.NDArray[np.int32], root: int, link_id: dict[tuple[int, int], int], attrs: dict[str, FloatArray]
) -> tuple[FloatArray, FloatArray, FloatArray, list[list[int]]]:
    """Walk the shortest-path tree from ``root`` outward, summing delay and cost, taking the narrowest link and
    listing the links of each path."""
    n = len(predecessor)
    delay, cost, width = np.zeros(n), np.zeros(n), np.full(n, np.inf)
    via: list[list[int]] = [[] for _ in range(n)]
    done = np.zeros(n, dtype=bool)
    done[root] = True
    for start in range(n):
        chain = []
        node = start
        while not done[node]:
            chain.append(node)
            node = int(predecessor[node])
            if node < 0:  # unreachable; require_connected rules this out for built problems
                break
        if node < 0:
            delay[chain], cost[chain], width[chain] = np.inf, np.inf, 0.0
            done[chain] = True
            continue
        for child in reversed(chain):
            parent = int(predecessor[child])
            k = link_id[(parent, child)]
            delay[child] = delay[parent] + attrs["delay_s"][k]
            cost[child] = cost[parent] + attrs["cost_per_bit"][k]
            width[child] = min(width[parent], attrs["bandwidth_bps"][k])
            via[child] = [*via[parent], k]
            done[child] = True
    return delay, width, cost, via
