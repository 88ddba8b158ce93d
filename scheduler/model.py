"""The placement problem compiled for solvers: demands, candidate arcs and their costs.

A *demand* is one (group, service) pair with a positive request rate; an *arc* is a demand together with a node
that may serve it (region allowed, a replica fits on the node, latency within the service's SLO even at the worst
wait the utilisation cap allows). The per-request latency is network (round-trip propagation plus request and
response transfer over the narrowest link) + compute on the arc, plus the queueing wait of the *pool* the request
joins: the ``k`` replicas of service ``s`` on node ``n`` share one queue (the simulator's ``node/service`` server
with ``k`` workers), a GI/G/k queue whose mean wait is estimated by Allen–Cunneen
(:func:`offload.queueing.gg_c_mean_wait_s`: exact M/M/c Erlang C, Pollaczek–Khinchine for one replica under
Poisson arrivals). Its contribution to the rate-weighted mean latency is ``f_s Lq(λ, μ, k) / Λ`` with
``f_s = (c_a² + c_s²) / 2`` — convex and increasing in the pool's load λ (:func:`pool_queue_length`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_array

from offload.errors import InfeasibleError
from offload.queueing import gg_c_mean_wait_s, mmc_queue_length_unchecked
from scheduler.problem import PlacementProblem

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Load below this fraction of one replica's service rate counts as none.
_IDLE = 1e-9


@dataclass(frozen=True, slots=True)
class Model:
    """Arrays shared by every solver (D demands, A arcs sorted by demand, S services, N nodes).

    ``arc_start[d]:arc_start[d + 1]`` are demand d's arcs. ``arc_cost`` is the weighted objective contribution of
    sending all of a demand over an arc (network, compute, traffic; the queueing wait is per pool);
    ``replica_cost`` the weighted cost of one replica; ``replica_capacity`` the request rate one replica may take
    (target utilisation × service rate); ``max_per_node`` how many replicas of s a pool on n may have: what fits on
    n alone, at most ``max_replicas`` and at most one more than the load that can reach the pool (its arcs) needs at
    the cap (a further replica would only idle). ``service_rate_per_s`` is one replica's μ, ``queue_factor`` the
    Allen–Cunneen ``(c_a² + c_s²) / 2`` of each service and ``queue_weight`` the objective weight of one unit of
    ``f Lq`` (``w_latency / Λ``). ``arc_link_bits`` (A, L) is the request and response bits per second an arc puts
    on each capped link when it carries its whole demand; ``link_capacity_bps`` what each may carry (none capped:
    L = 0).
    """

    problem: PlacementProblem
    demand_group: IntArray
    demand_service: IntArray
    demand_rate: FloatArray
    arc_start: IntArray
    arc_demand: IntArray
    arc_node: IntArray
    arc_latency_s: FloatArray
    arc_traffic_per_s: FloatArray
    arc_cost: FloatArray
    replica_cost: FloatArray
    replica_capacity: FloatArray
    max_per_node: IntArray
    service_rate_per_s: FloatArray
    queue_factor: FloatArray
    queue_weight: float
    arc_link_bits: csr_array
    link_capacity_bps: FloatArray

    @property
    def arc_service(self) -> IntArray:
        """Service of every arc."""
        return self.demand_service[self.arc_demand]

    def cheapest_per_demand(self) -> FloatArray:
        """Each demand's cost at its cheapest arc with a replica's cost charged pro rata (rate / one replica's
        capacity); queueing charged nothing. Their sum is a lower bound on every placement's total."""
        pair = self.arc_service * self.replica_cost.shape[1] + self.arc_node
        unit = self.arc_cost + self.demand_rate[self.arc_demand] * (self.replica_cost.ravel()[pair]
                                                                    / self.replica_capacity.ravel()[pair])
        cheapest = np.full(len(self.demand_rate), np.inf)
        np.minimum.at(cheapest, self.arc_demand, unit)
        return cheapest

    def pool_loads(self, arc_share: FloatArray) -> FloatArray:
        """(S, N) request rate each pool receives under the per-arc shares."""
        load = np.zeros(self.replica_capacity.shape)
        np.add.at(load, (self.arc_service, self.arc_node), self.demand_rate[self.arc_demand] * arc_share)
        return load

    def queue_cost(self, service: IntArray | int, node: IntArray | int, load: FloatArray | float,
                   replicas: IntArray | int) -> FloatArray:
        """Weighted queueing term ``queue_weight · f_s · Lq`` of pools (broadcast); 0 for an idle pool, ``inf``
        for load without replicas or beyond them."""
        return self.queue_weight * pool_queue_length(self.service_rate_per_s[service, node], self.queue_factor[
            service], np.asarray(load, dtype=np.float64), np.asarray(replicas, dtype=np.int64))

    def queue_cost_one(self, service: int, node: int, load: float, replicas: int) -> float:
        """:meth:`queue_cost` of one pool, on plain floats (the heuristics' inner loop)."""
        mu = float(self.service_rate_per_s[service, node])
        if load <= _IDLE * mu:
            return 0.0
        length = float(mmc_queue_length_unchecked(load / mu, replicas)) if replicas > 0 else math.inf
        return self.queue_weight * float(self.queue_factor[service]) * length


