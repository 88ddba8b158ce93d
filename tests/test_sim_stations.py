"""Per-station statistics against the same quantities recomputed here from the records (wait, service, served,
drops by reason, the time-average queue length rebuilt event by event), intervals by replications or batch means,
and the run's warnings: overload, too short to say, automatic warm-up."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from simulator.builders import REFERENCE_DEVICE, mm1_world
from simulator.distributions import Exponential
from simulator.families import Scaled
from simulator.run import detect_warmup_s, run
from simulator.workloads import Poisson
from simulator.world import AccessPoint, DeviceGroup, EdgeServer, TaskSizes, World

WARMUP_S = 20.0
DURATION_S = 400.0


def _queue_area(records: pd.DataFrame, start_s: float, end_s: float) -> float:
    """∫ (tasks waiting) dt over [start, end]: +1 at queue entry, −1 at service start, for every task that waited."""
    waited = records[records["queue_entry_s"].notna() & (records["service_start_s"] > records["queue_entry_s"])
                     | (records["queue_entry_s"].notna() & records["service_start_s"].isna() & ~records["dropped"])]
    enter = np.clip(waited["queue_entry_s"].to_numpy(), start_s, end_s)
    leave = np.clip(waited["service_start_s"].fillna(end_s).to_numpy(), start_s, end_s)
    return float((leave - enter).sum())


def test_station_statistics_agree_with_the_records() -> None:
    result = run(mm1_world(8.0, 10.0), duration_s=DURATION_S, warmup_s=WARMUP_S, seed=3)
    records = result.records
    station = result.policies["always_edge"].stations["server"]
    served = records[(records["created_s"] >= WARMUP_S) & records["service_end_s"].notna()]
    assert station.served == len(served)
    wait = served["service_start_s"] - served["queue_entry_s"]
    service = served["service_end_s"] - served["service_start_s"]
    assert station.wait_s.mean == pytest.approx(wait.mean(), rel=1e-9, abs=1e-12)
    assert station.service_s.mean == pytest.approx(service.mean(), rel=1e-9)
    assert station.utilisation.mean == result.policies["always_edge"].utilisation["server"]
    window = DURATION_S - WARMUP_S
    assert station.queue_length.mean == pytest.approx(_queue_area(records, WARMUP_S, DURATION_S) / window,
                                                      rel=1e-9)
    assert station.offered_load == pytest.approx(len(records[(records["queue_entry_s"] >= WARMUP_S)]) / window
                                                 * station.service_s.mean, rel=0.01)
    for estimate in (station.utilisation, station.wait_s, station.service_s, station.queue_length):
        assert estimate.ci95 is not None
        assert estimate.ci95 > 0
    assert station.queue_quantiles["p50"] <= station.queue_quantiles["p95"] <= station.queue_quantiles["p99"]


def test_drops_by_reason_and_replication_intervals() -> None:
    group = DeviceGroup("src", 1, REFERENCE_DEVICE, Poisson(30.0), "ap", TaskSizes(work_ops=Scaled(Exponential(0.1),
                                                                                                      1e9)))
    server = EdgeServer("server", speed_ops_per_s=1e9, workers=2, location="ap", queue_capacity=3,
                        patience=Exponential(0.2))
    world = World(device_groups=(group,), access_points=(AccessPoint("ap", math.inf, math.inf),), servers=(server,))
    result = run(world, duration_s=100.0, warmup_s=10.0, seed=6, replications=3)
    station = result.policies["always_edge"].stations["server"]
    measured = result.records[(result.records["created_s"] >= 10.0) & ~result.records["in_flight"]]
    counts = measured["drop_reason"].astype(str).value_counts()
    assert station.drops["server_queue_full"] == counts.get("server_queue_full", 0) > 0
    assert station.drops["reneged"] == counts.get("reneged", 0) > 0
    waits = [float((rep["service_start_s"] - rep["queue_entry_s"]).mean())
             for _, rep in measured[measured["service_end_s"].notna()].groupby("replication")]
    assert station.wait_s.mean == pytest.approx(np.mean(waits), rel=1e-9)
    assert station.wait_s.ci95 == pytest.approx(4.303 * np.std(waits, ddof=1) / math.sqrt(3), rel=1e-3)
    assert not any("overloaded" in warning for warning in result.metadata["warnings"])  # bounded: ρ = 1.5 is fine


def test_an_overloaded_station_is_reported() -> None:
    result = run(mm1_world(12.0, 10.0), duration_s=300.0, seed=1, streaming=True)
    warnings = result.metadata["warnings"]
    assert any("station server is overloaded" in w and "offered load" in w and "grew" in w for w in warnings)
    calm = run(mm1_world(3.0, 10.0), duration_s=300.0, seed=1, streaming=True)
    assert not any("overloaded" in warning for warning in calm.metadata["warnings"])


def test_a_run_too_short_to_say_has_no_interval_and_says_so() -> None:
    result = run(mm1_world(0.5, 10.0), duration_s=20.0, seed=2)  # about 10 tasks: batches without any
    summary = result.policies["always_edge"]
    assert summary.latency_ci95_s.mean_s is None
    assert summary.latency_s.mean_s is not None
    assert any("too short to say" in warning for warning in result.metadata["warnings"])


def test_automatic_warm_up_is_what_mser_detects_in_the_pilot() -> None:
    world = mm1_world(9.0, 10.0)
    result = run(world, duration_s=600.0, seed=4, warmup_s="auto", streaming=True)
    assert result.metadata["warmup_auto"] is True
    assert result.metadata["warmup_s"] == detect_warmup_s(world, duration_s=600.0, seed=4)
    assert 0.0 <= result.metadata["warmup_s"] <= 300.0
    assert not any("MSER" in warning for warning in result.metadata["warnings"])


def test_scenario_warm_up_auto_and_the_printed_warnings() -> None:
    from simulator.scenario import load_scenario, simulate
    from simulator.scenario.report import format_summary

    scenario = load_scenario("mm1", ["run.duration=300s", "run.warmup=auto", "run.replications=2"])
    result = simulate(scenario)
    assert result.metadata["warmup_auto"] is True
    assert result.metadata["warmup_s"] == detect_warmup_s(scenario.world, duration_s=300.0, seed=1)
    overloaded = load_scenario("mm1", ["run.duration=200s", "devices[source].workload.rate=12/s",
                                       "run.replications=1"])
    text = format_summary(overloaded, simulate(overloaded))
    assert "warning: edge: station server is overloaded" in text
    assert re.search(r"^station +server +utilisation +wait +service +queue length", text, re.MULTILINE)
