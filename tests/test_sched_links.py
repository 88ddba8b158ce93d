"""Link capacity (issue 15): the bits per second crossing a link stay within ``link_utilisation × bandwidth``.

The tiny topology (two base stations 1 Gbit/s apart, each 10 Gbit/s from a data centre) makes the numbers easy to
check by hand: one "detect" request carries 8e5 + 8e3 bits.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_sched_support import solve_checked, tiny_graph

from offload.errors import InfeasibleError
from scheduler.checker import check_placement
from scheduler.problem import PlacementProblem, ServiceDemand, UserGroups, Weights, build_problem
from scheduler.result import Placement
from scheduler.solvers import SOLVERS, solve
from scheduler.topology import Resources

BITS = 8e5 + 8e3


def _problem(rate_per_s: float, link_utilisation: float, regions: frozenset[str], cpu_cores: float = 4.0
             ) -> tuple[object, PlacementProblem]:
    graph = tiny_graph(cpu_cores)
    service = ServiceDemand("detect", 1e8, 8e5, 8e3, Resources(1, 0, 1e9), regions=regions)
    groups = UserGroups(("west",), ("bs0",), np.array([[rate_per_s]]))
    return graph, build_problem(graph, [service], groups, weights=Weights(1.0, 100.0, 100.0),
                                target_utilisation=0.5, link_utilisation=link_utilisation)


def test_a_link_every_path_must_cross_is_named_when_overloaded() -> None:
    # only the data centre may host: 20 req/s x 808 kbit = 16.2 Mbit/s over bs0-dc, capped at 0.001 x 10 Gbit/s
    _, problem = _problem(20.0, 0.001, frozenset({"metro"}))
    with pytest.raises(InfeasibleError, match=r"link (bs0–dc|dc–bs0) must carry 16\.16 Mbit/s .* = 10 Mbit/s"):
        solve(problem, "greedy")


@pytest.mark.parametrize("policy", list(SOLVERS))
def test_every_solver_keeps_the_link_within_its_cap(policy: str) -> None:
    # bs0 has one core: one replica carries 5 req/s at utilisation 0.5, so 3 of the 8 req/s must cross bs0-bs1
    # (2.42 Mbit/s); the cap 0.003 x 1 Gbit/s = 3 Mbit/s leaves room for at most 3.7 req/s there
    graph, problem = _problem(8.0, 0.003, frozenset({"city"}), cpu_cores=1.0)
    result = solve_checked(graph, problem, policy)  # the checker verifies the link's traffic too
    assert result.placement is not None
    crossing = sum(share * 8.0 * BITS for node, share in zip(result.placement.node, result.placement.share,
                                                              strict=True) if problem.node_names[node] == "bs1")
    assert 3.0 * BITS * (1 - 1e-9) <= crossing <= 0.003 * 1e9 * (1 + 1e-9)


def test_the_checker_names_an_overloaded_link() -> None:
    graph, problem = _problem(8.0, 0.003, frozenset({"city"}), cpu_cores=4.0)
    everything_far = Placement(np.array([[0, 2, 0]]), np.array([0]), np.array([0]), np.array([1]), np.array([1.0]))
    report = check_placement(graph, problem, everything_far)  # type: ignore[arg-type]
    assert any("carries 6.464 Mbit/s > 0.003 × 1000 Mbit/s" in v and "bs0" in v and "bs1" in v
               for v in report.violations), report.violations


def test_too_tight_a_cap_for_any_split_is_infeasible() -> None:
    _, problem = _problem(8.0, 0.002, frozenset({"city"}), cpu_cores=1.0)  # 3 req/s need 2.42 > 2 Mbit/s
    with pytest.raises(InfeasibleError, match="link caps"):
        solve(problem, "milp")
