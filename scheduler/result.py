"""What a solver returns: the placement, its objective broken down, a lower bound and the gap (SciPy style)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from scheduler.model import Model, pool_queue_length
from scheduler.problem import PlacementProblem

if TYPE_CHECKING:
    import pandas as pd

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class Status(Enum):
    """How a solver finished."""

    OPTIMAL = "optimal"  # proven optimal (gap within the solver's tolerance)
    FEASIBLE = "feasible"  # a feasible placement, optimality not proven
    FAILED = "failed"  # no feasible placement found (the input may still be feasible)


@dataclass(frozen=True, slots=True)
class Placement:
    """Replicas per (service, node) and, for each served (group, service), the share each node takes.

    ``replicas`` is (S, N); the assignment is four parallel arrays, one entry per (group, service, node) with a
    positive share; shares of one (group, service) sum to 1.
    """

    replicas: IntArray
    group: IntArray
    service: IntArray
    node: IntArray
    share: FloatArray


@dataclass(frozen=True, slots=True)
class ObjectiveTerms:
    """The objective and each of its terms, unweighted, plus the weighted total."""

    mean_latency_s: float
    compute_cost_per_s: float
    traffic_cost_per_s: float
    total: float


@dataclass(frozen=True, slots=True)
class PlacementResult:
    """One solver run, after :class:`scipy.optimize.OptimizeResult`.

    ``success`` is True when ``placement`` is feasible; ``lower_bound`` is a certified bound on the optimal
    total (the LP relaxation or better) and ``gap = (total − lower_bound) / total``. ``objective`` is always the
    exact objective (queueing by the exact convex formula); ``approximation_error`` is how much the solver's own
    objective understates it at this placement (the MILP's piecewise-linear queueing tables, measured at the
    placement's loads; 0 for solvers that evaluate exactly).
    """

    solver: str
    placement: Placement | None
    success: bool
    status: Status
    message: str
    objective: ObjectiveTerms | None
    lower_bound: float
    gap: float
    runtime_s: float
    approximation_error: float = 0.0

    def to_frame(self, problem: PlacementProblem) -> pd.DataFrame:
        """The assignment of ``problem``'s demand, one row per (group, service, node) with a positive share:
        ``group, service, node, share, rate_per_s`` (requests per second sent there), ``delay_s`` (one-way path
        delay from the group to the node) and ``replicas`` (of that service on that node). Empty without a
        placement.

        Examples
        --------
        >>> import numpy as np
        >>> from scheduler.instances import random_instance
        >>> from scheduler.solvers import solve
        >>> problem = random_instance(np.random.default_rng(1), 6, 2, 10).problem
        >>> frame = solve(problem, "greedy").to_frame(problem)
        >>> bool(frame.groupby(["group", "service"]).share.sum().round(9).eq(1.0).all())
        True
        """
        return _assignment_frame(self.placement, problem)

    def replica_frame(self, problem: PlacementProblem) -> pd.DataFrame:
        """Replicas per (service, node), one row per pair with at least one: ``service, node, replicas``."""
        import pandas as pd  # only here: solving needs numpy alone

        placement = self.placement
        if placement is None:
            return pd.DataFrame({"service": [], "node": [], "replicas": []})
        services, nodes = np.nonzero(placement.replicas)
        return pd.DataFrame({"service": [problem.services[s].name for s in services],
                             "node": [problem.node_names[n] for n in nodes],
                             "replicas": placement.replicas[services, nodes]})


def _assignment_frame(placement: Placement | None, problem: PlacementProblem) -> pd.DataFrame:
    import pandas as pd

    columns = ("group", "service", "node", "share", "rate_per_s", "delay_s", "replicas")
    if placement is None:
        return pd.DataFrame({column: [] for column in columns})
    g, s, n = placement.group, placement.service, placement.node
    return pd.DataFrame({
        "group": [problem.group_names[i] for i in g],
        "service": [problem.services[i].name for i in s],
        "node": [problem.node_names[i] for i in n],
        "share": placement.share,
        "rate_per_s": problem.rate_per_s[g, s] * placement.share,
        "delay_s": problem.delay_s[g, n],
        "replicas": placement.replicas[s, n],
    }, columns=list(columns))


def placement_from_arcs(model: Model, replicas: IntArray, arc_share: FloatArray) -> Placement:
    """Turn per-arc shares into a :class:`Placement` (entries below 1e-9 dropped)."""
    keep = arc_share > 1e-9
    demand = model.arc_demand[keep]
    return Placement(replicas=np.asarray(replicas, dtype=np.int64), group=model.demand_group[demand],
                     service=model.demand_service[demand], node=model.arc_node[keep], share=arc_share[keep])


def evaluate_arcs(model: Model, replicas: IntArray, arc_share: FloatArray) -> ObjectiveTerms:
    """The exact objective of a solver's solution, from the compiled arcs (the checker recomputes it apart): arc
    terms plus every pool's queueing term at its load and replica count."""
    rate = model.demand_rate[model.arc_demand] * arc_share
    total_rate = float(model.demand_rate.sum()) or 1.0
    load = model.pool_loads(arc_share)
    s, n = np.nonzero(load > 0)
    waiting = float(pool_queue_length(model.service_rate_per_s[s, n], model.queue_factor[s], load[s, n],
                                      replicas[s, n]).sum())
    latency = (float(rate @ model.arc_latency_s) + waiting) / total_rate
    traffic = float(model.arc_traffic_per_s @ arc_share)
    compute = float((replicas * model.problem.replica_price_per_s).sum())
    total = float(model.arc_cost @ arc_share + (replicas * model.replica_cost).sum()) + model.queue_weight * waiting
    return ObjectiveTerms(latency, compute, traffic, total)


def relative_gap(total: float, lower_bound: float) -> float:
    """``(total − bound) / |total|``, clipped at 0; ``inf`` without a finite bound, 0 when both are 0."""
    if not math.isfinite(lower_bound) or not math.isfinite(total):
        return math.inf
    if total == 0:
        return 0.0 if lower_bound <= 0 else math.inf
    return max(0.0, (total - lower_bound) / abs(total))
