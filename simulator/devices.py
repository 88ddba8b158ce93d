"""Run-time state of device groups, devices and their routes to servers, built from a World.

Each group owns a random stream (arrivals and task sizes of all its devices, so every policy sees the same tasks),
its access point's uplink/downlink channels and one :class:`Route` per reachable server hosting its service,
nearest first (the order of the policies' candidates); each device owns a one-worker CPU pool. For a group with
``routes`` the policy only decides local or remote (among the same candidates); which routed server serves an
offloaded task is drawn from a second stream of the group (child 0 of its seed sequence), one uniform per task
whatever the policy, so routing is common to all policies.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import simpy

from offload.formulas import round_trip_s
from simulator.battery import BatteryState
from simulator.links import DeviceLink
from simulator.network import Channel, SharedChannel, make_channel
from simulator.policies import Candidate, Observation
from simulator.result import DropReason
from simulator.servers import WorkerPool
from simulator.topology import shortest_paths
from simulator.workloads import ArrivalBlock
from simulator.world import AccessPoint, BackhaulLink, DeviceGroup, EdgeServer, World

Step = tuple[float, Channel | None]
#: The two directions (forward a→b, backward b→a) of every backhaul link, ``None`` for an unlimited link.
LinkChannels = list[tuple[SharedChannel | None, SharedChannel | None]]


@dataclass(frozen=True, slots=True)
class Route:
    """The path to one server: steps after the device's radio uplink and before its radio downlink.

    A step is ``(delay_s, None)`` (a fixed delay) or ``(0, channel)`` (a shared backhaul transfer). When a
    direction has no channel its total delay is ``*_fixed_s`` (one timeout), else ``None``.
    """

    server: EdgeServer
    pool: WorkerPool
    target_code: int
    up_steps: tuple[Step, ...]
    down_steps: tuple[Step, ...]
    up_fixed_s: float | None
    down_fixed_s: float | None


class Routes:
    """The routes of one access point to the servers hosting one service, nearest first, built on first use
    (a large topology has many candidates, of which a policy usually uses one or two)."""

    __slots__ = ("_build", "_routes", "hosts", "pools")

    def __init__(self, hosts: list[EdgeServer], pools: list[WorkerPool], build: Callable[[int], Route]) -> None:
        self.hosts = hosts
        self.pools = pools
        self._build = build
        self._routes: list[Route | None] = [None] * len(hosts)

    def __len__(self) -> int:
        return len(self.hosts)

    def __getitem__(self, index: int) -> Route:
        route = self._routes[index]
        if route is None:
            route = self._routes[index] = self._build(index)
        return route


class GroupState:
    """A device group at run time: its random stream of task blocks, access channels, routes and devices."""

    __slots__ = ("blocks", "candidates", "devices", "down", "expire_after_s", "first_index", "group", "mobile", "rng",
                 "route_cdf", "route_index", "route_rng", "routes", "up")

    def __init__(self, group: DeviceGroup, first_index: int, rng: np.random.Generator, horizon_s: float,
                 up: Channel, down: Channel, routes: Routes, candidates: tuple[Candidate, ...]) -> None:
        self.group = group
        self.first_index = first_index
        self.rng = rng
        self.blocks: Iterator[ArrivalBlock] = group.workload.blocks(rng, group.count, horizon_s)
        self.expire_after_s = group.deadline_s if group.drop_expired else math.inf
        self.up = up
        self.down = down
        self.routes = routes
        self.candidates = candidates
        self.devices: npt.NDArray[np.object_] = np.empty(group.count, dtype=object)
        self.route_cdf: npt.NDArray[np.float64] | None = None
        self.route_index: npt.NDArray[np.intp] | None = None
        self.route_rng: np.random.Generator | None = None
        #: its devices move (:mod:`simulator.mobility`): each device decides at arrival on its own link
        self.mobile = False

    def draw_routes(self, n: int) -> npt.NDArray[np.intp] | None:
        """Candidate index of each of ``n`` tasks by the group's route shares (``None`` without routes)."""
        if self.route_cdf is None or self.route_index is None or self.route_rng is None:
            return None
        u = self.route_rng.random(n)
        return self.route_index[np.minimum(self.route_cdf.searchsorted(u, side="right"), self.route_cdf.size - 1)]


class DeviceState:
    """One device: its CPU (a one-worker pool), its battery if its group has one and, shared with its group,
    channels and routes (a moving device has links of its own and the routes of the cell it is attached to, see
    :meth:`Access.rebind`)."""

    __slots__ = ("access_point", "battery", "candidates", "cpu", "down", "group", "index", "name", "routes", "up")

    up: Channel | DeviceLink
    down: Channel | DeviceLink

    def __init__(self, index: int, name: str, state: GroupState, cpu: WorkerPool,
                 battery: BatteryState | None = None) -> None:
        self.index = index
        self.battery = battery
        self.name = name
        self.group = state.group
        self.cpu = cpu
        self.up = state.up
        self.down = state.down
        self.routes = state.routes
        self.candidates = state.candidates
        self.access_point = state.group.access_point


