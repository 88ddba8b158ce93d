"""Tidy DataFrames of results (issue 18): simulation summary/station/service frames, offload decisions and
placements, each checked against the typed result it reshapes and against an independent truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from offload import CostInputs, Device, Link, Server, Target, Task, cost_arrays, decide, decide_task
from scheduler.instances import random_instance
from scheduler.solvers import solve
from simulator.builders import mm1_world
from simulator.run import run


@pytest.fixture(scope="module")
def result():
    return run(mm1_world(8.0, 10.0), duration_s=400.0, seed=3, replications=2, warmup_s=20.0)


def test_summary_frame_is_one_row_per_policy_and_metric(result) -> None:
    frame = result.summary_frame()
    assert list(frame.columns) == ["policy", "metric", "value", "ci95", "unit"]
    assert not frame.duplicated(["policy", "metric"]).any()
    summary = result.policies["always_edge"]
    rows = frame.set_index("metric")
    assert rows.loc["latency_mean", "value"] == summary.latency_s.mean_s
    assert rows.loc["latency_p99", "ci95"] == summary.latency_ci95_s.p99_s
    assert rows.loc["latency_p50", "unit"] == "s"
    assert rows.loc["offload_fraction", "value"] == 1.0
    assert np.isnan(rows.loc["offload_fraction", "ci95"])
    assert rows.loc["tasks_generated", "value"] == summary.tasks.generated
    assert rows.loc["tasks_generated", "value"] == (rows.loc["tasks_completed", "value"]
                                                   + rows.loc["tasks_dropped", "value"]
                                                   + rows.loc["tasks_in_flight", "value"])
    assert frame["value"].dtype == np.float64


def test_station_frame_satisfies_littles_law(result) -> None:
    frame = result.station_frame()
    assert list(frame.columns) == ["policy", "server", "utilisation", "mean_in_system", "arrival_rate_x_sojourn"]
    row = frame.iloc[0]
    assert row.utilisation == result.policies[row.policy].utilisation[row.server]
    # L = λW, measured apart (time-average occupancy against arrivals times mean sojourn)
    assert row.mean_in_system == pytest.approx(row.arrival_rate_x_sojourn, rel=0.02)


def test_service_frame_is_the_monitor(result) -> None:
    frame = result.service_frame()
    monitor = result.policies["always_edge"].monitor["default"]
    assert frame.to_dict("records") == [{"policy": "always_edge", "service": "default", "avg_qpm": monitor.avg_qpm,
                                         "avg_req_time_s": monitor.avg_req_time_s, "calls": monitor.counter}]
    # queries per minute: calls over the measured window of both replications
    assert monitor.avg_qpm == pytest.approx(monitor.counter / 2 / ((400.0 - 20.0) / 60.0))


def test_offload_decision_frame_has_every_option_and_the_choice() -> None:
    edge = Target("edge", Server(compute_time_s=0.009), Link(uplink_bps=5e6, rtt_s=0.02))
    frame = decide_task(Task(input_bits=2.4e6), Device(compute_time_s=13.0), [edge]).to_frame()
    assert list(frame.option) == ["local", "edge"]
    chosen = frame[frame.chosen]
    assert list(chosen.option) == ["edge"]
    # the seed's formula: D/B + RTT + C/Pe
    assert chosen.latency_s.iloc[0] == pytest.approx(2.4e6 / 5e6 + 0.02 + 0.009)
    assert chosen.upload_s.iloc[0] == pytest.approx(2.4e6 / 5e6)
    assert frame.latency_s.iloc[0] == 13.0


def test_offload_decision_frame_agrees_with_the_arrays() -> None:
    rng = np.random.default_rng(5)
    n = 50
    inputs = CostInputs(work_ops=rng.uniform(1e8, 1e10, n), input_bits=rng.uniform(1e4, 1e7, n),
                        device_speed_ops_per_s=1e9, server_speed_ops_per_s=[2e10, 1e11], uplink_bps=[2e7, 5e7],
                        round_trip_s=[0.01, 0.08], target_names=("edge", "cloud"))
    decision = decide(cost_arrays(inputs))
    frame = decision.to_frame()
    assert len(frame) == n * 3
    chosen = frame[frame.chosen].sort_values("task")
    assert list(chosen.task) == list(range(n))
    assert list(chosen.option) == decision.chosen_names
    np.testing.assert_array_equal(chosen.latency_s.to_numpy(), decision.chosen(decision.costs.latency_s))
    parts = frame[["upload_s", "round_trip_s", "wait_s", "compute_s", "download_s"]].sum(axis=1)
    np.testing.assert_allclose(parts, frame.latency_s, rtol=1e-12)


def test_placement_frame_carries_all_demand() -> None:
    problem = random_instance(np.random.default_rng(2), 8, 3, 12).problem
    result = solve(problem, "greedy")
    frame = result.to_frame(problem)
    assert list(frame.columns) == ["group", "service", "node", "share", "rate_per_s", "delay_s", "replicas"]
    assert (frame.share > 0).all()
    # every (group, service) with demand is served in full
    sent = frame.groupby(["group", "service"]).rate_per_s.sum()
    for g, group in enumerate(problem.group_names):
        for s, service in enumerate(problem.services):
            if problem.rate_per_s[g, s] > 0:
                assert sent[(group, service.name)] == pytest.approx(problem.rate_per_s[g, s])
    replicas = result.replica_frame(problem)
    assert replicas.replicas.sum() == result.placement.replicas.sum()
    # a node serving a service holds a replica of it
    served = set(zip(frame.service, frame.node, strict=True))
    assert served <= set(zip(replicas.service, replicas.node, strict=True))


def test_placement_frame_without_a_placement_is_empty() -> None:
    problem = random_instance(np.random.default_rng(2), 4, 1, 3).problem
    result = solve(problem, "greedy")
    empty = type(result)(result.solver, None, False, result.status, "none", None, np.inf, np.inf, 0.0)
    assert isinstance(empty.to_frame(problem), pd.DataFrame)
    assert empty.to_frame(problem).empty
    assert empty.replica_frame(problem).empty
