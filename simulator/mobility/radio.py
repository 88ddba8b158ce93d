"""The cells' radios in one replication: every moving device's uplink and downlink rate at its position.

Shadowing is drawn once per device and cell (a static obstacle map) and serves both directions (a path's
large-scale loss is reciprocal). Uplink: a device's SINR at its serving cell counts the devices of other cells on
the same channel that are transmitting, a device transmitting when it has an upload in flight
(:func:`offload.pathloss.sinr`). Downlink, at the cells whose radio has a ``downlink_power_w``: a device's SINR from
its serving cell counts the other cells on the same channel that are transmitting, a cell transmitting when one of
its moving devices has a download in flight — the uplink's rule, applied to the cells
(:func:`offload.pathloss.downlink_sinr`). A rate is NaN at a cell without the model of that direction: the link
keeps the cell's rate there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeGuard

import numpy as np
import numpy.typing as npt

from offload.pathloss import RadioModel, downlink_sinr, sinr

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


class CellRadios:
    """The radios of the cells (``None``: a cell without one) over ``devices`` moving devices; draws the
    shadowing from ``rng`` (nothing without shadowing). ``up_bps`` and ``down_bps`` are the devices' rates, arrays
    that :meth:`update` rewrites in place (the devices' links read them)."""

    __slots__ = ("channel", "device_noise_w", "down_bps", "downlink", "noise_w", "radios", "shadowing_db", "up_bps")

    def __init__(self, radios: Sequence[RadioModel | None], devices: int, rng: np.random.Generator) -> None:
        self.radios = tuple(radios)
        self.shadowing_db = np.zeros((devices, len(self.radios)))
        for k, radio in enumerate(self.radios):
            if radio is not None:
                self.shadowing_db[:, k] = radio.shadowing((devices,), rng)
        self.noise_w = np.array([math.inf if radio is None else radio.noise_w for radio in self.radios])
        self.device_noise_w = np.array([radio.device_noise_w if _downlink(radio) else math.inf
                                        for radio in self.radios])
        self.channel = np.array([0 if radio is None else radio.channel for radio in self.radios], dtype=np.intp)
        #: some cell models its downlink
        self.downlink = any(_downlink(radio) for radio in self.radios)
        self.up_bps = np.full(devices, math.nan)
        self.down_bps = np.full(devices, math.nan)

    def received_w(self, distance_m: FloatArray, rows: slice | IntArray) -> FloatArray:
        """Power of the devices ``rows`` at ``distance_m`` ``(devices, cells)`` from each cell, received there (the
        uplink; zero at a cell without a radio)."""
        received = np.zeros_like(distance_m)
        for k, radio in enumerate(self.radios):
            if radio is not None:
                received[:, k] = radio.received_w(distance_m[:, k], self.shadowing_db[rows, k])
        return received

    def update(self, distance_m: FloatArray, serving: IntArray, sending: FloatArray, receiving: FloatArray) -> None:
        """The rates of every device at ``distance_m`` ``(devices, cells)`` from the cells, served by the cells
        ``serving``; ``sending``/``receiving``: 1 for a device with an upload/download in flight, else 0."""
        ratio = sinr(self.received_w(distance_m, slice(None)), serving, sending, self.channel, self.noise_w)
        for k, radio in enumerate(self.radios):
            served = serving == k
            self.up_bps[served] = math.nan if radio is None else radio.rate_bps(ratio[served])
        if not self.downlink:
            return
        transmitting = np.bincount(serving, weights=receiving, minlength=len(self.radios)) > 0
        from_cells = np.zeros_like(distance_m)
        for k, radio in enumerate(self.radios):
            if _downlink(radio):
                from_cells[:, k] = radio.downlink_received_w(distance_m[:, k], self.shadowing_db[:, k])
        ratio = downlink_sinr(from_cells, serving, transmitting, self.channel, self.device_noise_w[serving])
        for k, radio in enumerate(self.radios):
            served = serving == k
            self.down_bps[served] = radio.downlink_rate_bps(ratio[served]) if _downlink(radio) else math.nan


def _downlink(radio: RadioModel | None) -> TypeGuard[RadioModel]:
    """``radio`` models the downlink."""
    return radio is not None and radio.downlink_power_w is not None
