"""Runtime offload policies: one :class:`Policy` protocol and one registry, :data:`POLICIES`.

A policy picks, for a batch of tasks of one device, an option as :func:`offload.decide` numbers them: local
execution (:data:`offload.LOCAL_OPTION`, 0) or candidate server ``j`` of ``batch.candidates`` (nearest first) as
option ``j + 1``. Stateless policies are asked once per block of pre-drawn tasks; stateful ones
(``stateful = True``) once per task at its arrival, with an :class:`Observation` of what the device can see. Every
cost comes from :func:`offload.evaluate_costs` and :func:`offload.decide`; no policy holds a formula.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar, NamedTuple, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from offload.cost import LOCAL_OPTION, CostArrays, evaluate_costs
from offload.decision import EnergyView, Objective, Preference, decide
from offload.dvfs import dvfs_power_w
from offload.errors import InfeasibleError, MecsimError, ParameterError
from offload.lodco import HarvestingDevice, Mode, perturbation_j, slot_choice
from offload.profiles import Device, Server
from offload.queueing import mmc_mean_wait_s
from offload.runtime import backlog_wait_s, executors_time_s, load_from_in_system
from offload.units import Dimension, parse_quantity
from offload.validate import check_fraction
from simulator.world import DeviceGroup

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


#: The option of a task a :class:`Planner` drops (it does not run; counted as ``DropReason.POLICY_DROP``).
DROP_OPTION = -1


class Plan(NamedTuple):
    """How one task runs: its option (:data:`offload.LOCAL_OPTION`, ``1 +`` a candidate, or :data:`DROP_OPTION`),
    its compute time on the device (local), its upload time (offloaded), the device's power meanwhile (its DVFS
    compute power, or its transmit power; the records meter it) and the energy its battery pays (J)."""

    option: int
    compute_s: float
    upload_s: float
    power_w: float
    energy_j: float


@runtime_checkable
class Planner(Protocol):
    """A policy for battery devices that also sets how a task runs (a DVFS frequency, a transmit power) and when the
    battery harvests; the engine asks it once per task at its arrival."""

    def harvest_threshold_j(self, group: DeviceGroup) -> float:
        """The battery level above which the group's devices stop harvesting."""
        ...

    def plan(self, batch: DecisionBatch, battery_j: float, rng: np.random.Generator) -> Plan:
        """How the one task of ``batch`` runs, given the energy its device holds now."""
        ...


class Lyapunov:
    """LODCO (Mao, Zhang, Letaief, IEEE JSAC 2016): each task runs locally at a DVFS frequency, is offloaded to the
    nearest edge server at a transmit power, or is dropped at ``drop_penalty``, whichever minimises the per-slot
    drift-plus-penalty ``V cost - (B - θ) E`` (:func:`offload.lodco.slot_choice`); the battery harvests only while
    ``B <= θ`` (:func:`offload.lodco.perturbation_j`, or ``theta``).

    The device's speed is ``f_max``; its battery's slot is the slot; the group's deadline (<= the slot) is
    ``τ_d``; tasks are sized by the group's task sizes. The uplink is LODCO's: rate ``w log2(1 + h p / σ)`` over
    ``bandwidth`` with noise ``noise`` and a channel power gain ``h`` of mean ``mean_gain``, exponential per task
    (``fading: rayleigh``) or constant (``none``). Parameters take units (``2ms``, ``1MHz``, ``1e-13W``).
    """

    stateful: ClassVar[bool] = True
    FADING = ("rayleigh", "none")

    def __init__(self, v: float = 1e-5, drop_penalty: str | float = "2ms", kappa: float = 1e-28,
                 max_tx_power: str | float = "1W", bandwidth: str | float = "1MHz", noise: str | float = "1e-13W",
                 mean_gain: float = 1e-4 * 50.0**-4, fading: str = "rayleigh", max_discharge: str | float = "2mJ",
                 theta: str | float | None = None) -> None:
        self.v = parse_quantity(v, Dimension.DIMENSIONLESS, "v")
        if not (math.isfinite(self.v) and self.v > 0):
            raise ParameterError("v", v, "must be finite and > 0")
        if fading not in self.FADING:
            raise ParameterError("fading", fading, f"must be one of {', '.join(self.FADING)}")
        self.fading = fading
        self.theta_j = None if theta is None else parse_quantity(theta, Dimension.JOULES, "theta")
        self.model = HarvestingDevice(
            drop_penalty_s=parse_quantity(drop_penalty, Dimension.SECONDS, "drop_penalty"),
            kappa_j_s2=parse_quantity(kappa, Dimension.DIMENSIONLESS, "kappa"),
            max_tx_power_w=parse_quantity(max_tx_power, Dimension.WATTS, "max_tx_power"),
            bandwidth_hz=parse_quantity(bandwidth, Dimension.OPS_PER_S, "bandwidth"),
            noise_w=parse_quantity(noise, Dimension.WATTS, "noise"),
            mean_gain=parse_quantity(mean_gain, Dimension.DIMENSIONLESS, "mean_gain"),
            max_energy_per_slot_j=parse_quantity(max_discharge, Dimension.JOULES, "max_discharge"))
        self.devices: dict[str, tuple[HarvestingDevice, float]] = {}

    def harvest_threshold_j(self, group: DeviceGroup) -> float:
        """θ of the group's device with its mean task (kept for :meth:`plan`)."""
        if group.battery is None or group.device.speed_ops_per_s is None:
            raise MecsimError(f"policy 'lyapunov': device group {group.name!r} needs a battery and a speed")
        sizes = group.task
        try:
            device = dataclasses.replace(
                self.model, work_ops=sizes.work_ops.mean, input_bits=sizes.input_bits.mean,  # type: ignore[union-attr]
                deadline_s=group.deadline_s, slot_s=group.battery.slot_s,
                max_speed_ops_per_s=group.device.speed_ops_per_s)
        except ParameterError as error:
            raise MecsimError(f"policy 'lyapunov': device group {group.name!r}: {error}") from None
        theta = perturbation_j(device, self.v) if self.theta_j is None else self.theta_j
        self.devices[group.name] = (device, theta)
        return theta

    def plan(self, batch: DecisionBatch, battery_j: float, rng: np.random.Generator) -> Plan:
        """LODCO's per-slot choice for the one task of ``batch``."""
        template, theta = self.devices[batch.group]
        device = dataclasses.replace(template, work_ops=float(batch.work_ops[0]),
                                     input_bits=float(batch.input_bits[0]))
        gain = float(rng.exponential(device.mean_gain)) if self.fading == "rayleigh" else device.mean_gain
        choice = slot_choice(device, self.v, battery_j - theta, battery_j, gain)
        if choice.mode == Mode.LOCAL:
            power_w = float(dvfs_power_w(choice.speed_ops_per_s, device.kappa_j_s2))
            return Plan(LOCAL_OPTION, choice.delay_s, 0.0, power_w, choice.energy_j)
        if choice.mode == Mode.OFFLOAD:
            return Plan(batch.first("edge", "lyapunov"), 0.0, choice.delay_s, choice.tx_power_w,
                        choice.energy_j + batch.device.tail_energy_j)
        return Plan(DROP_OPTION, 0.0, 0.0, 0.0, 0.0)

    def choose(self, batch: DecisionBatch, observed: Observation | None, rng: np.random.Generator) -> IntArray:
        """Without a battery there is nothing to plan with: refuse (the engine calls :meth:`plan`)."""
        raise MecsimError(f"policy 'lyapunov' needs a battery on device group {batch.group!r}")


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
    "lyapunov": Lyapunov,
}

