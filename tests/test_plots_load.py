"""Latency against load: one line per policy, CI bands, the saturation point marked; checked on M/M/1 curves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection

from offload.errors import ParameterError
from offload.queueing import mm1_mean_sojourn_s
from simulator.plots import latency_vs_load

SERVICE_RATE_PER_S = 100.0
FRAME_RATE_PER_S = 2.0


def _mm1_table() -> pd.DataFrame:
    cameras = np.arange(5, 50, 5)
    edge = mm1_mean_sojourn_s(cameras * FRAME_RATE_PER_S, SERVICE_RATE_PER_S)
    return pd.DataFrame({
        "cameras": np.concatenate([cameras, cameras]),
        "policy": ["edge"] * cameras.size + ["local"] * cameras.size,
        "latency_mean_s": np.concatenate([edge, np.full(cameras.size, 13.0)]),
    }).assign(low=lambda t: t.latency_mean_s * 0.9, high=lambda t: t.latency_mean_s * 1.1)


def test_latency_vs_load_draws_policies_knee_and_bands() -> None:
    table = _mm1_table()
    capacity = SERVICE_RATE_PER_S / FRAME_RATE_PER_S
    ax = latency_vs_load(table, load_column="cameras", value_column="latency_mean_s", ci_low_column="low",
                         ci_high_column="high", capacity_load=capacity, value_label="mean latency [s]").axes[0]
    edge, local, knee = ax.get_lines()
    assert (edge.get_label(), local.get_label()) == ("edge", "local")
    # M/M/1 mean sojourn 1 / (mu - lambda): at 25 cameras lambda = 50/s, so 20 ms
    assert np.asarray(edge.get_ydata(), dtype=float)[4] == pytest.approx(1 / (100 - 50))
    assert np.asarray(knee.get_xdata(), dtype=float).tolist() == [50.0, 50.0]
    assert knee.get_label() == "ρ = 1 at 50"
    assert sum(isinstance(c, PolyCollection) for c in ax.collections) == 2
    assert ax.get_yscale() == "log"
    assert ax.get_ylabel() == "mean latency [s]"


def test_latency_vs_load_draws_extra_markers() -> None:
    ax = latency_vs_load(_mm1_table(), load_column="cameras", value_column="latency_mean_s",
                         markers={"uplink saturates": 40.0}).axes[0]
    marker = ax.get_lines()[-1]
    assert marker.get_label() == "uplink saturates"
    assert np.asarray(marker.get_xdata(), dtype=float).tolist() == [40.0, 40.0]


def test_latency_vs_load_names_missing_columns() -> None:
    with pytest.raises(ParameterError, match=r"needs column.*p95"):
        latency_vs_load(_mm1_table(), load_column="cameras", value_column="p95")
