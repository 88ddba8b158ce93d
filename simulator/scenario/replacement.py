"""The ``replacements`` section of a scenario: its rules, each a :class:`~simulator.world.Problem` at the YAML path of
the offending value, and its one conversion to :class:`simulator.lifecycle.replacement.Replacement` objects."""

from __future__ import annotations

from collections.abc import Iterator

from scheduler.solvers import SOLVERS
from simulator.lifecycle.replacement import Replacement
from simulator.scenario.migration import label_problems
from simulator.scenario.mobility_schema import ReplacementSpec
from simulator.scenario.schema import ScenarioSpec
from simulator.world import Path, Problem, undefined


def _overlap(first: list[str] | None, second: list[str] | None) -> bool:
    """Whether two lists of policy labels (``None``: all) share a policy."""
    return first is None or second is None or bool(set(first) & set(second))


def replacements_from_spec(spec: ScenarioSpec) -> tuple[tuple[Replacement, ...], list[Problem]]:
    """The scenario's :class:`Replacement` objects and every problem of its ``replacements`` section."""
    problems: list[Problem] = []
    for index, section in enumerate(spec.replacements):
        problems += _problems(spec, index, section)
        problems += [Problem(("replacements", index), None, f"re-places service {section.service!r} for a policy "
                                                            f"replacements[{k}] re-places it for too")
                     for k, other in enumerate(spec.replacements[:index])
                     if other.service == section.service and _overlap(other.policies, section.policies)]
    if problems:
        return (), problems
    return tuple(Replacement(s.service, s.replicas, s.every, s.solver, s.image or 0.0, s.registry, s.boot,
                             tuple(s.policies or ()), s.handovers) for s in spec.replacements), []


def _problems(spec: ScenarioSpec, index: int, section: ReplacementSpec) -> Iterator[Problem]:
    where: Path = ("replacements", index)
    services = [service.name for service in spec.services]
    if section.service not in services:
        yield undefined((*where, "service"), section.service, "service", services)
        return
    if section.solver not in SOLVERS:
        yield undefined((*where, "solver"), section.solver, "placement solver", list(SOLVERS))
    places = {ap.name for ap in spec.access_points} | {spec.node_location(node) for node in spec.nodes} | {
        end for link in spec.links for end in link.between}
    if section.registry is not None and section.registry not in places:
        yield undefined((*where, "registry"), section.registry, "place (access point, node or link end)",
                        sorted(places))
    if (section.image is None) != (section.registry is None):
        yield Problem(where, None, "give both image (its size) and registry (where it is pulled from), or neither")
    yield from label_problems(where, section.policies, spec)
    service = spec.services[services.index(section.service)]
    migration = spec.migration
    if service.state is not None and migration is not None and _overlap(migration.policies, section.policies):
        yield Problem((*where, "service"), section.service, "keeps sessions (a state) that migrate for the same "
                                                            "policies: give the two sections different policies")
    if any(deployment.service == section.service for deployment in spec.deployments):
        yield Problem((*where, "service"), section.service, "is deployed (deployments:): its replicas are the "
                                                            "deployment's")
    hosts = set(service.hosts)
    for number, node in enumerate(spec.nodes):
        if (not hosts or node.name in hosts) and (node.speed is None or node.batching is not None):
            yield Problem(("nodes", number, "speed"), None, "a node the re-placed service may use needs a speed "
                                                            "(placement times replicas by it) and no batching")
