"""Queueing theory to overlay on a run's latency figure, when the scenario is a textbook queue.

A resolved scenario (SI numbers, as ``mecsim simulate --out`` writes ``scenario.yaml``) is a textbook queue when
Poisson sources send one service's work, with no input or output data over zero-latency access points, to a single
node that every policy uses (``always_edge``): then a task's latency is its time in an M/M/c queue (exponential
work) or an M/D/1 queue (constant work, one worker), and :mod:`offload.queueing` gives its mean and distribution.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from offload.queueing import md1_mean_sojourn_s, md1_wait_cdf, mmc_mean_sojourn_s, mmc_sojourn_tail

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class QueueTheory:
    """A textbook queue: Poisson arrivals at ``arrival_rate_per_s``, ``servers`` workers, each serving at
    ``service_rate_per_s`` (exponential or deterministic service times)."""

    kind: Literal["M/M/c", "M/D/1"]
    arrival_rate_per_s: float
    service_rate_per_s: float
    servers: int

    @property
    def label(self) -> str:
        """``M/M/1``, ``M/M/4`` or ``M/D/1``."""
        return self.kind.replace("c", str(self.servers))

    def mean_sojourn_s(self) -> float:
        """Mean time in system."""
        if self.kind == "M/D/1":
            return float(md1_mean_sojourn_s(self.arrival_rate_per_s, 1.0 / self.service_rate_per_s))
        return float(mmc_mean_sojourn_s(self.arrival_rate_per_s, self.service_rate_per_s, self.servers))

    def sojourn_cdf(self, t_s: npt.ArrayLike) -> FloatArray:
        """P(time in system <= t); NaN where the M/D/1 series cannot be evaluated accurately."""
        t = np.asarray(t_s, dtype=np.float64)
        if self.kind == "M/D/1":
            service_s = 1.0 / self.service_rate_per_s
            cdf = np.zeros_like(t)
            after = t >= service_s
            cdf[after] = md1_wait_cdf(t[after] - service_s, self.arrival_rate_per_s, service_s)
            return cdf
        return np.asarray(1.0 - mmc_sojourn_tail(t, self.arrival_rate_per_s, self.service_rate_per_s,
                                                 self.servers), dtype=np.float64)


def queue_theory(scenario: Mapping[str, Any]) -> QueueTheory | None:
    """The textbook queue that ``scenario`` (resolved, SI numbers) is, or ``None`` when it is not one or the
    queue is unstable."""
    services, nodes, devices = scenario.get("services", []), scenario.get("nodes", []), scenario.get("devices", [])
    if len(services) != 1 or len(nodes) != 1 or not devices or scenario.get("links") or scenario.get("switches"):
        return None
    service, node = services[0], nodes[0]
    instant = (service.get("input") == 0 and service.get("output") == 0
               and all(ap.get("latency") == 0 for ap in scenario.get("access_points", [])))
    edge_only = all(policy.get("name") == "always_edge" for policy in scenario.get("policies", []))
    poisson = all(device.get("workload", {}).get("kind") == "poisson" for device in devices)
    if not (instant and edge_only and poisson):
        return None
    arrival_rate_per_s = sum(float(d.get("count", 1)) * float(d["workload"]["rate"]) for d in devices)
    servers, speed_ops_per_s, work = int(node.get("workers", 1)), float(node["speed"]), service.get("work")
    if isinstance(work, Mapping) and work.get("distribution") == "exponential":
        theory = QueueTheory("M/M/c", arrival_rate_per_s, speed_ops_per_s / float(work["mean"]), servers)
    elif isinstance(work, int | float) and work > 0 and servers == 1:
        theory = QueueTheory("M/D/1", arrival_rate_per_s, speed_ops_per_s / float(work), 1)
    else:
        return None
    stable = theory.arrival_rate_per_s < theory.servers * theory.service_rate_per_s
    return theory if stable else None
