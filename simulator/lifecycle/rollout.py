"""A canary (grey) release, as Argo Rollouts runs one with traffic routing: steps that set the new version's traffic
weight or pause, and an analysis of the new version's requests against an SLO that lets the steps go on, holds them,
or rolls the release back.

The new version has its own endpoint pool behind the service's :class:`~simulator.lifecycle.traffic.TrafficSplit`.
While the canary runs, the stable version keeps the service's replica count ``R`` and the new one gets
``ceil(weight × R / 100)`` replicas for the weight of the current step; a weight takes effect once that many new
replicas are ready. After the last step the new version is promoted: it is scaled to ``R``, takes all the traffic once
ready, and the old version's replicas drain (requests still waiting for them are handed to the new version).

The analysis looks, every ``interval_s`` while the new version has traffic, at the new version's requests that ended
within the last ``window_s``: with fewer than ``min_requests`` it is *inconclusive*; it *fails* when their 95th
percentile time at the router (queue and service) exceeds ``p95_s`` or the share that failed exceeds ``error_rate``,
and otherwise *passes*. A failure rolls the release back at once (weight 0, the new version's replicas drained, its
waiting requests handed to the stable version); a pause ends only after an analysis that passes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import simpy

from offload.errors import ParameterError
from offload.validate import check_positive
from simulator.events import Wake
from simulator.lifecycle.autoscaler import Load
from simulator.lifecycle.replicas import ready
from simulator.lifecycle.traffic import TrafficSplit
from simulator.lifecycle.versions import Control, Rollout, RolloutRun, percent_of

Verdict = Literal["pass", "fail", "inconclusive"]


@dataclass(frozen=True, slots=True)
class Step:
    """Set the new version's traffic ``weight`` (percent), or pause for ``pause_s``."""

    weight: int | None = None
    pause_s: float | None = None

    def __post_init__(self) -> None:
        if (self.weight is None) == (self.pause_s is None):
            raise ParameterError("step", self, "needs either a weight or a pause")
        if self.weight is not None and (not isinstance(self.weight, int) or not 0 <= self.weight <= 100):
            raise ParameterError("weight", self.weight, "must be a whole percentage within [0, 100]")
        if self.pause_s is not None:
            check_positive("pause_s", self.pause_s)


@dataclass(frozen=True, slots=True)
class Analysis:
    """The SLO the new version is held to over a sliding window (``inf``: no bound on that measure)."""

    window_s: float
    p95_s: float = math.inf
    error_rate: float = 1.0
    interval_s: float = 30.0
    min_requests: int = 20

    def __post_init__(self) -> None:
        check_positive("window_s", self.window_s)
        check_positive("p95_s", self.p95_s, allow_inf=True)
        check_positive("interval_s", self.interval_s)
        if not 0.0 <= self.error_rate <= 1.0:
            raise ParameterError("error_rate", self.error_rate, "must be within [0, 1]")
        if not isinstance(self.min_requests, int) or self.min_requests < 1:
            raise ParameterError("min_requests", self.min_requests, "must be a whole number >= 1")

    def verdict(self, n: int, p95_s: float, errors: float) -> tuple[Verdict, str]:
        """The verdict on the ``n`` requests of the window, of p95 time ``p95_s`` (s) and error rate ``errors``
        (NaN: none), and why."""
        if n < self.min_requests:
            return "inconclusive", f"{n} requests < {self.min_requests}"
        if p95_s > self.p95_s:
            return "fail", f"p95 {p95_s:.4g} s > {self.p95_s:g} s"
        if errors > self.error_rate:
            return "fail", f"error rate {errors:.4g} > {self.error_rate:g}"
        return "pass", f"p95 {p95_s:.4g} s, error rate {errors:.4g}"


@dataclass(frozen=True, slots=True)
class Canary:
    """A canary release: its ``steps`` and an optional ``analysis``."""

    steps: tuple[Step, ...]
    analysis: Analysis | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps", tuple(self.steps))
        if not self.steps:
            raise ParameterError("steps", self.steps, "needs at least one step")

    def attach(self, controller: Control, rollout: Rollout) -> RolloutRun:
        """The release's run in one replication."""
        return CanaryRun(controller, rollout, self)


