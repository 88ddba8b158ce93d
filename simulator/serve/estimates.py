"""Live estimates from measurements the devices and the edge report: an EWMA per quantity, per link and target.

An estimate moves toward each new measurement by ``1 − 2^(−1/half_life)``: after ``half_life`` newer observations
an old one weighs half. The first observation is taken as it is. Counting observations rather than seconds keeps
the estimate independent of when requests happen to arrive (two devices reporting at the same instant both count).

With several worker processes the measurements go through a shared, ordered log
(:class:`simulator.serve.shared.ObservationLog`) and every worker folds the log in order before it reads its
estimates, so all workers hold the same values.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from simulator.serve.shared import ObservationLog

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
    #: the log shared with the other workers of the service, if there are others
    log: ObservationLog | None = None

    def observe(self, measurements: list[tuple[str, str, float]]) -> None:
        """Fold measurements ``(key, quantity, value)`` in, in order (through the shared log when there is one)."""
        now = self.clock()
        if self.log is None:
            for key, quantity, value in measurements:
                self._fold(key, quantity, value, now)
            return
        self.log.append([(key, quantity, value, now) for key, quantity, value in measurements])
        self.refresh()

    def refresh(self) -> None:
        """Fold in what the other workers logged since the last call (nothing to do for a single worker)."""
        if self.log is not None:
            for key, quantity, value, time_s in self.log.read_new():
                self._fold(key, quantity, value, time_s)

    def _fold(self, key: str, quantity: str, value: float, time_s: float) -> None:
        current = self.values.get((key, quantity))
        if current is None:
            self.values[(key, quantity)] = Estimate(value, 1, time_s)
        else:
            current.value += ewma_weight(self.half_life) * (value - current.value)
            current.observations += 1
            current.updated_s = time_s

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
