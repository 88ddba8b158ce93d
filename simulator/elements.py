"""The elements a :class:`~simulator.world.World` is made of, as frozen value objects in SI units: access points (with
measured throughput tables), backhaul links, edge servers and the cloud, services, task sizes, device groups and
policy specifications. Each checks its own fields; the cross-reference rules between them live in
:mod:`simulator.world`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from offload.errors import ParameterError
from offload.formulas import propagation_delay_s
from offload.profiles import Device, Server
from offload.validate import check_non_negative, check_positive
from simulator.distributions import Distribution, as_distribution
from simulator.workloads import Trace, Workload

Tier = Literal["edge", "cloud"]
#: How a server picks the next task (:mod:`simulator.disciplines`).
Discipline = Literal["fifo", "priority", "preemptive", "ps"]
DISCIPLINES: tuple[Discipline, ...] = ("fifo", "priority", "preemptive", "ps")
FloatArray = npt.NDArray[np.float64]


def _name(kind: str, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise ParameterError(f"{kind}.name", value, "must be a non-empty string")


@dataclass(frozen=True, slots=True)
class ThroughputTable:
    """Measured per-client throughput (bps) with ``clients`` transfers active, e.g. 802.11: 88, 45, 30, 25, 16, 10
    Mbps for 1, 2, 3, 5, 10, 20 clients. Interpolated linearly in between; beyond the last point the aggregate is
    held constant (see :func:`offload.runtime.table_rate_bps`)."""

    clients: tuple[int, ...]
    per_client_bps: tuple[float, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "clients", tuple(self.clients))
        object.__setattr__(self, "per_client_bps", tuple(float(x) for x in self.per_client_bps))
        if not self.clients or len(self.clients) != len(self.per_client_bps):
            raise ParameterError("per_client_bps", self.per_client_bps, "needs one rate per client count (>= 1)")
        if any(b <= a for a, b in zip(self.clients, self.clients[1:], strict=False)) or self.clients[0] < 1:
            raise ParameterError("clients", self.clients, "must be increasing whole numbers >= 1")
        for rate in self.per_client_bps:
            check_positive("per_client_bps", rate)


@dataclass(frozen=True, slots=True)
class AccessPoint:
    """A base station or Wi-Fi access point with a shared uplink and downlink.

    Attributes
    ----------
    uplink_bps, downlink_bps : float
        Capacity shared fairly (processor sharing) among concurrent transfers when ``shared``; with
        ``shared=False`` every device has a dedicated link of that rate (a wired or per-device radio link).
    latency_s : float
        One-way access delay, paid in both directions.
    uplink_table, downlink_table : ThroughputTable, optional
        Measured per-client rate versus active clients; replaces the fair share of the capacity.
    """

    name: str
    uplink_bps: float
    downlink_bps: float = math.inf
    latency_s: float = 0.0
    shared: bool = True
    uplink_table: ThroughputTable | None = None
    downlink_table: ThroughputTable | None = None

    def __post_init__(self) -> None:
        _name("access_point", self.name)
        check_positive("uplink_bps", self.uplink_bps, allow_inf=True)
        check_positive("downlink_bps", self.downlink_bps, allow_inf=True)
        check_non_negative("latency_s", self.latency_s)


@dataclass(frozen=True, slots=True)
class BackhaulLink:
    """A backhaul/WAN link between two nodes: a shared channel per direction plus propagation delay.

    The one-way delay is ``latency_s`` plus fibre propagation over ``distance_m`` (≈ 4.9 µs/km).
    """

    a: str
    b: str
    bandwidth_bps: float = math.inf
    latency_s: float = 0.0
    distance_m: float = 0.0

    def __post_init__(self) -> None:
        _name("link.a", self.a)
        _name("link.b", self.b)
        if self.a == self.b:
            raise ParameterError("link.b", self.b, "must differ from link.a")
        check_positive("bandwidth_bps", self.bandwidth_bps, allow_inf=True)
        check_non_negative("latency_s", self.latency_s)
        check_non_negative("distance_m", self.distance_m)

    @property
    def one_way_s(self) -> float:
        """Propagation plus fixed delay in one direction."""
        return self.latency_s + float(propagation_delay_s(self.distance_m))


@dataclass(frozen=True, slots=True)
class Batching:
    """Batch service: a worker takes up to ``max_batch`` queued tasks and serves them in ``t0_s + per_item_s · k``."""

    max_batch: int
    t0_s: float
    per_item_s: float

    def __post_init__(self) -> None:
        if not isinstance(self.max_batch, int) or self.max_batch < 1:
            raise ParameterError("max_batch", self.max_batch, "must be a whole number >= 1")
        check_non_negative("t0_s", self.t0_s)
        check_non_negative("per_item_s", self.per_item_s)


def discipline_problem(discipline: str, batching: object, patience: object) -> str | None:
    """Why a server cannot combine this ``discipline`` with batching or reneging (``None``: it can)."""
    if discipline not in DISCIPLINES:
        return f"must be one of {', '.join(DISCIPLINES)}"
    if batching is not None and discipline in ("preemptive", "ps"):
        return f"{discipline!r} cannot batch (batching takes whole tasks off a queue)"
    if patience is not None and discipline == "ps":
        return "'ps' serves every task at once, so no task waits to renege (drop patience)"
    return None


@dataclass(frozen=True, slots=True)
class EdgeServer:
    """A server with a pool of ``workers`` behind one queue served by ``discipline``.

    Service time of a task is ``work_ops / speed_ops_per_s``, or the measured ``compute_time_s`` when given (as in
    :class:`offload.profiles.Executor`), or the batch time when ``batching`` is set. ``queue_capacity`` bounds the
    waiting room (tasks beyond it are dropped, reason ``server_queue_full``); ``None`` is unbounded.
    ``discipline``: ``fifo``, non-preemptive ``priority`` classes, ``preemptive`` (resume) priority or processor
    sharing ``ps`` (the device group's ``priority`` is a task's class, lower first). With ``patience`` (s) a waiting
    task leaves when its patience, drawn from that distribution, runs out (reason ``reneged``).
    """

    name: str
    speed_ops_per_s: float | None = None
    compute_time_s: float | None = None
    workers: int = 1
    compute_power_w: float = 0.0
    idle_power_w: float = 0.0
    batching: Batching | None = None
    queue_capacity: int | None = None
    location: str | None = None
    tier: Tier = "edge"
    discipline: Discipline = "fifo"
    patience: Distribution | None = None

    def __post_init__(self) -> None:
        _name("server", self.name)
        problem = discipline_problem(self.discipline, self.batching, self.patience)
        if problem is not None:
            raise ParameterError("discipline", self.discipline, problem)
        if self.patience is not None and not isinstance(self.patience, Distribution):
            raise ParameterError("patience", self.patience, "must be a distribution of times (s)")
        self.profile  # noqa: B018 - validates speed / measured time like offload.Executor
        if not isinstance(self.workers, int) or self.workers < 1:
            raise ParameterError("workers", self.workers, "must be a whole number >= 1")
        check_non_negative("compute_power_w", self.compute_power_w)
        check_non_negative("idle_power_w", self.idle_power_w)
        if self.queue_capacity is not None and (not isinstance(self.queue_capacity, int) or self.queue_capacity < 0):
            raise ParameterError("queue_capacity", self.queue_capacity, "must be a whole number >= 0 or None")
        if self.tier not in ("edge", "cloud"):
            raise ParameterError("tier", self.tier, "must be 'edge' or 'cloud'")

    @property
    def profile(self) -> Server:
        """The server as the offload cost model sees it (speed or measured time, busy power)."""
        return Server(speed_ops_per_s=self.speed_ops_per_s, compute_time_s=self.compute_time_s,
                      compute_power_w=self.compute_power_w)

    @property
    def node(self) -> str:
        """The topology node the server sits at."""
        return self.location or self.name


#: Workers of a cloud data centre when not given (a data centre is rarely the bottleneck).
CLOUD_WORKERS = 1000


def Cloud(name: str, **kwargs: Any) -> EdgeServer:  # noqa: N802 - reads as a constructor
    """A cloud data centre: an :class:`EdgeServer` with ``tier="cloud"`` and :data:`CLOUD_WORKERS` workers unless
    given."""
    kwargs.setdefault("workers", CLOUD_WORKERS)
    return EdgeServer(name, tier="cloud", **kwargs)


@dataclass(frozen=True, slots=True)
class Service:
    """A service (model) requests are sent to, and the servers hosting a replica (empty: every server)."""

    name: str
    hosts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _name("service", self.name)
        object.__setattr__(self, "hosts", tuple(self.hosts))


@dataclass(frozen=True, slots=True)
class TaskSizes:
    """Per-task work (ops), input (bits) and output (bits): numbers or distributions."""

    work_ops: Distribution | float = 0.0
    input_bits: Distribution | float = 0.0
    output_bits: Distribution | float = 0.0

    def __post_init__(self) -> None:
        for name in ("work_ops", "input_bits", "output_bits"):
            object.__setattr__(self, name, as_distribution(name, getattr(self, name)))

    def sample(self, rng: np.random.Generator, n: int) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Draw ``n`` tasks: work, input and output arrays (in that order, from one stream)."""
        sizes: tuple[Distribution, ...] = (self.work_ops, self.input_bits, self.output_bits)  # type: ignore[assignment]
        return sizes[0].sample(rng, n), sizes[1].sample(rng, n), sizes[2].sample(rng, n)


