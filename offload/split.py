"""Where to cut a deep network between the device and the edge (Neurosurgeon: Kang et al., ASPLOS 2017, §4).

A network is a chain of ``L`` layers (split points only where one tensor crosses). Splitting *after* layer ``k``
runs layers ``1..k`` on the device, uploads layer ``k``'s output (the raw input when ``k = 0``), runs the rest on the
edge and downloads the result; ``k = L`` runs everything locally and sends nothing:

    latency   T_k = Σ_{i<=k} t_dev,i + [k<L] (O_k / B_up + RTT + ρ Σ_{i>k} t_edge,i + R / B_down)
    device    E_k = P_cpu Σ_{i<=k} t_dev,i + [k<L] (P_tx O_k/B_up + P_rx R/B_down + P_idle (RTT + ρ Σ t_edge) + E_tail)
    system    E_k = P_cpu Σ_{i<=k} t_dev,i + [k<L] (P_tx O_k/B_up + P_rx R/B_down + P_server Σ_{i>k} t_edge,i)

with ``ρ >= 1`` the edge's load factor (Neurosurgeon scales edge times by the server's load). Per-layer times are
measured, or estimated by a roofline, :func:`roofline_time_s`. The costs of every split broadcast over any number
of (task, uplink) pairs: :func:`split_costs` keeps the whole ``(splits, pairs)`` table, :func:`best_split` keeps a
running minimum over the splits and so handles millions of pairs in memory proportional to the pairs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from offload.decision import EnergyView, Objective
from offload.errors import ParameterError
from offload.formulas import (
    compute_energy_j,
    offload_device_energy_j,
    offload_system_energy_j,
    radio_energy_j,
    transfer_time_s,
)
from offload.validate import check_array_non_negative, check_array_positive

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
Values = FloatArray | float
INPUT = "input"


def roofline_time_s(work_ops: npt.ArrayLike, memory_bits: npt.ArrayLike, peak_ops_per_s: npt.ArrayLike,
                    memory_bps: npt.ArrayLike = math.inf) -> FloatArray:
    """Roofline estimate of a layer's time: compute-bound or memory-bound, ``max(ops / peak, bits / bandwidth)``
    (Williams, Waterman & Patterson, CACM 2009). Fully connected layers, which touch every weight once, are
    memory-bound on small devices."""
    return np.maximum(np.divide(work_ops, peak_ops_per_s), np.divide(memory_bits, memory_bps))


@dataclass(frozen=True, slots=True)
class LayerProfile:
    """A network as the split model sees it.

    Attributes
    ----------
    names : tuple of str
        Layer names in execution order (at least one; not ``input``).
    input_bits : float
        The raw input, uploaded by a full offload (split after ``input``).
    output_bits, device_time_s, edge_time_s : ndarray, shape (layers,)
        Each layer's output tensor and its time on the device and on an unloaded edge server.
    """

    names: tuple[str, ...]
    input_bits: float
    output_bits: FloatArray
    device_time_s: FloatArray
    edge_time_s: FloatArray

    def __post_init__(self) -> None:
        if not self.names:
            raise ParameterError("layers", None, "a profile needs at least one layer")
        if INPUT in self.names or len(set(self.names)) != len(self.names):
            raise ParameterError("layers", list(self.names), f"names must be unique and not {INPUT!r}")
        for name in ("output_bits", "device_time_s", "edge_time_s"):
            array = check_array_non_negative(name, getattr(self, name), allow_inf=False)
            if array.shape != (len(self.names),):
                raise ParameterError(name, array.shape, f"must have one value per layer ({len(self.names)})")
            object.__setattr__(self, name, array)
        if not (self.input_bits >= 0 and math.isfinite(self.input_bits)):
            raise ParameterError("input_bits", self.input_bits, "must be >= 0 and finite")

    @property
    def split_names(self) -> tuple[str, ...]:
        """The split points: ``input`` (full offload), then after each layer (the last: all local)."""
        return (INPUT, *self.names)


@dataclass(frozen=True, slots=True)
class SplitTerms:
    """Per-split constants, shape ``(splits,)``: device time before the cut, edge time after it, bits uploaded,
    bits downloaded and whether anything is offloaded (1.0) or not (0.0, the all-local split)."""

    device_s: FloatArray
    edge_s: FloatArray
    upload_bits: FloatArray
    download_bits: FloatArray
    offloaded: FloatArray


def split_terms(profile: LayerProfile) -> SplitTerms:
    """The prefix/suffix sums of :class:`LayerProfile` behind every split's cost."""
    n = len(profile.names)
    device = np.concatenate(([0.0], np.cumsum(profile.device_time_s)))
    edge = np.concatenate((np.cumsum(profile.edge_time_s[::-1])[::-1], [0.0]))
    offloaded = np.ones(n + 1)
    offloaded[-1] = 0.0
    upload = np.concatenate(([profile.input_bits], profile.output_bits[:-1], [0.0]))
    download = profile.output_bits[-1] * offloaded
    return SplitTerms(device, edge, upload, download, offloaded)


