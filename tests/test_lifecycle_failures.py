"""Node failures: scripted ones against hand timelines (replicas lost with their requests, replaced elsewhere or
restarted after the repair), and random ones against the availability of k independent replicas,
``(MTTR / (MTBF + MTTR))^k``."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from offload.profiles import Device
from simulator.lifecycle import Deployment, Image, NodeCapacity, NodeEvent, Platform, Registry, ScaleEvent, Unready
from simulator.result import SimulationResult
from simulator.run import run
from simulator.workloads import PeriodicStream
from simulator.world import AccessPoint, BackhaulLink, DeviceGroup, EdgeServer, Service, TaskSizes, World

IMAGE = Image("svc:v1", 8e8)
NODES = ("e1", "e2", "e3")


def _world(fps: float, work_ops: float) -> World:
    group = DeviceGroup("cams", 1, Device(speed_ops_per_s=1e6), PeriodicStream(fps), "ap", TaskSizes(work_ops=work_ops),
                        service="svc")
    servers = tuple(EdgeServer(n, speed_ops_per_s=1e9, location="site") for n in NODES)
    return World(device_groups=(group,), access_points=(AccessPoint("ap", math.inf, math.inf),), servers=servers,
                 links=(BackhaulLink("ap", "site"), BackhaulLink("site", "dc", 1e9)),
                 services=(Service("svc", NODES),), policies=("always_edge",))


def _run(world: World, deployment: Deployment, duration_s: float, *, seed: int = 1,
         failures: tuple[NodeEvent, ...] = (), mtbf_s: float = math.inf, mttr_s: float = 0.0,
         events: tuple[ScaleEvent, ...] = ()) -> SimulationResult:
    nodes = tuple(NodeCapacity(n, 1.0, images=(IMAGE.name,), mtbf_s=mtbf_s, mttr_s=mttr_s)
                  for n in deployment.nodes)
    platform = Platform((IMAGE,), (Registry("dc"),), nodes, (deployment,), events, failures)
    return run(world, duration_s=duration_s, seed=seed, platform=platform)


def _events(result: SimulationResult) -> list[tuple[float, str, str]]:
    assert result.platform is not None
    frame = result.platform.events
    keep = frame["kind"].isin(["fail", "recover", "lost", "ready", "terminated"])
    return [(float(t), str(k), str(n)) for t, k, n in frame[keep][["time_s", "kind", "node"]].to_numpy()]


def test_a_failed_node_loses_its_replica_and_requests_and_the_replica_is_replaced() -> None:
    # one request every 2 s taking 1.5 s on one of two replicas (e1, e2); e1 fails at 21 s; e3 takes the new one
    deployment = Deployment("svc-v1", "svc", "v1", IMAGE, 2, NODES, boot_s=5.0, unready=Unready("drop"))
    result = _run(_world(0.5, 1.5e9), deployment, 60.0, failures=(NodeEvent(21.0, "e1", "fail"),))
    assert _events(result) == [(5.0, "ready", "e1"), (5.0, "ready", "e2"), (21.0, "fail", "e1"),
                               (21.0, "lost", "e1"), (26.0, "ready", "e3")]
    records = result.records
    started = records["service_start_s"].to_numpy()
    running = records[(started < 21.0) & ~(records["service_end_s"].to_numpy() <= 21.0)]
    # at most one request runs at a time, on the oldest replica with a free worker (e1's): it fails with e1
    lost = records["drop_reason"].astype(str) == "node_failure"
    assert lost.sum() == len(running)
    assert set(records["target"].astype(str)[records["created_s"] < 21.0]) == {"e1"}
    tasks = result.policies["always_edge"].tasks
    assert tasks.generated == tasks.completed + tasks.dropped + tasks.in_flight


def test_requests_beyond_the_surviving_replicas_fail_with_the_node() -> None:
    # two requests a second of 1.5 s each keep both replicas busy; when e1 fails one running request fails
    deployment = Deployment("svc-v1", "svc", "v1", IMAGE, 2, ("e1", "e2"), boot_s=0.0, unready=Unready("drop"))
    result = _run(_world(2.0, 1.5e9), deployment, 30.0, failures=(NodeEvent(20.0, "e1", "fail"),))
    records = result.records
    lost = records[records["drop_reason"].astype(str) == "node_failure"]
    assert len(lost) == 1
    assert lost["service_start_s"].iloc[0] < 20.0
    assert np.isnan(lost["service_end_s"].iloc[0])
    summary = result.to_json_dict()["policies"]["always_edge"]
    assert summary["dropped_by_reason"]["node_failure"] == 1


def test_without_rescheduling_a_replica_restarts_on_its_node_after_the_repair() -> None:
    deployment = Deployment("svc-v1", "svc", "v1", IMAGE, 1, ("e1", "e2"), boot_s=5.0, reschedule=False)
    failures = (NodeEvent(20.0, "e1", "fail"), NodeEvent(40.0, "e1", "recover"))
    result = _run(_world(0.5, 1e6), deployment, 60.0, failures=failures)
    assert _events(result) == [(5.0, "ready", "e1"), (20.0, "fail", "e1"), (20.0, "lost", "e1"),
                               (40.0, "recover", "e1"), (45.0, "ready", "e1")]
    created = result.records["created_s"].to_numpy()
    gave_up = result.records[(created > 20.0) & (created < 35.0)]  # 10 s (the default timeout) before 45 s
    assert set(gave_up["drop_reason"].astype(str)) == {"no_ready_replica"}
    waited = result.records[(created > 35.0) & (created < 45.0)]
    assert set(waited["drop_reason"].astype(str)) == {""}
    np.testing.assert_allclose(waited["service_start_s"].to_numpy()[0], 45.0)


@pytest.mark.slow
def test_the_share_of_time_without_a_ready_replica_matches_independent_nodes() -> None:
    # k = 2 replicas on 2 nodes, rescheduling off, instant restarts: no replica is ready exactly when both nodes
    # are down, a share (MTTR / (MTBF + MTTR))^2 of the time; batch means over 20 stretches give its interval
    mtbf_s, mttr_s, horizon_s = 100.0, 50.0, 400_000.0
    deployment = Deployment("svc-v1", "svc", "v1", IMAGE, 2, ("e1", "e2"), reschedule=False)
    result = _run(_world(1e-6, 1e6), deployment, horizon_s, seed=5, mtbf_s=mtbf_s, mttr_s=mttr_s)
    assert result.platform is not None
    series = result.platform.replicas
    times = np.append(series["time_s"].to_numpy(), horizon_s)
    down = (series["ready"].to_numpy() == 0).astype(float)
    batches = 20
    edges = np.linspace(0.0, horizon_s, batches + 1)
    shares = []
    for lo, hi in itertools.pairwise(edges):
        start, stop = np.clip(times[:-1], lo, hi), np.clip(times[1:], lo, hi)
        shares.append(float(np.sum(down * (stop - start)) / (hi - lo)))
    mean, half = float(np.mean(shares)), 3.0 * float(np.std(shares, ddof=1)) / math.sqrt(batches)
    expected = (mttr_s / (mtbf_s + mttr_s)) ** 2
    assert abs(mean - expected) < half, (mean, half, expected)
    assert half < 0.2 * expected  # the interval is tight enough to mean something
