"""The simulated world as frozen value objects (SI units): devices, access points, links, servers, services, policies.

A :class:`World` is everything :func:`simulator.run.run` needs besides the horizon and the seed::

    run(world, *, duration_s, seed, replications=1, warmup_s=0.0, policies=None, streaming=False)
        -> SimulationResult

Topology: every access point, every server (at its ``location``, default its own name) and every link endpoint is
a node; offloaded data goes device → access point (shared uplink) → links (shortest path by one-way delay, each
link a shared channel) → server, and back the same way. A :class:`Cloud` is a server with many workers, usually
behind a long link. Ready-made worlds for tests and benchmarks are in :mod:`simulator.builders`.

The World's cross-reference rules live here too, in one place (:func:`world_problems`): unique names, references
to defined access points, services and servers, and reachability of a server hosting each device group's service.
Each broken rule is a :class:`Problem` with the path of the offending value inside the World
(``("device_groups", 0, "access_point")``); the constructor raises them all as one :class:`WorldError`, and the
scenario loader maps each path back to the ``file:line`` of its YAML key. The elements themselves are in
:mod:`simulator.elements` (re-exported here).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from offload.errors import ParameterError
from offload.validate import check_positive
from simulator.elements import (
    CLOUD_WORKERS,
    AccessPoint,
    BackhaulLink,
    Batching,
    Cloud,
    DeviceGroup,
    EdgeServer,
    PolicySpec,
    Service,
    TaskSizes,
    ThroughputTable,
    as_policy_spec,
)
from simulator.topology import shortest_paths

__all__ = [
    "CLOUD_WORKERS",
    "AccessPoint",
    "BackhaulLink",
    "Batching",
    "Cloud",
    "DeviceGroup",
    "EdgeServer",
    "Path",
    "PolicySpec",
    "Problem",
    "Service",
    "TaskSizes",
    "ThroughputTable",
    "World",
    "WorldError",
    "as_policy_spec",
    "duplicates",
    "format_path",
    "undefined",
    "world_problems",
]


#: A location inside a World (or a YAML document): field names and sequence indices from the root.
Path = tuple[str | int, ...]


def format_path(path: Path) -> str:
    """Render ``("devices", 2, "uplink")`` as ``devices[2].uplink`` (the root is ``<root>``)."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "<root>"


@dataclass(frozen=True, slots=True)
class Problem:
    """A broken rule: where (``path``), the offending value (``None``: left out of the message) and the rule."""

    path: Path
    value: object
    rule: str

    def __str__(self) -> str:
        value = "" if self.value is None else f"{self.value!r}: "
        return f"{format_path(self.path)}: {value}{self.rule}"


