"""The time series of a run: every server and every battery sampled at a fixed interval.

At each sample time the sampler brings each server's time integrals up to the clock and reads them as they stand
(busy worker-seconds, queue length, queue area, time at each queue length), and reads each battery's level; at the
end of the run it hands them over as one :class:`~simulator.jobs.Samples`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import simpy

from simulator.battery import BatteryState
from simulator.events import Wake
from simulator.jobs import Samples
from simulator.servers import WorkerPool

#: Time-series samples per run when the World gives no ``sample_interval_s``.
DEFAULT_SAMPLES = 200


class Sampler:
    """Samples ``pools`` and the (name, state) ``batteries`` every ``interval_s`` up to ``duration_s`` (s)."""

    def __init__(self, env: simpy.Environment, pools: Sequence[WorkerPool],
                 batteries: Sequence[tuple[str, BatteryState]], duration_s: float) -> None:
        self.env = env
        self.pools = pools
        self.batteries = batteries
        self.duration_s = duration_s
        self._times: list[float] = []
        self._busy: list[list[float]] = []
        self._queue: list[list[int]] = []
        self._queue_area: list[list[float]] = []
        self._queue_time: tuple[list[list[float]], ...] = tuple([] for _ in pools)
        self._battery: list[list[float]] = []

    def start(self, interval_s: float) -> None:
        """Take the first sample ``interval_s`` from now, and one every ``interval_s`` after it."""
        Wake(self.env, interval_s, interval_s, self._sample)

    def _sample(self, event: simpy.Event) -> None:
        interval: float = event.value  # type: ignore[assignment]
        now = self.env.now
        pools = self.pools
        self._times.append(now)
        for pool, snapshots in zip(pools, self._queue_time, strict=True):
            pool.touch(now)  # integrals up to now, then read as they stand (one call per server)
            snapshots.append(pool.queue_time.copy())
        self._busy.append([pool.busy_total for pool in pools])
        self._queue.append([len(pool.queue) for pool in pools])
        self._queue_area.append([pool.queue_total for pool in pools])
        self._battery.append([battery.level_at(now) for _, battery in self.batteries])
        if now + interval <= self.duration_s:
            Wake(self.env, interval, interval, self._sample)

    def samples(self) -> Samples:
        """The series so far; utilisation is averaged over each interval between samples."""
        times = np.asarray(self._times, dtype=np.float64)
        k = len(self.pools)
        busy = np.asarray(self._busy, dtype=np.float64).reshape(times.size, k)
        spans = np.diff(times, prepend=0.0)[:, None]
        workers = np.array([p.workers for p in self.pools], dtype=np.float64)[None, :]
        utilisation = np.diff(busy, axis=0, prepend=0.0) / (workers * spans)
        queue = np.asarray(self._queue, dtype=np.int64).reshape(times.size, k)
        area = np.asarray(self._queue_area, dtype=np.float64).reshape(times.size, k)
        battery = np.asarray(self._battery, dtype=np.float64).reshape(times.size, len(self.batteries))
        return Samples(times, tuple(p.name for p in self.pools), utilisation, queue, area,
                       tuple(name for name, _ in self.batteries), battery,
                       tuple(tuple(snapshots) for snapshots in self._queue_time))
