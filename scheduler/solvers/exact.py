"""The exact solver: the MILP of :mod:`scheduler.solvers.milp` solved by HiGHS within a node budget (and, opt-in,
a wall-clock limit)."""

from __future__ import annotations

import numpy as np

from scheduler.model import Model
from scheduler.solvers.base import Budget, SolverOutput
from scheduler.solvers.milp import run_milp


class Milp:
    """HiGHS branch and bound; reports its incumbent, its proven dual bound and whether it proved optimality."""

    name = "milp"

    def __init__(self, mip_rel_gap: float = 1e-6) -> None:
        self.mip_rel_gap = mip_rel_gap

    def solve(self, model: Model, *, budget: Budget, rng: np.random.Generator) -> SolverOutput:
        """Solve to ``mip_rel_gap`` or until ``budget.milp_nodes`` nodes (HiGHS is deterministic; ``rng`` is unused),
        or until the opt-in ``budget.time_limit_s``."""
        outcome = run_milp(model, node_limit=budget.milp_nodes, time_limit_s=budget.time_limit_s,
                           mip_rel_gap=self.mip_rel_gap)
        return SolverOutput(outcome.replicas, outcome.arc_share, f"HiGHS: {outcome.message}", outcome.dual_bound,
                            outcome.optimal, outcome.error_bound)
