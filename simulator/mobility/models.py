"""Mobility models: how the devices of one group move on a rectangular plane, all devices in one numpy step.

A model is a frozen value object of parameters (SI: m, m/s, s); :meth:`MobilityModel.start` places ``n`` devices
and returns a :class:`Motion`, whose ``advance(dt_s, rng)`` moves every device of the group by ``dt_s`` seconds
at once (one call per mobility step, never one SimPy process per device). A new model is one class here and one
line in :data:`simulator.mobility.registry.MOBILITY_MODELS`.

- ``static``: devices stay where they start.
- ``random_waypoint``: pick a uniform point, go there in a straight line at a uniform speed in
  ``[speed_min, speed_max]``, pause, repeat (Johnson & Maltz 1996; Bettstetter, Resta & Santi, IEEE TMC 2(3), 2003
  for its non-uniform stationary density).
- ``random_direction``: straight lines at a uniform speed in a uniformly random direction, reflected specularly at
  the edges; the direction is redrawn after exponentially distributed epochs of mean ``epoch_s`` (Nain, Towsley,
  Liu & Liu, INFOCOM 2005: positions stay uniform).
- ``gauss_markov``: speed and direction are AR(1) processes with memory ``alpha`` per update (Liang & Haas,
  INFOCOM 1999; the form of Camp, Boleng & Davies, WCMC 2002, §2.5); the walls reflect.
- ``trace``: positions replayed from a trace (:mod:`simulator.mobility.trace`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from offload.errors import ParameterError
from offload.validate import check_fraction, check_non_negative, check_positive

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


@dataclass(frozen=True, slots=True)
class Area:
    """The plane devices roam: ``[0, width_m] × [0, height_m]``."""

    width_m: float
    height_m: float

    def __post_init__(self) -> None:
        check_positive("width_m", self.width_m)
        check_positive("height_m", self.height_m)

    @property
    def size_m(self) -> FloatArray:
        """``[width_m, height_m]``."""
        return np.array([self.width_m, self.height_m])

    def uniform(self, n: int, rng: np.random.Generator) -> FloatArray:
        """``n`` points uniform on the area, shape ``(n, 2)``."""
        return rng.random((n, 2)) * self.size_m

    def contains(self, positions_m: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """Which points lie inside the area (edges included)."""
        xy = np.asarray(positions_m, dtype=np.float64)
        return np.asarray(((xy >= 0.0) & (xy <= self.size_m)).all(axis=-1))


def reflect(positions_m: FloatArray, area: Area) -> npt.NDArray[np.bool_]:
    """Fold unbounded positions back into the area as a billiard ball would (specular reflection at every edge
    crossed, any number of times), in place; returns, per device and axis, whether the velocity is reversed (an
    odd number of reflections)."""
    size = area.size_m
    folded = np.mod(positions_m, 2.0 * size)
    flipped = folded > size
    positions_m[...] = np.where(flipped, 2.0 * size - folded, folded)
    return np.asarray(flipped)


class Motion(Protocol):
    """The moving state of one group: ``positions_m`` (devices × 2) is updated in place by ``advance``."""

    positions_m: FloatArray

    def advance(self, dt_s: float, rng: np.random.Generator) -> None:
        """Move every device by ``dt_s`` seconds."""


class MobilityModel(Protocol):
    """Parameters of a model; ``start`` begins the motion of devices at ``positions_m`` (devices × 2)."""

    def start(self, positions_m: FloatArray, area: Area, rng: np.random.Generator) -> Motion:
        """The motion of devices starting at ``positions_m``."""


class _Still:
    __slots__ = ("positions_m",)

    def __init__(self, positions_m: FloatArray) -> None:
        self.positions_m = positions_m

    def advance(self, dt_s: float, rng: np.random.Generator) -> None:
        """Nothing moves."""


@dataclass(frozen=True, slots=True)
class Static:
    """Devices that never move."""

    def start(self, positions_m: FloatArray, area: Area, rng: np.random.Generator) -> Motion:
        """Devices stay at ``positions_m``."""
        return _Still(positions_m)


def _check_speeds(low: float, high: float) -> None:
    check_positive("speed_min_mps", low)
    check_positive("speed_max_mps", high)
    if high < low:
        raise ParameterError("speed_max_mps", high, f"must be >= speed_min_mps ({low})")


@dataclass(frozen=True, slots=True)
class RandomWaypoint:
    """Random waypoint: speeds uniform in ``[speed_min_mps, speed_max_mps]`` (> 0: a zero minimum makes the mean
    speed decay to zero, Yoon, Liu & Noble, INFOCOM 2003), ``pause_s`` at each waypoint."""

    speed_min_mps: float
    speed_max_mps: float
    pause_s: float = 0.0

    def __post_init__(self) -> None:
        _check_speeds(self.speed_min_mps, self.speed_max_mps)
        check_non_negative("pause_s", self.pause_s)

    def start(self, positions_m: FloatArray, area: Area, rng: np.random.Generator) -> Motion:
        """Devices at ``positions_m`` head for their first waypoints."""
        return _Waypoints(self, area, positions_m, rng)


class _Waypoints:
    __slots__ = ("area", "model", "pause_left_s", "positions_m", "speed_mps", "target_m")

    def __init__(self, model: RandomWaypoint, area: Area, positions_m: FloatArray,
                 rng: np.random.Generator) -> None:
        self.model = model
        self.area = area
        self.positions_m = positions_m
        n = int(positions_m.shape[0])
        self.target_m = area.uniform(n, rng)
        self.speed_mps: FloatArray = rng.uniform(model.speed_min_mps, model.speed_max_mps, n)
        self.pause_left_s: FloatArray = np.zeros(n)

    def advance(self, dt_s: float, rng: np.random.Generator) -> None:
        """Pause, travel and arrive as often as ``dt_s`` allows; each pass handles the devices with time left."""
        left = np.full(self.positions_m.shape[0], dt_s)
        self._go_on(np.arange(left.size), left, rng)

    def _go_on(self, moving: IntArray, left: FloatArray, rng: np.random.Generator) -> None:
        """Passes of the devices ``moving`` with time ``left`` (per device of the group) until none has any."""
        while moving.size:
            arrived = _travel(self.positions_m, self.target_m, self.speed_mps, self.pause_left_s, moving, left)
            self._redraw(arrived, rng)
            moving = moving[left[moving] > 0.0]

    def _redraw(self, arrived: IntArray, rng: np.random.Generator) -> None:
        """The devices ``arrived`` at their waypoints: the next waypoint, speed and pause of each."""
        if arrived.size:
            self.target_m[arrived] = self.area.uniform(arrived.size, rng)
            self.speed_mps[arrived] = rng.uniform(self.model.speed_min_mps, self.model.speed_max_mps, arrived.size)
            self.pause_left_s[arrived] = self.model.pause_s


def _travel(positions_m: FloatArray, target_m: FloatArray, speed_mps: FloatArray, pause_left_s: FloatArray,
            moving: IntArray, left: FloatArray) -> IntArray:
    """One pass of random waypoint for the devices ``moving``, in place: each waits out its pause, then heads for its
    waypoint for the time it has ``left``; returns those that arrived (now at their waypoints), ``left`` becoming the
    time each has after arriving (0 if it did not)."""
    pause = pause_left_s[moving]
    waited = np.minimum(pause, left[moving])
    pause_left_s[moving] = pause - waited
    time_s = left[moving] - waited
    delta = target_m[moving] - positions_m[moving]
    distance = np.hypot(delta[:, 0], delta[:, 1])
    speed = speed_mps[moving]
    travel = speed * time_s
    arrive = travel >= distance
    fraction = np.where(arrive, 1.0, travel / np.where(distance > 0.0, distance, 1.0))
    positions_m[moving] += delta * fraction[:, None]
    left[moving] = np.where(arrive, time_s - distance / speed, 0.0)
    arrived = moving[arrive]
    positions_m[arrived] = target_m[arrived]
    return arrived


def advance_all(motions: Sequence[Motion], dt_s: float, rng: np.random.Generator) -> None:
    """Move the devices of several groups by ``dt_s``, exactly as ``advance`` on each in turn would (each draws
    from ``rng`` in that order): the first pass of all the random waypoint groups is one numpy pass over their
    devices together (it draws nothing), the rest, rare (devices that reached a waypoint), group by group."""
    walkers = [motion for motion in motions if isinstance(motion, _Waypoints)]
    if len(walkers) < 2:
        for motion in motions:
            motion.advance(dt_s, rng)
        return
    positions, target, speed, pause = (np.concatenate([getattr(walker, name) for walker in walkers])
                                       for name in ("positions_m", "target_m", "speed_mps", "pause_left_s"))
    left = np.full(positions.shape[0], dt_s)
    arrived = _travel(positions, target, speed, pause, np.arange(left.size), left)
    starts = np.cumsum([0, *(walker.positions_m.shape[0] for walker in walkers)])
    cut = np.searchsorted(arrived, starts)
    firsts = dict(zip(map(id, walkers), range(len(walkers)), strict=True))
    for motion in motions:
        k = firsts.get(id(motion))
        if k is None:
            motion.advance(dt_s, rng)
            continue
        lo, hi = int(starts[k]), int(starts[k + 1])
        assert isinstance(motion, _Waypoints)
        motion.positions_m[...] = positions[lo:hi]
        motion.pause_left_s[...] = pause[lo:hi]
        mine = arrived[cut[k]:cut[k + 1]] - lo
        if mine.size:
            motion._redraw(mine, rng)
            motion._go_on(mine[left[lo:hi][mine] > 0.0], left[lo:hi], rng)


@dataclass(frozen=True, slots=True)
class RandomDirection:
    """Random direction with reflection: speeds uniform in ``[speed_min_mps, speed_max_mps]``, a uniform direction
    redrawn after epochs of mean ``epoch_s`` (``inf``: only the walls turn a device). Epochs are resolved at the
    mobility step: after each step a device turns with probability ``1 − exp(−step / epoch_s)``."""

    speed_min_mps: float
    speed_max_mps: float
    epoch_s: float = math.inf

    def __post_init__(self) -> None:
        _check_speeds(self.speed_min_mps, self.speed_max_mps)
        check_positive("epoch_s", self.epoch_s, allow_inf=True)

    def start(self, positions_m: FloatArray, area: Area, rng: np.random.Generator) -> Motion:
        """Devices at ``positions_m`` set off in uniform directions."""
        return _Directions(self, area, positions_m, rng)


def _velocities(n: int, low: float, high: float, rng: np.random.Generator) -> FloatArray:
    speed = rng.uniform(low, high, n)
    angle = rng.uniform(0.0, 2.0 * math.pi, n)
    return np.stack([speed * np.cos(angle), speed * np.sin(angle)], axis=1)


class _Directions:
    __slots__ = ("area", "model", "positions_m", "velocity_mps")

    def __init__(self, model: RandomDirection, area: Area, positions_m: FloatArray,
                 rng: np.random.Generator) -> None:
        self.model = model
        self.area = area
        self.positions_m = positions_m
        self.velocity_mps = _velocities(positions_m.shape[0], model.speed_min_mps, model.speed_max_mps, rng)

    def advance(self, dt_s: float, rng: np.random.Generator) -> None:
        """Straight moves folded at the walls, then the turns of the epochs that ended."""
        self.positions_m += self.velocity_mps * dt_s
        self.velocity_mps[reflect(self.positions_m, self.area)] *= -1.0
        if math.isinf(self.model.epoch_s):
            return
        turn = np.flatnonzero(rng.random(self.positions_m.shape[0]) < -math.expm1(-dt_s / self.model.epoch_s))
        self.velocity_mps[turn] = _velocities(turn.size, self.model.speed_min_mps, self.model.speed_max_mps, rng)


@dataclass(frozen=True, slots=True)
class GaussMarkov:
    """Gauss–Markov mobility (Camp, Boleng & Davies 2002, §2.5): at each update of period ``dt``::

        s_n = α s_{n−1} + (1 − α) s̄ + sqrt(1 − α²) σ_s w_n
        d_n = α d_{n−1} + (1 − α) d̄ + sqrt(1 − α²) σ_d w'_n

    with ``w, w'`` standard normal; the speed ``s`` has mean ``mean_speed_mps`` and standard deviation
    ``speed_sd_mps``, its lag-1 autocorrelation is ``alpha``. Each device's mean direction ``d̄`` is uniform; a wall
    reflects the device and mirrors ``d`` and ``d̄``. A negative speed sample moves the device backwards (the AR(1)
    process is kept exact; with ``speed_sd_mps`` well below the mean it is rare).
    """

    mean_speed_mps: float
    alpha: float
    speed_sd_mps: float = 0.0
    direction_sd_rad: float = 0.5

    def __post_init__(self) -> None:
        check_positive("mean_speed_mps", self.mean_speed_mps)
        check_fraction("alpha", self.alpha)
        check_non_negative("speed_sd_mps", self.speed_sd_mps)
        check_non_negative("direction_sd_rad", self.direction_sd_rad)

    def start(self, positions_m: FloatArray, area: Area, rng: np.random.Generator) -> Motion:
        """Speeds drawn from the stationary law, directions at their uniform means."""
        return _GaussMarkovMotion(self, area, positions_m, rng)


class _GaussMarkovMotion:
    __slots__ = ("area", "direction_rad", "mean_direction_rad", "model", "positions_m", "speed_mps")

    def __init__(self, model: GaussMarkov, area: Area, positions_m: FloatArray, rng: np.random.Generator) -> None:
        n = int(positions_m.shape[0])
        self.model = model
        self.area = area
        self.positions_m = positions_m
        self.speed_mps: FloatArray = model.mean_speed_mps + model.speed_sd_mps * rng.standard_normal(n)
        self.mean_direction_rad: FloatArray = rng.uniform(0.0, 2.0 * math.pi, n)
        self.direction_rad = self.mean_direction_rad.copy()

    def advance(self, dt_s: float, rng: np.random.Generator) -> None:
        """Move at the current velocity, reflect, then update speed and direction."""
        model = self.model
        step = np.stack([np.cos(self.direction_rad), np.sin(self.direction_rad)], axis=1)
        self.positions_m += step * (self.speed_mps * dt_s)[:, None]
        flipped = reflect(self.positions_m, self.area)
        for angle in (self.direction_rad, self.mean_direction_rad):
            angle[flipped[:, 0]] = math.pi - angle[flipped[:, 0]]
            angle[flipped[:, 1]] = -angle[flipped[:, 1]]
        a = model.alpha
        noise = math.sqrt(1.0 - a * a)
        n = self.speed_mps.size
        self.speed_mps = a * self.speed_mps + (1.0 - a) * model.mean_speed_mps \
            + noise * model.speed_sd_mps * rng.standard_normal(n)
        self.direction_rad = a * self.direction_rad + (1.0 - a) * self.mean_direction_rad \
            + noise * model.direction_sd_rad * rng.standard_normal(n)
