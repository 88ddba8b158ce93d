"""Trace replay: each device's positions at given times, linearly interpolated between its points and held before
its first and after its last. The motion keeps a cursor per device, so a step costs O(devices + points passed)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from offload.errors import ParameterError
from simulator.mobility.models import Area, Motion

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


@dataclass(frozen=True, slots=True, eq=False)
class Trace:
    """A movement trace: row ``k`` puts device ``devices[k]`` (its index in the group) at ``positions_m[k]`` at
    time ``times_s[k]``. Devices without a row stay where they start."""

    times_s: FloatArray
    devices: IntArray
    positions_m: FloatArray
    _order: IntArray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        times = np.asarray(self.times_s, dtype=np.float64)
        devices = np.asarray(self.devices, dtype=np.intp)
        positions = np.asarray(self.positions_m, dtype=np.float64).reshape(-1, 2)
        if not times.size or times.shape != devices.shape or positions.shape[0] != times.size:
            raise ParameterError("trace", times.size, "needs one time, device and position per row, at least one")
        if not np.isfinite(times).all() or (times < 0).any():
            raise ParameterError("trace.time", float(times[~(times >= 0)].flat[0]), "must be >= 0 and finite")
        if (devices < 0).any():
            raise ParameterError("trace.device", int(devices.min()), "must be >= 0")
        object.__setattr__(self, "times_s", times)
        object.__setattr__(self, "devices", devices)
        object.__setattr__(self, "positions_m", positions)
        object.__setattr__(self, "_order", np.lexsort((times, devices)))

    def start(self, positions_m: FloatArray, area: Area, rng: np.random.Generator) -> Motion:
        """Replay from time 0; devices with rows start at their position then."""
        if self.devices.max() >= positions_m.shape[0]:
            raise ParameterError("trace.device", int(self.devices.max()),
                                 f"is not a device of the group (it has {positions_m.shape[0]})")
        return _Replay(self, positions_m)


class _Replay:
    __slots__ = ("cursor", "end", "now_s", "points_m", "positions_m", "times_s", "who")

    def __init__(self, trace: Trace, positions_m: FloatArray) -> None:
        order = trace._order
        self.times_s = trace.times_s[order]
        self.points_m = trace.positions_m[order]
        devices = trace.devices[order]
        self.who, first = np.unique(devices, return_index=True)
        self.cursor = first.astype(np.intp)
        self.end = np.append(first[1:], devices.size).astype(np.intp)
        self.positions_m = positions_m
        self.now_s = 0.0
        self._place()

    def _place(self) -> None:
        while True:
            following = self.cursor + 1
            step = following < self.end
            step[step] = self.times_s[following[step]] <= self.now_s
            if not step.any():
                break
            self.cursor[step] += 1
        here = self.cursor
        ahead = np.minimum(here + 1, self.end - 1)
        t0, t1 = self.times_s[here], self.times_s[ahead]
        span = t1 - t0
        weight = np.where(span > 0.0, np.clip((self.now_s - t0) / np.where(span > 0.0, span, 1.0), 0.0, 1.0), 0.0)
        self.positions_m[self.who] = self.points_m[here] + (self.points_m[ahead] - self.points_m[here]) \
            * weight[:, None]

    def advance(self, dt_s: float, rng: np.random.Generator) -> None:
        """Move the clock by ``dt_s`` and interpolate."""
        self.now_s += dt_s
        self._place()
