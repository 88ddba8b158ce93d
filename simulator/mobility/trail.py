"""What the moving devices did over time, recorded at every step of their group (:class:`Trail`; the tables are
described in :mod:`simulator.motion_log`, which also bins the tasks' latency by speed).

At each step of a group, after its devices moved and handed over:

- the mean, over the group's devices, of the distance from each device to its serving replica and of the round trip
  to it. The serving replica is the first remote candidate the device's cell offers: the nearest host of the
  service its cell reaches (with a session or a re-placement, the host they bind it to). Its distance is taken to
  the cell of the replica's node; a replica on a node that is no cell of the map (a core site, a cloud) has no
  position, so its distance is NaN while the round trip stays defined;
- each device's speed: its displacement over the step divided by the step (``speed_mps``, kept in single
  precision: 4 bytes per device and step, a relative error below 6e-8, far under what the log is read for);
- the positions of the first :data:`TRACKED` devices of the group (their tracks, for the map figure).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from simulator.motion_log import CELL_COLUMNS, SERIES_COLUMNS, SPEED_COLUMNS, TRACK_COLUMNS

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
NameArray = npt.NDArray[np.object_]

#: Devices per group whose tracks are kept.
TRACKED = 5


class Trail:
    """The record of one replication (see the module docstring) over the moving ``groups`` (name and device names
    each, in the controller's order: the devices are its rows)."""

    def __init__(self, cells: pd.DataFrame, groups: Sequence[tuple[str, NameArray]]) -> None:
        self.cells = cells[list(CELL_COLUMNS)]
        self._groups = [name for name, _ in groups]
        self._names = np.concatenate([names for _, names in groups]) if groups else np.empty(0, dtype=object)
        self._owner = np.repeat(np.arange(len(groups), dtype=_code_dtype(len(groups))),
                                [names.size for _, names in groups])
        self._series: list[tuple[str, float, float, float]] = []
        #: per step of a set of groups: the rows recorded (one array per set, shared), the time and the values
        self._tracks: list[tuple[IntArray, float, FloatArray]] = []
        self._speeds: list[tuple[IntArray, float, npt.NDArray[np.float32]]] = []
        self._tracked: dict[int, tuple[IntArray, IntArray]] = {}

    def record(self, rows: IntArray, spans: Sequence[slice], time_s: float, before_m: FloatArray,
               after_m: FloatArray, step_s: float, replica_m: FloatArray, round_trip_s: FloatArray) -> None:
        """One step of some groups: their devices (rows ``rows``, each group's ``spans`` of them, in order) moved
        from ``before_m`` to ``after_m`` (``(n, 2)``) over ``step_s``; their serving replicas are at ``replica_m``
        (``(n, 2)``, NaN: off the map), ``round_trip_s`` away."""
        distance = np.hypot(after_m[:, 0] - replica_m[:, 0], after_m[:, 1] - replica_m[:, 1])
        groups, owner = self._groups, self._owner
        for span in spans:
            self._series.append((groups[owner[rows[span.start]]], time_s, _mean(distance[span]),
                                 _mean(round_trip_s[span])))
        if id(rows) not in self._tracked:  # the first TRACKED devices of each group: once per set of groups
            local = np.concatenate([np.arange(span.start, min(span.start + TRACKED, span.stop), dtype=np.intp)
                                    for span in spans])
            self._tracked[id(rows)] = (local, rows[local])
        local, tracked = self._tracked[id(rows)]
        self._tracks.append((tracked, time_s, after_m[local]))
        moved = after_m - before_m
        self._speeds.append((rows, time_s, (np.hypot(moved[:, 0], moved[:, 1]) / step_s).astype(np.float32)))

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """The distance series (:data:`SERIES_COLUMNS`), the tracks (:data:`TRACK_COLUMNS`), the speed log
        (:data:`SPEED_COLUMNS`), in time order per group, and the cells (:data:`CELL_COLUMNS`)."""
        series = pd.DataFrame(self._series, columns=list(SERIES_COLUMNS))
        return series, self._long(self._tracks, TRACK_COLUMNS), self._long(self._speeds, SPEED_COLUMNS), self.cells

    def _long(self, steps: Sequence[tuple[IntArray, float, npt.NDArray[np.floating]]], columns: Sequence[str]
              ) -> pd.DataFrame:
        """One row per device and step; ``group`` and ``device`` categorical (codes into the groups and the names
        of the devices recorded, in the smallest integer type, built without a Python object per row: a long run
        logs every device at every step), rows of a step in the groups' order."""
        if not steps:
            return pd.DataFrame({column: [] for column in columns})
        shared = {id(rows): rows for rows, _, _ in steps}  # the few distinct row sets
        met = np.unique(np.concatenate(list(shared.values())))
        small = {key: (np.searchsorted(met, rows).astype(_code_dtype(met.size)), self._owner[rows])
                 for key, rows in shared.items()}
        devices, groups = (np.concatenate([small[id(rows)][k] for rows, _, _ in steps]) for k in (0, 1))
        values = np.concatenate([value.reshape(value.shape[0], -1) for _, _, value in steps])
        frame = {"group": pd.Categorical.from_codes(groups, dtype=pd.CategoricalDtype(self._groups)),
                 "device": pd.Categorical.from_codes(devices, dtype=pd.CategoricalDtype(self._names[met].tolist())),
                 "time_s": np.repeat([time_s for _, time_s, _ in steps], [rows.size for rows, _, _ in steps])}
        for k, column in enumerate(columns[3:]):
            frame[column] = values[:, k]
        return pd.DataFrame(frame, columns=list(columns), copy=False)  # the arrays are fresh: no second copy


def _mean(values: FloatArray) -> float:
    """The mean of the known (not NaN) values, NaN if none is."""
    mean = float(values.mean())
    if mean == mean:
        return mean
    known = values[~np.isnan(values)]
    return float(known.mean()) if known.size else math.nan


def _code_dtype(categories: int) -> np.dtype[np.signedinteger[Any]]:
    """The smallest integer type of the codes of ``categories`` categories (pandas' own choice)."""
    return np.dtype(np.int8 if categories < 2 ** 7 else np.int16 if categories < 2 ** 15 else np.int32)
