"""Rules of a scenario file that its World does not see: profiles, switches, link ends, the run window, policies
and the ``placement`` section; and the tiers the policies need (:func:`tier_problems`, on the built World).

The cross references the World holds (device groups to access points and services, service hosts, unique names,
reachability) are checked once, by :func:`simulator.world.world_problems`, when the loader builds the World.
Each check returns problems with the YAML path of the offending value, so the loader can point at its line.
"""

from __future__ import annotations

from collections.abc import Iterable

from simulator.scenario.platform import platform_problems
from simulator.scenario.schema import ProfileSpec, ScenarioSpec
from simulator.scenario.workloads import TraceWorkload
from simulator.world import Problem, World, duplicates, undefined


def check_references(spec: ScenarioSpec) -> list[Problem]:
    """Every cross-part problem of ``spec``."""
    problems = list(duplicates("profiles", [p.name for p in spec.profiles if p.name is not None]))
    taken = {ap.name for ap in spec.access_points} | {node.name for node in spec.nodes}
    for index, name in enumerate(spec.switches):
        if name in taken:
            problems.append(Problem(("switches", index), name,
                                    "is already the name of an access point, node or switch"))
        taken.add(name)
    if spec.run.warmup != "auto" and spec.run.warmup >= spec.run.duration:
        rule = f"must be shorter than run.duration ({spec.run.duration:g} s)"
        problems.append(Problem(("run", "warmup"), spec.run.warmup, rule))
    if "figures" in spec.outputs.model_fields_set and spec.outputs.figures and not spec.outputs.records:
        problems.append(Problem(("outputs", "figures"), True,
                                "figures are drawn from the records: set outputs.records to true, or drop figures"))
    problems.extend(_check_profiles(spec))
    problems.extend(_check_devices(spec))
    problems.extend(_check_topology(spec))
    problems.extend(_check_policies(spec))
    problems.extend(_check_placement(spec))
    problems.extend(platform_problems(spec))
    return problems


def tier_problems(world: World) -> Iterable[Problem]:
    """A policy that sends work to one tier (``always_edge``, ``always_cloud``, ``random``: its ``required_tier``)
    needs every device group to reach a server of that tier hosting the group's service; the run would stop there.
    """
    from simulator.plugins import make_policy

    delays = world.delays_s()
    for index, spec in enumerate(world.policies):
        tier = getattr(make_policy(spec), "required_tier", None)
        for group in world.device_groups if tier is not None else ():
            if not any(server.tier == tier for server in world.reachable_hosts(group, delays)):
                yield Problem(("policies", index), spec.name, f"sends work to a {tier} server, but device group "
                                                              f"{group.name!r} reaches none hosting service "
                                                              f"{group.service!r}")
                break


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
            yield Problem(("placement", "services", name, "min_replicas"), service.min_replicas,
                          f"must be <= max_replicas ({service.max_replicas})")
    for name in placement.nodes:
        if name not in nodes:
            yield undefined(("placement", "nodes", name), name, "node", nodes)
    if not nodes:
        yield Problem(("placement",), None, "needs nodes to place replicas on")
    for index, node in enumerate(spec.nodes):
        if node.speed is None or node.batching is not None:
            yield Problem(("nodes", index), None,
                          "placement needs a speed on every node (a replica runs at cpu × speed + gpu × gpu_speed)")


def _check_policies(spec: ScenarioSpec) -> Iterable[Problem]:
    """Policy references (built-in, installed or imported, and the Policy protocol) and parameters, checked by
    instantiating each policy once."""
    from offload.errors import MecsimError
    from simulator.plugins import PolicyPluginError, UnknownPolicyError, make_policy
    from simulator.scenario.convert import policy as policy_spec

    for index, policy in enumerate(spec.policies):
        key = "name" if policy.class_ is None else "class"
        try:
            make_policy(policy_spec(policy))
        except UnknownPolicyError as error:
            yield undefined(("policies", index, key), policy.reference, "policy", error.valid)
        except PolicyPluginError as error:
            yield Problem(("policies", index, key), policy.reference, error.rule)
        except MecsimError as error:
            rule = getattr(error, "rule", str(error))
            yield Problem(("policies", index, "params"), None, f"invalid for policy {policy.reference!r}: {rule}")
        if policy.name == "lyapunov":
            yield from _check_lyapunov(spec)


