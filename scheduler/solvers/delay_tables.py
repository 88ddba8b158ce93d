"""Per-replica-count queueing tables for the MILP: tangent cuts of each pool's convex queueing term.

For a pool of service ``s`` on node ``n`` holding ``k`` replicas, the mean number waiting ``φ_k(λ) = f_s Lq(λ, μ,
k)`` (:func:`scheduler.model.pool_queue_length`; the objective charges it ``queue_weight`` per unit) is convex on
``[0, k C]`` (``C`` one replica's rate at the utilisation cap) with ``φ_k(0) = 0``. The MILP charges ``t ≥ a_j λ +
b_j z`` for tangents ``a_j λ + b_j`` of ``φ_k`` at points ``λ_j`` (``z`` the 0/1 choice of ``k``): the perspective
of an outer approximation, so the model never overstates the queueing and its dual bound stays a certified bound on
the exact problem. Between two tangent points the understatement is at most the chord minus the tangent at the
tangents' intersection, which :func:`build_tables` reports per row (the chord of a convex function lies above it,
the tangents below).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from offload.queueing import mmc_queue_length_slope_s
from scheduler.model import Model, pool_queue_length

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Tangent points per table on [0, k C], denser towards the cap where the curvature is: λ_j = k C (1 − (1 − j/m)²).
TANGENTS = 16


@dataclass(frozen=True, slots=True)
class DelayTables:
    """One row per (pool, replica count): ``pool`` indexes the MILP's pools, ``replicas`` is k, ``capacity_per_s``
    the load the row may carry (k C); ``points`` (R, m) the tangent loads, ``slope``/``intercept`` the cuts and
    ``error`` the largest understatement of ``φ_k`` by the cuts on ``[0, k C]`` (in requests waiting: multiply by
    ``queue_weight`` for objective units). The cuts are in requests too, which keeps the MILP well scaled."""

    pool: IntArray
    replicas: IntArray
    capacity_per_s: FloatArray
    points: FloatArray
    slope: FloatArray
    intercept: FloatArray
    error: FloatArray


def build_tables(model: Model, pool_service: IntArray, pool_node: IntArray, extra_points: FloatArray | None = None
                 ) -> DelayTables:
    """Tables for every pool and every replica count ``1 … max_per_node``; ``extra_points`` (R, e) adds tangents
    per row (NaN: none), e.g. at the loads of incumbents to tighten the approximation there."""
    counts = model.max_per_node[pool_service, pool_node]
    pool = np.repeat(np.arange(len(pool_service)), counts)
    k = (np.arange(len(pool)) - np.repeat(np.cumsum(counts) - counts, counts) + 1).astype(np.int64)
    s, n = pool_service[pool], pool_node[pool]
    capacity = k * model.replica_capacity[s, n]
    grid = 1.0 - (1.0 - np.arange(TANGENTS + 1) / TANGENTS) ** 2
    points = capacity[:, None] * grid[None, :]
    if extra_points is not None:
        extra = np.clip(np.where(np.isnan(extra_points), 0.0, extra_points), 0.0, capacity[:, None])
        points = np.sort(np.concatenate([points, extra], axis=1), axis=1)
    mu = model.service_rate_per_s[s, n][:, None]
    factor = model.queue_factor[s][:, None]
    value = pool_queue_length(mu, factor, points, k[:, None])
    slope = factor * mmc_queue_length_slope_s(points, mu, k[:, None])
    intercept = value - slope * points
    return DelayTables(pool, k, capacity, points, slope, intercept, _max_gap(points, value, slope))


def _max_gap(points: FloatArray, value: FloatArray, slope: FloatArray) -> FloatArray:
    """Per row, the largest chord-minus-tangent gap over consecutive tangent points (0 for coinciding points)."""
    x0, x1, v0, v1, s0, s1 = points[:, :-1], points[:, 1:], value[:, :-1], value[:, 1:], slope[:, :-1], slope[:, 1:]
    width = x1 - x0
    turn = s1 - s0
    with np.errstate(divide="ignore", invalid="ignore"):
        cross = np.where(turn > 0, (v0 - v1 + s1 * x1 - s0 * x0) / turn, x0)
        chord = np.where(width > 0, v0 + (v1 - v0) * (cross - x0) / width, v0)
    gap = np.where((width > 0) & (turn > 0), chord - (v0 + s0 * (cross - x0)), 0.0)
    return np.asarray(np.maximum(gap, 0.0).max(axis=1, initial=0.0), dtype=np.float64)
