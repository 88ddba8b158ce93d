"""Exact placement by mixed-integer programming with SciPy's HiGHS, and the LP-relaxation lower bound.

Variables, per *pool* (an allowed (service, node) pair where a replica fits) and each replica count ``k`` it may
hold (a *row* of :mod:`scheduler.solvers.delay_tables`): a 0/1 choice ``z``, the load ``λ`` it carries and its
queueing charge ``t`` (requests waiting); per pool a 0/1 ``o`` (open); and continuous shares ``y[a]`` in [0, 1] for
every arc. Constraints: each demand's shares sum to 1; a pool's arc load equals the loads of its rows; a row carries
at most ``k C z`` (the utilisation cap); a pool's rows sum to ``o`` (one replica count at most); the replicas ``Σ k
z`` on a node fit its CPU, GPU and memory; each service's replica count stays within its bounds; the bits per second
the arcs put on each capped link stay within its cap; ``t ≥ a_j λ + b_j z`` for every tangent of the row's convex
queueing term; and ``y[a] <= o`` of its pool (valid because ``y <= 1`` and any use of a pool needs a replica), which
tightens the LP relaxation the way the strong formulation of facility location does. The objective is replica cost +
arc cost + ``queue_weight Σ t``. Because the tangents never overstate the queueing, HiGHS's dual bound is a
certified bound on the exact problem; each incumbent's routing is then polished against the exact queueing, and
while its exact total is not within ``mip_rel_gap`` of the dual bound, tangents at its loads are added and the MILP
solved again (Kelley's cutting planes, a few rounds). HiGHS gets the costs divided by a lower bound on the total (so
that its absolute tolerances are relative ones) and runs without its primal heuristics (:data:`_NO_HEURISTICS`).
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import numpy.typing as npt
from scipy.optimize import Bounds, LinearConstraint, OptimizeResult, milp
from scipy.sparse import coo_array, csr_array, vstack

from offload.errors import InfeasibleError
from scheduler.model import Model
from scheduler.result import evaluate_arcs
from scheduler.solvers.delay_tables import DelayTables, build_tables, understatement

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_HIGHS_NO_NODE_LIMIT = 2**31 - 1  # HiGHS's default mip_max_nodes (kHighsIInf)
#: HiGHS's primal heuristics, off. They only look for incumbents (the dual bound, hence optimality, is untouched),
#: and on the queueing tables, whose replica counts nearly tie, their sub-MIPs (RINS, RENS, root reduced cost: each a
#: nested branch and bound, re-run at every root restart) took most of the time (benchmarks/bench_milp.py). Diving
#: and the rounding heuristics still find incumbents.
_NO_HEURISTICS = {"mip_heuristic_effort": 0.0, "mip_heuristic_run_rins": False, "mip_heuristic_run_rens": False,
                  "mip_heuristic_run_root_reduced_cost": False, "mip_heuristic_run_feasibility_jump": False}
#: MILP solves at most (the first, then rounds with tangents added at the incumbent's loads).
ROUNDS = 3
#: Routing LPs at most when polishing one incumbent's routing.
POLISH_STEPS = 30


@dataclass(frozen=True, slots=True)
class Formulation:
    """The MILP in SciPy's form. Columns: ``z`` (R), ``λ`` (R), ``t`` (R), ``o`` (pools), then one ``y`` per arc."""

    cost: FloatArray
    integrality: IntArray
    bounds: Bounds
    constraints: LinearConstraint
    pool_service: IntArray
    pool_node: IntArray
    tables: DelayTables
    has_links: bool = False
    objective_scale: float = 1.0


def pools(model: Model) -> tuple[IntArray, IntArray]:
    """(service, node) of every pool: allowed pairs where a replica fits."""
    service, node = np.nonzero(model.problem.allowed & (model.max_per_node > 0))
    return service.astype(np.int64), node.astype(np.int64)


