"""Node failures and repairs in one replication: scripted ones (``fail``/``recover`` at a time) and, for a node with
a finite mean time between failures, random ones: it fails after an exponential time of mean ``mtbf_s`` and is
repaired after an exponential time of mean ``mttr_s``, again and again (the draws come from the platform's own
stream, in the order the failures happen).

:class:`Failures` keeps which nodes are up and writes the ``fail`` and ``recover`` events; what a failure does to
the replicas on the node (lost, rescheduled or restarted on repair) is the controller's (``lose`` and ``restore``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import simpy

from simulator.events import Wake
from simulator.lifecycle.spec import NodeCapacity, NodeEvent


class Failures:
    """Which of the ``nodes`` are up, changed by the ``scripted`` node events and by random failures drawn from
    ``rng``; ``lose(node)`` runs after a node fails, ``restore(node)`` after it is repaired, ``log(kind, node)``
    writes the event."""

    def __init__(self, env: simpy.Environment, nodes: Sequence[NodeCapacity], scripted: Sequence[NodeEvent],
                 rng: np.random.Generator, *, lose: Callable[[str], None], restore: Callable[[str], None],
                 log: Callable[[str, str], None]) -> None:
        self.env = env
        self.scripted = scripted
        self.rng = rng
        self.lose, self.restore, self.log = lose, restore, log
        self.up = {n.node: True for n in nodes}
        self.reliability = {n.node: (n.mtbf_s, n.mttr_s) for n in nodes}

    def start(self) -> None:
        """Schedule the scripted events, then each unreliable node's first failure (in node order)."""
        for failure in self.scripted:
            Wake(self.env, failure.at_s, failure, self._scripted)
        for node, (mtbf_s, _) in self.reliability.items():
            if mtbf_s != math.inf:
                Wake(self.env, self.rng.exponential(mtbf_s), node, self._random_failure)

    def _scripted(self, event: simpy.Event) -> None:
        failure: NodeEvent = event.value  # type: ignore[assignment]
        if failure.kind == "fail":
            self.fail(failure.node)
        else:
            self.recover(failure.node)

    def _random_failure(self, event: simpy.Event) -> None:
        node: str = event.value  # type: ignore[assignment]
        self.fail(node)
        Wake(self.env, self.rng.exponential(self.reliability[node][1]), node, self._random_repair)

    def _random_repair(self, event: simpy.Event) -> None:
        node: str = event.value  # type: ignore[assignment]
        self.recover(node)
        Wake(self.env, self.rng.exponential(self.reliability[node][0]), node, self._random_failure)

    def fail(self, node: str) -> None:
        """Node ``node`` fails (nothing if it is down already)."""
        if not self.up[node]:
            return
        self.up[node] = False
        self.log("fail", node)
        self.lose(node)

    def recover(self, node: str) -> None:
        """Node ``node`` is repaired (nothing if it is up)."""
        if self.up[node]:
            return
        self.up[node] = True
        self.log("recover", node)
        self.restore(node)
