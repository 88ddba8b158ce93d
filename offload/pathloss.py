"""Radio links on a plane: log-distance path loss, thermal noise, SINR with co-channel interference, Shannon rate.

Pure numpy, vectorised over devices × access points. The received power of a device at distance ``d`` is
``P_rx = P_tx · 10^(−PL(d)/10)`` with the log-distance model (Rappaport, "Wireless Communications: Principles and
Practice", 2nd ed., 2002, §4.9, eqs. 4.67–4.69)::

    PL(d) [dB] = PL(d0) + 10 n log10(d / d0) + X_σ,      X_σ ~ N(0, σ²) (log-normal shadowing, dB)

with ``PL(d0)`` the free-space loss at the reference distance ``d0`` (Friis, eq. 4.5). The uplink SINR at a
device's serving access point counts the power of every other transmitting device served by another cell on the
same channel (devices of one cell share it in time, see :mod:`simulator.network`); the downlink SINR at a device
counts the power of every other transmitting access point on its serving cell's channel, over the same path loss
(and the same shadowing: a path's large-scale loss is reciprocal). The rate is the Shannon capacity
``B log2(1 + SINR)`` capped by the cell's peak rate of that direction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from offload.validate import check_non_negative, check_positive

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

#: Speed of light in vacuum, m/s.
SPEED_OF_LIGHT_M_PER_S = 299_792_458.0
#: Boltzmann constant (J/K, exact in the 2019 SI) and the reference noise temperature 290 K (ITU-R P.372).
BOLTZMANN_J_PER_K = 1.380649e-23
NOISE_TEMPERATURE_K = 290.0


def free_space_loss_db(distance_m: npt.ArrayLike, frequency_hz: float) -> FloatArray:
    """Friis free-space path loss ``20 log10(4π d f / c)`` in dB (Rappaport 2002, eq. 4.5).

    Examples
    --------
    >>> round(float(free_space_loss_db(1.0, 2.4e9)), 2)  # one metre at 2.4 GHz
    40.05
    """
    ratio = 4.0 * math.pi * np.asarray(distance_m, dtype=np.float64) * frequency_hz / SPEED_OF_LIGHT_M_PER_S
    return np.asarray(20.0 * np.log10(ratio), dtype=np.float64)


def path_loss_db(distance_m: npt.ArrayLike, *, exponent: npt.ArrayLike, reference_loss_db: npt.ArrayLike,
                 reference_m: npt.ArrayLike = 1.0) -> FloatArray:
    """Log-distance path loss ``PL(d0) + 10 n log10(d / d0)`` in dB, broadcast over the inputs; distances below
    ``d0`` are clamped to ``d0`` (the model is not defined in the near field). Shadowing is added by the caller
    (:func:`channel_gain`)."""
    d0 = np.asarray(reference_m, dtype=np.float64)
    d = np.maximum(np.asarray(distance_m, dtype=np.float64), d0)
    slope_db = 10.0 * np.asarray(exponent, dtype=np.float64)
    return np.asarray(np.asarray(reference_loss_db, dtype=np.float64) + slope_db * np.log10(d / d0), dtype=np.float64)


def channel_gain(distance_m: npt.ArrayLike, shadowing_db: npt.ArrayLike = 0.0, *, exponent: npt.ArrayLike,
                 reference_loss_db: npt.ArrayLike, reference_m: npt.ArrayLike = 1.0) -> FloatArray:
    """The power gain ``10^(−(PL(d) + X)/10)`` of a link over ``distance_m`` (either way: the large-scale loss is
    reciprocal), ``X`` a log-normal shadowing sample in dB; broadcast over the inputs (e.g. devices × cells)."""
    loss = path_loss_db(distance_m, exponent=exponent, reference_loss_db=reference_loss_db,
                        reference_m=reference_m) + np.asarray(shadowing_db, dtype=np.float64)
    return np.asarray(10.0 ** (-loss / 10.0), dtype=np.float64)


def thermal_noise_w(bandwidth_hz: float, noise_figure_db: float = 0.0) -> float:
    """Receiver noise power ``k T0 B · NF`` in watts (−174 dBm/Hz at 290 K, times the noise figure)."""
    return float(BOLTZMANN_J_PER_K * NOISE_TEMPERATURE_K * bandwidth_hz * 10.0 ** (noise_figure_db / 10.0))


def shannon_rate_bps(sinr: npt.ArrayLike, bandwidth_hz: npt.ArrayLike, peak_bps: npt.ArrayLike = math.inf) \
        -> FloatArray:
    """``min(B log2(1 + SINR), peak)`` in bit/s (Shannon, 1948), broadcast over the inputs."""
    rate = np.asarray(bandwidth_hz, dtype=np.float64) * np.log2(1.0 + np.asarray(sinr, dtype=np.float64))
    return np.asarray(np.minimum(rate, peak_bps), dtype=np.float64)


def sinr(received_w: npt.ArrayLike, serving: npt.ArrayLike, active: npt.ArrayLike, channel: npt.ArrayLike,
         noise_w: npt.ArrayLike) -> FloatArray:
    """Uplink SINR of every device at its serving access point, with co-channel interference.

    Parameters
    ----------
    received_w : array (devices, access points)
        Power of each device's transmission as received at each access point, W.
    serving : int array (devices,)
        Index of each device's serving access point.
    active : array (devices,)
        1 for a device transmitting now, 0 for a silent one (a fraction in between: the device's share of time on
        the air, giving the mean interference).
    channel : int array (access points,)
        Channel of each access point; a device interferes with the cells on its serving cell's channel.
    noise_w : array (access points,) or scalar
        Receiver noise power at each access point, W.

    Returns
    -------
    SINR of each device (linear). Device ``i`` at cell ``a = serving[i]`` sees ``S / (N_a + I)`` with
    ``S = received_w[i, a]`` and ``I = Σ_j active_j received_w[j, a]`` over devices ``j`` of *other* cells whose
    cell uses ``a``'s channel. Work is O(devices × access points): the interference is the total power on the
    channel at ``a`` minus the power of ``a``'s own devices.
    """
    received = np.asarray(received_w, dtype=np.float64)
    serving = np.asarray(serving, dtype=np.intp)
    weight = np.broadcast_to(np.asarray(active, dtype=np.float64), serving.shape)
    channel = np.asarray(channel, dtype=np.intp)
    n_aps = received.shape[1]
    device_channel = channel[serving]
    # on_channel[c, a]: power on channel c arriving at access point a, summed over transmitting devices
    on_channel = np.zeros((int(channel.max()) + 1, n_aps))
    np.add.at(on_channel, device_channel, weight[:, None] * received)
    own = np.bincount(serving, weights=weight * received[np.arange(serving.size), serving], minlength=n_aps)
    interference = on_channel[device_channel, serving] - own[serving]
    signal = received[np.arange(serving.size), serving]
    noise = np.broadcast_to(np.asarray(noise_w, dtype=np.float64), (n_aps,))[serving]
    return np.asarray(signal / (noise + np.maximum(interference, 0.0)), dtype=np.float64)


def downlink_sinr(received_w: npt.ArrayLike, serving: npt.ArrayLike, active: npt.ArrayLike, channel: npt.ArrayLike,
                  noise_w: npt.ArrayLike) -> FloatArray:
    """Downlink SINR of every device from its serving access point, with co-channel interference.

    Parameters
    ----------
    received_w : array (devices, access points)
        Power of each access point's transmission as received at each device, W.
    serving : int array (devices,)
        Index of each device's serving access point.
    active : array (access points,)
        1 for an access point transmitting now, 0 for a silent one (a fraction in between: its share of time on
        the air, giving the mean interference).
    channel : int array (access points,)
        Channel of each access point; access points on one channel interfere with each other's devices.
    noise_w : array (devices,) or scalar
        Receiver noise power at each device, W.

    Returns
    -------
    SINR of each device (linear). Device ``i`` served by ``a = serving[i]`` sees ``S / (N_i + I)`` with
    ``S = received_w[i, a]`` and ``I = Σ_b active_b received_w[i, b]`` over the access points ``b ≠ a`` on ``a``'s
    channel (the serving cell's own transmissions to its other devices share its time and do not interfere).
    O(devices × access points).
    """
    received = np.asarray(received_w, dtype=np.float64)
    serving = np.asarray(serving, dtype=np.intp)
    channel = np.asarray(channel, dtype=np.intp)
    rows = np.arange(serving.size)
    weight = (channel[None, :] == channel[serving][:, None]) * np.broadcast_to(
        np.asarray(active, dtype=np.float64), (received.shape[1],))[None, :]
    weight[rows, serving] = 0.0
    signal = received[rows, serving]
    interference = (weight * received).sum(axis=1)
    noise = np.broadcast_to(np.asarray(noise_w, dtype=np.float64), serving.shape)
    return np.asarray(signal / (noise + interference), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class RadioModel:
    """The radio of an access point's cell (SI: Hz, W, dB, bit/s).

    Attributes
    ----------
    bandwidth_hz : float
        Channel bandwidth ``B``.
    tx_power_w : float
        Device transmit power (the uplink).
    path_loss_exponent : float
        ``n`` of the log-distance model (2 free space, 2.7–3.5 urban cellular, Rappaport 2002 Table 4.2).
    shadowing_db : float
        Standard deviation σ of log-normal shadowing (0: none).
    peak_bps : float
        The cell's peak rate, the cap of the Shannon rate.
    reference_loss_db : float
        ``PL(d0)`` at ``reference_m``; default the free-space loss at 1 m and 2 GHz (38.5 dB).
    noise_figure_db : float
        Receiver noise figure; default 5 dB, the base-station value of 3GPP TR 36.814 Table A.2.1.1-2.
    channel : int
        Cells on one channel interfere with each other.
    downlink_power_w : float or None
        The access point's transmit power; ``None``: no downlink model (the downlink keeps the cell's rate).
    downlink_peak_bps : float
        The cap of the downlink's Shannon rate.
    device_noise_figure_db : float
        The devices' receiver noise figure (the downlink); default 9 dB, the UE value of 3GPP TR 36.814
        Table A.2.1.1-2.
    """

    bandwidth_hz: float
    tx_power_w: float
    path_loss_exponent: float = 3.0
    shadowing_db: float = 0.0
    peak_bps: float = math.inf
    reference_loss_db: float = float(free_space_loss_db(1.0, 2e9))
    reference_m: float = 1.0
    noise_figure_db: float = 5.0
    channel: int = 0
    downlink_power_w: float | None = None
    downlink_peak_bps: float = math.inf
    device_noise_figure_db: float = 9.0

    def __post_init__(self) -> None:
        check_positive("bandwidth_hz", self.bandwidth_hz)
        check_positive("tx_power_w", self.tx_power_w)
        check_positive("path_loss_exponent", self.path_loss_exponent)
        check_non_negative("shadowing_db", self.shadowing_db)
        check_positive("peak_bps", self.peak_bps, allow_inf=True)
        check_positive("reference_m", self.reference_m)
        check_non_negative("channel", self.channel)
        if self.downlink_power_w is not None:
            check_positive("downlink_power_w", self.downlink_power_w)
        check_positive("downlink_peak_bps", self.downlink_peak_bps, allow_inf=True)

    @property
    def noise_w(self) -> float:
        """Receiver noise over the channel at the access point (the uplink), W."""
        return thermal_noise_w(self.bandwidth_hz, self.noise_figure_db)

    @property
    def device_noise_w(self) -> float:
        """Receiver noise over the channel at a device (the downlink), W."""
        return thermal_noise_w(self.bandwidth_hz, self.device_noise_figure_db)

    def gain(self, distance_m: npt.ArrayLike, shadowing_db: npt.ArrayLike = 0.0) -> FloatArray:
        """The channel's power gain over ``distance_m`` (:func:`channel_gain`) with ``X`` a shadowing sample in dB
        (draw it with :meth:`shadowing`)."""
        return channel_gain(distance_m, shadowing_db, exponent=self.path_loss_exponent,
                            reference_loss_db=self.reference_loss_db, reference_m=self.reference_m)

    def received_w(self, distance_m: npt.ArrayLike, shadowing_db: npt.ArrayLike = 0.0) -> FloatArray:
        """Power received at the access point from a device at ``distance_m``: ``P_tx`` times the :meth:`gain`."""
        return np.asarray(self.tx_power_w * self.gain(distance_m, shadowing_db), dtype=np.float64)

    def downlink_received_w(self, distance_m: npt.ArrayLike, shadowing_db: npt.ArrayLike = 0.0) -> FloatArray:
        """Power received by a device at ``distance_m`` from the access point: its ``downlink_power_w`` times the
        :meth:`gain` (zero without a downlink model)."""
        power_w = 0.0 if self.downlink_power_w is None else self.downlink_power_w
        return np.asarray(power_w * self.gain(distance_m, shadowing_db), dtype=np.float64)

    def shadowing(self, shape: tuple[int, ...], rng: np.random.Generator) -> FloatArray:
        """Log-normal shadowing samples ``X_σ`` in dB (zeros without shadowing; no draw then)."""
        if self.shadowing_db == 0.0:
            return np.zeros(shape)
        return rng.normal(0.0, self.shadowing_db, shape)

    def rate_bps(self, sinr_linear: npt.ArrayLike) -> FloatArray:
        """The uplink rate at ``sinr_linear``: Shannon over the bandwidth, capped by the peak."""
        return shannon_rate_bps(sinr_linear, self.bandwidth_hz, self.peak_bps)

    def downlink_rate_bps(self, sinr_linear: npt.ArrayLike) -> FloatArray:
        """The downlink rate at ``sinr_linear``: Shannon over the bandwidth, capped by the downlink peak."""
        return shannon_rate_bps(sinr_linear, self.bandwidth_hz, self.downlink_peak_bps)
