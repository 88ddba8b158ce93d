"""Every bundled scenario validates and runs in a short mode; summaries are checked against queueing theory or
ranges derived from the scenario's own numbers (never against numbers copied from a run)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from offload import queueing
from simulator.scenario import ScenarioError, bundled_scenarios, load_scenario, scenario_from_dict, simulate

BUNDLED = ["edge-failure", "harvesting-sensor", "license-plate", "license-plate-single", "md1", "mm1", "mmc", "s100"]


def test_the_bundled_scenarios_are_listed_with_descriptions() -> None:
    listing = dict(bundled_scenarios())
    assert set(BUNDLED) <= set(listing)
    assert all(listing[name] for name in BUNDLED)


@pytest.mark.parametrize("name", [name for name, _ in bundled_scenarios()])
def test_every_bundled_file_is_a_scenario_or_a_placement_problem(name: str) -> None:
    try:
        load_scenario(name)
    except ScenarioError as error:
        assert "mecsim place" in str(error), str(error)  # noqa: PT017 - scheduler's placement files


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_scenario_validates_and_round_trips(name: str) -> None:
    scenario = load_scenario(name)
    assert scenario.name == name
    assert scenario.world.n_devices >= 1
    again = scenario_from_dict(scenario.resolved)
    assert again.sha256 == scenario.sha256


def test_mm1_mean_time_in_system_and_tail() -> None:
    scenario = load_scenario("mm1", ["run.duration=1000s", "run.replications=4"])
    result = simulate(scenario)
    edge = result.summary["policies"]["edge"]
    theory = float(queueing.mm1_mean_sojourn_s(8.0, 10.0))  # 0.5 s
    assert edge["latency_s"]["mean"] == pytest.approx(theory, rel=0.12)
    assert edge["utilisation"]["server"] == pytest.approx(0.8, abs=0.03)
    measured = result.records[result.records["created_s"] >= scenario.run.warmup_s]
    latency = measured["latency_s"].dropna().to_numpy()
    tail = float(queueing.mm1_sojourn_tail(1.0, 8.0, 10.0))  # e^-2
    assert np.mean(latency > 1.0) == pytest.approx(tail, abs=0.03)
    assert edge["monitor"]["job"]["avg_qpm"] == pytest.approx(8.0 * 60, rel=0.05)


def test_mmc_erlang_c_wait_probability_and_mean_wait() -> None:
    scenario = load_scenario("mmc", ["run.duration=400s", "run.replications=3"])
    result = simulate(scenario)
    edge = result.summary["policies"]["edge"]
    assert edge["latency_s"]["mean"] == pytest.approx(float(queueing.mmc_mean_sojourn_s(32.0, 10.0, 4)), rel=0.08)
    assert edge["utilisation"]["server"] == pytest.approx(0.8, abs=0.03)
    records = result.records.dropna(subset=["service_start_s"])
    waited = (records["service_start_s"] - records["queue_entry_s"]) > 1e-12
    assert waited.mean() == pytest.approx(float(queueing.erlang_c(4, 3.2)), abs=0.04)  # 0.596432


def test_md1_mean_time_in_system() -> None:
    result = simulate(load_scenario("md1", ["run.duration=1000s", "run.replications=4"]))
    edge = result.summary["policies"]["edge"]
    assert edge["latency_s"]["mean"] == pytest.approx(float(queueing.md1_mean_sojourn_s(8.0, 0.1)), rel=0.1)
    service = (result.records["service_end_s"] - result.records["service_start_s"]).dropna()
    assert service.to_numpy() == pytest.approx(0.1)


def test_s100_response_time_from_its_parts() -> None:
    result = simulate(load_scenario("s100", ["run.duration=200s"]))
    edge = result.summary["policies"]["edge"]
    upload_s = 200e3 * 8 / 100e6
    expected = upload_s + 2 * 0.002 + float(queueing.md1_mean_sojourn_s(10.0, 0.05))  # ≈ 0.095 s
    assert edge["latency_s"]["mean"] == pytest.approx(expected, rel=0.08)
    assert np.mean(list(edge["utilisation"].values())) == pytest.approx(0.5, abs=0.03)
    assert edge["offload_fraction"] == 1.0


def test_license_plate_short_run_against_its_own_numbers() -> None:
    scenario = load_scenario("license-plate", ["run.duration=25s", "run.replications=1"])
    summary = simulate(scenario).summary["policies"]
    arrivals_per_s = 8 * 25 * 1.0 * 0.5  # CPEs x cameras x fps x fraction with a plate
    # local: 13 s per image can never meet the 1 s deadline
    assert summary["local"]["offload_fraction"] == 0.0
    assert summary["local"]["deadline_miss_rate"] == 1.0
    # edge: utilisation = arrival rate x 9 ms; latency at least upload + 2 x 10 ms + 9 ms, and within the deadline
    edge = summary["edge"]
    assert edge["offload_fraction"] == 1.0
    assert edge["utilisation"]["edge"] == pytest.approx(arrivals_per_s * 0.009, abs=0.08)
    floor_s = 300e3 * 8 / 60e6 + 2 * 0.010 + 0.009 + 1e3 * 8 / 300e6
    assert floor_s < edge["latency_s"]["p50"] < edge["latency_s"]["p99"] < 1.0
    assert edge["monitor"]["plates"]["avg_qpm"] == pytest.approx(arrivals_per_s * 60, rel=0.1)
    # the edge's request time includes queueing: at ~90 % load well above the bare 9 ms
    assert edge["monitor"]["plates"]["avg_req_time_s"] > 2 * 0.009
    # a device transmits at 3.4 W for at least the bare upload time of each frame
    assert edge["energy_j_per_task"] >= 3.4 * 300e3 * 8 / 60e6
    assert not math.isnan(summary["queue-aware"]["latency_s"]["mean"])


def test_edge_failure_short_run_reschedules_the_lost_replica_after_its_cold_start() -> None:
    # the three replicas boot for 20 s (their nodes hold the image); edge-1 fails at 60 s and is back at 80 s; its
    # replica goes to edge-4, the only node without one, which pulls the 500 MB image from the cloud registry (4 Gbit
    # over the 1 Gbps link plus 30 ms) and boots for 20 s
    scenario = load_scenario("edge-failure", ["run.duration=90s", "events[0].at=60s", "events[1].at=80s"])
    result = simulate(scenario)
    assert result.platform is not None
    events = result.platform.events
    timeline = [(float(t), str(k), str(n)) for t, k, n in events[events["kind"].isin(
        ["fail", "lost", "pull_end", "ready", "recover"])][["time_s", "kind", "node"]].to_numpy()]
    pulled_s = 60.0 + 500e6 * 8 / 1e9 + 0.030
    assert timeline == [(20.0, "ready", "edge-1"), (20.0, "ready", "edge-2"), (20.0, "ready", "edge-3"),
                        (60.0, "fail", "edge-1"), (60.0, "lost", "edge-1"),
                        (pytest.approx(pulled_s), "pull_end", "edge-4"), (80.0, "recover", "edge-1"),
                        (pytest.approx(pulled_s + 20.0), "ready", "edge-4")]
    summary = result.summary["policies"]["edge"]
    tasks = summary["tasks"]
    assert tasks["generated"] == tasks["completed"] + sum(summary["dropped_by_reason"].values()) + tasks["in_flight"]
    # the requests lost with edge-1 are retried on the surviving replicas (up to three attempts), none is dropped
    assert summary["dropped_by_reason"] == {}
    # 37.5 images/s from 30 s on: about 2,250 in the last 60 s of the run
    assert 2000 < tasks["generated"] < 2500


@pytest.mark.slow
@pytest.mark.parametrize(("name", "theory_s"), [
    ("mm1", float(queueing.mm1_mean_sojourn_s(8.0, 10.0))),
    ("mmc", float(queueing.mmc_mean_sojourn_s(32.0, 10.0, 4))),
    ("md1", float(queueing.md1_mean_sojourn_s(8.0, 0.1))),
])
def test_validation_scenarios_at_full_length_cover_theory(name: str, theory_s: float) -> None:
    edge = simulate(load_scenario(name)).summary["policies"]["edge"]
    half_width = edge["latency_ci95_s"]["mean"]
    assert half_width < 0.1 * theory_s
    assert abs(edge["latency_s"]["mean"] - theory_s) <= 2 * half_width
    assert edge["utilisation"]["server"] == pytest.approx(0.8, abs=0.02)
