"""The result of :func:`simulator.run.run`: records, time series, summary and metadata in one typed object."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import pandas as pd

from simulator.motion_log import BY_SPEED_COLUMNS, MotionLog, latency_by_speed


class DropReason(StrEnum):
    """Why a task was dropped, as the records' ``drop_reason`` column spells it (``NONE``: not dropped)."""

    NONE = ""
    SERVER_QUEUE_FULL = "server_queue_full"
    LOCAL_QUEUE_FULL = "local_queue_full"
    DEADLINE_EXPIRED = "deadline_expired"
    NO_READY_REPLICA = "no_ready_replica"
    NODE_FAILURE = "node_failure"
    RENEGED = "reneged"
    BATTERY_EMPTY = "battery_empty"
    POLICY_DROP = "policy_drop"
    TIMED_OUT = "timed_out"
    VERSION_ERROR = "version_error"


#: Record columns naming who ran the task where (categorical but ``replication`` and ``task_id``).
IDENTITY_COLUMNS = ("policy", "replication", "task_id", "device", "service", "target")
#: Times (s) at which a task reached each stage; NaN for a stage that did not happen.
STAGE_TIME_COLUMNS = ("created_s", "upload_start_s", "upload_end_s", "queue_entry_s", "service_start_s",
                      "service_end_s", "download_start_s", "download_end_s", "completed_s")
#: Size of a task.
SIZE_COLUMNS = ("work_ops", "input_bits", "output_bits")
#: Device energy (J) and its breakdown (:func:`simulator.energy.meter`).
ENERGY_COLUMNS = ("energy_j", "energy_compute_j", "energy_tx_j", "energy_rx_j", "energy_idle_j", "energy_tail_j")
#: How a task ended.
OUTCOME_COLUMNS = ("deadline_met", "dropped", "drop_reason", "in_flight")
#: Columns of :attr:`SimulationResult.records`, in order.
RECORD_COLUMNS = (*IDENTITY_COLUMNS, *STAGE_TIME_COLUMNS, "latency_s", *SIZE_COLUMNS, *ENERGY_COLUMNS,
                  *OUTCOME_COLUMNS)
#: Columns of :attr:`SimulationResult.timeseries`.
TIMESERIES_COLUMNS = ("policy", "replication", "time_s", "server", "utilisation", "queue_length")
#: Columns of :attr:`SimulationResult.battery`.
BATTERY_COLUMNS = ("policy", "replication", "time_s", "device", "battery_j")


#: Keys of the latency statistics in the JSON summary, in order (the :class:`LatencySummary` fields without ``_s``).
LATENCY_KEYS = ("mean", "p50", "p95", "p99")
#: Run settings repeated at the top level of the JSON summary, read from :attr:`SimulationResult.metadata`.
_RUN_KEYS = ("seed", "version", "replications", "duration_s", "warmup_s")


@dataclass(frozen=True, slots=True)
class LatencySummary:
    """Latency statistics (s) of one policy, or their 95 % CI half-widths; ``None`` where undefined."""

    mean_s: float | None
    p50_s: float | None
    p95_s: float | None
    p99_s: float | None

    def to_dict(self) -> dict[str, float | None]:
        """``{"mean", "p50", "p95", "p99"}`` as the JSON summary spells them."""
        return dict(zip(LATENCY_KEYS, (self.mean_s, self.p50_s, self.p95_s, self.p99_s), strict=True))


@dataclass(frozen=True, slots=True)
class TaskCounts:
    """Tasks of one policy, totals over replications: ``generated == completed + dropped + in_flight``
    (``in_flight``: still unfinished when the run ended)."""

    generated: int
    completed: int
    dropped: int
    in_flight: int

    def to_dict(self) -> dict[str, int]:
        """The counts under their field names."""
        return {"generated": self.generated, "completed": self.completed, "dropped": self.dropped,
                "in_flight": self.in_flight}


@dataclass(frozen=True, slots=True)
class MonitorSummary:
    """One service's monitor: requests per minute and mean request time (means over replications) and requests
    served after the warm-up (``counter``, total over replications)."""

    avg_qpm: float | None
    avg_req_time_s: float | None
    counter: int

    def to_dict(self) -> dict[str, Any]:
        """The monitor under its field names."""
        return {"avg_qpm": self.avg_qpm, "avg_req_time_s": self.avg_req_time_s, "counter": self.counter}


@dataclass(frozen=True, slots=True)
class Estimate:
    """A statistic and the half-width of its 95 % interval (``None``: undefined, or the run too short to say)."""

    mean: float | None
    ci95: float | None

    def to_dict(self) -> dict[str, float | None]:
        """``{"mean", "ci95"}``."""
        return {"mean": self.mean, "ci95": self.ci95}


