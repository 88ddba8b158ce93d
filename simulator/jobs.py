"""The engine's vocabulary: a task in flight (:class:`Job`) and one waiting for its decision (:class:`Pending`), what
the platform (:mod:`simulator.lifecycle`) and mobility (:mod:`simulator.mobility`) plug into the engine with, and
what one replication produces (:class:`EngineOutput`, its servers' :class:`PoolSnapshot` and :class:`Samples`)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from offload.cost import LOCAL_OPTION

if TYPE_CHECKING:
    import simpy

    from simulator.arrivals import Block
    from simulator.devices import Access, DeviceState, GroupState, LinkChannels, Route
    from simulator.links import Attachment
    from simulator.metrics import RecordSink
    from simulator.result import DropReason
    from simulator.servers import WorkerPool
    from simulator.world import World

NAN = math.nan


class PlatformRun(Protocol):
    """A platform's controllers in one replication (:mod:`simulator.lifecycle`): ``pools`` maps each deployed
    service and node of its domains to the pool the service's routes to that node lead to."""

    @property
    def pools(self) -> Mapping[tuple[str, str], WorkerPool]:
        """The endpoint pool of each (deployed service, domain node)."""

    @property
    def sent(self) -> Callable[[Job], None] | None:
        """Called with every request the devices send (``None``: nothing to call)."""

    def start(self) -> None:
        """Schedule the controllers' first actions (at time 0)."""

    def tables(self, warmup_s: float) -> tuple[pd.DataFrame, ...]:
        """The event table, the replica time series, the counters (``counter``, ``reason``, ``count``) and the
        versions' traffic series and monitor (their statistics over the run after ``warmup_s``)."""


class Platform(Protocol):
    """What changes which replicas serve which service during a run."""

    def attach(self, world: World, env: simpy.Environment, channels: LinkChannels, *,
               on_served: Callable[[Any], None], on_dropped: Callable[[Any, DropReason], None],
               forward: Callable[[Any, int], None], resend: Callable[[Any, float], bool],
               give_up: Callable[[Any, DropReason], bool], rng: np.random.Generator) -> PlatformRun:
        """Build the controllers of one replication over the engine's links and callbacks; ``forward(job, k)``
        passes a request on from where it is to server ``k``, whose reply goes home from there;
        ``resend``/``give_up`` are :meth:`Engine.resend` and :meth:`Engine.give_up`; ``rng`` is the platform's own
        stream (the same for every policy)."""


class MobilityRun(Protocol):
    """Moving devices in one replication (:mod:`simulator.mobility`)."""

    @property
    def attachment(self) -> Attachment:
        """Where the moving devices are attached and until when that holds (the next mobility step)."""

    def start(self) -> None:
        """Start moving (at time 0)."""

    def table(self, duration_s: float) -> pd.DataFrame:
        """What the devices' motion did, one row per moving group."""

    def motion(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame] | None:
        """Over time: each group's distance to its serving replica, tracks of some devices, every device's speed;
        and the cells (:mod:`simulator.motion_log`); ``None`` when not logged."""


class Mobility(Protocol):
    """Devices that move, attach to cells and hand over."""

    def attach(self, env: simpy.Environment, groups: list[GroupState], access: Access,
               handover: Callable[[DeviceState, str, float, bool], int], rng: np.random.Generator) -> MobilityRun:
        """Build the controller of one replication; it calls ``handover(device, access point, interruption_s,
        restart)`` (:meth:`Engine.handover`); ``rng`` is its own stream (the same for every policy)."""

    def without_logs(self) -> Mobility:
        """The same motion, keeping the mobility table but no per-step logs (memory bounded in the horizon)."""


