"""Cost model: hand-computed cases, the seed article's rules, and hypothesis properties."""

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from offload import (
    CostInputs,
    Device,
    EnergyView,
    Link,
    Objective,
    ParameterError,
    Preference,
    Server,
    Target,
    Task,
    cost_arrays,
    decide,
    decide_task,
    evaluate_costs,
    seed_energy_rule,
    seed_latency_rule,
    task_costs,
)

PLATE_TASK = Task(input_bits=300e3 * 8)
PLATE_PI = Device(compute_time_s=13.0)
PLATE_EDGE = Target("edge", Server(compute_time_s=0.009), Link(uplink_bps=5e6, rtt_s=0.020))

positive = st.floats(1e-3, 1e6, allow_nan=False, allow_infinity=False)
size = st.one_of(st.just(0.0), st.floats(1e-3, 1e9))  # no subnormals: scaling them by 2^k is not exact
speed = st.floats(1e3, 1e12, allow_nan=False, allow_infinity=False)
power = st.one_of(st.just(0.0), st.floats(1e-3, 500.0))
seconds = st.one_of(st.just(0.0), st.floats(1e-6, 10.0))


def test_licence_plate_worked_example():
    # upload 2.4 Mbit / 5 Mbps = 0.48 s, + 20 ms RTT + 9 ms compute = 0.509 s, against 13 s on the Pi
    costs = task_costs(PLATE_TASK, PLATE_PI, [PLATE_EDGE])
    assert costs.options == ("local", "edge")
    assert costs.latency_s[0, 0] == 13.0
    assert costs.latency_s[0, 1] == pytest.approx(0.509, abs=1e-12)
    assert costs.upload_s[0, 1] == pytest.approx(0.48)
    assert costs.round_trip_s[0, 1] == 0.02
    assert costs.compute_s[0, 1] == 0.009
    assert costs.download_s[0, 1] == 0.0
    np.testing.assert_allclose(costs.latency_s[0, 1], costs.upload_s[0, 1] + costs.round_trip_s[0, 1]
                               + costs.wait_s[0, 1] + costs.compute_s[0, 1] + costs.download_s[0, 1])
    assert decide_task(PLATE_TASK, PLATE_PI, [PLATE_EDGE]).chosen_names == ["edge"]


def test_energy_views_hand_computed():
    # 1e9 ops at 1e9 ops/s on the device (1 s at 5 W = 5 J); edge 1e10 ops/s (0.1 s at 100 W = 10 J system).
    # 1 Mbit up at 10 Mbps (0.1 s at 2 W = 0.2 J), 0.1 Mbit down at 10 Mbps (0.01 s at 1 W = 0.01 J),
    # RTT 0.05 s + wait 0.05 s + compute 0.1 s idle at 0.5 W = 0.1 J, tail 0.3 J.
    task = Task(work_ops=1e9, input_bits=1e6, output_bits=1e5)
    device = Device(speed_ops_per_s=1e9, compute_power_w=5.0, idle_power_w=0.5, tx_power_w=2.0, rx_power_w=1.0,
                    tail_energy_j=0.3)
    edge = Target("edge", Server(speed_ops_per_s=1e10, compute_power_w=100.0, wait_s=0.05),
                  Link(uplink_bps=1e7, downlink_bps=1e7, rtt_s=0.05))
    costs = task_costs(task, device, [edge])
    assert costs.latency_s[0] == pytest.approx([1.0, 0.1 + 0.05 + 0.05 + 0.1 + 0.01])
    assert costs.device_energy_j[0] == pytest.approx([5.0, 0.2 + 0.01 + 0.1 + 0.3])
    assert costs.system_energy_j[0] == pytest.approx([5.0, 0.2 + 0.01 + 10.0])
    system = Preference(Objective.ENERGY, EnergyView.SYSTEM)
    assert decide_task(task, device, [edge], system).chosen_names == ["local"]
    assert decide_task(task, device, [edge], Preference(Objective.ENERGY)).chosen_names == ["edge"]


