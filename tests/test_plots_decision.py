"""Decision-region data and map, checked against the closed-form licence-plate rule."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.collections import QuadMesh

from offload import Device, Link, Parameter, Preference, Server, Target, Task
from offload.decision import EnergyView, Objective
from offload.errors import ParameterError
from simulator.plots import break_even_curve, decision_grid, decision_region_map, with_parameter

RTT_S, EDGE_S, LOCAL_S = 0.02, 0.009, 13.0
TASK = Task(input_bits=2.4e6)
DEVICE = Device(compute_time_s=LOCAL_S, compute_power_w=6.4, idle_power_w=2.7, tx_power_w=1.5)
EDGE = Target("edge", Server(compute_time_s=EDGE_S), Link(uplink_bps=5e6, rtt_s=RTT_S))
UPLINK_BPS = np.geomspace(1e4, 1e8, 23)
INPUT_BITS = np.geomspace(1e5, 1e9, 17)


def _latency_offload_wins(uplink_bps: np.ndarray, input_bits: np.ndarray) -> np.ndarray:
    """Hand-derived: offload iff D/B + RTT + t_edge < t_local, i.e. B > D / (t_local - RTT - t_edge)."""
    return uplink_bps[None, :] > input_bits[:, None] / (LOCAL_S - RTT_S - EDGE_S)


def test_decision_grid_matches_closed_form_latency_rule() -> None:
    grid = decision_grid(TASK, DEVICE, [EDGE], x_parameter=Parameter.UPLINK, x_values=UPLINK_BPS,
                         y_parameter=Parameter.INPUT, y_values=INPUT_BITS)
    assert grid.options == ("local", "edge")
    assert grid.winner.shape == (INPUT_BITS.size, UPLINK_BPS.size)
    np.testing.assert_array_equal(grid.winner == 1, _latency_offload_wins(UPLINK_BPS, INPUT_BITS))
    assert 0 < grid.share("edge") < 1
    assert not grid.deadline_missed.any()


def test_break_even_curve_is_the_closed_form_boundary() -> None:
    curve = break_even_curve(TASK, DEVICE, EDGE, x_parameter=Parameter.UPLINK, y_parameter=Parameter.INPUT,
                             y_values=INPUT_BITS)
    np.testing.assert_allclose(curve, INPUT_BITS / (LOCAL_S - RTT_S - EDGE_S), rtol=1e-9)


def test_decision_region_map_draws_winners_and_curves() -> None:
    grid = decision_grid(TASK, DEVICE, [EDGE], x_parameter=Parameter.UPLINK, x_values=UPLINK_BPS,
                         y_parameter=Parameter.INPUT, y_values=INPUT_BITS)
    energy = Preference(Objective.ENERGY, EnergyView.DEVICE)
    curves = {
        "latency": break_even_curve(TASK, DEVICE, EDGE, x_parameter=Parameter.UPLINK, y_parameter=Parameter.INPUT,
                                    y_values=INPUT_BITS),
        "device energy": break_even_curve(TASK, DEVICE, EDGE, x_parameter=Parameter.UPLINK,
                                          y_parameter=Parameter.INPUT, y_values=INPUT_BITS, preference=energy),
    }
    ax = decision_region_map(grid, curves).axes[0]
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    np.testing.assert_array_equal(np.asarray(mesh.get_array()).reshape(grid.winner.shape), grid.winner)
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["break-even: latency", "break-even: device energy"]
    # coinciding curves stay visible (issue 18: notebook 01's system-energy line hid under another): own colour,
    # each thinner than the one drawn before, drawn above it
    assert lines[0].get_color() != lines[1].get_color()
    assert lines[0].get_linewidth() > lines[1].get_linewidth()
    assert lines[0].get_zorder() < lines[1].get_zorder()
    np.testing.assert_allclose(np.asarray(lines[0].get_xdata(), dtype=float), curves["latency"] / 1e6)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[:2] == ["local wins", "edge wins"]
    assert ax.get_xlabel() == "uplink [Mbit/s]"
    assert ax.get_ylabel() == "input size [kB]"


def test_decision_region_map_rejects_misshapen_curve() -> None:
    grid = decision_grid(TASK, DEVICE, [EDGE], x_parameter=Parameter.UPLINK, x_values=UPLINK_BPS[:3],
                         y_parameter=Parameter.INPUT, y_values=INPUT_BITS[:4])
    with pytest.raises(ParameterError, match=r"needs one value per y \(4\)"):
        decision_region_map(grid, {"latency": [1.0, 2.0]})


def test_with_parameter_changes_only_the_named_target() -> None:
    cloud = Target("cloud", Server(speed_ops_per_s=1e11), Link(uplink_bps=1e6, rtt_s=0.1))
    _, _, targets = with_parameter(Parameter.UPLINK, 3e6, TASK, DEVICE, [EDGE, cloud], applies_to="cloud")
    assert [t.link.uplink_bps for t in targets] == [5e6, 3e6]
    with pytest.raises(ParameterError, match=r"applies_to.*must name a target: edge, cloud"):
        with_parameter(Parameter.UPLINK, 3e6, TASK, DEVICE, [EDGE, cloud], applies_to="fog")
    with pytest.raises(ParameterError, match="measured time, not a speed"):
        with_parameter(Parameter.EDGE_SPEED, 1e10, TASK, DEVICE, [EDGE])


def test_decision_grid_needs_two_parameters() -> None:
    with pytest.raises(ParameterError, match="must differ from x_parameter"):
        decision_grid(TASK, DEVICE, [EDGE], x_parameter=Parameter.UPLINK, x_values=[1e6],
                      y_parameter=Parameter.UPLINK, y_values=[1e6])


def test_decision_region_map_draws_into_given_axes_of_a_subfigure() -> None:
    from matplotlib.figure import Figure

    grid = decision_grid(TASK, DEVICE, [EDGE], x_parameter=Parameter.UPLINK, x_values=UPLINK_BPS[:4],
                         y_parameter=Parameter.INPUT, y_values=INPUT_BITS[:3])
    root = Figure()
    ax = root.subfigures(1, 2)[1].add_subplot()
    assert decision_region_map(grid, ax=ax) is root
    assert ax.get_title() == "Where should the task run?"
