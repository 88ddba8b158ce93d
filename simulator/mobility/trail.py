"""What the moving devices did over time, recorded at every step of their group (:class:`Trail`; the tables are
described in :mod:`simulator.motion_log`, which also bins the tasks' latency by speed).

At each step of a group, after its devices moved and handed over:

- the mean, over the group's devices, of the distance from each device to its serving replica and of the round trip
  to it. The serving replica is the first remote candidate the device's cell offers: the nearest host of the
  service its cell reaches (with a session or a re-placement, the host they bind it to). Its distance is taken to
  the cell of the replica's node; a replica on a node that is no cell of the map (a core site, a cloud) has no
  position, so its distance is NaN while the round trip stays defined;
- each device's speed: its displacement over the step divided by the step (``speed_mps``);
- the positions of the first :data:`TRACKED` devices of the group (their tracks, for the map figure).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from simulator.motion_log import CELL_COLUMNS, SERIES_COLUMNS, SPEED_COLUMNS, TRACK_COLUMNS

FloatArray = npt.NDArray[np.float64]
NameArray = npt.NDArray[np.object_]

#: Devices per group whose tracks are kept.
TRACKED = 5


class Trail:
    """The record of one replication (see the module docstring)."""

    def __init__(self, cells: pd.DataFrame) -> None:
        self.cells = cells[list(CELL_COLUMNS)]
        self._series: list[tuple[str, float, float, float]] = []
        self._tracks: list[tuple[str, NameArray, float, FloatArray]] = []
        self._speeds: list[tuple[str, NameArray, float, FloatArray]] = []

    def record(self, group: str, names: NameArray, time_s: float, before_m: FloatArray, after_m: FloatArray,
               step_s: float, replica_m: FloatArray, round_trip_s: FloatArray) -> None:
        """One step of ``group``: its devices ``names`` moved from ``before_m`` to ``after_m`` (``(n, 2)``) over
        ``step_s``; their serving replicas are at ``replica_m`` (``(n, 2)``, NaN: off the map), ``round_trip_s``
        away."""
        distance = np.hypot(after_m[:, 0] - replica_m[:, 0], after_m[:, 1] - replica_m[:, 1])
        self._series.append((group, time_s, _mean(distance), _mean(round_trip_s)))
        self._tracks.append((group, names[:TRACKED], time_s, after_m[:TRACKED].copy()))
        moved = after_m - before_m
        self._speeds.append((group, names, time_s, np.hypot(moved[:, 0], moved[:, 1]) / step_s))

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """The distance series (:data:`SERIES_COLUMNS`), the tracks (:data:`TRACK_COLUMNS`), the speed log
        (:data:`SPEED_COLUMNS`), in time order per group, and the cells (:data:`CELL_COLUMNS`)."""
        series = pd.DataFrame(self._series, columns=list(SERIES_COLUMNS))
        return series, _long(self._tracks, TRACK_COLUMNS), _long(self._speeds, SPEED_COLUMNS), self.cells


def _mean(values: FloatArray) -> float:
    """The mean of the known (not NaN) values, NaN if none is."""
    mean = float(values.mean())
    if mean == mean:
        return mean
    known = values[~np.isnan(values)]
    return float(known.mean()) if known.size else math.nan


def _long(steps: list[tuple[str, NameArray, float, FloatArray]], columns: Sequence[str]) -> pd.DataFrame:
    """One row per device and step; ``group`` and ``device`` categorical (codes into the names met, built without
    a Python object per row: a long run logs every device at every step)."""
    if not steps:
        return pd.DataFrame({column: [] for column in columns})
    known: dict[int, int] = {}  # the first code of each names array (one per group, sliced for the tracks)
    names_met: list[NameArray] = []
    groups: dict[str, int] = {}
    codes, group_codes, counts = [], [], []
    offset = 0
    for group, names, _, _ in steps:
        base = names.base if names.base is not None else names
        if id(base) not in known:
            known[id(base)] = offset
            names_met.append(base)
            offset += base.size
        codes.append(known[id(base)] + np.arange(names.size))
        group_codes.append(groups.setdefault(group, len(groups)))
        counts.append(names.size)
    values = np.concatenate([value.reshape(names.size, -1) for _, names, _, value in steps])
    frame = {"group": pd.Categorical.from_codes(np.repeat(group_codes, counts),
                                                dtype=pd.CategoricalDtype(list(groups))),
             "device": pd.Categorical.from_codes(np.concatenate(codes),
                                                 dtype=pd.CategoricalDtype(np.concatenate(names_met).tolist())),
             "time_s": np.repeat([time_s for _, _, time_s, _ in steps], counts)}
    for k, column in enumerate(columns[3:]):
        frame[column] = values[:, k]
    return pd.DataFrame(frame, columns=list(columns))
