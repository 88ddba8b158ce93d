"""Service disciplines of a server beyond FIFO: priority classes (non-preemptive and preemptive-resume), processor
sharing, and reneging (a waiting task leaves after its patience). :func:`make_pool` builds the pool a server's
``discipline`` and ``patience`` ask for; a FIFO server without patience is the plain
:class:`~simulator.servers.WorkerPool`, untouched.

A task's priority class is its device group's ``priority`` (lower is served first; the World resolves a service's
priority into its groups). Preemptive-resume: an arrival of a better class takes the worker of the worst task in
service (among them the one that would finish last), which resumes where it stopped, ahead of its class.
Processor sharing: the ``workers`` share their capacity equally among all tasks present, each task at most one
worker's speed (a :class:`~simulator.network.SharedChannel` whose "bits" are seconds of service).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import simpy

from simulator.distributions import Distribution
from simulator.events import Wake
from simulator.network import SharedChannel
from simulator.result import DropReason
from simulator.servers import WorkerPool
from simulator.world import EdgeServer, ThroughputTable

#: Patience times drawn per block.
_PATIENCE_BLOCK = 1024


def priority_of(job: Any) -> int:
    """A task's priority class: its device group's ``priority``."""
    return int(job.device.group.priority)


class ClassQueue:
    """Waiting tasks by priority class, FIFO within a class; ``popleft`` takes the best class's first task."""

    __slots__ = ("_classes", "_size")

    def __init__(self) -> None:
        self._classes: dict[int, deque[Any]] = {}
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def __bool__(self) -> bool:
        return self._size > 0

    def __iter__(self) -> Iterator[Any]:
        for level in sorted(self._classes):
            yield from self._classes[level]

    def _class(self, job: Any) -> deque[Any]:
        level = priority_of(job)
        queue = self._classes.get(level)
        if queue is None:
            queue = self._classes[level] = deque()
        return queue

    def append(self, job: Any) -> None:
        """Queue ``job`` behind its class."""
        self._class(job).append(job)
        self._size += 1

    def appendleft(self, job: Any) -> None:
        """Queue ``job`` ahead of its class (a preempted task)."""
        self._class(job).appendleft(job)
        self._size += 1

    def popleft(self) -> Any:
        """The first task of the best non-empty class."""
        level = min(level for level, queue in self._classes.items() if queue)
        self._size -= 1
        return self._classes[level].popleft()

    def remove(self, job: Any) -> None:
        """Take ``job`` out of the queue (it reneged)."""
        self._class(job).remove(job)
        self._size -= 1


class PriorityPool(WorkerPool):
    """Non-preemptive priority: a free worker takes the best waiting class first."""

    def __init__(self, env: simpy.Environment, name: str, workers: int, **kwargs: Any) -> None:
        super().__init__(env, name, workers, **kwargs)
        self.queue = ClassQueue()  # type: ignore[assignment]


class PreemptivePool(PriorityPool):
    """Preemptive-resume priority: a better arrival takes a worker from the worst task in service."""

    def __init__(self, env: simpy.Environment, name: str, workers: int, **kwargs: Any) -> None:
        super().__init__(env, name, workers, **kwargs)
        #: Task in service -> (its completion event, when it ends).
        self._serving: dict[Any, tuple[simpy.Event, float]] = {}
        #: Preempted task -> service still owed (s).
        self._owed: dict[Any, float] = {}

    def arrive(self, job: Any) -> None:
        """Serve at once, preempt a worse task in service, or queue (or drop when the room is full)."""
        if self.busy >= self.workers and self._serving:
            victim = max(self._serving, key=lambda other: (priority_of(other), self._serving[other][1]))
            now = self.env.now
            if priority_of(victim) > priority_of(job) and now <= job.created_s + job.expire_after_s:
                self.touch(now)
                job.queue_entry_s = now
                self.arrivals += 1
                self._preempt(victim)
                self._start(job, now)
                return
        super().arrive(job)

    def _preempt(self, victim: Any) -> None:
        _, end_s = self._serving.pop(victim)
        self._owed[victim] = end_s - self.env.now
        self.busy -= 1
        self.queue.appendleft(victim)

    def _start(self, job: Any, now: float) -> None:
        self.busy += 1
        if math.isnan(job.service_start_s):
            job.service_start_s = now
        duration = self._owed.pop(job, job.service_s)
        self._serving[job] = (Wake(self.env, duration, job, self._finish_one), now + duration)

    def _finish_one(self, event: simpy.Event) -> None:
        entry = self._serving.get(event.value)
        if entry is None or entry[0] is not event:
            return  # the task was preempted: this completion is void
        del self._serving[event.value]
        super()._finish_one(event)


