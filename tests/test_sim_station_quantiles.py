"""Queue-length percentiles of a station and their intervals against the M/M/1 truth.

In M/M/1 the number in system N is geometric, ``P(N >= n) = ρ^n``, so the number waiting ``Nq = max(N − 1, 0)`` has
``P(Nq <= n) = 1 − ρ^(n+2)`` and its time-weighted ``q``-percentile (the smallest ``n`` with ``P(Nq <= n) >= q``)
is the smallest ``n >= 0`` with ``ρ^(n+2) <= 1 − q``. At ρ = 0.75 the p50 (1) and p95 (9) sit well inside their
steps of the distribution function (0.44 < 0.5 < 0.58 and 0.944 < 0.95 < 0.958), so a consistent estimator settles
on them; p99 (15) is not checked: ``P(Nq <= 14) = 0.98998`` lies a hair below 0.99.
"""

from __future__ import annotations

import math

import pytest

from simulator.builders import mm1_world
from simulator.run import run

RHO = 0.75
RUNS = 40


def _true_percentile(q: float) -> int:
    n = 0
    while RHO ** (n + 2) > 1.0 - q:
        n += 1
    return n


def test_the_closed_form_percentiles() -> None:
    assert [_true_percentile(q) for q in (0.5, 0.95, 0.99)] == [1, 9, 15]


def test_a_single_run_has_percentile_intervals_and_a_growing_queue_has_none() -> None:
    summary = run(mm1_world(7.5, 10.0), duration_s=1000.0, warmup_s=50.0, seed=4, streaming=True)
    station = summary.policies["always_edge"].stations["server"]
    assert set(station.queue_quantiles_ci95) == {"p50", "p95", "p99"}
    for key, half in station.queue_quantiles_ci95.items():
        assert half is not None
        assert math.isfinite(half)
        assert half >= 0.0, key
    assert station.to_dict()["queue_length"]["p95_ci95"] == station.queue_quantiles_ci95["p95"]
    # an overloaded queue grows all run long: its batch means stay correlated, so no interval for either
    growing = run(mm1_world(12.0, 10.0), duration_s=300.0, seed=1,
                  streaming=True).policies["always_edge"].stations["server"]
    assert growing.queue_length.ci95 is None
    assert all(half is None for half in growing.queue_quantiles_ci95.values())


def test_replications_give_student_intervals_for_the_percentiles() -> None:
    result = run(mm1_world(7.5, 10.0), duration_s=300.0, warmup_s=30.0, seed=8, replications=3)
    station = result.policies["always_edge"].stations["server"]
    assert all(half is not None and half >= 0.0 for half in station.queue_quantiles_ci95.values())


@pytest.mark.slow
def test_single_run_percentile_intervals_cover_the_truth() -> None:
    world = mm1_world(7.5, 10.0)  # λ = 7.5/s, μ = 10/s
    truth = {"p50": _true_percentile(0.50), "p95": _true_percentile(0.95)}
    covered = dict.fromkeys(truth, 0)
    for seed in range(500, 500 + RUNS):
        station = run(world, duration_s=2000.0, warmup_s=100.0, seed=seed,
                      streaming=True).policies["always_edge"].stations["server"]
        for key, value in truth.items():
            estimate, half = station.queue_quantiles[key], station.queue_quantiles_ci95[key]
            assert estimate is not None
            covered[key] += half is not None and abs(estimate - value) <= half
    # nominal 95 %; loosely: batch quantiles of a busy queue are correlated and biased, so allow some shortfall
    assert all(count >= 0.85 * RUNS for count in covered.values()), covered