@dataclass(frozen=True, slots=True)
class SplitLink:
    """The (task, uplink) pairs: network and edge conditions, each a scalar or an array of one value per pair."""

    uplink_bps: FloatArray | float
    downlink_bps: FloatArray | float = math.inf
    round_trip_s: FloatArray | float = 0.0
    server_load: FloatArray | float = 1.0

    def __post_init__(self) -> None:
        for name, rule in (("uplink_bps", check_array_positive), ("downlink_bps", check_array_positive),
                           ("round_trip_s", check_array_non_negative), ("server_load", check_array_positive)):
            value = rule(name, getattr(self, name))
            object.__setattr__(self, name, float(value) if value.ndim == 0 else value)
        if (np.asarray(self.server_load) < 1).any():
            raise ParameterError("server_load", float(np.min(self.server_load)), "must be >= 1 (1 = an idle server)")


@dataclass(frozen=True, slots=True)
class SplitPower:
    """The device's power draw in each state and the server's (the same for every pair)."""

    compute_power_w: float = 0.0
    tx_power_w: float = 0.0
    rx_power_w: float = 0.0
    idle_power_w: float = 0.0
    tail_energy_j: float = 0.0
    server_compute_power_w: float = 0.0

    def __post_init__(self) -> None:
        for name in self.__slots__:
            check_array_non_negative(name, getattr(self, name), allow_inf=False)


@dataclass(frozen=True, slots=True)
class SplitCosts:
    """Cost of every split for every pair, shape ``(splits, pairs)``; ``after`` names the split points."""

    after: tuple[str, ...]
    latency_s: FloatArray
    device_energy_j: FloatArray
    system_energy_j: FloatArray

    def objective(self, objective: Objective, view: EnergyView) -> FloatArray:
        """The table minimised under ``objective`` (``latency`` or ``energy`` in ``view``)."""
        if objective is Objective.LATENCY:
            return self.latency_s
        if objective is Objective.ENERGY:
            return self.device_energy_j if view is EnergyView.DEVICE else self.system_energy_j
        raise ParameterError("objective", objective.value, "split points minimise latency or energy")


def _split_cost(device_s: Values, edge_s: Values, upload_bits: Values, download_bits: Values, offloaded: Values,
                link: SplitLink, power: SplitPower, want: tuple[bool, bool, bool]) -> tuple[Values, ...]:
    """Latency, device energy and system energy (those ``want``-ed, else 0) of one or more splits for the pairs
    (module docstring); every argument broadcasts."""
    upload = transfer_time_s(upload_bits, link.uplink_bps)
    download = transfer_time_s(download_bits, link.downlink_bps)
    away = np.multiply(offloaded, link.round_trip_s) + np.multiply(link.server_load, edge_s)
    latency = device_s + upload + away + download if want[0] else 0.0
    device: Values = 0.0
    system: Values = 0.0
    if want[1] or want[2]:
        local = compute_energy_j(power.compute_power_w, device_s)
        radio = radio_energy_j(power.tx_power_w, upload, power.rx_power_w, download)
        if want[1]:
            device = local + offload_device_energy_j(radio, power.idle_power_w, away,
                                                     np.multiply(offloaded, power.tail_energy_j))
        if want[2]:
            system = local + offload_system_energy_j(radio, power.server_compute_power_w, edge_s)
    return latency, device, system



