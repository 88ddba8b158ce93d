"""The deployment controller: keeps each deployment at its desired replica count while the run goes on.

Replicas are placed by a small filter-and-score step (filter: the node has the cores and the disk for the image;
score, in order: fewest replicas of the same deployment (spread), the image already on the node (locality), the
most free cores in proportion (least allocated), then domain order). A replica
that fits nowhere stays pending and is placed as soon as cores free up. Scaling down removes replicas that are not
ready yet first (pending, then pulling, then starting), then the newest ready ones, which drain
(:mod:`simulator.lifecycle.router`). Every change is an event and a row of the replica time series.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from functools import partial
from typing import Any

import pandas as pd
import simpy

from offload.errors import ParameterError
from simulator.devices import LinkChannels
from simulator.events import Wake
from simulator.lifecycle.autoscaler import Autoscaler
from simulator.lifecycle.images import Image, ImageCache
from simulator.lifecycle.pulls import Puller, Registry
from simulator.lifecycle.router import EndpointPool
from simulator.lifecycle.spec import Deployment, NodeCapacity, ScaleEvent
from simulator.result import DropReason
from simulator.topology import shortest_paths
from simulator.world import World

#: Columns of the event table; ``detail`` is the image of a pull or eviction, the target count of a scale.
EVENT_COLUMNS = ("time_s", "kind", "service", "version", "deployment", "node", "replica", "detail")
#: Columns of the replica time series: after every change, the deployment's replicas in each state.
REPLICA_COLUMNS = ("time_s", "service", "version", "deployment", "desired", "pending", "pulling", "starting",
                   "ready", "terminating")


class State(IntEnum):
    """Where a replica is in its life cycle (the order scale-down removes them in)."""

    PENDING = 0
    PULLING = 1
    STARTING = 2
    READY = 3
    TERMINATING = 4


@dataclass(frozen=True, slots=True)
class Platform:
    """The platform of a run: ``images``, the registries (the first is the central one and holds every image),
    node capacities, deployments (at most one per service) and scripted scale events."""

    images: tuple[Image, ...]
    registries: tuple[Registry, ...]
    nodes: tuple[NodeCapacity, ...]
    deployments: tuple[Deployment, ...]
    events: tuple[ScaleEvent, ...] = ()

    def __post_init__(self) -> None:
        for name in ("images", "registries", "nodes", "deployments", "events"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if not self.registries or self.registries[0].images is not None:
            raise ParameterError("registries", self.registries, "the first registry must be the central one")
        services = [d.service for d in self.deployments]
        if len(set(services)) < len(services):
            raise ParameterError("deployments", services, "at most one deployment per service")
        nodes = {n.node for n in self.nodes}
        for deployment in self.deployments:
            if not nodes.issuperset(deployment.nodes):
                raise ParameterError("nodes", deployment.nodes, "every domain node needs a capacity")
        names = {d.name for d in self.deployments}
        for event in self.events:
            if event.deployment not in names:
                raise ParameterError("events.deployment", event.deployment, "undefined deployment")

    def attach(self, world: World, env: simpy.Environment, channels: LinkChannels, *,
               on_served: Callable[[Any], None], on_dropped: Callable[[Any, DropReason], None],
               forward: Callable[[Any, int], None]) -> Controller:
        """The controller of one replication, whose endpoint pools serve the deployed services."""
        return Controller(self, world, env, channels, on_served=on_served, on_dropped=on_dropped, forward=forward)


def _nearest_cloud(world: World, node: str) -> int | None:
    """Index of the cloud server nearest the server ``node`` (``None``: no cloud reachable)."""
    where = next(s.node for s in world.servers if s.name == node)
    delays = shortest_paths([where], [(k.a, k.b, k.one_way_s) for k in world.links])[0][where]
    clouds = [(delays[s.node], k) for k, s in enumerate(world.servers) if s.tier == "cloud" and s.node in delays]
    return min(clouds)[1] if clouds else None


def _pass_on(forward: Callable[[Any, int], None], server: int, job: Any) -> None:
    forward(job, server)


class Replica:
    """One replica: its number, deployment, node (``None`` while pending) and state."""

    __slots__ = ("deployed", "node", "number", "state")

    def __init__(self, number: int, deployed: Deployed) -> None:
        self.number = number
        self.deployed = deployed
        self.node: str | None = None
        self.state = State.PENDING


class Deployed:
    """A deployment at run time: its endpoint pool, desired count, live replicas and those draining."""

    __slots__ = ("desired", "draining", "pool", "replicas", "spec")

    def __init__(self, spec: Deployment, pool: EndpointPool) -> None:
        self.spec = spec
        self.pool = pool
        self.desired = 0
        self.replicas: list[Replica] = []
        self.draining: list[Replica] = []


class Controller:
    """Runs the platform in one replication: places, pulls, boots, scales and drains replicas."""

    def __init__(self, platform: Platform, world: World, env: simpy.Environment, channels: LinkChannels, *,
                 on_served: Callable[[Any], None], on_dropped: Callable[[Any, DropReason], None],
                 forward: Callable[[Any, int], None]) -> None:
        self.env = env
        self.platform = platform
        self.puller = Puller(env, world.links, channels, platform.registries)
        self.where = {server.name: server.node for server in world.servers}
        central = self.puller.delays[platform.registries[0].node]
        for n in platform.nodes:
            if n.node not in self.where or self.where[n.node] not in central:
                raise ParameterError("nodes", n.node, "must be a server of the world reachable from the central "
                                     f"registry at {platform.registries[0].node!r}")
        self.images = {image.name: image for image in platform.images}
        self.cpu = {n.node: n.cpu for n in platform.nodes}
        self.free_cpu = dict(self.cpu)
        self.caches = {n.node: ImageCache(n.disk_bits) for n in platform.nodes}
        for n in platform.nodes:
            for name in n.images:
                self.caches[n.node].store(self.images[name])
        self.deployed: dict[str, Deployed] = {}
        for spec in platform.deployments:
            cloud = _nearest_cloud(world, spec.nodes[0]) if spec.unready.action == "cloud" else None
            pool = EndpointPool(env, spec.name, spec.unready, on_served=on_served, on_dropped=on_dropped,
                                on_drained=partial(self._drain_named, spec.name),
                                fallback=None if cloud is None else partial(_pass_on, forward, cloud))
            self.deployed[spec.name] = Deployed(spec, pool)
        self.pools = {d.spec.service: d.pool for d in self.deployed.values()}
        self.pending: list[Replica] = []
        self.pulls: dict[tuple[str, str], list[Replica]] = {}
        self.events: list[tuple[Any, ...]] = []
        self.series: list[tuple[Any, ...]] = []
        self.numbers = 0

    # -- records --------------------------------------------------------------------------------------------------
    def _event(self, kind: str, deployed: Deployed, replica: Replica | None = None, node: str | None = None,
               detail: str = "") -> None:
        spec = deployed.spec
        where = node if node is not None else (replica.node if replica is not None else None)
        self.events.append((self.env.now, kind, spec.service, spec.version, spec.name, where or "",
                            -1 if replica is None else replica.number, detail))

    def _count(self, deployed: Deployed) -> None:
        counts = [0] * len(State)
        for replica in deployed.replicas:
            counts[replica.state] += 1
        spec = deployed.spec
        self.series.append((self.env.now, spec.service, spec.version, spec.name, deployed.desired, *counts))

    def tables(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The event table and the replica time series of this replication."""
        return (pd.DataFrame(self.events, columns=list(EVENT_COLUMNS)),
                pd.DataFrame(self.series, columns=list(REPLICA_COLUMNS)))

    # -- scaling ----------------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Deploy every deployment at time 0 and schedule the scripted events."""
        for deployed in self.deployed.values():
            self._event("deploy", deployed, detail=str(deployed.spec.replicas))
            self.scale(deployed.spec.name, deployed.spec.replicas)
        for event in self.platform.events:
            Wake(self.env, event.at_s, event, self._scripted)
        for deployed in self.deployed.values():
            rules = deployed.spec.autoscaling
            if rules is not None:
                Autoscaler(self.env, rules, deployed.pool, deployed.spec.workers,
                           partial(self.scale, deployed.spec.name, kind="autoscale"),
                           partial(self._counts, deployed)).start()

    @staticmethod
    def _counts(deployed: Deployed) -> tuple[int, int]:
        return deployed.desired, sum(r.state == State.READY for r in deployed.replicas)

    def _scripted(self, event: simpy.Event) -> None:
        scale: ScaleEvent = event.value  # type: ignore[assignment]
        self.scale(scale.deployment, scale.replicas)

    def scale(self, name: str, replicas: int, kind: str = "scale") -> None:
        """Set the desired count of deployment ``name``: create or remove replicas to reach it (event ``kind``)."""
        deployed = self.deployed[name]
        deployed.desired = replicas
        self._event(kind, deployed, detail=str(replicas))
        alive = [r for r in deployed.replicas if r.state != State.TERMINATING]
        for _ in range(replicas - len(alive)):
            replica = Replica(self.numbers, deployed)
            self.numbers += 1
            deployed.replicas.append(replica)
            if not self._place(replica):
                self.pending.append(replica)
                self._event("pending", deployed, replica)
        surplus = len(alive) - replicas
        if surplus > 0:
            for replica in sorted(alive, key=lambda r: (r.state, -r.number))[:surplus]:
                self._stop(replica)
            self._retry()
        self._count(deployed)

    # -- one replica ------------------------------------------------------------------------------------------------
    def _fits(self, spec: Deployment, node: str) -> bool:
        return self.free_cpu[node] >= spec.cpu - 1e-9 and spec.image.size_bits <= self.caches[node].capacity_bits

    def _place(self, replica: Replica) -> bool:
        """Filter and score the domain's nodes; start the replica on the best one (``False``: none fits)."""
        spec = replica.deployed.spec
        nodes = [n for n in spec.nodes if self._fits(spec, n)]
        if not nodes:
            return False
        order = {n: k for k, n in enumerate(spec.nodes)}
        peers = [r.node for r in replica.deployed.replicas if r.node is not None]
        node = max(nodes, key=lambda n: (-peers.count(n), self.caches[n].has(spec.image),
                                         self.free_cpu[n] / self.cpu[n], -order[n]))
        replica.node = node
        self.free_cpu[node] -= spec.cpu
        if self.caches[node].use(spec.image):
            self._boot(replica)
            return True
        replica.state = State.PULLING
        key = (node, spec.image.name)
        if key not in self.pulls:
            self.pulls[key] = []
            self._event("pull_start", replica.deployed, replica, detail=spec.image.name)
            self.puller.pull(spec.image, self.where[node], partial(self._pulled, key))
        self.pulls[key].append(replica)
        return True

    def _pulled(self, key: tuple[str, str]) -> None:
        node, name = key
        waiting = self.pulls.pop(key)
        image = self.images[name]
        for evicted in self.caches[node].store(image):
            self._event("evict", waiting[0].deployed, node=node, detail=evicted)
        self._event("pull_end", waiting[0].deployed, waiting[0], detail=name)
        for replica in waiting:
            if replica.state == State.PULLING:
                self._boot(replica)
                self._count(replica.deployed)

    def _boot(self, replica: Replica) -> None:
        replica.state = State.STARTING
        self._event("starting", replica.deployed, replica)
        Wake(self.env, replica.deployed.spec.boot_s, replica, self._ready)

    def _ready(self, event: simpy.Event) -> None:
        replica: Replica = event.value  # type: ignore[assignment]
        if replica.state != State.STARTING:
            return  # removed while starting
        replica.state = State.READY
        deployed = replica.deployed
        deployed.pool.add_workers(deployed.spec.workers)
        self._event("ready", deployed, replica)
        self._count(deployed)

    def _stop(self, replica: Replica) -> None:
        """Remove a replica: a ready one drains first, any other goes at once."""
        deployed = replica.deployed
        if replica.state == State.READY:
            replica.state = State.TERMINATING
            deployed.pool.remove_workers(deployed.spec.workers)
            deployed.draining.append(replica)
            self._event("terminating", deployed, replica)
            self._drain(deployed)
            return
        if replica.state == State.PENDING:
            self.pending.remove(replica)
        self._release(replica)

    def _release(self, replica: Replica) -> None:
        deployed = replica.deployed
        if replica.node is not None:
            self.free_cpu[replica.node] += deployed.spec.cpu
        replica.state = State.TERMINATING  # no longer pulling or starting: a pull or boot under way ignores it
        deployed.replicas.remove(replica)
        self._event("terminated", deployed, replica)

    def _drain_named(self, name: str) -> None:
        self._drain(self.deployed[name])

    def _drain(self, deployed: Deployed) -> None:
        """Release draining replicas, oldest first, as the requests beyond the ready workers finish."""
        if not deployed.draining:
            return
        workers = deployed.spec.workers
        released = False
        while deployed.draining and math.ceil(deployed.pool.excess / workers) < len(deployed.draining):
            self._release(deployed.draining.pop(0))
            released = True
        if released:
            self._count(deployed)
            self._retry()

    def _retry(self) -> None:
        """Place pending replicas, oldest first, where cores have freed up."""
        for replica in list(self.pending):
            if self._place(replica):
                self.pending.remove(replica)
                self._count(replica.deployed)
