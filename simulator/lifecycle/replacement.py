"""Online re-placement: the scheduler in the loop, placing a service's replicas on where its users are now.

At the start, and then every ``every_s`` seconds and/or after every ``handovers`` handovers of the service's
devices (a mobility trigger), a registered placement solver (:data:`scheduler.solvers.SOLVERS`)
places ``replicas`` replicas of the service for the users' current cells: one user group per device group and
cell, at the group's mean rate per device (:func:`simulator.placement_bridge.placement_problem`); a device group
of the service that does not move is a user that stays at its access point, whose cell it counts in (it is
*anchored*, :class:`simulator.mobility.controller.Mobility`). The servers that get a replica are the service's
hosts: a device's remote candidates are the hosts its cell reaches, nearest first (all the service's servers when
its cell reaches none). A new placement is carried out only when its mean
latency, as the placement model predicts it for the current users, beats keeping the current hosts (the same solver
restricted to them); the difference is the predicted gain. The move is make-before-break: every new host pulls the
service's image (unless its node has it) from the registry over the run's shared links
(:class:`simulator.lifecycle.pulls.Puller`, as the deployments' replicas do), then boots for ``boot_s``; once all
are ready they take the devices' new requests and the hosts left out drain: no new request goes to them, the ones
they have finish there, so no request is lost. A re-placement falling due while a move is under way is skipped.

Each group's row of the mobility table gets its service's ``replacements`` (moves carried out),
``replicas_moved`` (hosts added by them) and ``placement_gain_s`` (their predicted mean-latency gains, summed).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import simpy

from offload.errors import InfeasibleError, ParameterError
from offload.validate import check_non_negative, check_positive
from scheduler.solvers import SOLVERS, solve
from simulator.devices import Access, DeviceState
from simulator.events import Wake
from simulator.lifecycle.images import Image
from simulator.lifecycle.pulls import Puller, Registry
from simulator.placement_bridge import (
    PlacementSettings,
    ReplicaSpec,
    placement_graph,
    placement_problem,
)
from simulator.world import Service, World, WorldError


@dataclass(frozen=True, slots=True)
class Replacement:
    """Place ``replicas`` replicas of ``service`` with solver ``solver`` at the start and every ``every_s`` seconds
    and/or after every ``handovers`` handovers of its devices (both ``None``: once, a static placement); a new host
    pulls an image of ``image_bits`` from the registry at topology
    node ``registry`` (no pull when ``image_bits`` is 0) and boots for ``boot_s``; for the offload policies labelled
    ``policies`` (empty: all)."""

    service: str
    replicas: int = 1
    every_s: float | None = None
    solver: str = "greedy"
    image_bits: float = 0.0
    registry: str | None = None
    boot_s: float = 0.0
    policies: tuple[str, ...] = ()
    handovers: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "policies", tuple(self.policies))
        if not isinstance(self.replicas, int) or self.replicas < 1:
            raise ParameterError("replacement.replicas", self.replicas, "must be a whole number >= 1")
        if self.every_s is not None:
            check_positive("replacement.every_s", self.every_s)
        if self.handovers is not None and (not isinstance(self.handovers, int) or self.handovers < 1):
            raise ParameterError("replacement.handovers", self.handovers, "must be a whole number >= 1")
        if self.solver not in SOLVERS:
            raise ParameterError("replacement.solver", self.solver,
                                 f"unknown placement solver; choose one of {', '.join(SOLVERS)}")
        check_non_negative("replacement.image_bits", self.image_bits)
        check_non_negative("replacement.boot_s", self.boot_s)
        if self.image_bits > 0 and self.registry is None:
            raise ParameterError("replacement.registry", None, "an image needs a registry to pull it from")

    def anchors(self, service: str) -> bool:
        """Whether ``service`` is the re-placed one: its devices that do not move follow the hosts too."""
        return service == self.service

    def attach(self, env: simpy.Environment, access: Access, devices: Sequence[DeviceState]) -> Replacing:
        """The re-placement of one replication over the moving and anchored ``devices`` (those of other services
        are left alone)."""
        return Replacing(self, env, access, [d for d in devices if d.group.service == self.service])


class Replacing:
    """The re-placement of one replication: the hosts, the move under way and what the moves did."""

    def __init__(self, spec: Replacement, env: simpy.Environment, access: Access,
                 devices: list[DeviceState]) -> None:
        self.spec = spec
        self.env = env
        self.access = access
        self.devices = devices
        world = access.world
        self.world = world
        self.settings = PlacementSettings(policy=spec.solver, services={
            spec.service: ReplicaSpec(min_replicas=spec.replicas, max_replicas=spec.replicas)})
        self.graph = placement_graph(world, self.settings)
        self.servers = tuple(server.name for server in world.hosts(spec.service))
        self.hosts: frozenset[str] = frozenset()
        self.pending: set[str] = set()
        self.target: frozenset[str] | None = None
        self.images: set[str] = set()
        self.image = Image(spec.service, spec.image_bits) if spec.image_bits > 0 else None
        self.nodes = {server.name: server.node for server in world.servers}
        self.puller = None if spec.registry is None else Puller(env, world.links, access.channels,
                                                                 [Registry(spec.registry)])
        self.moves = 0
        self.moved_replicas = 0
        self.gain_s = 0.0
        self.why = ""
        self.handovers = 0

    def start(self) -> None:
        """Place the replicas for the users' first cells (ready at once: deployed before the run), then every
        ``every_s``."""
        placed = self._place(self.servers)
        if placed is None:
            raise InfeasibleError(f"replacement: the {self.spec.service!r} replicas cannot be placed for the users' "
                                  f"first cells ({self.why})")
        self.hosts = placed[0]
        self.images = set(self.hosts)
        self._bind_all()
        if self.spec.every_s is not None:
            Wake(self.env, self.spec.every_s, None, self._due)

    def moved(self, device: DeviceState) -> None:
        """``device`` was handed over: its candidates are the hosts its new cell reaches."""
        if device.group.service == self.spec.service:
            self._bind(device)
            self.handovers += 1
            if self.spec.handovers is not None and self.handovers >= self.spec.handovers:
                self._consider()

    def row(self, group: str) -> dict[str, float]:
        """The group's ``replacements``, ``replicas_moved`` and ``placement_gain_s`` (nothing for a group of another
        service)."""
        if not any(device.group.name == group for device in self.devices):
            return {}
        return {"replacements": self.moves, "replicas_moved": self.moved_replicas, "placement_gain_s": self.gain_s}

    # -- placing ----------------------------------------------------------------------------------------------------
    def _place(self, allowed: Sequence[str]) -> tuple[frozenset[str], float] | None:
        """The hosts the solver picks among ``allowed`` for the users' current cells and the placement's predicted
        mean latency (``None``: no placement)."""
        where = Counter((device.group.name, device.access_point) for device in self.devices)
        groups = {device.group.name: device.group for device in self.devices}
        users = tuple(replace(groups[name], name=f"{name}@{cell}", count=n, access_point=cell, routes=())
                      for (name, cell), n in sorted(where.items()))
        world = self.world
        try:
            now = World(users, world.access_points, world.servers, world.links,
                        (Service(self.spec.service, tuple(allowed)),), world.policies)
            problem = placement_problem(now, self.graph, self.settings)
            result = solve(problem, self.spec.solver, rng=np.random.default_rng(0), lower_bound=0.0)
        except (WorldError, InfeasibleError) as error:  # a cell reaches no allowed server, or capacity is short
            self.why = str(error).splitlines()[0]
            return None
        if result.placement is None or result.objective is None:
            self.why = result.message
            return None
        used = {problem.node_names[n] for n in np.flatnonzero(result.placement.replicas[0] > 0)}
        return frozenset(used), result.objective.mean_latency_s

    def _due(self, event: simpy.Event) -> None:
        Wake(self.env, self.spec.every_s, None, self._due)  # type: ignore[arg-type]
        self._consider()

    def _consider(self) -> None:
        """Re-solve for the users' current cells; move if the new placement is predicted to be faster."""
        if self.target is not None:
            return  # a move is under way
        self.handovers = 0
        new = self._place(self.servers)
        if new is None or new[0] == self.hosts:
            return
        kept = self._place(sorted(self.hosts))
        gain_s = (math.inf if kept is None else kept[1]) - new[1]
        if not gain_s > 0:
            return
        self.target = new[0]
        self.gain_s += gain_s if math.isfinite(gain_s) else 0.0
        self.pending = set(new[0] - self.hosts)
        for server in sorted(self.pending):
            self._launch(server)

    def _launch(self, server: str) -> None:
        """Pull the image to ``server`` unless it has it, then boot."""
        if self.image is None or server in self.images or self.puller is None:
            self._boot(server)
            return
        self.puller.pull(self.image, self.nodes[server], lambda: self._pulled(server))

    def _pulled(self, server: str) -> None:
        self.images.add(server)
        self._boot(server)

    def _boot(self, server: str) -> None:
        Wake(self.env, self.spec.boot_s, server, self._ready)

    def _ready(self, event: simpy.Event) -> None:
        self.pending.discard(event.value)
        if self.pending or self.target is None:
            return
        added = len(self.target - self.hosts)
        self.hosts, self.target = self.target, None
        self.moves += 1
        self.moved_replicas += added
        self._bind_all()  # the hosts left out drain: their requests finish, no new ones reach them

    def _bind_all(self) -> None:
        for device in self.devices:
            self._bind(device)

    def _bind(self, device: DeviceState) -> None:
        device.routes, device.candidates = self.access.restricted(device.access_point, self.spec.service,
                                                                  self.hosts)