def _check_lyapunov(spec: ScenarioSpec) -> Iterable[Problem]:
    """LODCO plans with a battery, a DVFS top speed, and a deadline within the battery's slot (Mao et al. 2016)."""
    profiles = {profile.name: profile for profile in spec.profiles}
    deadlines = {service.name: service.deadline for service in spec.services}
    replaced = {section.service for section in spec.replacements}
    for index, group in enumerate(spec.devices):
        profile = profiles.get(group.profile) if isinstance(group.profile, str) else group.profile
        if profile is None:
            continue
        where = ("devices", index, "profile")
        service = group.service or (spec.services[0].name if spec.services else None)
        if group.mobility is not None:
            yield Problem(("devices", index, "mobility"), None, "policy 'lyapunov' plans each task's DVFS frequency "
                          "and transmit power for a fixed link: its devices cannot move (not supported yet)")
        elif service in replaced:
            yield Problem(("devices", index, "service"), service, "policy 'lyapunov' plans each task for fixed "
                          "servers: its devices cannot use a re-placed service (not supported yet)")
        if profile.battery is None or profile.speed is None:
            yield Problem(where, None, "policy 'lyapunov' needs a battery and a speed (its top DVFS frequency)")
            continue
        deadline = deadlines.get(service) if service is not None else None
        if deadline is None or deadline > profile.battery.slot:
            yield Problem(("devices", index, "service"), service,
                          f"policy 'lyapunov' needs the service's deadline <= the battery slot "
                          f"({profile.battery.slot:g} s)")


def _check_profile(path: tuple[str | int, ...], profile: ProfileSpec) -> Iterable[Problem]:
    if profile.speed is None and profile.compute_time is None:
        yield Problem(path, None, "give a speed or a measured compute_time")
    if profile.radio is not None:
        for key in sorted({"tx_power", "rx_power", "tail_energy"} & profile.model_fields_set):
            yield Problem((*path, key), getattr(profile, key),
                          f"is set by radio {profile.radio!r} (Huang et al. 2012); give one or the other")
    battery = profile.battery
    if battery is not None and battery.initial > battery.capacity:
        yield Problem((*path, "battery", "initial"), battery.initial,
                      f"must be <= battery.capacity ({battery.capacity:g} J)")


def _check_profiles(spec: ScenarioSpec) -> Iterable[Problem]:
    for index, profile in enumerate(spec.profiles):
        if profile.name is None:
            yield Problem(("profiles", index), None, "needs a name")
        yield from _check_profile(("profiles", index), profile)
    for index, group in enumerate(spec.devices):
        if not isinstance(group.profile, str):
            yield from _check_profile(("devices", index, "profile"), group.profile)
    for index, node in enumerate(spec.nodes):
        if node.speed is None and node.compute_time is None and node.batching is None:
            yield Problem(("nodes", index), None, "give a speed, a measured compute_time or batching")


def _check_devices(spec: ScenarioSpec) -> Iterable[Problem]:
    services = [service.name for service in spec.services]
    access_points = [ap.name for ap in spec.access_points]
    profiles = [profile.name for profile in spec.profiles if profile.name is not None]
    for index, group in enumerate(spec.devices):
        if isinstance(group.profile, str) and group.profile not in profiles:
            yield undefined(("devices", index, "profile"), group.profile, "profile", profiles)
        if group.service is None and len(services) > 1:
            yield Problem(("devices", index), None, f"needs a service: several are defined ({', '.join(services)})")
        if group.access_point is None and len(access_points) > 1:
            yield Problem(("devices", index), None,
                          f"needs an access_point: several are defined ({', '.join(access_points)})")
        if group.rate_profile is not None:
            yield from group.rate_profile.problems(("devices", index, "rate_profile"))
            if isinstance(group.workload, TraceWorkload):
                yield Problem(("devices", index, "rate_profile"), None,
                              "a trace replays its recorded times: drop the rate_profile or the trace")


def _check_tables(spec: ScenarioSpec) -> Iterable[Problem]:
    for index, ap in enumerate(spec.access_points):
        for key in ("uplink_table", "downlink_table"):
            points = getattr(ap, key) or []
            for row in range(1, len(points)):
                if points[row].clients <= points[row - 1].clients:
                    yield Problem(("access_points", index, key, row, "clients"), points[row].clients,
                                  f"must be greater than the previous row's clients ({points[row - 1].clients})")


def _check_topology(spec: ScenarioSpec) -> Iterable[Problem]:
    yield from _check_tables(spec)
    places = [ap.name for ap in spec.access_points] + list(spec.switches)
    for index, node in enumerate(spec.nodes):
        if node.location is not None and node.location not in places:
            yield undefined(("nodes", index, "location"), node.location, "access point or switch", places)
    endpoints = places + [node.name for node in spec.nodes]
    for index, link in enumerate(spec.links):
        for end, name in enumerate(link.between):
            if name not in endpoints:
                yield undefined(("links", index, "between", end), name, "access point, node or switch", endpoints)
        if link.between[0] == link.between[1]:
            yield Problem(("links", index, "between"), link.between[0], "a link needs two different ends")
