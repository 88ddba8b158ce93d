"""Device retries against hand timelines: a request failed by its node, then by the router's wait, is sent again
after ``backoff × multiplier^k`` and completes; device timeouts abandon attempts that run on unrecorded; a request
whose last attempt fails is dropped for that reason; conservation counts tasks, not attempts."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from offload.errors import ParameterError
from offload.profiles import Device
from simulator.lifecycle import Deployment, Image, NodeCapacity, NodeEvent, Platform, Registry, Retry, Unready
from simulator.result import SimulationResult
from simulator.run import run
from simulator.scenario import ScenarioError, load_scenario, simulate
from simulator.workloads import Poisson, Trace, Workload
from simulator.world import AccessPoint, BackhaulLink, DeviceGroup, EdgeServer, Service, TaskSizes, World

IMAGE = Image("svc:v1", 8e8)


def _world(workload: Workload, nodes: tuple[str, ...] = ("e1",)) -> World:
    group = DeviceGroup("cams", 1, Device(speed_ops_per_s=1e6), workload, "ap", TaskSizes(work_ops=1e10),
                        service="svc")
    servers = tuple(EdgeServer(n, speed_ops_per_s=1e9, location="site") for n in nodes)
    return World(device_groups=(group,), access_points=(AccessPoint("ap", math.inf, math.inf),), servers=servers,
                 links=(BackhaulLink("ap", "site"), BackhaulLink("site", "dc", 1e9)),
                 services=(Service("svc", nodes),), policies=("always_edge",))


def _one_request(at_s: float) -> Trace:
    return Trace((at_s,), (0,), (1e10,), (0.0,), (0.0,))


def _run(world: World, deployment: Deployment, retry: Retry, duration_s: float,
         failures: tuple[NodeEvent, ...] = (), *, seed: int = 1, mtbf_s: float = math.inf,
         mttr_s: float = 0.0) -> SimulationResult:
    nodes = tuple(NodeCapacity(n, 1.0, images=(IMAGE.name,), mtbf_s=mtbf_s, mttr_s=mttr_s) for n in deployment.nodes)
    platform = Platform((IMAGE,), (Registry("dc"),), nodes, (deployment,), failures=failures, retries=(retry,))
    return run(world, duration_s=duration_s, seed=seed, platform=platform)


def _policy(result: SimulationResult) -> dict[str, object]:
    summary: dict[str, object] = result.to_json_dict()["policies"]["always_edge"]
    return summary


def test_a_request_failed_by_its_node_then_by_the_wait_is_retried_with_exponential_backoff() -> None:
    # one request of 10 s (1e10 ops at 1 GHz) sent at 0 to the only replica, on e1; e1 fails at 4 s (attempt 0
    # fails: node_failure); retry 0 is sent 1 s later (5 s) and waits at the router (no replica: e1 is down) until
    # its 3 s timeout (8 s: no_ready_replica); retry 1 is sent 1 × 2 = 2 s later (10 s); e1 came back at 9 s and its
    # replica restarted at once, so attempt 2 runs 10 s .. 20 s and the request completes at 20 s
    deployment = Deployment("svc-v1", "svc", "v1", IMAGE, 1, ("e1",), unready=Unready("wait", 3.0), reschedule=False)
    retry = Retry("cams", attempts=3, backoff_s=1.0, multiplier=2.0)
    failures = (NodeEvent(4.0, "e1", "fail"), NodeEvent(9.0, "e1", "recover"))
    result = _run(_world(_one_request(0.0)), deployment, retry, 60.0, failures)
    record = result.records.iloc[0]
    assert not record["dropped"]
    np.testing.assert_allclose([record["created_s"], record["upload_start_s"], record["service_start_s"],
                                record["completed_s"], record["latency_s"]], [0.0, 10.0, 10.0, 20.0, 20.0])
    summary = _policy(result)
    assert summary["retried_by_reason"] == {"node_failure": 1, "no_ready_replica": 1}
    assert summary["dropped_by_reason"] == {}
    assert summary["tasks"] == {"generated": 1, "completed": 1, "dropped": 0, "in_flight": 0}


def test_a_retried_request_is_charged_every_attempt_upload_and_wait() -> None:
    # a 1 Mbit request over a 1 Mbit/s uplink (1 s per upload), 10 s of work, no answer to download; the replica
    # starts on e1 (domain order) and its node fails at 4 s, so attempt 0 (upload 0 .. 1 s, served from 1 s) fails
    # there; the replica is rescheduled on e2 (image cached, no boot: ready at 4 s); retry 0 is sent after the 1 s
    # backoff: upload 5 .. 6 s, served 6 .. 16 s, answered at 16 s. The device sent 1 + 1 s and waited idle
    # (1 .. 4 s) + the backoff (4 .. 5 s) + (6 .. 16 s) = 14 s; the radio tail is paid once
    tx_w, idle_w, tail_j = 2.0, 0.5, 0.25
    device = Device(speed_ops_per_s=1e6, tx_power_w=tx_w, idle_power_w=idle_w, rx_power_w=1.0, tail_energy_j=tail_j)
    group = DeviceGroup("cams", 1, device, Trace((0.0,), (0,), (1e10,), (1e6,), (0.0,)), "ap",
                        TaskSizes(work_ops=1e10), service="svc")
    servers = tuple(EdgeServer(n, speed_ops_per_s=1e9, location="site") for n in ("e1", "e2"))
    world = World(device_groups=(group,), access_points=(AccessPoint("ap", 1e6, math.inf),), servers=servers,
                  links=(BackhaulLink("ap", "site"), BackhaulLink("site", "dc", 1e9)),
                  services=(Service("svc", ("e1", "e2")),), policies=("always_edge",))
    deployment = Deployment("svc-v1", "svc", "v1", IMAGE, 1, ("e1", "e2"))
    result = _run(world, deployment, Retry("cams", attempts=2, backoff_s=1.0), 60.0, (NodeEvent(4.0, "e1", "fail"),))
    record = result.records.iloc[0]
    assert not record["dropped"]
    np.testing.assert_allclose([record["upload_start_s"], record["upload_end_s"], record["completed_s"],
                                record["latency_s"]], [5.0, 6.0, 16.0, 16.0])
    assert _policy(result)["retried_by_reason"] == {"node_failure": 1}
    np.testing.assert_allclose(
        [record["energy_tx_j"], record["energy_idle_j"], record["energy_tail_j"], record["energy_j"]],
        [tx_w * 2.0, idle_w * 14.0, tail_j, tx_w * 2.0 + idle_w * 14.0 + tail_j])


def test_the_last_failed_attempt_drops_the_request_for_its_reason() -> None:
    # as above with two attempts: attempt 1 (sent at 5 s) is the last, and the router's wait drops it at 8 s
    deployment = Deployment("svc-v1", "svc", "v1", IMAGE, 1, ("e1",), unready=Unready("wait", 3.0), reschedule=False)
    retry = Retry("cams", attempts=2, backoff_s=1.0)
    failures = (NodeEvent(4.0, "e1", "fail"), NodeEvent(9.0, "e1", "recover"))
    result = _run(_world(_one_request(0.0)), deployment, retry, 60.0, failures)
    record = result.records.iloc[0]
    assert record["drop_reason"] == "no_ready_replica"
    np.testing.assert_allclose([record["upload_start_s"], record["queue_entry_s"]], [5.0, 5.0])
    summary = _policy(result)
    assert summary["retried_by_reason"] == {"node_failure": 1}
    assert summary["dropped_by_reason"] == {"no_ready_replica": 1}


def test_timed_out_attempts_run_on_unrecorded_and_the_last_one_drops_the_request() -> None:
    # one replica with one worker; the request (10 s of work) is sent at 0 and runs 0 .. 10 s; the device gives up
    # at 6 s and sends attempt 1 at 6 + 1 = 7 s, which queues behind the abandoned attempt 0 and runs 10 .. 20 s;
    # its timeout (7 + 6 = 13 s) sends attempt 2 at 13 + 2 = 15 s, which runs 20 .. 30 s; its timeout at 21 s is
    # the last: the request is dropped (timed_out) with attempt 2's times, while the replica stays busy to 30 s
    deployment = Deployment("svc-v1", "svc", "v1", IMAGE, 1, ("e1",))
    retry = Retry("cams", attempts=3, backoff_s=1.0, multiplier=2.0, timeout_s=6.0)
    result = _run(_world(_one_request(0.0)), deployment, retry, 40.0)
    assert len(result.records) == 1
    record = result.records.iloc[0]
    assert record["drop_reason"] == "timed_out"
    # attempt 2 starting at 20 s shows the abandoned attempts 0 and 1 held the worker 0 .. 20 s
    np.testing.assert_allclose([record["upload_start_s"], record["service_start_s"]], [15.0, 20.0])
    assert np.isnan(record["service_end_s"])
    summary = _policy(result)
    assert summary["retried_by_reason"] == {"timed_out": 2}
    assert summary["tasks"] == {"generated": 1, "completed": 0, "dropped": 1, "in_flight": 0}


def test_only_the_attempts_unanswered_at_their_deadline_time_out() -> None:
    # requests at 0 and 0.5 s, 10 s each, one worker, a 12 s timeout and no retry: the first is answered at 10 s
    # (before its deadline at 12 s), the second starts at 10 s and is still running at its deadline, 12.5 s
    deployment = Deployment("svc-v1", "svc", "v1", IMAGE, 1, ("e1",))
    trace = Trace((0.0, 0.5), (0, 0), (1e10, 1e10), (0.0, 0.0), (0.0, 0.0))
    result = _run(_world(trace), deployment, Retry("cams", attempts=1, timeout_s=12.0), 40.0)
    records = result.records.sort_values("created_s")
    assert records["drop_reason"].astype(str).tolist() == ["", "timed_out"]
    np.testing.assert_allclose(records["service_start_s"].to_numpy(), [0.0, 10.0])
    assert _policy(result)["retried_by_reason"] == {}


def test_an_attempt_answered_before_its_timeout_completes_the_request() -> None:
    deployment = Deployment("svc-v1", "svc", "v1", IMAGE, 1, ("e1",))
    retry = Retry("cams", attempts=3, backoff_s=1.0, timeout_s=10.5)
    result = _run(_world(_one_request(0.0)), deployment, retry, 40.0)
    record = result.records.iloc[0]
    assert record["completed_s"] == pytest.approx(10.0)
    assert _policy(result)["retried_by_reason"] == {}


def test_retries_cut_node_failure_drops_and_conservation_holds_under_random_failures() -> None:
    # Poisson requests over two replicas on nodes failing at random: with retries, fewer requests are lost to
    # node failures; either way every generated request is completed, dropped for a reason or still in flight
    deployment = Deployment("svc-v1", "svc", "v1", IMAGE, 2, ("e1", "e2", "e3"), unready=Unready("wait", 5.0))
    world = _world(Poisson(0.05), ("e1", "e2", "e3"))
    lost = []
    for attempts in (1, 4):
        result = _run(world, deployment, Retry("cams", attempts=attempts, backoff_s=0.5), 3000.0, seed=3,
                      mtbf_s=200.0, mttr_s=50.0)
        summary = _policy(result)
        tasks = summary["tasks"]
        assert isinstance(tasks, dict)
        assert tasks["generated"] == tasks["completed"] + tasks["dropped"] + tasks["in_flight"]
        drops = summary["dropped_by_reason"]
        assert isinstance(drops, dict)
        assert tasks["dropped"] == sum(drops.values())
        lost.append(drops.get("node_failure", 0))
    assert lost[0] > 0
    assert lost[1] < lost[0]


@pytest.mark.parametrize(("field", "value"), [("attempts", 0), ("backoff_s", -1.0), ("multiplier", 0.0),
                                              ("timeout_s", 0.0)])
def test_bad_retry_rules_are_rejected(field: str, value: float) -> None:
    arguments: dict[str, object] = {"attempts": 2, field: value}
    with pytest.raises(ParameterError, match=field):
        Retry("cams", **arguments)  # type: ignore[arg-type]


def test_the_backoff_grows_geometrically() -> None:
    retry = Retry("cams", attempts=5, backoff_s=0.5, multiplier=3.0)
    assert [retry.delay_s(k) for k in range(4)] == [0.5, 1.5, 4.5, 13.5]


SCENARIO = """\
name: retries
run: {duration: 2 min, seed: 2}
services:
  - {name: plates, work: 9G, input: 300 kB, output: 1 kB}
  - {name: other, work: 1G}
