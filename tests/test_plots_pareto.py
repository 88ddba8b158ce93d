"""Pareto-front helper against a brute-force dominance checker; the Pareto plot draws the front."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from offload.errors import ParameterError
from simulator.plots import pareto_front, pareto_plot


def _dominates(a: list[float], b: list[float]) -> bool:
    return all(x <= y for x, y in zip(a, b, strict=True)) and any(x < y for x, y in zip(a, b, strict=True))


def _front_brute_force(points: list[list[float]]) -> list[bool]:
    return [not any(_dominates(q, p) for q in points) for p in points]


costs = arrays(np.float64, st.tuples(st.integers(1, 25), st.integers(1, 3)),
               elements=st.sampled_from([0.0, 1.0, 2.0, 2.5, 3.0, 7.0, np.inf]))


@given(costs)
def test_pareto_front_matches_brute_force(points: np.ndarray) -> None:
    assert pareto_front(points).tolist() == _front_brute_force(points.tolist())


@given(costs)
def test_every_point_off_the_front_is_dominated_by_a_front_point(points: np.ndarray) -> None:
    front = pareto_front(points)
    assert front.any()
    for i, j in itertools.product(range(len(points)), range(len(points))):
        if front[i] and front[j]:
            assert not _dominates(points[j].tolist(), points[i].tolist())
    for i in np.flatnonzero(~front):
        assert any(_dominates(points[j].tolist(), points[i].tolist()) for j in np.flatnonzero(front))


def test_pareto_front_rejects_nan_and_1d() -> None:
    with pytest.raises(ParameterError, match="must not contain NaN"):
        pareto_front([[1.0, np.nan]])
    with pytest.raises(ParameterError, match="2-D array"):
        pareto_front([1.0, 2.0])


def test_pareto_plot_draws_front_per_group() -> None:
    table = pd.DataFrame({
        "latency_s": [1.0, 2.0, 3.0, 2.5, 1.0, 4.0],
        "energy_j": [3.0, 2.0, 1.0, 2.5, 1.0, 0.5],
        "w_latency": [1.0, 0.5, 0.0, 0.2, 1.0, 0.0],
        "view": ["device", "device", "device", "device", "system", "system"],
    })
    ax = pareto_plot(table, x_column="latency_s", y_column="energy_j", label_column="w_latency",
                     group_column="view").axes[0]
    device, system = ax.get_lines()
    assert device.get_label() == "device: Pareto front (3 of 4)"
    np.testing.assert_allclose(np.asarray(device.get_xdata(), dtype=float), [1.0, 2.0, 3.0])
    np.testing.assert_allclose(np.asarray(system.get_ydata(), dtype=float), [1.0, 0.5])
    assert {t.get_text() for t in ax.texts} == {"1", "0.5", "0"}


def test_pareto_plot_thins_labels() -> None:
    weights = np.linspace(0.0, 1.0, 41)
    table = pd.DataFrame({"latency_s": weights, "energy_j": 1.0 - weights, "w": weights})
    ax = pareto_plot(table, x_column="latency_s", y_column="energy_j", label_column="w", max_labels=10).axes[0]
    assert 1 <= len(ax.texts) <= 10
    assert len(ax.get_lines()[0].get_xdata()) == 41
