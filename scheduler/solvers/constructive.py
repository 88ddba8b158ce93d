"""One-pass heuristics: demands in decreasing rate order, each put where a ranking rule prefers.

The three baselines differ only in the ranking of a demand's candidate nodes: network delay (nearest site),
marginal objective (greedy) or resource utilisation of the node (least loaded).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from scheduler.model import Model
from scheduler.solvers.base import Budget, SolverOutput
from scheduler.solvers.state import LoadState

FloatArray = npt.NDArray[np.float64]
Ranking = Callable[[LoadState, int, npt.NDArray[np.int64]], FloatArray | None]


def construct(model: Model, ranking: Ranking, *, top_up: bool = True) -> tuple[LoadState, bool]:
    """Insert every demand (largest rate first) using ``ranking``; returns the state and whether all fit.

    With ``top_up`` idle replicas are added at the end for services below their ``min_replicas``.
    """
    state = LoadState(model)
    fitted = True
    for d in np.argsort(-model.demand_rate, kind="stable"):
        arcs = np.arange(model.arc_start[d], model.arc_start[d + 1])
        fitted &= state.insert(int(d), ranking(state, int(d), arcs))
    return state, fitted and (not top_up or state.top_up())


def output(state: LoadState, fitted: bool, what: str) -> SolverOutput:
    """Wrap a finished state; a partial assignment is reported as no placement."""
    if not fitted:
        return SolverOutput(None, None, f"{what}: some demand or minimum replica did not fit the free capacity")
    return SolverOutput(state.replicas.copy(), state.share.copy(), f"{what}: every demand placed")


def _nearest(state: LoadState, d: int, arcs: npt.NDArray[np.int64]) -> FloatArray:
    problem = state.model.problem
    return np.asarray(problem.delay_s[state.model.demand_group[d], state.model.arc_node[arcs]], dtype=np.float64)


def _marginal(state: LoadState, d: int, arcs: npt.NDArray[np.int64]) -> None:
    return None


def _least_loaded(state: LoadState, d: int, arcs: npt.NDArray[np.int64]) -> FloatArray:
    nodes = state.model.arc_node[arcs]
    with np.errstate(divide="ignore", invalid="ignore"):
        used = np.where(state.capacity[nodes] > 0, state.usage[nodes] / state.capacity[nodes], 0.0)
    # ties (empty nodes) go to the lower latency
    return np.asarray(used.max(axis=1) + 1e-6 * state.model.arc_latency_s[arcs], dtype=np.float64)


class NearestSite:
    """Each demand goes to the candidate node with the least network delay that still has room."""

    name = "nearest"

    def solve(self, model: Model, *, budget: Budget, rng: np.random.Generator) -> SolverOutput:
        """Construct in one pass (ignores ``budget`` and ``rng``: it is fast and deterministic)."""
        return output(*construct(model, _nearest), "nearest site")


class Greedy:
    """Each demand goes where it raises the objective least (arc cost plus any replica it forces open)."""

    name = "greedy"

    def solve(self, model: Model, *, budget: Budget, rng: np.random.Generator) -> SolverOutput:
        """Construct in one pass (deterministic)."""
        return output(*construct(model, _marginal), "greedy by marginal cost")


class LeastLoaded:
    """Each demand goes to the candidate node whose most-used resource is least used (load balancing)."""

    name = "least-loaded"

    def solve(self, model: Model, *, budget: Budget, rng: np.random.Generator) -> SolverOutput:
        """Construct in one pass (deterministic)."""
        return output(*construct(model, _least_loaded), "least loaded")
