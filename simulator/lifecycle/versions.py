"""A service's versions at run time: a :class:`Rollout` replaces the version a deployment runs by another, following
its strategy (:mod:`simulator.lifecycle.upgrade` for a rolling upgrade, :mod:`simulator.lifecycle.rollout` for a
canary), through the replicas' ordinary life cycle (pull, boot, ready, drain).

At ``at_s`` the rollout adds the new version as a second deployment of the service (``SERVICE-VERSION``, the same spec
but the version's image, speedup and error probability, no replicas yet) and, once that image is built
(:mod:`simulator.lifecycle.builds`: at once unless it has a build time and is nowhere yet), the strategy moves
replicas and traffic from the stable version to it. It ends *complete* (the new version is the service's stable one)
or *rolled back* (the new version has no replica and no traffic left). Throughout, an autoscaler of the deployment
scales the service as a whole: its desired count is the strategy's replica count, its reading the service's whole
load.

A service deployed in several domains (one deployment per domain) can roll out domain by domain: a rollout ``after``
another waits for it to complete, then begins (at its own ``at_s`` if that is later); a rollback, or a cancelled
rollout, cancels every rollout that waits for it (event ``rollout_cancelled``), so the remaining domains keep the
stable version.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import simpy

from offload.errors import ParameterError
from offload.validate import check_non_negative
from simulator.events import Wake
from simulator.lifecycle.autoscaler import Load
from simulator.lifecycle.builds import Builds
from simulator.lifecycle.replicas import Deployed, ready
from simulator.lifecycle.router import EndpointPool
from simulator.lifecycle.spec import Deployment, Version
from simulator.lifecycle.traffic import Uniforms
from simulator.result import DropReason
from simulator.servers import WorkerPool

Phase = Literal["waiting", "running", "complete", "rolled_back", "cancelled"]
#: Interval and window (s) of a version's traffic series unless an analysis sets them (:mod:`~.lifecycle.monitor`).
SAMPLE_S = 60.0


class Control(Protocol):
    """What a rollout and the traffic sampler see of the deployment controller
    (:class:`simulator.lifecycle.controller.Controller`): its deployments, the pools the services' requests reach,
    the callbacks to call when a replica count changes, the images' builds, and the actions they take."""

    env: simpy.Environment
    builds: Builds
    deployed: dict[str, Deployed]
    pools: dict[tuple[str, str], WorkerPool]
    watchers: dict[str, Callable[[], None]]
    split_uniform: Uniforms
    on_served: Callable[[Any], None]
    on_dropped: Callable[[Any, DropReason], None]

    def add_deployed(self, spec: Deployment, pool: EndpointPool | None = None) -> Deployed:
        """Run deployment ``spec`` (no replica yet) behind ``pool``, or behind a pool of its own."""

    def record(self, deployed: Deployed, kind: str, detail: str = "") -> None:
        """An event of a deployment as a whole."""

    def scale(self, name: str, replicas: int, kind: str = "scale") -> None:
        """Set the desired count of deployment ``name`` (event ``kind``)."""


class Strategy(Protocol):
    """How a rollout moves a service to its new version (one class per strategy)."""

    def attach(self, controller: Control, rollout: Rollout) -> RolloutRun:
        """The rollout's run in one replication of ``controller``'s platform."""


@dataclass(frozen=True, slots=True)
class Rollout:
    """At ``at_s``, move deployment ``deployment`` to version ``version`` by ``strategy``; with ``after``, not before
    the rollout of deployment ``after`` (the same service and version in another domain) completed, and not at all
    when that one was rolled back or cancelled."""

    deployment: str
    version: Version
    at_s: float
    strategy: Strategy
    after: str | None = None

    def __post_init__(self) -> None:
        check_non_negative("at_s", self.at_s)
        if not hasattr(self.strategy, "attach"):
            raise ParameterError("strategy", self.strategy, "must be a rolling update or a canary")


def new_name(name: str, old: str, new: str) -> str:
    """The name of the deployment a rollout from version ``old`` to ``new`` adds beside deployment ``name``: the
    name with its ``-OLD`` ending replaced by ``-NEW`` (``plates-v1`` → ``plates-v2``), else with ``-NEW``
    appended (``plates-east`` → ``plates-east-v2``)."""
    suffix = f"-{old}"
    return f"{name[:-len(suffix)] if name.endswith(suffix) else name}-{new}"


def check_rollouts(deployments: Sequence[Deployment], rollouts: Sequence[Rollout]) -> None:
    """Each rollout names a deployment, at most once, and a version that makes a new deployment name; one that
    waits ``after`` another waits for a rollout of the same service to the same version, and no chain of waits
    is a cycle."""
    specs = {d.name: d for d in deployments}
    taken = set(specs)
    for rollout in rollouts:
        spec = specs.get(rollout.deployment)
        if spec is None:
            raise ParameterError("rollouts.deployment", rollout.deployment, "undefined deployment")
        new = new_name(spec.name, spec.version, rollout.version.name)
        if rollout.version.name == spec.version or new in taken:
            raise ParameterError("rollouts.version", rollout.version.name, f"{new!r} is already a deployment")
        taken.add(new)
    if len({r.deployment for r in rollouts}) < len(rollouts):
        raise ParameterError("rollouts", [r.deployment for r in rollouts], "at most one rollout per deployment")
    by_deployment = {r.deployment: r for r in rollouts}
    for rollout in rollouts:
        if rollout.after is None:
            continue
        first = by_deployment.get(rollout.after)
        if first is None or specs[rollout.after].service != specs[rollout.deployment].service \
                or first.version.name != rollout.version.name:
            raise ParameterError("rollouts.after", rollout.after, "must be a rollout of the same service to the "
                                 "same version")
        chain = [rollout.deployment]
        while first is not None and first.deployment not in chain:
            chain.append(first.deployment)
            first = None if first.after is None else by_deployment.get(first.after)
        if first is not None:
            raise ParameterError("rollouts.after", " -> ".join([*chain, first.deployment]), "is a cycle")


