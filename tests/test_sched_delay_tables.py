"""The MILP's queueing tables: tangents never overstate the exact queueing (closed forms written out here), touch it
at their points, and the exact solver certifies its optimum to ``mip_rel_gap`` with the understatement it reports."""

from __future__ import annotations

import numpy as np
import pytest
from test_sched_support import solve_checked, tiny_problem

from scheduler.instances import random_instance
from scheduler.model import compile_model
from scheduler.result import Status
from scheduler.solvers.delay_tables import TANGENTS, build_tables, understatement
from scheduler.solvers.milp import pools


def _closed_form(load: np.ndarray, mu: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Mean number waiting: M/M/1 ρ²/(1 − ρ), M/M/2 2ρ³/(1 − ρ²) with ρ = λ/(kμ) (Kleinrock Vol. 1, §3.5)."""
    rho = load / (k * mu)
    return np.where(k == 1, rho**2 / (1 - rho), 2 * rho**3 / (1 - rho**2))


def _tables(extra: tuple[np.ndarray, np.ndarray] | None = None):  # type: ignore[no-untyped-def]
    _, problem = tiny_problem(np.array([[2.0, 1.0], [1.5, 0.5]]))
    model = compile_model(problem)
    service, node = pools(model)
    tables = build_tables(model, service, node, extra)
    assert set(tables.replicas.tolist()) <= {1, 2}
    mu = model.service_rate_per_s[service[tables.pool], node[tables.pool]]
    factor = model.queue_factor[service[tables.pool]]
    return tables, mu, factor


def test_tangents_stay_below_the_exact_queueing_and_touch_it_at_their_points() -> None:
    tables, mu, factor = _tables()
    rows = np.arange(len(tables.pool))
    assert np.array_equal(np.bincount(tables.cut_row, minlength=len(rows)), np.full(len(rows), TANGENTS))
    for share in np.linspace(0.0, 1.0, 41):
        load = share * tables.capacity_per_s
        gap = understatement(tables, rows, load)
        exact = factor * _closed_form(load, mu, tables.replicas)
        assert (gap >= 0).all()
        assert (gap <= exact + 1e-12).all()  # the cuts are >= 0 where the queue is
    # at every tangent point the cut equals the closed form (and so does the largest cut)
    at = tables.slope * tables.cut_load + tables.intercept
    exact = factor[tables.cut_row] * _closed_form(tables.cut_load, mu[tables.cut_row], tables.replicas[tables.cut_row])
    assert at == pytest.approx(exact, rel=1e-9, abs=1e-15)
    last = np.flatnonzero(np.r_[tables.cut_row[1:] != tables.cut_row[:-1], True])  # each row's largest point: its cap
    assert tables.cut_load[last] == pytest.approx(tables.capacity_per_s)
    assert understatement(tables, rows, tables.cut_load[last]) == pytest.approx(0.0, abs=1e-12)


def test_an_added_tangent_closes_the_gap_at_its_load_and_repeats_are_dropped() -> None:
    plain, _, _ = _tables()
    rows = np.arange(len(plain.pool))
    load = 0.37 * plain.capacity_per_s  # between grid points
    before = understatement(plain, rows, load)
    assert (before > 0).all()
    tables, _, _ = _tables((np.r_[rows, rows], np.r_[load, load]))
    assert len(tables.cut_row) == len(plain.cut_row) + len(rows)
    assert understatement(tables, rows, load) == pytest.approx(0.0, abs=1e-12)
    beyond, _, _ = _tables((rows, 5.0 * plain.capacity_per_s))  # clipped to the cap, already a grid point
    assert len(beyond.cut_row) == len(plain.cut_row)


@pytest.mark.parametrize("seed", [0, 1])
def test_the_milp_certifies_its_optimum_on_a_queueing_heavy_instance(seed: int) -> None:
    # 4 nodes x 12 services x 30 groups: totals near 0.02, where HiGHS's absolute tolerance (1e-6) once stopped it
    # at a 2.6e-5 relative gap (seed 0) unless the costs are scaled
    instance = random_instance(np.random.default_rng(seed), 4, 12, 30)
    result = solve_checked(instance.graph, instance.problem, "milp")
    assert result.objective is not None
    assert result.status is Status.OPTIMAL, result.message
    assert result.gap <= 1e-6
    assert 0.0 <= result.approximation_error <= 1e-6 * result.objective.total
    assert "round(s) of queueing tables" in result.message
