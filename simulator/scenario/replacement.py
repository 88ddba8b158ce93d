"""The ``replacement`` section of a scenario: its rules, each a :class:`~simulator.world.Problem` at the YAML path of
the offending value, and its one conversion to a :class:`simulator.lifecycle.replacement.Replacement`."""

from __future__ import annotations

from scheduler.solvers import SOLVERS
from simulator.lifecycle.replacement import Replacement
from simulator.scenario.schema import ScenarioSpec
from simulator.world import Problem, undefined


def replacement_from_spec(spec: ScenarioSpec, moving: list[int]) -> tuple[Replacement | None, list[Problem]]:
    """The scenario's :class:`Replacement` (``None``: replicas stay where the services' hosts are) and every problem
    of its section; ``moving``: the indices of the moving device groups."""
    section = spec.replacement
    if section is None:
        return None, []
    services = [service.name for service in spec.services]
    if section.service not in services:
        return None, [undefined(("replacement", "service"), section.service, "service", services)]
    problems: list[Problem] = []
    if section.solver not in SOLVERS:
        problems.append(undefined(("replacement", "solver"), section.solver, "placement solver", list(SOLVERS)))
    places = {ap.name for ap in spec.access_points} | {spec.node_location(node) for node in spec.nodes} | {
        end for link in spec.links for end in link.between}
    if section.registry is not None and section.registry not in places:
        problems.append(undefined(("replacement", "registry"), section.registry, "place (access point, node or "
                                  "link end)", sorted(places)))
    if (section.image is None) != (section.registry is None):
        problems.append(Problem(("replacement",), None, "give both image (its size) and registry (where it is "
                                                        "pulled from), or neither"))
    service = spec.services[services.index(section.service)]
    if service.state is not None:
        problems.append(Problem(("replacement", "service"), section.service, "keeps sessions (a state): its "
                                                                             "sessions migrate instead"))
    if any(deployment.service == section.service for deployment in spec.deployments):
        problems.append(Problem(("replacement", "service"), section.service, "is deployed (deployments:): its "
                                                                             "replicas are the deployment's"))
    problems += [Problem(("devices", index), group.name, f"calls the re-placed service {section.service!r}: needs "
                                                          "a mobility section (model: static for devices that stay)")
                 for index, group in enumerate(spec.devices)
                 if (group.service or services[0]) == section.service and index not in moving]
    hosts = set(service.hosts)
    problems += [Problem(("nodes", index, "speed"), None, "a node the re-placed service may use needs a speed "
                                                          "(placement times replicas by it) and no batching")
                 for index, node in enumerate(spec.nodes)
                 if (not hosts or node.name in hosts) and (node.speed is None or node.batching is not None)]
    if problems:
        return None, problems
    return Replacement(section.service, section.replicas, section.every, section.solver, section.image or 0.0,
                       section.registry, section.boot), []
