"""The result of :func:`simulator.run.run`: records, time series, summary and metadata in one typed object."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import pandas as pd


class DropReason(StrEnum):
    """Why a task was dropped, as the records' ``drop_reason`` column spells it (``NONE``: not dropped)."""

    NONE = ""
    SERVER_QUEUE_FULL = "server_queue_full"
    LOCAL_QUEUE_FULL = "local_queue_full"
    DEADLINE_EXPIRED = "deadline_expired"


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
    summary : dict
        JSON-serialisable: ``{"policies": {NAME: {"latency_s": {mean, p50, p95, p99}, "latency_ci95_s": {...},
        "energy_j_per_task", "offload_fraction", "deadline_miss_rate", "utilisation": {SERVER: float},
        "monitor": {SERVICE: {avg_qpm, avg_req_time_s, counter}}, "tasks": {generated, completed, dropped,
        in_flight}}}, "seed", "version", "replications", "duration_s", "warmup_s"}``. Statistics cover tasks
        created after the warm-up; ``energy_j_per_task`` is device energy (dropped tasks' too) per completed task
        (see :mod:`simulator.summary`).
    metadata : dict
        Seed, version, parameters, world hash, Little's-law check per server, wall-clock time.
    """

    records: pd.DataFrame
    timeseries: pd.DataFrame
    summary: dict[str, Any]
    metadata: dict[str, Any]

    def to_json_dict(self) -> dict[str, Any]:
        """The summary (already JSON-serialisable)."""
        return self.summary

    def policy(self, name: str) -> dict[str, Any]:
        """Summary of one policy."""
        return dict(self.summary["policies"][name])
