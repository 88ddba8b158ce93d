"""Partial offloading, DVFS and radio models: closed forms against brute-force grids and the papers' numbers."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from offload.dvfs import dvfs_energy_j, dvfs_optimal_speed_ops_per_s, dvfs_power_w
from offload.errors import ParameterError
from offload.partial import (
    energy_optimal_split,
    latency_optimal_split,
    partial_energy_j,
    partial_latency_s,
)
from offload.radio import RADIO_PROFILES, RadioProfile, radio_profile

GRID = np.linspace(0.0, 1.0, 200_001)
times = st.floats(0.01, 10.0)
energies = st.floats(0.0, 10.0)


@given(local=times, remote=times, fixed=st.floats(0.0, 5.0))
def test_latency_optimum_beats_a_fine_grid(local, remote, fixed):
    split = latency_optimal_split(local_s=local, remote_s=remote, fixed_s=fixed)
    grid = partial_latency_s(GRID, local, remote, fixed)
    assert 0.0 <= split.fraction <= 1.0
    assert split.latency_s <= grid.min() * (1 + 1e-12)
    assert split.latency_s >= grid.min() - (local + remote) / 200_000  # the grid step bounds the gap


def test_latency_optimum_balances_the_branches():
    # local 2 s, remote share 1 s + 0.2 s fixed: (1 - λ) 2 = λ + 0.2  =>  λ = 0.6, both branches 0.8 s
    split = latency_optimal_split(local_s=2.0, remote_s=1.0, fixed_s=0.2)
    assert split.fraction == pytest.approx(0.6)
    assert split.latency_s == pytest.approx(0.8)


def test_latency_extremes():
    # a round trip longer than the local run: stay local; a free remote side: offload everything
    assert latency_optimal_split(local_s=0.1, remote_s=1.0, fixed_s=0.2).fraction == 0.0
    assert latency_optimal_split(local_s=1.0, remote_s=0.0, fixed_s=0.0).fraction == 1.0


def _grid_energy_optimum(local, remote, fixed, deadline, e_local, e_remote, e_fixed, ops, kappa):
    energy = partial_energy_j(GRID, local_energy_j=e_local, remote_energy_j=e_remote, fixed_energy_j=e_fixed,
                              work_ops=ops, kappa_j_s2=kappa, deadline_s=deadline, local_s=local)
    local_branch = (1 - GRID) * local
    remote_branch = GRID * remote + np.where(GRID > 0, fixed, 0.0)
    ok = (local_branch <= deadline) & (remote_branch <= deadline)
    return energy[ok].min() if ok.any() else None


@given(local=times, remote=times, fixed=st.floats(0.0, 2.0), deadline=st.floats(0.05, 12.0),
       e_local=energies, e_remote=energies, e_fixed=st.floats(0.0, 1.0))
def test_energy_optimum_fixed_speed_matches_grid(local, remote, fixed, deadline, e_local, e_remote, e_fixed):
    split = energy_optimal_split(local_s=local, remote_s=remote, fixed_s=fixed, deadline_s=deadline,
                                 local_energy_j=e_local, remote_energy_j=e_remote, fixed_energy_j=e_fixed)
    best = _grid_energy_optimum(local, remote, fixed, deadline, e_local, e_remote, e_fixed, 0.0, 0.0)
    assert bool(split.feasible) == (best is not None)
    if best is not None:
        assert split.latency_s <= deadline * (1 + 1e-12)
        assert split.energy_j <= best + 1e-9
        assert split.energy_j >= best - (e_local + e_remote) / 100_000


@given(ops=st.floats(1e8, 5e9), speed=st.floats(5e8, 3e9), remote=times, fixed=st.floats(0.0, 1.0),
       slack=st.floats(1.0, 4.0), e_remote=energies, e_fixed=st.floats(0.0, 1.0),
       kappa=st.sampled_from([1e-28, 1e-27]))
def test_energy_optimum_with_dvfs_matches_grid(ops, speed, remote, fixed, slack, e_remote, e_fixed, kappa):
    local = ops / speed
    deadline = local * slack / 2  # sometimes the local side alone cannot make it
    split = energy_optimal_split(local_s=local, remote_s=remote, fixed_s=fixed, deadline_s=deadline,
                                 remote_energy_j=e_remote, fixed_energy_j=e_fixed, work_ops=ops, kappa_j_s2=kappa)
    best = _grid_energy_optimum(local, remote, fixed, deadline, 0.0, e_remote, e_fixed, ops, kappa)
    assert bool(split.feasible) == (best is not None)
    if best is not None:
        assert split.latency_s <= deadline * (1 + 1e-12)
        assert split.energy_j <= best * (1 + 1e-9) + 1e-12
        full_local = float(dvfs_energy_j(ops, speed, kappa))
        assert split.energy_j >= best - 3 * (full_local + e_remote) / 100_000


def test_dvfs_stationary_point_in_closed_form():
    # E(λ) = κC³(1-λ)³/T² + λ e_r with κC³/T² = 1/3 and e_r = 0.25: 1 - λ* = sqrt(0.25) => λ* = 0.5
    ops, deadline = 1e9, 1.0
    kappa = 1 / 3 / ops**3
    split = energy_optimal_split(local_s=0.1, remote_s=0.1, deadline_s=deadline, remote_energy_j=0.25,
                                 work_ops=ops, kappa_j_s2=kappa)
    assert split.fraction == pytest.approx(0.5)
    assert split.energy_j == pytest.approx(1 / 3 * 0.125 + 0.125)
    assert split.latency_s == pytest.approx(deadline)  # the local share is stretched to the deadline


def test_dvfs_needs_a_finite_deadline():
    with pytest.raises(ParameterError, match="finite when the device uses DVFS"):
        energy_optimal_split(local_s=1.0, remote_s=1.0, deadline_s=math.inf, work_ops=1e9, kappa_j_s2=1e-28)


def test_vector_and_scalar_paths_agree():
    rng = np.random.default_rng(7)
    n = 500
    args = {"local_s": rng.uniform(0.1, 3, n), "remote_s": rng.uniform(0.1, 3, n), "fixed_s": rng.uniform(0, 1, n),
            "deadline_s": rng.uniform(0.2, 3, n), "local_energy_j": rng.uniform(0, 3, n),
            "remote_energy_j": rng.uniform(0, 3, n), "fixed_energy_j": rng.uniform(0, 0.5, n)}
    batch = energy_optimal_split(**args)
    for i in range(0, n, 37):
        one = energy_optimal_split(**{k: v[i] for k, v in args.items()})
        assert (one.fraction, one.energy_j, one.latency_s, bool(one.feasible)) == (
            batch.fraction[i], batch.energy_j[i], batch.latency_s[i], batch.feasible[i])


def test_dvfs_formulas():
    # 1e9 cycles at 1 GHz with κ = 1e-27: E = κ C f² = 1 J, P = κ f³ = 1 W over T = C / f = 1 s
    assert dvfs_energy_j(1e9, 1e9, 1e-27) == pytest.approx(1.0)
    assert dvfs_power_w(1e9, 1e-27) == pytest.approx(1.0)
    speed, feasible = dvfs_optimal_speed_ops_per_s([1e9, 1e9, 1e9], [2.0, 0.5, math.inf], 1.5e9, 1e8)
    assert speed.tolist() == [5e8, 1.5e9, 1e8]
    assert feasible.tolist() == [True, False, True]


@given(ops=st.floats(1e6, 1e10), deadline=st.floats(0.01, 10.0), top=st.floats(1e8, 5e9))
def test_dvfs_optimum_beats_every_feasible_frequency(ops, deadline, top):
    speed, feasible = dvfs_optimal_speed_ops_per_s(ops, deadline, top)
    frequencies = np.linspace(top / 1000, top, 1000)
    ok = ops / frequencies <= deadline
    assert bool(feasible) == bool(ok.any())
    if feasible:
        assert ops / speed <= deadline * (1 + 1e-12)
        assert dvfs_energy_j(ops, speed, 1e-28) <= dvfs_energy_j(ops, frequencies[ok], 1e-28).min() * (1 + 1e-12)


def test_lte_power_model_matches_huang_2012():
    # Huang et al. MobiSys 2012: P = 438.39 mW/Mbps · t_u + 1288.04 mW; tail 11.576 s at 1060 mW,
    # promotion 260.1 ms at 1210.7 mW
    lte = radio_profile("lte")
    assert lte.tx_power_w(5e6) == pytest.approx(0.43839 * 5 + 1.28804)
    assert lte.rx_power_w(10e6) == pytest.approx(0.05197 * 10 + 1.28804)
    assert lte.tail_energy_j == pytest.approx(1.060 * 11.576 + 1.2107 * 0.2601)
    # LTE's tail costs far more than Wi-Fi's (the paper's headline finding)
    assert lte.tail_energy_j > 50 * RADIO_PROFILES["wifi"].tail_energy_j


def test_radio_profile_errors():
    with pytest.raises(ParameterError, match="unknown radio profile; choose one of lte, 3g, wifi"):
        radio_profile("5g")
    with pytest.raises(ParameterError, match=r"tail_s=-1\.0: must be >= 0"):
        RadioProfile(1e-7, 1e-8, 1.0, tail_s=-1.0)


def test_partial_from_cost_inputs_licence_plate():
    from offload import Device, EnergyView, Link, Objective, Preference, Server, Target, Task
    from offload.cost import inputs_from_profiles
    from offload.partial import partial_from_inputs

    # 13 s locally; offloading all: 2.4 Mbit at 5 Mbps (0.48 s) + 9 ms compute, 20 ms RTT paid once
    inputs = inputs_from_profiles(Task(input_bits=2.4e6, deadline_s=5.0),
                                  Device(compute_time_s=13.0, compute_power_w=4.0, tx_power_w=1.0, tail_energy_j=0.5),
                                  [Target("edge", Server(compute_time_s=0.009, compute_power_w=100.0),
                                          Link(uplink_bps=5e6, rtt_s=0.02))])
    fraction = (13.0 - 0.02) / (13.0 + 0.489)
    split = partial_from_inputs(inputs, Preference(Objective.LATENCY))
    assert split.fraction[0] == pytest.approx(fraction)
    assert split.latency_s[0] == pytest.approx((1 - fraction) * 13.0)
    assert split.energy_j[0] == pytest.approx((1 - fraction) * 52.0 + fraction * 0.48 + 0.5)
    system = partial_from_inputs(inputs, Preference(Objective.LATENCY, EnergyView.SYSTEM))
    assert system.energy_j[0] == pytest.approx((1 - fraction) * 52.0 + fraction * (0.48 + 0.9))
    # energy: remote is far cheaper per unit, the deadline (5 s) allows any λ >= 1 - 5/13: offload everything
    energy = partial_from_inputs(inputs, Preference(Objective.ENERGY))
    assert energy.fraction[0] == 1.0
    assert energy.energy_j[0] == pytest.approx(0.48 + 0.5)
    with pytest.raises(ParameterError, match="partial offloading optimises latency or energy"):
        partial_from_inputs(inputs, Preference(Objective.WEIGHTED))
