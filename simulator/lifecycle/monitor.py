"""What each service version did, measured at the router: a time series sampled every ``interval_s`` (desired and
ready replicas, traffic weight, load, and the 95th percentile request time and error rate over the last ``window_s``:
the canary analysis' own when it has one, else :data:`~simulator.lifecycle.versions.SAMPLE_S`) and, at the end, the
platform's per-version monitor (average queries per minute, average request time, call count) over the measured
window after the warm-up.

A version's *weight* is the percentage of the service's requests routed to it: the traffic split's weight for a
canary, else its share of the ready replicas behind the one endpoint pool it shares with the other versions (a rolling
upgrade); its *load* is the requests it started per second over the sample interval.
"""

from __future__ import annotations

import math
from typing import Any

import simpy

from simulator.events import Wake
from simulator.lifecycle.replicas import Deployed, ready
from simulator.lifecycle.traffic import TrafficSplit
from simulator.lifecycle.versions import Control

#: Columns of the per-version time series.
TRAFFIC_COLUMNS = ("time_s", "service", "version", "deployment", "desired", "ready", "weight", "load_rps", "p95_s",
                   "error_rate")
#: Columns of the per-version monitor.
VERSION_COLUMNS = ("service", "version", "deployment", "avg_qpm", "avg_req_time_s", "calls", "errors")


class TrafficSampler:
    """Samples every version of the platform every ``interval_s`` (``window_s`` per service)."""

    def __init__(self, controller: Control, windows: dict[str, tuple[float, float]]) -> None:
        self.controller = controller
        self.env: simpy.Environment = controller.env
        self.windows = windows
        self.rows: list[tuple[Any, ...]] = []
        self.started: dict[str, int] = {}

    def start(self) -> None:
        """Sample at every multiple of each service's interval."""
        for service, (interval_s, _) in sorted(self.windows.items()):
            Wake(self.env, interval_s, service, self._sample)

    def weight(self, deployed: Deployed) -> float:
        """The version's share of the service's requests (percent)."""
        spec = deployed.spec
        front = self.controller.pools[(spec.service, spec.nodes[0])]
        if isinstance(front, TrafficSplit):
            return float(front.weights.get(deployed.pool, 0))
        peers = [d for d in self.controller.deployed.values() if d.pool is deployed.pool]
        total = sum(ready(d) for d in peers)
        return 100.0 * ready(deployed) / total if total else (100.0 if len(peers) == 1 else 0.0)

    def _sample(self, event: simpy.Event) -> None:
        service: str = event.value  # type: ignore[assignment]
        interval_s, window_s = self.windows[service]
        Wake(self.env, interval_s, service, self._sample)
        now = self.env.now
        for deployed in self.controller.deployed.values():
            spec = deployed.spec
            if spec.service != service:
                continue
            started = deployed.stats.started
            load_rps = (started - self.started.get(spec.name, 0)) / interval_s
            self.started[spec.name] = started
            _, p95_s, errors = deployed.stats.window(now - window_s)
            self.rows.append((now, service, spec.version, spec.name, deployed.desired, ready(deployed),
                              self.weight(deployed), load_rps, p95_s, errors))


def version_monitor(controller: Control, warmup_s: float) -> list[tuple[Any, ...]]:
    """The per-version monitor over ``[warmup_s, now]``: calls are the requests served (not failed)."""
    now = controller.env.now
    rows = []
    for deployed in controller.deployed.values():
        request_s, failed = deployed.stats.since(warmup_s)
        served = request_s[~failed]
        minutes = (now - warmup_s) / 60.0
        spec = deployed.spec
        rows.append((spec.service, spec.version, spec.name, served.size / minutes if minutes > 0 else math.nan,
                     float(served.mean()) if served.size else math.nan, int(served.size), int(failed.sum())))
    return rows