class WorldError(ParameterError):
    """Every cross-reference problem of a World, one per line; ``problems`` holds them in order."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        first = self.problems[0]
        super().__init__(format_path(first.path), first.value, first.rule)
        self.args = ("\n".join(str(problem) for problem in self.problems),)


def undefined(path: Path, name: str, kind: str, valid: Sequence[str]) -> Problem:
    """A reference to something not defined, with the closest defined name and the full list."""
    close = difflib.get_close_matches(name, list(valid), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    listing = ", ".join(valid) if valid else "none defined"
    return Problem(path, name, f"undefined {kind}{hint} (defined: {listing})")


def duplicates(section: str, names: Sequence[str], key: str = "name") -> Iterator[Problem]:
    """A problem for every name in ``names`` already given earlier in the same list."""
    first: dict[str, int] = {}
    for index, name in enumerate(names):
        if name in first:
            yield Problem((section, index, key), name, f"duplicate name (also at index {first[name]})")
        else:
            first.setdefault(name, index)


def world_problems(world: World) -> Iterator[Problem]:
    """Every cross-reference problem of ``world``, in field order."""
    access_points = [ap.name for ap in world.access_points]
    servers = [server.name for server in world.servers]
    services = [service.name for service in world.services]
    yield from duplicates("device_groups", [group.name for group in world.device_groups])
    yield from duplicates("policies", [policy.display_name for policy in world.policies], key="label")
    yield from duplicates("services", services)
    yield from duplicates("access_points", access_points)
    yield from duplicates("servers", servers)
    for index, name in enumerate(servers):
        if name in access_points:
            yield Problem(("servers", index, "name"), name, "is already the name of an access point")
    for index, group in enumerate(world.device_groups):
        if group.access_point not in access_points:
            yield undefined(("device_groups", index, "access_point"), group.access_point, "access point",
                            access_points)
        if group.service not in services:
            yield undefined(("device_groups", index, "service"), group.service, "service", services)
    for s_index, service in enumerate(world.services):
        for h_index, host in enumerate(service.hosts):
            if host not in servers:
                yield undefined(("services", s_index, "hosts", h_index), host, "node", servers)
    yield from _reachability(world, set(access_points), set(services))


def _reachability(world: World, access_points: set[str], services: set[str]) -> Iterator[Problem]:
    delays = world.delays_s()
    for index, group in enumerate(world.device_groups):
        if group.access_point not in access_points or group.service not in services:
            continue
        hosts = world.hosts(group.service)
        reachable = {server.name for server in world.reachable_hosts(group, delays)}
        if hosts and not reachable:
            names = ", ".join(server.name for server in hosts)
            yield Problem(("device_groups", index, "access_point"), group.access_point,
                          f"cannot reach any node hosting service {group.service!r} ({names}); add a link")
        for server, _ in group.routes:
            if server not in reachable:
                yield Problem(("device_groups", index, "routes"), server,
                              f"is not a reachable server hosting service {group.service!r}")


@dataclass(frozen=True, slots=True)
class World:
    """Everything that is simulated. The constructor raises every cross-reference and reachability problem at once
    (:func:`world_problems`) as a :class:`WorldError`.

    ``sample_interval_s`` sets the time-series sampling period (default: horizon / 200).
    """

    device_groups: tuple[DeviceGroup, ...]
    access_points: tuple[AccessPoint, ...]
    servers: tuple[EdgeServer, ...]
    links: tuple[BackhaulLink, ...] = ()
    services: tuple[Service, ...] = (Service("default"),)
    policies: tuple[PolicySpec, ...] = (PolicySpec("always_edge"),)
    sample_interval_s: float | None = None
    _routing: tuple[dict[str, dict[str, float]], dict[str, dict[str, list[tuple[int, bool]]]]] = field(
        init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("device_groups", "access_points", "servers", "links", "services"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "policies", tuple(as_policy_spec(p) for p in self.policies))
        if not self.device_groups:
            raise ParameterError("device_groups", (), "needs at least one device group")
        if not self.policies:
            raise ParameterError("policies", (), "needs at least one policy")
        if self.sample_interval_s is not None:
            check_positive("sample_interval_s", self.sample_interval_s)
        object.__setattr__(self, "_routing", shortest_paths(
            [a.name for a in self.access_points], [(link.a, link.b, link.one_way_s) for link in self.links]))
        problems = list(world_problems(self))
        if problems:
            raise WorldError(problems)

    def delays_s(self) -> dict[str, dict[str, float]]:
        """One-way delay (s) of the fastest path from every access point to every reachable node."""
        return self._routing[0]

    def paths(self) -> dict[str, dict[str, list[tuple[int, bool]]]]:
        """The fastest path from every access point to every reachable node as ``(index in links, forward)``."""
        return self._routing[1]

    def service(self, name: str) -> Service:
        """The service called ``name``."""
        return next(s for s in self.services if s.name == name)

    def hosts(self, service: str) -> tuple[EdgeServer, ...]:
        """Servers hosting ``service`` (every server when its host list is empty)."""
        names = self.service(service).hosts
        return tuple(s for s in self.servers if not names or s.name in names)

    def reachable_hosts(self, group: DeviceGroup, delays: Mapping[str, Mapping[str, float]]) -> list[EdgeServer]:
        """Hosts of the group's service reachable from its access point, nearest first (stable by name order)."""
        return self.hosts_reachable_from(group.access_point, group.service, delays)

    def hosts_reachable_from(self, access_point: str, service: str, delays: Mapping[str, Mapping[str, float]]
                             ) -> list[EdgeServer]:
        """Hosts of ``service`` reachable from ``access_point``, nearest first (stable by name order)."""
        reach = delays[access_point]
        hosts = [s for s in self.hosts(service) if s.node in reach]
        return sorted(hosts, key=lambda s: reach[s.node])

    @property
    def n_devices(self) -> int:
        """Total number of devices."""
        return sum(g.count for g in self.device_groups)
