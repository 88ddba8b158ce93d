"""Image pulls over the run's own links: a pull is one more transfer on the same shared channels as the tasks.

The source of a pull is the nearest registry (by one-way delay over the links) that holds the image: a domain
mirror that was given it ahead of time (before the run, or pushed to it during the run: :meth:`Puller.stock`), else
the central registry, which holds every image. The image travels
store-and-forward along the fastest path, hop by hop, exactly like a task's payload (:mod:`simulator.backhaul`: a
shared link is a processor-sharing :class:`~simulator.network.SharedChannel`, so concurrent pulls and tasks on a link
share it fairly; a link of unlimited bandwidth only delays).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import simpy

from simulator.backhaul import send
from simulator.devices import LinkChannels, Step, link_hops, path_steps
from simulator.lifecycle.images import Image
from simulator.topology import shortest_paths
from simulator.world import BackhaulLink


@dataclass(frozen=True, slots=True)
class Registry:
    """A registry at a topology node holding ``images`` (``None``: every image, the central registry)."""

    node: str
    images: tuple[str, ...] | None = None

    def holds(self, image: str) -> bool:
        """Whether a pull of ``image`` can come from here."""
        return self.images is None or image in self.images


class Puller:
    """Pulls images to nodes from the nearest registry holding them."""

    def __init__(self, env: simpy.Environment, links: Sequence[BackhaulLink], channels: LinkChannels,
                 registries: Sequence[Registry], peers: Sequence[str] = ()) -> None:
        """``peers``: the topology nodes of the nodes that may serve pulls to their peers."""
        self.env = env
        self.links = links
        self.channels = channels
        self.registries = tuple(registries)
        #: Images pushed to a mirror during the run, by the mirror's topology node.
        self.stocked: dict[str, set[str]] = {}
        sources = list(dict.fromkeys([*(r.node for r in self.registries), *peers]))
        self.delays, self.paths = shortest_paths(sources, [(k.a, k.b, k.one_way_s) for k in links])

    def holds(self, registry: Registry, image: str) -> bool:
        """Whether ``registry`` holds ``image`` now."""
        return registry.holds(image) or image in self.stocked.get(registry.node, ())

    def label(self, registry: Registry) -> str:
        """``registry`` as an event names a pull's source: ``central:PLACE`` or ``mirror:PLACE``."""
        return f"{'central' if registry is self.registries[0] else 'mirror'}:{registry.node}"

    def stock(self, node: str, image: str) -> None:
        """The mirror at ``node`` holds ``image`` from now on (a push to it arrived)."""
        self.stocked.setdefault(node, set()).add(image)

    def source(self, image: str, node: str) -> Registry:
        """The nearest registry holding ``image`` that reaches ``node`` (the first listed on a tie)."""
        held = [r for r in self.registries if self.holds(r, image) and node in self.delays[r.node]]
        return min(held, key=lambda r: self.delays[r.node][node])

    def steps(self, source: str, node: str) -> tuple[Step, ...]:
        """The transfer steps from ``source`` to ``node`` over the links' shared channels."""
        return path_steps(0.0, link_hops(self.links, self.channels, self.paths[source][node]), 0.0)

    def pull(self, image: Image, node: str, done: Callable[[], None], source: str | None = None) -> None:
        """Transfer ``image`` to ``node`` from the topology node ``source`` (default: the nearest registry holding
        it) and call ``done()`` when its last bit arrives (never synchronously, even from the node itself)."""
        origin = self.source(image.name, node).node if source is None else source
        send(self.env, self.steps(origin, node), image.size_bits, done)
