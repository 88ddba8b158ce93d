"""Rules that relate several parts of a scenario: unique names, references to defined things, reachability.

Each check returns problems with the YAML path of the offending value, so the loader can point at its line.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from simulator.scenario.errors import YamlPath
from simulator.scenario.schema import ScenarioSpec

#: (path, value, rule) before a file and line are attached; a value of ``None`` is left out of the message.
Problem = tuple[YamlPath, object, str]


def _duplicates(section: str, names: Sequence[str | None], key: str = "name") -> Iterable[Problem]:
    first: dict[str, int] = {}
    for index, name in enumerate(names):
        if name is None:
            continue
        if name in first:
            yield (section, index, key), name, f"duplicate name (also {section}[{first[name]}])"
        else:
            first[name] = index


def undefined(path: YamlPath, name: str, kind: str, valid: Sequence[str]) -> Problem:
    """A reference to something not defined, with the closest defined name and the full list."""
    close = difflib.get_close_matches(name, list(valid), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    listing = ", ".join(valid) if valid else "none defined"
    return path, name, f"undefined {kind}{hint} (defined: {listing})"


def check_references(spec: ScenarioSpec) -> list[Problem]:
    """Every cross-part problem of ``spec``."""
    problems: list[Problem] = []
    access_points = [ap.name for ap in spec.access_points]
    nodes = [node.name for node in spec.nodes]
    for section, names in (("services", [s.name for s in spec.services]), ("profiles", [p.name for p in spec.profiles]),
                           ("access_points", access_points), ("nodes", nodes),
                           ("devices", [group.name for group in spec.devices])):
        problems.extend(_duplicates(section, names))
    problems.extend(_duplicates("policies", [p.label or p.name for p in spec.policies],
                                key="label"))
    taken = set(access_points)
    for section, names in (("nodes", nodes), ("switches", spec.switches)):
        for index, name in enumerate(names):
            path: YamlPath = (section, index, "name") if section == "nodes" else (section, index)
            if name in taken:
                problems.append((path, name, "is already the name of an access point, node or switch"))
            taken.add(name)
    if spec.run.warmup >= spec.run.duration:
        rule = f"must be shorter than run.duration ({spec.run.duration:g} s)"
        problems.append((("run", "warmup"), spec.run.warmup, rule))
    problems.extend(_check_profiles(spec))
    problems.extend(_check_devices(spec))
    problems.extend(_check_topology(spec))
    problems.extend(_check_policies(spec))
    problems.extend(_check_placement(spec))
    return problems


def _check_placement(spec: ScenarioSpec) -> Iterable[Problem]:
    """Names in the ``placement`` section, its solver, and what placing needs from the nodes."""
    from scheduler.solvers import SOLVERS

    placement = spec.placement
    if placement is None:
        return
    if placement.policy not in SOLVERS:
        yield undefined(("placement", "policy"), placement.policy, "placement solver", list(SOLVERS))
    services = [service.name for service in spec.services]
    nodes = [node.name for node in spec.nodes]
    for name, service in placement.services.items():
        if name not in services:
            yield undefined(("placement", "services", name), name, "service", services)
        if service.min_replicas > service.max_replicas:
            yield (("placement", "services", name, "min_replicas"), service.min_replicas,
                   f"must be <= max_replicas ({service.max_replicas})")
    for name in placement.nodes:
        if name not in nodes:
            yield undefined(("placement", "nodes", name), name, "node", nodes)
    if not nodes:
        yield ("placement",), None, "needs nodes to place replicas on"
    for index, node in enumerate(spec.nodes):
        if node.speed is None or node.batching is not None:
            yield (("nodes", index), None,
                   "placement needs a speed on every node (a replica runs at cpu × speed + gpu × gpu_speed)")


def _check_policies(spec: ScenarioSpec) -> Iterable[Problem]:
    """Registry names and parameters, checked by instantiating each policy once."""
    from offload.errors import MecsimError
    from simulator.policies import POLICIES, make_policy
    from simulator.scenario.convert import policy as policy_spec

    for index, policy in enumerate(spec.policies):
        if policy.name not in POLICIES:
            yield undefined(("policies", index, "name"), policy.name, "policy", sorted(POLICIES))
            continue
        try:
            make_policy(policy_spec(policy))
        except MecsimError as error:
            rule = getattr(error, "rule", str(error))
            yield ("policies", index, "params"), None, f"invalid for policy {policy.name!r}: {rule}"


def _check_profiles(spec: ScenarioSpec) -> Iterable[Problem]:
    for index, profile in enumerate(spec.profiles):
        if profile.name is None:
            yield ("profiles", index), None, "needs a name"
        if profile.speed is None and profile.compute_time is None:
            yield ("profiles", index), None, "give a speed or a measured compute_time"
    for index, group in enumerate(spec.devices):
        inline = group.profile
        if not isinstance(inline, str) and inline.speed is None and inline.compute_time is None:
            yield ("devices", index, "profile"), None, "give a speed or a measured compute_time"
    for index, node in enumerate(spec.nodes):
        if node.speed is None and node.compute_time is None and node.batching is None:
            yield ("nodes", index), None, "give a speed, a measured compute_time or batching"


def _check_devices(spec: ScenarioSpec) -> Iterable[Problem]:
    services = [service.name for service in spec.services]
    profiles = [profile.name for profile in spec.profiles if profile.name is not None]
    access_points = [ap.name for ap in spec.access_points]
    for index, group in enumerate(spec.devices):
        if group.access_point not in access_points:
            yield undefined(("devices", index, "access_point"), group.access_point, "access point", access_points)
        if isinstance(group.profile, str) and group.profile not in profiles:
            yield undefined(("devices", index, "profile"), group.profile, "profile", profiles)
        if group.service is None and len(services) > 1:
            yield ("devices", index), None, f"needs a service: several are defined ({', '.join(services)})"
        elif group.service is not None and group.service not in services:
            yield undefined(("devices", index, "service"), group.service, "service", services)


def _check_tables(spec: ScenarioSpec) -> Iterable[Problem]:
    for index, ap in enumerate(spec.access_points):
        for key in ("uplink_table", "downlink_table"):
            points = getattr(ap, key) or []
            for row in range(1, len(points)):
                if points[row].clients <= points[row - 1].clients:
                    yield (("access_points", index, key, row, "clients"), points[row].clients,
                           f"must be greater than the previous row's clients ({points[row - 1].clients})")


def _check_topology(spec: ScenarioSpec) -> Iterable[Problem]:
    yield from _check_tables(spec)
    access_points = [ap.name for ap in spec.access_points]
    nodes = [node.name for node in spec.nodes]
    places = access_points + list(spec.switches)
    for index, node in enumerate(spec.nodes):
        if node.location is not None and node.location not in places:
            yield undefined(("nodes", index, "location"), node.location, "access point or switch", places)
    for s_index, service in enumerate(spec.services):
        for h_index, host in enumerate(service.hosts):
            if host not in nodes:
                yield undefined(("services", s_index, "hosts", h_index), host, "node", nodes)
    endpoints = places + nodes
    neighbours: dict[str, set[str]] = {name: set() for name in endpoints}
    for index, link in enumerate(spec.links):
        for end, name in enumerate(link.between):
            if name not in neighbours:
                yield undefined(("links", index, "between", end), name, "access point, node or switch", endpoints)
        if link.between[0] == link.between[1]:
            yield ("links", index, "between"), link.between[0], "a link needs two different ends"
        elif all(name in neighbours for name in link.between):
            neighbours[link.between[0]].add(link.between[1])
            neighbours[link.between[1]].add(link.between[0])
    if spec.nodes:
        yield from _check_reachable(spec, neighbours)


def _check_reachable(spec: ScenarioSpec, neighbours: dict[str, set[str]]) -> Iterable[Problem]:
    where = {node.name: node.location or node.name for node in spec.nodes}
    for index, group in enumerate(spec.devices):
        service = next((s for s in spec.services if s.name == (group.service or spec.services[0].name)), None)
        if service is None or group.access_point not in neighbours:
            continue
        hosts = [host for host in (service.hosts or list(where)) if host in where]
        reachable = _component(group.access_point, neighbours)
        if hosts and not any(where[host] in reachable for host in hosts):
            yield (("devices", index, "access_point"), group.access_point,
                   f"cannot reach any node hosting service {service.name!r} ({', '.join(hosts)}); add a link")


def _component(start: str, neighbours: dict[str, set[str]]) -> set[str]:
    seen, frontier = {start}, [start]
    while frontier:
        for nxt in neighbours.get(frontier.pop(), set()) - seen:
            seen.add(nxt)
            frontier.append(nxt)
    return seen
