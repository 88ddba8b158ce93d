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

from offload.pathloss import RadioModel, channel_gain, downlink_sinr, shannon_rate_bps, sinr

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


class CellRadios:
    """The radios of the cells (``None``: a cell without one) over ``devices`` moving devices; draws the
    shadowing from ``rng`` (nothing without shadowing). ``up_bps`` and ``down_bps`` are the devices' rates, arrays
    that :meth:`update` rewrites in place (the devices' links read them). The cells' parameters are kept as arrays
    over the cells, so that one numpy call prices every device and cell."""

    __slots__ = ("bandwidth_hz", "channel", "device_noise_w", "down_bps", "down_peak_bps", "down_w", "downlink",
                 "exponent", "has_down", "has_up", "noise_w", "peak_bps", "reference_loss_db", "reference_m",
                 "shadowing_db", "tx_w", "up_bps")

    def __init__(self, radios: Sequence[RadioModel | None], devices: int, rng: np.random.Generator) -> None:
        self.shadowing_db = np.zeros((devices, len(radios)))
        for k, radio in enumerate(radios):
            if radio is not None:
                self.shadowing_db[:, k] = radio.shadowing((devices,), rng)
        models = [RadioModel(1.0, 1.0) if radio is None else radio for radio in radios]  # placeholders: no power
        self.has_up = np.array([radio is not None for radio in radios])
        self.has_down = np.array([_downlink(radio) for radio in radios])
        self.exponent = np.array([m.path_loss_exponent for m in models])
        self.reference_loss_db = np.array([m.reference_loss_db for m in models])
        self.reference_m = np.array([m.reference_m for m in models])
        self.bandwidth_hz = np.array([m.bandwidth_hz for m in models])
        self.peak_bps = np.array([m.peak_bps for m in models])
        self.down_peak_bps = np.array([m.downlink_peak_bps for m in models])
        self.tx_w = np.where(self.has_up, [m.tx_power_w for m in models], 0.0)
        self.down_w = np.array([radio.downlink_power_w if _downlink(radio) else 0.0 for radio in radios])
        self.noise_w = np.where(self.has_up, [m.noise_w for m in models], math.inf)
        self.device_noise_w = np.where(self.has_down, [m.device_noise_w for m in models], math.inf)
        self.channel = np.where(self.has_up, [m.channel for m in models], 0).astype(np.intp)
        #: some cell models its downlink
        self.downlink = bool(self.has_down.any())
        self.up_bps = np.full(devices, math.nan)
        self.down_bps = np.full(devices, math.nan)

    def _gain(self, distance_m: FloatArray, rows: slice | IntArray) -> FloatArray:
        return channel_gain(distance_m, self.shadowing_db[rows], exponent=self.exponent,
                            reference_loss_db=self.reference_loss_db, reference_m=self.reference_m)

    def received_w(self, distance_m: FloatArray, rows: slice | IntArray) -> FloatArray:
        """Power of the devices ``rows`` at ``distance_m`` ``(devices, cells)`` from each cell, received there (the
        uplink; zero at a cell without a radio)."""
        return np.asarray(self.tx_w * self._gain(distance_m, rows), dtype=np.float64)

    def update(self, distance_m: FloatArray, serving: IntArray, sending: FloatArray, receiving: FloatArray) -> None:
        """The rates of every device at ``distance_m`` ``(devices, cells)`` from the cells, served by the cells
        ``serving``; ``sending``/``receiving``: 1 for a device with an upload/download in flight, else 0."""
        gain = self._gain(distance_m, slice(None))
        ratio = sinr(self.tx_w * gain, serving, sending, self.channel, self.noise_w)
        self.up_bps[:] = np.where(self.has_up[serving], shannon_rate_bps(
            ratio, self.bandwidth_hz[serving], self.peak_bps[serving]), math.nan)
        if not self.downlink:
            return
        transmitting = np.bincount(serving, weights=receiving, minlength=self.channel.size) > 0
        ratio = downlink_sinr(self.down_w * gain, serving, transmitting, self.channel, self.device_noise_w[serving])
        self.down_bps[:] = np.where(self.has_down[serving], shannon_rate_bps(
            ratio, self.bandwidth_hz[serving], self.down_peak_bps[serving]), math.nan)


def _downlink(radio: RadioModel | None) -> TypeGuard[RadioModel]:
    """``radio`` models the downlink."""
    return radio is not None and radio.downlink_power_w is not None
