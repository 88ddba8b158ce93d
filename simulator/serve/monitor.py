"""Request accounting: the platform's monitor format (``AvgQPM``, ``AvgReqTime``, ``Counter``) and Prometheus metrics.

:class:`MonitorMiddleware` is a plain ASGI middleware (no per-request objects beyond a closure): it times every HTTP
request from its first byte to the end of its response and counts it once the response is complete. The event loop
runs one callback at a time, so the counters are exact under any number of concurrent requests. A request costs
three integer updates in one array (:class:`Counts`): calls per endpoint and status, the duration's histogram
bucket, and the endpoint's total time in nanoseconds (integers, so sums are exact). Everything reported is derived
from that array when asked for: the platform's format, and the Prometheus families (a custom collector, built when
``/metrics`` is scraped). With several worker processes each has its array in the shared folder and reports sum them
(:mod:`simulator.serve.shared`).
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily, Metric
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from simulator.serve.shared import all_counters, counter_array, started_s

#: the endpoints whose calls make up "the service as a whole" (monitoring and documentation are counted apart)
API_ENDPOINTS = ("/decide", "/decide/batch", "/observe", "/state")
OTHER = "other"
#: upper bounds of the request-duration histogram's buckets (seconds; the last bucket, +Inf, is implied)
BUCKETS_S = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0)
#: HTTP status codes are 100-599
FIRST_STATUS, STATUSES = 100, 500


def platform_format(counter: int, total_s: float, minutes: float) -> dict[str, Any]:
    """``{"AvgQPM": calls per minute since start, "AvgReqTime": "0.000412s", "Counter": calls}``."""
    mean_s = total_s / counter if counter else 0.0
    return {"AvgQPM": round(counter / minutes, 2) if minutes > 0 else 0.0, "AvgReqTime": f"{mean_s:.6f}s",
            "Counter": counter}


class Counts:
    """The layout of one array of counters for ``endpoints``: per endpoint, calls by status, duration histogram
    buckets (+Inf last) and total nanoseconds."""

    def __init__(self, endpoints: Sequence[str]) -> None:
        self.endpoints = tuple(endpoints)
        self.row = STATUSES + len(BUCKETS_S) + 2
        self.size = self.row * len(self.endpoints)

    def record(self, array: npt.NDArray[np.int64], index: int, status: int, seconds: float) -> None:
        """Count one request of endpoint ``index``."""
        base = index * self.row
        array[base + min(max(status - FIRST_STATUS, 0), STATUSES - 1)] += 1
        array[base + STATUSES + bisect_left(BUCKETS_S, seconds)] += 1
        array[base + self.row - 1] += round(seconds * 1e9)

    def split(self, array: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64],
                                                            npt.NDArray[np.int64]]:
        """``(calls by endpoint and status, histogram buckets by endpoint, nanoseconds by endpoint)``."""
        rows = array.reshape(len(self.endpoints), self.row)
        return rows[:, :STATUSES], rows[:, STATUSES:-1], rows[:, -1]


class Monitor:
    """The counters of one service: in memory for one process, or this worker's part of the shared folder (then
    reports cover every worker). Registered in its own Prometheus registry."""

    def __init__(self, endpoints: Sequence[str], clock: Callable[[], float] = time.monotonic,
                 folder: Path | None = None) -> None:
        self.clock = clock
        self.folder = folder
        self.counts = Counts((*endpoints, OTHER))
        self.index = {name: i for i, name in enumerate(self.counts.endpoints)}
        if folder is None:
            self.started_s = clock()
            self.array = np.zeros(self.counts.size, dtype=np.int64)
        else:
            self.started_s = started_s(folder)
            self.array = counter_array(folder, self.counts.size)
        self.registry = CollectorRegistry()
        self.registry.register(self)

    def endpoint(self, path: str) -> int:
        """The index under which a request for ``path`` is counted."""
        return self.index.get(path, self.index[OTHER])

    def record(self, index: int, status: int, seconds: float) -> None:
        """Count one finished request of endpoint ``index``."""
        self.counts.record(self.array, index, status, seconds)

    def _totals(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        array = self.array if self.folder is None else all_counters(self.folder, self.counts.size)
        return self.counts.split(array)

    def collect(self) -> Iterator[Metric]:
        """The Prometheus families (the registry calls this when ``/metrics`` is scraped)."""
        calls, buckets, nanoseconds = self._totals()
        requests = CounterMetricFamily("mecsim_requests", "HTTP requests served", labels=("endpoint", "status"))
        seconds = HistogramMetricFamily("mecsim_request_duration_seconds", "Time to serve a request",
                                        labels=("endpoint",))
        bounds = [*(repr(bound) for bound in BUCKETS_S), "+Inf"]
        for i, name in enumerate(self.counts.endpoints):
            for offset in np.flatnonzero(calls[i]):
                requests.add_metric((name, str(FIRST_STATUS + offset)), float(calls[i, offset]))
            if calls[i].any():
                cumulative = np.cumsum(buckets[i]).astype(float).tolist()
                seconds.add_metric((name,), list(zip(bounds, cumulative, strict=True)), nanoseconds[i] / 1e9)
        yield requests
        yield seconds

    def report(self) -> dict[str, Any]:
        """The whole service in the platform's format, plus the same per endpoint."""
        minutes = (self.clock() - self.started_s) / 60.0
        calls, _, nanoseconds = self._totals()
        counters = calls.sum(axis=1)
        api = [self.index[name] for name in API_ENDPOINTS if name in self.index]
        return platform_format(int(counters[api].sum()), float(nanoseconds[api].sum()) / 1e9, minutes) | {
            "endpoints": {name: platform_format(int(counters[i]), float(nanoseconds[i]) / 1e9, minutes)
                          for i, name in enumerate(self.counts.endpoints)}}


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
        endpoint = self.monitor.endpoint(scope["path"])
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