def formulate(model: Model, *, strong: bool = True, extra: tuple[IntArray, FloatArray] | None = None
              ) -> Formulation:
    """Build the sparse constraint matrix for ``model`` (rows in the order listed in the module docstring), with
    tangents at ``extra`` (rows, loads) besides the tables' initial ones."""
    problem = model.problem
    pool_service, pool_node = pools(model)
    tables = build_tables(model, pool_service, pool_node, extra)
    n_pools, n_rows, n_arcs, n_demands = len(pool_service), len(tables.pool), len(model.arc_node), len(
        model.demand_rate)
    pool_id = np.full(model.max_per_node.shape, -1, dtype=np.int64)
    pool_id[pool_service, pool_node] = np.arange(n_pools)
    arc_pool = pool_id[model.arc_service, model.arc_node]
    z, lam, t = np.arange(n_rows), np.arange(n_rows) + n_rows, np.arange(n_rows) + 2 * n_rows
    opened = np.arange(n_pools) + 3 * n_rows
    arcs = np.arange(n_arcs) + 3 * n_rows + n_pools
    n_cols = 3 * n_rows + n_pools + n_arcs
    row_service, row_node = pool_service[tables.pool], pool_node[tables.pool]
    k = tables.replicas.astype(np.float64)
    blocks: list[csr_array] = []
    lower: list[FloatArray] = []
    upper: list[FloatArray] = []

    def add(rows: IntArray, cols: IntArray, vals: FloatArray, n: int, lo: FloatArray | float,
            hi: FloatArray | float) -> None:
        blocks.append(csr_array(coo_array((vals, (rows, cols)), shape=(n, n_cols))))
        lower.append(np.broadcast_to(np.asarray(lo, dtype=np.float64), (n,)))
        upper.append(np.broadcast_to(np.asarray(hi, dtype=np.float64), (n,)))

    add(model.arc_demand, arcs, np.ones(n_arcs), n_demands, 1.0, 1.0)
    add(np.concatenate([arc_pool, tables.pool]), np.concatenate([arcs, lam]),
        np.concatenate([model.demand_rate[model.arc_demand], -np.ones(n_rows)]), n_pools, 0.0, 0.0)
    add(np.concatenate([np.arange(n_rows)] * 2), np.concatenate([lam, z]),
        np.concatenate([np.ones(n_rows), -tables.capacity_per_s]), n_rows, -np.inf, 0.0)
    add(np.concatenate([tables.pool, np.arange(n_pools)]), np.concatenate([z, opened]),
        np.concatenate([np.ones(n_rows), -np.ones(n_pools)]), n_pools, 0.0, 0.0)
    demand = problem.replica_demand
    n_nodes = problem.capacity.shape[0]
    for r in range(3):
        if demand[:, r].any():
            add(row_node, z, k * demand[row_service, r], n_nodes, -np.inf, problem.capacity[:, r].astype(np.float64))
    add(row_service, z, k, len(problem.services), problem.service_array("min_replicas"),
        problem.service_array("max_replicas"))
    if model.link_capacity_bps.size:
        traffic = coo_array(model.arc_link_bits)
        add(traffic.col.astype(np.int64), arcs[traffic.row], traffic.data, model.link_capacity_bps.size, -np.inf,
            model.link_capacity_bps)
    n_cuts = len(tables.cut_row)
    cut = np.arange(n_cuts)
    add(np.concatenate([cut, cut, cut]), np.concatenate([lam[tables.cut_row], z[tables.cut_row],
                                                         t[tables.cut_row]]),
        np.concatenate([tables.slope, tables.intercept, -np.ones(n_cuts)]), n_cuts, -np.inf, 0.0)
    if strong:
        add(np.concatenate([np.arange(n_arcs)] * 2), np.concatenate([arcs, opened[arc_pool]]),
            np.concatenate([np.ones(n_arcs), -np.ones(n_arcs)]), n_arcs, -np.inf, 0.0)
    cost = np.concatenate([k * model.replica_cost[row_service, row_node], np.zeros(n_rows),
                           np.full(n_rows, model.queue_weight), np.zeros(n_pools), model.arc_cost])
    upper_bound = np.concatenate([np.ones(n_rows), tables.capacity_per_s, np.full(n_rows, np.inf),
                                  np.ones(n_pools), np.ones(n_arcs)])
    return Formulation(
        cost=cost,
        integrality=np.concatenate([np.ones(n_rows), np.zeros(2 * n_rows), np.ones(n_pools),
                                    np.zeros(n_arcs)]).astype(np.int64),
        bounds=Bounds(np.zeros(n_cols), upper_bound),
        constraints=LinearConstraint(vstack(blocks, format="csr"), np.concatenate(lower), np.concatenate(upper)),
        pool_service=pool_service,
        pool_node=pool_node,
        tables=tables,
        has_links=bool(model.link_capacity_bps.size),
        objective_scale=_objective_scale(model),
    )


