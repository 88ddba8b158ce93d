"""Placement solvers behind one protocol and one registry; :func:`solve` runs one and evaluates its answer."""

from __future__ import annotations

import math
import time

import numpy as np

from offload.errors import ParameterError
from scheduler.model import Model, compile_model
from scheduler.problem import PlacementProblem
from scheduler.result import PlacementResult, Status, evaluate_arcs, placement_from_arcs, relative_gap
from scheduler.solvers.base import Budget, Solver, SolverOutput
from scheduler.solvers.constructive import Greedy, LeastLoaded, NearestSite
from scheduler.solvers.exact import Milp
from scheduler.solvers.filter_score import FilterScore
from scheduler.solvers.lagrangian import lagrangian_bound
from scheduler.solvers.local_search import LocalSearch
from scheduler.solvers.milp import lp_lower_bound

#: Every solver by name. A new solver is one class and one line here.
SOLVERS: dict[str, type[Solver]] = {
    "nearest": NearestSite,
    "greedy": Greedy,
    "least-loaded": LeastLoaded,
    "local-search": LocalSearch,
    "milp": Milp,
    "filter-score": FilterScore,
}


def get_solver(name: str) -> Solver:
    """A fresh solver by registry name; unknown names list the valid ones."""
    if name not in SOLVERS:
        raise ParameterError("policy", name, f"unknown placement solver; valid: {', '.join(SOLVERS)}")
    return SOLVERS[name]()


def solve(
    problem: PlacementProblem | Model,
    policy: str,
    *,
    budget: Budget | None = None,
    rng: np.random.Generator | None = None,
    lower_bound: float | None = None,
) -> PlacementResult:
    """Run solver ``policy`` and return its evaluated result with a certified lower bound and gap.

    The bound is the solver's own (HiGHS's dual bound) or, when better or the solver has none,
    ``lower_bound`` (by default :func:`certified_bound`: LP relaxation or the Lagrangian bound, whichever is higher).

    Parameters
    ----------
    problem : PlacementProblem or Model
        Pass a compiled :class:`~scheduler.model.Model` to share the compilation between several solvers.
    budget : Budget, optional
        How much work the solver may do (default :class:`Budget()`): counted in evaluations and nodes, so the result
        does not depend on the machine unless ``budget.time_limit_s`` opts the MILP into a wall-clock limit.
    rng : numpy.random.Generator, optional
        For randomised solvers; defaults to ``default_rng(0)`` so the same input gives the same output.
    lower_bound : float, optional
        A bound already computed for this problem (:func:`certified_bound`); computed here when omitted.

    Raises
    ------
    InfeasibleError
        The input cannot be placed (a demand with no admissible node, or capacity proven too small).
    """
    solver = get_solver(policy)
    model = problem if isinstance(problem, Model) else compile_model(problem)
    start = time.perf_counter()
    out: SolverOutput = solver.solve(model, budget=budget or Budget(), rng=rng or np.random.default_rng(0))
    runtime = time.perf_counter() - start
    terms = None if out.replicas is None or out.arc_share is None else evaluate_arcs(model, out.replicas,
                                                                                       out.arc_share)
    bound = out.bound
    if not out.optimal:
        if lower_bound is None:
            lower_bound = certified_bound(model, terms.total if terms else math.inf)
        bound = max(bound, lower_bound)
    if out.replicas is None or out.arc_share is None or terms is None:
        return PlacementResult(solver.name, None, False, Status.FAILED, out.message, None, bound, math.inf, runtime)
    status = Status.OPTIMAL if out.optimal else Status.FEASIBLE
    return PlacementResult(solver.name, placement_from_arcs(model, out.replicas, out.arc_share), True, status,
                           out.message, terms, bound, relative_gap(terms.total, bound), runtime,
                           out.approximation_error)


def certified_bound(model: Model, upper_bound: float = math.inf, *, lagrangian_iterations: int = 300) -> float:
    """The larger of the LP relaxation and the Lagrangian bound: a certified lower bound on the optimum.

    ``upper_bound`` (any placement's total) steers the Lagrangian step size; without a finite one the greedy
    placement's total is used. Both bounds stop on work (optimality, iterations), not on the clock.
    """
    if not math.isfinite(upper_bound):
        greedy = Greedy().solve(model, budget=Budget(), rng=np.random.default_rng(0))
        upper_bound = (evaluate_arcs(model, greedy.replicas, greedy.arc_share).total
                       if greedy.replicas is not None and greedy.arc_share is not None else math.inf)
    lp = lp_lower_bound(model)
    if not math.isfinite(upper_bound):
        return lp
    return max(lp, lagrangian_bound(model, upper_bound, iterations=lagrangian_iterations))


__all__ = ["SOLVERS", "Budget", "Solver", "SolverOutput", "certified_bound", "get_solver", "lagrangian_bound",
           "lp_lower_bound", "solve"]
