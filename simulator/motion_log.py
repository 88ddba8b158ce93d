"""What moving devices did over a run, as tables (:class:`MotionLog`), and their tasks' latency against their speed
(:func:`latency_by_speed`). The mobility controller records them (:class:`simulator.mobility.trail.Trail`).

- distance series (:data:`SERIES_COLUMNS`): at every step of a group, the mean over its devices of the distance
  from each device to its serving replica (NaN for a replica off the map) and of the round trip to it;
- tracks (:data:`TRACK_COLUMNS`): the positions of the first few devices of each group at every step;
- speed log (:data:`SPEED_COLUMNS`): every device's displacement over each step divided by the step;
- cells (:data:`CELL_COLUMNS`): where the access points are on the plane and how far they reach.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

#: Columns of the distance series, the tracks and the speed log (a run's tables add ``policy`` and
#: ``replication`` in front).
SERIES_COLUMNS = ("group", "time_s", "replica_distance_m", "replica_round_trip_s")
TRACK_COLUMNS = ("group", "device", "time_s", "x_m", "y_m")
SPEED_COLUMNS = ("group", "device", "time_s", "speed_mps")
CELL_COLUMNS = ("access_point", "x_m", "y_m", "range_m")
#: Columns of :func:`latency_by_speed`.
BY_SPEED_COLUMNS = ("group", "speed_lo_mps", "speed_hi_mps", "tasks", "mean_latency_s", "p95_latency_s")
#: Speed bins of :func:`latency_by_speed`.
SPEED_BINS = 5


@dataclass(frozen=True, slots=True)
class MotionLog:
    """A run's moving devices over time, with ``policy`` and ``replication`` columns: the distance ``series``, the
    ``tracks`` and the ``speeds`` (the speed log); and the ``cells`` of the map. The tasks' latency against speed
    comes from these and the records (:meth:`simulator.result.SimulationResult.latency_by_speed`)."""

    series: pd.DataFrame
    tracks: pd.DataFrame
    speeds: pd.DataFrame
    cells: pd.DataFrame

    @staticmethod
    def concat(logs: Sequence[MotionLog]) -> MotionLog:
        """One log of several runs of the same world (e.g. one per policy): their tables one after the other, the
        first run's cells."""
        policies = list(dict.fromkeys(p for log in logs for p in log.series["policy"].cat.categories))
        series, tracks, speeds = (pd.concat([_policies(getattr(log, name), policies) for log in logs],
                                            ignore_index=True) for name in ("series", "tracks", "speeds"))
        return MotionLog(series, tracks, speeds, logs[0].cells)

    def series_for(self, name: str) -> list[dict[str, Any]]:
        """The distance series of policy ``name`` (per group and step time, means over replications), as JSON-able
        rows."""
        series = self.series[self.series["policy"] == name].drop(columns=["policy", "replication"])
        return _rows(series.groupby(["group", "time_s"], sort=True).mean().reset_index())


def _policies(frame: pd.DataFrame, policies: list[str]) -> pd.DataFrame:
    """``frame`` with its categorical ``policy`` column over ``policies`` (tables concatenated stay categorical)."""
    return frame.assign(policy=frame["policy"].cat.set_categories(policies))


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(key): value for key, value in row.items()} for row in frame.to_dict(orient="records")]


def latency_by_speed(records: pd.DataFrame, speeds: pd.DataFrame, bins: int = SPEED_BINS) -> pd.DataFrame:
    """Completed tasks' latency per group and speed bin (:data:`BY_SPEED_COLUMNS`): a task's speed is its device's
    speed over the last step before the task was created (tasks created before the first step have none and are
    left out); ``bins`` equal bins from 0 to the fastest speed logged.

    ``records`` (``replication``, ``device``, ``created_s``, ``latency_s``, ``dropped``, ``in_flight``) and
    ``speeds`` (``replication`` and :data:`SPEED_COLUMNS`) hold one policy's replications.
    """
    done = records[~records["dropped"].astype(bool) & ~records["in_flight"].astype(bool)
                   & records["latency_s"].notna()]
    keys = ["replication", "device"]
    done = done[[*keys, "created_s", "latency_s"]].astype({"device": str, "replication": np.int64})
    log = speeds[[*keys, "group", "time_s", "speed_mps"]].astype({"device": str, "replication": np.int64})
    if done.empty or log.empty:
        return pd.DataFrame({column: [] for column in BY_SPEED_COLUMNS})
    joined = pd.merge_asof(done.sort_values("created_s"), log.sort_values("time_s"), left_on="created_s",
                           right_on="time_s", by=keys, direction="backward").dropna(subset=["speed_mps"])
    top = float(log["speed_mps"].max())
    edges = np.linspace(0.0, top if top > 0 else 1.0, bins + 1)
    joined["bin"] = np.minimum(np.searchsorted(edges, joined["speed_mps"], side="right") - 1, bins - 1)
    rows = []
    for (group, k), part in joined.groupby(["group", "bin"], sort=True):
        k = int(k)  # type: ignore[call-overload]
        latency = part["latency_s"].to_numpy()
        rows.append((group, edges[k], edges[k + 1], latency.size, float(latency.mean()),
                     float(np.quantile(latency, 0.95))))
    return pd.DataFrame(rows, columns=list(BY_SPEED_COLUMNS))
