"""Local search from the greedy placement: relocate single demands, close a service's replicas on a node,
open a service on a new node, shift replicas from one node to another, and swap two demands of one service; every
move is kept only if it lowers the total.

Each move is applied on the :class:`~scheduler.solvers.state.LoadState` and undone when it does not pay off, so
the cost bookkeeping lives in one place. Passes repeat until none improves or the evaluation budget is spent:
the search never looks at the clock, so the same input and seed give the same placement on any machine.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from scheduler.model import Model
from scheduler.solvers.base import Budget, SolverOutput
from scheduler.solvers.constructive import construct
from scheduler.solvers.state import LoadState

IntArray = npt.NDArray[np.int64]

_TOL = 1e-12


class _Search:
    def __init__(self, state: LoadState, evaluations: int, rng: np.random.Generator) -> None:
        self.state, self.budget, self.rng = state, evaluations, rng
        self.spent = 0
        model = state.model
        n_nodes = model.replica_capacity.shape[1]
        key = model.arc_service * n_nodes + model.arc_node
        self.order = np.argsort(key, kind="stable")
        self.pair_start = np.searchsorted(key[self.order], np.arange(model.replica_capacity.size + 1))

    def exhausted(self) -> bool:
        return self.spent >= self.budget

    def feasible(self, s: int, nodes: IntArray) -> bool:
        st = self.state
        return bool((st.usage[nodes] <= st.capacity[nodes] + 1e-9).all() and st.total[s] <= st.max_total[s]
                    and (st.replicas[s, nodes] <= st.model.max_per_node[s, nodes]).all() and st.links_ok())

    def pair_arcs(self, s: int, n: int) -> IntArray:
        k = s * self.state.model.replica_capacity.shape[1] + n
        return self.order[self.pair_start[k]:self.pair_start[k + 1]]

    def attempt(self, demands: list[int], forbidden: npt.NDArray[np.bool_] | None,
                targets: dict[int, int] | None = None) -> bool:
        """Reinsert ``demands`` (greedily, or onto the arc given in ``targets``); keep if cheaper, else undo."""
        st = self.state
        self.spent += 1
        before = st.cost
        saved = {d: st.remove_demand(d) for d in demands}
        ok = True
        for d in demands:
            if targets is not None and d in targets:
                st.move(targets[d], 1.0)
            else:
                ok = st.insert(d, forbidden=forbidden)
            if not ok:
                break
        touched = {int(st.model.arc_node[a]) for pieces in saved.values() for a, _ in pieces}
        touched |= {int(st.model.arc_node[a]) for d in demands for a in st.arcs(d) if st.share[a] > 0}
        services = {int(st.model.demand_service[d]) for d in demands}
        nodes = np.array(sorted(touched), dtype=np.int64)
        ok = ok and all(self.feasible(s, nodes) for s in services)
        if ok and st.cost < before - _TOL * max(1.0, abs(before)):
            return True
        for d in demands:
            st.remove_demand(d)
        for pieces in saved.values():
            for a, fraction in pieces:
                st.move(a, fraction)
        return False

    def relocate_pass(self) -> bool:
        improved = False
        for d in self.rng.permutation(len(self.state.model.demand_rate)):
            if self.exhausted():
                break
            improved |= self.relocate(int(d))
        return improved

    def relocate(self, d: int) -> bool:
        """Move a single-arc demand to its cheapest other arc if that lowers the total (no trial and undo)."""
        st, model = self.state, self.state.model
        lo, hi = int(model.arc_start[d]), int(model.arc_start[d + 1])
        held = np.flatnonzero(st.share[lo:hi] > 0)
        if held.size != 1:
            return self.attempt([d], None)
        self.spent += 1
        a0 = lo + int(held[0])
        s, n0, rate = int(model.demand_service[d]), int(model.arc_node[a0]), float(model.demand_rate[d])
        rest = max(st.load[s, n0] - rate, 0.0)
        left, queue = st.size(s, np.array([n0]), np.array([rest]))
        saving = (model.arc_cost[a0] + (st.replicas[s, n0] - left[0]) * model.replica_cost[s, n0]
                  + st.queue[s, n0] - queue[0])
        arcs = np.arange(lo, hi)
        cost = st.marginal(s, arcs, rate)
        room = np.minimum(st.room(s, model.arc_node[arcs]), st.link_room(arcs))
        cost[(room < rate * (1 - 1e-12)) | (arcs == a0)] = np.inf
        best = int(np.argmin(cost))
        if not cost[best] < saving - _TOL * max(1.0, abs(st.cost)):
            return False
        st.move(a0, -1.0)
        st.move(int(arcs[best]), 1.0)
        return True

    def close_pass(self) -> bool:
        st = self.state
        improved = False
        n_nodes = len(st.model.problem.node_names)
        for pair in self.rng.permutation(np.argwhere(st.replicas > 0)):
            s, n = int(pair[0]), int(pair[1])
            if self.exhausted():
                break
            arcs = self.pair_arcs(int(s), int(n))
            demands = sorted({int(st.model.arc_demand[a]) for a in arcs if st.share[a] > 0},
                             key=lambda d: -st.model.demand_rate[d])
            forbidden = np.zeros(n_nodes, dtype=bool)
            forbidden[n] = True
            improved |= bool(demands) and self.attempt(demands, forbidden)
        return improved

    def open_pass(self) -> bool:
        """Open service s on node n and move there the demands that would pay less per request there."""
        st = self.state
        model = st.model
        improved = False
        closed = np.argwhere((st.replicas == 0) & (model.max_per_node > 0))
        # arc cost each demand pays now (refreshed once per pass: a filter, the move itself is evaluated exactly)
        current = np.bincount(model.arc_demand, weights=model.arc_cost * st.share, minlength=len(model.demand_rate))
        for pair in self.rng.permutation(closed):
            s, n = int(pair[0]), int(pair[1])
            if self.exhausted():
                break
            arcs = self.pair_arcs(int(s), int(n))
            if arcs.size == 0:
                continue
            saving = current[model.arc_demand[arcs]] - model.arc_cost[arcs]
            good = arcs[saving > 0][np.argsort(-saving[saving > 0])]
            capacity = model.replica_capacity[s, n]
            chosen, load = [], 0.0
            for a in good:
                rate = model.demand_rate[model.arc_demand[a]]
                if load + rate <= capacity:
                    chosen.append(int(a))
                    load += rate
            if chosen:
                demands = [int(model.arc_demand[a]) for a in chosen]
                improved |= self.attempt(demands, None, dict(zip(demands, chosen, strict=True)))
        return improved

    def shift_pass(self) -> bool:
        """Move a service's replicas from node n1 to a closed node n2 its users could reach (close + open)."""
        st = self.state
        model = st.model
        improved = False
        n_nodes = len(model.problem.node_names)
        for pair in self.rng.permutation(np.argwhere(st.replicas > 0)):
            s, n1 = int(pair[0]), int(pair[1])
            if self.exhausted():
                break
            held = [int(a) for a in self.pair_arcs(s, n1) if st.share[a] > 0]
            if not held or st.replicas[s, n1] == 0:
                continue
            demands = [int(model.arc_demand[a]) for a in held]
            # candidate new homes: closed nodes reachable by these demands, cheapest rate-weighted arc cost first
            score = np.zeros(n_nodes)
            reach = np.zeros(n_nodes, dtype=np.int64)
            for d in demands:
                arcs = np.arange(model.arc_start[d], model.arc_start[d + 1])
                np.add.at(score, model.arc_node[arcs], model.arc_cost[arcs])
                np.add.at(reach, model.arc_node[arcs], 1)
            open_now = (st.replicas[s] > 0) | (model.max_per_node[s] == 0) | (reach < len(demands))
            candidates = np.flatnonzero(~open_now)
            forbidden = np.zeros(n_nodes, dtype=bool)
            forbidden[n1] = True
            for n2 in candidates[np.argsort(score[candidates], kind="stable")][:3]:
                targets = {d: int(model.arc_start[d] + np.flatnonzero(
                    model.arc_node[model.arc_start[d]:model.arc_start[d + 1]] == n2)[0]) for d in demands}
                if self.attempt(sorted(demands, key=lambda d: -model.demand_rate[d]), forbidden, targets):
                    improved = True
                    break
        return improved

    def swap_pass(self) -> bool:
        """Exchange the nodes of two single-arc demands of the same service when both arcs exist."""
        st = self.state
        model = st.model
        improved = False
        single = [d for d in range(len(model.demand_rate))
                  if sum(1 for a in st.arcs(d) if st.share[a] > 0) == 1]
        by_service: dict[int, list[int]] = {}
        for d in single:
            by_service.setdefault(int(model.demand_service[d]), []).append(d)
        for members in by_service.values():
            if len(members) < 2 or self.exhausted():
                continue
            picks = self.rng.choice(len(members), size=(min(len(members), 1000), 2))
            for i, j in picks:
                if self.exhausted():
                    break
                d1, d2 = members[i], members[j]
                target = {d: self._arc_to(d, self._node_of(other)) for d, other in ((d1, d2), (d2, d1))}
                if d1 != d2 and None not in target.values() and self._node_of(d1) != self._node_of(d2):
                    improved |= self.attempt([d1, d2], None, {d: a for d, a in target.items() if a is not None})
        return improved

    def _node_of(self, d: int) -> int:
        arcs = self.state.arcs(d)
        return int(self.state.model.arc_node[arcs.start + int(np.argmax(self.state.share[arcs.start:arcs.stop]))])

    def _arc_to(self, d: int, n: int) -> int | None:
        arcs = self.state.arcs(d)
        hit = np.flatnonzero(self.state.model.arc_node[arcs.start:arcs.stop] == n)
        return int(arcs.start + hit[0]) if hit.size else None


