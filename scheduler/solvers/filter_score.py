"""The placement a Kubernetes cluster would make: deployments sized for a utilisation target, their replicas placed
one at a time by filter and score (:mod:`scheduler.scoring`), requests spread over the replicas they can reach.

Services go in decreasing order of their total request rate. Each first gets replicas one by one until it has
``min_replicas`` and their summed service rate at :data:`SIZING_UTILISATION` (the 50 % CPU target of the
Kubernetes HPA walkthrough; the problem's utilisation cap when that is lower) covers its total rate, as a
platform engineer sizes a deployment. The scheduler puts each replica among the nodes that are allowed, fit it and
can serve some user group within the SLO (the node affinity a deployment would declare). Then each user group,
largest first, is spread over the replicas it can reach in proportion to their service rates (a Service's
endpoints), each pool taking what its room allows (utilisation cap, capped links); a group that still does not fit
gets one more replica, scheduled among the nodes that can serve it, until it fits or no node passes the filter.

The scheduler optimises fit and spread, not latency or cost: this is the baseline the optimising solvers are
measured against (``benchmarks/bench_place.py``).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from scheduler.model import Model
from scheduler.scoring import Scoring, schedule
from scheduler.solvers.base import Budget, SolverOutput
from scheduler.solvers.state import link_room

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_EPS = 1e-9
#: The utilisation a deployment is sized for (capped at the problem's target utilisation).
SIZING_UTILISATION = 0.5


class _Cluster:
    """Replicas, free resources, pool loads, arc shares and link loads while the scheduler places and routes."""

    def __init__(self, model: Model, scoring: Scoring) -> None:
        problem = model.problem
        self.model = model
        self.scoring = scoring
        self.demand = problem.replica_demand
        self.capacity = problem.capacity
        self.free = problem.capacity.copy()
        self.replicas = np.zeros(model.replica_capacity.shape, dtype=np.int64)
        self.load = np.zeros(model.replica_capacity.shape)
        self.share = np.zeros(len(model.arc_node))
        self.link_load = np.zeros(model.link_capacity_bps.size)
        self.max_total = np.array([s.max_replicas for s in problem.services])
        self.hostable = problem.allowed & (problem.replica_speed_ops_per_s > 0)

    def add_replica(self, s: int, eligible: BoolArray) -> bool:
        """Schedule one replica of service ``s`` among the ``eligible`` nodes; False when none passes the filter."""
        if self.replicas[s].sum() >= self.max_total[s]:
            return False
        node = schedule(self.scoring, self.capacity, self.free, self.demand[s], self.replicas[s],
                        eligible=eligible & self.hostable[s])
        if node is None:
            return False
        self.replicas[s, node] += 1
        self.free[node] -= self.demand[s]
        return True

    def room(self, s: int, arcs: IntArray) -> FloatArray:
        """Request rate each arc of service ``s`` could still take: pool room and link room."""
        nodes = self.model.arc_node[arcs]
        pool = self.replicas[s, nodes] * self.model.replica_capacity[s, nodes] - self.load[s, nodes]
        links = link_room(self.model, self.link_load, arcs)
        return np.asarray(np.minimum(np.maximum(pool, 0.0), links), dtype=np.float64)

    def send(self, arc: int, rate_per_s: float) -> None:
        """Route ``rate_per_s`` of the arc's demand over it."""
        model = self.model
        d, n = int(model.arc_demand[arc]), int(model.arc_node[arc])
        fraction = rate_per_s / float(model.demand_rate[d])
        self.share[arc] += fraction
        self.load[model.demand_service[d], n] += rate_per_s
        links = model.arc_link_bits
        lo, hi = int(links.indptr[arc]), int(links.indptr[arc + 1])
        self.link_load[links.indices[lo:hi]] += fraction * links.data[lo:hi]

    def route(self, d: int) -> bool:
        """Route demand ``d`` over the replicas it can reach in proportion to their service rates (a Service's
        endpoints, each taken as its room allows), adding replicas while it does not fit."""
        model = self.model
        s = int(model.demand_service[d])
        rate = float(model.demand_rate[d])
        arcs = np.arange(model.arc_start[d], model.arc_start[d + 1])
        nodes = model.arc_node[arcs]
        remaining = rate
        while True:
            for _ in range(len(arcs)):
                open_ = self.room(s, arcs) > _EPS * rate
                weight = self.replicas[s, nodes] * model.service_rate_per_s[s, nodes] * open_
                if not weight.any():
                    break
                target = remaining * weight / weight.sum()
                for k in np.flatnonzero(weight):
                    amount = min(float(target[k]), float(self.room(s, arcs[k:k + 1])[0]))
                    self.send(int(arcs[k]), amount)
                    remaining -= amount
                if remaining <= _EPS * rate:
                    return True
            reachable = np.zeros(len(self.free), dtype=np.bool_)
            reachable[nodes[link_room(self.model, self.link_load, arcs) > _EPS * rate]] = True
            if not self.add_replica(s, reachable):
                return False


class FilterScore:
    """Kubernetes' default scheduling (:class:`~scheduler.scoring.Scoring`: least allocated and spread; there are no
    images in a placement problem) of deployments sized for ``utilisation``, requests spread over the replicas."""

    name = "filter-score"

    def __init__(self, scoring: Scoring | None = None, utilisation: float = SIZING_UTILISATION) -> None:
        self.scoring = scoring or Scoring()
        self.utilisation = utilisation

    def solve(self, model: Model, *, budget: Budget, rng: np.random.Generator) -> SolverOutput:
        """Place and route in one pass (ignores ``budget`` and ``rng``: it is deterministic)."""
        cluster = _Cluster(model, self.scoring)
        problem = model.problem
        totals = np.bincount(model.demand_service, weights=model.demand_rate, minlength=len(problem.services))
        utilisation = min(self.utilisation, problem.target_utilisation)
        for s in np.argsort(-totals, kind="stable").tolist():
            service = problem.services[s]
            demands = np.flatnonzero(model.demand_service == s)
            demands = demands[np.argsort(-model.demand_rate[demands], kind="stable")]
            reach = np.zeros(len(problem.node_names), dtype=np.bool_)
            reach[model.arc_node[model.arc_service == s]] = True
            if not demands.size:
                reach[:] = True
            while cluster.replicas[s].sum() < service.min_replicas or utilisation * float(
                    (cluster.replicas[s] * model.service_rate_per_s[s]).sum()) < totals[s] * (1 - _EPS):
                if not cluster.add_replica(s, reach):
                    break
            if cluster.replicas[s].sum() < service.min_replicas:
                return SolverOutput(None, None, f"filter-score: no node passes the filter for replica "
                                    f"{int(cluster.replicas[s].sum()) + 1} of {service.name} (min_replicas "
                                    f"{service.min_replicas})")
            for d in demands.tolist():
                if not cluster.route(d):
                    return SolverOutput(None, None, f"filter-score: group {problem.group_names[model.demand_group[d]]}"
                                        f" does not fit the replicas of {service.name} and no node that can serve it "
                                        "passes the filter")
        return SolverOutput(cluster.replicas.copy(), cluster.share.copy(),
                            f"filter-score ({self.scoring.strategy}): every demand placed")
