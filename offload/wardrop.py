"""Selfish vs socially optimal load split between local queues and one shared edge queue (Wardrop, 1952).

N identical devices each generate Poisson tasks at rate ``lambda``; a task runs on its device's own M/M/1 queue
(rate ``mu_l``) or travels (fixed ``d`` seconds) to one M/M/1 edge server (rate ``mu_e``) shared by all devices.
A fraction ``x`` of the tasks is offloaded, so (with :func:`offload.queueing.mm1_mean_sojourn_s`)

    T_local(x) = 1 / (mu_l - (1 - x) lambda)          T_edge(x) = d + 1 / (mu_e - N x lambda)

* **Wardrop equilibrium** (selfish, non-atomic tasks): nobody gains by switching, so both delays are equal, or
  every task uses the faster side: the root of the decreasing ``T_local - T_edge``.
* **Social optimum**: minimises the mean delay ``(1 - x) T_local + x T_edge``; it is convex, and at the optimum the
  *marginal* delays (:func:`mm1_marginal_delay_s`) are equal instead.

The price of anarchy is the equilibrium's mean delay over the optimum's (Roughgarden & Tardos, JACM 2002).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from offload.errors import InfeasibleError, ParameterError
from offload.queueing import mm1_mean_sojourn_s


@dataclass(frozen=True, slots=True)
class LoadSplit:
    """One split: the offloaded fraction, the delay on each side and the mean delay per task (seconds)."""

    edge_fraction: float
    local_delay_s: float
    edge_delay_s: float
    mean_delay_s: float


@dataclass(frozen=True, slots=True)
class WardropResult:
    """The selfish (Wardrop) and socially optimal splits and ``price_of_anarchy = selfish / social`` mean delay."""

    selfish: LoadSplit
    social: LoadSplit
    price_of_anarchy: float


def mm1_marginal_delay_s(arrival_rate_per_s: float, service_rate_per_s: float) -> float:
    """``d(lambda T)/d(lambda) = mu / (mu - lambda)^2``: the extra total delay per second of one more unit of load on
    an M/M/1 queue (infinite when unstable)."""
    if arrival_rate_per_s >= service_rate_per_s:
        return float("inf")
    return service_rate_per_s / (service_rate_per_s - arrival_rate_per_s) ** 2


def split_delays(edge_fraction: float, arrival_rate_per_s: float, local_rate_per_s: float, edge_rate_per_s: float,
                 devices: int, transfer_s: float = 0.0) -> LoadSplit:
    """Delays of offloading ``edge_fraction`` of every device's tasks (infinite on an unstable side)."""
    local_s = float(mm1_mean_sojourn_s((1.0 - edge_fraction) * arrival_rate_per_s, local_rate_per_s))
    edge_s = transfer_s + float(mm1_mean_sojourn_s(devices * edge_fraction * arrival_rate_per_s, edge_rate_per_s))
    mean_s = (1.0 - edge_fraction) * (local_s if edge_fraction < 1 else 0.0) + edge_fraction * (
        edge_s if edge_fraction > 0 else 0.0)
    return LoadSplit(edge_fraction, local_s, edge_s, mean_s)


def wardrop_split(arrival_rate_per_s: float, local_rate_per_s: float, edge_rate_per_s: float, devices: int,
                  transfer_s: float = 0.0) -> WardropResult:
    """The Wardrop equilibrium and the social optimum of the local/edge split, and the price of anarchy.

    Raises
    ------
    ParameterError
        A rate that is not > 0, fewer than one device, a negative transfer time.
    InfeasibleError
        No split keeps both sides stable (``N lambda >= N mu_l + mu_e``).
    """
    for name, value in (("arrival_rate_per_s", arrival_rate_per_s), ("local_rate_per_s", local_rate_per_s),
                        ("edge_rate_per_s", edge_rate_per_s)):
        if not (np.isfinite(value) and value > 0):
            raise ParameterError(name, value, "must be finite and > 0")
    if devices < 1:
        raise ParameterError("devices", devices, "must be >= 1")
    if not (np.isfinite(transfer_s) and transfer_s >= 0):
        raise ParameterError("transfer_s", transfer_s, "must be finite and >= 0")
    lam, n = arrival_rate_per_s, devices
    low = max(0.0, 1.0 - local_rate_per_s / lam)  # below: the local queues are unstable
    high = min(1.0, edge_rate_per_s / (n * lam))  # above: the edge is unstable
    if not low < high:
        raise InfeasibleError(f"no stable split: {n} devices x {lam:g}/s exceed {n} x {local_rate_per_s:g}/s local "
                              f"plus {edge_rate_per_s:g}/s edge capacity")

    def delays(x: float) -> float:
        split = split_delays(x, lam, local_rate_per_s, edge_rate_per_s, n, transfer_s)
        return split.local_delay_s - split.edge_delay_s

    def marginals(x: float) -> float:
        local = mm1_marginal_delay_s((1.0 - x) * lam, local_rate_per_s)
        return local - (transfer_s + mm1_marginal_delay_s(n * x * lam, edge_rate_per_s))

    selfish = split_delays(_balance(delays, low, high), lam, local_rate_per_s, edge_rate_per_s, n, transfer_s)
    social = split_delays(_balance(marginals, low, high), lam, local_rate_per_s, edge_rate_per_s, n, transfer_s)
    return WardropResult(selfish, social, selfish.mean_delay_s / social.mean_delay_s)


def _balance(gap: Callable[[float], float], low: float, high: float) -> float:
    """The ``x`` in [low, high] where the decreasing ``gap`` (local minus edge) crosses 0, or the end where one
    side is better throughout. An open end (an unstable side) has an infinite gap of the right sign."""
    if low == 0.0 and gap(0.0) <= 0:
        return 0.0
    if high == 1.0 and gap(1.0) >= 0:
        return 1.0
    nudge = 1e-9 * (high - low)  # an open end's delay is infinite; step just inside it
    a = low if low == 0.0 else low + nudge
    b = high if high == 1.0 else high - nudge
    if gap(a) <= 0:
        return a
    if gap(b) >= 0:
        return b
    return float(brentq(gap, a, b, xtol=1e-15, rtol=4 * np.finfo(float).eps))
