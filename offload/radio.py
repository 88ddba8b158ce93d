"""Radio power models: power linear in throughput, plus the promotion and tail states of cellular radios.

Huang et al., "A Close Examination of Performance and Power Characteristics of 4G LTE Networks", MobiSys 2012
(Table 3/4): while transferring, power is ``P = α_u · t_u + α_d · t_d + β`` with ``t_u, t_d`` the uplink and
downlink throughputs in Mbit/s; before the first packet the radio is *promoted* from idle (``T_pro`` at ``P_pro``,
a delay and an energy), and after the last packet it stays in a high-power *tail* (``T_tail`` at ``P_tail``) before
demoting. One offload therefore pays ``P_pro T_pro + P_tail T_tail`` once and waits ``T_pro`` longer.

A :class:`RadioProfile` turns into the device-profile numbers :mod:`offload.cost` uses: transmit and receive power
at the link's throughputs, the per-offload tail energy and the promotion delay.

Provenance of :data:`RADIO_PROFILES`: the values are Huang et al.'s Table 3 (``α_u``, ``α_d`` in mW/Mbps, ``β`` in
mW, for LTE, 3G and Wi-Fi) and Table 4 (promotion and tail time and power), entered from the published paper
(LTE: ``α_u`` 438.39, ``α_d`` 51.97, ``β`` 1288.04; promotion 260.1 ms at 1210.7 mW; tail 11576 ms at 1060.0 mW).
They have **not** been re-checked against the paper's text here: the project's search corpora hold the paper only
by its abstract (its tables were not reachable), so check them against the PDF before citing a number from them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from offload.errors import ParameterError
from offload.validate import check_non_negative

FloatArray = npt.NDArray[np.float64]
#: the papers quote α per Mbit/s
_MBPS = 1e6


@dataclass(frozen=True, slots=True)
class RadioProfile:
    """A radio's power model (all SI: W per bit/s, W, s).

    Attributes
    ----------
    uplink_w_per_bps, downlink_w_per_bps : float
        ``α_u``, ``α_d``: extra power per bit/s of uplink / downlink throughput.
    base_power_w : float
        ``β``: power of the active radio at zero throughput.
    promotion_s, promotion_power_w : float
        Idle-to-connected promotion: its duration (added to the latency of an offload) and power.
    tail_s, tail_power_w : float
        High-power tail after the last packet: duration and power.
    """

    uplink_w_per_bps: float
    downlink_w_per_bps: float
    base_power_w: float
    promotion_s: float = 0.0
    promotion_power_w: float = 0.0
    tail_s: float = 0.0
    tail_power_w: float = 0.0

    def __post_init__(self) -> None:
        for name in ("uplink_w_per_bps", "downlink_w_per_bps", "base_power_w", "promotion_s", "promotion_power_w",
                     "tail_s", "tail_power_w"):
            check_non_negative(name, getattr(self, name))

    def tx_power_w(self, uplink_bps: npt.ArrayLike) -> FloatArray:
        """Power while sending at ``uplink_bps``: ``α_u t_u + β``."""
        return np.add(np.multiply(self.uplink_w_per_bps, uplink_bps), self.base_power_w)

    def rx_power_w(self, downlink_bps: npt.ArrayLike) -> FloatArray:
        """Power while receiving at ``downlink_bps``: ``α_d t_d + β``."""
        return np.add(np.multiply(self.downlink_w_per_bps, downlink_bps), self.base_power_w)

    @property
    def tail_energy_j(self) -> float:
        """Energy one offload pays outside its transfers: promotion plus the full tail, ``P_pro T_pro + P_tail
        T_tail`` (the tail is paid in full when offloads are further apart than ``T_tail``)."""
        return self.promotion_power_w * self.promotion_s + self.tail_power_w * self.tail_s


#: Huang et al. MobiSys 2012, Table 3 (power model) and Table 4 (promotion and tail), converted from mW and ms.
RADIO_PROFILES: dict[str, RadioProfile] = {
    "lte": RadioProfile(uplink_w_per_bps=0.43839 / _MBPS, downlink_w_per_bps=0.05197 / _MBPS, base_power_w=1.28804,
                        promotion_s=0.2601, promotion_power_w=1.2107, tail_s=11.576, tail_power_w=1.060),
    "3g": RadioProfile(uplink_w_per_bps=0.86898 / _MBPS, downlink_w_per_bps=0.12212 / _MBPS, base_power_w=0.81788,
                       promotion_s=0.5821, promotion_power_w=0.6594, tail_s=8.0882, tail_power_w=0.8039),
    "wifi": RadioProfile(uplink_w_per_bps=0.28317 / _MBPS, downlink_w_per_bps=0.13701 / _MBPS, base_power_w=0.13286,
                         promotion_s=0.0791, promotion_power_w=0.1244, tail_s=0.2381, tail_power_w=0.1193),
}


def radio_profile(name: str) -> RadioProfile:
    """The bundled profile called ``name`` (``lte``, ``3g``, ``wifi``); an unknown name lists the valid ones."""
    try:
        return RADIO_PROFILES[name]
    except KeyError:
        raise ParameterError("radio", name, f"unknown radio profile; choose one of {', '.join(RADIO_PROFILES)}") \
            from None
