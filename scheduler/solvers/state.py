"""Incremental placement state shared by the heuristics: loads, replicas and node usage under arc assignments.

Replicas always equal what the load needs, ``ceil(load / replica_capacity)``; :meth:`LoadState.top_up` adds the
idle replicas a service's ``min_replicas`` asks for at the end.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from scheduler.model import Model

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_EPS = 1e-9


class LoadState:
    """Mutable assignment of demand shares to arcs with the replica and resource bookkeeping it implies."""

    def __init__(self, model: Model) -> None:
        self.model = model
        problem = model.problem
        self.demand = problem.replica_demand  # (S, 3)
        self.capacity = problem.capacity  # (N, 3)
        self.max_total = problem.service_array("max_replicas")
        self.load = np.zeros(model.replica_capacity.shape)
        self.replicas = np.zeros(model.replica_capacity.shape, dtype=np.int64)
        self.usage = np.zeros(problem.capacity.shape)
        self.total = np.zeros(len(problem.services))
        self.share = np.zeros(len(model.arc_node))
        self.cost = 0.0

    @classmethod
    def from_shares(cls, model: Model, share: FloatArray) -> LoadState:
        """A state holding exactly the given per-arc shares (replicas as the loads need)."""
        state = cls(model)
        for arc in np.flatnonzero(share > 0):
            state.move(int(arc), float(share[arc]))
        return state

    def arcs(self, d: int) -> range:
        """Arc indices of demand ``d``."""
        return range(int(self.model.arc_start[d]), int(self.model.arc_start[d + 1]))

    def _needed(self, s: int, nodes: IntArray, load: FloatArray) -> IntArray:
        ratio = load / self.model.replica_capacity[s, nodes]
        return np.asarray(np.maximum(np.ceil(ratio - _EPS), 0), dtype=np.int64)

    def room(self, s: int, nodes: IntArray) -> FloatArray:
        """Extra rate of service ``s`` each node could take, opening as many replicas as still fit there."""
        dem = self.demand[s]
        free = self.capacity[nodes] - self.usage[nodes]
        with np.errstate(divide="ignore", invalid="ignore"):
            fit = np.where(dem > 0, np.floor(free / np.where(dem > 0, dem, 1.0) + _EPS), np.inf).min(axis=1)
        limit = np.minimum(fit, self.model.max_per_node[s, nodes] - self.replicas[s, nodes])
        limit = np.minimum(limit, self.max_total[s] - self.total[s])
        most = (self.replicas[s, nodes] + np.maximum(limit, 0)) * self.model.replica_capacity[s, nodes]
        return np.asarray(np.maximum(most - self.load[s, nodes], 0.0), dtype=np.float64)

    def marginal(self, s: int, arcs: IntArray, amount: float) -> FloatArray:
        """Objective increase of sending ``amount`` of a demand's rate (fraction ``amount/rate``) over ``arcs``."""
        nodes = self.model.arc_node[arcs]
        added = self._needed(s, nodes, self.load[s, nodes] + amount) - self.replicas[s, nodes]
        rate = self.model.demand_rate[self.model.arc_demand[arcs]]
        return np.asarray(self.model.arc_cost[arcs] * (amount / rate) + added * self.model.replica_cost[s, nodes],
                          dtype=np.float64)

    def move(self, arc: int, fraction: float) -> float:
        """Add ``fraction`` (negative removes) of the arc's demand to it; returns the objective change."""
        model = self.model
        d, n = int(model.arc_demand[arc]), int(model.arc_node[arc])
        s = int(model.demand_service[d])
        self.share[arc] += fraction
        self.load[s, n] = max(self.load[s, n] + fraction * model.demand_rate[d], 0.0)
        if self.share[arc] < _EPS:
            self.share[arc] = 0.0
        new = max(math.ceil(self.load[s, n] / model.replica_capacity[s, n] - _EPS), 0)
        change = new - int(self.replicas[s, n])
        self.replicas[s, n] = new
        self.usage[n] += change * self.demand[s]
        self.total[s] += change
        delta = fraction * model.arc_cost[arc] + change * model.replica_cost[s, n]
        self.cost += delta
        return float(delta)

    def remove_demand(self, d: int) -> list[tuple[int, float]]:
        """Take demand ``d`` off all its arcs; returns the removed (arc, fraction) pieces."""
        lo, hi = int(self.model.arc_start[d]), int(self.model.arc_start[d + 1])
        held = np.flatnonzero(self.share[lo:hi] > 0)
        pieces = [(lo + int(k), float(self.share[lo + k])) for k in held]
        for a, fraction in pieces:
            self.move(a, -fraction)
        return pieces

    def insert(self, d: int, score: FloatArray | None = None, forbidden: BoolArray | None = None) -> bool:
        """Place demand ``d`` whole on the best-scoring arc that can take it, else split it across arcs.

        ``score`` ranks the demand's arcs (lower is better); None means the marginal objective. Returns False when
        the demand does not fit even split (the state then holds a partial assignment).
        """
        model = self.model
        arcs = np.arange(model.arc_start[d], model.arc_start[d + 1])
        s, rate = int(model.demand_service[d]), float(model.demand_rate[d])
        room = self.room(s, model.arc_node[arcs])
        usable = room > 0 if forbidden is None else (room > 0) & ~forbidden[model.arc_node[arcs]]
        if not usable.any():
            return False
        rank = self.marginal(s, arcs, rate) if score is None else score
        whole = usable & (room >= rate * (1 - 1e-12))
        if whole.any():
            best = int(np.flatnonzero(whole)[np.argmin(rank[whole])])
            self.move(int(arcs[best]), 1.0)
            return True
        remaining = rate
        for k in np.flatnonzero(usable)[np.argsort(rank[usable], kind="stable")]:
            amount = min(remaining, float(room[k]))
            self.move(int(arcs[k]), amount / rate)
            remaining -= amount
            if remaining <= rate * 1e-12:
                return True
        return False

    def restore(self, d: int, pieces: list[tuple[int, float]]) -> None:
        """Undo whatever ``d`` has now and put back ``pieces`` (from :meth:`remove_demand`)."""
        self.remove_demand(d)
        for a, fraction in pieces:
            self.move(a, fraction)

    def top_up(self) -> bool:
        """Add idle replicas where they are cheapest until every service meets ``min_replicas``; False if stuck."""
        model = self.model
        for s, service in enumerate(model.problem.services):
            while self.total[s] < service.min_replicas:
                nodes = np.flatnonzero(model.problem.allowed[s] & (model.max_per_node[s] > self.replicas[s]))
                free = self.capacity[nodes] - self.usage[nodes]
                nodes = nodes[(free >= self.demand[s] - _EPS).all(axis=1)]
                if nodes.size == 0:
                    return False
                n = int(nodes[np.argmin(model.replica_cost[s, nodes])])
                self.replicas[s, n] += 1
                self.usage[n] += self.demand[s]
                self.total[s] += 1
                self.cost += float(model.replica_cost[s, n])
        return True