access_points:
  - {name: cpe, uplink: 20 Mbps, downlink: 50 Mbps, latency: 5 ms}
nodes:
  - {name: edge-1, speed: 1T, location: site, cpu: 4, labels: {pool: baoshan}, images: [plates-v1]}
  - {name: edge-2, speed: 1T, location: site, cpu: 4, labels: {pool: baoshan}, images: [plates-v1]}
  - {name: cloud, tier: cloud, speed: 1T}
links:
  - {between: [cpe, site], bandwidth: 1 Gbps, latency: 1 ms}
  - {between: [site, cloud], bandwidth: 100 Mbps, latency: 20 ms}
images:
  - {name: plates-v1, size: 500 MB}
registry: {node: cloud}
deployments:
  - {service: plates, image: plates-v1, replicas: 1, domain: {pool: baoshan}, boot: 10 s, reschedule: false,
     unready: {action: wait, timeout: 2 s}}
events:
  - {at: 1 min, kind: fail, node: edge-1}
  - {at: 80 s, kind: recover, node: edge-1}
devices:
  - {name: cams, count: 5, profile: {compute_time: 13 s}, access_point: cpe, service: plates,
     workload: {kind: poisson, rate: 1/s}, retry: {attempts: 8, backoff: 500 ms, multiplier: 1.5, timeout: 30 s}}