def observation(dev: DeviceState) -> Observation:
    """What ``dev`` observes now, per candidate: the rates a new transfer would get on its access point and the
    tasks in system at the server."""
    k = len(dev.routes)
    return Observation(np.full(k, dev.up.rate_if_joined_bps()), np.full(k, dev.down.rate_if_joined_bps()),
                       np.array([pool.in_system for pool in dev.routes.pools], dtype=np.float64))


def path_steps(first_s: float, hops: Sequence[tuple[float, Channel | None]], last_s: float) -> tuple[Step, ...]:
    """The steps of a path: consecutive delays merged, channels kept in order."""
    steps: list[Step] = []
    delay = first_s
    for hop_delay, channel in hops:
        if channel is not None:
            if delay > 0:
                steps.append((delay, None))
            steps.append((0.0, channel))
            delay = 0.0
        delay += hop_delay
    delay += last_s
    if delay > 0:
        steps.append((delay, None))
    return tuple(steps)


def link_hops(links: Sequence[BackhaulLink], channels: LinkChannels,
              path: Sequence[tuple[int, bool]]) -> list[tuple[float, Channel | None]]:
    """The hops along ``path`` (``(index in links, forward)`` pairs, as :func:`simulator.topology.shortest_paths`
    gives them): each link's one-way delay and its channel in the direction travelled (``None``: unlimited)."""
    return [(links[i].one_way_s, channels[i][0 if forward else 1]) for i, forward in path]


def _fixed(steps: tuple[Step, ...]) -> float | None:
    return None if any(channel is not None for _, channel in steps) else sum(d for d, _ in steps)


def _nominal_rate_bps(capacity_bps: float, ap: AccessPoint, downlink: bool) -> float:
    table = ap.downlink_table if downlink else ap.uplink_table
    return table.per_client_bps[0] if table is not None else capacity_bps


def forward_route(world: World, channels: LinkChannels, pools: Sequence[WorkerPool], source: str, server: int,
                  access_point: str) -> Route:
    """The route on from topology node ``source`` to server ``server`` (a request passed on by a router), and
    back from there to ``access_point`` as any reply, over the fastest paths."""
    links = world.links
    target = world.servers[server]
    onward = shortest_paths([source], [(k.a, k.b, k.one_way_s) for k in links])[1][source][target.node]
    home = world.paths()[access_point][target.node]
    up = path_steps(0.0, link_hops(links, channels, onward), 0.0)
    down = path_steps(0.0, [(links[i].one_way_s, channels[i][1 if fwd else 0]) for i, fwd in reversed(home)],
                      next(a.latency_s for a in world.access_points if a.name == access_point))
    return Route(target, pools[server], server + 1, up, down, _fixed(up), _fixed(down))


def link_channels(world: World, env: simpy.Environment) -> LinkChannels:
    """A shared channel per direction of every backhaul link of limited bandwidth."""
    return [(SharedChannel(env, k.bandwidth_bps), SharedChannel(env, k.bandwidth_bps))
            if k.bandwidth_bps != math.inf else (None, None) for k in world.links]


