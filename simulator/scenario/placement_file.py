"""Placement problem files (YAML): a topology, services, users and objective weights, in human units.

Format (every quantity accepts units, plain numbers are SI)::

    name: place-small
    description: one line shown by listings
    topology:                      # exactly one of hierarchical / topohub / eua
      hierarchical: {regions: 2, stations_per_region: 4, seed: 1}
      # topohub: {key: topozoo/Chinanet, cloud: [39.9, 116.4]}
      # eua: {sites: 40, seed: 7, neighbours: 2}
      tiers:                       # optional overrides of scheduler.builders.DEFAULT_TIERS
        base_station: {cpu: 16, gpu: 1, memory: 64GiB, core_speed: 2.5GHz, cpu_price: 0.06/h}
    services:
      - {name: plates, work: 16.8G, input: 300kB, output: 1kB, cpu: 1, gpu: 0.5, memory: 2GiB,
         min_replicas: 1, max_replicas: 50, slo: 60ms, regions: [melbourne]}
    users:                         # exactly one of groups / eua
      groups: [{name: west, node: bs0-1, rate: {plates: 2/s}},     # at a node, or
               {name: pier, at: [-37.84, 144.94], rate: {plates: 1/s}}]  # at the base station nearest a point
      # eua: {count: 300, seed: 3, rate: {plates: 0.5/s}}   users attach to their nearest base station
    objective: {latency: 1, compute: 1, traffic: 1}
    target_utilisation: 0.7
    link_utilisation: 0.8          # optional: request + response bits/s on a link <= 0.8 x its bandwidth
    solver: {evaluations: 50000, milp_nodes: 10000, seed: 0}   # work budgets; time_limit: 60s opts the MILP
                                                               # into a wall-clock limit (machine-dependent)

Prices are per unit and time (``0.06/h`` per core-hour; ``memory_price`` per GiB-hour); ``traffic_price`` is per
GB sent over a tier's uplink. Errors name file:line, YAML path, value and rule, all at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any

import networkx as nx
import numpy as np
from pydantic import BaseModel, Field, ValidationError, model_validator

from offload.errors import ParameterError
from offload.units import GIB_BITS
from scheduler import builders, eua
from scheduler.problem import PlacementProblem, ServiceDemand, UserGroups, Weights, build_problem
from scheduler.problem_io import ACCESS_KINDS, users_to_groups
from scheduler.solvers import Budget
from scheduler.topology import NodeKind, Prices, Resources, nearest_node
from simulator.scenario.bundled import resolve_scenario_path
from simulator.scenario.errors import ScenarioError, ScenarioIssue, YamlPath
from simulator.scenario.quantities import (
    Bandwidth,
    DataSize,
    Duration,
    DurationOrZero,
    FileSection,
    NonNegative,
    PositiveWork,
    Price,
    Rate,
    Speed,
)
from simulator.scenario.schema import PlacementObjectiveSpec
from simulator.scenario.validation import issues_from_error
from simulator.scenario.yamlload import LoadedYaml, load_yaml, read_text

_GB_BITS = 8e9


class TierSpec(FileSection):
    """Overrides of one node kind's defaults; omitted keys keep :data:`scheduler.builders.DEFAULT_TIERS`."""

    cpu: NonNegative | None = None
    gpu: NonNegative | None = None
    memory: DataSize | None = None
    core_speed: Speed | None = None
    gpu_speed: Speed | None = None
    cpu_price: Price | None = None
    gpu_price: Price | None = None
    memory_price: Price | None = None
    uplink: Bandwidth | None = None
    hop_delay: DurationOrZero | None = None
    traffic_price: NonNegative | None = None


#: A seed of numpy's generators: a non-negative integer.
Seed = Annotated[int, Field(ge=0)]


class HierarchicalSpec(FileSection):
    regions: Annotated[int, Field(ge=1)] = 3
    stations_per_region: Annotated[int, Field(ge=1)] = 8
    seed: Seed = 0


class TopohubSpec(FileSection):
    key: str
    cloud: tuple[float, float] | None = None


class EuaSitesSpec(FileSection):
    sites: Annotated[int, Field(ge=1, le=125)] | None = None
    seed: Seed = 0
    neighbours: Annotated[int, Field(ge=0)] = 2


def _exactly_one(model: BaseModel, names: tuple[str, ...]) -> None:
    given = [name for name in names if getattr(model, name) is not None]
    if len(given) != 1:
        raise ValueError(f"give exactly one of {', '.join(names)} (got {', '.join(given) or 'none'})")


class TopologySpec(FileSection):
    hierarchical: HierarchicalSpec | None = None
    topohub: TopohubSpec | None = None
    eua: EuaSitesSpec | None = None
    tiers: dict[str, TierSpec] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_builder(self) -> TopologySpec:
        _exactly_one(self, ("hierarchical", "topohub", "eua"))
        return self


