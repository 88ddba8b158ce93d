"""Time-varying load: a rate profile ``m(t) ≥ 0`` multiplies a device group's base arrival rate.

A :class:`Modulated` workload plays its base workload in *operational time* ``τ = Λ(t) = ∫₀ᵗ m(u) du`` and maps
every arrival back to real time with ``Λ⁻¹`` (the time-change theorem of point processes: a Poisson process of rate
``λ`` becomes the non-homogeneous Poisson process of rate ``λ m(t)``; a camera stream keeps its frames in order at a
frame rate ``fps · m(t)``). The number of arrivals in ``[a, b)`` therefore has mean ``λ (Λ(b) − Λ(a))``, which is
what the tests check. Two profile kinds, one protocol:

- :class:`StepProfile`: piecewise constant factors from given start times, optionally repeating every ``period_s``
  (a day of hourly factors);
- :class:`DiurnalProfile`: ``m(t) = 1 + a cos(2π (t − t_peak) / P)``, a smooth daily cycle peaking at ``t_peak``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from offload.errors import ParameterError
from offload.validate import check_fraction, check_non_negative, check_positive
from simulator.workloads import ArrivalBlock, Workload

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
#: Knots per period of the table of a smooth cumulative profile that gives its inverse a start: for a daily cycle of
#: amplitude 0.8 its linear interpolation is off by 0.4 s at most, which two Newton steps take to float resolution.
_TABLE_KNOTS = 4096
#: Plain Newton steps from the table's start.
_NEWTON_STEPS = 2
#: Bound on the safeguarded Newton steps of a smooth inverse (each one at least bisects its bracket, so 1100 would
#: reach any double; the start and Newton's quadratic steps end it in a few).
_MAX_STEPS = 200


@runtime_checkable
class RateProfile(Protocol):
    """A non-negative rate multiplier over time with its exact integral and the integral's inverse."""

    @property
    def mean_factor(self) -> float:
        """Long-run time average of the factor."""
        ...

    def factor(self, time_s: FloatArray) -> FloatArray:
        """``m(t)``."""
        ...

    def cumulative(self, time_s: FloatArray) -> FloatArray:
        """``Λ(t) = ∫₀ᵗ m(u) du`` (seconds of operational time)."""
        ...

    def inverse(self, operational_s: FloatArray) -> FloatArray:
        """The earliest ``t`` with ``Λ(t) = τ`` for each ``τ`` (non-decreasing in ``τ``)."""
        ...


