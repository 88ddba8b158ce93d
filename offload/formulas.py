"""The physical formulas of the toolkit, each in one function that every package calls.

Compute time, transfer time, fibre propagation, the round trip of a symmetric path and the energy a device spends
in each state. :mod:`offload.cost` prices options with them, :mod:`offload.runtime` and the simulator time tasks
with them, :mod:`scheduler.geo` and the simulator's links delay data with them, and the simulator's energy meter
charges realised stage durations with them: a prediction and a measurement can only differ by their inputs.

All functions broadcast over numpy arrays (scalars in, numpy scalars out) and skip terms that are exactly zero or
infinite only where that gives the same floating-point result.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Values = FloatArray | float

#: One-way propagation delay of light in optical fibre (refractive index ~1.47): about 4.9 µs per km.
FIBER_DELAY_S_PER_M = 4.9e-9


def compute_time_s(work_ops: Values, speed_ops_per_s: Values, fixed_s: Values = 0.0) -> Values:
    """Execution time ``fixed_s + work_ops / speed_ops_per_s``: a measured time (speed ``inf``), a speed (``fixed_s``
    0), or an overhead plus a speed.

    Skipping the terms that are exactly zero gives the same floating-point result faster.

    Examples
    --------
    >>> float(compute_time_s(2e9, 1e9))
    2.0
    >>> compute_time_s(2e9, math.inf, 0.013)
    0.013
    """
    if isinstance(speed_ops_per_s, float) and math.isinf(speed_ops_per_s):
        return fixed_s if isinstance(fixed_s, float) else np.asarray(fixed_s, dtype=np.float64)
    proportional = np.divide(work_ops, speed_ops_per_s)
    if isinstance(fixed_s, float) and fixed_s == 0.0:
        return proportional
    return np.add(fixed_s, proportional)


def transfer_time_s(bits: npt.ArrayLike, rate_bps: npt.ArrayLike) -> FloatArray:
    """Time to move ``bits`` at ``rate_bps`` (> 0; ``inf`` makes any transfer instantaneous)."""
    return np.divide(bits, rate_bps)


def propagation_delay_s(distance_m: npt.ArrayLike) -> FloatArray:
    """One-way fibre propagation over ``distance_m``: ``distance_m · FIBER_DELAY_S_PER_M`` (≈ 4.9 µs per km)."""
    return np.multiply(distance_m, FIBER_DELAY_S_PER_M)


def round_trip_s(one_way_s: npt.ArrayLike, extra_s: npt.ArrayLike = 0.0) -> FloatArray:
    """Round trip of a symmetric path: ``extra_s + 2 · one_way_s`` (``extra_s``: delay paid once per round trip,
    e.g. a measured RTT not explained by the path)."""
    return np.add(extra_s, np.multiply(2.0, one_way_s))


def compute_energy_j(compute_power_w: Values, compute_s: Values) -> Values:
    """Energy of computing for ``compute_s`` at ``compute_power_w``."""
    return np.multiply(compute_power_w, compute_s)


def radio_energy_j(tx_power_w: Values, upload_s: Values, rx_power_w: Values, download_s: Values) -> Values:
    """Energy of sending for ``upload_s`` and receiving for ``download_s``: ``P_tx t_up + P_rx t_down``."""
    return np.multiply(tx_power_w, upload_s) + np.multiply(rx_power_w, download_s)


def offload_device_energy_j(radio_j: Values, idle_power_w: Values, away_s: Values, tail_energy_j: Values) -> Values:
    """Device energy of an offloaded task: its radio energy, idling while the task is away (network, queue, remote
    compute) and the radio's tail: ``E_radio + P_idle t_away + E_tail``."""
    return radio_j + np.multiply(idle_power_w, away_s) + tail_energy_j


def offload_system_energy_j(radio_j: Values, server_compute_power_w: Values, server_compute_s: Values) -> Values:
    """System energy of an offloaded task: the device's radio energy plus the server's compute energy."""
    return radio_j + compute_energy_j(server_compute_power_w, server_compute_s)


class DeviceEnergy(NamedTuple):
    """Device energy per task (J) and its split by device state; the five terms add up to ``total_j``."""

    total_j: FloatArray
    compute_j: FloatArray
    tx_j: FloatArray
    rx_j: FloatArray
    idle_j: FloatArray
    tail_j: FloatArray


def device_energy_j(
    *,
    local: BoolArray,
    compute_s: FloatArray,
    upload_s: FloatArray,
    download_s: FloatArray,
    away_s: FloatArray,
    compute_power_w: FloatArray,
    tx_power_w: FloatArray,
    rx_power_w: FloatArray,
    idle_power_w: FloatArray,
    tail_energy_j: FloatArray,
) -> DeviceEnergy:
    """Device energy of tasks from the durations of the stages they went through (the device view of
    :mod:`offload.cost` applied to realised times).

    A ``local`` task costs :func:`compute_energy_j` over ``compute_s``; an offloaded one
    :func:`offload_device_energy_j` with ``away_s`` the time between the end of its upload and the start of its
    download (its ``compute_s`` ran on the server, which the device view does not charge).
    """
    radio_j = radio_energy_j(tx_power_w, upload_s, rx_power_w, download_s)
    offloaded = np.asarray(offload_device_energy_j(radio_j, idle_power_w, away_s, tail_energy_j))
    local_j = np.asarray(compute_energy_j(compute_power_w, compute_s))

    def remote(value: Values) -> FloatArray:
        return np.where(local, 0.0, value)

    return DeviceEnergy(
        total_j=np.where(local, local_j, offloaded), compute_j=np.where(local, local_j, 0.0),
        tx_j=remote(np.multiply(tx_power_w, upload_s)), rx_j=remote(np.multiply(rx_power_w, download_s)),
        idle_j=remote(np.multiply(idle_power_w, away_s)), tail_j=remote(np.broadcast_to(tail_energy_j, local.shape)))


def shannon_rate_bps(bandwidth_hz: Values, signal_w: Values, noise_w: Values, interference_w: Values = 0.0) -> Values:
    """Achievable rate of a link: ``W · log2(1 + S / (N0 + I))`` (Shannon capacity with interference as noise).

    Examples
    --------
    >>> float(shannon_rate_bps(1e6, 3.0, 1.0))
    2000000.0
    """
    return np.multiply(bandwidth_hz, np.log2(1.0 + np.divide(signal_w, np.add(noise_w, interference_w))))
