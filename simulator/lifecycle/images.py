"""Container images and the per-node image cache (a disk of fixed capacity with least-recently-used eviction).

A node keeps the images it has pulled until its disk is full; storing a new image evicts the least recently used
ones until it fits (the kubelet's image garbage collection, reduced to its rule: oldest last use first). An image
larger than the whole disk is not kept at all. A replica using an image counts as a use.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

from offload.errors import ParameterError
from offload.validate import check_non_negative, check_positive


@dataclass(frozen=True, slots=True)
class Image:
    """A service version's container image: ``size_bits`` to pull, and ``build_s``, how long the platform takes to
    build it: it is built when first needed and enters the central registry ``build_s`` later
    (:mod:`simulator.lifecycle.builds`; 0: built before the run)."""

    name: str
    size_bits: float
    build_s: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ParameterError("image.name", self.name, "must be a non-empty string")
        check_positive("size_bits", self.size_bits)
        check_non_negative("build_s", self.build_s)


class ImageCache:
    """The images on one node's disk, least recently used first."""

    __slots__ = ("_images", "capacity_bits")

    def __init__(self, capacity_bits: float = math.inf) -> None:
        check_positive("capacity_bits", capacity_bits, allow_inf=True)
        self.capacity_bits = capacity_bits
        self._images: OrderedDict[str, float] = OrderedDict()

    @property
    def used_bits(self) -> float:
        """Bits taken by the cached images."""
        return sum(self._images.values())

    @property
    def names(self) -> tuple[str, ...]:
        """Cached images, least recently used first."""
        return tuple(self._images)

    def has(self, image: Image) -> bool:
        """Whether ``image`` is cached (without counting as a use)."""
        return image.name in self._images

    def use(self, image: Image) -> bool:
        """Mark ``image`` as just used; whether it was cached (then no pull is needed)."""
        if image.name in self._images:
            self._images.move_to_end(image.name)
            return True
        return False

    def store(self, image: Image) -> tuple[str, ...]:
        """Keep ``image`` as the most recently used, evicting least recently used images until it fits; returns the
        evicted names (an image larger than the disk is not kept and evicts nothing)."""
        if self.use(image) or image.size_bits > self.capacity_bits:
            return ()
        evicted: list[str] = []
        while self.used_bits + image.size_bits > self.capacity_bits:
            name, _ = self._images.popitem(last=False)
            evicted.append(name)
        self._images[image.name] = image.size_bits
        return tuple(evicted)