def pool_queue_length(service_rate_per_s: FloatArray, factor: FloatArray, load: FloatArray, replicas: IntArray
                      ) -> FloatArray:
    """``f Lq(λ, μ, k)``: the mean number waiting in a pool of ``k`` replicas (Allen–Cunneen-scaled M/M/k), whose
    sum over pools divided by the total rate is the queueing part of the mean latency (Little's law)."""
    load, mu, k, f = np.broadcast_arrays(load, service_rate_per_s, replicas, factor)
    busy = load > _IDLE * mu  # rounding residue of removed shares is no load (as for the replica count)
    out = np.where(busy, np.inf, 0.0)
    ok = (k > 0) & busy & (load < k * mu)
    if ok.any():
        out[ok] = f[ok] * mmc_queue_length_unchecked(load[ok] / mu[ok], k[ok])
    return np.asarray(out, dtype=np.float64)


def latency_parts_s(problem: PlacementProblem, group: IntArray, service: IntArray, node: IntArray
                    ) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(network, worst queueing, compute) seconds per request for the given (group, service, node) triples; the
    worst queueing is one replica's Allen–Cunneen wait at the target utilisation (a pool of more replicas, or
    less load, waits less), which is what the SLO filter assumes."""
    speed = problem.replica_speed_ops_per_s[service, node]
    work = problem.service_array("work_ops")[service]
    bits = problem.service_array("input_bits")[service] + problem.service_array("output_bits")[service]
    with np.errstate(divide="ignore"):
        service_rate = speed / work
        compute = np.where(speed > 0, work / np.where(speed > 0, speed, 1.0), np.inf)
    queue = np.full(len(node), np.inf)
    ok = service_rate > 0
    ca2 = problem.service_array("arrival_scv")[service]
    cs2 = problem.service_array("work_scv")[service]
    queue[ok] = gg_c_mean_wait_s(problem.target_utilisation * service_rate[ok], service_rate[ok], 1, ca2[ok],
                                 cs2[ok])
    network = 2.0 * problem.delay_s[group, node] + bits / problem.bottleneck_bps[group, node]
    return network, queue, compute


def _max_per_node(problem: PlacementProblem) -> IntArray:
    demand = problem.replica_demand  # (S, 3)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(demand[:, None, :] > 0, problem.capacity[None, :, :] / demand[:, None, :], np.inf)
    fit = np.floor(ratio.min(axis=2) + 1e-9)
    fit = np.where(problem.replica_speed_ops_per_s > 0, fit, 0.0)
    cap = np.array([s.max_replicas for s in problem.services], dtype=np.float64)[:, None]
    return np.minimum(fit, cap).astype(np.int64)


def _useful(max_per_node: IntArray, capacity_per_s: FloatArray, reach_per_s: FloatArray) -> IntArray:
    """At most one replica more than the load that can reach a pool needs at the cap (more would only idle)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        useful = np.where(capacity_per_s > 0, np.ceil(reach_per_s / capacity_per_s - 1e-9) + 1.0, 0.0)
    return np.minimum(max_per_node, useful).astype(np.int64)


