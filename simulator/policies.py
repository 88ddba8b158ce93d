"""Runtime offload policies: one :class:`Policy` protocol and one registry, :data:`POLICIES`.

A policy picks, for a batch of tasks of one device, an option as :func:`offload.decide` numbers them: local
execution (:data:`offload.LOCAL_OPTION`, 0) or candidate server ``j`` of ``batch.candidates`` (nearest first) as
option ``j + 1``. Stateless policies are asked once per block of pre-drawn tasks; stateful ones
(``stateful = True``) once per task at its arrival, with an :class:`Observation` of what the device can see. Every
cost comes from :func:`offload.evaluate_costs` and :func:`offload.decide`; no policy holds a formula.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar, NamedTuple, Protocol

import numpy as np
import numpy.typing as npt

from offload.cost import LOCAL_OPTION, CostArrays, evaluate_costs
from offload.decision import EnergyView, Objective, Preference, decide
from offload.errors import InfeasibleError, ParameterError
from offload.profiles import Device, Server
from offload.queueing import mmc_mean_wait_s
from offload.runtime import backlog_wait_s, executors_time_s, load_from_in_system
from offload.validate import check_fraction

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


class Candidate(NamedTuple):
    """A server a device may offload to, with the nominal path parameters (no contention).

    An immutable named tuple rather than a frozen dataclass: large topologies create one per access point and
    server, and construction cost matters there.
    """

    name: str
    tier: str
    uplink_bps: float
    downlink_bps: float
    round_trip_s: float
    compute_power_w: float
    workers: int
    server: Server


@dataclass(frozen=True, slots=True)
class DecisionBatch:
    """Tasks of one device: work, local compute time and the data to move, and the candidate servers."""

    group: str
    device: Device
    candidates: tuple[Candidate, ...]
    work_ops: FloatArray
    local_s: FloatArray
    input_bits: FloatArray
    output_bits: FloatArray
    deadline_s: float

    def remote_s(self) -> FloatArray:
        """Compute time of every task on every candidate, shape ``(tasks, candidates)``."""
        return executors_time_s([c.server for c in self.candidates], self.work_ops[:, None])

    def row(self, i: int) -> DecisionBatch:
        """Task ``i`` alone: the scalar path is the batch path with one task."""
        return DecisionBatch(self.group, self.device, self.candidates, self.work_ops[i:i + 1],
                             self.local_s[i:i + 1], self.input_bits[i:i + 1], self.output_bits[i:i + 1],
                             self.deadline_s)

    def costs(self, uplink_bps: npt.ArrayLike, downlink_bps: npt.ArrayLike, wait_s: npt.ArrayLike = 0.0
              ) -> CostArrays:
        """Price every task on the device and on every candidate with the given per-candidate rates and waits."""
        return evaluate_costs(
            local_compute_s=self.local_s, input_bits=self.input_bits, output_bits=self.output_bits,
            remote_compute_s=self.remote_s(), uplink_bps=uplink_bps, downlink_bps=downlink_bps,
            round_trip_s=[c.round_trip_s for c in self.candidates], wait_s=wait_s,
            device_compute_power_w=self.device.compute_power_w, idle_power_w=self.device.idle_power_w,
            tx_power_w=self.device.tx_power_w, rx_power_w=self.device.rx_power_w,
            tail_energy_j=self.device.tail_energy_j,
            server_compute_power_w=[c.compute_power_w for c in self.candidates],
            target_names=[c.name for c in self.candidates])

    def nominal_costs(self) -> CostArrays:
        """Costs with each path's nominal rates and no queueing."""
        return self.costs([c.uplink_bps for c in self.candidates], [c.downlink_bps for c in self.candidates])

    def first(self, tier: str, policy: str) -> int:
        """Option of the nearest candidate of ``tier``."""
        for index, candidate in enumerate(self.candidates):
            if candidate.tier == tier:
                return index + 1
        raise InfeasibleError(f"policy {policy!r}: device group {self.group!r} reaches no {tier} server hosting "
                              "its service")


@dataclass(frozen=True, slots=True)
class Observation:
    """What a device sees at decision time, per candidate: the uplink/downlink rate a new transfer would get now
    on its access point, and the tasks waiting or in service at the server."""

    uplink_bps: FloatArray
    downlink_bps: FloatArray
    in_system: FloatArray


class Policy(Protocol):
    """Chooses where tasks run."""

    stateful: ClassVar[bool]

    def choose(self, batch: DecisionBatch, observed: Observation | None, rng: np.random.Generator) -> IntArray:
        """The option of each task: :data:`offload.LOCAL_OPTION` or ``1 +`` a candidate index."""
        ...


def _from_decision(costs: CostArrays, preference: Preference, deadline_s: float) -> IntArray:
    """The options :func:`offload.decide` chooses."""
    return np.asarray(decide(costs, preference, deadline_s).choice, dtype=np.intp)


class AlwaysLocal:
    """Every task runs on the device."""

    stateful: ClassVar[bool] = False

    def choose(self, batch: DecisionBatch, observed: Observation | None, rng: np.random.Generator) -> IntArray:
        """All local."""
        return np.full(batch.local_s.shape[0], LOCAL_OPTION, dtype=np.intp)


class _AlwaysTier:
    tier: ClassVar[str]
    stateful: ClassVar[bool] = False

    @property
    def required_tier(self) -> str:
        """Every device group must reach a server of this tier (checked when a scenario is loaded)."""
        return self.tier

    def choose(self, batch: DecisionBatch, observed: Observation | None, rng: np.random.Generator) -> IntArray:
        """The nearest server of the tier for every task."""
        return np.full(batch.local_s.shape[0], batch.first(self.tier, f"always_{self.tier}"), dtype=np.intp)


