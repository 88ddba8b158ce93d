"""Worker pools: ``workers`` identical workers behind one FIFO queue, optional batching and a bounded waiting room.

Used for edge servers, the cloud and each device's own CPU (one worker). The pool keeps time integrals of busy
workers, queue length and tasks in system (for time-weighted utilisation and Little's law), the time spent at each
queue length (for its percentiles) and calls
``on_served(job)`` / ``on_dropped(job, reason)`` as tasks leave. Jobs are engine objects with the attributes
``queue_entry_s``, ``service_start_s``, ``service_end_s``, ``service_s``, ``created_s`` and ``expire_after_s``
(a task not started within that time of its creation is dropped; ``inf`` for never).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

import simpy

from offload.runtime import batch_time_s
from simulator.events import Wake
from simulator.result import DropReason
from simulator.world import Batching


class WorkerPool:
    """A FIFO multi-worker station driven by SimPy timeouts (no per-task processes)."""

    __slots__ = ("_last_s", "arrivals", "batching", "busy", "busy_area", "busy_total", "capacity", "env",
                 "full_reason", "name", "on_dropped", "on_served", "queue", "queue_area", "queue_time",
                 "queue_total", "served", "sojourn_sum_s", "workers")

    def __init__(self, env: simpy.Environment, name: str, workers: int, *, on_served: Callable[[Any], None],
                 on_dropped: Callable[[Any, DropReason], None], capacity: int | None = None,
                 batching: Batching | None = None, full_reason: DropReason = DropReason.SERVER_QUEUE_FULL) -> None:
        self.env = env
        self.name = name
        self.workers = workers
        self.capacity = capacity
        self.batching = batching
        self.full_reason = full_reason
        self.on_served = on_served
        self.on_dropped = on_dropped
        self.queue: deque[Any] = deque()
        self.busy = 0
        self.busy_total = 0.0
        self.queue_total = 0.0
        self.reset_stats()

    def reset_stats(self) -> None:
        """Start the time integrals and counters afresh (at the end of the warm-up)."""
        self._last_s = self.env.now
        self.busy_area = 0.0
        self.queue_area = 0.0
        #: Seconds spent with ``n`` tasks waiting, at index ``n`` (index 0 unused: the rest of the window).
        self.queue_time = [0.0]
        self.arrivals = 0
        self.served = 0
        self.sojourn_sum_s = 0.0

    def touch(self, now: float | None = None) -> None:
        """Bring the time integrals up to ``now`` (default: the clock); called before every change of state."""
        if now is None:
            now = self.env.now
        dt = now - self._last_s
        if dt:
            busy = self.busy * dt
            self.busy_area += busy
            self.busy_total += busy
            if self.queue:
                n = len(self.queue)
                area = n * dt
                self.queue_area += area
                self.queue_total += area
                spent = self.queue_time
                if n >= len(spent):
                    spent.extend([0.0] * (n + 1 - len(spent)))
                spent[n] += dt
            self._last_s = now

    def busy_total_at(self, now: float) -> float:
        """Busy worker-seconds since the start of the run, up to ``now`` (not reset by the warm-up)."""
        return self.busy_total + self.busy * (now - self._last_s)

    @property
    def in_system(self) -> int:
        """Tasks waiting or in service."""
        return self.busy + len(self.queue)

    def arrive(self, job: Any) -> None:
        """A task joins the pool: served at once by a free worker, queued, or dropped when the room is full."""
        now = self.env.now
        self.touch(now)
        job.queue_entry_s = now
        self.arrivals += 1
        if self.busy < self.workers and not self.queue:
            if now <= job.created_s + job.expire_after_s:
                self._start(job, now)
            else:
                self.on_dropped(job, DropReason.DEADLINE_EXPIRED)
        elif self.capacity is not None and len(self.queue) >= self.capacity:
            self.on_dropped(job, self.full_reason)
        else:
            self.queue.append(job)

    def arrive_event(self, event: simpy.Event) -> None:
        """Timeout callback form of :meth:`arrive`."""
        self.arrive(event.value)

    def _expired(self, job: Any) -> bool:
        if self.env.now > job.created_s + job.expire_after_s:
            self.on_dropped(job, DropReason.DEADLINE_EXPIRED)
            return True
        return False

    def _start(self, job: Any, now: float) -> None:
        self.busy += 1
        job.service_start_s = now
        if self.batching is None:
            Wake(self.env, job.service_s, job, self._finish_one)
            return
        batch = [job]
        queue = self.queue
        while queue and len(batch) < self.batching.max_batch:
            other = queue.popleft()
            if not self._expired(other):
                other.service_start_s = now
                batch.append(other)
        duration = float(batch_time_s(self.batching.t0_s, self.batching.per_item_s, len(batch)))
        for member in batch:
            member.service_s = duration
        Wake(self.env, duration, batch, self._finish_batch)

    def _next(self) -> None:
        queue = self.queue
        while queue and self.busy < self.workers:
            job = queue.popleft()
            if not self._expired(job):
                self._start(job, self.env.now)

    def _done(self, job: Any, now: float) -> None:
        job.service_end_s = now
        self.served += 1
        self.sojourn_sum_s += now - job.queue_entry_s
        self.on_served(job)

    def _finish_one(self, event: simpy.Event) -> None:
        now = self.env.now
        self.touch(now)
        self.busy -= 1
        self._done(event.value, now)
        if self.queue:
            self._next()

    def _finish_batch(self, event: simpy.Event) -> None:
        now = self.env.now
        self.touch(now)
        self.busy -= 1
        batch: Any = event.value
        for job in batch:
            self._done(job, now)
        if self.queue:
            self._next()

    def stop(self) -> None:
        """Close the integrals at the end of the run."""
        self.touch()
