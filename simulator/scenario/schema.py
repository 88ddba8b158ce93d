"""The scenario schema: pydantic v2 models over what a scenario file may say, in SI after unit conversion.

Sections mirror :mod:`simulator.world` one to one so the conversion stays thin. Only structure, types, units and
single-field rules live here; rules that relate several parts of the file are in
:func:`simulator.world.world_problems` (the World's names, references and reachability) and
:mod:`simulator.scenario.checks` (what only the file has), so every problem is reported with its own line.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Discriminator, Field, Tag, model_validator

from simulator.elements import discipline_problem
from simulator.scenario.distributions import TimeDistribution, distribution_type
from simulator.scenario.mobility_schema import (
    AreaSpec,
    HandoverSpec,
    MigrationSpec,
    MobilitySpec,
    Position,
    RadioSpec,
    ReplacementSpec,
)
from simulator.scenario.platform_schema import (
    DeploymentSpec,
    EventSpec,
    ImageSpec,
    PushSpec,
    RegistrySpec,
    RetrySpec,
    VersionSpec,
)
from simulator.scenario.quantities import (
    Bandwidth,
    DataSize,
    Distance,
    Duration,
    DurationOrAuto,
    DurationOrZero,
    Energy,
    NonNegative,
    PositiveDataSize,
    PositiveEnergy,
    PositiveWork,
    Power,
    Price,
    Speed,
    Strict,
    Work,
)
from simulator.scenario.rate_profiles import RATE_PROFILES, RateProfileSection
from simulator.scenario.workloads import WORKLOADS, WorkloadSection

#: What a name may be: letters, digits, ``_``, ``.`` and ``-``.
NAME_PATTERN = r"^[A-Za-z0-9_.\-]+$"
Name = Annotated[str, Field(min_length=1, max_length=100, pattern=NAME_PATTERN)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
Count = Annotated[int, Field(ge=0)]


if TYPE_CHECKING:  # the generated unions are opaque to mypy
    WorkSize = Any
    BitsSize = Any
else:
    WorkSize = distribution_type(Work, PositiveWork)
    BitsSize = distribution_type(DataSize, PositiveDataSize)


class RunSpec(Strict):
    """How long and how often to simulate; ``sample_interval`` sets the time-series period (default horizon/200);
    ``max_events`` and ``max_memory`` bound the run (:mod:`simulator.scenario.budget`)."""

    duration: Duration = 60.0
    warmup: DurationOrAuto = 0.0
    seed: Annotated[int, Field(ge=0)] = 0
    replications: Annotated[int, Field(ge=1, le=10_000)] = 1
    sample_interval: Duration | None = None
    max_events: Annotated[int, Field(ge=1)] | None = None
    max_memory: PositiveDataSize | None = None


class ServiceSpec(Strict):
    """An AI service: the work and data of one request, its deadline, the nodes hosting it (empty: all) and, for a
    stateful service, the ``state`` a session keeps at its server (moved when a session migrates, ``migration:``)."""

    name: Name = "default"
    work: WorkSize = 0.0
    input: BitsSize = 0.0
    output: BitsSize = 0.0
    deadline: Duration | None = None
    hosts: list[Name] = Field(default_factory=list)
    priority: int | None = None
    state: DataSize | None = None


class UniformHarvest(Strict):
    """Energy harvested per slot uniform on ``[0, max]`` (Mao et al. 2016: ``E_H ~ U[0, E_H^max]``)."""

    model: Literal["uniform"]
    max: Energy


class ExponentialHarvest(Strict):
    """Energy harvested per slot exponential with mean ``mean``."""

    model: Literal["exponential"]
    mean: PositiveEnergy


class ConstantHarvest(Strict):
    """A constant harvesting power: ``power × slot`` per slot."""

    model: Literal["constant"]
    power: Power


class BatterySpec(Strict):
    """A battery of ``capacity`` starting at ``initial``, charged in slots of ``slot`` by ``harvest`` (i.i.d. per
    slot, credited at the slot's end); every task pays its device energy from it when it starts."""

    capacity: PositiveEnergy
    initial: Energy = 0.0
    slot: Duration
    harvest: Annotated[UniformHarvest | ExponentialHarvest | ConstantHarvest, Field(discriminator="model")]


class ProfileSpec(Strict):
    """A device's compute and power: a speed, or a measured time per request; optionally a radio power model
    (``radio``: transmit/receive power at its access point's throughputs, promotion plus tail energy per offload,
    replacing ``tx_power``, ``rx_power`` and ``tail_energy``) and a ``battery`` with energy harvesting."""

    name: Name | None = None
    speed: Speed | None = None
    compute_time: DurationOrZero | None = None
    compute_power: Power = 0.0
    idle_power: Power = 0.0
    tx_power: Power = 0.0
    rx_power: Power = 0.0
    tail_energy: Energy = 0.0
    radio: Literal["lte", "3g", "wifi"] | None = None
    battery: BatterySpec | None = None


if TYPE_CHECKING:  # a union built from the registry is opaque to mypy
    WorkloadField = WorkloadSection
    RateProfileField = RateProfileSection
else:
    WorkloadField = Annotated[Union[WORKLOADS], Field(discriminator="kind")]  # noqa: UP007 - from a tuple
    RateProfileField = Annotated[Union[RATE_PROFILES], Field(discriminator="kind")]  # noqa: UP007 - from a tuple


def _workload_shorthand(value: Any) -> Any:
    """``workload: 2/s`` (a rate alone) means ``workload: {kind: poisson, rate: 2/s}``."""
    is_rate = isinstance(value, int | float) or (isinstance(value, str) and re.match(r"\s*[-+.\d]", value))
    return {"kind": "poisson", "rate": value} if is_rate and not isinstance(value, bool) else value


class DeviceGroupSpec(Strict):
    """``count`` identical devices behind one access point (default: the only one), each running ``workload``
    against ``service`` (default: the only one); ``rate_profile`` multiplies the workload's rate over time
    (:mod:`simulator.scenario.rate_profiles`); ``retry`` resends requests that fail at a deployed service."""

    name: Name = "devices"
    count: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    profile: Annotated[Annotated[Name, Tag("name")] | Annotated[ProfileSpec, Tag("inline")],
                       Discriminator(lambda value: "name" if isinstance(value, str) else "inline")]
    access_point: Name | None = None
    service: Name | None = None
    workload: Annotated[WorkloadField, BeforeValidator(_workload_shorthand)]
    rate_profile: RateProfileField | None = None
    local_queue_capacity: Annotated[int, Field(ge=0, le=10**9)] | None = None
    drop_expired: bool = False
    priority: int | None = None
    retry: RetrySpec | None = None
    mobility: MobilitySpec | None = None


class ThroughputPoint(Strict):
    """Measured per-client throughput with ``clients`` transfers active."""

    clients: Annotated[int, Field(ge=1)]
    rate: Bandwidth


class AccessPointSpec(Strict):
    """A cell or Wi-Fi AP whose uplink and downlink are shared fairly among concurrent transfers."""

    name: Name
    uplink: Bandwidth
    downlink: Bandwidth | None = None
    latency: DurationOrZero = 0.0
    shared: bool = True
    uplink_table: Annotated[list[ThroughputPoint], Field(min_length=1)] | None = None
    downlink_table: Annotated[list[ThroughputPoint], Field(min_length=1)] | None = None
    position: Position | None = None
    range: Distance | None = None
    radio: RadioSpec | None = None


class BatchingSpec(Strict):
    """Batch service time ``t0 + per_item * batch`` for up to ``max_batch`` requests at once."""

    max_batch: Annotated[int, Field(ge=1)]
    t0: DurationOrZero = 0.0
    per_item: DurationOrZero


class NodeSpec(Strict):
    """An edge or cloud server: ``workers`` parallel workers behind one queue (cloud default: 1000) served by
    ``discipline``; with ``patience`` a waiting request leaves when its patience runs out; for deployments, ``cpu``
    cores (default: ``workers``), ``gpu`` GPUs (default 0), ``memory`` (default: unlimited), a ``disk`` for images
    (default: unlimited) with ``images`` on it at the start,
    ``labels`` that deployment domains select, and random failures every ``mtbf`` on average, repaired in ``mttr``
    on average (both exponential).

    ``location``: the access point or switch it sits at; by default the only access point when the file has one
    and no links, else a place of its own, reached by links."""

    name: Name = "edge"
    tier: Literal["edge", "cloud"] = "edge"
    workers: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    speed: Speed | None = None
    compute_time: DurationOrZero | None = None
    power: Power = 0.0
    idle_power: Power = 0.0
    batching: BatchingSpec | None = None
    queue_capacity: Count | None = None
    location: Name | None = None
    cpu: Annotated[float, Field(gt=0.0, le=1e6, allow_inf_nan=False)] | None = None
    gpu: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    memory: PositiveDataSize | None = None
    disk: PositiveDataSize | None = None
    labels: dict[Name, Name] = Field(default_factory=dict)
    images: list[Name] = Field(default_factory=list)
    mtbf: Duration | None = None
    mttr: Duration | None = None
    discipline: Literal["fifo", "priority", "preemptive", "ps"] = "fifo"
    patience: TimeDistribution | None = None

    @model_validator(mode="after")
    def _combinable(self) -> NodeSpec:
        problem = discipline_problem(self.discipline, self.batching, self.patience)
        if problem is not None:
            raise ValueError(f"discipline {self.discipline!r}: {problem}")
        return self


class LinkSpec(Strict):
    """A wired link between two access points, nodes or switches (``switches``: routers, aggregation sites)."""

    between: Annotated[list[Name], Field(min_length=2, max_length=2)]
    bandwidth: Bandwidth | None = None
    latency: DurationOrZero = 0.0
    distance: Distance = 0.0


_IMPORT_PATH = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


def _import_path(value: str) -> str:
    if not _IMPORT_PATH.fullmatch(value):
        raise ValueError("must be an import path 'package.module:Class'")
    return value


#: ``package.module:Class``: dotted Python names on both sides of the colon.
ImportPath = Annotated[str, AfterValidator(_import_path)]


class PolicyEntry(Strict):
    """A runtime offload policy: a built-in or installed ``name``, or a ``class`` by import path
    (``package.module:Class``), its parameters and an optional ``label`` for results."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, serialize_by_alias=True)

    name: Name | None = None
    class_: ImportPath | None = Field(default=None, alias="class")
    params: dict[str, float | int | str | bool] = Field(default_factory=dict)
    label: Name | None = None

    @model_validator(mode="after")
    def _one_reference(self) -> PolicyEntry:
        if (self.name is None) == (self.class_ is None):
            raise ValueError("give either name (a built-in or installed policy) or class ('package.module:Class')")
        return self

    @property
    def reference(self) -> str:
        """What names the policy: its import path, else its name."""
        return self.class_ or self.name or ""


def _policy_shorthand(value: Any) -> Any:
    """``- edge`` in a policy list means ``- {name: edge}``."""
    return {"name": value} if isinstance(value, str) else value


class OutputsSpec(Strict):
    """What ``--out`` writes besides ``summary.json`` and ``scenario.yaml``.

    Figures are drawn from the records, so ``figures`` follows ``records`` unless it is given (asking for figures
    without records is refused by the checks).
    """

    records: bool = True
    timeseries: bool = True
    figures: bool = True

    @model_validator(mode="before")
    @classmethod
    def _figures_follow_records(cls, data: Any) -> Any:
        if isinstance(data, dict) and "figures" not in data and data.get("records") is False:
            return {**data, "figures": False}
        return data




class PlacementObjectiveSpec(Strict):
    """Weights of the placement objective: per second of mean latency, per unit of compute and traffic cost rate."""

    latency: NonNegative = 1.0
    compute: NonNegative = 1.0
    traffic: NonNegative = 1.0


class PlacedServiceSpec(Strict):
    """What one replica of a service reserves, and bounds on the number of replicas."""

    cpu: NonNegative = 1.0
    gpu: NonNegative = 0.0
    memory: DataSize = 0.0
    min_replicas: Count = 0
    max_replicas: Count = 1_000_000


class PlacementNodeSpec(Strict):
    """What a node offers replicas (default: one core per worker, no GPU, unlimited memory) and its prices."""

    cpu: NonNegative | None = None
    gpu: NonNegative = 0.0
    memory: DataSize | None = None
    gpu_speed: Speed | None = None
    cpu_price: Price = 0.0
    gpu_price: Price = 0.0
    memory_price: Price = 0.0


class PlacementSpec(Strict):
    """Place replicas with a scheduler solver before simulating; offloaded requests then follow the placement."""

    policy: Name = "greedy"
    evaluations: Annotated[int, Field(ge=1)] = 50_000
    milp_nodes: Annotated[int, Field(ge=1)] = 10_000
    time_limit: Duration | None = None
    seed: Annotated[int, Field(ge=0)] = 0
    objective: PlacementObjectiveSpec = PlacementObjectiveSpec()
    target_utilisation: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.8
    link_utilisation: Annotated[float, Field(gt=0.0, le=1.0)] | None = None
    traffic_price: Price = 0.0
    services: dict[Name, PlacedServiceSpec] = Field(default_factory=dict)
    nodes: dict[Name, PlacementNodeSpec] = Field(default_factory=dict)


def _default_policies() -> list[PolicyEntry]:
    return [PolicyEntry(name="always_local"), PolicyEntry(name="always_edge")]


def _default_access_points() -> list[AccessPointSpec]:
    return [AccessPointSpec(name="ap", uplink=DEFAULT_UPLINK_BPS)]


#: Uplink of the access point of a file that defines none (a shared 100 Mbps cell; downlink unlimited).
DEFAULT_UPLINK_BPS = 100e6


class ScenarioSpec(Strict):
    """A whole scenario file. ``placement`` places replicas before simulating; ``images``, ``registry``,
    ``deployments``, ``predistribute``, ``events`` and ``versions`` run the platform's replicas over time
    (:mod:`simulator.scenario.platform_schema`); ``sweep`` is read by ``mecsim sweep``; ``area`` and ``handover``
    (with devices' ``mobility`` and access points' ``position``, ``range`` and ``radio``) make devices move, and
    ``migration`` lets the sessions of stateful services (a service's ``state``) follow them and ``replacements``
    re-place services' replicas on where they are (:mod:`simulator.scenario.mobility_schema`).

    ``name`` defaults to the file's name without ``.yaml``; ``access_points`` to one shared 100 Mbps access point
    called ``ap``; ``policies`` to ``always_local`` and ``always_edge``.
    """

    name: Name = "scenario"
    description: str = ""
    run: RunSpec = RunSpec()
    services: Annotated[list[ServiceSpec], Field(min_length=1)]
    profiles: list[ProfileSpec] = Field(default_factory=list)
    access_points: Annotated[list[AccessPointSpec], Field(min_length=1, default_factory=_default_access_points)]
    nodes: list[NodeSpec] = Field(default_factory=list)
    switches: list[Name] = Field(default_factory=list)
    links: list[LinkSpec] = Field(default_factory=list)
    devices: Annotated[list[DeviceGroupSpec], Field(min_length=1)]
    policies: Annotated[list[Annotated[PolicyEntry, BeforeValidator(_policy_shorthand)]],
                        Field(min_length=1, default_factory=_default_policies)]
    outputs: OutputsSpec = OutputsSpec()
    placement: PlacementSpec | None = None
    images: list[ImageSpec] = Field(default_factory=list)
    registry: RegistrySpec | None = None
    deployments: list[DeploymentSpec] = Field(default_factory=list)
    predistribute: list[PushSpec] = Field(default_factory=list)
    events: list[EventSpec] = Field(default_factory=list)
    versions: list[VersionSpec] = Field(default_factory=list)
    sweep: dict[str, Any] | None = None
    area: AreaSpec | None = None
    handover: HandoverSpec | None = None
    migration: MigrationSpec | None = None
    replacements: list[ReplacementSpec] = Field(default_factory=list)

    def node_location(self, node: NodeSpec) -> str:
        """Where ``node`` sits: its ``location``, else the only access point of a file without links, else a place
        of its own (its name)."""
        if node.location is not None:
            return node.location
        return self.access_points[0].name if len(self.access_points) == 1 and not self.links else node.name
