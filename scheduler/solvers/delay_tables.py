"""Per-replica-count queueing tables for the MILP: tangent cuts of each pool's convex queueing term.

For a pool of service ``s`` on node ``n`` holding ``k`` replicas, the mean number waiting ``φ_k(λ) = f_s Lq(λ, μ,
k)`` (:func:`scheduler.model.pool_queue_length`; the objective charges it ``queue_weight`` per unit) is convex on
``[0, k C]`` (``C`` one replica's rate at the utilisation cap) with ``φ_k(0) = 0``. The MILP charges ``t ≥ a_j λ +
b_j z`` for tangents ``a_j λ + b_j`` of ``φ_k`` at points ``λ_j`` (``z`` the 0/1 choice of ``k``): the perspective
of an outer approximation, so the model never overstates the queueing and its dual bound stays a certified bound on
the exact problem.

The tables start coarse (:data:`TANGENTS` points per row) and grow lazily: the MILP adds tangents only at the loads
its solutions put on their chosen rows (Kelley's cutting planes), which is where the approximation matters.
:func:`understatement` measures, at given loads, how far the cuts fall below ``φ_k`` (zero at a tangent point).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from offload.queueing import mmc_queue_length_slope_s
from scheduler.model import Model, pool_queue_length

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Tangent points per table on [0, k C] before any is added lazily, denser towards the cap where the curvature is:
#: λ_j = k C (1 − (1 − j/m)²), j = 1 … m (the tangent at 0 is ``t >= 0``, already a bound).
TANGENTS = 16


@dataclass(frozen=True, slots=True)
class DelayTables:
    """One row per (pool, replica count): ``pool`` indexes the MILP's pools, ``replicas`` is k, ``capacity_per_s``
    the load the row may carry (k C), ``service_rate_per_s`` and ``factor`` one replica's μ and the Allen–Cunneen
    factor of its service. The cuts are flat arrays sorted by row then load: cut ``j`` of row ``cut_row[j]`` is the
    tangent at ``cut_load[j]`` with ``slope``/``intercept``, in requests waiting (multiply by ``queue_weight`` for
    objective units), which keeps the MILP well scaled."""

    pool: IntArray
    replicas: IntArray
    capacity_per_s: FloatArray
    service_rate_per_s: FloatArray
    factor: FloatArray
    cut_row: IntArray
    cut_load: FloatArray
    slope: FloatArray
    intercept: FloatArray

    def exact(self, rows: IntArray, load: FloatArray) -> FloatArray:
        """``φ_k(λ)`` of ``rows`` at ``load`` (requests waiting)."""
        return pool_queue_length(self.service_rate_per_s[rows], self.factor[rows], load, self.replicas[rows])


def build_tables(model: Model, pool_service: IntArray, pool_node: IntArray,
                 extra: tuple[IntArray, FloatArray] | None = None) -> DelayTables:
    """Tables for every pool and every replica count ``1 … max_per_node``: :data:`TANGENTS` cuts per row, plus
    tangents at ``extra`` (rows, loads; clipped to ``[0, k C]``, repeated points dropped)."""
    counts = model.max_per_node[pool_service, pool_node]
    pool = np.repeat(np.arange(len(pool_service)), counts)
    k = (np.arange(len(pool)) - np.repeat(np.cumsum(counts) - counts, counts) + 1).astype(np.int64)
    s, n = pool_service[pool], pool_node[pool]
    capacity = k * model.replica_capacity[s, n]
    grid = 1.0 - (1.0 - np.arange(1, TANGENTS + 1) / TANGENTS) ** 2
    rows = np.repeat(np.arange(len(pool), dtype=np.int64), TANGENTS)
    points = (capacity[:, None] * grid[None, :]).ravel()
    if extra is not None:
        rows = np.concatenate([rows, extra[0]])
        points = np.concatenate([points, np.clip(extra[1], 0.0, capacity[extra[0]])])
    rows, points = np.unique(np.stack([rows.astype(np.float64), points]), axis=1)
    rows = rows.astype(np.int64)
    mu, factor = model.service_rate_per_s[s, n], model.queue_factor[s]
    value = pool_queue_length(mu[rows], factor[rows], points, k[rows])
    slope = factor[rows] * mmc_queue_length_slope_s(points, mu[rows], k[rows])
    return DelayTables(pool, k, capacity, mu, factor, rows, points, slope, value - slope * points)


def understatement(tables: DelayTables, rows: IntArray, load: FloatArray) -> FloatArray:
    """Per row of ``rows``, ``φ_k(λ)`` minus the largest of its cuts at ``load`` (requests waiting, >= 0): how far
    the MILP's queueing charge falls below the exact one there."""
    position = np.full(len(tables.pool), -1, dtype=np.int64)
    position[rows] = np.arange(len(rows))
    mine = position[tables.cut_row]
    take = mine >= 0
    cut = np.zeros(len(rows))  # t >= 0 is a cut too
    np.maximum.at(cut, mine[take], tables.slope[take] * load[mine[take]] + tables.intercept[take])
    return np.asarray(np.maximum(tables.exact(rows, load) - cut, 0.0), dtype=np.float64)
