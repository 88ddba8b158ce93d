"""Live estimates from measurements the devices and the edge report: an EWMA per quantity, per link and target.

An estimate moves toward each new measurement by ``1 − 2^(−1/half_life)``: after ``half_life`` newer observations
an old one weighs half. The first observation is taken as it is. Counting observations rather than seconds keeps
the estimate independent of when requests happen to arrive (two devices reporting at the same instant both count).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

#: what can be observed: link quantities (per device and target, or per target) and edge quantities (per target)
LINK_QUANTITIES = ("uplink", "downlink", "rtt")
EDGE_QUANTITIES = ("edge-time", "queue-length")


@dataclass(slots=True)
class Estimate:
    """A smoothed value, how many observations made it and when (clock seconds) it last moved."""

    value: float
    observations: int
    updated_s: float


def ewma_weight(half_life: float) -> float:
    """Weight of a new observation in an EWMA whose old observations weigh half after ``half_life`` new ones."""
    return 1.0 - math.pow(2.0, -1.0 / half_life)


@dataclass(slots=True)
class Estimates:
    """Every estimate, keyed by ``(link or target name, quantity)``; a link is ``device/target`` or ``target``."""

    half_life: float
    clock: Callable[[], float]
    values: dict[tuple[str, str], Estimate] = field(default_factory=dict)

    def observe(self, key: str, quantity: str, value: float) -> Estimate:
        """Fold one measurement in and return the new estimate."""
        now = self.clock()
        current = self.values.get((key, quantity))
        if current is None:
            current = self.values[(key, quantity)] = Estimate(value, 1, now)
        else:
            current.value += ewma_weight(self.half_life) * (value - current.value)
            current.observations += 1
            current.updated_s = now
        return current

    def get(self, key: str, quantity: str) -> float | None:
        """The estimate of ``quantity`` for ``key``, if any was observed."""
        estimate = self.values.get((key, quantity))
        return None if estimate is None else estimate.value

    def snapshot(self) -> dict[str, dict[str, dict[str, float]]]:
        """Every estimate as ``{key: {quantity: {value, observations, age_s}}}``."""
        now = self.clock()
        out: dict[str, dict[str, dict[str, float]]] = {}
        for (key, quantity), estimate in sorted(self.values.items()):
            out.setdefault(key, {})[quantity] = {"value": estimate.value, "observations": estimate.observations,
                                                 "age_s": now - estimate.updated_s}
        return out
