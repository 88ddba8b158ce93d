"""Request accounting: the platform's monitor format (``AvgQPM``, ``AvgReqTime``, ``Counter``) and Prometheus metrics.

:class:`MonitorMiddleware` is a plain ASGI middleware (no per-request objects beyond a closure): it times every HTTP
request from its first byte to the end of its response and counts it once the response is complete. The event loop
runs one callback at a time, so the counters are exact under any number of concurrent requests.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: the endpoints whose calls make up "the service as a whole" (monitoring and documentation are counted apart)
API_ENDPOINTS = ("/decide", "/decide/batch", "/observe", "/state")
OTHER = "other"


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
class Monitor:
    """Counters of one service instance (one process), with their own Prometheus registry."""

    endpoints: Iterable[str]
    clock: Callable[[], float] = time.monotonic
    started_s: float = field(init=False)
    service: Tally = field(default_factory=Tally)
    tallies: dict[str, Tally] = field(init=False)
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    requests: Counter = field(init=False)
    seconds: Histogram = field(init=False)

    def __post_init__(self) -> None:
        self.started_s = self.clock()
        self.tallies = {name: Tally() for name in (*self.endpoints, OTHER)}
        self.requests = Counter("mecsim_requests", "HTTP requests served", ("endpoint", "status"),
                                registry=self.registry)
        self.seconds = Histogram("mecsim_request_duration_seconds", "Time to serve a request", ("endpoint",),
                                 registry=self.registry,
                                 buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0))

    def record(self, endpoint: str, status: int, seconds: float) -> None:
        """Count one finished request."""
        self.tallies[endpoint].add(seconds)
        if endpoint in API_ENDPOINTS:
            self.service.add(seconds)
        self.requests.labels(endpoint, str(status)).inc()
        self.seconds.labels(endpoint).observe(seconds)

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
