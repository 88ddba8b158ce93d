"""The rolling upgrade of a Kubernetes Deployment (``strategy: RollingUpdate``), rule for rule.

The new version's replicas join the stable version's endpoint pool (one Service in front of both), so traffic follows
the ready replicas. Whenever either version's replicas change, the controller (kubernetes
``pkg/controller/deployment/rolling.go``) repeats, until nothing changes:

1. scale the new version up (``NewRSNewReplicas``): to ``min(new + (R + maxSurge − old − new), R)`` when the sum of
   both desired counts is below ``R + maxSurge``;
2. scale the old version down (``reconcileOldReplicaSets``): at most ``old + new − (R − maxUnavailable) −
   (new − ready_new)`` replicas, the not-ready ones first (``cleanupUnhealthyReplicas``), then ready ones while the
   ready replicas of both versions exceed ``R − maxUnavailable``;

where ``R`` is the service's replica count (changed by an autoscaler meanwhile), ``old``/``new`` the versions' desired
counts and ``maxSurge``/``maxUnavailable`` counts or percentages of ``R`` (surge rounded up, unavailable down; both 0
makes unavailable 1, as ``ResolveFenceposts``). So at every instant ``old + new <= R + maxSurge`` (replicas not
terminating) and, from a start with ``R`` ready, ``ready_old + ready_new >= R − maxUnavailable`` unless replicas
fail. The upgrade is complete when the new version has ``R`` ready replicas and the old one none left desired.
"""

from __future__ import annotations

from dataclasses import dataclass

from offload.errors import ParameterError
from simulator.lifecycle.replicas import ready
from simulator.lifecycle.versions import Control, Rollout, RolloutRun, percent_of


@dataclass(frozen=True, slots=True)
class Amount:
    """A number of replicas given as a count or as a percentage of the replica count."""

    value: float
    percent: bool = False

    def __post_init__(self) -> None:
        if self.percent and not 0.0 <= self.value <= 100.0:
            raise ParameterError("percent", self.value, "must be within [0, 100]")
        if not self.percent and (self.value < 0 or self.value != int(self.value)):
            raise ParameterError("count", self.value, "must be a whole number >= 0")

    def of(self, replicas: int, *, round_up: bool) -> int:
        """The count for ``replicas`` replicas."""
        return percent_of(replicas, self.value, round_up=round_up) if self.percent else int(self.value)


@dataclass(frozen=True, slots=True)
class RollingUpdate:
    """A rolling upgrade's bounds (Kubernetes defaults: 25 % each)."""

    max_surge: Amount = Amount(25.0, percent=True)
    max_unavailable: Amount = Amount(25.0, percent=True)

    def __post_init__(self) -> None:
        if self.max_surge.value == 0 and self.max_unavailable.value == 0:
            raise ParameterError("max_unavailable", 0, "may not be 0 when max_surge is 0")

    def bounds(self, replicas: int) -> tuple[int, int]:
        """``(maxSurge, maxUnavailable)`` for ``replicas`` replicas."""
        surge = self.max_surge.of(replicas, round_up=True)
        unavailable = self.max_unavailable.of(replicas, round_up=False)
        return surge, (1 if surge == 0 and unavailable == 0 else unavailable)

    def attach(self, controller: Control, rollout: Rollout) -> RolloutRun:
        """The upgrade's run in one replication."""
        return RollingRun(controller, rollout, self)


def rolling_targets(replicas: int, surge: int, unavailable: int, old: int, new: int, ready_old: int,
                    ready_new: int) -> tuple[int, int]:
    """One pass of the rolling upgrade: the new desired counts ``(old, new)`` from the current ones and the
    versions' ready replicas (steps 1 and 2 of the module docstring; a ready replica counts as available)."""
    total = old + new
    if total < replicas + surge:
        new += max(0, min(replicas + surge - total, replicas - new))
    if old == 0:
        return old, new
    down = old + new - (replicas - unavailable) - (new - ready_new)
    if down <= 0:
        return old, new
    unhealthy = min(down, old - ready_old)
    old -= unhealthy
    available = ready_old + ready_new
    if available > replicas - unavailable:
        old -= min(old, available - (replicas - unavailable))
    return old, new


class RollingRun(RolloutRun):
    """A rolling upgrade in one replication."""

    def __init__(self, controller: Control, rollout: Rollout, rules: RollingUpdate) -> None:
        super().__init__(controller, rollout)
        self.rules = rules

    def resize(self) -> None:
        assert self.new is not None
        if self.new.desired > self.replicas:
            self.set_count(self.new, self.replicas)

    def changed(self) -> None:
        new = self.new
        assert new is not None
        surge, unavailable = self.rules.bounds(self.replicas)
        ready_new = ready(new)
        old, target = rolling_targets(self.replicas, surge, unavailable, self.stable.desired, new.desired,
                                      ready(self.stable), ready_new)
        if target != new.desired:
            self.set_count(new, target)
        elif old != self.stable.desired:
            self.set_count(self.stable, old)
        elif old == 0 and ready_new >= self.replicas:
            self.finish("complete")