class AlwaysEdge(_AlwaysTier):
    """Every task goes to the nearest edge server hosting its service."""

    tier = "edge"


class AlwaysCloud(_AlwaysTier):
    """Every task goes to the nearest cloud hosting its service."""

    tier = "cloud"


class LatencyRule:
    """The seed's rule (1) generalised: lowest latency on nominal parameters (no contention), within deadlines."""

    stateful: ClassVar[bool] = False

    def choose(self, batch: DecisionBatch, observed: Observation | None, rng: np.random.Generator) -> IntArray:
        """argmin latency over local and every candidate."""
        return _from_decision(batch.nominal_costs(), Preference(Objective.LATENCY), batch.deadline_s)


class EnergyRule:
    """The seed's rule (2) generalised: lowest energy on nominal parameters; ``view`` ``system`` (the seed's,
    device plus edge compute) or ``device`` (battery only)."""

    stateful: ClassVar[bool] = False

    def __init__(self, view: str = "system") -> None:
        try:
            self.preference = Preference(Objective.ENERGY, EnergyView(view))
        except ValueError:
            raise ParameterError("view", view, "must be 'system' or 'device'") from None

    def choose(self, batch: DecisionBatch, observed: Observation | None, rng: np.random.Generator) -> IntArray:
        """argmin energy over local and every candidate."""
        return _from_decision(batch.nominal_costs(), self.preference, batch.deadline_s)


class QueueAware:
    """Decides with what the device observes now: its share of the access link and each server's backlog.

    The task's own remote time stands for the mean service time. ``wait_model`` ``backlog`` (default) expects
    the FIFO wait behind the tasks it sees (:func:`offload.runtime.backlog_wait_s`); ``queueing`` takes the
    steady-state M/M/c wait (:func:`offload.queueing.mmc_mean_wait_s`) at the load the observed backlog implies
    (:func:`offload.runtime.load_from_in_system`). ``objective`` is ``latency``, ``energy`` or ``weighted`` (with
    ``w_latency``, ``w_energy``, normalised to the local option).
    """

    stateful: ClassVar[bool] = True
    WAIT_MODELS = ("backlog", "queueing")

    def __init__(self, objective: str = "latency", w_latency: float = 0.5, w_energy: float = 0.5,
                 wait_model: str = "backlog") -> None:
        try:
            chosen = Objective(objective)
        except ValueError:
            valid = ", ".join(o.value for o in Objective)
            raise ParameterError("objective", objective, f"must be one of {valid}") from None
        if wait_model not in self.WAIT_MODELS:
            raise ParameterError("wait_model", wait_model, f"must be one of {', '.join(self.WAIT_MODELS)}")
        self.wait_model = wait_model
        self.preference = Preference(chosen, EnergyView.DEVICE, w_latency, w_energy,
                                     normalise=chosen is Objective.WEIGHTED)

    def choose(self, batch: DecisionBatch, observed: Observation | None, rng: np.random.Generator) -> IntArray:
        """argmin of the objective with observed rates and backlog waits."""
        if observed is None:
            return _from_decision(batch.nominal_costs(), self.preference, batch.deadline_s)
        workers = np.array([c.workers for c in batch.candidates], dtype=np.float64)[None, :]
        service_s = batch.remote_s()
        if self.wait_model == "backlog":
            wait = backlog_wait_s(observed.in_system[None, :], workers, service_s)
        else:
            busy = service_s > 0  # a task served in no time never waits
            rate = np.divide(1.0, service_s, out=np.ones_like(service_s), where=busy)
            load = load_from_in_system(observed.in_system[None, :], workers)
            queue_wait = mmc_mean_wait_s(load * workers * rate, rate, np.broadcast_to(workers, rate.shape).astype(int))
            wait = np.where(busy, queue_wait, 0.0)
        costs = batch.costs(observed.uplink_bps, observed.downlink_bps, wait)
        return _from_decision(costs, self.preference, batch.deadline_s)


class RandomOffload:
    """Offload to the nearest edge server with probability ``p``, else run locally."""

    stateful: ClassVar[bool] = False

    def __init__(self, p: float = 0.5) -> None:
        self.p = check_fraction("p", p)

    @property
    def required_tier(self) -> str | None:
        """Offloading at all needs an edge server within reach of every device group."""
        return "edge" if self.p > 0 else None

    def choose(self, batch: DecisionBatch, observed: Observation | None, rng: np.random.Generator) -> IntArray:
        """Independent coin flips."""
        n = batch.local_s.shape[0]
        if self.p == 0:
            return np.full(n, LOCAL_OPTION, dtype=np.intp)
        edge = batch.first("edge", "random")
        return np.where(rng.random(n) < self.p, edge, LOCAL_OPTION).astype(np.intp)


#: Policy name → class. A new policy is one class and one line here; policies outside the package are named by
#: import path or entry point (:mod:`simulator.plugins`, which also makes policies from specs).
POLICIES: Mapping[str, Callable[..., Policy]] = {
    "always_local": AlwaysLocal,
    "always_edge": AlwaysEdge,
    "always_cloud": AlwaysCloud,
    "latency_rule": LatencyRule,
    "energy_rule": EnergyRule,
    "queue_aware": QueueAware,
    "random": RandomOffload,
}