def compile_model(problem: PlacementProblem) -> Model:
    """Enumerate demands and arcs; raise :class:`InfeasibleError` when a demand has no node that can serve it."""
    group, service = np.nonzero(problem.rate_per_s > 0)
    rate = problem.rate_per_s[group, service]
    speed = problem.replica_speed_ops_per_s
    mu = speed / problem.service_array("work_ops")[:, None]
    max_per_node = _max_per_node(problem)
    hostable = problem.allowed & (max_per_node > 0)
    demand_idx, node = np.nonzero(hostable[service])
    net, queue, compute = latency_parts_s(problem, group[demand_idx], service[demand_idx], node)
    worst = net + queue + compute
    slo = problem.service_array("slo_s")[service[demand_idx]]
    keep = worst <= slo
    _explain_missing(problem, group, service, demand_idx, keep, hostable, worst)
    demand_idx, node, latency = demand_idx[keep], node[keep], (net + compute)[keep]
    reach = np.zeros(max_per_node.shape)
    np.add.at(reach, (service[demand_idx], node), rate[demand_idx])
    bits = (problem.service_array("input_bits") + problem.service_array("output_bits"))[service[demand_idx]]
    traffic = rate[demand_idx] * bits * problem.path_cost_per_bit[group[demand_idx], node]
    arc_links, link_capacity = _arc_links(problem, group[demand_idx], node, rate[demand_idx] * bits)
    demand_bits = rate * (problem.service_array("input_bits") + problem.service_array("output_bits"))[service]
    _explain_links(problem, demand_idx, demand_bits, arc_links, link_capacity)
    w = problem.weights
    total_rate = float(rate.sum()) or 1.0
    cost = w.latency * rate[demand_idx] * latency / total_rate + w.traffic * traffic
    return Model(
        problem=problem,
        demand_group=group.astype(np.int64),
        demand_service=service.astype(np.int64),
        demand_rate=rate,
        arc_start=np.searchsorted(demand_idx, np.arange(len(rate) + 1)).astype(np.int64),
        arc_demand=demand_idx.astype(np.int64),
        arc_node=node.astype(np.int64),
        arc_latency_s=latency,
        arc_traffic_per_s=traffic,
        arc_cost=cost,
        replica_cost=w.compute * problem.replica_price_per_s,
        replica_capacity=problem.target_utilisation * mu,
        max_per_node=_useful(max_per_node, problem.target_utilisation * mu, reach),
        service_rate_per_s=mu,
        queue_factor=(problem.service_array("arrival_scv") + problem.service_array("work_scv")) / 2.0,
        queue_weight=w.latency / total_rate,
        arc_link_bits=arc_links,
        link_capacity_bps=link_capacity,
    )


def _arc_links(problem: PlacementProblem, group: IntArray, node: IntArray, bits_per_s: FloatArray
               ) -> tuple[csr_array, FloatArray]:
    if problem.path_links is None or problem.link_utilisation is None:
        return csr_array((len(node), 0)), np.zeros(0)
    rows = problem.path_links[group * len(problem.node_names) + node]
    scaled = csr_array(rows.multiply(bits_per_s[:, None]))
    return scaled, problem.link_utilisation * np.asarray(problem.link_bandwidth_bps, dtype=np.float64)


def _explain_links(problem: PlacementProblem, arc_demand: IntArray, demand_bits_per_s: FloatArray,
                   arc_links: csr_array, capacity: FloatArray) -> None:
    """Raise naming the first link that the demands with no path around it overload on their own."""
    if not capacity.size:
        return
    n_demands = len(demand_bits_per_s)
    per_demand = csr_array((np.ones(len(arc_demand)), (arc_demand, np.arange(len(arc_demand)))),
                           shape=(n_demands, len(arc_demand)))
    counts = (per_demand @ csr_array((arc_links > 0).astype(np.float64))).toarray()
    must = counts >= np.bincount(arc_demand, minlength=n_demands)[:, None] - 0.5
    required = demand_bits_per_s @ must
    over = np.flatnonzero(required > capacity * (1 + 1e-9))
    if over.size:
        k = int(over[0])
        raise InfeasibleError(
            f"link {problem.link_names[k]} must carry {required[k] / 1e6:.4g} Mbit/s of requests and responses that "
            f"have no path around it, above its cap {problem.link_utilisation:g} × "
            f"{problem.link_bandwidth_bps[k] / 1e6:.4g} Mbit/s = {capacity[k] / 1e6:.4g} Mbit/s")


def _explain_missing(problem: PlacementProblem, group: IntArray, service: IntArray, demand_idx: IntArray,
                     keep: npt.NDArray[np.bool_], hostable: npt.NDArray[np.bool_], latency: FloatArray) -> None:
    served = np.zeros(len(group), dtype=bool)
    served[demand_idx[keep]] = True
    missing = np.flatnonzero(~served)
    problems = []
    for d in missing[:5]:
        s, g = int(service[d]), int(group[d])
        name = problem.services[s].name
        if not hostable[s].any():
            problems.append(f"service {name!r} fits on no allowed node (replica needs "
                            f"{problem.services[s].replica}, regions {problem.services[s].regions})")
            continue
        best = latency[demand_idx == d].min() if (demand_idx == d).any() else np.inf
        problems.append(f"group {problem.group_names[g]!r} cannot reach service {name!r} within its SLO "
                        f"{problem.services[s].slo_s * 1e3:g} ms (best {best * 1e3:.3g} ms)")
    if missing.size:
        more = f" (and {missing.size - 5} more)" if missing.size > 5 else ""
        raise InfeasibleError("; ".join(problems) + more)