class PlacementServiceSpec(FileSection):
    name: Annotated[str, Field(min_length=1)]
    work: PositiveWork
    input: DataSize = 0.0
    output: DataSize = 0.0
    cpu: NonNegative = 1.0
    gpu: NonNegative = 0.0
    memory: DataSize = 0.0
    min_replicas: Annotated[int, Field(ge=0)] = 0
    max_replicas: Annotated[int, Field(ge=0)] = 1_000_000
    slo: Duration | None = None
    regions: list[str] | None = None


class GroupSpec(FileSection):
    name: Annotated[str, Field(min_length=1)]
    node: str | None = None
    at: tuple[Annotated[float, Field(ge=-90, le=90)], Annotated[float, Field(ge=-180, le=180)]] | None = None
    rate: dict[str, Rate]

    @model_validator(mode="after")
    def _one_place(self) -> GroupSpec:
        _exactly_one(self, ("node", "at"))
        return self


class EuaUsersSpec(FileSection):
    count: Annotated[int, Field(ge=1, le=816)] | None = None
    seed: Seed = 0
    rate: dict[str, Rate]


class UsersSpec(FileSection):
    groups: list[GroupSpec] | None = None
    eua: EuaUsersSpec | None = None

    @model_validator(mode="after")
    def _one_source(self) -> UsersSpec:
        _exactly_one(self, ("groups", "eua"))
        return self


class SolverSpec(FileSection):
    evaluations: Annotated[int, Field(ge=1)] = 50_000
    milp_nodes: Annotated[int, Field(ge=1)] = 10_000
    time_limit: Duration | None = None
    seed: Seed = 0


class PlacementFileSpec(FileSection):
    """A whole placement file."""

    name: Annotated[str, Field(min_length=1)]
    description: str = ""
    topology: TopologySpec
    services: Annotated[list[PlacementServiceSpec], Field(min_length=1)]
    users: UsersSpec
    objective: PlacementObjectiveSpec = PlacementObjectiveSpec()
    target_utilisation: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.8
    link_utilisation: Annotated[float, Field(gt=0.0, le=1.0)] | None = None
    solver: SolverSpec = SolverSpec()


@dataclass(frozen=True, slots=True)
class PlacementCase:
    """A loaded placement file: the topology, the problem built on it and the solver settings."""

    name: str
    description: str
    source: str
    graph: nx.Graph
    problem: PlacementProblem
    budget: Budget
    seed: int


class _Issues:
    def __init__(self, source: str, loaded: LoadedYaml | None) -> None:
        self.source, self.loaded, self.items = source, loaded, list[ScenarioIssue]()

    def add(self, path: YamlPath, value: Any, rule: str) -> None:
        line = self.loaded.line_of(path) if self.loaded is not None else None
        self.items.append(ScenarioIssue(self.source, line, path, rule, value))

    def raise_any(self) -> None:
        if self.items:
            raise ScenarioError(self.items)


def _tiers(spec: TopologySpec, issues: _Issues) -> dict[NodeKind, builders.Tier]:
    valid = {kind.value: kind for kind in NodeKind}
    tiers: dict[NodeKind, builders.Tier] = {}
    for name, tier in spec.tiers.items():
        if name not in valid:
            issues.add(("topology", "tiers", name), name, f"unknown node kind; valid: {', '.join(valid)}")
            continue
        base = builders.DEFAULT_TIERS[valid[name]]
        cap, prices = base.capacity, base.prices
        tiers[valid[name]] = replace(
            base,
            capacity=Resources(_pick(tier.cpu, cap.cpu_cores), _pick(tier.gpu, cap.gpu_units),
                               _pick(tier.memory, cap.memory_bits)),
            core_speed_ops_per_s=_pick(tier.core_speed, base.core_speed_ops_per_s),
            gpu_speed_ops_per_s=_pick(tier.gpu_speed, base.gpu_speed_ops_per_s),
            prices=Prices(_pick(tier.cpu_price, prices.per_cpu_core_s), _pick(tier.gpu_price, prices.per_gpu_unit_s),
                          prices.per_memory_bit_s if tier.memory_price is None else tier.memory_price / GIB_BITS),
            uplink_bps=_pick(tier.uplink, base.uplink_bps),
            uplink_hop_delay_s=_pick(tier.hop_delay, base.uplink_hop_delay_s),
            uplink_cost_per_bit=(base.uplink_cost_per_bit if tier.traffic_price is None
                                 else tier.traffic_price / _GB_BITS),
        )
    return tiers


def _pick(value: float | None, default: float) -> float:
    return default if value is None else value