class Job:
    """One task in flight; attributes are record columns (NaN until the stage happens), but ``attempt`` (the
    number of the task's attempt this is, from 0; -1 once abandoned for a retry: then it is not recorded) and
    ``sent`` (how the attempt was sent, kept for a retry); ``earlier_tx_s`` and ``earlier_wait_s`` are the time its
    device spent sending and waiting on the task's earlier, abandoned attempts (backoffs included), which the
    record's energy adds to this attempt's."""

    __slots__ = ("attempt", "completed_s", "compute_power_w", "created_s", "device", "device_index", "download_end_s",
                 "download_s", "download_start_s", "drop_code", "earlier_tx_s", "earlier_wait_s", "expire_after_s",
                 "hop", "input_bits", "output_bits",
                 "queue_entry_s", "returning", "route", "sent", "service_end_s", "service_s", "service_start_s",
                 "target_code", "task_id", "tx_power_w", "upload_end_s", "upload_start_s", "work_ops")

    route: Route
    service_s: float
    download_s: float | None
    sent: tuple[Route, float | None, float | None, float]

    def __init__(self, task_id: int, device: DeviceState, device_index: int, expire_after_s: float,
                 created_s: float, work_ops: float, input_bits: float, output_bits: float) -> None:
        self.task_id = task_id
        self.device = device
        self.device_index = device_index
        self.expire_after_s = expire_after_s
        self.created_s = created_s
        self.work_ops = work_ops
        self.input_bits = input_bits
        self.output_bits = output_bits
        self.drop_code = 0
        self.attempt = 0
        self.target_code = LOCAL_OPTION
        self.hop = 0
        self.returning = False
        self.upload_start_s = self.upload_end_s = self.queue_entry_s = NAN
        self.service_start_s = self.service_end_s = self.download_start_s = NAN
        self.download_end_s = self.completed_s = self.service_s = NAN  # service_s: set when it is decided
        self.compute_power_w = self.tx_power_w = NAN  # NaN: the device's; a planner sets its DVFS or radio power
        self.earlier_tx_s = self.earlier_wait_s = 0.0  # the device's time on the task's earlier attempts


class Pending(NamedTuple):
    """A task waiting for its decision at its arrival: the job, its block and row there, and its radio transfer
    times on a dedicated link (``None``: timed by a shared channel)."""

    job: Job
    block: Block
    row: int
    up_s: float | None
    down_s: float | None


@dataclass(frozen=True, slots=True)
class PoolSnapshot:
    """Time integrals of one server over the measured window (after warm-up); ``queue_time[n]`` is the time spent
    with ``n >= 1`` tasks waiting; ``bounded``: a finite room or reneging keeps its queue from growing without
    end."""

    name: str
    workers: int
    busy_area: float
    queue_area: float
    arrivals: int
    served: int
    sojourn_sum_s: float
    queue_time: tuple[float, ...]
    bounded: bool


@dataclass(frozen=True, slots=True)
class Samples:
    """Per-server time series: at each sample time, utilisation averaged since the previous sample, the queue
    length at that instant and the queue-length area since the start; arrays shaped ``(samples, servers)``; the
    battery level (J) of each device that has one, shaped ``(samples, devices)``; and per server, at each sample,
    its :attr:`~simulator.servers.WorkerPool.queue_time` so far (since the warm-up once it is over), whose
    differences are the time-at-length histograms of any span of sample intervals (queue-length percentiles per
    batch)."""

    times_s: npt.NDArray[np.float64]
    servers: tuple[str, ...]
    utilisation: npt.NDArray[np.float64]
    queue_length: npt.NDArray[np.int64]
    queue_area: npt.NDArray[np.float64]
    devices: tuple[str, ...] = ()
    battery_j: npt.NDArray[np.float64] = field(default_factory=lambda: np.empty((0, 0)))
    queue_time: tuple[tuple[list[float], ...], ...] = ()


@dataclass(frozen=True, slots=True)
class EngineOutput:
    """What one replication produced."""

    sink: RecordSink
    generated: int
    in_flight: int
    pools: tuple[PoolSnapshot, ...]
    samples: Samples
    dropped_by_reason: dict[DropReason, int]
    platform: tuple[pd.DataFrame, ...] | None = None
    mobility: pd.DataFrame | None = None
    motion: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame] | None = None
