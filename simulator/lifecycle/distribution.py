"""Image distribution: pulls into the nodes' caches, from a registry or a peer node, and pushes ahead of a rollout.

A node that needs an image pulls it once (replicas waiting for the same image on the same node share the pull) from
the nearest registry holding it (:class:`~simulator.lifecycle.pulls.Puller`) or, with peer distribution (the
P2P image distribution of Dragonfly or Kraken, reduced to its rule), from the nearest peer: a node of a peer group
it belongs to (a domain with ``peer_distribution``) that is up and holds the image, chosen when it is at most as
far (one-way delay) as the nearest registry. Either way the image travels over the same shared channels as the
requests. A :class:`Push` pre-distributes an image: at its time every listed node that is up and lacks it pulls it,
so a later rollout finds it on the disk.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from offload.errors import ParameterError
from offload.validate import check_non_negative
from simulator.lifecycle.images import Image, ImageCache
from simulator.lifecycle.pulls import Puller

#: ``record(kind, node, detail, owner, source)``: an event of a pull (``pull_start``, ``pull_end``, ``evict``) on
#: ``node`` for ``owner`` (the first replica waiting for it; ``None`` for a push); ``source`` says where a pull
#: comes from (:meth:`Distributor.source`; ``""`` for an eviction).
Record = Callable[[str, str, str, Any, str], None]


@dataclass(frozen=True, slots=True)
class Push:
    """At ``at_s``, pull ``image`` onto each of ``nodes`` that is up and lacks it, or, with ``mirror`` (the topology
    node of a registry mirror; no ``nodes``), copy it to that mirror from the nearest registry holding it
    (pre-distribution)."""

    at_s: float
    image: str
    nodes: tuple[str, ...] = ()
    mirror: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes", tuple(self.nodes))
        check_non_negative("at_s", self.at_s)
        if bool(self.nodes) == (self.mirror is not None):
            raise ParameterError("push", self, "needs either nodes or a mirror")


class Distributor:
    """The pulls of one replication onto the nodes' ``caches``; ``where`` maps a node to its topology node, ``up``
    says which nodes are up, ``peers`` lists the peer groups."""

    def __init__(self, puller: Puller, caches: Mapping[str, ImageCache], images: Mapping[str, Image],
                 where: Mapping[str, str], up: Mapping[str, bool], peers: Sequence[tuple[str, ...]],
                 record: Record) -> None:
        self.puller = puller
        self.caches = caches
        self.images = images
        self.where = where
        self.up = up
        self.peers = {node: tuple(dict.fromkeys(p for group in peers if node in group for p in group if p != node))
                      for group in peers for node in group}
        self.record = record
        self.pulls: dict[tuple[str, str], list[Callable[[], None]]] = {}

    def source(self, image: str, node: str) -> tuple[str, str]:
        """Where the pull of ``image`` to ``node`` comes from: the nearest peer holding it when it is at most as far
        as the nearest registry holding it, else that registry; as its name in the event table (``central:PLACE``,
        ``mirror:PLACE`` with the registry's topology node, ``peer:NODE``) and its topology node."""
        target = self.where[node]
        delays = self.puller.delays
        registry = self.puller.source(image, target)
        options = [(delays[registry.node][target], 1, self.puller.label(registry), registry.node)]
        options += [(delays[place][target], 0, f"peer:{peer}", place) for peer, place in
                    ((peer, self.where[peer]) for peer in self.peers.get(node, ())
                     if self.up[peer] and self.caches[peer].has(self.images[image]))
                    if target in delays[place]]
        _, _, name, place = min(options, key=lambda option: option[:2])
        return name, place

    def fetch(self, node: str, image: Image, owner: Any, done: Callable[[], None] | None = None) -> None:
        """Pull ``image`` to ``node`` unless a pull of it there is under way, then ``done()`` (if given) when it
        is on the disk."""
        key = (node, image.name)
        if key not in self.pulls:
            self.pulls[key] = []
            name, place = self.source(image.name, node)
            self.record("pull_start", node, image.name, owner, name)
            self.puller.pull(image, self.where[node], partial(self._pulled, key, owner, name), place)
        if done is not None:
            self.pulls[key].append(done)

    def _pulled(self, key: tuple[str, str], owner: Any, source: str) -> None:
        node, name = key
        waiting = self.pulls.pop(key)
        for evicted in self.caches[node].store(self.images[name]):
            self.record("evict", node, evicted, owner, "")
        self.record("pull_end", node, name, owner, source)
        for done in waiting:
            done()

    def _pushed(self, mirror: str, image: str, source: str) -> None:
        self.puller.stock(mirror, image)
        self.record("push_end", mirror, image, None, source)

    def push(self, push: Push) -> None:
        """Pre-distribute: every node of ``push`` that is up and lacks the image pulls it; a push to a mirror
        copies it there unless the mirror holds it (events ``push_start``, ``push_end`` at the mirror's place)."""
        image = self.images[push.image]
        mirror = push.mirror
        if mirror is not None:
            registry = next(r for r in self.puller.registries if r.node == mirror)
            if not self.puller.holds(registry, image.name):
                origin = self.puller.source(image.name, mirror)
                source = self.puller.label(origin)
                self.record("push_start", mirror, image.name, None, source)
                self.puller.pull(image, mirror, partial(self._pushed, mirror, image.name, source), origin.node)
            return
        for node in push.nodes:
            if self.up[node] and not self.caches[node].has(image):
                self.fetch(node, image, None)
