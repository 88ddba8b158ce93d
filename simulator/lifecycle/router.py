"""The service endpoint of a deployment: one queue in front of all its ready replicas.

A deployment's requests reach its domain over the network and join one FIFO queue (the router, as a Kubernetes Service
in front of its endpoints); every ready replica adds its workers to the pool serving that queue, and a request starts on
the ready replica with the most free workers, timed at that replica's node speed and share and recorded with that node
as its target. A replica that starts terminating takes its workers away at once, so no new request starts on it, while
the requests it is serving finish (drain). A request that arrives while no replica is ready waits up to a timeout for
one, is dropped at once (reason ``no_ready_replica`` either way), or spills out of the domain to the nearest cloud
node or the parent region's nodes (:mod:`simulator.lifecycle.spill`). When a node fails, the requests its replicas
were serving fail with it (reason ``node_failure``). A replica of a bad version fails a share of the requests it serves
(drawn when the request starts, reported when it ends: reason ``version_error``). Every replica of a version records
the requests it ends in its version's :class:`VersionStats`.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import simpy

from offload.errors import ParameterError
from offload.formulas import compute_time_s
from offload.validate import check_positive
from simulator.events import Wake
from simulator.result import DropReason
from simulator.servers import WorkerPool

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
UnreadyAction = Literal["wait", "drop", "cloud", "region"]


@dataclass(frozen=True, slots=True)
class Unready:
    """What a request does when no replica is ready: ``wait`` up to ``timeout_s``, ``drop`` at once, go on to the
    nearest ``cloud`` node, or to the nodes of the parent ``region`` (names), in turn."""

    action: UnreadyAction = "wait"
    timeout_s: float = 10.0
    region: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "region", tuple(self.region))
        if self.action not in ("wait", "drop", "cloud", "region"):
            raise ParameterError("action", self.action, "must be 'wait', 'drop', 'cloud' or 'region'")
        check_positive("timeout_s", self.timeout_s, allow_inf=True)
        if (self.action == "region") != bool(self.region):
            raise ParameterError("region", self.region, "names the region's nodes exactly when the action is "
                                 "'region'")


def quantile(values: FloatArray, q: float) -> float:
    """The ``q`` quantile of ``values`` (not empty) as ``np.quantile``'s default computes it, to the bit: linear
    interpolation between the order statistics around ``h = (n − 1) q`` (R. J. Hyndman and Y. Fan, "Sample quantiles
    in statistical packages", The American Statistician 50(4), 1996: type 7). One partition instead of numpy's
    general machinery, which costs several times the partition on the few thousand requests of a window."""
    h = (values.size - 1) * q
    lo = min(math.floor(h), values.size - 1)
    hi = min(lo + 1, values.size - 1)
    ordered = np.partition(values, (lo, hi))
    a, b, t = float(ordered[lo]), float(ordered[hi]), h - lo
    # numpy's lerp: from the nearer end, so that t = 1 gives b exactly
    return b - (b - a) * (1.0 - t) if t >= 0.5 else a + (b - a) * t


class VersionStats:
    """What the replicas of one service version did: requests started, and for each request ended (in time order)
    its end time, its time at the router (queue and service, s) and whether it failed (``version_error``).

    The per-request columns are typed arrays (appending costs what a list's does), so a window of them reaches numpy
    as one copy of its bytes; :meth:`window` summarises the requests ended since a time, once per window asked for.
    """

    __slots__ = ("_last", "end_s", "failed", "request_s", "started")

    def __init__(self) -> None:
        self.started = 0
        self.end_s = array("d")
        self.request_s = array("d")
        self.failed = array("b")
        self._last: tuple[int, int, tuple[int, float, float]] = (0, 0, (0, math.nan, math.nan))

    def since(self, start_s: float) -> tuple[FloatArray, BoolArray]:
        """Time at the router (s) and failure flag of each request that ended from ``start_s`` on."""
        first = bisect_left(self.end_s, start_s)
        return (np.frombuffer(self.request_s[first:], dtype=np.float64),
                np.frombuffer(self.failed[first:], dtype=np.int8).astype(bool))

    def window(self, start_s: float) -> tuple[int, float, float]:
        """Requests that ended from ``start_s`` on: their count, 95th percentile time at the router (s) and failed
        share (NaN without requests). The canary analysis and the traffic sampler ask for the same window at the
        same instant: the second time is the first one's answer."""
        first, end = bisect_left(self.end_s, start_s), len(self.end_s)
        if (first, end) == self._last[:2]:
            return self._last[2]
        n = end - first
        summary = (0, math.nan, math.nan) if not n else (
            n, quantile(np.frombuffer(self.request_s[first:], dtype=np.float64), 0.95),
            int(np.count_nonzero(np.frombuffer(self.failed[first:], dtype=np.int8))) / n)
        self._last = (first, end, summary)
        return summary


class Endpoint:
    """One ready replica as the router sees it: ``workers`` parallel workers on the server with record code
    ``target_code``, each taking its node's time (speed ``speed_ops_per_s`` or fixed time ``fixed_s``) divided by
    ``share``; ``free`` of its workers are idle; ``drained()`` runs when a removed endpoint's last request ends;
    ``fails()`` (when given) draws whether a request it starts fails; ``stats`` records its version's requests.
    ``constant_s`` is every request's time on a node with a fixed time (else ``None``); ``last`` is the work (ops)
    and time (s) of the last request timed here, its time again for the next request of the same work (a service's
    requests often carry one size)."""

    __slots__ = ("active", "constant_s", "drained", "fails", "fixed_s", "free", "last", "share", "speed_ops_per_s",
                 "stats", "target_code", "workers")

    def __init__(self, workers: int, target_code: int, time_terms: tuple[float, float], share: float,
                 drained: Callable[[], None], stats: VersionStats, fails: Callable[[], bool] | None = None) -> None:
        self.workers = workers
        self.target_code = target_code
        self.speed_ops_per_s, self.fixed_s = time_terms
        self.share = share
        self.drained = drained
        self.stats = stats
        self.fails = fails
        self.free = workers
        self.active = False
        self.constant_s = self.time_s(0.0) if math.isinf(self.speed_ops_per_s) else None
        self.last = (math.nan, math.nan)

    def time_s(self, work_ops: float) -> float:
        """How long a request of ``work_ops`` takes on this replica."""
        return float(compute_time_s(work_ops, self.speed_ops_per_s, self.fixed_s)) / self.share

    @property
    def busy(self) -> int:
        """Requests running on this replica."""
        return self.workers - self.free


class EndpointPool(WorkerPool):
    """A worker pool whose workers are the ready replicas' endpoints (see the module docstring): ``workers`` and
    ``busy`` count the active endpoints' only, so a terminating replica's requests finish outside them."""

    __slots__ = ("activate", "endpoints", "failing", "fallback", "received", "running", "unready")

    def __init__(self, env: simpy.Environment, name: str, unready: Unready, *, on_served: Callable[[Any], None],
                 on_dropped: Callable[[Any, DropReason], None],
                 fallback: Callable[[Any], None] | None = None) -> None:
        super().__init__(env, name, 0, on_served=on_served, on_dropped=on_dropped)
        self.unready = unready
        if unready.action in ("cloud", "region") and fallback is None:
            raise ParameterError("unready.action", unready.action, "needs a server outside the domain to pass "
                                 "requests on to")
        self.fallback = fallback
        self.activate: Callable[[], None] | None = None  # a deployment scaled to zero starts a replica
        self.received = 0
        self.endpoints: list[Endpoint] = []
        self.running: dict[Any, Endpoint] = {}
        self.failing: set[Any] = set()

    @property
    def waiting(self) -> int:
        """Requests waiting for a worker."""
        return len(self.queue)

    def add(self, endpoint: Endpoint) -> None:
        """A replica became ready: its workers take queued requests at once."""
        self.touch()
        endpoint.active = True
        self.endpoints.append(endpoint)
        self.workers += endpoint.workers
        while self.queue and self.busy < self.workers:
            job = self.queue.popleft()
            if not self._expired(job):
                self._start(job, self.env.now)

    def remove(self, endpoint: Endpoint) -> None:
        """A replica stops taking requests; those it runs finish (then ``endpoint.drained()``, at once when it
        runs none)."""
        self._deactivate(endpoint)
        if endpoint.free == endpoint.workers:
            endpoint.drained()

    def fail(self, endpoint: Endpoint) -> None:
        """A replica's node failed: the requests it runs end, reason ``node_failure``."""
        self._deactivate(endpoint)
        lost = [job for job, where in self.running.items() if where is endpoint]
        endpoint.free = endpoint.workers
        for job in lost:
            del self.running[job]
            self.failing.discard(job)
            self.on_dropped(job, DropReason.NODE_FAILURE)

    def _deactivate(self, endpoint: Endpoint) -> None:
        self.touch()
        if endpoint.active:
            endpoint.active = False
            self.endpoints.remove(endpoint)
            self.workers -= endpoint.workers
            self.busy -= endpoint.busy

    def arrive(self, job: Any) -> None:
        """Queue as usual when a replica is ready; else drop, spill out of the domain, or queue with a deadline of
        ``timeout_s``."""
        self.received += 1
        if self.workers:
            super().arrive(job)
            return
        if self.activate is not None:
            self.activate()
        if self.fallback is not None:
            self.fallback(job)
        elif self.unready.action == "drop":
            self.arrivals += 1
            job.queue_entry_s = self.env.now
            self.on_dropped(job, DropReason.NO_READY_REPLICA)
        else:
            super().arrive(job)
            if self.unready.timeout_s != math.inf:
                Wake(self.env, self.unready.timeout_s, job, self._give_up)

    def _give_up(self, event: simpy.Event) -> None:
        job: Any = event.value
        if job.drop_code or not math.isnan(job.service_start_s) or job not in self.queue:
            return  # started, dropped for another reason or handed over to another version meanwhile
        self.touch()
        self.queue.remove(job)
        self.on_dropped(job, DropReason.NO_READY_REPLICA)

    def hand_over(self, other: EndpointPool) -> None:
        """Move the requests waiting here to ``other`` (a version whose last replica went): they keep their place
        in time (their arrival at the router) and count as received once, here."""
        self.touch()
        other.touch()
        while self.queue:
            job = self.queue.popleft()
            if other.busy < other.workers and not other.queue:
                other._start(job, self.env.now)
            else:
                other.queue.append(job)

    def _start(self, job: Any, now: float) -> None:
        """Start ``job`` on the active endpoint with the most free workers (the oldest on a tie), timed there."""
        endpoint = self.endpoints[0]
        most = endpoint.free
        for other in self.endpoints:
            if other.free > most:
                endpoint, most = other, other.free
        endpoint.free = most - 1
        self.running[job] = endpoint
        endpoint.stats.started += 1
        if endpoint.fails is not None and endpoint.fails():
            self.failing.add(job)
        service_s = endpoint.constant_s
        if service_s is None:
            work_ops, service_s = endpoint.last
            if job.work_ops != work_ops:
                work_ops = job.work_ops
                service_s = endpoint.time_s(work_ops)
                endpoint.last = (work_ops, service_s)
        job.service_s = service_s
        job.target_code = endpoint.target_code
        super()._start(job, now)

    def _finish_one(self, event: simpy.Event) -> None:
        job: Any = event.value
        endpoint = self.running.pop(job, None)
        if endpoint is None:
            return  # failed with its node meanwhile
        endpoint.free += 1
        now = self.env.now
        stats = endpoint.stats
        stats.end_s.append(now)
        stats.request_s.append(now - job.queue_entry_s)
        stats.failed.append(bool(self.failing) and job in self.failing)
        if endpoint.active:
            super()._finish_one(event)
            return
        self._done(job, now)  # drained from a terminating replica, outside the pool's workers
        if endpoint.free == endpoint.workers:
            endpoint.drained()

    def _done(self, job: Any, now: float) -> None:
        if self.failing and job in self.failing:
            self.failing.remove(job)
            job.service_end_s = now
            self.on_dropped(job, DropReason.VERSION_ERROR)
            return
        super()._done(job, now)
