"""The filter-score placement solver: replicas where the Kubernetes scoring puts them (computed by hand on the tiny
topology), requests spread in proportion to the replicas' service rates, every answer accepted by the checker."""

from __future__ import annotations

import numpy as np
import pytest
from test_sched_support import solve_checked, tiny_problem

from scheduler.checker import check_placement
from scheduler.instances import random_instance
from scheduler.model import compile_model
from scheduler.problem import ServiceDemand, UserGroups, build_problem
from scheduler.result import Status
from scheduler.scoring import Scoring
from scheduler.solvers import Budget, solve
from scheduler.solvers.filter_score import FilterScore
from scheduler.topology import Resources


def _shares(result, problem) -> dict[str, float]:  # type: ignore[no-untyped-def]
    placement = result.placement
    return {problem.node_names[int(n)]: float(share) for n, share in zip(placement.node, placement.share,
                                                                           strict=True)}


def test_least_allocated_by_hand() -> None:
    """detect (1 core, 1 GB; mu 10/s on a base station, 20/s on the dc) at 14/s from west, sized for 50 %.
    Replica 1: least-allocated bs0 (75 + 87) / 2 = 81, dc (98 + 99) / 2 = 98 -> dc (capacity 10/s < 14).
    Replica 2: bs0 81 + 2 * spread 100 = 281, dc 97 + 0 -> bs0 (first of the tied base stations); 10 + 5 >= 14.
    Routing in proportion to mu 20 : 10 -> dc 2/3, bs0 1/3."""
    graph, problem = tiny_problem(np.array([[14.0, 0.0], [0.0, 0.0]]))
    result = solve_checked(graph, problem, "filter-score")
    assert problem.node_names == ("bs0", "bs1", "dc")
    assert result.placement is not None
    assert result.placement.replicas.tolist() == [[1, 0, 1], [0, 0, 0]]
    assert _shares(result, problem) == pytest.approx({"dc": 2 / 3, "bs0": 1 / 3}, rel=1e-12)


def test_most_allocated_by_hand() -> None:
    """Most allocated: replica 1 bs0 (25 + 12) / 2 = 18 vs dc 0 -> bs0; replica 2: bs1 18 + 200 vs dc 0 + 200 vs
    bs0 37 + 0 -> bs1; replica 3: spread 0, 0, 100 -> dc; capacity 5 + 5 + 10 >= 14. Shares mu 10 : 10 : 20."""
    graph, problem = tiny_problem(np.array([[14.0, 0.0], [0.0, 0.0]]))
    result = FilterScore(Scoring("most-allocated")).solve(compile_model(problem), budget=Budget(),
                                                          rng=np.random.default_rng(0))
    assert result.replicas is not None
    assert result.replicas.tolist() == [[1, 1, 1], [0, 0, 0]]
    full = solve_checked(graph, problem, "filter-score")  # the registry's default is least allocated
    assert full.placement is not None
    assert full.placement.replicas.tolist() != result.replicas.tolist()
    model = compile_model(problem)
    shares = {problem.node_names[int(model.arc_node[a])]: float(result.arc_share[a])  # type: ignore[index]
              for a in range(len(model.arc_node))}
    assert shares == pytest.approx({"bs0": 0.25, "bs1": 0.25, "dc": 0.5}, rel=1e-12)


def test_min_replicas_and_idle_services_are_scheduled() -> None:
    graph, problem = tiny_problem(np.array([[2.0, 0.0], [0.0, 0.0]]), min_replicas=3)
    result = solve_checked(graph, problem, "filter-score")
    assert result.placement is not None
    # spread puts the three replicas on three nodes; ocr has no demand and no minimum: no replica
    assert result.placement.replicas.tolist() == [[1, 1, 1], [0, 0, 0]]


def test_no_room_is_a_failed_result_with_a_reason() -> None:
    graph = tiny_problem(np.array([[3.0, 0.0], [0.0, 0.0]]))[0]
    capped = build_problem(graph, [ServiceDemand("detect", 1e8, 8e5, 8e3, Resources(1, 0, 1e9), max_replicas=1)],
                           UserGroups(("west",), ("bs0",), np.array([[30.0]])), target_utilisation=0.5)
    result = solve(capped, "filter-score", lower_bound=0.0)
    assert result.status is Status.FAILED
    assert "does not fit the replicas of detect" in result.message


@pytest.mark.parametrize("seed", range(4))
def test_random_instances_are_feasible_and_deterministic(seed: int) -> None:
    instance = random_instance(np.random.default_rng(seed), 20, 8, 60)
    model = compile_model(instance.problem)
    first = solve(model, "filter-score", lower_bound=0.0)
    again = solve(model, "filter-score", lower_bound=0.0, rng=np.random.default_rng(99))
    assert first.placement is not None
    assert again.placement is not None
    report = check_placement(instance.graph, instance.problem, first.placement)
    assert report.feasible, report.violations
    assert first.objective is not None
    assert report.terms.total == pytest.approx(first.objective.total, rel=1e-9)
    assert np.array_equal(first.placement.replicas, again.placement.replicas)
    assert np.array_equal(first.placement.share, again.placement.share)