def _objective_scale(model: Model) -> float:
    """A lower bound on every placement's total (:meth:`~scheduler.model.Model.cheapest_per_demand`), by which HiGHS
    gets the costs divided: its absolute tolerances (a node is pruned within about 1e-6 of the incumbent) would
    otherwise be loose against totals of order 0.01 and stop it short of ``mip_rel_gap``."""
    total = float(model.cheapest_per_demand().sum())
    return total if math.isfinite(total) and total > 0 else 1.0


@dataclass(frozen=True, slots=True)
class MilpOutcome:
    """HiGHS's answer: replicas and arc shares (None without an incumbent), its dual bound and status, and how much
    the queueing tables understate the exact queueing at the incumbent's loads (``error_bound``, objective units:
    the MILP's own value of the placement is its exact total minus this)."""

    replicas: IntArray | None
    arc_share: FloatArray | None
    dual_bound: float
    optimal: bool
    message: str
    error_bound: float = 0.0


def _highs(form: Formulation, *, relax: bool, node_limit: int | None = None, time_limit_s: float | None = None,
           mip_rel_gap: float = 1e-6, fixed: IntArray | None = None) -> tuple[OptimizeResult, float]:
    """HiGHS's result and its bound (the LP optimum when relaxed, else the MIP dual bound; ``-inf`` without).
    ``fixed`` (chosen rows) fixes every ``z`` and solves the remaining LP: the best routing for those replicas."""
    integrality = np.zeros_like(form.integrality) if relax or fixed is not None else form.integrality
    bounds = form.bounds
    if fixed is not None:
        z = np.zeros(len(form.tables.pool))
        z[fixed] = 1.0
        lower, upper = np.array(bounds.lb, dtype=np.float64), np.array(bounds.ub, dtype=np.float64)
        lower[:len(z)], upper[:len(z)] = z, z
        bounds = Bounds(lower, upper)
    options: dict[str, Any] = {"mip_rel_gap": mip_rel_gap, "presolve": True,  # HiGHS's defaults mean "no limit"
                               "node_limit": _HIGHS_NO_NODE_LIMIT if node_limit is None else node_limit,
                               "time_limit": math.inf if time_limit_s is None else time_limit_s}
    if integrality.any():
        options |= _NO_HEURISTICS
    with warnings.catch_warnings():  # SciPy passes the heuristics' switches on to HiGHS, warning it does not know them
        warnings.filterwarnings("ignore", "Unrecognized options detected", RuntimeWarning)
        result = milp(form.cost / form.objective_scale, integrality=integrality, bounds=bounds,
                      constraints=form.constraints, options=cast("Any", options))  # beyond SciPy's typed options
    if result.status == 2 and fixed is None:
        raise InfeasibleError("no placement fits: total node capacity (CPU/GPU/memory) cannot host enough "
                              "replicas for the offered load at the target utilisation within the replica bounds"
                              + (" and the link caps" if form.has_links else ""))
    bound = (result.fun if result.status == 0 else None) if relax else getattr(result, "mip_dual_bound", None)
    return result, float(bound) * form.objective_scale if bound is not None and np.isfinite(bound) else -math.inf


Cuts = tuple[IntArray, FloatArray]


def _with_tangents(extra: Cuts | None, rows: IntArray, load: FloatArray) -> Cuts:
    """``extra`` (rows, loads) with tangents at ``load`` of ``rows`` added."""
    if extra is None:
        return rows, load[rows]
    return np.concatenate([extra[0], rows]), np.concatenate([extra[1], load[rows]])


def _polish(model: Model, form: Formulation, chosen: IntArray, x: FloatArray, extra: Cuts | None,
            tolerance: float) -> tuple[IntArray, FloatArray, FloatArray, Cuts | None, float]:
    """Best routing for the chosen replicas: LPs with tangents added at the loads (Kelley's cutting planes) until
    the exact objective is within ``tolerance`` (relative) of the LP's. Returns replicas, shares, row loads, the
    tangents added and how far the last LP's queueing charge falls below the exact one at its loads (objective
    units)."""
    replicas, share, _, load = _decode(model, form, x)
    for _ in range(POLISH_STEPS):
        exact = evaluate_arcs(model, replicas, share).total
        if exact - float(form.cost @ x) <= tolerance * max(abs(exact), 1e-12):
            break
        extra = _with_tangents(extra, chosen, load)
        tighter = formulate(model, extra=extra)
        result, _ = _highs(tighter, relax=False, fixed=chosen)
        if result.x is None:
            break
        form, x = tighter, result.x
        replicas, share, _, load = _decode(model, form, x)
    error = model.queue_weight * float(understatement(form.tables, chosen, load[chosen]).sum())
    return replicas, share, load, extra, error


