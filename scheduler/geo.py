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
