"""Kubernetes-style filter and score (scheduler.scoring): every plugin against a hand computation from the published
kube-scheduler formulas, and against the formulas written out in integer arithmetic as kube evaluates them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from offload.errors import ParameterError
from scheduler.scoring import (
    MAX_IMAGE_BITS,
    MIN_IMAGE_BITS,
    Scoring,
    allocation_score,
    fits,
    image_locality_score,
    node_scores,
    schedule,
    spread_score,
)

MIB_BITS = 2**20 * 8.0


def test_least_allocated_by_hand() -> None:
    # cpu: 3 cores, none used, request 1 -> (3 - 1) * 100 / 3 = 66.7 -> 66; memory: 10, 2 used, request 1 ->
    # requested 3 -> 70. Equal weights: (66 + 70) / 2 = 68; cpu weight 2: (132 + 70) / 3 = 67.3 -> 67.
    cap, free, req = np.array([[3.0, 0.0, 10.0]]), np.array([[3.0, 0.0, 8.0]]), np.array([1.0, 0.0, 1.0])
    assert allocation_score("least-allocated", cap, free, req, (1, 0, 1)).tolist() == [68.0]
    assert allocation_score("least-allocated", cap, free, req, (2, 0, 1)).tolist() == [67.0]


def test_most_allocated_by_hand() -> None:
    # cpu 1 * 100 / 3 = 33.3 -> 33; memory 3 * 100 / 10 = 30; (33 + 30) / 2 = 31.5 -> 31.
    cap, free, req = np.array([[3.0, 0.0, 10.0]]), np.array([[3.0, 0.0, 8.0]]), np.array([1.0, 0.0, 1.0])
    assert allocation_score("most-allocated", cap, free, req, (1, 0, 1)).tolist() == [31.0]


def test_a_resource_the_node_lacks_or_does_not_limit_is_left_out() -> None:
    # GPU weight 5 but the node has no GPU, memory unlimited: only cpu counts: (4 - 1) * 100 / 4 = 75.
    cap, free, req = np.array([[4.0, 0.0, np.inf]]), np.array([[4.0, 0.0, np.inf]]), np.array([1.0, 0.0, 1.0])
    assert allocation_score("least-allocated", cap, free, req, (1, 5, 1)).tolist() == [75.0]
    assert allocation_score("most-allocated", cap, free, req, (1, 5, 1)).tolist() == [25.0]
    # nothing weighted is offered: 0
    assert allocation_score("least-allocated", cap, free, req, (0, 1, 0)).tolist() == [0.0]


def test_over_requested_resource_scores_zero_least_and_full_most() -> None:
    cap, free, req = np.array([[2.0, 0.0, 0.0]]), np.array([[1.0, 0.0, 0.0]]), np.array([2.0, 0.0, 0.0])
    assert allocation_score("least-allocated", cap, free, req, (1, 0, 0)).tolist() == [0.0]
    assert allocation_score("most-allocated", cap, free, req, (1, 0, 0)).tolist() == [100.0]


@given(cap=st.lists(st.integers(1, 10**6), min_size=3, max_size=3),
       used=st.lists(st.integers(0, 10**6), min_size=3, max_size=3),
       req=st.lists(st.integers(0, 10**6), min_size=3, max_size=3),
       weights=st.lists(st.integers(0, 100), min_size=3, max_size=3).filter(lambda w: sum(w) > 0))
def test_allocation_scores_equal_kubes_integer_arithmetic(cap: list[int], used: list[int], req: list[int],
                                                          weights: list[int]) -> None:
    """Kube works in int64 (millicores, bytes): per resource ``(cap - r) * 100 // cap`` or ``min(r, cap) * 100 //
    cap`` with ``r = used + request``, then ``sum(score * w) // sum(w)``."""
    used = [min(u, c) for u, c in zip(used, cap, strict=True)]
    requested = [u + r for u, r in zip(used, req, strict=True)]
    least = [0 if r > c else (c - r) * 100 // c for r, c in zip(requested, cap, strict=True)]
    most = [min(r, c) * 100 // c for r, c in zip(requested, cap, strict=True)]
    free = np.array([[c - u for c, u in zip(cap, used, strict=True)]], dtype=float)
    for strategy, per in (("least-allocated", least), ("most-allocated", most)):
        expected = sum(p * w for p, w in zip(per, weights, strict=True)) // sum(weights)
        got = allocation_score(strategy, np.array([cap], dtype=float), free, np.array(req, dtype=float),  # type: ignore[arg-type]
                               np.array(weights, dtype=float))
        assert got.tolist() == [float(expected)]


def test_image_locality_by_hand() -> None:
    # 500 MiB image on 2 of 4 nodes: spread-scaled 250 MiB; (250 - 23) / (1000 - 23) * 100 = 23.2 -> 23
    held = np.array([True, False, True, False])
    assert image_locality_score(500 * MIB_BITS, held).tolist() == [23.0, 0.0, 23.0, 0.0]
    # below the minimum threshold: 0 even where held; above the maximum: 100
    assert image_locality_score(10 * MIB_BITS, np.ones(3, bool)).tolist() == [0.0, 0.0, 0.0]
    assert image_locality_score(2000 * MIB_BITS, np.ones(2, bool)).tolist() == [100.0, 100.0]
    assert MIN_IMAGE_BITS == 23 * MIB_BITS
    assert MAX_IMAGE_BITS == 1000 * MIB_BITS


def test_spread_by_hand() -> None:
    counts = np.array([0, 1, 3, 2])
    # max 3: 100 * (3 - c) / 3 -> 100, 66.7 -> 66, 0, 33.3 -> 33
    assert spread_score(counts, np.ones(4, bool)).tolist() == [100.0, 66.0, 0.0, 33.0]
    # normalised over the kept nodes only: without node 2 the max is 2
    assert spread_score(counts, np.array([True, True, False, True])).tolist() == [100.0, 50.0, 0.0, 0.0]
    assert spread_score(np.zeros(3), np.ones(3, bool)).tolist() == [100.0, 100.0, 100.0]


def test_filter_rules_out_every_node_short_of_any_resource() -> None:
    free = np.array([[4.0, 1.0, 8e9], [0.5, 1.0, 8e9], [4.0, 0.0, 8e9], [4.0, 1.0, 1e9], [1.0, 1.0, 2e9]])
    request = np.array([1.0, 1.0, 2e9])
    assert fits(free, request).tolist() == [True, False, False, False, True]
    counts = np.zeros(5)
    assert schedule(Scoring(), free, free, request, counts, eligible=[False, True, True, True, True]) == 4
    assert schedule(Scoring(), free, free, request, counts, eligible=[False, True, True, True, False]) is None


def test_weighted_total_by_hand_and_strategy_choice() -> None:
    # node 0: 8 cores, 6 free; node 1: 8 cores, all free; request 2 cores; only cpu weighted.
    cap = np.array([[8.0, 0.0, 0.0], [8.0, 0.0, 0.0]])
    free = np.array([[6.0, 0.0, 0.0], [8.0, 0.0, 0.0]])
    req = np.array([2.0, 0.0, 0.0])
    kept = np.ones(2, bool)
    counts = np.array([1, 0])
    least = Scoring("least-allocated", resource_weights=(1, 0, 0), spread=0.0)
    most = Scoring("most-allocated", resource_weights=(1, 0, 0), spread=0.0)
    # least: (8-4)*100/8 = 50 vs (8-2)*100/8 = 75; most: 50 vs 25
    assert node_scores(least, cap, free, req, counts, kept).tolist() == [50.0, 75.0]
    assert node_scores(most, cap, free, req, counts, kept).tolist() == [50.0, 25.0]
    assert schedule(least, cap, free, req, counts) == 1
    assert schedule(most, cap, free, req, counts) == 0
    # spread weight 2 (counts 1, 0 -> 0, 100) and image weight 3 (1000 MiB image on node 0 only: spread-scaled
    # 500 MiB -> (500 - 23) / 977 * 100 = 48.8 -> 48): most-allocated totals 50 + 0 + 144 = 194 vs 25 + 200 = 225
    mixed = Scoring("most-allocated", resource_weights=(1, 0, 0), spread=2.0, image_locality=3.0)
    scores = node_scores(mixed, cap, free, req, counts, kept, image_bits=1000 * MIB_BITS,
                         has_image=np.array([True, False]))
    assert scores.tolist() == [194.0, 225.0]
    assert schedule(mixed, cap, free, req, counts, image_bits=1000 * MIB_BITS, has_image=[True, False]) == 1


def test_ties_go_to_the_first_node_in_order() -> None:
    cap = np.tile([4.0, 0.0, 8e9], (3, 1))
    counts = np.zeros(3)
    req = np.array([1.0, 0.0, 1e9])
    assert schedule(Scoring(), cap, cap, req, counts) == 0
    assert schedule(Scoring(), cap, cap, req, counts, eligible=[False, True, True]) == 1
    assert all(schedule(Scoring(), cap, cap, req, counts) == 0 for _ in range(5))


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"strategy": "balanced"}, "strategy.*least-allocated, most-allocated"),
    ({"spread": -1.0}, "spread"),
    ({"resource_weights": (0.0, 0.0, 0.0)}, "at least one must be > 0"),
    ({"resource_weights": (1.0, -1.0, 0.0)}, "resource_weights.gpu"),
])
def test_bad_scoring_is_refused(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        Scoring(**kwargs)  # type: ignore[arg-type]
