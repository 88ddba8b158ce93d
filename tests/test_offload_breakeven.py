"""Break-even analysis: the licence-plate value, closed form against the root finder, and real decision flips."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from offload import (
    BreakEven,
    CostInputs,
    Device,
    EnergyView,
    Link,
    Objective,
    Parameter,
    ParameterError,
    Preference,
    Server,
    Target,
    Task,
    break_even,
    break_even_batch,
    decide_task,
)

PLATE = (Task(input_bits=2.4e6), Device(compute_time_s=13.0),
         Target("edge", Server(compute_time_s=0.009), Link(uplink_bps=5e6, rtt_s=0.02)))


def test_licence_plate_break_even_uplink():
    # offload when 2.4e6 / B + 0.029 < 13  <=>  B > 2.4e6 / 12.971 = 185,028 bps
    result = break_even(Parameter.UPLINK, *PLATE)
    assert result == BreakEven(Parameter.UPLINK, pytest.approx(2.4e6 / 12.971, rel=1e-12), "above", "closed-form")
    assert result.value / 1e6 == pytest.approx(0.185, abs=5e-4)


def test_licence_plate_break_even_input_size():
    # offload while D / 5e6 + 0.029 < 13  <=>  D < 12.971 * 5e6 bits
    result = break_even(Parameter.INPUT, *PLATE)
    assert result.value == pytest.approx(12.971 * 5e6, rel=1e-12)
    assert result.offload_wins == "below"


def test_never_and_always():
    task, device, edge = PLATE
    slow_edge = Target("edge", Server(compute_time_s=20.0), edge.link)
    assert break_even(Parameter.UPLINK, task, device, slow_edge).offload_wins == "never"
    no_data = Task(input_bits=0.0)
    result = break_even(Parameter.UPLINK, no_data, device, edge)
    assert (math.isnan(result.value), result.offload_wins, result.method) == (True, "always", "none")


def test_measured_times_cannot_give_speed_or_work_break_even():
    with pytest.raises(ParameterError, match="break-even edge speed needs a speed"):
        break_even(Parameter.EDGE_SPEED, *PLATE)
    with pytest.raises(ParameterError, match="break-even work needs a speed on at least one side"):
        break_even(Parameter.WORK, *PLATE)
    with pytest.raises(ParameterError, match="no closed form under a normalised objective"):
        break_even(Parameter.WORK, Task(work_ops=1e9), Device(speed_ops_per_s=1e9),
                   Target("e", Server(speed_ops_per_s=1e10)), Preference(Objective.WEIGHTED, normalise=True),
                   method="closed-form")


size = st.floats(1e3, 1e9)
speed = st.floats(1e6, 1e12)
# powers are 0 or physical (>= 1 mW): a subnormal power such as 5e-324 W underflows to 0 J mid-sweep
power = st.one_of(st.just(0.0), st.floats(1e-3, 50.0))
parameters = st.sampled_from(list(Parameter))
preferences = st.sampled_from([
    Preference(Objective.LATENCY), Preference(Objective.ENERGY),
    Preference(Objective.ENERGY, EnergyView.SYSTEM), Preference(Objective.WEIGHTED, w_latency=1.0, w_energy=0.1),
    Preference(Objective.WEIGHTED, EnergyView.SYSTEM, 1.0, 1.0, normalise=True)])


@st.composite
def scenarios(draw):
    task = Task(work_ops=draw(size), input_bits=draw(size), output_bits=draw(st.floats(0.0, 1e6)))
    device = Device(speed_ops_per_s=draw(speed), compute_power_w=draw(power), idle_power_w=draw(power),
                    tx_power_w=draw(power), rx_power_w=draw(power), tail_energy_j=draw(st.floats(0.0, 1.0)))
    edge = Target("edge", Server(speed_ops_per_s=draw(speed), compute_power_w=draw(power),
                                 wait_s=draw(st.floats(0.0, 1.0))),
                  Link(uplink_bps=draw(speed), downlink_bps=draw(speed), rtt_s=draw(st.floats(0.0, 0.2))))
    return task, device, edge


def _with_value(parameter, x, task, device, edge):
    if parameter is Parameter.UPLINK:
        return task, device, Target("edge", edge.server, Link(x, edge.link.downlink_bps, edge.link.rtt_s))
    if parameter is Parameter.INPUT:
        return Task(task.work_ops, x, task.output_bits), device, edge
    if parameter is Parameter.WORK:
        return Task(x, task.input_bits, task.output_bits), device, edge
    server = Server(x, None, edge.server.compute_power_w, edge.server.wait_s)
    return task, device, Target("edge", server, edge.link)


@given(scenarios(), parameters, preferences)
def test_closed_form_agrees_with_the_root_finder_and_the_decision_flips(scenario, parameter, preference):
    auto = break_even(parameter, *scenario, preference)
    root = break_even(parameter, *scenario, preference, method="root-finder")
    if auto.method == "none" or math.isnan(auto.value) or not 1e-25 < auto.value < 1e25:
        return  # no flip (or outside the root finder's bracket)
    assert root.offload_wins == auto.offload_wins
    assert root.value == pytest.approx(auto.value, rel=1e-8)
    # the decision really flips: offloading on the winning side, local on the other
    for factor, side in ((1.01, "above"), (0.99, "below")):
        task, device, edge = _with_value(parameter, auto.value * factor, *scenario)
        offloaded = bool(decide_task(task, device, [edge], preference).offloaded[0])
        assert offloaded == (auto.offload_wins == side), (factor, auto)


@given(st.lists(scenarios(), min_size=1, max_size=5), parameters)
def test_batch_break_even_equals_scalar(rows, parameter):
    device, edge = rows[0][1], rows[0][2]
    tasks = [t for t, _, _ in rows]
    inputs = CostInputs(
        work_ops=[t.work_ops for t in tasks], input_bits=[t.input_bits for t in tasks],
        output_bits=[t.output_bits for t in tasks], device_speed_ops_per_s=device.speed_ops_per_s,
        device_compute_power_w=device.compute_power_w, idle_power_w=device.idle_power_w, tx_power_w=device.tx_power_w,
        rx_power_w=device.rx_power_w, tail_energy_j=device.tail_energy_j,
        server_speed_ops_per_s=[edge.server.speed_ops_per_s], server_compute_power_w=[edge.server.compute_power_w],
        wait_s=[edge.server.wait_s], uplink_bps=[edge.link.uplink_bps], downlink_bps=[edge.link.downlink_bps],
        round_trip_s=[edge.link.round_trip_s])
    batch = break_even_batch(parameter, inputs)
    for i, task in enumerate(tasks):
        single = break_even(parameter, task, device, edge)
        np.testing.assert_array_equal(batch.value[i, 0], single.value)
        assert batch.offload_wins[i, 0] == single.offload_wins


def test_equal_speeds_never_flip_on_work():
    # Δ(C) = D/B + C/Pe − C/Pd = D/B > 0 for every C: offloading never wins, whatever the rounding of C/Pe − C/Pd
    task = Task(work_ops=1000.0, input_bits=1000.0)
    device = Device(speed_ops_per_s=1e6)
    edge = Target("edge", Server(speed_ops_per_s=1e6), Link(uplink_bps=2517151.0, downlink_bps=1e6))
    result = break_even(Parameter.WORK, task, device, edge, Preference(Objective.LATENCY))
    assert math.isnan(result.value)
    assert result.offload_wins == "never"


def test_linked_downlink_follows_the_uplink():
    # 1 s locally; offload 10 ms + 100 ms + (8e6 + 32e6) bits / B when the downlink is the uplink
    inputs = CostInputs(input_bits=8e6, output_bits=32e6, device_time_s=1.0, server_time_s=0.1, uplink_bps=1e7,
                        downlink_bps=1e7, round_trip_s=0.01)
    moved = break_even_batch(Parameter.UPLINK, inputs, linked=("downlink_bps",))
    assert moved.value[0, 0] == pytest.approx(40e6 / 0.89, rel=1e-12)
    fixed = break_even_batch(Parameter.UPLINK, inputs)
    assert fixed.offload_wins[0, 0] == "never"  # 32e6 bits at 10 Mbps alone take 3.2 s
    for method in ("closed-form", "root-finder"):
        value = break_even_batch(Parameter.UPLINK, inputs, method=method, linked=("downlink_bps",)).value[0, 0]
        assert value == pytest.approx(40e6 / 0.89, rel=1e-9)
    with pytest.raises(ParameterError, match="cannot follow input_bits"):
        break_even_batch(Parameter.INPUT, inputs, linked=("downlink_bps",))


@pytest.mark.parametrize("parameter", [Parameter.UPLINK, Parameter.INPUT, Parameter.EDGE_SPEED])
@pytest.mark.parametrize("objective", list(Objective))
def test_scalar_arguments_path_equals_the_batch(parameter, objective):
    from offload.breakeven import break_even_arguments
    from offload.cost import kernel_arguments

    values = {"work_ops": 2e9, "input_bits": 3e6, "output_bits": 1e5, "deadline_s": math.inf,
              "device_speed_ops_per_s": 1e9, "device_time_s": 0.0, "device_compute_power_w": 4.0, "idle_power_w": 0.3,
              "tx_power_w": 1.2, "rx_power_w": 0.9, "tail_energy_j": 0.2, "server_speed_ops_per_s": 2e10,
              "server_time_s": 0.0, "server_compute_power_w": 60.0, "wait_s": 0.05, "uplink_bps": 8e6,
              "downlink_bps": 2e7, "round_trip_s": 0.02}
    preference = Preference(objective, EnergyView.DEVICE, 1.0, 0.1)
    local, remote = kernel_arguments(values)
    value, wins = break_even_arguments(parameter, local, remote, preference)
    batch = break_even_batch(parameter, CostInputs(**values), preference)
    assert (value, wins) == (batch.value[0, 0], batch.offload_wins[0, 0]) or (
        math.isnan(value) and math.isnan(batch.value[0, 0]) and wins == batch.offload_wins[0, 0])


_positive = st.floats(1e-3, 1e3)


@given(work=_positive, data=_positive, result=st.floats(0, 1e3), uplink=_positive, rtt=st.floats(0, 1),
       device_speed=_positive, edge_speed=_positive, powers=st.tuples(_positive, _positive, _positive, _positive),
       objective=st.sampled_from(list(Objective)), view=st.sampled_from(list(EnergyView)),
       parameter=st.sampled_from([Parameter.UPLINK, Parameter.INPUT, Parameter.WORK, Parameter.EDGE_SPEED]))
def test_scalar_break_even_equals_the_batch_path(work, data, result, uplink, rtt, device_speed, edge_speed, powers,
                                                 objective, view, parameter):
    from offload.breakeven import break_even_arguments
    from offload.cost import kernel_arguments

    values = {"work_ops": work * 1e9, "input_bits": data * 1e6, "output_bits": result * 1e3, "deadline_s": math.inf,
              "device_speed_ops_per_s": device_speed * 1e9, "device_time_s": 0.0,
              "device_compute_power_w": powers[0], "idle_power_w": powers[1], "tx_power_w": powers[2],
              "rx_power_w": powers[2], "tail_energy_j": 0.1, "server_speed_ops_per_s": edge_speed * 1e10,
              "server_time_s": 0.0, "server_compute_power_w": powers[3] * 10,
              "wait_s": 0.0, "uplink_bps": uplink * 1e6, "downlink_bps": uplink * 1e6, "round_trip_s": rtt}
    preference = Preference(objective, view, 1.0, 0.5)
    linked = ("downlink_bps",) if parameter is Parameter.UPLINK else ()
    value, wins = break_even_arguments(parameter, *kernel_arguments(values), preference, linked)
    batch = break_even_batch(parameter, CostInputs(**values), preference, linked=linked)
    assert wins == batch.offload_wins[0, 0]
    assert value == batch.value[0, 0] or (math.isnan(value) and math.isnan(batch.value[0, 0]))
