"""The ``migration`` section of a scenario and the services' ``state``: their rules, each a
:class:`~simulator.world.Problem` at the YAML path of the offending value, and their one conversion to a
:class:`simulator.mobility.migration.Migration`."""

from __future__ import annotations

from collections.abc import Iterator

from offload.errors import MecsimError
from simulator.mobility.migration import MIGRATION_POLICIES, Migration, migration_policy, policy_parameters
from simulator.scenario.schema import ScenarioSpec
from simulator.world import Path, Problem, undefined

#: YAML key of each policy parameter (a parameter ``horizon_s`` is written ``horizon``, in human units).
_KEYS = {"horizon_s": "horizon"}


def policy_labels(spec: ScenarioSpec) -> list[str]:
    """The labels of the scenario's offload policies (a label, else the policy's name)."""
    return [entry.label or entry.reference for entry in spec.policies]


def label_problems(where: Path, labels: list[str] | None, spec: ScenarioSpec) -> Iterator[Problem]:
    """A problem for every label in ``labels`` that names none of the scenario's offload policies."""
    known = policy_labels(spec)
    for index, label in enumerate(labels or []):
        if label not in known:
            yield undefined((*where, "policies", index), label, "policy label", known)


def migration_from_spec(spec: ScenarioSpec, moving: list[int]) -> tuple[Migration | None, list[Problem]]:
    """The scenario's :class:`Migration` (``None``: no session migrates) and every problem of its sections;
    ``moving``: the indices of the moving device groups."""
    stateful = {service.name: index for index, service in enumerate(spec.services) if service.state is not None}
    section = spec.migration
    if section is None:
        return None, [Problem(("services", index, "state"), None, "needs a top-level migration section (policy: "
                              f"{', '.join(MIGRATION_POLICIES)})") for index in stateful.values()]
    used = {spec.devices[index].service or spec.services[0].name for index in moving}
    problems: list[Problem] = []
    if not used & set(stateful):
        problems.append(Problem(("migration",), None, "no moving device group uses a service with a state (give "
                                                      "its service a state size)"))
    problems += label_problems(("migration",), section.policies, spec)
    deployed = {deployment.service for deployment in spec.deployments}
    problems += [Problem(("services", index, "state"), None, "a deployed service is routed by its deployment: its "
                                                             "sessions cannot be pinned to a server")
                 for name, index in stateful.items() if name in deployed]
    if section.policy not in MIGRATION_POLICIES:
        problems.append(undefined(("migration", "policy"), section.policy, "migration policy",
                                  list(MIGRATION_POLICIES)))
        return None, problems
    takes = [_KEYS[name] for name in policy_parameters(section.policy)]
    given = {key for key in _KEYS.values() if getattr(section, key) is not None}
    problems += [Problem(("migration", key), None, f"is not a parameter of policy {section.policy!r} (it takes "
                                                   f"{', '.join(takes) or 'none'})")
                 for key in sorted(given - set(takes))]
    problems += [Problem(("migration",), None, f"policy {section.policy!r} needs {key}")
                 for key in takes if key not in given]
    if problems:
        return None, problems
    try:
        policy = migration_policy(section.policy, **{name: getattr(section, key) for name, key in _KEYS.items()
                                                     if key in takes})
    except MecsimError as error:
        return None, [Problem(("migration",), None, str(error))]
    states = {service.name: service.state for service in spec.services if service.state is not None}
    return Migration(states, policy, section.downtime, tuple(section.policies or ())), []
