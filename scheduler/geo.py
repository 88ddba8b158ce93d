"""Geography on the sphere: great-circle distance and fibre propagation delay between coordinates."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from offload.formulas import propagation_delay_s

FloatArray = npt.NDArray[np.float64]

#: Mean Earth radius (IUGG), metres.
EARTH_RADIUS_M = 6_371_008.8


def great_circle_m(
    lat1_deg: npt.ArrayLike, lon1_deg: npt.ArrayLike, lat2_deg: npt.ArrayLike, lon2_deg: npt.ArrayLike
) -> FloatArray:
    """Great-circle distance in metres by the haversine formula, broadcast over the inputs.

    Source: R. W. Sinnott, "Virtues of the Haversine", Sky and Telescope 68(2), 1984.

    Examples
    --------
    >>> round(float(great_circle_m(0.0, 0.0, 0.0, 1.0)) / 1000, 2)  # one degree of longitude at the equator
    111.2
    """
    phi1, phi2 = np.radians(lat1_deg), np.radians(lat2_deg)
    dphi = phi2 - phi1
    dlam = np.radians(np.asarray(lon2_deg, dtype=np.float64) - np.asarray(lon1_deg, dtype=np.float64))
    h = np.sin(dphi / 2.0) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlam / 2.0) ** 2
    distance = 2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    return np.asarray(distance, dtype=np.float64)


def fibre_delay_s(distance_m: npt.ArrayLike, per_hop_s: npt.ArrayLike = 0.0) -> FloatArray:
    """One-way link delay: fibre propagation (:func:`offload.formulas.propagation_delay_s`) plus a per-hop delay."""
    return np.asarray(propagation_delay_s(np.asarray(distance_m, dtype=np.float64))
                      + np.asarray(per_hop_s, dtype=np.float64), dtype=np.float64)


def local_xy_m(
    lat_deg: npt.ArrayLike, lon_deg: npt.ArrayLike, origin_lat_deg: float, origin_lon_deg: float
) -> FloatArray:
    """Coordinates on a local metric plane (east ``x``, north ``y``, metres from the origin), shape ``(..., 2)``.

    The equirectangular projection about the origin: ``x = R Δλ cos φ0``, ``y = R Δφ`` (Snyder, "Map Projections —
    A Working Manual", USGS Professional Paper 1395, 1987, §12). Over a city (tens of km) it differs from the
    great-circle distance by well under 0.1 %, which is why a simulation may move devices on this plane.

    Examples
    --------
    >>> xy = local_xy_m(0.0, 1.0, 0.0, 0.0)  # one degree east of the origin on the equator
    >>> round(float(xy[0]) / 1000, 2), round(float(xy[1]), 6)
    (111.2, 0.0)
    """
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))
    x = EARTH_RADIUS_M * (lon - np.radians(origin_lon_deg)) * np.cos(np.radians(origin_lat_deg))
    y = EARTH_RADIUS_M * (lat - np.radians(origin_lat_deg))
    return np.asarray(np.stack(np.broadcast_arrays(x, y), axis=-1), dtype=np.float64)
