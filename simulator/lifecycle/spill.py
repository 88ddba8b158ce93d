"""Traffic locality: where a deployment's requests go when its domain cannot serve them.

A deployment serves inside its domain; with ``unready.action`` ``cloud`` or ``region`` a request that finds no ready
replica there spills out instead of waiting: to the nearest cloud node, or to the nodes of the parent region (a set
of nodes selected by labels outside the domain), taken in turn. A spilled request is passed on from the domain's
router over the network to its server, served there at that server's own speed (its own queue, shared with whatever
else runs there) and answered from there; the spills are counted by reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from offload.errors import ParameterError
from simulator.result import DropReason
from simulator.topology import shortest_paths
from simulator.world import World


class Spill:
    """Passes requests on to ``servers`` (world indices) in turn with ``forward(job, server)``; ``spilled`` counts
    them by the reason they left the domain."""

    __slots__ = ("forward", "servers", "spilled", "turn")

    def __init__(self, forward: Callable[[Any, int], None], servers: Sequence[int]) -> None:
        if not servers:
            raise ParameterError("servers", servers, "a spill needs at least one server to pass requests on to")
        self.forward = forward
        self.servers = tuple(servers)
        self.turn = 0
        self.spilled: Counter[str] = Counter()

    def __call__(self, job: Any, reason: DropReason = DropReason.NO_READY_REPLICA) -> None:
        server = self.servers[self.turn]
        self.turn = (self.turn + 1) % len(self.servers)
        self.spilled[reason.value] += 1
        self.forward(job, server)


def nearest_cloud(world: World, node: str) -> int | None:
    """Index of the cloud server nearest the server ``node`` (``None``: no cloud reachable)."""
    where = next(s.node for s in world.servers if s.name == node)
    delays = shortest_paths([where], [(k.a, k.b, k.one_way_s) for k in world.links])[0][where]
    clouds = [(delays[s.node], k) for k, s in enumerate(world.servers) if s.tier == "cloud" and s.node in delays]
    return min(clouds)[1] if clouds else None


def spill_servers(world: World, action: str, domain: Sequence[str], region: Sequence[str]) -> tuple[int, ...]:
    """The servers a domain spills to: the nearest cloud for ``cloud``, the ``region`` nodes (world order) for
    ``region``, none otherwise."""
    if action == "cloud":
        cloud = nearest_cloud(world, domain[0])
        return () if cloud is None else (cloud,)
    if action == "region":
        names = set(region)
        return tuple(k for k, server in enumerate(world.servers) if server.name in names)
    return ()
