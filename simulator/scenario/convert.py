"""A validated scenario schema to the simulator's :class:`simulator.world.World` (SI value objects, one to one) and
its ``placement`` section to :class:`simulator.placement_bridge.PlacementSettings`; used once, by the loader."""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from offload.errors import MecsimError, ParameterError
from offload.profiles import Device
from offload.units import GIB_BITS
from scheduler.problem import Weights
from scheduler.solvers import Budget
from scheduler.topology import Prices, Resources
from simulator.distributions import as_distribution
from simulator.placement_bridge import NodeOffer, PlacementSettings, ReplicaSpec
from simulator.rate_profiles import Modulated
from simulator.scenario.distributions import build as size
from simulator.scenario.errors import YamlPath
from simulator.scenario.platform import deployed_hosts
from simulator.scenario.schema import (
    AccessPointSpec,
    DeviceGroupSpec,
    LinkSpec,
    NodeSpec,
    PlacementSpec,
    PolicyEntry,
    ProfileSpec,
    ScenarioSpec,
    ThroughputPoint,
)
from simulator.workloads import Workload
from simulator.world import (
    CLOUD_WORKERS,
    AccessPoint,
    BackhaulLink,
    Batching,
    DeviceGroup,
    EdgeServer,
    PolicySpec,
    Problem,
    Service,
    TaskSizes,
    ThroughputTable,
    World,
    WorldError,
)

_GB_BITS = 8e9
_T = TypeVar("_T")


def device_profile(spec: ProfileSpec) -> Device:
    """The offload model's device from a profile section."""
    return Device(speed_ops_per_s=spec.speed, compute_time_s=spec.compute_time, compute_power_w=spec.compute_power,
                  idle_power_w=spec.idle_power, tx_power_w=spec.tx_power, rx_power_w=spec.rx_power,
                  tail_energy_j=spec.tail_energy)


def workload(spec: DeviceGroupSpec, base_dir: Path) -> Workload:
    """The arrival process of one device of the group (its kind's :meth:`~simulator.scenario.workloads.
    WorkloadSection.build`), modulated by its ``rate_profile`` if any; trace files are relative to the scenario's
    directory."""
    base = spec.workload.build(base_dir)
    return base if spec.rate_profile is None else Modulated(base, spec.rate_profile.build())


def _table(points: list[ThroughputPoint] | None) -> ThroughputTable | None:
    if points is None:
        return None
    return ThroughputTable(tuple(p.clients for p in points), tuple(p.rate for p in points))


def access_point(spec: AccessPointSpec) -> AccessPoint:
    """A shared (or dedicated) access link."""
    return AccessPoint(spec.name, spec.uplink, math.inf if spec.downlink is None else spec.downlink,
                       latency_s=spec.latency, shared=spec.shared, uplink_table=_table(spec.uplink_table),
                       downlink_table=_table(spec.downlink_table))


def server(spec: NodeSpec, location: str) -> EdgeServer:
    """An edge or cloud server at ``location`` (:meth:`ScenarioSpec.node_location`; its own name is the World's
    default, kept as ``None``)."""
    workers = spec.workers if spec.workers is not None else (CLOUD_WORKERS if spec.tier == "cloud" else 1)
    batching = None if spec.batching is None else Batching(spec.batching.max_batch, spec.batching.t0,
                                                            spec.batching.per_item)
    return EdgeServer(spec.name, speed_ops_per_s=spec.speed, compute_time_s=spec.compute_time, workers=workers,
                      compute_power_w=spec.power, idle_power_w=spec.idle_power, batching=batching,
                      queue_capacity=spec.queue_capacity, location=None if location == spec.name else location,
                      tier=spec.tier, discipline=spec.discipline,
                      patience=None if spec.patience is None else as_distribution("patience", size(spec.patience)))


def link(spec: LinkSpec) -> BackhaulLink:
    """A backhaul or WAN link."""
    return BackhaulLink(spec.between[0], spec.between[1], math.inf if spec.bandwidth is None else spec.bandwidth,
                spec.latency, spec.distance)


def device_group(spec: DeviceGroupSpec, scenario: ScenarioSpec, task: TaskSizes | None,
                 workload: Workload) -> DeviceGroup:
    """A device group with its profile resolved and its service's task sizes (``None``: an undefined service, which
    the World refuses) and deadline."""
    profile = spec.profile if isinstance(spec.profile, ProfileSpec) else \
        next((p for p in scenario.profiles if p.name == spec.profile), None)
    if profile is None:
        raise ParameterError("profile", spec.profile, "undefined profile")
    name = spec.service or scenario.services[0].name
    access = spec.access_point or scenario.access_points[0].name  # several: refused by checks._check_devices
    service = next((s for s in scenario.services if s.name == name), None)
    if service is None or task is None:
        return DeviceGroup(spec.name, spec.count, device_profile(profile), workload, access, service=name)
    deadline_s = math.inf if service.deadline is None else service.deadline
    priority = spec.priority if spec.priority is not None else service.priority or 0
    return DeviceGroup(spec.name, spec.count, device_profile(profile), workload, access, task,
                       service=name, deadline_s=deadline_s, local_queue_capacity=spec.local_queue_capacity,
                       drop_expired=spec.drop_expired, priority=priority)


