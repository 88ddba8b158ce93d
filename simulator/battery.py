"""A device battery charged by an energy-harvesting process in slots, and drained by the tasks it pays for.

Slotted time as in Mao, Zhang, Letaief (IEEE JSAC 2016, Sec. II): slot ``k`` covers ``[k τ, (k + 1) τ)``. At the
start of each slot the device decides whether to harvest; the energy it harvests in slot ``k``, ``e(k)``, a draw of
the harvest distribution (i.i.d. per slot), is credited at the slot's end, so it can only pay for later slots:
``B(k + 1) = min(capacity, B(k) - E(k) + e(k))`` with ``E(k)`` the energy paid in slot ``k``. A device harvests in
every slot unless its policy sets a threshold (LODCO harvests only while ``B(k) <= θ``). A task the battery cannot
pay for when it starts does not run.

The battery is advanced lazily, slot by slot, whenever it is read (an arrival or a time-series sample), with one
harvest draw per slot whether or not it is harvested, so its trajectory depends neither on when it is read nor on
the policy's other random draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from offload.errors import ParameterError
from offload.validate import check_non_negative, check_positive
from simulator.distributions import Distribution

#: Harvest draws per refill of a battery's pre-drawn block.
_DRAWS = 1024


@dataclass(frozen=True, slots=True)
class Battery:
    """A battery of ``capacity_j`` starting at ``initial_j``, harvesting ``harvest_j`` (a distribution of the energy
    available per slot, in J) every ``slot_s`` seconds."""

    capacity_j: float
    initial_j: float
    slot_s: float
    harvest_j: Distribution

    def __post_init__(self) -> None:
        check_positive("capacity_j", self.capacity_j)
        check_non_negative("initial_j", self.initial_j)
        check_positive("slot_s", self.slot_s)
        if self.initial_j > self.capacity_j:
            raise ParameterError("initial_j", self.initial_j, f"must be <= capacity_j ({self.capacity_j})")
        if not isinstance(self.harvest_j, Distribution):
            raise ParameterError("harvest_j", self.harvest_j, "must be a distribution of the energy per slot")


class BatteryState:
    """One device's battery at run time: its level at the start of the current slot, minus what it paid since."""

    __slots__ = ("battery", "draws", "k", "level_j", "paid_j", "pending_j", "rng", "slot", "threshold_j")

    def __init__(self, battery: Battery, rng: np.random.Generator, threshold_j: float = math.inf) -> None:
        self.battery = battery
        self.rng = rng
        self.threshold_j = threshold_j
        self.level_j = battery.initial_j
        self.paid_j = 0.0
        self.slot = 0
        self.draws = battery.harvest_j.sample(rng, _DRAWS)
        self.k = 0
        self.pending_j = self._harvest()

    def _harvest(self) -> float:
        """The energy harvested in the current slot, decided at its start: a draw, if the level allows."""
        if self.k == self.draws.size:
            self.draws = self.battery.harvest_j.sample(self.rng, _DRAWS)
            self.k = 0
        amount = float(self.draws[self.k])
        self.k += 1
        return amount if self.level_j <= self.threshold_j else 0.0

    def level_at(self, now_s: float) -> float:
        """The level (J) at ``now_s``: every slot that ended before it has credited its harvest."""
        target = math.floor(now_s / self.battery.slot_s)
        while self.slot < target:
            self.level_j = min(self.battery.capacity_j, self.level_j + self.pending_j)
            self.slot += 1
            self.pending_j = self._harvest()
        return self.level_j

    def pay(self, now_s: float, energy_j: float) -> bool:
        """Draw ``energy_j`` at ``now_s`` if the battery holds it; ``False`` (nothing drawn) otherwise."""
        level = self.level_at(now_s)
        if energy_j > level:
            return False
        self.level_j = level - energy_j
        self.paid_j += energy_j
        return True