class Access:
    """What each access point offers a device group: its radio channels, and per (access point, service) the
    routes to the reachable hosts and the policies' candidates, nearest first (built on first use)."""

    def __init__(self, world: World, env: simpy.Environment, pools: list[WorkerPool], channels: LinkChannels,
                 service_pools: Mapping[tuple[str, str], WorkerPool]) -> None:
        self.world = world
        self.pools = pools
        self.channels = channels
        self.endpoints = service_pools
        self.aps = {a.name: a for a in world.access_points}
        self.radios: dict[str, tuple[Channel, Channel]] = {
            a.name: (make_channel(env, a.uplink_bps, shared=a.shared, table=a.uplink_table),
                     make_channel(env, a.downlink_bps, shared=a.shared, table=a.downlink_table))
            for a in world.access_points}
        self.server_index = {s.name: i for i, s in enumerate(world.servers)}
        self.delays = world.delays_s()
        self._tables: dict[tuple[str, str], tuple[Routes, tuple[Candidate, ...]]] = {}
        self._subsets: dict[tuple[str, str, frozenset[str]], tuple[Routes, tuple[Candidate, ...]]] = {}

    def _route_builder(self, ap: AccessPoint, hosts: list[EdgeServer], service: str) -> Callable[[int], Route]:
        links, channels, paths = self.world.links, self.channels, self.world.paths()

        def build(index: int) -> Route:
            server = hosts[index]
            path = paths[ap.name][server.node]
            down_hops = [(links[i].one_way_s, channels[i][1 if fwd else 0]) for i, fwd in reversed(path)]
            up = path_steps(ap.latency_s, link_hops(links, channels, path), 0.0)
            down = path_steps(0.0, down_hops, ap.latency_s)
            k = self.server_index[server.name]
            return Route(server, self.endpoints.get((service, server.name), self.pools[k]), k + 1, up, down, _fixed(up),
                         _fixed(down))
        return build

    def table(self, access_point: str, service: str) -> tuple[Routes, tuple[Candidate, ...]]:
        """The routes and candidates of ``service`` from ``access_point``."""
        key = (access_point, service)
        if key not in self._tables:
            ap = self.aps[access_point]
            delays = self.delays
            hosts = self.world.hosts_reachable_from(access_point, service, delays)
            candidates = tuple(
                Candidate(s.name, s.tier, _nominal_rate_bps(ap.uplink_bps, ap, False),
                          _nominal_rate_bps(ap.downlink_bps, ap, True),
                          float(round_trip_s(ap.latency_s + delays[ap.name][s.node])), s.compute_power_w, s.workers,
                          s.profile)
                for s in hosts)
            routes = Routes(hosts, [self.endpoints.get((service, s.name), self.pools[self.server_index[s.name]])
                                    for s in hosts], self._route_builder(ap, hosts, service))
            self._tables[key] = (routes, candidates)
        return self._tables[key]

    def restricted(self, access_point: str, service: str, servers: frozenset[str]
                   ) -> tuple[Routes, tuple[Candidate, ...]]:
        """The routes and candidates of ``service`` from ``access_point`` to the hosts named in ``servers`` only,
        nearest first (all of them when it reaches none of those)."""
        key = (access_point, service, servers)
        if key not in self._subsets:
            routes, candidates = self.table(access_point, service)
            keep = [k for k, host in enumerate(routes.hosts) if host.name in servers]
            self._subsets[key] = (routes, candidates) if not keep else (
                Routes([routes.hosts[k] for k in keep], [routes.pools[k] for k in keep], lambda i: routes[keep[i]]),
                tuple(candidates[k] for k in keep))
        return self._subsets[key]

    def rebind(self, device: DeviceState, access_point: str) -> None:
        """Attach a moving device (its links are :class:`~simulator.links.DeviceLink`) to ``access_point``."""
        device.routes, device.candidates = self.table(access_point, device.group.service)
        device.access_point = access_point
        up, down = self.radios[access_point]
        if isinstance(device.up, DeviceLink) and isinstance(device.down, DeviceLink):
            device.up.channel, device.down.channel = up, down


def build_devices(world: World, env: simpy.Environment, pools: list[WorkerPool],
                  streams: list[np.random.SeedSequence], horizon_s: float, *, channels: LinkChannels,
                  on_served: Callable[[Any], None], on_dropped: Callable[[Any, DropReason], None],
                  service_pools: Mapping[tuple[str, str], WorkerPool] | None = None,
                  harvest_threshold_j: Callable[[DeviceGroup], float] | None = None
                  ) -> tuple[list[GroupState], Access]:
    """Groups in world order, each with its own stream ``streams[k]`` and devices named ``group/i``, and the
    :class:`Access` they were built from; a route of a service to a server in ``service_pools`` (keyed by service
    and server) leads to that pool (the endpoint of the deployment whose domain holds the server) instead of the
    server's own. Device ``i`` of a group with a battery harvests from child
    ``(1, i)`` of the group's stream, below ``harvest_threshold_j(group)`` (default: always)."""
    access = Access(world, env, pools, channels, service_pools or {})
    groups: list[GroupState] = []
    first = 0
    for group, stream in zip(world.device_groups, streams, strict=True):
        routes, candidates = access.table(group.access_point, group.service)
        up_channel, down_channel = access.radios[group.access_point]
        state = GroupState(group, first, np.random.default_rng(stream), horizon_s, up_channel, down_channel, routes,
                           candidates)
        if group.routes:
            index = {s.name: k for k, s in enumerate(routes.hosts)}
            state.route_index = np.array([index[server] for server, _ in group.routes], dtype=np.intp)
            state.route_cdf = np.cumsum([share for _, share in group.routes])
            state.route_cdf /= state.route_cdf[-1]
            state.route_rng = np.random.default_rng(np.random.SeedSequence(
                stream.entropy, spawn_key=(*stream.spawn_key, 0), pool_size=stream.pool_size))
        threshold = math.inf if group.battery is None or harvest_threshold_j is None else harvest_threshold_j(group)
        for i in range(group.count):
            name = f"{group.name}/{i}"
            cpu = WorkerPool(env, name, 1, on_served=on_served, on_dropped=on_dropped,
                             capacity=group.local_queue_capacity, full_reason=DropReason.LOCAL_QUEUE_FULL)
            battery = None if group.battery is None else BatteryState(group.battery, np.random.default_rng(
                np.random.SeedSequence(stream.entropy, spawn_key=(*stream.spawn_key, 1, i),
                                       pool_size=stream.pool_size)), threshold)
            state.devices[i] = DeviceState(first + i, name, state, cpu, battery)
        groups.append(state)
        first += group.count
    return groups, access