@dataclass(frozen=True, slots=True)
class StationSummary:
    """One server over the measured window (see :mod:`simulator.summary`).

    Attributes
    ----------
    utilisation : Estimate
        Busy share of its workers.
    wait_s, service_s : Estimate
        Mean wait (time at the server minus the service the task needed) and service of the tasks it served.
    queue_length : Estimate
        Time-average number of tasks waiting.
    queue_quantiles : dict
        ``p50``, ``p95``, ``p99`` of the time-weighted queue length (means over replications).
    queue_quantiles_ci95 : dict
        Their 95 % half-widths: Student-t over replications, or over one replication over the same percentile of
        its batches (see :mod:`simulator.stations`); ``None`` when too short to say.
    offered_load : float or None
        ``λ E[S] / workers`` measured: arrivals per second times mean service over the workers (mean over
        replications); >= 1 means the server cannot keep up without dropping.
    served : int
        Tasks served (total over replications).
    drops : dict
        Dropped tasks per reason (totals over replications).
    """

    utilisation: Estimate
    wait_s: Estimate
    service_s: Estimate
    queue_length: Estimate
    queue_quantiles: Mapping[str, float | None]
    offered_load: float | None
    served: int
    drops: Mapping[str, int]
    queue_quantiles_ci95: Mapping[str, float | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: estimates as ``{"mean", "ci95"}``, queue-length quantiles beside the mean (``p95``) with
        their half-widths (``p95_ci95``)."""
        return {"utilisation": self.utilisation.to_dict(), "wait_s": self.wait_s.to_dict(),
                "service_s": self.service_s.to_dict(),
                "queue_length": {**self.queue_length.to_dict(), **self.queue_quantiles,
                                 **{f"{key}_ci95": value for key, value in self.queue_quantiles_ci95.items()}},
                "offered_load": self.offered_load, "served": self.served, "drops": dict(self.drops)}


@dataclass(frozen=True, slots=True)
class PolicySummary:
    """Summary of one policy over its replications (see :mod:`simulator.summary`); ``None`` where undefined.

    Attributes
    ----------
    latency_s, latency_ci95_s : LatencySummary
        Latency statistics of completed measured tasks and their 95 % CI half-widths.
    energy_j_per_task : float or None
        Device energy of finished tasks (dropped ones' too) per completed task; ``None`` when no device has a power.
    offload_fraction, deadline_miss_rate : float or None
        Shares of finished measured tasks that were offloaded, and that missed their deadline (a drop is a miss).
    utilisation : dict
        Busy share of each server's workers over the measured window.
    monitor : dict
        :class:`MonitorSummary` per service.
    tasks : TaskCounts
        Task counts over all replications.
    stations : dict
        :class:`StationSummary` per server.
    battery_j : float or None
        Mean battery level (J) over the time-series samples of every device with a battery; ``None`` without one
        (and then absent from the JSON form).
    """

    latency_s: LatencySummary
    latency_ci95_s: LatencySummary
    energy_j_per_task: float | None
    offload_fraction: float | None
    deadline_miss_rate: float | None
    utilisation: Mapping[str, float | None]
    monitor: Mapping[str, MonitorSummary]
    tasks: TaskCounts
    stations: Mapping[str, StationSummary]
    battery_j: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON-serialisable form, as ``mecsim simulate --json`` writes it under ``policies.NAME``."""
        battery = {} if self.battery_j is None else {"battery_j": self.battery_j}
        return battery | {"latency_s": self.latency_s.to_dict(), "latency_ci95_s": self.latency_ci95_s.to_dict(),
                "energy_j_per_task": self.energy_j_per_task, "offload_fraction": self.offload_fraction,
                "deadline_miss_rate": self.deadline_miss_rate, "utilisation": dict(self.utilisation),
                "monitor": {service: m.to_dict() for service, m in self.monitor.items()},
                "tasks": self.tasks.to_dict(),
                "stations": {name: station.to_dict() for name, station in self.stations.items()}}


#: The platform's counters (:attr:`PlatformLog.counts`): requests retried by their devices, by the reason their
#: attempt failed (:mod:`simulator.lifecycle.retry`), and requests spilled out of their deployment's domain, by the
#: reason they left (:mod:`simulator.lifecycle.spill`).
PLATFORM_COUNTERS = ("retried", "spilled")


@dataclass(frozen=True, slots=True)
class PlatformLog:
    """What the platform's controllers did (:mod:`simulator.lifecycle`), with ``policy`` and ``replication``
    columns: ``events`` (``time_s``, ``kind``, ``service``, ...), ``replicas`` (replicas per state after every
    change), ``drops`` (tasks dropped per ``reason``), ``counts`` (``counter`` of :data:`PLATFORM_COUNTERS`,
    ``reason``, ``count``), ``traffic`` (per service version, sampled: replicas, traffic weight, load, p95 request
    time and error rate over a window) and ``versions`` (the per-version monitor: average queries per minute, average
    request time, calls and errors after the warm-up)."""

    events: pd.DataFrame
    replicas: pd.DataFrame
    drops: pd.DataFrame
    counts: pd.DataFrame
    traffic: pd.DataFrame
    versions: pd.DataFrame

    def for_policy(self, name: str) -> dict[str, Any]:
        """The ``events``, ``replicas``, ``traffic``, ``dropped_by_reason``, ``COUNTER_by_reason`` and
        ``version_monitor`` (means over replications; calls and errors: totals) of one policy as JSON-able data."""
        def mine(frame: pd.DataFrame) -> pd.DataFrame:
            return frame[frame["policy"] == name].drop(columns="policy")

        def rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
            return [{str(key): value for key, value in row.items()} for row in frame.to_dict(orient="records")]

        def by_reason(frame: pd.DataFrame) -> dict[str, int]:
            counts = mine(frame).groupby("reason")["count"].sum()
            return {str(reason): int(count) for reason, count in counts.items()}

        counters = {f"{counter}_by_reason": by_reason(self.counts[self.counts["counter"] == counter])
                    for counter in PLATFORM_COUNTERS}
        monitor = mine(self.versions).groupby(["service", "version", "deployment"], sort=False).agg(
            avg_qpm=("avg_qpm", "mean"), avg_req_time_s=("avg_req_time_s", "mean"), calls=("calls", "sum"),
            errors=("errors", "sum")).reset_index()
        return {"events": rows(mine(self.events)), "replicas": rows(mine(self.replicas)),
                "traffic": rows(mine(self.traffic)), "version_monitor": rows(monitor),
                "dropped_by_reason": by_reason(self.drops), **counters}


@dataclass(frozen=True, slots=True)
class SimulationResult:
    """Everything a run produced.

    Attributes
    ----------
    records : pandas.DataFrame
        One row per task (:data:`RECORD_COLUMNS`; times in s, NaN for stages that did not happen, energies in J).
        Tasks still in flight at the horizon have ``in_flight`` set. Empty when run with ``streaming=True``.
    timeseries : pandas.DataFrame
        Per server, sampled every ``sample_interval_s``: utilisation averaged over the interval and the queue
        length at the sample instant.
    policies : dict
        :class:`PolicySummary` per policy label, in run order. Statistics cover tasks created after the warm-up.
    metadata : dict
        Seed, version, parameters, world hash, Little's-law check per server, wall-clock time.
    placement : dict or None
        The placement solved before simulating (:func:`simulator.scenario.execute.placement_summary`), if any.
    battery : pandas.DataFrame or None
        The battery level of every device with a battery at each time-series sample (:data:`BATTERY_COLUMNS`);
        ``None`` when no device has one.
    platform : PlatformLog or None
        Events, replica time series and drops by reason of a run with a platform (deployments), else ``None``.
    mobility : pandas.DataFrame or None
        Per policy, replication and moving device group: handovers (and per device-hour), interruption time,
        transfers a handover interrupted, mean distance to the serving access point and mean radio uplink rate
        (:data:`simulator.mobility.controller.MOBILITY_COLUMNS`); ``None`` when nothing moves.
    motion : MotionLog or None
        The moving devices over time: per group the distance to the serving replica at every step, some devices'
        tracks and every device's speed (:class:`simulator.motion_log.MotionLog`; the tasks' latency against speed:
        :meth:`latency_by_speed`).
    """

    records: pd.DataFrame
    timeseries: pd.DataFrame
    policies: dict[str, PolicySummary]
    metadata: dict[str, Any]
    placement: Mapping[str, Any] | None = None
    battery: pd.DataFrame | None = None
    platform: PlatformLog | None = None
    mobility: pd.DataFrame | None = None
    motion: MotionLog | None = None

    def to_json_dict(self) -> dict[str, Any]:
        """The JSON-serialisable summary: ``{"policies": {NAME: PolicySummary.to_dict()}, "seed", "version",
        "replications", "duration_s", "warmup_s"}``, ``"placement"`` when the run placed services first, per
        policy ``events``, ``replicas``, ``traffic``, ``version_monitor`` and ``dropped_by_reason`` when it ran a
        platform (:class:`PlatformLog`), and per policy ``mobility`` (one row per moving group, means over
        replications), ``mobility_series`` and ``latency_by_speed`` (:meth:`MotionLog.for_policy`) when devices
        moved."""
        summary: dict[str, Any] = {"policies": {name: p.to_dict() for name, p in self.policies.items()},
                                   **{key: self.metadata[key] for key in _RUN_KEYS}}
        if self.placement is not None:
            summary["placement"] = dict(self.placement)
        if self.platform is not None:
            for name, policy in summary["policies"].items():
                policy.update(self.platform.for_policy(name))
        if self.mobility is not None:
            means = self.mobility.drop(columns="replication").groupby(["policy", "group"], sort=False).mean()
            for name, policy in summary["policies"].items():
                mine = means.loc[name].reset_index() if name in means.index.get_level_values(0) else means.iloc[:0]
                policy["mobility"] = [{str(k): v for k, v in row.items()} for row in mine.to_dict(orient="records")]
        if self.motion is not None:
            by_speed = self.latency_by_speed()
            for name, policy in summary["policies"].items():
                mine = by_speed[by_speed["policy"] == name].drop(columns="policy")
                policy["mobility_series"] = self.motion.series_for(name)
                policy["latency_by_speed"] = [{str(k): v for k, v in row.items()}
                                              for row in mine.to_dict(orient="records")]
        return summary

    def latency_by_speed(self) -> pd.DataFrame:
        """Per policy (every replication's tasks), moving group and speed bin, the latency of completed tasks
        against their device's speed (:func:`simulator.motion_log.latency_by_speed`); empty when nothing moved or
        records were not kept."""
        frames = [] if self.motion is None else [
            latency_by_speed(self.records[self.records["policy"] == name],
                             self.motion.speeds[self.motion.speeds["policy"] == name]).assign(policy=name)
            for name in self.policies]
        if not frames:
            return pd.DataFrame({column: [] for column in ("policy", *BY_SPEED_COLUMNS)})
        table = pd.concat(frames, ignore_index=True)
        return table[["policy", *BY_SPEED_COLUMNS]]

    @property
    def summary(self) -> dict[str, Any]:
        """:meth:`to_json_dict`, for code that reads the summary as JSON."""
        return self.to_json_dict()

    def summary_frame(self) -> pd.DataFrame:
        """One row per policy × metric: ``policy, metric, value, ci95, unit`` (tidy, for plots and papers).

        ``ci95`` is the 95 % confidence half-width where the summary has one (the latency statistics), else NaN;
        ``value`` is NaN where the statistic is undefined (no completed task, no device power).

        Examples
        --------
        >>> from simulator.builders import mm1_world
        >>> from simulator.run import run
        >>> frame = run(mm1_world(8.0, 10.0), duration_s=200, seed=1).summary_frame()
        >>> list(frame.columns)
        ['policy', 'metric', 'value', 'ci95', 'unit']
        """
        rows = []
        for policy, summary in self.policies.items():
            value, ci95 = summary.latency_s.to_dict(), summary.latency_ci95_s.to_dict()
            rows += [(policy, f"latency_{key}", value[key], ci95[key], "s") for key in LATENCY_KEYS]
            rows += [(policy, "energy_per_task", summary.energy_j_per_task, None, "J"),
                     (policy, "offload_fraction", summary.offload_fraction, None, "1"),
                     (policy, "deadline_miss_rate", summary.deadline_miss_rate, None, "1")]
            rows += [(policy, f"tasks_{key}", count, None, "tasks") for key, count in summary.tasks.to_dict().items()]
        return _frame(rows, ("policy", "metric", "value", "ci95", "unit"))

    def station_frame(self) -> pd.DataFrame:
        """One row per policy × server: ``utilisation`` (busy share of its workers) and Little's law measured two
        ways, ``mean_in_system`` (L, time-average requests queued or in service) and ``arrival_rate_x_sojourn``
        (λW); both are means over replications, NaN where undefined."""
        little = self.metadata.get("littles_law", {})
        rows = [(policy, server, utilisation, little.get(policy, {}).get(server, {}).get("L"),
                 little.get(policy, {}).get(server, {}).get("lambda_W"))
                for policy, summary in self.policies.items() for server, utilisation in summary.utilisation.items()]
        return _frame(rows, ("policy", "server", "utilisation", "mean_in_system", "arrival_rate_x_sojourn"))

    def service_frame(self) -> pd.DataFrame:
        """One row per policy × service: the platform's monitor, ``avg_qpm`` (requests per minute),
        ``avg_req_time_s`` (means over replications) and ``calls`` (requests served after the warm-up, total)."""
        rows = [(policy, service, m.avg_qpm, m.avg_req_time_s, m.counter)
                for policy, summary in self.policies.items() for service, m in summary.monitor.items()]
        return _frame(rows, ("policy", "service", "avg_qpm", "avg_req_time_s", "calls"))


def _frame(rows: list[tuple[Any, ...]], columns: tuple[str, ...]) -> pd.DataFrame:
    """A frame of ``rows``, ``None`` read as NaN in numeric columns."""
    frame = pd.DataFrame(rows, columns=list(columns))
    for column in columns:
        if column not in ("policy", "metric", "unit", "server", "service"):
            frame[column] = pd.to_numeric(frame[column], errors="coerce")
    return frame
