"""Arrival processes per device: Poisson, periodic camera stream, bursty on/off (MMPP-2), renewal processes with
batches and trace replay.

A workload is a frozen value object describing one device; :meth:`blocks` draws the arrivals of a whole group of
``count`` such devices at once, as :class:`ArrivalBlock` arrays of arrival times (non-decreasing across blocks)
labelled with the device (0 … count−1), from the group's own ``rng`` so that every policy sees the same arrivals
(common random numbers). Drawing per group keeps the cost per device small when there are thousands of them.
Trace blocks also carry the task sizes.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from offload.errors import ParameterError
from offload.validate import check_fraction, check_non_negative, check_positive
from simulator.distributions import Distribution

FloatArray = npt.NDArray[np.float64]
BLOCK = 512


def _block(expected: float) -> int:
    """Block size: ``BLOCK``, or less when the whole horizon holds fewer tasks (many short-lived devices)."""
    return int(min(BLOCK, max(16.0, 1.2 * expected + 16.0)))


@dataclass(frozen=True, slots=True)
class ArrivalBlock:
    """Arrival times (s) of a run of tasks and their device within the group; sizes are ``None`` unless the
    workload fixes them (traces)."""

    times_s: FloatArray
    device: npt.NDArray[np.int64]
    work_ops: FloatArray | None = None
    input_bits: FloatArray | None = None
    output_bits: FloatArray | None = None


@runtime_checkable
class Workload(Protocol):
    """An arrival process for one device."""

    @property
    def mean_rate_per_s(self) -> float:
        """Long-run arrival rate of tasks per device."""
        ...

    @property
    def arrival_scv(self) -> float:
        """Variability of one device's arrivals: the asymptotic index of dispersion of counts,
        lim Var N(t) / E N(t), which for a renewal process is the squared coefficient of variation of the
        inter-arrival time (1 for Poisson, 0 for a strict period). Queueing estimates use it as c_a²."""
        ...

    def blocks(self, rng: np.random.Generator, count: int, horizon_s: float) -> Iterator[ArrivalBlock]:
        """Yield arrival blocks of ``count`` devices with times in ``[0, horizon_s)``."""
        ...


@dataclass(frozen=True, slots=True)
class Poisson:
    """Poisson arrivals at ``rate_per_s`` (exponential inter-arrival times)."""

    rate_per_s: float

    def __post_init__(self) -> None:
        check_positive("rate_per_s", self.rate_per_s)

    @property
    def mean_rate_per_s(self) -> float:
        """``rate_per_s``."""
        return float(self.rate_per_s)

    @property
    def arrival_scv(self) -> float:
        """1: exponential inter-arrival times."""
        return 1.0

    def blocks(self, rng: np.random.Generator, count: int, horizon_s: float) -> Iterator[ArrivalBlock]:
        """The superposition: Poisson at ``count · rate_per_s``, each arrival from a uniformly chosen device."""
        last = 0.0
        total = count * self.rate_per_s
        size = _block(total * horizon_s)
        while True:
            times = last + np.cumsum(rng.exponential(1.0 / total, size))
            device = rng.integers(0, count, size)
            last = float(times[-1])
            inside = times < horizon_s
            if inside.any():
                yield ArrivalBlock(times[inside], device[inside])
            if not inside.all():
                return


@dataclass(frozen=True, slots=True)
class PeriodicStream:
    """A camera: frames at ``fps`` with a random phase, each delayed by ``U(0, jitter_s)``; a fraction carry work.

    Attributes
    ----------
    fps : float
        Frames per second.
    jitter_s : float
        Maximum extra delay of a frame; must be below the frame period so frames stay in order.
    work_fraction : float
        Probability that a frame carries a task (e.g. a plate is visible).
    """

    fps: float
    jitter_s: float = 0.0
    work_fraction: float = 1.0

    def __post_init__(self) -> None:
        check_positive("fps", self.fps)
        check_non_negative("jitter_s", self.jitter_s)
        check_fraction("work_fraction", self.work_fraction)
        if self.jitter_s >= 1.0 / self.fps:
            raise ParameterError("jitter_s", self.jitter_s, f"must be < the frame period 1/fps = {1.0 / self.fps:g} s")

    @property
    def mean_rate_per_s(self) -> float:
        """``fps · work_fraction``."""
        return self.fps * self.work_fraction

    @property
    def arrival_scv(self) -> float:
        """``1 − work_fraction``: a long window holds Binomial(frames, work_fraction) tasks; jitter moves frames by
        less than a period, so it does not change long-run counts."""
        return 1.0 - self.work_fraction

    def blocks(self, rng: np.random.Generator, count: int, horizon_s: float) -> Iterator[ArrivalBlock]:
        """Frames ``phase_d + k/fps + jitter`` of every device ``d``, kept with probability ``work_fraction``.

        A frame of index ``k`` falls in ``[k, k + 2)`` periods, so the frames of a block of indices are emitted up
        to the block's end and the rest carried into the next block to keep the order.
        """
        period = 1.0 / self.fps
        phase = rng.uniform(0.0, period, count)
        frames = max(1, _block(count * self.fps * horizon_s) // count)
        first = 0
        carry_t, carry_d = np.zeros(0), np.zeros(0, dtype=np.int64)
        while True:
            k = np.arange(first, first + frames, dtype=np.float64)
            times = (phase[None, :] + k[:, None] * period + rng.uniform(0.0, self.jitter_s, (frames, count))).ravel()
            device = np.tile(np.arange(count, dtype=np.int64), frames)
            keep = rng.random(times.size) < self.work_fraction
            first += frames
            times = np.concatenate([carry_t, times[keep]])
            device = np.concatenate([carry_d, device[keep]])
            order = np.argsort(times, kind="stable")
            times, device = times[order], device[order]
            boundary = min(first * period, horizon_s)
            ready = times < boundary
            if ready.any():
                yield ArrivalBlock(times[ready], device[ready])
            if boundary >= horizon_s:
                return
            carry_t, carry_d = times[~ready], device[~ready]


@dataclass(frozen=True, slots=True)
class OnOff:
    """Bursty arrivals: a two-state Markov-modulated Poisson process (MMPP-2).

    The device alternates between *on* (Poisson at ``rate_on_per_s``) and *off* (``rate_off_per_s``, often 0)
    periods with exponential lengths of means ``mean_on_s`` and ``mean_off_s``; it starts in the stationary state.
    """

    rate_on_per_s: float
    mean_on_s: float
    mean_off_s: float
    rate_off_per_s: float = 0.0

    def __post_init__(self) -> None:
        check_positive("rate_on_per_s", self.rate_on_per_s)
        check_positive("mean_on_s", self.mean_on_s)
        check_positive("mean_off_s", self.mean_off_s)
        check_non_negative("rate_off_per_s", self.rate_off_per_s)

    @property
    def mean_rate_per_s(self) -> float:
        """Time-average rate: ``(λ_on m_on + λ_off m_off) / (m_on + m_off)``."""
        total = self.mean_on_s + self.mean_off_s
        return (self.rate_on_per_s * self.mean_on_s + self.rate_off_per_s * self.mean_off_s) / total

    @property
    def arrival_scv(self) -> float:
        """The MMPP-2 asymptotic index of dispersion, 1 + 2 r₁ r₂ (λ₁ − λ₂)² / ((r₁ + r₂)² (λ₁ r₂ + λ₂ r₁)) with
        r₁ = 1/mean_on, r₂ = 1/mean_off (H. Heffes and D. M. Lucantoni, IEEE JSAC 4(6), 1986)."""
        r_on, r_off = 1.0 / self.mean_on_s, 1.0 / self.mean_off_s
        spread = (self.rate_on_per_s - self.rate_off_per_s) ** 2
        return 1.0 + 2.0 * r_on * r_off * spread / ((r_on + r_off) ** 2 * (self.rate_on_per_s * r_off
                                                                            + self.rate_off_per_s * r_on))

    def blocks(self, rng: np.random.Generator, count: int, horizon_s: float) -> Iterator[ArrivalBlock]:
        """Window by window: each device's on/off periods overlapping the window get a Poisson count for the
        overlap (a Poisson process restricted to disjoint intervals is independent Poisson) at uniform times."""
        on = rng.random(count) < self.mean_on_s / (self.mean_on_s + self.mean_off_s)
        ends = np.where(on, rng.exponential(self.mean_on_s, count), rng.exponential(self.mean_off_s, count))
        window = max(BLOCK / (count * self.mean_rate_per_s), 1e-9)  # > 0: count >= 1 and rate_on_per_s > 0
        start = 0.0
        while start < horizon_s:
            stop = min(start + window, horizon_s)
            times: list[FloatArray] = []
            devices: list[npt.NDArray[np.int64]] = []
            for d in range(count):
                lo = start
                while lo < stop:
                    hi = min(float(ends[d]), stop)
                    rate = self.rate_on_per_s if on[d] else self.rate_off_per_s
                    n = int(rng.poisson(rate * (hi - lo))) if rate > 0 and hi > lo else 0
                    if n:
                        times.append(rng.uniform(lo, hi, n))
                        devices.append(np.full(n, d, dtype=np.int64))
                    if ends[d] > stop:
                        break
                    lo = float(ends[d])
                    on[d] = not on[d]
                    ends[d] += rng.exponential(self.mean_on_s if on[d] else self.mean_off_s)
            if times:
                flat = np.concatenate(times)
                order = np.argsort(flat, kind="stable")
                yield ArrivalBlock(flat[order], np.concatenate(devices)[order])
            start = stop


@dataclass(frozen=True, slots=True)
class Renewal:
    """A renewal process per device: i.i.d. inter-arrival times from ``interarrival`` (s), each arrival bringing a
    batch of ``batch`` tasks (whole numbers >= 1; ``None``: one task).

    The first arrival comes one inter-arrival time after 0 (an ordinary renewal process, as in Ciw); exponential
    inter-arrival times without batches are the Poisson process.
    """

    interarrival: Distribution
    batch: Distribution | None = None

    def __post_init__(self) -> None:
        if not self.interarrival.mean > 0:
            raise ParameterError("interarrival", self.interarrival, "needs a mean > 0")
        if self.batch is not None and not self.batch.mean >= 1:
            raise ParameterError("batch", self.batch, "needs whole batch sizes >= 1")

    @property
    def mean_rate_per_s(self) -> float:
        """``E[batch] / E[interarrival]``."""
        return (1.0 if self.batch is None else self.batch.mean) / self.interarrival.mean

    @property
    def arrival_scv(self) -> float:
        """``c² b + Var[batch] / b``: with M(t) renewals and batches B, Var N(t) ≈ E[M] Var B + Var M · b² and
        Var M / E[M] → c², the inter-arrival SCV (Cox, *Renewal Theory*, 1962, §4.5)."""
        scv = self.interarrival.variance / self.interarrival.mean**2
        if self.batch is None:
            return float(scv)
        mean = self.batch.mean
        return float(scv * mean + self.batch.variance / mean)

    def blocks(self, rng: np.random.Generator, count: int, horizon_s: float) -> Iterator[ArrivalBlock]:
        """Each round draws the next arrivals of every device; those before the earliest device's last one are
        complete, so they are emitted in order and the rest carried into the next round."""
        per = max(1, _block(count * horizon_s / self.interarrival.mean) // count)
        last = np.zeros(count)
        carry_t, carry_d = np.zeros(0), np.zeros(0, dtype=np.int64)
        while True:
            times = last[:, None] + np.cumsum(self.interarrival.sample(rng, count * per).reshape(count, per), axis=1)
            last = times[:, -1]
            boundary = min(float(last.min()), horizon_s)
            times = np.concatenate([carry_t, times.ravel()])
            device = np.concatenate([carry_d, np.repeat(np.arange(count, dtype=np.int64), per)])
            ready = times < boundary
            order = np.flatnonzero(ready)[np.argsort(times[ready], kind="stable")]
            if order.size:
                sizes = (None if self.batch is None
                         else np.maximum(np.rint(self.batch.sample(rng, order.size)), 1).astype(np.int64))
                yield ArrivalBlock(times[order] if sizes is None else np.repeat(times[order], sizes),
                                   device[order] if sizes is None else np.repeat(device[order], sizes))
            if boundary >= horizon_s:
                return
            carry_t, carry_d = times[~ready], device[~ready]


@dataclass(frozen=True, slots=True)
class Trace:
    """Replay of recorded tasks: one row per task with its device index within the group and its sizes."""

    timestamp_s: tuple[float, ...]
    device: tuple[int, ...]
    work_ops: tuple[float, ...]
    input_bits: tuple[float, ...]
    output_bits: tuple[float, ...]

    def __post_init__(self) -> None:
        n = len(self.timestamp_s)
        for name in ("device", "work_ops", "input_bits", "output_bits"):
            if len(getattr(self, name)) != n:
                raise ParameterError(name, len(getattr(self, name)), f"needs one entry per timestamp ({n})")
        for name in ("timestamp_s", "work_ops", "input_bits", "output_bits"):
            for value in getattr(self, name):
                check_non_negative(name, value)
        for value in self.device:
            if value < 0:
                raise ParameterError("device", value, "must be a device index >= 0")

    @property
    def mean_rate_per_s(self) -> float:
        """Tasks per device per second over the trace's span (0 for an empty trace)."""
        if not self.timestamp_s:
            return 0.0
        span = max(self.timestamp_s) or 1.0
        return len(self.timestamp_s) / (len(set(self.device)) * span)

    @property
    def arrival_scv(self) -> float:
        """Sample SCV of each device's inter-arrival times, pooled (1, as for Poisson, with fewer than two)."""
        times = np.asarray(self.timestamp_s, dtype=np.float64)
        device = np.asarray(self.device, dtype=np.int64)
        order = np.lexsort((times, device))
        gaps = np.diff(times[order])[np.diff(device[order]) == 0]
        if gaps.size < 2 or gaps.mean() <= 0:
            return 1.0
        return float(gaps.var() / gaps.mean() ** 2)

    def blocks(self, rng: np.random.Generator, count: int, horizon_s: float) -> Iterator[ArrivalBlock]:
        """The rows of devices ``0 … count−1`` in time order, ``BLOCK`` at a time (``rng`` is not used)."""
        device = np.asarray(self.device, dtype=np.int64)
        times = np.asarray(self.timestamp_s, dtype=np.float64)
        mine = (device < count) & (times < horizon_s)
        order = np.flatnonzero(mine)[np.argsort(times[mine], kind="stable")]
        columns = [np.asarray(getattr(self, name), dtype=np.float64) for name in ("work_ops", "input_bits",
                                                                                  "output_bits")]
        for lo in range(0, order.size, BLOCK):
            rows = order[lo:lo + BLOCK]
            yield ArrivalBlock(times[rows], device[rows], *(column[rows] for column in columns))


