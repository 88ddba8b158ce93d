"""The Kubernetes horizontal pod autoscaler (HPA, ``autoscaling/v2``) over a deployment, rule for rule.

Every ``sync_s`` (default 15 s) the autoscaler reads one metric over the ready replicas and, as the HPA
controller does (kubernetes ``pkg/controller/podautoscaler/horizontal.go`` and the API defaults):

1. ``ratio = metric / target``; within the tolerance (``|1 − ratio| ≤ 0.1``) the recommendation is the current
   desired count, else ``ceil(ratio × ready)`` (:func:`raw_recommendation`);
2. stabilisation: the recommendation is stored; the new desired count is the current one brought within
   ``[min of recommendations in the last up-window (0 s), max of those in the last down-window (300 s)]``
   (windows exclude their start, so at ``t`` a recommendation made at ``t − 300`` no longer counts; at start the
   window holds the initial count, as the controller initialises it);
3. rate limits (:func:`scale_limits`): scaling up at most to the larger of ``ceil(2 × start)`` and ``start + 4``,
   scaling down at most to ``start × (1 − 100 %) = 0``, where ``start`` is the count at the beginning of the
   15 s policy period (the count now minus what the autoscaler changed within the period); then clamped to
   ``[min_replicas, max_replicas]``.

Metrics (averages over the ready replicas, so ``metric × ready`` is the deployment's total): ``busy``, the
fraction of the replicas' workers busy over the last sync period; ``rps``, requests that reached the router per
second over the last sync period; ``queue``, requests waiting at the router at the sync instant. With no ready
replica there is no metric and the autoscaler leaves the count alone (Kubernetes skips the sync).

Scale to zero (``min_replicas = 0``, as Knative's autoscaler does and the HPA with its ``HPAScaleToZero`` gate): the
rule above takes an idle deployment to zero once the stabilisation window holds only zero recommendations; then the
first request to arrive activates it (:meth:`simulator.lifecycle.controller.Controller.activate`: one replica, which
pays the cold start, while the router buffers the requests as it does whenever no replica is ready).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

import simpy

from offload.errors import ParameterError
from offload.validate import check_non_negative, check_positive
from simulator.events import Wake

Metric = Literal["busy", "rps", "queue"]


class Load(Protocol):
    """What the autoscaler reads of a service: requests ``received`` so far, requests ``waiting`` now, and busy
    worker-seconds so far (an endpoint pool, or the traffic split over a service's versions)."""

    @property
    def received(self) -> int:
        """Requests that reached the service since the start of the run."""

    @property
    def waiting(self) -> int:
        """Requests waiting for a worker."""

    def busy_total_at(self, now: float) -> float:
        """Busy worker-seconds since the start of the run, up to ``now``."""

METRICS: tuple[Metric, ...] = ("busy", "rps", "queue")


@dataclass(frozen=True, slots=True)
class Autoscaling:
    """An HPA: bounds, metric and target, and the controller's settings (Kubernetes defaults).

    Attributes
    ----------
    min_replicas, max_replicas : int
        Bounds of the desired count.
    metric : {"busy", "rps", "queue"}
        Busy fraction of the ready replicas' workers, requests per second per ready replica, or requests waiting
        per ready replica.
    target : float
        The metric's target value per replica.
    sync_s, tolerance, down_window_s, up_window_s : float
        Sync period, tolerance on ``metric / target``, scale-down and scale-up stabilisation windows.
    up_percent, up_pods, down_percent, policy_period_s : float
        Rate limits per ``policy_period_s``: up by ``up_percent`` % or ``up_pods`` (the larger), down by
        ``down_percent`` %.
    """

    min_replicas: int
    max_replicas: int
    metric: Metric
    target: float
    sync_s: float = 15.0
    tolerance: float = 0.1
    down_window_s: float = 300.0
    up_window_s: float = 0.0
    up_percent: float = 100.0
    up_pods: int = 4
    down_percent: float = 100.0
    policy_period_s: float = 15.0

    def __post_init__(self) -> None:
        if not isinstance(self.min_replicas, int) or self.min_replicas < 0:
            raise ParameterError("min_replicas", self.min_replicas, "must be a whole number >= 0")
        if not isinstance(self.max_replicas, int) or self.max_replicas < max(self.min_replicas, 1):
            raise ParameterError("max_replicas", self.max_replicas,
                                 f"must be >= 1 and >= min_replicas ({self.min_replicas})")
        if self.metric not in METRICS:
            raise ParameterError("metric", self.metric, f"must be one of {', '.join(METRICS)}")
        check_positive("target", self.target)
        check_positive("sync_s", self.sync_s)
        check_positive("policy_period_s", self.policy_period_s)
        for name in ("tolerance", "down_window_s", "up_window_s", "up_percent", "up_pods"):
            check_non_negative(name, getattr(self, name))
        if not 0.0 <= self.down_percent <= 100.0:
            raise ParameterError("down_percent", self.down_percent, "must be within [0, 100]")


def raw_recommendation(total: float, ready: int, target: float, current: int, tolerance: float) -> int:
    """Step 1: ``ceil(ready × metric / target)`` with ``metric = total / ready`` (computed as ``total / target``,
    which is exact when the total is a multiple of the target), or ``current`` within the tolerance."""
    if abs(1.0 - total / (ready * target)) <= tolerance:
        return current
    return math.ceil(total / target)


def scale_limits(start_up: int, start_down: int, rules: Autoscaling) -> tuple[int, int]:
    """Step 3: the highest and lowest counts the policies allow from the period's start counts."""
    up = max(math.ceil(start_up * (1.0 + rules.up_percent / 100.0)), start_up + rules.up_pods)
    down = int(start_down * (1.0 - rules.down_percent / 100.0))
    return up, down


class Autoscaler:
    """The HPA of one deployment in one replication: ``counts()`` gives the deployment's desired and ready
    replicas, ``scale(count)`` applies a new desired count."""

    def __init__(self, env: simpy.Environment, rules: Autoscaling, pool: Load, workers: int,
                 scale: Callable[[int], None], counts: Callable[[], tuple[int, int]]) -> None:
        self.env = env
        self.rules = rules
        self.pool = pool
        self.workers = workers
        self.scale = scale
        self.counts = counts
        self.current = counts()[0]
        self.recommendations: list[tuple[float, int]] = [(env.now, self.current)]
        self.changes: list[tuple[float, int]] = []
        self._busy = 0.0
        self._received = 0

    def start(self) -> None:
        """Take the first readings now and sync every period (the first sync one period from now)."""
        self._busy = self.pool.busy_total_at(self.env.now)
        self._received = self.pool.received
        Wake(self.env, self.rules.sync_s, None, self._sync)

    def _total(self) -> float:
        """The metric summed over the ready replicas (``metric × ready``), and the readings reset."""
        now = self.env.now
        busy = self.pool.busy_total_at(now)
        received = self.pool.received
        busy_s, requests = busy - self._busy, received - self._received
        self._busy, self._received = busy, received
        if self.rules.metric == "busy":
            return busy_s / (self.rules.sync_s * self.workers)
        if self.rules.metric == "rps":
            return requests / self.rules.sync_s
        return float(self.pool.waiting)

    def _sync(self, event: simpy.Event) -> None:
        Wake(self.env, self.rules.sync_s, None, self._sync)
        self.current, ready = self.counts()
        total = self._total()
        if ready == 0:
            return
        desired = self.desired(raw_recommendation(total, ready, self.rules.target, self.current,
                                                  self.rules.tolerance))
        if desired != self.current:
            self.changes.append((self.env.now, desired - self.current))
            self.current = desired
            self.scale(desired)

    def desired(self, raw: int) -> int:
        """Steps 2 and 3 for the raw recommendation ``raw`` made now."""
        rules, now = self.rules, self.env.now
        up_cut, down_cut = now - rules.up_window_s, now - rules.down_window_s
        self.recommendations = [(t, r) for t, r in self.recommendations if t > min(up_cut, down_cut)]
        up = min([r for t, r in self.recommendations if t > up_cut] + [raw])
        down = max([r for t, r in self.recommendations if t > down_cut] + [raw])
        self.recommendations.append((now, raw))
        stabilised = min(max(self.current, up), down)
        cut = now - rules.policy_period_s
        added = sum(change for t, change in self.changes if t > cut and change > 0)
        removed = -sum(change for t, change in self.changes if t > cut and change < 0)
        start = self.current - added + removed
        high, low = scale_limits(start, start, rules)
        if stabilised > self.current:
            return min(stabilised, max(min(high, rules.max_replicas), self.current))
        if stabilised < self.current:
            return max(stabilised, min(max(low, rules.min_replicas), self.current))
        return stabilised
