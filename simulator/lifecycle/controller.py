"""The deployment controller: keeps each deployment at its desired replica count while the run goes on.

Replicas are placed by a filter-and-score step (:mod:`simulator.lifecycle.fit`). A replica that fits nowhere stays
pending (its event says how many domain nodes each filter ruled out) and is placed as soon as resources free up.
Scaling down removes replicas that are not ready yet first (pending, then pulling, then starting), then the newest
ready ones, which drain (:mod:`simulator.lifecycle.router`) and go when their own last request ends. A failed node
(:mod:`simulator.lifecycle.failures`) loses its replicas, which are rescheduled in the domain or restart on the node
once it is repaired. Every change is an event and a row of the replica time series; the rollouts, the autoscalers
and the versions' series are :mod:`simulator.lifecycle.releases`'.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import simpy

from offload.errors import ParameterError
from simulator.devices import LinkChannels
from simulator.events import Wake
from simulator.lifecycle.builds import Builds
from simulator.lifecycle.distribution import Distributor, Push
from simulator.lifecycle.failures import Failures
from simulator.lifecycle.fit import Fit, check_disks
from simulator.lifecycle.images import Image, ImageCache
from simulator.lifecycle.pulls import Puller, Registry
from simulator.lifecycle.releases import Releases
from simulator.lifecycle.replicas import Deployed, Replica, State
from simulator.lifecycle.retry import GiveUp, Resend, Retrier, Retry
from simulator.lifecycle.router import Endpoint, EndpointPool
from simulator.lifecycle.spec import Deployment, NodeCapacity, NodeEvent, ScaleEvent
from simulator.lifecycle.spill import Spill, spill_servers
from simulator.lifecycle.traffic import Bernoulli, Uniforms
from simulator.lifecycle.versions import Rollout, check_rollouts
from simulator.result import DropReason
from simulator.servers import WorkerPool
from simulator.world import World

#: Columns of the event table; ``detail`` is the image of a pull, build or eviction, the target count of a scale;
#: ``source`` where a pull came from (``central:PLACE``, ``mirror:PLACE``, ``peer:NODE``; ``""`` for other events).
EVENT_COLUMNS = ("time_s", "kind", "service", "version", "deployment", "node", "replica", "detail", "source")
#: Columns of the replica time series: after every change, the deployment's replicas in each state.
REPLICA_COLUMNS = ("time_s", "service", "version", "deployment", "desired", "pending", "pulling", "starting",
                   "ready", "terminating")
#: Columns of the counters: requests ``retried`` by the reason their attempt failed, ``spilled`` out of their domain
#: by the reason they left.
COUNT_COLUMNS = ("counter", "reason", "count")


@dataclass(frozen=True, slots=True)
class Platform:
    """The platform of a run: ``images``, the registries (the first is the central one and holds every image),
    node capacities, deployments (a service's in disjoint domains), scripted scale events, scripted node failures, the
    device groups' retry rules, rollouts of new versions (at most one per deployment,
    :mod:`simulator.lifecycle.versions`), the peer groups (nodes that pull images from each other,
    :mod:`simulator.lifecycle.distribution`) and the pushes that pre-distribute images."""

    images: tuple[Image, ...]
    registries: tuple[Registry, ...]
    nodes: tuple[NodeCapacity, ...]
    deployments: tuple[Deployment, ...]
    events: tuple[ScaleEvent, ...] = ()
    failures: tuple[NodeEvent, ...] = ()
    retries: tuple[Retry, ...] = ()
    rollouts: tuple[Rollout, ...] = ()
    peers: tuple[tuple[str, ...], ...] = ()
    pushes: tuple[Push, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "peers", tuple(tuple(group) for group in self.peers))
        for name in ("images", "registries", "nodes", "deployments", "events", "failures", "retries", "rollouts",
                     "pushes"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if not self.registries or self.registries[0].images is not None:
            raise ParameterError("registries", self.registries, "the first registry must be the central one")
        domains: dict[tuple[str, str], str] = {}
        for deployment in self.deployments:
            for node in deployment.nodes:
                other = domains.setdefault((deployment.service, node), deployment.name)
                if other != deployment.name:
                    raise ParameterError("deployments", [other, deployment.name], f"deploy {deployment.service!r} "
                                         f"on {node!r} both: a service's deployments need disjoint domains")
        nodes = {n.node for n in self.nodes}
        for deployment in self.deployments:
            if not nodes.issuperset(deployment.nodes):
                raise ParameterError("nodes", deployment.nodes, "every domain node needs a capacity")
            if set(deployment.unready.region) & set(deployment.nodes):
                raise ParameterError("unready.region", deployment.unready.region, "must lie outside the domain")
        names = {d.name for d in self.deployments}
        for event in self.events:
            if event.deployment not in names:
                raise ParameterError("events.deployment", event.deployment, "undefined deployment")
        for failure in self.failures:
            if failure.node not in nodes:
                raise ParameterError("failures.node", failure.node, "undefined node")
        for group in self.peers:
            if not nodes.issuperset(group):
                raise ParameterError("peers", group, "every peer needs a capacity")
        images = {image.name for image in self.images}
        mirrors = {r.node for r in self.registries[1:]}
        for push in self.pushes:
            if push.image not in images or not nodes.issuperset(push.nodes) or \
                    (push.mirror is not None and push.mirror not in mirrors):
                raise ParameterError("pushes", push, "needs a defined image and nodes with a capacity, or a mirror")
        groups = [r.group for r in self.retries]
        if len(set(groups)) < len(groups):
            raise ParameterError("retries", groups, "at most one retry rule per device group")
        check_rollouts(self.deployments, self.rollouts)
        check_disks(self.nodes, self.deployments, [(r.deployment, r.version.image) for r in self.rollouts])

    def attach(self, world: World, env: simpy.Environment, channels: LinkChannels, *,
               on_served: Callable[[Any], None], on_dropped: Callable[[Any, DropReason], None],
               forward: Callable[[Any, int], None], resend: Resend, give_up: GiveUp,
               rng: np.random.Generator) -> Controller:
        """The controller of one replication, whose endpoint pools serve the deployed services (``rng`` draws the
        random node failures; ``resend`` and ``give_up`` carry out retries, :mod:`simulator.lifecycle.retry`)."""
        groups = {g.name for g in world.device_groups}
        for rule in self.retries:
            if rule.group not in groups:
                raise ParameterError("retries.group", rule.group, "undefined device group")
        retrier = Retrier(env, self.retries, resend=resend, give_up=give_up, on_dropped=on_dropped) \
            if self.retries else None
        return Controller(self, world, env, channels, on_served=on_served,
                          on_dropped=on_dropped if retrier is None else retrier.dropped, forward=forward,
                          rng=rng, retrier=retrier)


class Controller:
    """Runs the platform in one replication: places, pulls, boots, scales and drains replicas."""

    def __init__(self, platform: Platform, world: World, env: simpy.Environment, channels: LinkChannels, *,
                 on_served: Callable[[Any], None], on_dropped: Callable[[Any, DropReason], None],
                 forward: Callable[[Any, int], None], rng: np.random.Generator,
                 retrier: Retrier | None = None) -> None:
        self.env = env
        self.retrier = retrier
        self.sent = None if retrier is None else retrier.sent
        self.platform = platform
        self.where = {server.name: server.node for server in world.servers}
        self.puller = Puller(env, world.links, channels, platform.registries,
                             [self.where[n] for group in platform.peers for n in group if n in self.where])
        central = self.puller.delays[platform.registries[0].node]
        for node in {n for d in platform.deployments for n in d.nodes}:
            if node not in self.where or self.where[node] not in central:
                raise ParameterError("nodes", node, "must be a server of the world reachable from the central "
                                     f"registry at {platform.registries[0].node!r}")
        self.images = {image.name: image for image in platform.images}
        self.servers = {server.name: (k + 1, server.profile.time_terms()) for k, server in enumerate(world.servers)}
        self.failures = Failures(env, platform.nodes, platform.failures, rng, lose=self._lose,
                                 restore=self._restore, log=self._node_event)
        self.up = self.failures.up
        self.caches = {n.node: ImageCache(n.disk_bits) for n in platform.nodes}
        for n in platform.nodes:
            for name in n.images:
                self.caches[n.node].store(self.images[name])
        self.fit = Fit(platform.nodes, self.up, self.caches)
        self.world, self.on_served, self.on_dropped, self.forward = world, on_served, on_dropped, forward
        # the versions' own streams: spawned children leave the failure draws of ``rng`` as they were
        self.split_uniform, self.error_uniform = (Uniforms(child) for child in rng.spawn(2))
        self.distributor = Distributor(self.puller, self.caches, self.images, self.where, self.up, platform.peers,
                                       self._pull_event)
        self.builds = Builds(env, self.images, [*(name for n in platform.nodes for name in n.images),
                                                *(name for r in platform.registries[1:] for name in r.images or ())],
                             self._build_event)
        self.deployed: dict[str, Deployed] = {}
        self.spills: list[Spill] = []
        for spec in platform.deployments:
            self.add_deployed(spec)
        self.pools: dict[tuple[str, str], WorkerPool] = {(d.spec.service, node): d.pool for d in self.deployed.values()
                                                         for node in d.spec.nodes}
        self.watchers: dict[str, Callable[[], None]] = {}
        self.releases = Releases(self, platform.deployments, platform.rollouts)
        self.pending: list[Replica] = []
        self.events: list[tuple[Any, ...]] = []
        self.series: list[tuple[Any, ...]] = []
        self.numbers = 0

    def add_deployed(self, spec: Deployment, pool: EndpointPool | None = None) -> Deployed:
        """Run deployment ``spec`` (with no replica yet) behind ``pool``, or behind a pool of its own."""
        if pool is None:
            unknown = [name for name in spec.unready.region if name not in self.where]
            if unknown:
                raise ParameterError("unready.region", unknown, "must be servers of the world")
            servers = spill_servers(self.world, spec.unready.action, spec.nodes, spec.unready.region)
            spill = Spill(self.forward, servers) if servers else None
            if spill is not None:
                self.spills.append(spill)
            pool = EndpointPool(self.env, spec.name, spec.unready, on_served=self.on_served,
                                on_dropped=self.on_dropped, fallback=spill)
        fails = Bernoulli(spec.error_probability, self.error_uniform) if spec.error_probability > 0 else None
        self.deployed[spec.name] = deployed = Deployed(spec, pool, fails)
        if spec.autoscaling is not None and spec.autoscaling.min_replicas == 0:
            pool.activate = partial(self.activate, deployed)
        return deployed

    # -- records --------------------------------------------------------------------------------------------------
    def record(self, deployed: Deployed, kind: str, detail: str = "") -> None:
        """An event of a deployment as a whole."""
        self._event(kind, deployed, detail=detail)
    def _event(self, kind: str, deployed: Deployed, replica: Replica | None = None, node: str | None = None,
               detail: str = "", source: str = "") -> None:
        spec = deployed.spec
        where = node if node is not None else (replica.node if replica is not None else None)
        self.events.append((self.env.now, kind, spec.service, spec.version, spec.name, where or "",
                            -1 if replica is None else replica.number, detail, source))

    def _count(self, deployed: Deployed) -> None:
        counts = [0] * len(State)
        for replica in deployed.replicas:
            counts[replica.state] += 1
        spec = deployed.spec
        self.series.append((self.env.now, spec.service, spec.version, spec.name, deployed.desired, *counts))
        watcher = self.watchers.get(spec.name)
        if watcher is not None:
            watcher()

    def tables(self, warmup_s: float) -> tuple[pd.DataFrame, ...]:
        """The event table, the replica time series, the counters, the versions' traffic series and their monitor
        after ``warmup_s`` (:mod:`simulator.lifecycle.monitor`) of this replication."""
        retried = {} if self.retrier is None else self.retrier.retried
        spilled = sum((spill.spilled for spill in self.spills), Counter[str]())
        counts = [(counter, reason, n) for counter, counted in (("retried", retried), ("spilled", spilled))
                  for reason, n in sorted(counted.items())]
        return (pd.DataFrame(self.events, columns=list(EVENT_COLUMNS)),
                pd.DataFrame(self.series, columns=list(REPLICA_COLUMNS)),
                pd.DataFrame(counts, columns=list(COUNT_COLUMNS)),
                *self.releases.tables(warmup_s))

    # -- scaling ----------------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Deploy every deployment at time 0 and schedule the scripted events."""
        for deployed in self.deployed.values():
            self._event("deploy", deployed, detail=str(deployed.spec.replicas))
            self.builds.need(deployed.spec.image.name, deployed)
            self.scale(deployed.spec.name, deployed.spec.replicas)
        for event in self.platform.events:
            Wake(self.env, event.at_s, event, self._scripted)
        self.failures.start()
        for push in self.platform.pushes:
            Wake(self.env, push.at_s, push, self._push)
        self.releases.start()

    def activate(self, deployed: Deployed) -> None:
        """A request reached a deployment scaled to zero: it gets one replica (event ``activate``)."""
        if deployed.desired == 0:
            self.scale(deployed.spec.name, 1, kind="activate")

    def _push(self, event: simpy.Event) -> None:
        """A push of an image not built yet happens once it is built."""
        push: Push = event.value  # type: ignore[assignment]
        self.builds.need(push.image, None, partial(self.distributor.push, push))

    def _scripted(self, event: simpy.Event) -> None:
        scale: ScaleEvent = event.value  # type: ignore[assignment]
        self.scale(scale.deployment, scale.replicas)

    def scale(self, name: str, replicas: int, kind: str = "scale") -> None:
        """Set the desired count of deployment ``name``: create or remove replicas to reach it (event ``kind``)."""
        deployed = self.deployed[name]
        deployed.desired = replicas
        self._event(kind, deployed, detail=str(replicas))
        alive = [r for r in deployed.replicas if r.state != State.TERMINATING]
        self._fill(deployed)
        surplus = len(alive) - replicas
        if surplus > 0:
            for replica in sorted(alive, key=lambda r: (r.state, -r.number))[:surplus]:
                self._stop(replica)
            self._retry()
        self._count(deployed)

    def _fill(self, deployed: Deployed) -> None:
        """Create replicas until the deployment has its desired count (not counting those terminating)."""
        alive = sum(r.state != State.TERMINATING for r in deployed.replicas)
        for _ in range(deployed.desired - alive):
            replica = Replica(self.numbers, deployed)
            self.numbers += 1
            deployed.replicas.append(replica)
            if not self._place(replica):
                self.pending.append(replica)
                self._event("pending", deployed, replica, detail=self.fit.unfit(deployed.spec))

    # -- one replica ------------------------------------------------------------------------------------------------
    def _place(self, replica: Replica) -> bool:
        """Start the replica on the node the filter and score picks (``False``: none fits)."""
        node = self.fit.choose(replica.deployed)
        if node is None:
            return False
        replica.node = node
        self.fit.reserve(replica.deployed.spec, node, 1)
        self._launch(replica)
        return True

    def _launch(self, replica: Replica) -> None:
        """Start a replica on its node: boot if the image is there, else pull it first (once it is built)."""
        spec = replica.deployed.spec
        node = replica.node
        assert node is not None
        if self.caches[node].use(spec.image):
            self._boot(replica)
            return
        replica.state = State.PULLING
        self.builds.need(spec.image.name, replica.deployed, partial(self._fetch, replica, node))

    def _fetch(self, replica: Replica, node: str) -> None:
        """Pull the replica's image to ``node`` once it is built, unless the replica left the node meanwhile."""
        if replica.state == State.PULLING and replica.node == node:
            self.distributor.fetch(node, replica.deployed.spec.image, replica, partial(self._pulled, replica))

    def _pull_event(self, kind: str, node: str, detail: str, owner: Replica | None, source: str) -> None:
        if owner is None:
            self.events.append((self.env.now, kind, "", "", "", node, -1, detail, source))
        else:
            self._event(kind, owner.deployed, owner, node=node, detail=detail, source=source)

    def _build_event(self, kind: str, image: str, owner: Deployed | None) -> None:
        central = self.platform.registries[0].node
        if owner is None:
            self.events.append((self.env.now, kind, "", "", "", central, -1, image, ""))
        else:
            self._event(kind, owner, node=central, detail=image)

    def _pulled(self, replica: Replica) -> None:
        if replica.state == State.PULLING:
            self._boot(replica)
            self._count(replica.deployed)

    def _boot(self, replica: Replica) -> None:
        replica.state = State.STARTING
        replica.boots += 1
        self._event("starting", replica.deployed, replica)
        Wake(self.env, replica.deployed.spec.boot_s, (replica, replica.boots), self._ready)

    def _ready(self, event: simpy.Event) -> None:
        replica, boot = event.value  # type: ignore[misc]
        if replica.state != State.STARTING or replica.boots != boot:
            return  # removed, or its node failed, while starting
        replica.state = State.READY
        deployed = replica.deployed
        spec = deployed.spec
        assert replica.node is not None
        code, terms = self.servers[replica.node]
        replica.endpoint = Endpoint(spec.workers, code, terms, spec.speed_share * spec.speedup,
                                    partial(self._drained, replica), deployed.stats, deployed.fails)
        deployed.pool.add(replica.endpoint)
        self._event("ready", deployed, replica)
        self._count(deployed)

    def _stop(self, replica: Replica) -> None:
        """Remove a replica: a ready one drains first, any other goes at once."""
        deployed = replica.deployed
        if replica.state == State.READY:
            assert replica.endpoint is not None
            replica.state = State.TERMINATING
            self._event("terminating", deployed, replica)
            deployed.pool.remove(replica.endpoint)
            return
        if replica in self.pending:
            self.pending.remove(replica)
        self._release(replica)

    def _release(self, replica: Replica, kind: str = "terminated") -> None:
        deployed = replica.deployed
        if replica.node is not None:
            self.fit.reserve(deployed.spec, replica.node, -1)
        replica.state = State.TERMINATING  # no longer pulling or starting: a pull or boot under way ignores it
        deployed.replicas.remove(replica)
        self._event(kind, deployed, replica)

    def _drained(self, replica: Replica) -> None:
        """A terminating replica's last request ended: it goes, and its resources may place a pending one."""
        if replica.state != State.TERMINATING or replica not in replica.deployed.replicas:
            return  # lost with its node meanwhile
        self._release(replica)
        self._count(replica.deployed)
        self._retry()

    def _retry(self) -> None:
        """Place pending replicas, oldest first, where cores have freed up."""
        for replica in list(self.pending):
            if self._place(replica):
                self.pending.remove(replica)
                self._count(replica.deployed)

    # -- node failures ----------------------------------------------------------------------------------------------
    def _node_event(self, kind: str, node: str) -> None:
        self.events.append((self.env.now, kind, "", "", "", node, -1, "", ""))

    def _lose(self, node: str) -> None:
        """Node ``node`` failed: its replicas are lost with the requests they serve, and replaced elsewhere
        (``reschedule``) or kept to restart on the node once it is repaired."""
        for deployed in self.deployed.values():
            lost = [r for r in deployed.replicas if r.node == node]
            if not lost:
                continue
            for replica in lost:
                if replica.endpoint is not None and replica.state >= State.READY:
                    deployed.pool.fail(replica.endpoint)
                if deployed.spec.reschedule or replica.state == State.TERMINATING:
                    self._release(replica, "lost")
                else:
                    replica.state = State.PENDING
                    replica.endpoint = None
                    self._event("lost", deployed, replica)
            if deployed.spec.reschedule:
                self._fill(deployed)
            self._count(deployed)

    def _restore(self, node: str) -> None:
        """Node ``node`` was repaired (its disk kept its images): replicas bound to it restart, pending ones may fit
        again."""
        for deployed in self.deployed.values():
            for replica in deployed.replicas:
                if replica.node == node and replica.state == State.PENDING:
                    self._launch(replica)
                    self._count(deployed)
        self._retry()
