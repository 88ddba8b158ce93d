"""Image builds: an image is built when it is first needed and enters the central registry ``build_s`` later.

First needed means: at time 0 for a deployment's image, at a rollout's start for its new version's image, at a
push's time for the pushed image. Pulls from the central registry of an image wait for its build (a mirror or a peer
can only hold an image once it is built, so every pull of an unbuilt image comes from the central registry); an image
without a build time, or on some node's disk or a registry mirror at the start, was built before the run. A build is
an event ``build_start`` when it begins and ``build_end`` when the image is in the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import simpy

from simulator.events import Wake
from simulator.lifecycle.images import Image

#: ``record(kind, image, owner)``: a ``build_start`` or ``build_end`` of ``image``, first needed by ``owner`` (a
#: deployment; ``None`` for a push).
Record = Callable[[str, str, Any], None]


class Builds:
    """The images of one replication, built (``built``: the names built before the run) or building."""

    def __init__(self, env: simpy.Environment, images: Mapping[str, Image], built: Iterable[str],
                 record: Record) -> None:
        self.env = env
        self.images = images
        self.record = record
        self.built = {name for name, image in images.items() if image.build_s == 0.0} | set(built)
        #: The builds under way: who first needed the image and what waits for it.
        self.building: dict[str, tuple[Any, list[Callable[[], None]]]] = {}

    def need(self, image: str, owner: Any, done: Callable[[], None] | None = None) -> None:
        """``owner`` needs ``image``: build it unless it is built or being built, and call ``done()`` (if given)
        once it is in the central registry (at once when it is already)."""
        if image in self.built:
            if done is not None:
                done()
            return
        if image not in self.building:
            self.building[image] = (owner, [])
            self.record("build_start", image, owner)
            Wake(self.env, self.images[image].build_s, image, self._built)
        if done is not None:
            self.building[image][1].append(done)

    def _built(self, event: simpy.Event) -> None:
        image = str(event.value)
        owner, waiting = self.building.pop(image)
        self.built.add(image)
        self.record("build_end", image, owner)
        for done in waiting:
            done()
