"""Figures of the research models: the lines drawn are the table's numbers, and bad tables are refused by name."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from offload.errors import ParameterError
from simulator.plots.research import beneficial_users_plot, lyapunov_tradeoff_plot, wardrop_plot


def test_beneficial_users_plot_draws_one_line_per_channel_count_and_the_diagonal() -> None:
    table = pd.DataFrame({"channels": [1, 1, 3, 3], "users": [10, 5, 5, 10], "beneficial_users": [1, 1, 3, 4]})
    ax = beneficial_users_plot(table).axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {"1 channels", "3 channels", "all users offload"}
    assert list(lines["3 channels"].get_xdata()) == [5, 10]  # sorted by N
    assert list(lines["3 channels"].get_ydata()) == [3, 4]


def test_wardrop_plot_has_delays_and_the_ratio() -> None:
    table = pd.DataFrame({"load": [2.0, 1.0], "selfish_s": [0.5, 0.3], "social_s": [0.4, 0.3],
                          "price_of_anarchy": [1.25, 1.0]})
    delay, ratio = wardrop_plot(table).axes
    assert [line.get_label() for line in delay.get_lines()] == ["selfish (Wardrop equilibrium)", "social optimum"]
    assert list(ratio.get_lines()[0].get_ydata()) == [1.0, 1.25]


def test_lyapunov_plot_uses_a_log_v_axis_and_two_scales() -> None:
    table = pd.DataFrame({"V": [1e3, 1e4, 1e5], "cost": [3.0, 2.0, 1.5], "battery_j": [0.1, 1.0, 10.0]})
    figure = lyapunov_tradeoff_plot(table)
    assert figure.axes[0].get_xscale() == "log"
    assert np.allclose(figure.axes[1].get_lines()[0].get_ydata(), [0.1, 1.0, 10.0])


def test_missing_columns_and_empty_tables_are_named() -> None:
    with pytest.raises(ParameterError, match="needs column"):
        beneficial_users_plot(pd.DataFrame({"users": [1]}))
    with pytest.raises(ParameterError, match="at least one row"):
        wardrop_plot(pd.DataFrame(columns=["load", "selfish_s", "social_s", "price_of_anarchy"]))