@dataclass(frozen=True, slots=True)
class DeviceGroup:
    """``count`` identical devices: profile, workload, task sizes, the service they call and their access point.

    ``local_queue_capacity`` bounds tasks waiting for the device CPU (``None`` unbounded; beyond it a task is dropped
    with reason ``local_queue_full``); with ``drop_expired`` a task whose deadline has passed before its service
    starts is dropped (``deadline_expired``). ``routes`` (server name, share) pairs, e.g. from a placement
    (:mod:`simulator.placement_bridge`), send the group's offloaded tasks to those servers with those probabilities:
    the policy then decides local or remote, the routes decide which server. Empty: the policy picks the server.
    ``priority`` is the class of the group's tasks at servers with a priority discipline (lower is served first).
    """

    name: str
    count: int
    device: Device
    workload: Workload
    access_point: str
    task: TaskSizes = field(default_factory=TaskSizes)
    service: str = "default"
    deadline_s: float = math.inf
    local_queue_capacity: int | None = None
    drop_expired: bool = False
    routes: tuple[tuple[str, float], ...] = ()
    priority: int = 0

    def __post_init__(self) -> None:
        _name("device_group", self.name)
        if isinstance(self.priority, bool) or not isinstance(self.priority, int):
            raise ParameterError("priority", self.priority, "must be a whole number (lower is served first)")
        object.__setattr__(self, "routes", tuple((str(server), float(share)) for server, share in self.routes))
        if self.routes:
            shares = [share for _, share in self.routes]
            if min(shares) < 0 or abs(sum(shares) - 1.0) > 1e-6 or len({s for s, _ in self.routes}) < len(shares):
                raise ParameterError("routes", self.routes, "shares must be >= 0, sum to 1, one per server")
        if not isinstance(self.count, int) or isinstance(self.count, bool) or self.count < 1:
            raise ParameterError("count", self.count, "must be a whole number >= 1")
        if not isinstance(self.device, Device):
            raise ParameterError("device", self.device, "must be an offload.Device profile")
        if not isinstance(self.workload, Workload):
            raise ParameterError("workload", self.workload, "must be a workload (Poisson, PeriodicStream, ...)")
        check_positive("deadline_s", self.deadline_s, allow_inf=True)
        if isinstance(self.workload, Trace) and self.workload.device and max(self.workload.device) >= self.count:
            raise ParameterError("workload.device", max(self.workload.device),
                                 f"every trace row needs a device index below count ({self.count})")
        cap = self.local_queue_capacity
        if cap is not None and (not isinstance(cap, int) or cap < 0):
            raise ParameterError("local_queue_capacity", cap, "must be a whole number >= 0 or None")


@dataclass(frozen=True, slots=True)
class PolicySpec:
    """A runtime offload policy by registry name, its parameters and an optional label for the results."""

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)
    label: str | None = None

    def __post_init__(self) -> None:
        _name("policy", self.name)
        object.__setattr__(self, "params", dict(self.params))

    @property
    def display_name(self) -> str:
        """``label`` or ``name``: the key of this policy in results."""
        return self.label or self.name


def as_policy_spec(value: PolicySpec | str) -> PolicySpec:
    """Accept a registry name or a spec."""
    return value if isinstance(value, PolicySpec) else PolicySpec(str(value))