def test_fibre_distance_adds_propagation_both_ways():
    # 100 km one way at 4.9 µs/km: 0.98 ms round trip on top of the RTT
    link = Link(uplink_bps=1e9, rtt_s=0.001, distance_m=100e3)
    assert link.round_trip_s == pytest.approx(0.001 + 0.00098)
    costs = task_costs(Task(), Device(compute_time_s=1.0), [Target("far", Server(compute_time_s=0.0), link)])
    assert costs.round_trip_s[0, 1] == pytest.approx(0.00198)


def test_weighted_and_normalised_scores_hand_computed():
    costs = evaluate_costs(local_compute_s=[2.0], input_bits=[1e6], output_bits=[0.0], remote_compute_s=[0.5],
                           uplink_bps=[1e6], device_compute_power_w=3.0, tx_power_w=1.0)
    # local T=2, E=6; remote T=1+0.5=1.5, E=1 (device view, no idle power)
    weighted = Preference(Objective.WEIGHTED, w_latency=1.0, w_energy=0.5)
    assert weighted.score(costs)[0] == pytest.approx([2.0 + 3.0, 1.5 + 0.5])
    normalised = Preference(Objective.WEIGHTED, w_latency=1.0, w_energy=1.0, normalise=True)
    assert normalised.score(costs)[0] == pytest.approx([2.0, 1.5 / 2.0 + 1.0 / 6.0])


def test_measured_time_wins_over_speed_and_work():
    device = Device(speed_ops_per_s=1e9, compute_time_s=4.0)
    costs = task_costs(Task(work_ops=1e12), device, [Target("e", Server(speed_ops_per_s=1e12))])
    assert costs.compute_s[0].tolist() == [4.0, 1.0]


# --- the seed article's rules are exact special cases -------------------------------------------------------------

def _seed_inputs(C, D, Pd, Pe, Bc, Ed=0.0, Ee=0.0, Ec=0.0):
    """Zero RTT, no result, no wait: the seed's setting."""
    return CostInputs(work_ops=C, input_bits=D, device_speed_ops_per_s=Pd, server_speed_ops_per_s=Pe,
                      uplink_bps=Bc, device_compute_power_w=Ed, server_compute_power_w=Ee, tx_power_w=Ec)


dyadic = st.integers(0, 2**20)
power_of_two = st.integers(-20, 30).map(lambda k: 2.0**k)


@given(st.lists(st.tuples(dyadic, dyadic, power_of_two, power_of_two, power_of_two, st.integers(0, 64),
                          st.integers(0, 64), st.integers(0, 64)), min_size=1, max_size=40))
def test_seed_rules_match_exactly_on_exactly_representable_inputs(rows):
    # integers times powers of two: every product, quotient and sum is exact, so ties are real ties and the
    # comparison must agree bit for bit, including the tie rule (offload only on strict improvement).
    C, D, Pd, Pe, Bc, Ed, Ee, Ec = (np.array(column, dtype=float) for column in zip(*rows, strict=True))
    inputs = _seed_inputs(C, D, Pd, Pe[:, None], Bc[:, None], Ed, Ee[:, None], Ec)
    costs = cost_arrays(inputs)
    latency = decide(costs, Preference(Objective.LATENCY))
    energy = decide(costs, Preference(Objective.ENERGY, EnergyView.SYSTEM))
    np.testing.assert_array_equal(latency.offloaded, seed_latency_rule(C, D, Pd, Pe, Bc))
    np.testing.assert_array_equal(energy.offloaded, seed_energy_rule(C, D, Pd, Pe, Bc, Ed, Ee, Ec))


@given(st.lists(st.tuples(size, size, speed, speed, speed, power, power, power), min_size=1, max_size=40))
def test_seed_rules_match_on_general_floats_away_from_ties(rows):
    C, D, Pd, Pe, Bc, Ed, Ee, Ec = (np.array(column) for column in zip(*rows, strict=True))
    costs = cost_arrays(_seed_inputs(C, D, Pd, Pe[:, None], Bc[:, None], Ed, Ee[:, None], Ec))
    lhs_t, rhs_t = C / Pd, C / Pe + D / Bc
    lhs_e, rhs_e = C * Ed / Pd, C * Ee / Pe + D * Ec / Bc
    # different but equivalent rounding orders may disagree only within a few ulps of a tie
    clear_t = np.abs(lhs_t - rhs_t) > 1e-12 * np.maximum(lhs_t, rhs_t)
    clear_e = np.abs(lhs_e - rhs_e) > 1e-12 * np.maximum(lhs_e, rhs_e)
    latency = decide(costs, Preference(Objective.LATENCY)).offloaded
    energy = decide(costs, Preference(Objective.ENERGY, EnergyView.SYSTEM)).offloaded
    np.testing.assert_array_equal(latency[clear_t], seed_latency_rule(C, D, Pd, Pe, Bc)[clear_t])
    np.testing.assert_array_equal(energy[clear_e], seed_energy_rule(C, D, Pd, Pe, Bc, Ed, Ee, Ec)[clear_e])


