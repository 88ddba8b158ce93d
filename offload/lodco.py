"""Online offloading for an energy-harvesting device: LODCO (Mao, Zhang, Letaief, "Dynamic computation offloading
for mobile-edge computing with energy harvesting devices", IEEE JSAC 34(12), 2016).

Slotted time. In slot t a task (W cycles, L input bits, deadline tau_d) arrives with probability rho; the device,
holding B(t) joules, runs it locally at one DVFS frequency f (time W/f, energy kappa W f^2), offloads it at
transmit power p over a fading channel h(t) (rate r = w log2(1 + h p / sigma), time L/r, energy p L/r), or drops it
at a penalty phi. It harvests e(t) <= E_H(t) and its battery evolves as B(t+1) = B(t) - E(t) + e(t). The cost of a
slot is the execution delay, or phi for a drop; the goal is the least long-run average cost.

Drift-plus-penalty on the perturbed battery ``B~ = B - theta`` turns this into one deterministic problem per slot
(Sec. IV): harvest everything while ``B~ <= 0``, and pick the option minimising ``V cost - B~ E`` with

* local:   ``V W / f - B~ kappa W f^2`` -> ``f = (V / (-2 B~ kappa))^(1/3)``, clipped to
  ``[W / tau_d, min(f_max, sqrt(min(B, E_max) / (kappa W)))]`` (closed form);
* offload: ``L (V - B~ p) / r(p)`` -> the root of its derivative (increasing in p), clipped to the powers that meet
  the deadline and the energy cap (1-D root finding);
* drop:    ``V phi``.

The average cost approaches its optimum as O(1/V) while the battery level the controller keeps grows as O(V).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt
from scipy.optimize import brentq

from offload.dvfs import dvfs_energy_j
from offload.errors import ParameterError
from offload.formulas import shannon_rate_bps, transfer_time_s

FloatArray = npt.NDArray[np.float64]


def _dvfs_energy_j(work_ops: float, speed_ops_per_s: float, kappa_j_s2: float) -> float:
    """``κ W f²`` for one task (Mao et al., eq. 3), as a float."""
    return float(dvfs_energy_j(work_ops, speed_ops_per_s, kappa_j_s2))


class Mode(IntEnum):
    """What happened in a slot."""

    IDLE = 0
    LOCAL = 1
    OFFLOAD = 2
    DROP = 3


@dataclass(frozen=True, slots=True)
class HarvestingDevice:
    """The device, its task stream, its radio and its energy source (Mao et al., Sec. II and VI).

    Attributes
    ----------
    work_ops, input_bits, deadline_s, slot_s, task_probability
        W, L, tau_d (<= slot), the slot length tau and rho.
    kappa_j_s2 : float
        Effective switched capacitance: ``kappa W f^2`` joules for W cycles at f.
    max_speed_ops_per_s, max_tx_power_w, bandwidth_hz, noise_w, mean_gain
        f_max, p_max, w, sigma, and the mean of the exponentially distributed channel power gain h.
    drop_penalty_s, max_energy_per_slot_j, max_harvest_j
        phi (in seconds of delay), E_max (battery discharge per slot) and E_H^max (E_H ~ U[0, E_H^max]).
    """

    work_ops: float = 737.5 * 1000
    input_bits: float = 1000.0
    deadline_s: float = 2e-3
    slot_s: float = 2e-3
    task_probability: float = 0.6
    kappa_j_s2: float = 1e-28
    max_speed_ops_per_s: float = 1.5e9
    max_tx_power_w: float = 1.0
    bandwidth_hz: float = 1e6
    noise_w: float = 1e-13
    mean_gain: float = 1e-4 * 50.0**-4
    drop_penalty_s: float = 2e-3
    max_energy_per_slot_j: float = 2e-3
    max_harvest_j: float = 48e-6

    def __post_init__(self) -> None:
        for name in ("work_ops", "input_bits", "deadline_s", "slot_s", "kappa_j_s2", "max_speed_ops_per_s",
                     "max_tx_power_w", "bandwidth_hz", "noise_w", "mean_gain", "drop_penalty_s",
                     "max_energy_per_slot_j"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ParameterError(name, value, "must be finite and > 0")
        if not 0 <= self.task_probability <= 1:
            raise ParameterError("task_probability", self.task_probability, "must be in [0, 1]")
        if not (math.isfinite(self.max_harvest_j) and self.max_harvest_j >= 0):
            raise ParameterError("max_harvest_j", self.max_harvest_j, "must be finite and >= 0")
        if self.deadline_s > self.slot_s:
            raise ParameterError("deadline_s", self.deadline_s, f"must be <= slot_s ({self.slot_s})")


@dataclass(frozen=True, slots=True)
class SlotChoice:
    """The per-slot decision: the option, its frequency or power, its delay (s), energy (J) and objective."""

    mode: Mode
    speed_ops_per_s: float
    tx_power_w: float
    delay_s: float
    energy_j: float
    objective: float


def perturbation_j(device: HarvestingDevice, v: float) -> float:
    """``theta = E~_max + V phi / E_min`` (Mao et al., Sec. IV-A): E~_max is the most a slot can draw and E_min the
    least energy that executes a task (local execution at the slowest frequency meeting the deadline)."""
    most = min(max(_dvfs_energy_j(device.work_ops, device.max_speed_ops_per_s, device.kappa_j_s2),
                   device.max_tx_power_w * device.deadline_s), device.max_energy_per_slot_j)
    least = _dvfs_energy_j(device.work_ops, device.work_ops / device.deadline_s, device.kappa_j_s2)
    return most + v * device.drop_penalty_s / least


def local_choice(device: HarvestingDevice, v: float, shifted_j: float, battery_j: float) -> SlotChoice | None:
    """Best DVFS frequency for ``V W / f - B~ kappa W f^2`` (closed form), or None if no frequency meets the deadline
    within the energy available."""
    cap_j = min(battery_j, device.max_energy_per_slot_j)
    low = device.work_ops / device.deadline_s
    high = min(device.max_speed_ops_per_s, math.sqrt(cap_j / (device.kappa_j_s2 * device.work_ops)))
    if low > high:
        return None
    weight = -2.0 * shifted_j * device.kappa_j_s2  # 0 (or underflowing) when energy is free: run flat out
    speed = high if weight <= 0 else min(max((v / weight) ** (1 / 3), low), high)
    delay_s = device.work_ops / speed
    energy_j = _dvfs_energy_j(device.work_ops, speed, device.kappa_j_s2)
    return SlotChoice(Mode.LOCAL, speed, 0.0, delay_s, energy_j, v * delay_s - shifted_j * energy_j)


def offload_choice(device: HarvestingDevice, v: float, shifted_j: float, battery_j: float,
                   gain: float) -> SlotChoice | None:
    """Best transmit power for ``L (V - B~ p) / r(p)`` (root of its derivative, clipped), or None if no power meets
    the deadline within ``p_max`` and the energy available."""
    snr_per_w = gain / device.noise_w

    def upload_s(power_w: float) -> float:
        return float(transfer_time_s(device.input_bits, shannon_rate_bps(device.bandwidth_hz, gain * power_w,
                                                                         device.noise_w)))

    low = math.expm1(device.input_bits / (device.bandwidth_hz * device.deadline_s) * math.log(2)) / snr_per_w
    cap_j = min(battery_j, device.max_energy_per_slot_j)
    high = device.max_tx_power_w
    if low > high or low * upload_s(low) > cap_j:
        return None
    if high * upload_s(high) > cap_j:  # p L / r(p) increases with p: the most power the energy cap allows
        high = brentq(lambda p: p * upload_s(p) - cap_j, low, high, xtol=1e-15, rtol=1e-12)
    if shifted_j >= 0:
        power = high
    else:
        a, value = -shifted_j, v

        def slope(p: float) -> float:  # the sign of d/dp [(V + a p) / ln(1 + b p)]; increasing in p
            return a * math.log1p(snr_per_w * p) - snr_per_w * (value + a * p) / (1.0 + snr_per_w * p)

        top = high
        while slope(top) < 0 and top < 1e6 * device.max_tx_power_w:
            top *= 2.0
        stationary = top if slope(top) < 0 else brentq(slope, 0.0, top, xtol=1e-18, rtol=1e-12)
        power = min(max(stationary, low), high)
    delay_s = upload_s(power)
    energy_j = power * delay_s
    return SlotChoice(Mode.OFFLOAD, 0.0, power, delay_s, energy_j, v * delay_s - shifted_j * energy_j)


def slot_choice(device: HarvestingDevice, v: float, shifted_j: float, battery_j: float, gain: float) -> SlotChoice:
    """The per-slot problem for one arrived task: the feasible option with the least ``V cost - B~ E``."""
    drop = SlotChoice(Mode.DROP, 0.0, 0.0, 0.0, 0.0, v * device.drop_penalty_s)
    options = (local_choice(device, v, shifted_j, battery_j), offload_choice(device, v, shifted_j, battery_j, gain))
    return min([drop, *(option for option in options if option is not None)], key=lambda option: option.objective)


@dataclass(frozen=True, slots=True)
class LodcoRun:
    """One run, per slot: battery at the start (J), harvested energy (J), mode, energy used (J) and cost (s); with
    the averages the paper plots."""

    battery_j: FloatArray
    harvested_j: FloatArray
    mode: npt.NDArray[np.int8]
    energy_j: FloatArray
    cost_s: FloatArray

    @property
    def average_cost_s(self) -> float:
        """Long-run average execution cost per slot (delay, phi per drop; 0 without a task)."""
        return float(self.cost_s.mean())

    @property
    def average_battery_j(self) -> float:
        """Average battery energy level."""
        return float(self.battery_j.mean())

    @property
    def drop_ratio(self) -> float:
        """Dropped tasks over arrived tasks."""
        arrived = np.count_nonzero(self.mode != Mode.IDLE)
        return float(np.count_nonzero(self.mode == Mode.DROP) / arrived) if arrived else 0.0


def run_lodco(device: HarvestingDevice, v: float, slots: int, rng: np.random.Generator, *,
              initial_battery_j: float = 0.0, theta_j: float | None = None) -> LodcoRun:
    """Play LODCO for ``slots`` slots with Bernoulli arrivals, exponential channel gains and uniform harvests drawn
    from ``rng``; ``theta_j`` defaults to :func:`perturbation_j`."""
    if not (math.isfinite(v) and v > 0):
        raise ParameterError("v", v, "must be finite and > 0")
    if slots < 1:
        raise ParameterError("slots", slots, "must be >= 1")
    theta = perturbation_j(device, v) if theta_j is None else theta_j
    arrivals = rng.random(slots) < device.task_probability
    gains = rng.exponential(device.mean_gain, slots)
    harvestable = rng.uniform(0.0, device.max_harvest_j, slots)
    battery = np.empty(slots)
    harvested = np.zeros(slots)
    mode = np.zeros(slots, dtype=np.int8)
    energy = np.zeros(slots)
    cost = np.zeros(slots)
    level = initial_battery_j
    for t in range(slots):
        battery[t] = level
        shifted = level - theta
        if arrivals[t]:
            choice = slot_choice(device, v, shifted, level, float(gains[t]))
            mode[t], energy[t] = choice.mode, choice.energy_j
            cost[t] = device.drop_penalty_s if choice.mode == Mode.DROP else choice.delay_s
        harvested[t] = harvestable[t] if shifted <= 0 else 0.0
        level = level - energy[t] + harvested[t]
    return LodcoRun(battery, harvested, mode, energy, cost)
