"""The placement problem compiled for solvers: demands, candidate arcs and their costs.

A *demand* is one (group, service) pair with a positive request rate; an *arc* is a demand together with a node
that may serve it (region allowed, a replica fits on the node, estimated latency within the service's SLO). The
per-request latency on an arc is network (round-trip propagation plus request and response transfer over the
narrowest link) + queueing + compute, where queueing is the M/M/1 wait of one replica at the target utilisation —
the worst wait the utilisation cap allows, which keeps the objective linear in the decision (the M/M/c wait of a
pooled node at the same utilisation is never larger).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from offload.errors import InfeasibleError
from offload.queueing import mm1_mean_wait_s
from scheduler.problem import PlacementProblem

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Model:
    """Arrays shared by every solver (D demands, A arcs sorted by demand, S services, N nodes).

    ``arc_start[d]:arc_start[d + 1]`` are demand d's arcs. ``arc_cost`` is the weighted objective contribution of
    sending all of a demand over an arc; ``replica_cost`` the weighted cost of one replica; ``replica_capacity``
    the request rate one replica may take (target utilisation × service rate); ``max_per_node`` how many replicas
    of s fit on n alone.
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

    @property
    def arc_service(self) -> IntArray:
        """Service of every arc."""
        return self.demand_service[self.arc_demand]


def latency_parts_s(problem: PlacementProblem, group: IntArray, service: IntArray, node: IntArray
                    ) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(network, queueing, compute) seconds per request for the given (group, service, node) triples."""
    speed = problem.replica_speed_ops_per_s[service, node]
    work = problem.service_array("work_ops")[service]
    bits = problem.service_array("input_bits")[service] + problem.service_array("output_bits")[service]
    with np.errstate(divide="ignore"):
        service_rate = speed / work
        compute = np.where(speed > 0, work / np.where(speed > 0, speed, 1.0), np.inf)
    queue = np.full(len(node), np.inf)
    ok = service_rate > 0
    queue[ok] = mm1_mean_wait_s(problem.target_utilisation * service_rate[ok], service_rate[ok])
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


def compile_model(problem: PlacementProblem) -> Model:
    """Enumerate demands and arcs; raise :class:`InfeasibleError` when a demand has no node that can serve it."""
    group, service = np.nonzero(problem.rate_per_s > 0)
    rate = problem.rate_per_s[group, service]
    max_per_node = _max_per_node(problem)
    hostable = problem.allowed & (max_per_node > 0)
    demand_idx, node = np.nonzero(hostable[service])
    net, queue, compute = latency_parts_s(problem, group[demand_idx], service[demand_idx], node)
    latency = net + queue + compute
    slo = problem.service_array("slo_s")[service[demand_idx]]
    keep = latency <= slo
    _explain_missing(problem, group, service, demand_idx, keep, hostable, latency)
    demand_idx, node, latency = demand_idx[keep], node[keep], latency[keep]
    bits = (problem.service_array("input_bits") + problem.service_array("output_bits"))[service[demand_idx]]
    traffic = rate[demand_idx] * bits * problem.path_cost_per_bit[group[demand_idx], node]
    w = problem.weights
    total_rate = float(rate.sum()) or 1.0
    cost = w.latency * rate[demand_idx] * latency / total_rate + w.traffic * traffic
    speed = problem.replica_speed_ops_per_s
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
        replica_capacity=problem.target_utilisation * speed / problem.service_array("work_ops")[:, None],
        max_per_node=max_per_node,
    )


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