# --- properties ----------------------------------------------------------------------------------------------------

@st.composite
def scenarios(draw):
    task = Task(work_ops=draw(size), input_bits=draw(size), output_bits=draw(size))
    device = Device(speed_ops_per_s=draw(speed), compute_power_w=draw(power), idle_power_w=draw(power),
                    tx_power_w=draw(power), rx_power_w=draw(power), tail_energy_j=draw(power))
    edge = Target("edge", Server(speed_ops_per_s=draw(speed), compute_power_w=draw(power), wait_s=draw(seconds)),
                  Link(uplink_bps=draw(speed), downlink_bps=draw(speed), rtt_s=draw(seconds)))
    return task, device, edge


def _with(edge, *, uplink=None, speed_ops=None):
    link = edge.link if uplink is None else Link(uplink, edge.link.downlink_bps, edge.link.rtt_s)
    server = edge.server if speed_ops is None else Server(speed_ops, None, edge.server.compute_power_w,
                                                          edge.server.wait_s)
    return Target(edge.name, server, link)


@given(scenarios(), st.floats(1.0, 1e3))
def test_more_uplink_never_increases_offload_latency(scenario, factor):
    task, device, edge = scenario
    slow = task_costs(task, device, [edge]).latency_s[0, 1]
    fast = task_costs(task, device, [_with(edge, uplink=edge.link.uplink_bps * factor)]).latency_s[0, 1]
    assert fast <= slow


@given(scenarios(), st.floats(1.0, 1e3))
def test_faster_edge_never_increases_offload_latency(scenario, factor):
    task, device, edge = scenario
    assert edge.server.speed_ops_per_s is not None
    slow = task_costs(task, device, [edge]).latency_s[0, 1]
    fast = task_costs(task, device, [_with(edge, speed_ops=edge.server.speed_ops_per_s * factor)]).latency_s[0, 1]
    assert fast <= slow


@given(scenarios())
def test_costs_are_non_negative_and_latency_is_the_sum_of_its_terms(scenario):
    costs = task_costs(*scenario[:2], [scenario[2]])
    for name in ("upload_s", "round_trip_s", "wait_s", "compute_s", "download_s", "latency_s", "device_energy_j",
                 "system_energy_j"):
        assert (getattr(costs, name) >= 0).all(), name
    terms = costs.upload_s + costs.round_trip_s + costs.wait_s + costs.compute_s + costs.download_s
    np.testing.assert_allclose(costs.latency_s, terms, rtol=1e-12)


objectives = st.sampled_from([Preference(Objective.LATENCY), Preference(Objective.ENERGY),
                              Preference(Objective.ENERGY, EnergyView.SYSTEM),
                              Preference(Objective.WEIGHTED, w_latency=0.7, w_energy=0.3),
                              Preference(Objective.WEIGHTED, EnergyView.SYSTEM, 1.0, 2.0, normalise=True)])