class RolloutRun:
    """A rollout in one replication: the stable and (from ``at_s``) the new version, the service's replica count,
    and the autoscaler's view of them (:meth:`scale`, :meth:`counts`, :attr:`load`). Strategies override
    :meth:`begin`, :meth:`resize` and :meth:`changed`."""

    #: Whether the new version's replicas join the stable version's endpoint pool (one queue for both).
    shared_pool = True

    def __init__(self, controller: Control, rollout: Rollout) -> None:
        self.controller = controller
        self.env = controller.env
        self.rollout = rollout
        self.stable = controller.deployed[rollout.deployment]
        self.new: Deployed | None = None
        self.phase: Phase = "waiting"
        self.replicas = self.stable.spec.replicas
        #: The rollouts that wait for this one (``after``: the next domains).
        self.followers: list[RolloutRun] = []
        self._busy = False
        self._again = False

    def start(self) -> None:
        """Begin at ``at_s`` (one that waits ``after`` another: once :meth:`release` is called)."""
        if self.rollout.after is None:
            Wake(self.env, self.rollout.at_s, None, self._begin)

    def release(self) -> None:
        """The rollout this one waits for completed: begin at ``at_s``, or now if that has passed."""
        Wake(self.env, max(0.0, self.rollout.at_s - self.env.now), None, self._begin)

    def cancel(self, why: str) -> None:
        """The rollout this one waits for was rolled back or cancelled: this one never begins, nor its followers."""
        self.phase = "cancelled"
        self.controller.record(self.stable, "rollout_cancelled", why)
        for follower in self.followers:
            follower.cancel(f"{self.stable.spec.name} cancelled")

    def _begin(self, _: simpy.Event) -> None:
        version = self.rollout.version
        stable = self.stable.spec
        spec = dataclasses.replace(stable, name=new_name(stable.name, stable.version, version.name),
                                   version=version.name, image=version.image, speedup=version.speedup,
                                   error_probability=version.error_probability, replicas=0, autoscaling=None)
        self.new = self.controller.add_deployed(spec, self.stable.pool if self.shared_pool else None)
        self.controller.record(self.new, "rollout_start", f"{self.stable.spec.version} -> {version.name}")
        self.controller.builds.need(version.image.name, self.new, self._built)

    def _built(self) -> None:
        """The new version's image is built: the strategy takes over (until then the stable version serves and
        scales alone)."""
        assert self.new is not None
        self.replicas = self.stable.desired
        self.phase = "running"
        self.controller.watchers[self.new.spec.name] = self.controller.watchers[self.stable.spec.name] = \
            self.reconcile
        self.begin()
        self.reconcile()

    # -- the autoscaler's view -----------------------------------------------------------------------------------
    @property
    def sampling(self) -> tuple[float, float]:
        """Interval and window (s) of the versions' traffic series."""
        return SAMPLE_S, SAMPLE_S

    @property
    def current(self) -> Deployed:
        """The version that takes the service's replica count outside a rollout."""
        return self.new if self.phase == "complete" and self.new is not None else self.stable

    @property
    def load(self) -> Load:
        """What the autoscaler reads: the service's one endpoint pool (a strategy with a traffic split: the split)."""
        return self.stable.pool

    def counts(self) -> tuple[int, int]:
        """The service's desired count and its ready replicas over both versions."""
        desired = self.replicas if self.phase == "running" else self.current.desired
        return desired, ready(self.stable) + (0 if self.new is None else ready(self.new))

    def scale(self, replicas: int) -> None:
        """The autoscaler's new desired count for the service."""
        if self.phase != "running":
            self.controller.scale(self.current.spec.name, replicas, kind="autoscale")
            return
        self.replicas = replicas
        self.controller.record(self.stable, "autoscale", str(replicas))
        self.resize()
        self.reconcile()

    # -- the strategy ---------------------------------------------------------------------------------------------
    def set_count(self, deployed: Deployed, replicas: int, kind: str = "scale") -> None:
        """Set a version's desired count (nothing when it has it already)."""
        if deployed.desired != replicas:
            self.controller.scale(deployed.spec.name, replicas, kind=kind)

    def reconcile(self) -> None:
        """React to a change of either version's replicas (re-entrant calls are folded into one more pass)."""
        if self.phase != "running":
            return
        if self._busy:
            self._again = True
            return
        self._busy = True
        try:
            self._again = True
            while self._again and self.phase == "running":
                self._again = False
                self.changed()
        finally:
            self._busy = False

    def finish(self, phase: Phase, detail: str = "") -> None:
        """The rollout ends ``complete`` or ``rolled_back``."""
        assert self.new is not None
        self.phase = phase
        self.controller.record(self.new, "rollout_complete" if phase == "complete" else "rollback", detail)
        for follower in self.followers:
            if phase == "complete":
                follower.release()
            else:
                follower.cancel(f"{self.stable.spec.name} rolled back")

    def begin(self) -> None:
        """The strategy's first actions at ``at_s`` (after the new version exists)."""

    def resize(self) -> None:
        """The service's replica count changed during the rollout."""

    def changed(self) -> None:
        """One pass of the strategy over the versions' current replicas."""


def percent_of(replicas: int, percent: float, *, round_up: bool) -> int:
    """``percent`` % of ``replicas``, rounded up or down (Kubernetes' ``GetScaledValueFromIntOrPercent``)."""
    value = replicas * percent / 100.0
    return math.ceil(value) if round_up else math.floor(value)
