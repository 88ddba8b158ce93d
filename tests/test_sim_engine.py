"""Deterministic engine behaviour: exact event traces, processor sharing, batching, energy, drops, reproducibility."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from offload.decision import seed_latency_rule
from offload.errors import InfeasibleError, ParameterError
from offload.profiles import Device
from simulator.builders import REFERENCE_DEVICE, mm1_world, s100_world
from simulator.result import RECORD_COLUMNS, TIMESERIES_COLUMNS
from simulator.run import run
from simulator.workloads import Poisson, Trace
from simulator.world import (
    AccessPoint,
    BackhaulLink,
    Batching,
    Cloud,
    DeviceGroup,
    EdgeServer,
    PolicySpec,
    TaskSizes,
    ThroughputTable,
    World,
)

DEVICE = Device(speed_ops_per_s=1e9, compute_power_w=4.0, idle_power_w=0.5, tx_power_w=2.0, rx_power_w=1.5,
                tail_energy_j=0.25)


def trace_world(times: list[float], *, devices: list[int] | None = None, work_ops: float = 0.8e9,
                input_bits: float = 0.1e6, output_bits: float = 0.2e6, ap: AccessPoint | None = None,
                server: EdgeServer | None = None, count: int = 1, **world_kw: object) -> World:
    """Tasks at fixed ``times`` from a trace; the edge serves 1e9 ops/s (0.8 s per task by default)."""
    n = len(times)
    trace = Trace(tuple(times), tuple(devices or [0] * n), (work_ops,) * n, (input_bits,) * n, (output_bits,) * n)
    group = DeviceGroup("cams", count, DEVICE, trace, "ap")
    ap = ap or AccessPoint("ap", 1e6, 2e6, latency_s=0.05, shared=False)
    server = server or EdgeServer("edge", speed_ops_per_s=1e9, location="ap")
    return World(device_groups=(group,), access_points=(ap,), servers=(server,), **world_kw)  # type: ignore[arg-type]


def test_dd1_exact_event_trace() -> None:
    result = run(trace_world([0.0, 0.5, 1.0, 1.5]), duration_s=10.0, seed=0)
    r = result.records
    created = np.array([0.0, 0.5, 1.0, 1.5])
    # upload 0.1 Mbit at 1 Mbps, 50 ms access delay each way, service 0.8 s FIFO, download 0.2 Mbit at 2 Mbps
    start = np.array([0.15, 0.95, 1.75, 2.55])
    expected = {
        "created_s": created, "upload_start_s": created, "upload_end_s": created + 0.1,
        "queue_entry_s": created + 0.15, "service_start_s": start, "service_end_s": start + 0.8,
        "download_start_s": start + 0.85, "download_end_s": start + 0.95, "completed_s": start + 0.95,
    }
    for column, values in expected.items():
        np.testing.assert_allclose(r[column].to_numpy(), values, atol=1e-12, err_msg=column)
    np.testing.assert_allclose(r["latency_s"], start + 0.95 - created, atol=1e-12)
    assert list(r["target"]) == ["edge"] * 4
    # energy by hand: tx 2 W x 0.1 s, rx 1.5 W x 0.1 s, idle 0.5 W from upload end to download start, tail 0.25 J
    idle = 0.5 * (start + 0.85 - (created + 0.1))
    np.testing.assert_allclose(r["energy_tx_j"], 0.2)
    np.testing.assert_allclose(r["energy_rx_j"], 0.15)
    np.testing.assert_allclose(r["energy_idle_j"], idle)
    np.testing.assert_allclose(r["energy_tail_j"], 0.25)
    np.testing.assert_allclose(r["energy_compute_j"], 0.0)
    np.testing.assert_allclose(r["energy_j"], 0.2 + 0.15 + idle + 0.25)


def test_local_execution_is_a_fifo_queue_on_the_device() -> None:
    result = run(trace_world([0.0, 0.2]), duration_s=10.0, seed=0, policies=["always_local"])
    r = result.records
    np.testing.assert_allclose(r["service_start_s"], [0.0, 0.8])
    np.testing.assert_allclose(r["completed_s"], [0.8, 1.6])
    np.testing.assert_allclose(r["energy_compute_j"], [3.2, 3.2])
    np.testing.assert_allclose(r["energy_j"], [3.2, 3.2])
    assert list(r["target"]) == ["local", "local"]
    assert result.summary["policies"]["always_local"]["offload_fraction"] == 0.0


def test_shared_uplink_is_processor_sharing() -> None:
    # 1 Mbit and 2 Mbit start together on a 10 Mbps shared uplink: 5 Mbps each until the first ends at 0.2 s,
    # then the second gets all 10 Mbps for its last 1 Mbit and ends at 0.3 s.
    ap = AccessPoint("ap", 10e6, math.inf, shared=True)
    n = 2
    trace = Trace((0.0, 0.0), (0, 1), (0.0,) * n, (1e6, 2e6), (0.0,) * n)
    group = DeviceGroup("cams", 2, DEVICE, trace, "ap")
    world = World(device_groups=(group,), access_points=(ap,),
                  servers=(EdgeServer("edge", compute_time_s=0.0, workers=10, location="ap"),))
    r = run(world, duration_s=5.0, seed=0).records.sort_values("device")
    np.testing.assert_allclose(r["upload_end_s"], [0.2, 0.3], atol=1e-12)


def test_throughput_table_sets_the_per_client_rate() -> None:
    table = ThroughputTable((1, 2), (10e6, 4e6))
    ap = AccessPoint("ap", 10e6, math.inf, uplink_table=table)
    trace = Trace((0.0, 0.0, 1.0), (0, 1, 0), (0.0,) * 3, (1e6,) * 3, (0.0,) * 3)
    group = DeviceGroup("cams", 2, DEVICE, trace, "ap")
    world = World(device_groups=(group,), access_points=(ap,),
                  servers=(EdgeServer("edge", compute_time_s=0.0, workers=10, location="ap"),))
    r = run(world, duration_s=5.0, seed=0).records.sort_values("created_s")
    np.testing.assert_allclose(r["upload_end_s"] - r["upload_start_s"], [0.25, 0.25, 0.1], atol=1e-12)


def test_shared_backhaul_link_and_propagation() -> None:
    # the edge sits behind a 1 Mbps link with 30 ms delay: store and forward after the 50 ms access delay
    world = trace_world([0.0], server=EdgeServer("edge", speed_ops_per_s=1e9),
                        links=[BackhaulLink("ap", "edge", 1e6, 0.03)])
    r = run(world, duration_s=10.0, seed=0).records.iloc[0]
    assert r["queue_entry_s"] == pytest.approx(0.1 + 0.05 + 0.1 + 0.03)
    assert r["download_start_s"] == pytest.approx(r["service_end_s"] + 0.2 + 0.03 + 0.05)
    assert r["completed_s"] == pytest.approx(r["download_start_s"] + 0.1)


def test_batching_serves_up_to_max_batch_in_t0_plus_k_items() -> None:
    server = EdgeServer("edge", speed_ops_per_s=1e9, location="ap", batching=Batching(2, 0.1, 0.05))
    world = trace_world([0.0, 0.0, 0.0], input_bits=0.0, output_bits=0.0,
                        ap=AccessPoint("ap", math.inf, math.inf), server=server)
    r = run(world, duration_s=5.0, seed=0).records
    np.testing.assert_allclose(r["service_start_s"], [0.0, 0.15, 0.15])
    np.testing.assert_allclose(r["service_end_s"], [0.15, 0.35, 0.35])


def test_drops_are_counted_and_conserved() -> None:
    server = EdgeServer("edge", speed_ops_per_s=1e9, location="ap", queue_capacity=1)
    world = trace_world([0.0, 0.01, 0.02, 0.03], input_bits=0.0, output_bits=0.0,
                        ap=AccessPoint("ap", math.inf, math.inf), server=server)
    result = run(world, duration_s=10.0, seed=0)
    r = result.records
    assert list(r["dropped"]) == [False, False, True, True]
    assert list(r["drop_reason"])[2:] == ["server_queue_full"] * 2
    summary = result.summary["policies"]["always_edge"]
    assert summary["tasks"] == {"generated": 4, "completed": 2, "dropped": 2, "in_flight": 0}
    # a dropped offload still paid its radio tail; energy per task is all energy per completed task
    np.testing.assert_allclose(r["energy_tail_j"], 0.25)
    assert summary["energy_j_per_task"] == pytest.approx(r["energy_j"].sum() / 2)
    assert summary["deadline_miss_rate"] == pytest.approx(0.5)


def test_expired_tasks_are_dropped_and_unfinished_ones_in_flight() -> None:
    trace = Trace((0.0, 0.1, 0.2), (0, 0, 0), (1e9,) * 3, (0.0,) * 3, (0.0,) * 3)
    group = DeviceGroup("cams", 1, DEVICE, trace, "ap", deadline_s=1.5, drop_expired=True)
    world = World(device_groups=(group,), access_points=(AccessPoint("ap", math.inf),),
                  servers=(EdgeServer("edge", speed_ops_per_s=1e9, location="ap"),))
    result = run(world, duration_s=10.0, seed=0)
    assert list(result.records["drop_reason"]) == ["", "", "deadline_expired"]
    summary = result.summary["policies"]["always_edge"]
    assert summary["deadline_miss_rate"] == pytest.approx(2 / 3)  # task 1 finished at 2.0 > 0.1 + 1.5, task 2 dropped
    short = run(world, duration_s=1.5, seed=0)
    assert short.summary["policies"]["always_edge"]["tasks"] == {"generated": 3, "completed": 1, "dropped": 0,
                                                                 "in_flight": 2}
    assert short.records["in_flight"].sum() == 2


def test_same_seed_same_records_and_different_seed_differs() -> None:
    world = s100_world(20, 2)
    a = run(world, duration_s=50.0, seed=11, replications=2)
    b = run(world, duration_s=50.0, seed=11, replications=2)
    pd.testing.assert_frame_equal(a.records, b.records)
    assert a.summary == b.summary
    c = run(world, duration_s=50.0, seed=12)
    assert not np.array_equal(a.records["created_s"][:50], c.records["created_s"][:50])


def test_policies_see_common_random_numbers() -> None:
    cloud = Cloud("dc", speed_ops_per_s=1e11)
    world = World(device_groups=(DeviceGroup("g", 5, REFERENCE_DEVICE, Poisson(2.0), "ap",
                                             TaskSizes(1e8, 1e6, 1e4)),),
                  access_points=(AccessPoint("ap", 20e6, 50e6, latency_s=0.005),),
                  servers=(EdgeServer("e", speed_ops_per_s=5e9, location="ap"), cloud),
                  links=(BackhaulLink("ap", "dc", 1e9, 0.04),))
    policies: list[PolicySpec | str] = ["always_local", "always_edge", "always_cloud", "queue_aware",
                                        PolicySpec("random", {"p": 0.3}), "latency_rule", "energy_rule"]
    r = run(world, duration_s=60.0, seed=5, replications=2, policies=policies).records
    key = ["replication", "task_id"]
    base = r[r["policy"] == "always_local"].sort_values(key)
    for name in ["always_edge", "always_cloud", "random", "queue_aware", "latency_rule", "energy_rule"]:
        other = r[r["policy"] == name].sort_values(key)
        for column in ["created_s", "work_ops", "input_bits", "output_bits"]:
            np.testing.assert_array_equal(base[column].to_numpy(), other[column].to_numpy())
        np.testing.assert_array_equal(base["device"].astype(str).to_numpy(), other["device"].astype(str).to_numpy())
    assert set(r[r["policy"] == "always_cloud"]["target"].astype(str)) == {"dc"}


def test_latency_rule_matches_the_seed_rule() -> None:
    # rule (1): offload iff C/Pd > C/Pe + D/Bc; with no RTT and no output the generalised rule is the same
    for edge_speed in (2e9, 1.05e9):
        world = trace_world([0.0, 1.0], work_ops=1e9, input_bits=1e6, output_bits=0.0,
                            ap=AccessPoint("ap", 10e6, math.inf, shared=False),
                            server=EdgeServer("edge", speed_ops_per_s=edge_speed, location="ap"))
        expected = bool(seed_latency_rule(1e9, 1e6, 1e9, edge_speed, 10e6))
        fraction = run(world, duration_s=5.0, seed=0, policies=["latency_rule"]).summary["policies"][
            "latency_rule"]["offload_fraction"]
        assert fraction == (1.0 if expected else 0.0)


def test_energy_terms_sum_and_follow_the_records() -> None:
    r = run(s100_world(10, 2), duration_s=30.0, seed=3, policies=[PolicySpec("random", {"p": 0.5})]).records
    terms = r[["energy_compute_j", "energy_tx_j", "energy_rx_j", "energy_idle_j", "energy_tail_j"]].sum(axis=1)
    np.testing.assert_allclose(terms, r["energy_j"], rtol=1e-12, atol=1e-12)
    done = r[~r["in_flight"] & ~r["dropped"]]
    remote = done[done["target"] != "local"]
    d = REFERENCE_DEVICE
    expected = (d.tx_power_w * (remote["upload_end_s"] - remote["upload_start_s"])
                + d.rx_power_w * (remote["download_end_s"] - remote["download_start_s"])
                + d.idle_power_w * (remote["download_start_s"] - remote["upload_end_s"]) + d.tail_energy_j)
    np.testing.assert_allclose(remote["energy_j"], expected, rtol=1e-9)
    local = done[done["target"] == "local"]
    np.testing.assert_allclose(local["energy_j"], d.compute_power_w * (local["service_end_s"] -
                                                                       local["service_start_s"]), rtol=1e-9)


def test_result_shape_and_json_summary() -> None:
    result = run(mm1_world(), duration_s=200.0, seed=1, warmup_s=20.0)
    assert tuple(result.records.columns) == RECORD_COLUMNS
    assert tuple(result.timeseries.columns) == TIMESERIES_COLUMNS
    summary = json.loads(json.dumps(result.to_json_dict()))
    policy = summary["policies"]["always_edge"]
    assert set(policy) == {"latency_s", "latency_ci95_s", "energy_j_per_task", "offload_fraction",
                           "deadline_miss_rate", "utilisation", "monitor", "tasks", "stations"}
    assert set(policy["latency_s"]) == {"mean", "p50", "p95", "p99"}
    assert set(policy["monitor"]["default"]) == {"avg_qpm", "avg_req_time_s", "counter"}
    assert {"seed", "version", "replications", "duration_s", "warmup_s"} <= set(summary)
    measured = result.records[(result.records["created_s"] >= 20.0) & ~result.records["in_flight"]]
    assert policy["latency_s"]["mean"] == pytest.approx(measured["latency_s"].mean())
    assert policy["monitor"]["default"]["counter"] == len(measured)
    assert policy["monitor"]["default"]["avg_qpm"] == pytest.approx(len(measured) / (180.0 / 60.0))
    series = result.timeseries[result.timeseries["time_s"] > 20.0]
    assert series["utilisation"].mean() == pytest.approx(policy["utilisation"]["server"], abs=0.02)
    assert (series["queue_length"] >= 0).all()


def test_streaming_keeps_summaries_not_records() -> None:
    world = s100_world(20, 2)
    full = run(world, duration_s=200.0, seed=4)
    stream = run(world, duration_s=200.0, seed=4, streaming=True)
    assert stream.records.empty
    a, b = full.summary["policies"]["always_edge"], stream.summary["policies"]["always_edge"]
    assert a["tasks"] == b["tasks"]
    assert b["latency_s"]["mean"] == pytest.approx(a["latency_s"]["mean"], rel=1e-12)
    assert b["energy_j_per_task"] == pytest.approx(a["energy_j_per_task"], rel=1e-12)
    for q in ("p50", "p95", "p99"):
        assert b["latency_s"][q] == pytest.approx(a["latency_s"][q], rel=3e-3)


def test_run_argument_errors() -> None:
    world = mm1_world()
    with pytest.raises(ParameterError, match="duration_s"):
        run(world, duration_s=0.0, seed=1)
    with pytest.raises(ParameterError, match=r"warmup_s=5\.0: must be < duration_s"):
        run(world, duration_s=5.0, seed=1, warmup_s=5.0)
    with pytest.raises(ParameterError, match="replications"):
        run(world, duration_s=5.0, seed=1, replications=0)
    with pytest.raises(ParameterError, match="seed"):
        run(world, duration_s=5.0, seed=-1)
    with pytest.raises(ParameterError, match="duplicate policy"):
        run(world, duration_s=5.0, seed=1, policies=["always_edge", "always_edge"])


def test_always_edge_without_an_edge_server_is_a_clear_error() -> None:
    world = World(device_groups=(DeviceGroup("cams", 2, DEVICE, Poisson(1.0), "ap"),),
                  access_points=(AccessPoint("ap", 1e7),), servers=(Cloud("dc", speed_ops_per_s=1e11),),
                  links=(BackhaulLink("ap", "dc", 1e9, 0.02),))
    with pytest.raises(InfeasibleError, match="'always_edge': device group 'cams' reaches no edge server"):
        run(world, duration_s=10.0, seed=0)
    assert run(world, duration_s=10.0, seed=0, policies=["always_cloud"]).summary["policies"]["always_cloud"][
        "offload_fraction"] == 1.0


def test_every_count_is_a_total_over_replications() -> None:
    result = run(mm1_world(), duration_s=100.0, seed=3, warmup_s=20.0, replications=3)
    policy = json.loads(json.dumps(result.to_json_dict()))["policies"]["always_edge"]
    records = result.records
    assert set(records["replication"]) == {0, 1, 2}
    measured = records[(records["created_s"] >= 20.0) & ~records["in_flight"]]
    assert policy["monitor"]["default"]["counter"] == len(measured)  # calls: every replication's, summed
    assert policy["tasks"]["generated"] == len(records)
    assert policy["tasks"]["in_flight"] == int(records["in_flight"].sum())
    per_replication = measured.groupby("replication").size() / (80.0 / 60.0)
    assert policy["monitor"]["default"]["avg_qpm"] == pytest.approx(per_replication.mean())  # a rate: the mean