@given(scenarios(), objectives, st.integers(-8, 8), st.integers(-8, 8), st.integers(-4, 4))
def test_decisions_are_invariant_to_consistent_unit_scaling(scenario, preference, ops_exp, bits_exp, time_exp):
    # Re-express work in 2^a ops, data in 2^b bits and time in 2^c s (speeds, rates, powers follow): powers of two
    # scale exactly, so the decision must not change at all.
    task, device, edge = scenario
    a, b, c = 2.0**ops_exp, 2.0**bits_exp, 2.0**time_exp
    scaled_task = Task(task.work_ops * a, task.input_bits * b, task.output_bits * b)
    scaled_device = Device(device.speed_ops_per_s * a / c, None, device.compute_power_w / c,
                           device.idle_power_w / c, device.tx_power_w / c, device.rx_power_w / c,
                           device.tail_energy_j)
    scaled_edge = Target("edge", Server(edge.server.speed_ops_per_s * a / c, None, edge.server.compute_power_w / c,
                                        edge.server.wait_s * c),
                         Link(edge.link.uplink_bps * b / c, edge.link.downlink_bps * b / c, edge.link.rtt_s * c))
    # an un-normalised weighted score adds seconds to joules, so w_latency is "per second" and rescales with time
    weighted = preference.objective is Objective.WEIGHTED and not preference.normalise
    scaled_preference = replace(preference, w_latency=preference.w_latency / c) if weighted else preference
    before = decide_task(task, device, [edge], preference)
    after = decide_task(scaled_task, scaled_device, [scaled_edge], scaled_preference)
    assert before.choice.tolist() == after.choice.tolist()
    np.testing.assert_allclose(after.costs.latency_s, before.costs.latency_s * c, rtol=1e-15)


@given(st.lists(scenarios(), min_size=1, max_size=8), objectives)
def test_scalar_equals_batch(rows, preference):
    edges = [Target(f"e{k}", e.server, e.link) for k, (_, _, e) in enumerate(rows[:3])]
    device = rows[0][1]
    tasks = [task for task, _, _ in rows]
    batch = decide(cost_arrays(CostInputs(
        work_ops=[t.work_ops for t in tasks], input_bits=[t.input_bits for t in tasks],
        output_bits=[t.output_bits for t in tasks], device_speed_ops_per_s=device.speed_ops_per_s,
        device_compute_power_w=device.compute_power_w, idle_power_w=device.idle_power_w, tx_power_w=device.tx_power_w,
        rx_power_w=device.rx_power_w, tail_energy_j=device.tail_energy_j,
        server_speed_ops_per_s=[e.server.speed_ops_per_s for e in edges],
        server_compute_power_w=[e.server.compute_power_w for e in edges], wait_s=[e.server.wait_s for e in edges],
        uplink_bps=[e.link.uplink_bps for e in edges], downlink_bps=[e.link.downlink_bps for e in edges],
        round_trip_s=[e.link.round_trip_s for e in edges], target_names=[e.name for e in edges])), preference)
    for i, task in enumerate(tasks):
        single = decide_task(task, device, edges, preference)
        assert single.choice[0] == batch.choice[i]
        np.testing.assert_array_equal(single.costs.latency_s[0], batch.costs.latency_s[i])
        np.testing.assert_array_equal(single.score[0], batch.score[i])


# --- errors --------------------------------------------------------------------------------------------------------

def test_bad_inputs_are_named():
    with pytest.raises(ParameterError, match=r"uplink_bps\[1\]=0.0: must be > 0"):
        CostInputs(uplink_bps=[1.0, 0.0])
    with pytest.raises(ParameterError, match=r"input_bits\[0\]=nan: must be a number, not NaN"):
        CostInputs(input_bits=[math.nan])
    with pytest.raises(ParameterError, match=r"work_ops=-1\.0: must be >= 0 and finite"):
        CostInputs(work_ops=-1.0)
    with pytest.raises(ParameterError, match="array lengths must agree"):
        CostInputs(work_ops=[1.0, 2.0], input_bits=[1.0, 2.0, 3.0])
    with pytest.raises(ParameterError, match="unique non-empty names other than 'local'"):
        CostInputs(uplink_bps=[1.0, 2.0], target_names=["local", "edge"])
    with pytest.raises(ParameterError, match="speed_ops_per_s: give a speed or a measured compute_time_s"):
        Server()
    with pytest.raises(ParameterError, match="w_latency and w_energy cannot both be 0"):
        Preference(Objective.WEIGHTED, w_latency=0.0, w_energy=0.0)
    with pytest.raises(ParameterError, match="needs at least one remote target"):
        task_costs(Task(), PLATE_PI, [])


def test_very_slow_links_are_valid():
    assert task_costs(Task(input_bits=1.0), PLATE_PI, [_with(PLATE_EDGE, uplink=1e-3)]).upload_s[0, 1] == 1e3