class CanaryRun(RolloutRun):
    """A canary release in one replication (see the module docstring)."""

    shared_pool = False

    def __init__(self, controller: Control, rollout: Rollout, rules: Canary) -> None:
        super().__init__(controller, rollout)
        self.rules = rules
        service = self.stable.spec.service
        self.split = TrafficSplit(self.env, service, self.stable.pool, controller.split_uniform,
                                  on_served=controller.on_served, on_dropped=controller.on_dropped)
        for node in self.stable.spec.nodes:  # the requests sent into the domain
            controller.pools[(service, node)] = self.split
        self.weight = 0
        self.target = 0
        self.index = 0
        self.waiting = False
        self.held = False
        self.traffic_s = math.nan
        #: Every analysis: ``(time_s, verdict, requests, p95_s, error_rate)``.
        self.verdicts: list[tuple[float, str, int, float, float]] = []

    @property
    def load(self) -> Load:
        return self.split

    @property
    def sampling(self) -> tuple[float, float]:
        analysis = self.rules.analysis
        return super().sampling if analysis is None else (analysis.interval_s, analysis.window_s)

    @property
    def has_traffic(self) -> bool:
        """Whether the new version has had traffic to judge."""
        return not math.isnan(self.traffic_s)

    def begin(self) -> None:
        assert self.new is not None
        self.split.set_weights({self.stable.pool: 100, self.new.pool: 0})
        if self.rules.analysis is not None:
            Wake(self.env, self.rules.analysis.interval_s, None, self._tick)
        self._next_step()

    def _next_step(self) -> None:
        assert self.new is not None
        steps = self.rules.steps
        if self.index == len(steps):
            if self.weight < 100:  # promotion: the new version takes all the traffic, then the old one goes
                self._wait_for(100)
                return
            self.set_count(self.stable, 0)
            self.stable.pool.hand_over(self.new.pool)
            self.finish("complete")
            return
        step = steps[self.index]
        self.index += 1
        if step.weight is not None:
            self.controller.record(self.new, "step", f"{self.index}: weight {step.weight}")
            self._wait_for(step.weight)
        else:
            assert step.pause_s is not None
            self.controller.record(self.new, "step", f"{self.index}: pause {step.pause_s:g} s")
            Wake(self.env, step.pause_s, self.index, self._pause_end)

    def _wait_for(self, weight: int) -> None:
        """Scale the new version for ``weight`` and shift the traffic once its replicas are ready."""
        self.target = weight
        self.waiting = True
        self.resize()
        self.reconcile()

    def _pause_end(self, event: simpy.Event) -> None:
        if self.phase != "running" or event.value != self.index:
            return
        if self.rules.analysis is not None and self.has_traffic and self.analyse() != "pass":
            if self.phase == "running":
                self.held = True
                assert self.new is not None
                self.controller.record(self.new, "pause", "analysis inconclusive")
            return
        self._next_step()

    def resize(self) -> None:
        assert self.new is not None
        self.set_count(self.stable, self.replicas)
        self.set_count(self.new, percent_of(self.replicas, max(self.target, self.weight), round_up=True))

    def changed(self) -> None:
        assert self.new is not None
        if self.waiting and ready(self.new) >= percent_of(self.replicas, self.target, round_up=True):
            self.waiting = False
            self._set_weight(self.target)
            self.resize()  # a lower weight needs fewer new replicas
            self._next_step()

    def _set_weight(self, weight: int) -> None:
        assert self.new is not None
        if weight > 0 and math.isnan(self.traffic_s):
            self.traffic_s = self.env.now
        self.weight = weight
        self.split.set_weights({self.stable.pool: 100 - weight, self.new.pool: weight})
        self.controller.record(self.new, "weight", str(weight))

    # -- analysis -------------------------------------------------------------------------------------------------
    def _tick(self, _: simpy.Event) -> None:
        if self.phase != "running":
            return
        assert self.rules.analysis is not None
        Wake(self.env, self.rules.analysis.interval_s, None, self._tick)
        if self.has_traffic:
            verdict = self.analyse()
            if verdict == "pass" and self.held:
                self.held = False
                self._next_step()

    def analyse(self) -> Verdict:
        """Judge the new version's requests of the last window; roll back on a failure."""
        analysis, new = self.rules.analysis, self.new
        assert analysis is not None
        assert new is not None
        n, p95_s, errors = new.stats.window(self.env.now - analysis.window_s)
        verdict, why = analysis.verdict(n, p95_s, errors)
        self.verdicts.append((self.env.now, verdict, n, p95_s, errors))
        if verdict == "fail":
            self.rollback(why)
        return verdict

    def rollback(self, why: str) -> None:
        """Weight 0, the new version's replicas drained, its waiting requests handed to the stable version."""
        assert self.new is not None
        self.phase = "rolled_back"
        self.weight = self.target = 0
        self.split.set_weights({self.stable.pool: 100, self.new.pool: 0})
        self.set_count(self.stable, self.replicas)
        self.set_count(self.new, 0)
        self.new.pool.hand_over(self.stable.pool)
        self.finish("rolled_back", why)
