"""Routing over the link graph: fastest paths (by one-way delay) from each access point to every node."""

from __future__ import annotations

import heapq
from collections.abc import Sequence


def shortest_paths(
    sources: Sequence[str], edges: Sequence[tuple[str, str, float]]
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, list[tuple[int, bool]]]]]:
    """Dijkstra from each source over undirected ``edges`` ``(a, b, delay_s)``.

    Returns
    -------
    delays : dict
        ``delays[source][node]`` one-way delay in seconds of the fastest path (0 for the source itself).
    paths : dict
        ``paths[source][node]`` the path as ``(edge index, forward)`` pairs; ``forward`` is True when the edge is
        traversed from ``a`` to ``b``. Ties are broken by edge order, so routes are deterministic.
    """
    adjacency: dict[str, list[tuple[str, float, int, bool]]] = {}
    for index, (a, b, delay) in enumerate(edges):
        adjacency.setdefault(a, []).append((b, delay, index, True))
        adjacency.setdefault(b, []).append((a, delay, index, False))
    delays: dict[str, dict[str, float]] = {}
    paths: dict[str, dict[str, list[tuple[int, bool]]]] = {}
    for source in sources:
        best = {source: 0.0}
        route: dict[str, list[tuple[int, bool]]] = {source: []}
        heap: list[tuple[float, int, str]] = [(0.0, 0, source)]
        counter = 1
        done: set[str] = set()
        while heap:
            dist, _, node = heapq.heappop(heap)
            if node in done:
                continue
            done.add(node)
            for other, delay, index, forward in adjacency.get(node, ()):
                candidate = dist + delay
                if other not in best or candidate < best[other]:
                    best[other] = candidate
                    route[other] = [*route[node], (index, forward)]
                    heapq.heappush(heap, (candidate, counter, other))
                    counter += 1
        delays[source] = best
        paths[source] = route
    return delays, paths