class LocalSearch:
    """Greedy construction improved by relocate, close, open, shift and swap moves until no move helps, then
    iterated: close a few random replica sites (a kick), descend again, keep the best (Lourenço, Martin & Stützle,
    "Iterated local search", Handbook of Metaheuristics, 2003) until ``max_stale_kicks`` kicks in a row fail or
    the budget's ``evaluations`` trial moves are spent. Same input and ``rng`` give the same placement, always.
    """

    name = "local-search"

    def __init__(self, max_stale_kicks: int = 20, kick_size: int = 2) -> None:
        self.max_stale_kicks = max_stale_kicks
        self.kick_size = kick_size

    def solve(self, model: Model, *, budget: Budget, rng: np.random.Generator) -> SolverOutput:
        """Search until ``max_stale_kicks`` fruitless kicks or ``budget.evaluations`` trial moves; ``rng`` orders
        moves and kicks."""
        state, fitted = construct(model, lambda *_: None, top_up=False)
        if not fitted:
            return SolverOutput(None, None, "local search: the greedy start did not fit every demand")
        search = _Search(state, budget.evaluations, rng)
        passes = _descend(search)
        best_cost, best_share = state.cost, state.share.copy()
        kicks = stale = 0
        while stale < self.max_stale_kicks and not search.exhausted():
            kicks += 1
            _kick(search, self.kick_size)
            passes += _descend(search)
            if search.state.cost < best_cost - _TOL * max(1.0, abs(best_cost)):
                best_cost, best_share, stale = search.state.cost, search.state.share.copy(), 0
            else:
                stale += 1
                search.state = LoadState.from_shares(model, best_share)
        state = search.state
        if not np.array_equal(state.share, best_share):
            state = LoadState.from_shares(model, best_share)
        stopped = "evaluation budget spent" if search.exhausted() else f"{stale} kicks without improvement"
        if not state.top_up():
            return SolverOutput(None, None, "local search: minimum replicas do not fit the free capacity")
        return SolverOutput(state.replicas.copy(), state.share.copy(),
                            f"local search: {stopped} ({search.spent} evaluations, {passes} passes, {kicks} kicks)")


def _descend(search: _Search) -> int:
    """Apply passes until none improves (cheap neighbourhoods first); returns the number of passes."""
    passes = 0
    improved = True
    while improved and not search.exhausted():
        passes += 1
        improved = search.relocate_pass()
        improved |= search.close_pass()
        if not improved:  # the costlier neighbourhoods only once the cheap ones are exhausted
            improved = search.open_pass() or search.shift_pass() or search.swap_pass()
    return passes


def _kick(search: _Search, size: int) -> None:
    """Close ``size`` random (service, node) replica sites whatever it costs, re-placing their demands greedily."""
    st = search.state
    model = st.model
    sites = np.argwhere(st.replicas > 0)
    for k in search.rng.permutation(len(sites))[:size]:
        s, n = int(sites[k][0]), int(sites[k][1])
        demands = sorted({int(model.arc_demand[a]) for a in search.pair_arcs(s, n) if st.share[a] > 0},
                         key=lambda d: -model.demand_rate[d])
        forbidden = np.zeros(len(model.problem.node_names), dtype=bool)
        forbidden[n] = True
        for d in demands:
            pieces = st.remove_demand(d)
            if not st.insert(d, forbidden=forbidden):
                st.restore(d, pieces)
