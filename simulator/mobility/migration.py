"""Sessions that follow their users: migration policies (one :class:`MigrationPolicy` protocol and one registry,
:data:`MIGRATION_POLICIES`) and the controller that carries migrations out during a run.

A moving device of a stateful service (``state_bits`` per session, :class:`Migration`) has a session at one server:
its offloaded requests go there, from whichever cell it is in (its only remote candidate). The session starts at the
nearest host of its first cell. When a handover brings the device to a cell whose nearest host is another server,
the policy decides whether the session migrates there, on the model's estimate of the migration's time,
``state_bits / path_bps + downtime_s`` (:func:`offload.migration.migration_time_s`; ``path_bps`` is the narrowest link
of the fastest path between the two servers). A migration copies the state over that path while the session keeps
serving at the old server: the copy is a transfer on the run's shared links (:mod:`simulator.backhaul`,
store-and-forward hop by hop like an image pull), so it competes with the requests and the other copies there and
takes, on idle links, ``Σ (state_bits / b_i + d_i)`` over the path's links (bandwidth ``b_i``, one-way delay
``d_i``). When the state has arrived the service stops for ``downtime_s``: requests the device sends then wait
until the session serves at the new server. Requests already sent finish where they were sent. The mobility table
counts a migration when its state has arrived, with its measured time from the decision (the copy as the links
carried it, plus the downtime); a copy still under way when the run ends is not counted. A handover during a
migration is considered when the migration ends. When the new cell cannot reach the old server (then no path joins
the two servers and no state can be copied), the session restarts at the new host after the downtime whatever the
policy (counted as a migration of the downtime alone), as does a session whose two servers share a node.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol, runtime_checkable

import simpy

from offload.errors import ParameterError
from offload.migration import migration_gain_s, migration_time_s
from offload.validate import check_non_negative, check_positive
from simulator.backhaul import send
from simulator.devices import Access, DeviceState, link_hops, path_steps
from simulator.links import DeviceLink
from simulator.mobility.registry import build
from simulator.topology import shortest_paths


@dataclass(frozen=True, slots=True)
class MigrationOption:
    """What a policy knows when a device's nearest host changes: the state to move, the bandwidth of the path's
    narrowest link, the downtime and the model's estimate of the migration's time from them, ``migration_s``, the
    round trips from the device's cell now to the session's server (``rtt_old_s``) and to the nearest host
    (``rtt_new_s``), and the device's request rate."""

    state_bits: float
    path_bps: float
    downtime_s: float
    rtt_old_s: float
    rtt_new_s: float
    rate_per_s: float

    @property
    def migration_s(self) -> float:
        """The migration's estimated cost, ``state_bits / path_bps + downtime_s`` (the run measures the actual one:
        the copy shares the links)."""
        return float(migration_time_s(self.state_bits, self.path_bps, self.downtime_s))


@runtime_checkable
class MigrationPolicy(Protocol):
    """Decides whether a session migrates to the nearest host of its device's new cell."""

    def migrate(self, option: MigrationOption) -> bool:
        """``True``: migrate now."""


class Never:
    """Sessions stay where they started (static placement)."""

    def migrate(self, option: MigrationOption) -> bool:
        """Never."""
        return False


class Follow:
    """Sessions always follow their users to the nearest host (follow-me)."""

    def migrate(self, option: MigrationOption) -> bool:
        """Always."""
        return True


@dataclass(frozen=True, slots=True)
class Threshold:
    """Migrate when the round-trip time the session's requests save over ``horizon_s``
    (:func:`offload.migration.migration_gain_s`) exceeds the migration's cost ``migration_s``."""

    horizon_s: float

    def __post_init__(self) -> None:
        check_positive("horizon_s", self.horizon_s)

    def migrate(self, option: MigrationOption) -> bool:
        """``gain_s > migration_s``."""
        gain = migration_gain_s(option.rtt_old_s, option.rtt_new_s, option.rate_per_s, self.horizon_s)
        return float(gain) > option.migration_s


MIGRATION_POLICIES: Mapping[str, Callable[..., MigrationPolicy]] = {
    "never": Never,
    "follow": Follow,
    "threshold": Threshold,
}


def migration_policy(name: str, **parameters: float) -> MigrationPolicy:
    """The policy called ``name`` built from ``parameters``; an unknown name lists the valid ones."""
    return build(MIGRATION_POLICIES, "migration.policy", "migration policy", name, **parameters)


def policy_parameters(name: str) -> tuple[str, ...]:
    """The parameters the policy ``name`` takes (all of them required), e.g. ``("horizon_s",)``."""
    return tuple(inspect.signature(MIGRATION_POLICIES[name]).parameters)


