"""Request accounting: the platform's monitor format (``AvgQPM``, ``AvgReqTime``, ``Counter``) and Prometheus metrics.

:class:`MonitorMiddleware` is a plain ASGI middleware (no per-request objects beyond a closure): it times every HTTP
request from its first byte to the end of its response and counts it once the response is complete. The event loop
runs one callback at a time, so the counters are exact under any number of concurrent requests. A request costs a
few integer updates: the Prometheus families are built from the same tallies when ``/metrics`` is scraped (a
custom collector), not updated per request.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily, Metric
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: the endpoints whose calls make up "the service as a whole" (monitoring and documentation are counted apart)
API_ENDPOINTS = ("/decide", "/decide/batch", "/observe", "/state")
OTHER = "other"
#: upper bounds of the request-duration histogram's buckets (seconds; the last bucket, +Inf, is implied)
BUCKETS_S = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0)


@dataclass(slots=True)
class Tally:
    """Calls and their total time for one endpoint (or the whole service)."""

    counter: int = 0
    total_s: float = 0.0

    def add(self, seconds: float) -> None:
        """Count one finished call."""
        self.counter += 1
        self.total_s += seconds


def platform_format(tally: Tally, minutes: float) -> dict[str, Any]:
    """``{"AvgQPM": calls per minute since start, "AvgReqTime": "0.000412s", "Counter": calls}``."""
    mean_s = tally.total_s / tally.counter if tally.counter else 0.0
    return {"AvgQPM": round(tally.counter / minutes, 2) if minutes > 0 else 0.0, "AvgReqTime": f"{mean_s:.6f}s",
            "Counter": tally.counter}


@dataclass(slots=True)
class Histogram:
    """Request durations of one endpoint: a count per bucket of :data:`BUCKETS_S` (+Inf last) and their sum."""

    counts: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS_S) + 1))
    sum_s: float = 0.0

    def observe(self, seconds: float) -> None:
        """Count one duration in the first bucket whose upper bound is at least ``seconds``."""
        self.counts[bisect_left(BUCKETS_S, seconds)] += 1
        self.sum_s += seconds

    def cumulative(self) -> list[tuple[str, float]]:
        """Prometheus's cumulative buckets: ``(upper bound, requests at most that long)``."""
        bounds = [*(repr(bound) for bound in BUCKETS_S), "+Inf"]
        total, out = 0, []
        for bound, count in zip(bounds, self.counts, strict=True):
            total += count
            out.append((bound, float(total)))
        return out


@dataclass(slots=True, eq=False)  # registered by identity in its registry
class Monitor:
    """Counters of one service instance (one process), with their own Prometheus registry."""

    endpoints: Iterable[str]
    clock: Callable[[], float] = time.monotonic
    started_s: float = field(init=False)
    service: Tally = field(default_factory=Tally)
    tallies: dict[str, Tally] = field(init=False)
    #: requests per (endpoint, status) and durations per endpoint, for Prometheus
    statuses: dict[tuple[str, int], int] = field(default_factory=dict)
    durations: dict[str, Histogram] = field(init=False)
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.started_s = self.clock()
        self.tallies = {name: Tally() for name in (*self.endpoints, OTHER)}
        self.durations = {name: Histogram() for name in self.tallies}
        self.registry.register(self)

    def record(self, endpoint: str, status: int, seconds: float) -> None:
        """Count one finished request."""
        self.tallies[endpoint].add(seconds)
        if endpoint in API_ENDPOINTS:
            self.service.add(seconds)
        key = (endpoint, status)
        self.statuses[key] = self.statuses.get(key, 0) + 1
        self.durations[endpoint].observe(seconds)

    def collect(self) -> Iterator[Metric]:
        """The Prometheus families (the registry calls this when ``/metrics`` is scraped)."""
        requests = CounterMetricFamily("mecsim_requests", "HTTP requests served", labels=("endpoint", "status"))
        for (endpoint, status), count in sorted(self.statuses.items()):
            requests.add_metric((endpoint, str(status)), float(count))
        seconds = HistogramMetricFamily("mecsim_request_duration_seconds", "Time to serve a request",
                                        labels=("endpoint",))
        for endpoint, histogram in self.durations.items():
            if self.tallies[endpoint].counter:
                seconds.add_metric((endpoint,), histogram.cumulative(), histogram.sum_s)
        yield requests
        yield seconds

    def report(self) -> dict[str, Any]:
        """The whole service in the platform's format, plus the same per endpoint."""
        minutes = (self.clock() - self.started_s) / 60.0
        return platform_format(self.service, minutes) | {
            "endpoints": {name: platform_format(tally, minutes) for name, tally in self.tallies.items()}}


class MonitorMiddleware:
    """ASGI middleware that records every HTTP request in a :class:`Monitor`."""

    def __init__(self, app: ASGIApp, monitor: Monitor) -> None:
        self.app = app
        self.monitor = monitor

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        path = scope["path"]
        endpoint = path if path in self.monitor.tallies else OTHER
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            self.monitor.record(endpoint, status, time.perf_counter() - start)
