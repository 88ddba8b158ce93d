"""Incremental placement state shared by the heuristics: loads, replicas and node usage under arc assignments.

A pool's replicas are sized with its load (:meth:`LoadState.size`): at least ``ceil(load / replica_capacity)``,
more while a replica saves more queueing than it costs; :meth:`LoadState.top_up` adds the idle replicas a service's
``min_replicas`` asks for at the end. Every pool's queueing term is kept exact (the convex
:meth:`~scheduler.model.Model.queue_cost` at its load and replicas), so ``cost`` is the exact objective.
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
#: Replicas a pool may hold above the minimum its load needs at the utilisation cap.
SPARE = 2


def link_room(model: Model, link_load: FloatArray, arcs: IntArray) -> FloatArray:
    """Extra request rate each of ``arcs`` could carry, at the links' current ``link_load`` (bit/s), before a capped
    link on its path is full (inf where no capped link is on the path)."""
    out = np.full(len(arcs), np.inf)
    if not link_load.size:
        return out
    links = model.arc_link_bits
    for i, a in enumerate(arcs.tolist()):
        lo, hi = int(links.indptr[a]), int(links.indptr[a + 1])
        if hi > lo:
            on_path = links.indices[lo:hi]
            per_request = links.data[lo] / model.demand_rate[model.arc_demand[a]]
            out[i] = max(float((model.link_capacity_bps[on_path] - link_load[on_path]).min()) / per_request, 0.0)
    return out


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
        self.queue = np.zeros(model.replica_capacity.shape)
        self.cost = 0.0
        links = model.arc_link_bits
        self._link_ptr, self._link_idx, self._link_bits = links.indptr, links.indices, links.data
        self.link_load = np.zeros(model.link_capacity_bps.size)

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

    def _free(self, s: int, nodes: IntArray) -> FloatArray:
        """Replicas of ``s`` each node could still add (resources, per-node and total replica bounds); negative
        where a trial move has put the node over a bound, so that sizing a pool never keeps replicas beyond it."""
        dem = self.demand[s]
        free = self.capacity[nodes] - self.usage[nodes]
        with np.errstate(divide="ignore", invalid="ignore"):
            fit = np.where(dem > 0, np.floor(free / np.where(dem > 0, dem, 1.0) + _EPS), np.inf).min(axis=1)
        limit = np.minimum(fit, self.model.max_per_node[s, nodes] - self.replicas[s, nodes])
        return np.asarray(np.minimum(limit, self.max_total[s] - self.total[s]), dtype=np.float64)

    def _free_one(self, s: int, n: int) -> int:
        """:meth:`_free` of one node on plain numbers."""
        limit = min(int(self.model.max_per_node[s, n]) - int(self.replicas[s, n]),
                    int(self.max_total[s] - self.total[s]))
        for need, cap, used in zip(self.demand[s].tolist(), self.capacity[n].tolist(), self.usage[n].tolist(),
                                   strict=True):
            if need > 0:
                limit = min(limit, math.floor((cap - used) / need + _EPS))
        return limit

    def room(self, s: int, nodes: IntArray) -> FloatArray:
        """Extra rate of service ``s`` each node could take, opening as many replicas as still fit there."""
        most = (self.replicas[s, nodes] + self._free(s, nodes)) * self.model.replica_capacity[s, nodes]
        return np.asarray(np.maximum(most - self.load[s, nodes], 0.0), dtype=np.float64)

    def link_room(self, arcs: IntArray) -> FloatArray:
        """Extra request rate each arc could carry before a capped link on its path is full (inf: none capped)."""
        return link_room(self.model, self.link_load, arcs)

    def links_ok(self) -> bool:
        """Whether every capped link carries at most its cap."""
        return bool((self.link_load <= self.model.link_capacity_bps * (1 + 1e-9) + 1e-9).all())

    def size(self, s: int, nodes: IntArray, load: FloatArray) -> tuple[IntArray, FloatArray]:
        """Replica count and queueing term of each pool at ``load``: the cheapest of the minimum the utilisation cap
        needs and up to :data:`SPARE` more that still fit (a replica pays when it saves more wait than it costs)."""
        model = self.model
        least = self._needed(s, nodes, load)
        most = np.maximum(self.replicas[s, nodes] + self._free(s, nodes), least)
        count = least[:, None] + np.arange(SPARE + 1)[None, :]
        count = np.where(load[:, None] > 0, count, 0)
        queue = model.queue_cost(s, nodes[:, None], load[:, None], count)
        total = np.where(count <= most[:, None], count * model.replica_cost[s, nodes][:, None] + queue, np.inf)
        best = np.argmin(total, axis=1)
        rows = np.arange(len(nodes))
        return count[rows, best].astype(np.int64), np.asarray(queue[rows, best], dtype=np.float64)

    def _size_one(self, s: int, n: int, load: float) -> tuple[int, float]:
        """:meth:`size` of one pool on plain numbers (the inner loop of :meth:`move`)."""
        model = self.model
        if load <= 0:
            return 0, 0.0
        least = max(math.ceil(load / model.replica_capacity[s, n] - _EPS), 0)
        most = max(int(self.replicas[s, n]) + self._free_one(s, n), least)
        price = float(model.replica_cost[s, n])
        best = (math.inf, least, math.inf)
        for k in range(least, min(least + SPARE, most) + 1):
            queue = model.queue_cost_one(s, n, load, k)
            if k * price + queue < best[0]:
                best = (k * price + queue, k, queue)
        return best[1], best[2]

    def marginal(self, s: int, arcs: IntArray, amount: float) -> FloatArray:
        """Objective increase of sending ``amount`` of a demand's rate (fraction ``amount/rate``) over ``arcs``."""
        nodes = self.model.arc_node[arcs]
        count, queue = self.size(s, nodes, self.load[s, nodes] + amount)
        added = count - self.replicas[s, nodes]
        rate = self.model.demand_rate[self.model.arc_demand[arcs]]
        return np.asarray(self.model.arc_cost[arcs] * (amount / rate) + added * self.model.replica_cost[s, nodes]
                          + queue - self.queue[s, nodes], dtype=np.float64)

    def move(self, arc: int, fraction: float) -> float:
        """Add ``fraction`` (negative removes) of the arc's demand to it; returns the objective change."""
        model = self.model
        d, n = int(model.arc_demand[arc]), int(model.arc_node[arc])
        s = int(model.demand_service[d])
        self.share[arc] += fraction
        self.load[s, n] = max(self.load[s, n] + fraction * model.demand_rate[d], 0.0)
        if self.share[arc] < _EPS:
            self.share[arc] = 0.0
        if self.load[s, n] < _EPS * model.replica_capacity[s, n]:
            self.load[s, n] = 0.0
        lo, hi = int(self._link_ptr[arc]), int(self._link_ptr[arc + 1])
        if hi > lo:
            self.link_load[self._link_idx[lo:hi]] += fraction * self._link_bits[lo:hi]
        new, queue = self._size_one(s, n, float(self.load[s, n]))
        change = new - int(self.replicas[s, n])
        self.replicas[s, n] = new
        self.usage[n] += change * self.demand[s]
        self.total[s] += change
        delta = fraction * model.arc_cost[arc] + change * model.replica_cost[s, n] + queue - self.queue[s, n]
        self.queue[s, n] = queue
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
        room = np.minimum(self.room(s, model.arc_node[arcs]), self.link_room(arcs))
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
                queue = model.queue_cost_one(s, n, float(self.load[s, n]), int(self.replicas[s, n]))
                self.cost += float(model.replica_cost[s, n]) + queue - self.queue[s, n]
                self.queue[s, n] = queue
        return True
