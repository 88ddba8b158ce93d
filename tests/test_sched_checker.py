"""The independent checker against hand-computed numbers, and that it catches each kind of violation.

Issue 15 changed the queueing term: a pool waits as M/M/k at the load it carries (Allen–Cunneen for non-Poisson
inputs), no longer as one replica at the utilisation cap; the hand computation and the SLO example follow that.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_sched_support import tiny_problem

from scheduler.checker import check_placement
from scheduler.result import Placement


def _placement(replicas: list[list[int]], entries: list[tuple[int, int, int, float]]) -> Placement:
    g, s, n, share = (np.array(col) for col in zip(*entries, strict=True))
    return Placement(np.array(replicas, dtype=np.int64), g.astype(np.int64), s.astype(np.int64),
                     n.astype(np.int64), share.astype(float))


def test_hand_computed_terms() -> None:
    graph, problem = tiny_problem(np.array([[2.0, 0.0], [1.0, 0.0]]))
    # one replica of "detect" on bs0 serves both groups
    report = check_placement(graph, problem, _placement([[1, 0, 0], [0, 0, 0]], [(0, 0, 0, 1.0), (1, 0, 0, 1.0)]))
    assert report.feasible, report.violations
    mu = 1e9 / 1e8  # requests/s of one 1-core replica at 1 Gops/s per core
    wait = 3.0 / (mu * (mu - 3.0))  # M/M/1 wait of the pool at the 3 req/s it carries, λ / (μ (μ − λ))
    local = wait + 1.0 / mu
    # bs0-bs1: 0.0114 degrees of longitude at -37.8136 degrees (equirectangular is exact enough at 1 km)
    distance = math.radians(0.0114) * 6_371_008.8 * math.cos(math.radians(-37.8136))
    network = 2 * (distance * 4.9e-9 + 1e-3) + (8e5 + 8e3) / 1e9
    latency = (2.0 * local + 1.0 * (local + network)) / 3.0
    assert report.terms.mean_latency_s == pytest.approx(latency, rel=1e-6)
    assert report.terms.compute_cost_per_s == pytest.approx(2e-3)  # one core at bs0's price
    assert report.terms.traffic_cost_per_s == pytest.approx(1.0 * 8.08e5 * 1e-9)
    assert report.terms.total == pytest.approx(latency + 100 * 2e-3 + 100 * 8.08e5 * 1e-9)


def test_catches_overload_capacity_shares_and_bounds() -> None:
    graph, problem = tiny_problem(np.array([[6.0, 0.0], [1.0, 0.0]]), min_replicas=1)
    overloaded = _placement([[1, 0, 0], [0, 0, 0]], [(0, 0, 0, 1.0), (1, 0, 0, 1.0)])
    report = check_placement(graph, problem, overloaded)
    assert not report.feasible
    assert any("exceeds 1 replicas" in v for v in report.violations)
    too_many = _placement([[5, 0, 0], [0, 0, 0]], [(0, 0, 0, 1.0), (1, 0, 0, 0.5)])
    text = " | ".join(check_placement(graph, problem, too_many).violations)
    assert "CPU on bs0 over capacity: 5 > 4" in text
    assert "shares sum to 0.5" in text
    none = _placement([[0, 0, 0], [0, 0, 0]], [(0, 0, 2, 1.0), (1, 0, 2, 1.0)])
    assert any("detect has 0 replicas, outside [1," in v for v in check_placement(graph, problem, none).violations)


def test_catches_slo_violation() -> None:
    graph, problem = tiny_problem(np.array([[1.0, 0.0], [0.0, 0.0]]), slo_s=0.05)
    far = _placement([[0, 0, 1], [0, 0, 0]], [(0, 0, 2, 1.0)])  # 50 ms of compute plus queue and ~4.5 ms round trip
    report = check_placement(graph, problem, far)
    assert any("SLO" in v for v in report.violations)


def test_pool_wait_follows_erlang_c_and_the_allen_cunneen_factor() -> None:
    graph, problem = tiny_problem(np.array([[6.0, 0.0], [2.0, 0.0]]))
    # two "detect" replicas on bs0 (μ = 10 each) carry 8 req/s: M/M/2 with ρ = 0.4, Wq = ρ² / (μ (1 − ρ²)) ... by
    # Erlang C: C(2, 0.8) = 2ρ² / (1 + ρ), Wq = C / (2μ − λ)
    rho, mu, lam = 0.4, 10.0, 8.0
    wait = (2 * rho**2 / (1 + rho)) / (2 * mu - lam)
    report = check_placement(graph, problem, _placement([[2, 0, 0], [0, 0, 0]], [(0, 0, 0, 1.0), (1, 0, 0, 1.0)]))
    assert report.feasible, report.violations
    base = check_placement(graph, problem, _placement([[60, 0, 0], [0, 0, 0]], [(0, 0, 0, 1.0), (1, 0, 0, 1.0)]))
    assert report.terms.mean_latency_s - base.terms.mean_latency_s == pytest.approx(wait, rel=1e-6)
