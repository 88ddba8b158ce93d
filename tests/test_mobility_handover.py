"""Handover in the engine, on deterministic traces: the handover, the interruption and the re-decision happen at
the times worked out by hand."""

import math

import numpy as np
import pytest

from offload.errors import ParameterError
from offload.profiles import Device
from simulator.mobility import Area, Trace
from simulator.mobility.controller import Mobility
from simulator.mobility.spec import Cell, GroupMotion, HandoverRule
from simulator.run import run
from simulator.workloads import Trace as TaskTrace
from simulator.world import AccessPoint, BackhaulLink, DeviceGroup, EdgeServer, World

DEVICE = Device(speed_ops_per_s=1e9)
UPLINK_BPS = 1e6
#: a device left of the cell boundary (x = 100 m) until t = 10 s, right of it from then on
JUMP = Trace(np.array([0.0, 10.0, 10.0]), np.array([0, 0, 0]), np.array([[40.0, 50.0], [60.0, 50.0],
                                                                           [140.0, 50.0]]))


def world(tasks: TaskTrace, policy: str = "always_edge") -> World:
    group = DeviceGroup("walkers", 1, DEVICE, tasks, "a")
    aps = (AccessPoint("a", UPLINK_BPS), AccessPoint("b", UPLINK_BPS))
    servers = (EdgeServer("ea", speed_ops_per_s=1e9, location="a"), EdgeServer("eb", speed_ops_per_s=1e9,
                                                                                 location="b"))
    return World(device_groups=(group,), access_points=aps, servers=servers,
                 links=(BackhaulLink("a", "b", latency_s=0.01),), policies=(policy,))


def mobility(interruption_s: float, in_flight: str) -> Mobility:
    return Mobility(Area(200.0, 100.0), (Cell("a", (50.0, 50.0)), Cell("b", (150.0, 50.0))),
                    (GroupMotion("walkers", JUMP, step_s=1.0),),
                    HandoverRule(interruption_s=interruption_s, in_flight=in_flight))  # type: ignore[arg-type]


def one_task(at_s: float, input_bits: float) -> TaskTrace:
    return TaskTrace((at_s,), (0,), (1e6,), (input_bits,), (0.0,))


def test_an_upload_in_flight_restarts_after_the_interruption_and_is_decided_again_on_the_new_cell():
    # upload of 1 Mbit at 1 Mbps from t = 9.5 s; handover at t = 10 s, radio down 50 ms; re-decided at 10.05 s:
    # always_edge takes the nearest server of cell b (eb), the whole upload again: done at 11.05 s
    result = run(world(one_task(9.5, 1e6)), duration_s=30.0, seed=1, mobility=mobility(0.05, "restart"))
    record = result.records.iloc[0]
    assert record["upload_start_s"] == pytest.approx(10.05)
    assert record["upload_end_s"] == pytest.approx(11.05)
    assert record["target"] == "eb"
    table = result.mobility
    assert table is not None
    row = table.iloc[0]
    assert (row["handovers"], row["interrupted_transfers"], row["interruption_s"]) == (1, 1, pytest.approx(0.05))
    assert row["handovers_per_hour"] == pytest.approx(1 / 30.0 * 3600.0)


def test_an_upload_in_flight_resumes_towards_the_same_server():
    # half of the bits were sent by t = 10 s; the other half go from 10.05 s over cell b to ea (via the a-b link)
    result = run(world(one_task(9.5, 1e6)), duration_s=30.0, seed=1, mobility=mobility(0.05, "resume"))
    record = result.records.iloc[0]
    assert record["upload_start_s"] == pytest.approx(9.5)
    assert record["upload_end_s"] == pytest.approx(10.55)
    assert record["target"] == "ea"
    # the reply crosses the a-b link back (10 ms) after the 1 ms of compute
    assert record["completed_s"] == pytest.approx(10.55 + 0.01 + 1e-3 + 0.01)


def test_a_task_arriving_during_the_interruption_waits_for_the_new_link_and_sees_it():
    result = run(world(one_task(10.02, 1e6)), duration_s=30.0, seed=1, mobility=mobility(0.05, "resume"))
    record = result.records.iloc[0]
    assert record["target"] == "eb"  # decided at 10.02 s on cell b
    assert record["upload_end_s"] == pytest.approx(11.05)  # its transfer starts when the radio is back


def test_without_crossing_nothing_is_handed_over():
    still = Trace(np.array([0.0]), np.array([0]), np.array([[40.0, 50.0]]))
    spec = Mobility(Area(200.0, 100.0), (Cell("a", (50.0, 50.0)), Cell("b", (150.0, 50.0))),
                    (GroupMotion("walkers", still),), HandoverRule(interruption_s=0.05))
    result = run(world(one_task(9.5, 1e6)), duration_s=30.0, seed=1, mobility=spec)
    record = result.records.iloc[0]
    assert (record["upload_start_s"], record["upload_end_s"], record["target"]) == (9.5, 10.5, "ea")
    assert result.mobility is not None
    assert result.mobility.iloc[0]["handovers"] == 0
    assert result.mobility.iloc[0]["mean_distance_m"] == pytest.approx(math.hypot(10.0, 0.0))


def test_strongest_cell_with_hysteresis_and_time_to_trigger_hands_over_when_worked_out():
    # 10 m/s along y = 50 from x = 0; same radio in both cells, exponent 3: cell b beats a by 3 dB once
    # 30 log10((x - 50) / (150 - x)) > 3, i.e. x > 105.73 m (t > 10.573 s): first seen at the step t = 11 s, held
    # for the 2 s time-to-trigger: handover at t = 13 s. A task at 12.5 s is still decided on cell a; with its
    # upload (~1.7 s at ~0.6 Mbit/s) restarted at the handover (no interruption) it goes to eb from 13 s.
    from offload.pathloss import RadioModel
    radio = RadioModel(bandwidth_hz=1e5, tx_power_w=0.1, path_loss_exponent=3.0, peak_bps=1e9)
    walk = Trace(np.array([0.0, 20.0]), np.array([0, 0]), np.array([[0.0, 50.0], [200.0, 50.0]]))
    cells = (Cell("a", (50.0, 50.0), radio=radio), Cell("b", (150.0, 50.0), radio=radio))
    spec = Mobility(Area(200.0, 100.0), cells,
                    (GroupMotion("walkers", walk),),
                    HandoverRule(rule="strongest", hysteresis_db=3.0, time_to_trigger_s=2.0, in_flight="restart"))
    tasks = TaskTrace((12.5,), (0,), (1e6,), (1e6,), (0.0,))
    result = run(world(tasks), duration_s=30.0, seed=1, mobility=spec)
    record = result.records.iloc[0]
    assert record["upload_start_s"] == 13.0
    assert record["target"] == "eb"
    assert result.mobility is not None
    assert result.mobility.iloc[0]["handovers"] == 1


def test_a_motion_for_an_unknown_group_is_named():
    spec = Mobility(Area(200.0, 100.0), (Cell("a", (50.0, 50.0)),), (GroupMotion("runners", JUMP),))
    with pytest.raises(ParameterError, match=r"mobility\.groups='runners': is not a device group of the world"):
        run(world(one_task(1.0, 1.0)), duration_s=5.0, seed=1, mobility=spec)
