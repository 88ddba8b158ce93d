"""Dynamic voltage and frequency scaling (DVFS): the energy of running ``C`` cycles at frequency ``f``.

CMOS dynamic power is ``κ f³`` (voltage scales with frequency), so ``C`` cycles at ``f`` take ``T = C / f`` and cost
``E = κ C f²`` (Burd & Brodersen 1996; the model of Wang et al., IEEE TCOM 2016 and Mao et al., IEEE JSAC 2016).
Energy grows with ``f``: under a deadline the energy-optimal frequency is the slowest one that meets it,
``f* = C / T``, clipped to the device's range. Frequencies are in cycles (ops) per second; ``kappa_j_s2``, the
effective switched capacitance (typically 1e-28 to 1e-27), is in joules per cycle per (cycle/s)², i.e. J·s².
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def dvfs_energy_j(work_ops: npt.ArrayLike, speed_ops_per_s: npt.ArrayLike, kappa_j_s2: npt.ArrayLike) -> FloatArray:
    """Energy of ``work_ops`` cycles at ``speed_ops_per_s``: ``E = κ C f²``."""
    return np.multiply(np.multiply(kappa_j_s2, work_ops), np.square(speed_ops_per_s))


def dvfs_power_w(speed_ops_per_s: npt.ArrayLike, kappa_j_s2: npt.ArrayLike) -> FloatArray:
    """Dynamic power at ``speed_ops_per_s``: ``P = κ f³`` (so that ``P · C / f = κ C f²``)."""
    return np.multiply(kappa_j_s2, np.power(speed_ops_per_s, 3))


def dvfs_optimal_speed_ops_per_s(
    work_ops: npt.ArrayLike,
    deadline_s: npt.ArrayLike,
    max_speed_ops_per_s: npt.ArrayLike,
    min_speed_ops_per_s: npt.ArrayLike = 0.0,
) -> tuple[FloatArray, BoolArray]:
    """The energy-optimal frequency that finishes ``work_ops`` within ``deadline_s``, and whether one exists.

    ``E = κ C f²`` increases with ``f``, so the optimum is the slowest feasible frequency ``max(C / T, f_min)``;
    it is feasible when ``C / T <= f_max`` (infeasible rows get ``f_max``, the fastest try). With no deadline
    (``inf``) the optimum is ``f_min``.
    """
    needed = np.divide(work_ops, deadline_s)
    feasible = np.asarray(needed <= max_speed_ops_per_s)
    speed = np.minimum(np.maximum(needed, min_speed_ops_per_s), max_speed_ops_per_s)
    return np.asarray(speed, dtype=np.float64), feasible
