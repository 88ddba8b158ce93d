"""Solvers: every answer goes through the checker; the MILP against brute force; bounds; errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize
from test_sched_support import solve_checked, tiny_graph, tiny_problem

from offload.errors import InfeasibleError, ParameterError
from scheduler.checker import check_placement
from scheduler.instances import random_instance
from scheduler.model import compile_model
from scheduler.problem import PlacementProblem, ServiceDemand, UserGroups, build_problem
from scheduler.result import Placement, Status
from scheduler.solvers import SOLVERS, Budget, certified_bound, lagrangian_bound, lp_lower_bound, solve
from scheduler.topology import Resources


def _queue_length(load: np.ndarray, mu: np.ndarray, replicas: np.ndarray) -> np.ndarray:
    """Mean number waiting in M/M/1 (ρ²/(1 − ρ)) and M/M/2 (2ρ³/(1 − ρ²), ρ = λ/2μ): Kleinrock Vol. 1, §3.5."""
    rho = np.where(replicas > 0, load / (np.maximum(replicas, 1) * mu), 0.0)
    return np.where(replicas == 1, rho**2 / (1 - rho), np.where(replicas == 2, 2 * rho**3 / (1 - rho**2), 0.0))


def _arc_terms(graph, problem: PlacementProblem) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """Per (group, service, node): weighted latency+traffic cost of sending all of it there without the queueing,
    and that latency. Both come from the checker (one entry at a time, the pool holding two replicas, whose M/M/2
    wait is taken off again), so the brute force shares no code with the solvers."""
    g_n, s_n, n_n = problem.rate_per_s.shape[0], len(problem.services), len(problem.node_names)
    cost, latency = np.zeros((g_n, s_n, n_n)), np.zeros((g_n, s_n, n_n))
    total_rate = problem.rate_per_s.sum()
    specs = [graph.nodes[n]["spec"] for n in problem.node_names]
    for g, s, n in itertools.product(range(g_n), range(s_n), range(n_n)):
        rate = problem.rate_per_s[g, s]
        if rate <= 0:
            continue
        two = np.zeros((s_n, n_n), dtype=np.int64)
        two[s, n] = 2
        one = Placement(two, np.array([g]), np.array([s]), np.array([n]), np.array([1.0]))
        terms = check_placement(graph, problem, one).terms
        svc = problem.services[s]
        mu = svc.replica.cpu_cores * specs[n].core_speed_ops_per_s / svc.work_ops
        wait = float(_queue_length(np.array(rate), np.array(mu), np.array(2))) / rate
        latency[g, s, n] = terms.mean_latency_s * total_rate / rate - wait
        cost[g, s, n] = terms.total - terms.compute_cost_per_s * problem.weights.compute - wait * rate / total_rate
    return cost, latency


def _brute_force(graph, problem: PlacementProblem, max_replicas: int = 2) -> float:  # type: ignore[no-untyped-def]
    """Enumerate replica counts 0..max_replicas per (service, node) (the cheapest first, skipping counts whose
    replica cost plus every demand's cheapest arc already exceeds the best); route each optimally by convex
    minimisation (SLSQP) of arc costs plus the exact M/M/k queueing of every pool."""
    cost, latency = _arc_terms(graph, problem)
    specs = [graph.nodes[n]["spec"] for n in problem.node_names]
    s_n, n_n, g_n = len(problem.services), len(specs), problem.rate_per_s.shape[0]
    mu = np.array([[svc.replica.cpu_cores * sp.core_speed_ops_per_s / svc.work_ops for sp in specs]
                   for svc in problem.services])
    price = np.array([[svc.replica.cpu_cores * sp.prices.per_cpu_core_s for sp in specs] for svc in problem.services])
    slo = np.array([svc.slo_s for svc in problem.services])
    w_queue = problem.weights.latency / problem.rate_per_s.sum()
    cap = problem.target_utilisation * mu
    demands = [(g, s) for g, s in itertools.product(range(g_n), range(s_n)) if problem.rate_per_s[g, s] > 0]
    combos = [np.array(c).reshape(s_n, n_n) for c in itertools.product(range(max_replicas + 1), repeat=s_n * n_n)]
    combos.sort(key=lambda x: float((x * price).sum()))
    best = np.inf
    for x in combos:
        cores = np.array([svc.replica.cpu_cores for svc in problem.services]) @ x
        if (cores > np.array([sp.capacity.cpu_cores for sp in specs])).any():
            continue
        if any(x[s].sum() < svc.min_replicas for s, svc in enumerate(problem.services)):
            continue
        fixed = problem.weights.compute * float((x * price).sum())
        ok = {(g, s): [n for n in range(n_n) if x[s, n] > 0 and latency[g, s, n] <= slo[s]] for g, s in demands}
        if any(not nodes for nodes in ok.values()):
            continue
        if fixed + sum(min(cost[g, s, n] for n in ok[g, s]) for g, s in demands) >= best:
            continue
        variables = [(g, s, n) for g, s in demands for n in ok[g, s]]

        def loads(y: np.ndarray, variables: list[tuple[int, int, int]] = variables) -> np.ndarray:
            load = np.zeros((s_n, n_n))
            for value, (g, s, n) in zip(y, variables, strict=True):
                load[s, n] += problem.rate_per_s[g, s] * value
            return load

        def objective(y: np.ndarray, variables: list[tuple[int, int, int]] = variables, x: np.ndarray = x
                      ) -> float:
            load = np.minimum(loads(y), cap * x)
            arc = sum(cost[g, s, n] * value for value, (g, s, n) in zip(y, variables, strict=True))
            return float(arc + w_queue * _queue_length(load, mu, x).sum())

        constraints = [{"type": "eq", "fun": lambda y, g=g, s=s, variables=variables: sum(
            value for value, key in zip(y, variables, strict=True) if key[:2] == (g, s)) - 1.0} for g, s in demands]
        constraints.append({"type": "ineq", "fun": lambda y, x=x, loads=loads: (cap * x - loads(y)).ravel()})
        start = np.array([1.0 / len(ok[g, s]) for g, s, _ in variables])
        fit = minimize(objective, start, method="SLSQP", bounds=[(0.0, 1.0)] * len(variables),
                       constraints=constraints, options={"ftol": 1e-14, "maxiter": 500})
        if fit.success and (cap * x - loads(fit.x) >= -1e-9).all():
            best = min(best, fixed + float(fit.fun))
    return best


@pytest.mark.parametrize("seed", range(6))
def test_milp_matches_brute_force_on_tiny_instances(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rates = rng.uniform(0.0, 2.0, size=(2, 2)) * (rng.random((2, 2)) < 0.8)
    rates[0, 0] = max(rates[0, 0], 0.5)
    graph, problem = tiny_problem(rates, slo_s=float(rng.choice([0.3, 10.0])), min_replicas=int(seed % 2))
    result = solve_checked(graph, problem, "milp")
    assert result.status is Status.OPTIMAL
    assert result.objective is not None
    best = _brute_force(graph, problem)
    assert result.objective.total == pytest.approx(best, rel=1e-6)
    assert result.lower_bound <= best * (1 + 1e-9)
    assert lagrangian_bound(compile_model(problem), best * 1.1) <= best * (1 + 1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_every_solver_is_feasible_and_bounded_by_the_milp(seed: int) -> None:
    instance = random_instance(np.random.default_rng(seed), 8, 3, 12)
    bound = lp_lower_bound(compile_model(instance.problem))
    results = {name: solve_checked(instance.graph, instance.problem, name, lower_bound=bound)
               for name in SOLVERS}
    optimum = results["milp"].objective.total  # type: ignore[union-attr]
    # issue 15: the MILP reaches the convex queueing through tangent tables in a few rounds, so it is optimal up
    # to a certified gap that may stay above its 1e-6 target (1e-4 at most here)
    assert results["milp"].status is Status.OPTIMAL or results["milp"].gap <= 1e-4
    tolerance = max(1e-7, results["milp"].gap)
    assert bound <= optimum * (1 + 1e-7)
    for name, result in results.items():
        assert result.objective is not None
        assert result.objective.total >= optimum * (1 - tolerance), name
        assert result.gap == pytest.approx((result.objective.total - result.lower_bound) / result.objective.total,
                                           abs=1e-12)
    assert results["local-search"].objective.total <= results["greedy"].objective.total  # type: ignore[union-attr]


@pytest.mark.parametrize("evaluations", [40, 200_000])
def test_same_seed_same_placement(evaluations: int) -> None:
    # a binding budget (40 trial moves) and one the search never reaches (it stops on fruitless kicks): the search
    # counts work, not seconds, so both are reproducible however loaded the machine is
    instance = random_instance(np.random.default_rng(9), 8, 3, 12)
    budget = Budget(evaluations=evaluations)
    a = solve(instance.problem, "local-search", budget=budget, rng=np.random.default_rng(3), lower_bound=0.0)
    b = solve(instance.problem, "local-search", budget=budget, rng=np.random.default_rng(3), lower_bound=0.0)
    assert a.placement is not None
    assert b.placement is not None
    assert np.array_equal(a.placement.replicas, b.placement.replicas)
    assert np.array_equal(a.placement.share, b.placement.share)
    assert a.message == b.message
    binding = evaluations == 40
    assert ("evaluation budget spent (40 evaluations" in a.message) == binding, a.message
    assert ("kicks without improvement" in a.message) == (not binding), a.message


def test_a_larger_budget_never_ends_worse() -> None:
    # same seed: the longer search replays the shorter one's moves first, and it keeps only improvements
    instance = random_instance(np.random.default_rng(4), 8, 3, 12)
    totals = [solve(instance.problem, "local-search", budget=Budget(evaluations=n), rng=np.random.default_rng(1),
                    lower_bound=0.0).objective.total for n in (1, 30, 300, 200_000)]  # type: ignore[union-attr]
    assert totals == sorted(totals, reverse=True)
    greedy = solve(instance.problem, "greedy", lower_bound=0.0).objective
    assert greedy is not None
    assert totals[0] <= greedy.total * (1 + 1e-12)


@pytest.mark.parametrize(("field", "value", "rule"), [("evaluations", 0, "must be >= 1"),
                                                      ("milp_nodes", -1, "must be >= 1"),
                                                      ("time_limit_s", 0.0, "must be > 0 s")])
def test_budget_rejects_bad_values(field: str, value: float, rule: str) -> None:
    with pytest.raises(ParameterError, match=f"{field}={value!r}: {rule}"):
        Budget(**{field: value})  # type: ignore[arg-type]


def test_unknown_solver_lists_valid_names() -> None:
    _, problem = tiny_problem(np.ones((2, 2)))
    with pytest.raises(ParameterError, match="policy='best': unknown placement solver; valid: nearest, greedy"):
        solve(problem, "best")


def test_service_that_fits_nowhere() -> None:
    graph = tiny_graph()
    services = [ServiceDemand("llm", 1e9, replica=Resources(1, 1, 1e9))]  # needs a GPU; none has one
    groups = UserGroups(("west",), ("bs0",), np.array([[1.0]]))
    with pytest.raises(InfeasibleError, match="service 'llm' fits on no allowed node"):
        solve(build_problem(graph, services, groups), "greedy")


def test_unreachable_slo() -> None:
    _, problem = tiny_problem(np.array([[1.0, 0.0], [0.0, 0.0]]), slo_s=0.05)
    with pytest.raises(InfeasibleError, match=r"group 'west' cannot reach service 'detect' within its SLO 50 ms"):
        solve(problem, "nearest")


def test_capacity_too_small() -> None:
    _, problem = tiny_problem(np.array([[0.0, 500.0], [0.0, 500.0]]))  # ocr needs 400+ replicas of 2 cores
    with pytest.raises(InfeasibleError, match="no placement fits"):
        solve(problem, "milp")
    with pytest.raises(InfeasibleError, match="no placement fits"):  # the LP bound proves it for a heuristic too
        solve(problem, "greedy")
    result = solve(problem, "greedy", lower_bound=0.0)  # without the bound it just fails
    assert not result.success
    assert result.status is Status.FAILED
    assert result.placement is None
    assert "did not fit" in result.message


@pytest.mark.parametrize("seed", range(4))
def test_lagrangian_and_lp_bounds_never_exceed_the_optimum(seed: int) -> None:
    instance = random_instance(np.random.default_rng(100 + seed), 8, 3, 12)
    model = compile_model(instance.problem)
    optimum = solve_checked(instance.graph, instance.problem, "milp").objective
    assert optimum is not None
    greedy = solve(model, "greedy", lower_bound=0.0).objective
    assert greedy is not None
    lagrangian = lagrangian_bound(model, greedy.total)
    assert lagrangian <= optimum.total * (1 + 1e-9)
    assert lp_lower_bound(model) <= optimum.total * (1 + 1e-9)
    assert certified_bound(model, greedy.total) <= optimum.total * (1 + 1e-9)
    # never below the bound it starts from: every demand at its cheapest arc plus its fractional replica cost
    pair = model.arc_service * model.replica_cost.shape[1] + model.arc_node
    unit = model.arc_cost + model.demand_rate[model.arc_demand] * (model.replica_cost.ravel()[pair]
                                                                     / model.replica_capacity.ravel()[pair])
    cheapest = np.full(len(model.demand_rate), np.inf)
    np.minimum.at(cheapest, model.arc_demand, unit)
    assert lagrangian >= cheapest.sum() * (1 - 1e-12)


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**31), st.integers(5, 14), st.integers(1, 4), st.integers(1, 25))
def test_heuristics_always_pass_the_checker(seed: int, nodes: int, services: int, groups: int) -> None:
    instance = random_instance(np.random.default_rng(seed), nodes, services, groups)
    model = compile_model(instance.problem)
    for name in ("nearest", "greedy", "least-loaded", "local-search"):
        result = solve(model, name, budget=Budget(evaluations=300), lower_bound=-np.inf)
        assert result.placement is not None
        assert result.objective is not None
        report = check_placement(instance.graph, instance.problem, result.placement)
        assert report.feasible, (name, report.violations)
        assert report.terms.total == pytest.approx(result.objective.total, rel=1e-9)


def test_instance_generator_is_deterministic() -> None:
    a = random_instance(np.random.default_rng(5), 10, 3, 12).problem
    b = random_instance(np.random.default_rng(5), 10, 3, 12).problem
    assert a.node_names == b.node_names
    assert a.group_nodes == b.group_nodes
    assert np.array_equal(a.rate_per_s, b.rate_per_s)
    assert np.array_equal(a.delay_s, b.delay_s)
    assert len(a.node_names) == 10


@pytest.mark.parametrize("policy", list(SOLVERS))
def test_idle_minimum_replica_goes_to_the_cheapest_node(policy: str) -> None:
    graph, problem = tiny_problem(np.zeros((2, 2)), min_replicas=1)
    result = solve_checked(graph, problem, policy)
    assert result.placement is not None
    assert result.placement.replicas.tolist() == [[0, 0, 1], [0, 0, 0]]  # one "detect" replica in the data centre
    assert result.objective is not None
    assert result.objective.total == pytest.approx(100 * 1e-3)  # weight 100 x 1 core x 1e-3 per core-second