TRACE_COLUMNS = ("timestamp_s", "device", "work_ops", "input_bits", "output_bits")


def load_trace_csv(path: str | Path) -> Trace:
    """Read a trace CSV (UTF-8) with header ``timestamp_s,device,work_ops,input_bits,output_bits`` (SI numbers).

    Raises
    ------
    ParameterError
        Named ``file``: the file cannot be read (the system's reason; for a byte that is not UTF-8, its line), a
        column is missing or a value is not a finite number (``path:line`` in the rule).
    """
    path = Path(path)
    columns: dict[str, list[float]] = {name: [] for name in TRACE_COLUMNS}
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as error:
        raise ParameterError("file", str(path), f"cannot read {path}: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        line = error.object[:error.start].count(b"\n") + 1
        raise ParameterError("file", str(path), f"{path}:{line}: byte 0x{error.object[error.start]:02x} (offset "
                                                f"{error.start}) is not UTF-8") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in TRACE_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ParameterError("file", str(path), f"{path}:1: missing trace column(s) {', '.join(missing)}")
    for line, row in enumerate(reader, start=2):
        for name in TRACE_COLUMNS:
            try:
                value = float(row[name])
            except (TypeError, ValueError):
                raise ParameterError("file", str(path), f"{path}:{line}: {name} {row[name]!r} must be a number"
                                     ) from None
            if not math.isfinite(value):
                raise ParameterError("file", str(path), f"{path}:{line}: {name} {row[name]!r} must be finite")
            columns[name].append(value)
    return Trace(
        timestamp_s=tuple(columns["timestamp_s"]),
        device=tuple(int(d) for d in columns["device"]),
        work_ops=tuple(columns["work_ops"]),
        input_bits=tuple(columns["input_bits"]),
        output_bits=tuple(columns["output_bits"]),
    )
