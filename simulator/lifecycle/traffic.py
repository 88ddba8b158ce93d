"""The traffic split of a service among its versions (a service mesh's weighted route, as Istio or Argo Rollouts
set it for a canary): each request that reaches the service's router goes to one version's endpoint pool, version
``v`` with probability ``weight_v / 100``, drawn per request from the run's own random stream.

The split is the service's front: it counts the requests that reach the service once (the autoscaler's ``rps``
reads it there, so a request handed from a retired version to another is not counted twice), and sums the
versions' busy time and queues for the autoscaler's other metrics.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import simpy

from offload.errors import ParameterError
from simulator.lifecycle.router import EndpointPool
from simulator.result import DropReason
from simulator.servers import WorkerPool

#: Uniform draws taken from the generator at once (a draw per request costs a numpy call otherwise).
BLOCK = 1024


class Uniforms:
    """Uniform draws on [0, 1) from ``rng``, taken ``BLOCK`` at a time (the sequence is the generator's own)."""

    __slots__ = ("_block", "_next", "rng")

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self._block: list[float] = []
        self._next = 0

    def __call__(self) -> float:
        if self._next == len(self._block):
            self._block = self.rng.random(BLOCK).tolist()
            self._next = 0
        value = self._block[self._next]
        self._next += 1
        return value


class Bernoulli:
    """``True`` with probability ``p`` per call (a bad version failing a request), from shared uniform draws."""

    __slots__ = ("p", "uniform")

    def __init__(self, p: float, uniform: Callable[[], float]) -> None:
        self.p = p
        self.uniform = uniform

    def __call__(self) -> bool:
        return self.uniform() < self.p


def cumulative_shares(weights: Sequence[float]) -> list[float]:
    """Upper ends of each version's slice of [0, 1) for integer-percent ``weights`` summing to 100 (the last is
    exactly 1, so every draw finds a slice)."""
    if any(not 0 <= w <= 100 for w in weights) or sum(weights) != 100:
        raise ParameterError("weights", tuple(weights), "must be within [0, 100] and sum to 100")
    shares, total = [], 0.0
    for weight in weights:
        total += weight
        shares.append(total / 100.0)
    return shares


class TrafficSplit(WorkerPool):
    """The front of a service with versions: routes each arriving request to one version's pool by weight.

    A worker pool only in name (the devices' routes lead to it); it has no workers of its own. ``members`` are every
    version pool it ever routed to, so the busy time it sums keeps growing after a version is retired.
    """

    __slots__ = ("_routes", "members", "received", "uniform", "weights")

    def __init__(self, env: simpy.Environment, name: str, stable: EndpointPool, uniform: Callable[[], float], *,
                 on_served: Callable[[Any], None], on_dropped: Callable[[Any, DropReason], None]) -> None:
        super().__init__(env, name, 0, on_served=on_served, on_dropped=on_dropped)
        self.uniform = uniform
        self.received = 0
        self.members: list[EndpointPool] = [stable]
        self.weights: dict[EndpointPool, int] = {stable: 100}
        self._routes: list[tuple[float, EndpointPool]] = [(1.0, stable)]

    def set_weights(self, weights: dict[EndpointPool, int]) -> None:
        """Route ``weight`` percent of the requests to each pool from now on (weights sum to 100)."""
        for pool in weights:
            if pool not in self.members:
                self.members.append(pool)
        shares = cumulative_shares(list(weights.values()))
        self.weights = dict(weights)
        self._routes = [(share, pool) for share, (pool, w) in zip(shares, weights.items(), strict=True) if w > 0]

    def arrive(self, job: Any) -> None:
        """Send the request to a version drawn by weight (no draw while one version takes it all)."""
        self.received += 1
        routes = self._routes
        if len(routes) == 1:
            routes[0][1].arrive(job)
            return
        u = self.uniform()
        k = 0
        while u >= routes[k][0]:  # the last share is 1.0 > u
            k += 1
        routes[k][1].arrive(job)

    @property
    def in_system(self) -> int:
        """Requests waiting or in service in every version."""
        return sum(pool.in_system for pool in self.members)

    @property
    def waiting(self) -> int:
        """Requests waiting in every version."""
        return sum(pool.waiting for pool in self.members)

    def busy_total_at(self, now: float) -> float:
        """Busy worker-seconds of every version since the start of the run."""
        return sum(pool.busy_total_at(now) for pool in self.members)