class _Backlog:
    """Tasks beyond the workers at a processor-sharing server (what counts as "queued" in its statistics)."""

    __slots__ = ("pool",)

    def __init__(self, pool: SharingPool) -> None:
        self.pool = pool

    def __len__(self) -> int:
        return max(self.pool.present - self.pool.workers, 0)

    def __bool__(self) -> bool:
        return self.pool.present > self.pool.workers


class SharingPool(WorkerPool):
    """Processor sharing: every task present is served at once at ``min(1, workers / n)`` of a worker's speed."""

    def __init__(self, env: simpy.Environment, name: str, workers: int, **kwargs: Any) -> None:
        super().__init__(env, name, workers, **kwargs)
        self.present = 0
        self.queue = _Backlog(self)  # type: ignore[assignment]
        self._channel = SharedChannel(env, float(workers), ThroughputTable((workers,), (1.0,)))

    def arrive(self, job: Any) -> None:
        """Join the servers' share (dropped when the room beyond the workers is full, or expired)."""
        now = self.env.now
        self.touch(now)
        job.queue_entry_s = now
        self.arrivals += 1
        if now > job.created_s + job.expire_after_s:
            self.on_dropped(job, DropReason.DEADLINE_EXPIRED)
        elif self.capacity is not None and self.present >= self.workers + self.capacity:
            self.on_dropped(job, self.full_reason)
        else:
            job.service_start_s = now
            self._set_present(self.present + 1)
            self._channel.start(job.service_s, job, self._leave)

    def _set_present(self, n: int) -> None:
        self.present = n
        self.busy = min(n, self.workers)

    def _leave(self, job: Any) -> None:
        now = self.env.now
        self.touch(now)
        self._set_present(self.present - 1)
        self._done(job, now)


class Reneging:
    """Mixin: a task still waiting ``patience`` after it joined the queue leaves (dropped, reason ``reneged``)."""

    patience: Distribution
    rng: np.random.Generator
    _patience_s: list[float]

    def setup_patience(self, patience: Distribution, rng: np.random.Generator) -> None:
        """Draw patience times from ``patience`` with ``rng``."""
        self.patience = patience
        self.rng = rng
        self._patience_s = []

    def arrive(self, job: Any) -> None:
        """Arrive as the discipline says; a task left waiting starts its patience clock."""
        super().arrive(job)  # type: ignore[misc]
        if math.isnan(job.service_start_s) and not job.drop_code:
            if not self._patience_s:
                self._patience_s = self.patience.sample(self.rng, _PATIENCE_BLOCK).tolist()[::-1]
            pool: Any = self
            Wake(pool.env, self._patience_s.pop(), job, self._renege)

    def _renege(self, event: simpy.Event) -> None:
        job: Any = event.value
        if not math.isnan(job.service_start_s) or job.drop_code:
            return  # served, or dropped otherwise, before its patience ran out
        pool: Any = self
        pool.touch()
        pool.queue.remove(job)
        pool.on_dropped(job, DropReason.RENEGED)


class RenegingPool(Reneging, WorkerPool):
    """FIFO with reneging."""


class RenegingPriorityPool(Reneging, PriorityPool):
    """Non-preemptive priority with reneging."""


class RenegingPreemptivePool(Reneging, PreemptivePool):
    """Preemptive-resume priority with reneging (only waiting that has not started service reneges)."""


#: Pool class per (discipline, reneging).
POOLS: dict[tuple[str, bool], type[WorkerPool]] = {
    ("fifo", False): WorkerPool, ("fifo", True): RenegingPool,
    ("priority", False): PriorityPool, ("priority", True): RenegingPriorityPool,
    ("preemptive", False): PreemptivePool, ("preemptive", True): RenegingPreemptivePool,
    ("ps", False): SharingPool,
}


def make_pool(env: simpy.Environment, server: EdgeServer, rng: np.random.Generator, *,
              on_served: Callable[[Any], None], on_dropped: Callable[[Any, DropReason], None]) -> WorkerPool:
    """The pool of ``server``: its discipline, with reneging when it has a ``patience``."""
    cls = POOLS[(server.discipline, server.patience is not None)]
    pool = cls(env, server.name, server.workers, on_served=on_served, on_dropped=on_dropped,
               capacity=server.queue_capacity, batching=server.batching)
    if isinstance(pool, Reneging) and server.patience is not None:
        pool.setup_patience(server.patience, rng)
    return pool
