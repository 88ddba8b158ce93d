"""A deployment's replicas at run time: the state each is in, the node it runs on and, once ready, its endpoint at
the router (:mod:`simulator.lifecycle.router`). The controller (:mod:`simulator.lifecycle.controller`) changes them;
rollouts, the traffic sampler and the failures read them.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum

from simulator.lifecycle.router import Endpoint, EndpointPool, VersionStats
from simulator.lifecycle.spec import Deployment


class State(IntEnum):
    """Where a replica is in its life cycle (the order scale-down removes them in)."""

    PENDING = 0
    PULLING = 1
    STARTING = 2
    READY = 3
    TERMINATING = 4


class Replica:
    """One replica: its number, deployment, node (``None`` while pending), state and, once ready, its endpoint at
    the router."""

    __slots__ = ("boots", "deployed", "endpoint", "node", "number", "state")

    def __init__(self, number: int, deployed: Deployed) -> None:
        self.number = number
        self.deployed = deployed
        self.node: str | None = None
        self.state = State.PENDING
        self.boots = 0
        self.endpoint: Endpoint | None = None


class Deployed:
    """A deployment at run time: its endpoint pool, desired count, live replicas (draining ones included), the
    record of its version's requests and the draw of its failing ones (``None``: it fails none)."""

    __slots__ = ("desired", "fails", "pool", "replicas", "spec", "stats")

    def __init__(self, spec: Deployment, pool: EndpointPool, fails: Callable[[], bool] | None) -> None:
        self.spec = spec
        self.pool = pool
        self.desired = 0
        self.replicas: list[Replica] = []
        self.stats = VersionStats()
        self.fails = fails


def ready(deployed: Deployed) -> int:
    """The deployment's ready replicas (their endpoints take requests)."""
    return sum(replica.endpoint is not None and replica.endpoint.active for replica in deployed.replicas)


def counts(deployed: Deployed) -> tuple[int, int]:
    """The deployment's desired count and its replicas in state ready (the autoscaler's view of it)."""
    return deployed.desired, sum(r.state == State.READY for r in deployed.replicas)