def _graph(spec: TopologySpec, tiers: dict[NodeKind, builders.Tier]) -> nx.Graph:
    if spec.hierarchical is not None:
        h = spec.hierarchical
        return builders.hierarchical(np.random.default_rng(h.seed), regions=h.regions,
                                     stations_per_region=h.stations_per_region, tiers=tiers)
    if spec.topohub is not None:
        return builders.topohub_backbone(spec.topohub.key, cloud_deg=spec.topohub.cloud, tiers=tiers)
    assert spec.eua is not None
    return builders.eua_melbourne(sites=spec.eua.sites, rng=np.random.default_rng(spec.eua.seed),
                                  neighbours=spec.eua.neighbours, tiers=tiers)


def _services(spec: PlacementFileSpec) -> list[ServiceDemand]:
    return [ServiceDemand(s.name, s.work, s.input, s.output, Resources(s.cpu, s.gpu, s.memory), s.min_replicas,
                    s.max_replicas, math.inf if s.slo is None else s.slo,
                    None if s.regions is None else frozenset(s.regions)) for s in spec.services]


def _rates(rate: dict[str, float], names: list[str], path: YamlPath, issues: _Issues) -> np.ndarray:
    row = np.zeros(len(names))
    for service, value in rate.items():
        if service not in names:
            issues.add((*path, service), service, f"unknown service; valid: {', '.join(names)}")
        else:
            row[names.index(service)] = value
    return row


def _groups(spec: UsersSpec, graph: nx.Graph, names: list[str], issues: _Issues) -> UserGroups | None:
    if spec.eua is not None:
        lat, lon = eua.load_users()
        if spec.eua.count is not None:
            pick = np.sort(np.random.default_rng(spec.eua.seed).choice(len(lat), spec.eua.count, replace=False))
            lat, lon = lat[pick], lon[pick]
        rate = _rates(spec.eua.rate, names, ("users", "eua", "rate"), issues)
        return users_to_groups(graph, lat, lon, rate)
    assert spec.groups is not None
    rows, nodes = [], []
    for i, group in enumerate(spec.groups):
        node = group.node if group.at is None else nearest_node(graph, *group.at, ACCESS_KINDS)
        if node not in graph:
            sample = ", ".join(map(str, list(graph.nodes)[:6]))
            issues.add(("users", "groups", i, "node"), node, f"not a node of the topology (e.g. {sample})")
        nodes.append(str(node))
        rows.append(_rates(group.rate, names, ("users", "groups", i, "rate"), issues))
    if issues.items:
        return None
    return UserGroups(tuple(g.name for g in spec.groups), tuple(nodes), np.array(rows))


def case_from_data(data: Any, source: str = "<dict>", loaded: LoadedYaml | None = None) -> PlacementCase:
    """Validate plain data (as read from YAML) and build the topology and problem.

    Raises
    ------
    ScenarioError
        Every problem found, one per line, as ``file:line: path: value: rule``.
    """
    issues = _Issues(source, loaded)
    if not isinstance(data, dict):
        issues.add((), data, "a placement file must be a mapping with topology, services and users")
        issues.raise_any()
    try:
        spec = PlacementFileSpec.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(issues_from_error(error, data, PlacementFileSpec, lambda p: (
            source, loaded.line_of(p) if loaded is not None else None))) from None
    names = [s.name for s in spec.services]
    for i, name in enumerate(names):
        if names.index(name) != i:
            issues.add(("services", i, "name"), name, "duplicate service name")
    tiers = _tiers(spec.topology, issues)
    try:
        services = _services(spec)
    except ParameterError as error:
        issues.add(("services",), error.value, f"{error.name}: {error.rule}")
    try:
        graph = _graph(spec.topology, tiers)
    except ParameterError as error:
        builder = next(k for k in ("hierarchical", "topohub", "eua") if getattr(spec.topology, k) is not None)
        issues.add(("topology", builder), error.value, f"{error.name}: {error.rule}")
    issues.raise_any()
    groups = _groups(spec.users, graph, names, issues)
    issues.raise_any()
    assert groups is not None
    weights = Weights(spec.objective.latency, spec.objective.compute, spec.objective.traffic)
    problem = build_problem(graph, services, groups, weights=weights, target_utilisation=spec.target_utilisation,
                            link_utilisation=spec.link_utilisation)
    solver = spec.solver
    return PlacementCase(spec.name, spec.description, source, graph, problem,
                         Budget(solver.evaluations, solver.milp_nodes, solver.time_limit), solver.seed)


def load_placement_file(path_or_name: str | Path) -> PlacementCase:
    """Load a placement file, or a bundled one by name (``place-melbourne`` -> ``scenarios/place-melbourne.yaml``)."""
    path = resolve_scenario_path(path_or_name)
    source = str(path)
    loaded = load_yaml(read_text(path, source), source)
    return case_from_data(loaded.data, source, loaded)