def placement_settings(spec: PlacementSpec) -> PlacementSettings:
    """The ``placement`` section in SI (memory prices per GiB-hour, the traffic price per GB and link)."""
    services = {name: ReplicaSpec(Resources(s.cpu, s.gpu, s.memory), s.min_replicas, s.max_replicas)
                for name, s in spec.services.items()}
    nodes = {name: NodeOffer(n.cpu, n.gpu, n.memory, n.gpu_speed or 0.0,
                             Prices(n.cpu_price, n.gpu_price, n.memory_price / GIB_BITS))
             for name, n in spec.nodes.items()}
    objective = spec.objective
    return PlacementSettings(spec.policy, Budget(spec.evaluations, spec.milp_nodes, spec.time_limit), spec.seed,
                             Weights(objective.latency, objective.compute, objective.traffic),
                             spec.target_utilisation, spec.traffic_price / _GB_BITS, services, nodes,
                             spec.link_utilisation)


def policy(entry: PolicyEntry) -> PolicySpec:
    """A policy list entry."""
    return PolicySpec(entry.reference, dict(entry.params), entry.label)


#: Unit suffixes of the simulator's SI names; without it, a name is the key a scenario file writes.
_UNIT_SUFFIXES = ("_per_s", "_ops", "_bits", "_bps", "_s", "_w", "_j", "_m")


def _problem(path: YamlPath, section: object, error: Exception) -> Problem:
    """``error`` raised building the element at ``path`` from the schema ``section``, as a problem at the key the
    file writes: the error's SI name without its unit suffix when that is one of the section's keys (``jitter_s``
    -> ``jitter``), with the value the section holds there when it is text (a file name as written)."""
    keys = _keys(section)
    if not isinstance(error, ParameterError):
        rule = f"cannot read: {error.strerror or error}" if isinstance(error, OSError) else str(error)
        return Problem(path, None, rule)
    first = error.name.partition(".")[0]
    key = next((first.removesuffix(suffix) for suffix in _UNIT_SUFFIXES
                if first.removesuffix(suffix) in keys), first)
    if key in keys:
        written = getattr(section, key)
        return Problem((*path, key), written if isinstance(written, str) else error.value, error.rule)
    return Problem(path, None, f"{error.name}: {error.value!r}: {error.rule}")


class _Builder:
    """Builds the World's elements one by one, collecting every element's problem at its YAML path."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def __call__(self, path: YamlPath, section: object, make: Callable[..., _T], *args: Any) -> _T | None:
        """``make(*args)``, or None when it fails (the problem is recorded)."""
        try:
            return make(*args)
        except (MecsimError, OSError, ValueError, OverflowError) as error:
            self.problems.append(_problem(path, section, error))
            return None


def _keys(section: object) -> Collection[str]:
    """The keys of a schema section (none for a plain number)."""
    return type(section).model_fields.keys() if isinstance(section, BaseModel) else ()


def world_from_spec(spec: ScenarioSpec, source: str) -> World:
    """The simulator world of a checked scenario read from ``source`` (trace files are relative to its directory).

    Raises
    ------
    WorldError
        Every problem of an element (a value only the simulator checks, a trace file that cannot be read) or of
        the cross-references (:func:`simulator.world.world_problems`), at YAML paths.
    """
    base_dir = Path(source).parent if Path(source).is_file() else Path.cwd()
    deployed = deployed_hosts(spec)
    build = _Builder()
    tasks: dict[str, TaskSizes] = {}
    for index, service in enumerate(spec.services):
        work, data_in, data_out = (build(("services", index, key), getattr(service, key), size,
                                         getattr(service, key)) for key in ("work", "input", "output"))
        if work is not None and data_in is not None and data_out is not None:
            tasks[service.name] = TaskSizes(work, data_in, data_out)
    defined = {service.name for service in spec.services}
    groups = []
    for index, group in enumerate(spec.devices):
        arrivals = build(("devices", index, "workload"), group.workload, workload, group, base_dir)
        name = group.service or spec.services[0].name
        if arrivals is not None and (name in tasks or name not in defined):  # an undefined one: the World says so
            groups.append(build(("devices", index), group, device_group, group, spec, tasks.get(name),
                                arrivals))
    access_points = [build(("access_points", i), ap, access_point, ap)
                     for i, ap in enumerate(spec.access_points)]
    servers = [build(("nodes", i), node, server, node, spec.node_location(node)) for i, node in enumerate(spec.nodes)]
    links = [build(("links", i), item, link, item) for i, item in enumerate(spec.links)]
    if build.problems:
        raise WorldError(build.problems)
    return World(
        device_groups=tuple(group for group in groups if group is not None),
        access_points=tuple(ap for ap in access_points if ap is not None),
        servers=tuple(node for node in servers if node is not None),
        links=tuple(item for item in links if item is not None),
        services=tuple(Service(s.name, deployed.get(s.name, tuple(s.hosts))) for s in spec.services),
        policies=tuple(policy(entry) for entry in spec.policies),
        sample_interval_s=spec.run.sample_interval,
    )