policies: [always_edge]
switches: [site]
"""


def test_a_scenario_retries_the_requests_its_node_failure_drops(tmp_path: Path) -> None:
    path = tmp_path / "retries.yaml"
    path.write_text(SCENARIO)
    scenario = load_scenario(path)
    assert scenario.platform is not None
    assert scenario.platform.retries == (Retry("cams", 8, 0.5, 1.5, 30.0),)
    summary = simulate(scenario).to_json_dict()["policies"]["always_edge"]
    # the only replica is down 60 .. 90 s (recovered at 80 s, then 10 s of boot): the requests sent meanwhile fail
    # the router's 2 s wait and are retried
    retried = summary["retried_by_reason"]
    assert retried["no_ready_replica"] > 0
    tasks = summary["tasks"]
    assert tasks["generated"] == tasks["completed"] + sum(summary["dropped_by_reason"].values()) + tasks["in_flight"]


def test_a_retry_needs_a_deployed_service(tmp_path: Path) -> None:
    path = tmp_path / "retries.yaml"
    path.write_text(SCENARIO.replace("service: plates,\n", "service: other,\n"))
    with pytest.raises(ScenarioError, match=r"retries\.yaml:26: devices\[0\]\.retry: retries resend requests that "
                                            r"fail at a deployed service: deploy 'other'"):
        load_scenario(path)