@dataclass(frozen=True, slots=True, eq=False)
class Migration:
    """Stateful services (state per session in bits, by service name), the migration policy and the downtime of a
    migration, for the offload policies labelled ``policies`` (empty: all). Give it to
    :class:`simulator.mobility.Mobility`; devices of other services keep no session."""

    state_bits: Mapping[str, float]
    policy: MigrationPolicy = field(default_factory=Never)
    downtime_s: float = 0.0
    policies: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_non_negative("downtime_s", self.downtime_s)
        object.__setattr__(self, "state_bits", dict(self.state_bits))
        object.__setattr__(self, "policies", tuple(self.policies))
        for service, bits in self.state_bits.items():
            check_non_negative(f"state_bits[{service}]", bits)
        if not isinstance(self.policy, MigrationPolicy):
            raise ParameterError("migration.policy", self.policy, "must have a migrate(option) method")

    def anchors(self, service: str) -> bool:
        """No: only moving devices keep sessions."""
        return False

    def attach(self, env: simpy.Environment, access: Access, devices: Sequence[DeviceState]) -> Sessions:
        """The sessions of one replication over the moving ``devices`` (those of stateful services keep one)."""
        return Sessions(self, env, access, [d for d in devices if self.state_bits.get(d.group.service, 0.0) > 0])


class _Session:
    __slots__ = ("group", "migrating", "server")

    def __init__(self, group: str, server: str) -> None:
        self.group = group
        self.server = server
        self.migrating = False


class Sessions:
    """The sessions of one replication: where each is, the migrations under way and their counts per group."""

    def __init__(self, spec: Migration, env: simpy.Environment, access: Access, devices: list[DeviceState]) -> None:
        self.spec = spec
        self.env = env
        self.access = access
        self.devices = devices
        world = access.world
        self._links = world.links
        self._edges = [(link.a, link.b, link.one_way_s) for link in world.links]
        self._nodes = {server.name: server.node for server in world.servers}
        self._sessions: dict[int, _Session] = {}
        self._paths: dict[str, dict[str, list[tuple[int, bool]]]] = {}
        #: per group: migrations whose state arrived, their total time and their downtime (s)
        self.counts: dict[str, list[float]] = {}

    def start(self) -> None:
        """Open every session at the nearest host of its device's cell."""
        for device in self.devices:
            routes, _ = self.access.table(device.access_point, device.group.service)
            self._sessions[device.index] = _Session(device.group.name, routes.hosts[0].name)
            self.counts.setdefault(device.group.name, [0, 0.0, 0.0])
            self._pin(device)

    def moved(self, device: DeviceState) -> None:
        """``device`` was handed over: its session may migrate (unless one is under way), and is reached from the
        new cell."""
        session = self._sessions.get(device.index)
        if session is not None:
            if not session.migrating:
                self._consider(device, session)
            self._pin(device)

    def row(self, group: str) -> dict[str, float]:
        """The group's ``migrations``, their total time ``migration_s`` and their ``migration_downtime_s`` (nothing
        for a group without sessions)."""
        if group not in self.counts:
            return {}
        migrations, total, down = self.counts[group]
        return {"migrations": int(migrations), "migration_s": total, "migration_downtime_s": down}

    def _pin(self, device: DeviceState) -> None:
        """Make the session's server the device's only remote candidate from its cell."""
        device.routes, device.candidates = self.access.restricted(device.access_point, device.group.service,
                                                                  frozenset((self._sessions[device.index].server,)))

    def _consider(self, device: DeviceState, session: _Session) -> None:
        routes, candidates = self.access.table(device.access_point, device.group.service)
        nearest = routes.hosts[0].name
        if nearest == session.server:
            return
        names = [host.name for host in routes.hosts]
        bits = self.spec.state_bits[device.group.service]
        path = self._path(session.server, nearest)
        if session.server in names:
            path_bps = min((self._links[i].bandwidth_bps for i, _ in path or ()), default=math.inf)
            option = MigrationOption(bits, path_bps, self.spec.downtime_s,
                                     candidates[names.index(session.server)].round_trip_s, candidates[0].round_trip_s,
                                     device.group.workload.mean_rate_per_s)
            if not self.spec.policy.migrate(option):
                return
        session.migrating = True
        if path:
            steps = path_steps(0.0, link_hops(self._links, self.access.channels, path), 0.0)
            send(self.env, steps, bits, partial(self._move, device, nearest, self.env.now))
        else:
            self._move(device, nearest, self.env.now)

    def _move(self, device: DeviceState, server: str, decided_s: float) -> None:
        """The state is at ``server``: the service stops for the downtime, then serves there."""
        session = self._sessions[device.index]
        counts = self.counts[session.group]
        counts[0] += 1
        counts[1] += self.env.now - decided_s + self.spec.downtime_s
        counts[2] += self.spec.downtime_s
        session.server = server
        session.migrating = False
        up = device.up
        assert isinstance(up, DeviceLink)
        up.blocked_until_s = max(up.blocked_until_s, self.env.now + self.spec.downtime_s)
        self._consider(device, session)  # the device may have moved on while the state was copied
        self._pin(device)

    def _path(self, old: str, new: str) -> list[tuple[int, bool]] | None:
        """The fastest path between two servers' nodes (empty: the same node; ``None``: no path)."""
        source = self._nodes[old]
        if source not in self._paths:
            self._paths[source] = shortest_paths([source], self._edges)[1][source]
        return self._paths[source].get(self._nodes[new])
