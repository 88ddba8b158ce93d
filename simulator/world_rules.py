"""The cross-reference rules of a :class:`~simulator.world.World`, in one place: unique names, references to defined
access points, services and servers, and reachability of a server hosting each device group's service.

:func:`world_problems` yields every broken rule as a :class:`Problem` with the path of the offending value inside
the World (``("device_groups", 0, "access_point")``); the World's constructor raises them all as one
:class:`WorldError`, and the scenario loader maps each path back to the ``file:line`` of its YAML key.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from offload.errors import ParameterError

if TYPE_CHECKING:
    from simulator.world import World

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
