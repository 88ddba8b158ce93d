"""Per-task records, energy metering and streaming statistics of one replication.

Finished tasks are buffered in chunks; each chunk is turned into numpy columns, metered
(:func:`simulator.energy.meter`) and folded into running statistics. Unless streaming, the record columns go to
the run's :class:`~simulator.records.ColumnStore` (:func:`record_store`), which becomes the records DataFrame once
at the end; streaming, memory stays bounded whatever the horizon: latency quantiles then come from a log-spaced
histogram (relative resolution 0.12 %) instead of the exact sample.

Only tasks created after the warm-up count in the statistics; every task counts in conservation. The measured
window is cut into :data:`~simulator.output_analysis.BASE_BINS` bins by creation time, which hold the material of
the within-run intervals (:func:`simulator.output_analysis.batch_means`): latency, and per server the wait (time
at the server minus the service it needed) and service of the tasks it served. The whole run is binned too, for
warm-up detection. Drops are counted per server and reason.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from offload.cost import LOCAL_OPTION
from offload.errors import ParameterError
from simulator.energy import POWER_TERMS, meter
from simulator.output_analysis import BASE_BINS, batch_means
from simulator.records import ColumnStore, categorical, numeric
from simulator.result import ENERGY_COLUMNS, RECORD_COLUMNS, SIZE_COLUMNS, STAGE_TIME_COLUMNS, DropReason

FloatArray = npt.NDArray[np.float64]
CHUNK = 8192
QUANTILES = (50.0, 95.0, 99.0)
_HIST_LOW_EXP, _HIST_HIGH_EXP, _HIST_PER_DECADE = -7, 6, 2000
_HIST_BINS = (_HIST_HIGH_EXP - _HIST_LOW_EXP) * _HIST_PER_DECADE

#: Job attributes copied into records, in this order (see :class:`simulator.jobs.Job`).
JOB_FIELDS = ("task_id", "device_index", "target_code", "drop_code", "created_s", "upload_start_s",
              "upload_end_s", "queue_entry_s", "service_start_s", "service_end_s", "download_start_s",
              "download_end_s", "completed_s", "work_ops", "input_bits", "output_bits", "service_s",
              "compute_power_w", "tx_power_w", "earlier_tx_s", "earlier_wait_s")
_INT_FIELDS = ("task_id", "device_index", "target_code", "drop_code")
_get_fields = attrgetter(*JOB_FIELDS)
_FLOAT_COLUMNS = (*STAGE_TIME_COLUMNS, "latency_s", *SIZE_COLUMNS, *ENERGY_COLUMNS)


def record_store(policies: Sequence[str], devices: Sequence[str], services: Sequence[str],
                 targets: Sequence[str]) -> ColumnStore:
    """An empty store for the records of a run, with the columns of :data:`simulator.result.RECORD_COLUMNS`."""
    columns = [categorical("policy", policies), numeric("replication", np.int64), numeric("task_id", np.int64),
               categorical("device", devices), categorical("service", services), categorical("target", targets),
               *(numeric(name, np.float64) for name in _FLOAT_COLUMNS),
               numeric("deadline_met", np.bool_), numeric("dropped", np.bool_),
               categorical("drop_reason", [reason.value for reason in DropReason]), numeric("in_flight", np.bool_)]
    assert tuple(column.name for column in columns) == RECORD_COLUMNS
    return ColumnStore(columns)


@dataclass(frozen=True, slots=True)
class RecordLabel:
    """Where a replication's records go: the run's store, the policy (code) and replication they belong to, and
    the store's row of their task 0 (a task's row is that plus its id, so the records come out in task order)."""

    store: ColumnStore
    policy_code: int
    replication: int
    first_row: int


@dataclass(frozen=True, slots=True)
class Layout:
    """Static facts about the devices needed to meter and classify records (arrays indexed by device)."""

    device_group: npt.NDArray[np.intp]
    device_service: npt.NDArray[np.intp]
    group_deadline_s: FloatArray
    group_powers: dict[str, FloatArray]
    n_services: int
    n_stations: int = 0


@dataclass(slots=True)
class ReplicationStats:
    """Running statistics of one (policy, replication)."""

    completed: int = 0
    dropped: int = 0
    finished_measured: int = 0
    completed_measured: int = 0
    latency_sum_s: float = 0.0
    energy_sum_j: float = 0.0
    offloaded: int = 0
    missed: int = 0
    batch_sum_s: FloatArray = field(default_factory=lambda: np.zeros(BASE_BINS))
    batch_count: FloatArray = field(default_factory=lambda: np.zeros(BASE_BINS))
    run_sum_s: FloatArray = field(default_factory=lambda: np.zeros(BASE_BINS))
    run_count: FloatArray = field(default_factory=lambda: np.zeros(BASE_BINS))
    station_wait_s: FloatArray = field(default_factory=lambda: np.zeros((0, BASE_BINS)))
    station_service_s: FloatArray = field(default_factory=lambda: np.zeros((0, BASE_BINS)))
    station_count: FloatArray = field(default_factory=lambda: np.zeros((0, BASE_BINS)))
    station_drops: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros((0, len(DropReason)),
                                                                                   dtype=np.int64))
    histogram: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(_HIST_BINS, dtype=np.int64))
    monitor_count: FloatArray = field(default_factory=lambda: np.zeros(0))
    monitor_time_s: FloatArray = field(default_factory=lambda: np.zeros(0))


class RecordSink:
    """Collects finished jobs of one replication into chunks, meters them and updates :class:`ReplicationStats`."""

    def __init__(self, layout: Layout, *, warmup_s: float, duration_s: float, records: RecordLabel | None) -> None:
        """``records``: where the records go (``None``: streaming, records not kept)."""
        self.layout = layout
        self.warmup_s = warmup_s
        self.duration_s = duration_s
        if not warmup_s < duration_s:
            raise ParameterError("warmup_s", warmup_s, f"must be < duration_s ({duration_s})")
        #: Measured window, > 0: split into BASE_BINS equal bins.
        self.window_s = duration_s - warmup_s
        self.records = records
        stations = (layout.n_stations, BASE_BINS)
        self.stats = ReplicationStats(monitor_count=np.zeros(layout.n_services),
                                      monitor_time_s=np.zeros(layout.n_services),
                                      station_wait_s=np.zeros(stations), station_service_s=np.zeros(stations),
                                      station_count=np.zeros(stations),
                                      station_drops=np.zeros((layout.n_stations, len(DropReason)), dtype=np.int64))
        #: With records kept, the measured latencies and their batches until :meth:`close`.
        self._sample = None if records is None else ColumnStore([numeric("latency_s", np.float64),
                                                                 numeric("batch", np.int16)])
        self._quantiles_s: dict[str, float] = {}
        self._batch_quantiles_s: dict[str, list[float]] = {}
        self._pending: list[Any] = []

    def add(self, job: Any) -> None:
        """Buffer a finished job (completed or dropped)."""
        pending = self._pending
        pending.append(job)
        if len(pending) >= CHUNK:
            self.flush()

    def flush(self, *, in_flight: bool = False) -> None:
        """Meter the buffered jobs and fold them into the statistics (``in_flight``: unfinished at the horizon)."""
        if not self._pending:
            return
        raw = np.array([_get_fields(job) for job in self._pending], dtype=np.float64)
        self._pending = []
        columns: dict[str, Any] = {name: raw[:, i] for i, name in enumerate(JOB_FIELDS)}
        for name in _INT_FIELDS:
            columns[name] = columns[name].astype(np.int64)
        layout = self.layout
        group = layout.device_group[columns["device_index"]]
        local = columns["target_code"] == LOCAL_OPTION
        dropped = columns["drop_code"] > 0
        latency = columns["completed_s"] - columns["created_s"]
        completed = ~dropped & ~np.isnan(latency) & ~np.bool_(in_flight)
        deadline = layout.group_deadline_s[group]
        met = completed & (latency <= deadline)
        powers = {name: layout.group_powers[name][group] for name in POWER_TERMS.values()}
        for name in ("compute_power_w", "tx_power_w"):  # a planner's DVFS or transmit power for this task
            powers[name] = np.where(np.isnan(columns[name]), powers[name], columns[name])
        columns.update(meter(columns, local, powers, earlier_tx_s=columns["earlier_tx_s"],
                             earlier_wait_s=columns["earlier_wait_s"]))
        columns["latency_s"] = latency
        columns["deadline_met"] = met
        columns["dropped"] = dropped
        columns["in_flight"] = np.full(latency.shape, in_flight)
        columns["service_code"] = layout.device_service[columns["device_index"]]
        if not in_flight:
            self._accumulate(columns, completed, dropped, local, met)
        if self.records is not None:
            self._store(columns, self.records)

    @staticmethod
    def _store(columns: dict[str, Any], records: RecordLabel) -> None:
        records.store.write(records.first_row + columns["task_id"], {
            "policy": records.policy_code, "replication": records.replication, "task_id": columns["task_id"],
            "device": columns["device_index"], "service": columns["service_code"], "target": columns["target_code"],
            **{name: columns[name] for name in _FLOAT_COLUMNS},
            "deadline_met": columns["deadline_met"], "dropped": columns["dropped"],
            "drop_reason": columns["drop_code"], "in_flight": columns["in_flight"]})

    def _accumulate(self, columns: dict[str, Any], completed: Any, dropped: Any, local: Any, met: Any) -> None:
        stats = self.stats
        stats.completed += int(completed.sum())
        stats.dropped += int(dropped.sum())
        measured = columns["created_s"] >= self.warmup_s
        finished = measured & (completed | dropped)
        stats.finished_measured += int(finished.sum())
        stats.energy_sum_j += float(columns["energy_j"][finished].sum())
        stats.offloaded += int((finished & ~local).sum())
        stats.missed += int((finished & ~met).sum())
        bins = np.clip(((columns["created_s"] - self.warmup_s) / self.window_s * BASE_BINS).astype(np.int64), 0,
                       BASE_BINS - 1)
        run_bins = np.clip((columns["created_s"] / self.duration_s * BASE_BINS).astype(np.int64), 0, BASE_BINS - 1)
        stats.run_sum_s += np.bincount(run_bins[completed], weights=columns["latency_s"][completed],
                                       minlength=BASE_BINS)
        stats.run_count += np.bincount(run_bins[completed], minlength=BASE_BINS)
        done = measured & completed
        latency = columns["latency_s"][done]
        stats.completed_measured += latency.size
        stats.latency_sum_s += float(latency.sum())
        batch = bins[done]
        stats.batch_sum_s += np.bincount(batch, weights=latency, minlength=BASE_BINS)
        stats.batch_count += np.bincount(batch, minlength=BASE_BINS)
        if self._sample is not None:
            rows = self._sample.rows
            self._sample.write(np.arange(rows, rows + latency.size), {"latency_s": latency, "batch": batch})
        else:
            stats.histogram += np.bincount(_hist_bin(latency), minlength=_HIST_BINS)
        served = measured & ~local & ~np.isnan(columns["service_end_s"])
        codes = columns["service_code"][served]
        n = self.layout.n_services
        stats.monitor_count += np.bincount(codes, minlength=n)
        request_s = (columns["service_end_s"] - columns["queue_entry_s"])[served]
        stats.monitor_time_s += np.bincount(codes, weights=request_s, minlength=n)
        self._accumulate_stations(columns, served, request_s, bins[served], measured & dropped & ~local)

    def _accumulate_stations(self, columns: dict[str, Any], served: Any, request_s: FloatArray, bins: Any,
                             dropped: Any) -> None:
        """Per server: wait and service of the tasks it served, by bin; drops by reason. A chunk's tasks were
        created close together, so only the bins it touches are counted (a chunk costs its own size, not the
        servers × bins table: that is what kept runs with many servers slow)."""
        stats = self.stats
        k = self.layout.n_stations
        if k == 0:
            return
        if bins.size:
            first, last = int(bins.min()), int(bins.max()) + 1
            span = last - first
            cell = (columns["target_code"][served] - 1) * span + (bins - first)
            service_s = columns["service_s"][served]
            size = k * span
            stats.station_count[:, first:last] += np.bincount(cell, minlength=size).reshape(k, span)
            stats.station_service_s[:, first:last] += np.bincount(cell, weights=service_s,
                                                                  minlength=size).reshape(k, span)
            stats.station_wait_s[:, first:last] += np.bincount(cell, weights=np.maximum(request_s - service_s, 0.0),
                                                               minlength=size).reshape(k, span)
        if dropped.any():
            np.add.at(stats.station_drops, (columns["target_code"][dropped] - 1, columns["drop_code"][dropped]), 1)

    def close(self) -> None:
        """The replication is over: with records kept, take the exact quantiles from the sample and let it go."""
        if self._sample is None:
            return
        sample = self._sample.to_arrays()
        self._sample = None
        latency, batch = sample["latency_s"], sample["batch"]
        if latency.size == 0:
            self._quantiles_s = {f"p{int(q)}": math.nan for q in QUANTILES}
            return
        batches = batch_means(self.stats.batch_sum_s, self.stats.batch_count).batches
        if batches:  # quantiles over the batches that made the mean's batches uncorrelated
            group = batch // (BASE_BINS // batches)
            for q in QUANTILES:
                self._batch_quantiles_s[f"p{int(q)}"] = [float(np.percentile(latency[group == b], q))
                                                         for b in range(batches) if np.any(group == b)]
        values = np.percentile(latency, QUANTILES, overwrite_input=True)
        self._quantiles_s = {f"p{int(q)}": float(v) for q, v in zip(QUANTILES, values, strict=True)}

    def latency_quantiles_s(self) -> dict[str, float]:
        """p50, p95, p99 of measured latencies: exact from the sample, or from the histogram when streaming."""
        if self.records is not None:
            return self._quantiles_s
        return {f"p{int(q)}": _hist_quantile(self.stats.histogram, q / 100.0) for q in QUANTILES}

    def batch_quantiles_s(self) -> dict[str, list[float]]:
        """With records kept, latency quantiles per batch of the batching that made the batch means of the latency
        uncorrelated (empty when the run was too short for that, or streaming)."""
        return dict(self._batch_quantiles_s)


def _hist_bin(values: FloatArray) -> npt.NDArray[np.int64]:
    with np.errstate(divide="ignore"):
        position = (np.log10(np.maximum(values, 10.0**_HIST_LOW_EXP)) - _HIST_LOW_EXP) * _HIST_PER_DECADE
    return np.clip(position.astype(np.int64), 0, _HIST_BINS - 1)


def _hist_quantile(histogram: npt.NDArray[np.int64], q: float) -> float:
    total = int(histogram.sum())
    if total == 0:
        return math.nan
    cumulative = np.cumsum(histogram)
    index = int(np.searchsorted(cumulative, q * total, side="left"))
    return float(10.0 ** (_HIST_LOW_EXP + (index + 0.5) / _HIST_PER_DECADE))