@dataclass(frozen=True, slots=True)
class StepProfile:
    """Factor ``factors[k]`` from ``starts_s[k]`` until the next start; the last holds to the end, or until
    ``period_s`` when the profile repeats every ``period_s``.

    Attributes
    ----------
    starts_s : tuple of float
        Start of each step; the first is 0 and they increase (and stay below ``period_s``).
    factors : tuple of float
        Rate multiplier of each step, >= 0, not all zero.
    period_s : float, optional
        Repeat the steps every ``period_s`` seconds (``None``: play them once).
    """

    starts_s: tuple[float, ...]
    factors: tuple[float, ...]
    period_s: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "starts_s", tuple(float(s) for s in self.starts_s))
        object.__setattr__(self, "factors", tuple(float(f) for f in self.factors))
        if not self.starts_s or len(self.starts_s) != len(self.factors):
            raise ParameterError("factors", self.factors, "needs one factor per step start (at least one step)")
        if self.starts_s[0] != 0.0:
            raise ParameterError("starts_s", self.starts_s[0], "the first step must start at 0")
        if any(b <= a for a, b in zip(self.starts_s, self.starts_s[1:], strict=False)):
            raise ParameterError("starts_s", self.starts_s, "step starts must increase")
        for value in self.factors:
            check_non_negative("factors", value)
            if not math.isfinite(value):
                raise ParameterError("factors", value, "must be finite")
        if self.period_s is not None:
            check_positive("period_s", self.period_s)
            if self.starts_s[-1] >= self.period_s:
                raise ParameterError("starts_s", self.starts_s[-1], f"must be < the period ({self.period_s:g} s)")
        if not any(self.factors) or (self.period_s is None and self.factors[-1] == 0.0):
            raise ParameterError("factors", self.factors, "the load must not stop for good (a factor > 0 that "
                                 "recurs, or a last factor > 0)")

    def _knots(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Step starts, factors, and ``Λ`` at each start."""
        starts = np.asarray(self.starts_s)
        factors = np.asarray(self.factors)
        cum = np.concatenate([[0.0], np.cumsum(np.diff(starts) * factors[:-1])])
        return starts, factors, cum

    @property
    def _cycle(self) -> float:
        """``Λ`` over one period (only for a periodic profile)."""
        assert self.period_s is not None
        starts, factors, cum = self._knots()
        return float(cum[-1] + (self.period_s - starts[-1]) * factors[-1])

    @property
    def mean_factor(self) -> float:
        """Average over a period, or the last factor when the steps play once."""
        if self.period_s is None:
            return self.factors[-1]
        return self._cycle / self.period_s

    def _split(self, time_s: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Whole periods elapsed and the time within the current one."""
        t = np.asarray(time_s, dtype=np.float64)
        if self.period_s is None:
            return np.zeros_like(t), t
        periods = np.floor(t / self.period_s)
        return periods, t - periods * self.period_s

    def factor(self, time_s: FloatArray) -> FloatArray:
        """The factor of the step each time falls in."""
        _, within = self._split(time_s)
        starts, factors, _ = self._knots()
        return factors[np.searchsorted(starts, within, side="right") - 1]

    def cumulative(self, time_s: FloatArray) -> FloatArray:
        """Piecewise linear: ``Λ(start_k) + m_k (t − start_k)`` plus whole periods."""
        periods, within = self._split(time_s)
        starts, factors, cum = self._knots()
        k = np.searchsorted(starts, within, side="right") - 1
        inside = cum[k] + factors[k] * (within - starts[k])
        return inside if self.period_s is None else periods * self._cycle + inside

    def inverse(self, operational_s: FloatArray) -> FloatArray:
        """Within the step whose ``Λ`` range holds ``τ`` (a rising one): ``start_k + (τ − Λ(start_k)) / m_k``."""
        tau = np.asarray(operational_s, dtype=np.float64)
        starts, factors, cum = self._knots()
        if self.period_s is None:
            periods, rest = np.zeros_like(tau), tau
        else:
            cycle = self._cycle
            periods = np.floor(tau / cycle)
            # rounding may leave the remainder a hair outside [0, cycle), where no rising step starts
            rest = np.clip(tau - periods * cycle, 0.0, np.nextafter(cycle, 0.0))
        # the last step whose Λ starts at or below τ: rising, since a zero step shares its Λ with the next one
        k = np.searchsorted(cum, rest, side="right") - 1
        inside = starts[k] + (rest - cum[k]) / factors[k]
        return inside if self.period_s is None else periods * self.period_s + inside


@dataclass(frozen=True, slots=True)
class DiurnalProfile:
    """``m(t) = 1 + amplitude · cos(2π (t − peak_s) / period_s)``: mean 1, peak ``1 + a`` at ``peak_s``, trough
    ``1 − a`` half a period later.

    Attributes
    ----------
    amplitude : float
        Relative swing ``a`` in [0, 1].
    peak_s : float
        Time of the daily peak within the period.
    period_s : float
        Length of the cycle (default one day).
    """

    amplitude: float
    peak_s: float = 0.0
    period_s: float = 86_400.0
    #: ``Λ`` at ``_TABLE_KNOTS + 1`` evenly spaced times of the first period (``Λ`` grows by exactly ``P`` a period).
    _table: tuple[FloatArray, FloatArray] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_fraction("amplitude", self.amplitude)
        check_positive("period_s", self.period_s)
        check_non_negative("peak_s", self.peak_s)
        if self.peak_s >= self.period_s:
            raise ParameterError("peak_s", self.peak_s, f"must be < the period ({self.period_s:g} s)")
        knots = np.linspace(0.0, self.period_s, _TABLE_KNOTS + 1)
        object.__setattr__(self, "_table", (np.maximum.accumulate(self.cumulative(knots)), knots))

    @property
    def mean_factor(self) -> float:
        """1 (the cosine averages out over a period)."""
        return 1.0

    def factor(self, time_s: FloatArray) -> FloatArray:
        """``1 + a cos(2π (t − t_peak) / P)``."""
        phase = 2.0 * np.pi * (np.asarray(time_s, dtype=np.float64) - self.peak_s) / self.period_s
        return 1.0 + self.amplitude * np.cos(phase)

    def cumulative(self, time_s: FloatArray) -> FloatArray:
        """``t + a P / (2π) · (sin(2π (t − t_peak) / P) + sin(2π t_peak / P))``, summed to the product
        ``a P / π · sin(π t / P) · cos(π (t − 2 t_peak) / P)`` (no cancellation near ``t = 0``)."""
        t = np.asarray(time_s, dtype=np.float64)
        half = np.pi / self.period_s
        swing: FloatArray = np.sin(half * t) * np.cos(half * (t - 2.0 * self.peak_s))
        return t + self.amplitude / half * swing

    def inverse(self, operational_s: FloatArray) -> FloatArray:
        """Newton on ``Λ(t) = τ`` until ``Λ(t)`` equals ``τ`` to a few units of rounding.

        The start interpolates a table of ``Λ`` over one period (``Λ(t + P) = Λ(t) + P``); from there two plain
        Newton steps ``t − (Λ(t) − τ) / m(t)`` reach float resolution unless ``m`` nearly vanishes (``a`` near 1,
        near the trough). Times they leave short are found again from the start by :meth:`_bracketed`.
        """
        tau = np.asarray(operational_s, dtype=np.float64)
        period = self.period_s
        table_tau, table_t = self._table
        periods = np.floor(tau / period)
        start = periods * period + np.interp(tau - periods * period, table_tau, table_t)
        t = start
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for _ in range(_NEWTON_STEPS):
                t = t - (self.cumulative(t) - tau) / self.factor(t)
            short = ~self._converged(t, self.cumulative(t) - tau, tau)  # NaN (a step by m = 0) counts as short
        if short.any():
            t = np.where(short, self._bracketed(start, tau), t)
        return t

    @staticmethod
    def _converged(t: FloatArray, gap: FloatArray, tau: FloatArray) -> BoolArray:
        """Whether ``gap = Λ(t) − τ`` is within rounding: ``Λ(t) = t + swing`` is exact to a few ulps of
        ``|t| + |swing| ≤ |τ| + 2 |t − τ|`` at the root."""
        return np.abs(gap) <= 16.0 * np.finfo(np.float64).eps * (np.abs(tau) + 2.0 * np.abs(t - tau))

    def _bracketed(self, start: FloatArray, tau: FloatArray) -> FloatArray:
        """Safeguarded Newton from ``start``: each step keeps a bracket of the root (``Λ`` is non-decreasing, and
        ``t − a P/π ≤ Λ(t) ≤ t + a P/π`` gives the first one) and bisects it instead when the Newton step would
        leave it (``m`` reaches 0 at the trough when ``a = 1``)."""
        swing_s = self.amplitude * self.period_s / (2.0 * np.pi)
        lo = np.maximum(tau - 2.0 * swing_s, 0.0)
        hi = tau + 2.0 * swing_s
        t = start
        for _ in range(_MAX_STEPS):
            gap = self.cumulative(t) - tau
            todo = ~self._converged(t, gap, tau)
            if not todo.any():
                break
            lo = np.where(gap < 0.0, t, lo)
            hi = np.where(gap > 0.0, t, hi)
            with np.errstate(divide="ignore", invalid="ignore"):
                newton = t - gap / self.factor(t)
            inside = (newton > lo) & (newton < hi)  # false for an infinite or NaN step too
            t = np.where(todo, np.where(inside, newton, 0.5 * (lo + hi)), t)
        return t


@dataclass(frozen=True, slots=True)
class Modulated:
    """``base`` arrivals with their rate multiplied by ``profile`` over time (see the module docstring)."""

    base: Workload
    profile: RateProfile

    def __post_init__(self) -> None:
        if not isinstance(self.base, Workload):
            raise ParameterError("base", self.base, "must be a workload (Poisson, PeriodicStream, ...)")
        if not isinstance(self.profile, RateProfile):
            raise ParameterError("profile", self.profile, "must be a rate profile (StepProfile, DiurnalProfile)")

    @property
    def mean_rate_per_s(self) -> float:
        """The base rate times the profile's long-run mean factor."""
        return self.base.mean_rate_per_s * self.profile.mean_factor

    @property
    def arrival_scv(self) -> float:
        """The base's: the profile changes the rate deterministically, which long windows average out."""
        return self.base.arrival_scv

    def blocks(self, rng: np.random.Generator, count: int, horizon_s: float) -> Iterator[ArrivalBlock]:
        """The base workload's blocks over ``[0, Λ(horizon))`` with their times mapped through ``Λ⁻¹``."""
        end = float(self.profile.cumulative(np.array([horizon_s]))[0])
        last = 0.0
        for block in self.base.blocks(rng, count, end):
            # an inverse exact to rounding could swap two arrivals a few ulps apart: keep them in order
            times = np.maximum.accumulate(np.maximum(self.profile.inverse(block.times_s), last))
            last = float(times[-1]) if times.size else last
            inside = times < horizon_s
            if inside.all():
                yield ArrivalBlock(times, block.device, block.work_ops, block.input_bits, block.output_bits)
                continue
            sizes = (None if column is None else column[inside]
                     for column in (block.work_ops, block.input_bits, block.output_bits))
            if inside.any():
                yield ArrivalBlock(times[inside], block.device[inside], *sizes)
