"""The service endpoint of a deployment: one queue in front of all its ready replicas.

A deployment's requests reach its domain over the network and join one FIFO queue (the router, as a Kubernetes
Service in front of its endpoints); every ready replica adds its workers to the pool serving that queue. A replica
that starts terminating takes its workers away at once, so no new request starts on it, while the requests it is
serving finish (drain). A request that arrives while no replica is ready waits up to a timeout for one, is dropped
at once (reason ``no_ready_replica`` either way), or is passed on to the nearest cloud node, which serves it at its
own speed and replies from there. When a node fails, the requests its replicas were serving fail with it
(reason ``node_failure``): the pool does not know which worker runs which request, so the most recently started
ones beyond what the surviving replicas can hold are taken.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import simpy

from offload.errors import ParameterError
from offload.validate import check_positive
from simulator.events import Wake
from simulator.result import DropReason
from simulator.servers import WorkerPool
from simulator.topology import shortest_paths
from simulator.world import World

UnreadyAction = Literal["wait", "drop", "cloud"]


@dataclass(frozen=True, slots=True)
class Unready:
    """What a request does when no replica is ready: ``wait`` up to ``timeout_s``, ``drop`` at once, or go on to
    the ``cloud``."""

    action: UnreadyAction = "wait"
    timeout_s: float = 10.0

    def __post_init__(self) -> None:
        if self.action not in ("wait", "drop", "cloud"):
            raise ParameterError("action", self.action, "must be 'wait', 'drop' or 'cloud'")
        check_positive("timeout_s", self.timeout_s, allow_inf=True)


class EndpointPool(WorkerPool):
    """A worker pool whose workers are the ready replicas' (see the module docstring); ``on_drained()`` runs after
    each served request, so that terminating replicas can be released as :attr:`excess` falls."""

    __slots__ = ("_deliver", "fallback", "on_drained", "received", "running", "unready")

    def __init__(self, env: simpy.Environment, name: str, unready: Unready, *, on_served: Callable[[Any], None],
                 on_dropped: Callable[[Any, DropReason], None], on_drained: Callable[[], None],
                 fallback: Callable[[Any], None] | None = None) -> None:
        super().__init__(env, name, 0, on_served=self._served, on_dropped=on_dropped)
        self._deliver = on_served
        self.unready = unready
        self.on_drained = on_drained
        if unready.action == "cloud" and fallback is None:
            raise ParameterError("unready.action", "cloud", "needs a cloud node to pass requests on to")
        self.fallback = fallback
        self.received = 0
        self.running: dict[Any, None] = {}

    @property
    def excess(self) -> int:
        """Requests still running beyond the ready workers (those of terminating replicas)."""
        return max(self.busy - self.workers, 0)

    def add_workers(self, count: int) -> None:
        """A replica became ready: its workers take queued requests at once."""
        self.touch()
        self.workers += count
        while self.queue and self.busy < self.workers:
            job = self.queue.popleft()
            if not self._expired(job):
                self._start(job, self.env.now)

    def remove_workers(self, count: int) -> None:
        """A replica stops taking requests; those it runs finish."""
        self.touch()
        self.workers -= count

    def arrive(self, job: Any) -> None:
        """Queue as usual when a replica is ready; else drop, pass on to the cloud, or queue with a deadline of
        ``timeout_s``."""
        self.received += 1
        if self.workers:
            super().arrive(job)
        elif self.fallback is not None:
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
        if job.drop_code or not math.isnan(job.service_start_s):
            return  # started, or dropped for another reason, meanwhile
        self.touch()
        self.queue.remove(job)
        self.on_dropped(job, DropReason.NO_READY_REPLICA)

    def _start(self, job: Any, now: float) -> None:
        super()._start(job, now)
        self.running[job] = None

    def _finish_one(self, event: simpy.Event) -> None:
        job: Any = event.value
        if job not in self.running:
            return  # failed with its node meanwhile
        del self.running[job]
        super()._finish_one(event)

    def fail_running(self, count: int) -> None:
        """The ``count`` most recently started requests were on a failed node: they end, reason ``node_failure``."""
        if count <= 0:
            return
        self.touch()
        victims = list(self.running)[-count:]
        self.busy -= len(victims)
        for job in victims:
            del self.running[job]
            self.on_dropped(job, DropReason.NODE_FAILURE)

    def _served(self, job: Any) -> None:
        self._deliver(job)
        self.on_drained()


def nearest_cloud(world: World, node: str) -> int | None:
    """Index of the cloud server nearest the server ``node`` (``None``: no cloud reachable)."""
    where = next(s.node for s in world.servers if s.name == node)
    delays = shortest_paths([where], [(k.a, k.b, k.one_way_s) for k in world.links])[0][where]
    clouds = [(delays[s.node], k) for k, s in enumerate(world.servers) if s.tier == "cloud" and s.node in delays]
    return min(clouds)[1] if clouds else None


def pass_on(forward: Callable[[Any, int], None], server: int, job: Any) -> None:
    """``forward(job, server)``, in the argument order a bound fallback needs."""
    forward(job, server)
