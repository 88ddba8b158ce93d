"""A fast certified lower bound by Lagrangian relaxation of the "every demand is served" constraints.

With multipliers ``u[d]`` on ``sum_a y[a] = 1`` and node capacities and replica bounds dropped, the problem splits
into one small problem per (service, node) pair: choose ``k`` replicas and fill their capacity ``k C`` with the
arcs of best reduced profit ``u[d] − c[a]`` per request (a fractional knapsack, solved by sorting). For any ``u``,

    L(u) = sum_d u[d] + sum_pairs min_k ( f k − V(k C) )

is a lower bound on the optimum (Fisher, "The Lagrangian relaxation method for solving integer programming
problems", Management Science 27(1), 1981). Because ``k`` stays integral inside the pairs, the best ``L`` can beat
the LP relaxation. ``u`` is improved by subgradient steps (Held, Wolfe & Crowder, Math. Programming 6, 1974) with
Polyak's step size towards a known upper bound.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from scheduler.model import Model

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _dual_value(model: Model, u: FloatArray, arc_pair: IntArray) -> tuple[float, FloatArray]:
    """``L(u)`` and the total share each demand receives in the relaxed optimum (for the subgradient)."""
    profit = u[model.arc_demand] - model.arc_cost
    keep = np.flatnonzero(profit > 0)
    served = np.zeros(len(u))
    if keep.size == 0:
        return float(u.sum()), served
    rate = model.demand_rate[model.arc_demand[keep]]
    pair = arc_pair[keep]
    order = np.lexsort((-profit[keep] / rate, pair))
    keep, pair, rate, gain = keep[order], pair[order], rate[order], profit[keep][order]
    starts = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]])
    ends = np.r_[starts[1:], len(pair)]
    pairs = pair[starts]
    cum_rate, cum_gain = np.cumsum(rate), np.cumsum(gain)
    base_rate = np.r_[0.0, cum_rate][starts]
    base_gain = np.r_[0.0, cum_gain][starts]
    capacity = model.replica_capacity.ravel()[pairs]
    fixed = model.replica_cost.ravel()[pairs]
    total = cum_rate[ends - 1] - base_rate
    k_max = np.minimum(np.ceil(total / capacity), model.max_per_node.ravel()[pairs]).astype(np.int64)
    # one query per (pair, k) for k = 1..k_max: value f k − V(k C)
    q_pair = np.repeat(np.arange(len(pairs)), k_max)
    q_k = np.arange(len(q_pair)) - np.repeat(np.cumsum(k_max) - k_max, k_max) + 1
    cap = q_k * capacity[q_pair]
    j = np.searchsorted(cum_rate, base_rate[q_pair] + cap, side="right")
    j = np.minimum(j, ends[q_pair])  # first arc of the pair not fully used
    full_gain = np.r_[0.0, cum_gain][j] - base_gain[q_pair]
    used = np.r_[0.0, cum_rate][j] - base_rate[q_pair]
    inside = j < ends[q_pair]
    jj = np.minimum(j, len(gain) - 1)
    partial = np.where(inside, (cap - used) * gain[jj] / rate[jj], 0.0)
    value = fixed[q_pair] * q_k - (full_gain + partial)
    best_value = np.zeros(len(pairs))
    best_k = np.zeros(len(pairs), dtype=np.int64)
    if len(value):
        order_q = np.lexsort((value, q_pair))
        first = order_q[np.r_[True, q_pair[order_q][1:] != q_pair[order_q][:-1]]]
        better = value[first] < 0
        best_value[q_pair[first[better]]] = value[first[better]]
        best_k[q_pair[first[better]]] = q_k[first[better]]
    # shares in the relaxed optimum: fill k* C in profit order
    arc_group = np.repeat(np.arange(len(pairs)), ends - starts)
    before = cum_rate - rate - base_rate[arc_group]
    share = np.clip((best_k[arc_group] * capacity[arc_group] - before) / rate, 0.0, 1.0)
    served += np.bincount(model.arc_demand[keep], weights=share, minlength=len(u))
    return float(u.sum() + best_value.sum()), served


def lagrangian_bound(model: Model, upper_bound: float, *, iterations: int = 300) -> float:
    """Best ``L(u)`` found within ``iterations`` subgradient steps; a certified lower bound on every placement's
    total objective. It stops on the step count, a vanishing subgradient or step, never on the clock.

    Parameters
    ----------
    upper_bound : float
        The total of some known placement (e.g. greedy), used for Polyak's step size.
    iterations : int
        Subgradient steps at most.
    """
    arc_pair = model.arc_service * model.replica_capacity.shape[1] + model.arc_node
    u = model.cheapest_per_demand()  # start from each demand's cheapest cost with its fractional replica cost
    best, _ = _dual_value(model, u, arc_pair)
    step, stall = 2.0, 0
    for _ in range(iterations):
        value, served = _dual_value(model, u, arc_pair)
        if value > best + 1e-12 * abs(best):
            best, stall = value, 0
        else:
            stall += 1
            if stall >= 8:
                step, stall = step / 2.0, 0
        gradient = 1.0 - served
        norm = float(gradient @ gradient)
        if norm < 1e-18 or step < 1e-4:
            break
        u = u + step * max(upper_bound - value, 1e-12 * abs(upper_bound)) / norm * gradient
    return best