def run_milp(model: Model, *, node_limit: int | None = None, time_limit_s: float | None = None,
             mip_rel_gap: float = 1e-6, relax: bool = False) -> MilpOutcome:
    """Solve the MILP (or its LP relaxation with ``relax``) to ``mip_rel_gap`` or until ``node_limit``
    branch-and-bound nodes per round; ``time_limit_s`` is an opt-in wall-clock limit per round on top (the only
    thing that makes the answer depend on the machine, so a stop by it is named in the message).

    Each round solves the MILP, then the best routing for its replicas to within ``mip_rel_gap`` of the exact
    queueing (:func:`_polish`); while the exact total is not within ``mip_rel_gap`` of the best dual bound, the next
    round adds tangents at the incumbent's loads (at most :data:`ROUNDS` rounds).

    Raises
    ------
    InfeasibleError
        HiGHS proves that no placement satisfies capacities, utilisation and replica bounds together.
    """
    start = time.perf_counter()
    form = formulate(model)
    if relax:
        return MilpOutcome(None, None, _highs(form, relax=True)[1], False, "LP relaxation")
    extra: Cuts | None = None
    best_bound = -math.inf
    best: tuple[IntArray, FloatArray, float, float] | None = None
    message = ""
    rounds = 0
    while rounds < ROUNDS:
        rounds += 1
        result, bound = _highs(form, relax=False, node_limit=node_limit, time_limit_s=time_limit_s,
                               mip_rel_gap=mip_rel_gap)
        best_bound = max(best_bound, bound)
        message = str(result.message)
        if time_limit_s is not None and result.status == 1 and "time limit" in message.lower():
            message += (f" (the opt-in wall-clock limit of {time_limit_s:g} s: the result depends on the machine's "
                        "load)")
        if result.x is None:
            break
        chosen = _decode(model, form, result.x)[2]
        replicas, share, load, extra, error = _polish(model, form, chosen, result.x, extra, mip_rel_gap)
        exact = evaluate_arcs(model, replicas, share).total
        if best is None or exact < best[2]:
            best = (replicas, share, exact, error)
        if best[2] - best_bound <= mip_rel_gap * max(abs(best[2]), 1e-12) or result.status != 0:
            break
        extra = _with_tangents(extra, chosen, load)
        form = formulate(model, extra=extra)
    if best is None:
        return MilpOutcome(None, None, best_bound, False, f"{message} after {time.perf_counter() - start:.1f} s")
    replicas, share, exact, error_bound = best
    optimal = exact - best_bound <= mip_rel_gap * max(abs(exact), 1e-12)
    return MilpOutcome(replicas, share, best_bound, optimal,
                       f"{message}; {rounds} round(s) of queueing tables (tangents {error_bound:.3g} below the exact "
                       f"queueing at the chosen replicas' loads), exact routing polished", error_bound)


def _decode(model: Model, form: Formulation, x: FloatArray) -> tuple[IntArray, FloatArray, IntArray, FloatArray]:
    """Replicas (S, N), arc shares, the chosen rows and every row's load from HiGHS's solution vector."""
    n_rows = len(form.tables.pool)
    chosen = np.flatnonzero(np.round(x[:n_rows]) > 0)
    replicas = np.zeros(model.max_per_node.shape, dtype=np.int64)
    rows = form.tables.pool[chosen]
    replicas[form.pool_service[rows], form.pool_node[rows]] = form.tables.replicas[chosen]
    share = np.clip(x[3 * n_rows + len(form.pool_service):], 0.0, 1.0)
    return replicas, share, chosen, np.asarray(x[n_rows:2 * n_rows], dtype=np.float64)


def lp_lower_bound(model: Model) -> float:
    """Optimal value of the LP relaxation: a certified lower bound on every placement's total objective.

    Solved to optimality without a wall-clock limit (an LP is polynomial, and a bound cut short by the clock would
    make the reported gap depend on the machine's load).
    """
    return run_milp(model, relax=True).dual_bound