def split_costs(profile: LayerProfile, link: SplitLink, power: SplitPower | None = None) -> SplitCosts:
    """Every split's latency and energies for every pair: arrays of shape ``(splits, pairs)`` (``pairs`` is 1 when
    every field of ``link`` is a scalar)."""
    terms = split_terms(profile)

    def column(values: FloatArray) -> FloatArray:
        return values.reshape(-1, 1)

    pairs = max(np.size(v) for v in (link.uplink_bps, link.downlink_bps, link.round_trip_s, link.server_load))
    latency, device, system = _split_cost(
        column(terms.device_s), column(terms.edge_s), column(terms.upload_bits), column(terms.download_bits),
        column(terms.offloaded), link, power or SplitPower(), (True, True, True))
    shape = (len(terms.device_s), pairs)
    return SplitCosts(profile.split_names, *(np.broadcast_to(np.asarray(v, dtype=np.float64), shape).copy()
                                             for v in (latency, device, system)))


@dataclass(frozen=True, slots=True)
class BestSplit:
    """The best split of every pair: its index into ``after`` (0 = full offload, ``L`` = all local) and cost,
    shape ``(pairs,)`` (one pair when every field of the link is a scalar)."""

    after: tuple[str, ...]
    index: IntArray
    value: FloatArray


def best_split(profile: LayerProfile, link: SplitLink, power: SplitPower | None = None, *,
               objective: Objective = Objective.LATENCY, view: EnergyView = EnergyView.DEVICE) -> BestSplit:
    """The argmin over splits of :func:`split_costs` ``.objective(...)`` for every pair, without the table: a
    running minimum over the splits (ties go to the earlier split, like ``argmin``)."""
    want = (objective is Objective.LATENCY, view is EnergyView.DEVICE, view is EnergyView.SYSTEM)
    if objective not in (Objective.LATENCY, Objective.ENERGY):
        raise ParameterError("objective", objective.value, "split points minimise latency or energy")
    slot = 0 if objective is Objective.LATENCY else (1 if view is EnergyView.DEVICE else 2)
    terms = split_terms(profile)
    split_power = power or SplitPower()
    pairs = max(np.size(v) for v in (link.uplink_bps, link.downlink_bps, link.round_trip_s, link.server_load))
    best_value = np.empty(pairs)
    best_index = np.empty(pairs, dtype=np.intp)
    for start in range(0, pairs, _PAIR_BLOCK):  # blocks of pairs stay in the CPU cache across the splits
        block = _pair_block(link, start, start + _PAIR_BLOCK)

        def cost(k: int, block: SplitLink = block) -> FloatArray:
            return np.asarray(_split_cost(float(terms.device_s[k]), float(terms.edge_s[k]),
                                          float(terms.upload_bits[k]), float(terms.download_bits[k]),
                                          float(terms.offloaded[k]), block, split_power, want)[slot],
                              dtype=np.float64).reshape(-1)

        value, index = best_value[start:start + _PAIR_BLOCK], best_index[start:start + _PAIR_BLOCK]
        value[:] = cost(0)
        index[:] = 0
        for k in range(1, len(terms.device_s)):
            candidate = cost(k)
            better = candidate < value
            np.copyto(value, candidate, where=better)
            np.copyto(index, k, where=better)
    return BestSplit(profile.split_names, best_index, best_value)


#: (task, uplink) pairs per block of :func:`best_split`
_PAIR_BLOCK = 32_768


def _pair_block(link: SplitLink, start: int, stop: int) -> SplitLink:
    """The pairs ``start:stop`` of ``link`` (scalars are shared by every pair), already validated."""
    def rows(value: FloatArray | float) -> FloatArray | float:
        return value if isinstance(value, float) else value[start:stop]

    block = object.__new__(SplitLink)
    for name in SplitLink.__slots__:
        object.__setattr__(block, name, rows(getattr(link, name)))
    return block


def profile_from_layers(names: Sequence[str], *, input_bits: float, output_bits: npt.ArrayLike,
                        device_time_s: npt.ArrayLike, edge_time_s: npt.ArrayLike) -> LayerProfile:
    """A :class:`LayerProfile` from plain sequences (floats become arrays)."""
    return LayerProfile(tuple(names), float(input_bits), np.asarray(output_bits, dtype=np.float64),
                        np.asarray(device_time_s, dtype=np.float64), np.asarray(edge_time_s, dtype=np.float64))
