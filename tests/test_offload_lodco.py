"""LODCO (Mao, Zhang, Letaief, IEEE JSAC 2016): each per-slot subproblem against a grid search of its objective
written out here, the feasibility rules, the battery dynamics, and the O(1/V) cost / O(V) battery trade-off."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from offload.errors import ParameterError
from offload.lodco import (
    HarvestingDevice,
    Mode,
    local_choice,
    offload_choice,
    perturbation_j,
    run_lodco,
    slot_choice,
)

DEVICE = HarvestingDevice()  # the paper's Sec. VI parameters


def local_objective(device: HarvestingDevice, v: float, shifted: float, f: np.ndarray) -> np.ndarray:
    return v * device.work_ops / f - shifted * device.kappa_j_s2 * device.work_ops * f**2


def offload_objective(device: HarvestingDevice, v: float, shifted: float, gain: float, p: np.ndarray) -> np.ndarray:
    rate = device.bandwidth_hz * np.log2(1 + gain * p / device.noise_w)
    return device.input_bits * (v - shifted * p) / rate


@settings(max_examples=100)
@given(v=st.floats(1e-6, 1e-2), shifted=st.floats(-1.0, 0.05), battery=st.floats(1e-6, 0.5))
def test_local_frequency_is_the_grid_minimum_of_its_subproblem(v: float, shifted: float, battery: float) -> None:
    choice = local_choice(DEVICE, v, shifted, battery)
    cap = min(battery, DEVICE.max_energy_per_slot_j)
    low = DEVICE.work_ops / DEVICE.deadline_s
    high = min(DEVICE.max_speed_ops_per_s, math.sqrt(cap / (DEVICE.kappa_j_s2 * DEVICE.work_ops)))
    if low > high:
        assert choice is None
        return
    assert choice is not None
    grid = np.linspace(low, high, 20_001)
    values = local_objective(DEVICE, v, shifted, grid)
    assert choice.objective <= values.min() + 1e-9 * abs(values.min())
    assert choice.objective == pytest.approx(local_objective(DEVICE, v, shifted, np.array([choice.speed_ops_per_s]))[0])
    assert choice.delay_s <= DEVICE.deadline_s * (1 + 1e-12)
    assert choice.energy_j <= cap * (1 + 1e-12)
    assert choice.energy_j == pytest.approx(DEVICE.kappa_j_s2 * DEVICE.work_ops * choice.speed_ops_per_s**2)


def test_local_frequency_closed_form_inside_its_bounds() -> None:
    v, shifted = 4e-4, -0.004
    choice = local_choice(DEVICE, v, shifted, 1.0)
    assert choice is not None
    assert DEVICE.work_ops / DEVICE.deadline_s < choice.speed_ops_per_s < DEVICE.max_speed_ops_per_s
    assert choice.speed_ops_per_s == pytest.approx((v / (2 * 0.004 * DEVICE.kappa_j_s2)) ** (1 / 3), rel=1e-12)


@settings(max_examples=100)
@given(v=st.floats(1e-6, 1e-2), shifted=st.floats(-1.0, 0.05), battery=st.floats(1e-7, 0.5),
       fading=st.floats(0.01, 10.0))
def test_offload_power_is_the_grid_minimum_of_its_subproblem(v: float, shifted: float, battery: float,
                                                             fading: float) -> None:
    gain = DEVICE.mean_gain * fading
    choice = offload_choice(DEVICE, v, shifted, battery, gain)
    cap = min(battery, DEVICE.max_energy_per_slot_j)
    grid = np.geomspace(1e-9, DEVICE.max_tx_power_w, 200_001)
    rate = DEVICE.bandwidth_hz * np.log2(1 + gain * grid / DEVICE.noise_w)
    feasible = (DEVICE.input_bits / rate <= DEVICE.deadline_s) & (grid * DEVICE.input_bits / rate <= cap)
    if choice is None:
        assert not feasible.any()
        return
    assert choice.delay_s <= DEVICE.deadline_s * (1 + 1e-9)
    assert choice.energy_j <= cap * (1 + 1e-9)
    assert choice.tx_power_w <= DEVICE.max_tx_power_w
    if feasible.any():
        best = offload_objective(DEVICE, v, shifted, gain, grid[feasible]).min()
        assert choice.objective <= best + 1e-7 * abs(best)


def test_slot_choice_takes_the_cheapest_feasible_option_and_drops_when_the_battery_is_empty() -> None:
    v, shifted, gain = 1e-4, -0.02, DEVICE.mean_gain
    choice = slot_choice(DEVICE, v, shifted, 0.01, gain)
    candidates = [c.objective for c in (local_choice(DEVICE, v, shifted, 0.01),
                                        offload_choice(DEVICE, v, shifted, 0.01, gain)) if c is not None]
    assert choice.objective == min([*candidates, v * DEVICE.drop_penalty_s])
    empty = slot_choice(DEVICE, v, shifted, 0.0, gain)
    assert empty.mode == Mode.DROP
    assert empty.objective == pytest.approx(v * DEVICE.drop_penalty_s)


def test_battery_dynamics_and_energy_causality() -> None:
    run = run_lodco(DEVICE, 1e-5, 3000, np.random.default_rng(3))
    assert np.all(run.energy_j <= run.battery_j + 1e-15)  # never spends what it does not have
    assert np.all(run.battery_j >= -1e-15)
    assert np.allclose(run.battery_j[1:], run.battery_j[:-1] - run.energy_j[:-1] + run.harvested_j[:-1])
    theta = perturbation_j(DEVICE, 1e-5)
    assert np.all(run.harvested_j[run.battery_j > theta] == 0)  # harvest only while B~ <= 0
    assert np.all(run.battery_j <= theta + DEVICE.max_harvest_j + 1e-15)
    cost = np.where(run.mode == Mode.DROP, DEVICE.drop_penalty_s, run.cost_s)
    assert np.array_equal(cost, run.cost_s)
    assert np.all(run.cost_s[run.mode == Mode.IDLE] == 0)


def test_same_seed_same_run() -> None:
    a = run_lodco(DEVICE, 1e-4, 500, np.random.default_rng(8))
    b = run_lodco(DEVICE, 1e-4, 500, np.random.default_rng(8))
    assert np.array_equal(a.mode, b.mode)
    assert np.array_equal(a.battery_j, b.battery_j)


def test_cost_falls_towards_its_floor_and_the_battery_grows_linearly_with_v() -> None:
    """Theorem 2 of Mao et al.: average cost <= optimum + C/V, battery level O(V) (theta grows linearly in V)."""
    vs = [1e-6, 1e-5, 1e-4, 1e-3]
    runs = [run_lodco(DEVICE, v, 4000, np.random.default_rng(1), initial_battery_j=perturbation_j(DEVICE, v))
            for v in vs]
    costs = [run.average_cost_s for run in runs]
    batteries = [run.average_battery_j for run in runs]
    assert costs[0] > costs[1] > costs[2] >= costs[3] * (1 - 1e-3)
    assert costs[0] - costs[3] > 5 * (costs[2] - costs[3])  # the gain shrinks as 1/V
    assert all(b2 > b1 for b1, b2 in itertools.pairwise(batteries))
    slope = (batteries[3] - batteries[2]) / (vs[3] - vs[2])
    assert slope == pytest.approx(DEVICE.drop_penalty_s / (DEVICE.kappa_j_s2 * DEVICE.work_ops**3
                                                           / DEVICE.deadline_s**2), rel=0.05)


def test_bad_parameters_are_named() -> None:
    with pytest.raises(ParameterError, match=r"max_tx_power_w=-1\.0: must be finite and > 0"):
        HarvestingDevice(max_tx_power_w=-1.0)
    with pytest.raises(ParameterError, match="deadline_s"):
        HarvestingDevice(deadline_s=3e-3, slot_s=2e-3)
    with pytest.raises(ParameterError, match="v=0"):
        run_lodco(DEVICE, 0.0, 10, np.random.default_rng(0))
