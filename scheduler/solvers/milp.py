"""Exact placement by mixed-integer programming with SciPy's HiGHS, and the LP-relaxation lower bound.

Variables: integer replicas ``x[s, n]`` for every allowed pair where a replica fits, continuous shares ``y[a]``
in [0, 1] for every arc. Constraints: each demand's shares sum to 1; the rate sent to a pair stays within its
replicas' capacity at the target utilisation; the replicas on a node fit its CPU, GPU and memory; each service's
replica count stays within its bounds; and ``y[a] <= x[s, n]`` (valid because ``y <= 1`` and any use of a pair
needs one replica), which tightens the LP relaxation the way the strong formulation of facility location does.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array, csr_array, vstack

from offload.errors import InfeasibleError
from scheduler.model import Model

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_HIGHS_NO_NODE_LIMIT = 2**31 - 1  # HiGHS's default mip_max_nodes (kHighsIInf)


@dataclass(frozen=True, slots=True)
class Formulation:
    """The MILP in SciPy's form; ``pair_service``/``pair_node`` name the integer variables, arcs follow them."""

    cost: FloatArray
    integrality: IntArray
    bounds: Bounds
    constraints: LinearConstraint
    pair_service: IntArray
    pair_node: IntArray


def formulate(model: Model, *, strong: bool = True) -> Formulation:
    """Build the sparse constraint matrix for ``model`` (rows in the order listed in the module docstring)."""
    problem = model.problem
    pair_service, pair_node = np.nonzero(problem.allowed & (model.max_per_node > 0))
    n_pairs, n_arcs, n_demands = len(pair_service), len(model.arc_node), len(model.demand_rate)
    pair_id = np.full(model.max_per_node.shape, -1, dtype=np.int64)
    pair_id[pair_service, pair_node] = np.arange(n_pairs)
    arc_pair = pair_id[model.arc_service, model.arc_node]
    arcs = np.arange(n_arcs) + n_pairs
    blocks: list[csr_array] = []
    lower: list[FloatArray] = []
    upper: list[FloatArray] = []

    def add(rows: IntArray, cols: IntArray, vals: FloatArray, n_rows: int, lo: FloatArray, hi: FloatArray) -> None:
        blocks.append(csr_array(coo_array((vals, (rows, cols)), shape=(n_rows, n_pairs + n_arcs))))
        lower.append(lo)
        upper.append(hi)

    add(model.arc_demand, arcs, np.ones(n_arcs), n_demands, np.ones(n_demands), np.ones(n_demands))
    capacity = model.replica_capacity[pair_service, pair_node]
    add(np.concatenate([arc_pair, np.arange(n_pairs)]), np.concatenate([arcs, np.arange(n_pairs)]),
        np.concatenate([model.demand_rate[model.arc_demand], -capacity]), n_pairs,
        np.full(n_pairs, -np.inf), np.zeros(n_pairs))
    demand = problem.replica_demand
    for r in range(3):
        if demand[:, r].any():
            n_nodes = problem.capacity.shape[0]
            add(pair_node, np.arange(n_pairs), demand[pair_service, r], n_nodes, np.full(n_nodes, -np.inf),
                problem.capacity[:, r].astype(np.float64))
    n_services = len(problem.services)
    add(pair_service, np.arange(n_pairs), np.ones(n_pairs), n_services,
        problem.service_array("min_replicas"), problem.service_array("max_replicas"))
    if strong:
        add(np.concatenate([np.arange(n_arcs)] * 2), np.concatenate([arcs, arc_pair]),
            np.concatenate([np.ones(n_arcs), -np.ones(n_arcs)]), n_arcs, np.full(n_arcs, -np.inf), np.zeros(n_arcs))
    cost = np.concatenate([model.replica_cost[pair_service, pair_node], model.arc_cost])
    upper_bound = np.concatenate([model.max_per_node[pair_service, pair_node].astype(np.float64), np.ones(n_arcs)])
    return Formulation(
        cost=cost,
        integrality=np.concatenate([np.ones(n_pairs), np.zeros(n_arcs)]).astype(np.int64),
        bounds=Bounds(np.zeros(n_pairs + n_arcs), upper_bound),
        constraints=LinearConstraint(vstack(blocks, format="csr"), np.concatenate(lower), np.concatenate(upper)),
        pair_service=pair_service.astype(np.int64),
        pair_node=pair_node.astype(np.int64),
    )


@dataclass(frozen=True, slots=True)
class MilpOutcome:
    """HiGHS's answer: replicas and arc shares (None without an incumbent), its dual bound and status."""

    replicas: IntArray | None
    arc_share: FloatArray | None
    dual_bound: float
    optimal: bool
    message: str


def run_milp(model: Model, *, node_limit: int | None = None, time_limit_s: float | None = None,
             mip_rel_gap: float = 1e-6, relax: bool = False) -> MilpOutcome:
    """Solve the MILP (or its LP relaxation with ``relax``) to ``mip_rel_gap`` or until ``node_limit``
    branch-and-bound nodes; ``time_limit_s`` is an opt-in wall-clock limit on top (the only thing that makes the
    answer depend on the machine, so a stop by it is named in the message).

    Raises
    ------
    InfeasibleError
        HiGHS proves that no placement satisfies capacities, utilisation and replica bounds together.
    """
    form = formulate(model)
    integrality = np.zeros_like(form.integrality) if relax else form.integrality
    start = time.perf_counter()
    result = milp(form.cost, integrality=integrality, bounds=form.bounds, constraints=form.constraints,
                  options={"mip_rel_gap": mip_rel_gap, "presolve": True,  # HiGHS's own defaults mean "no limit"
                           "node_limit": _HIGHS_NO_NODE_LIMIT if node_limit is None else node_limit,
                           "time_limit": math.inf if time_limit_s is None else time_limit_s})
    elapsed_s = time.perf_counter() - start
    if result.status == 2:
        raise InfeasibleError("no placement fits: total node capacity (CPU/GPU/memory) cannot host enough "
                              "replicas for the offered load at the target utilisation within the replica bounds")
    bound = getattr(result, "mip_dual_bound", None)
    if relax:
        bound = result.fun if result.status == 0 else -math.inf
    if bound is None or not np.isfinite(bound):
        bound = -math.inf
    message = str(result.message)
    if time_limit_s is not None and result.status == 1 and "time limit" in message.lower():
        message += f" (the opt-in wall-clock limit of {time_limit_s:g} s: the result depends on the machine's load)"
    if result.x is None:
        return MilpOutcome(None, None, float(bound), False, f"{message} after {elapsed_s:.1f} s")
    n_pairs = len(form.pair_service)
    replicas = np.zeros(model.max_per_node.shape, dtype=np.int64)
    values = result.x[:n_pairs] if relax else np.round(result.x[:n_pairs])
    replicas[form.pair_service, form.pair_node] = np.ceil(values - 1e-9).astype(np.int64)
    share = np.clip(result.x[n_pairs:], 0.0, 1.0)
    return MilpOutcome(replicas, share, float(bound), result.status == 0, message)


def lp_lower_bound(model: Model) -> float:
    """Optimal value of the LP relaxation: a certified lower bound on every placement's total objective.

    Solved to optimality without a wall-clock limit (an LP is polynomial, and a bound cut short by the clock would
    make the reported gap depend on the machine's load).
    """
    return run_milp(model, relax=True).dual_bound
