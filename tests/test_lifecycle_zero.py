"""Scale to zero: an idle deployment with ``min_replicas = 0`` goes to zero replicas once its stabilisation window
holds only zero recommendations, and the next request starts one while the router buffers it; the cold start
(pull unless cached, then boot) is checked against a hand timeline."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from offload.errors import ParameterError
from offload.profiles import Device
from simulator.lifecycle import Autoscaling, Deployment, Image, NodeCapacity, Platform, Registry, Unready
from simulator.result import SimulationResult
from simulator.run import run
from simulator.scenario import ScenarioError, load_scenario, simulate
from simulator.workloads import Trace
from simulator.world import AccessPoint, BackhaulLink, DeviceGroup, EdgeServer, Service, TaskSizes, World

SIZE_BITS, REGISTRY_BPS, REGISTRY_DELAY_S, BOOT_S = 8e8, 1e8, 0.5, 2.0
IMAGE = Image("svc:v1", SIZE_BITS)


def _run(times_s: tuple[float, ...], duration_s: float) -> SimulationResult:
    n = len(times_s)
    trace = Trace(times_s, (0,) * n, (1e9,) * n, (0.0,) * n, (0.0,) * n)
    group = DeviceGroup("cams", 1, Device(speed_ops_per_s=1e6), trace, "ap", TaskSizes(work_ops=1e9), service="svc")
    world = World(device_groups=(group,), access_points=(AccessPoint("ap", math.inf, math.inf),),
                  servers=(EdgeServer("e1", speed_ops_per_s=1e9, location="site"),),
                  links=(BackhaulLink("ap", "site"), BackhaulLink("site", "dc", REGISTRY_BPS, REGISTRY_DELAY_S)),
                  services=(Service("svc", ("e1",)),), policies=("always_edge",))
    deployment = Deployment("svc-v1", "svc", "v1", IMAGE, 0, ("e1",), boot_s=BOOT_S,
                            unready=Unready("wait", 60.0), autoscaling=Autoscaling(0, 2, "busy", 0.5))
    platform = Platform((IMAGE,), (Registry("dc"),), (NodeCapacity("e1", 1.0),), (deployment,))
    return run(world, duration_s=duration_s, seed=1, platform=platform)


def test_the_first_request_pays_the_cold_start_and_an_idle_deployment_returns_to_zero() -> None:
    # request 1 (1 s of work) at 3 s finds zero replicas: it activates one, whose image is pulled from the registry
    # (800 Mbit over 100 Mbit/s = 8 s, plus 0.5 s of delay) and which boots in 2 s: ready at 13.5 s, done at
    # 14.5 s, a latency of 8.5 + 2 + 1 = 11.5 s. The HPA (sync 15 s, busy target 0.5) recommends 1 at 15 s (busy
    # 1/15) and 0 afterwards; the 300 s window keeps the 1 until 315 s, when the deployment goes to zero. Request 2
    # at 400 s activates it again: the image is on the disk, so its latency is boot + work = 3 s.
    cold_s = SIZE_BITS / REGISTRY_BPS + REGISTRY_DELAY_S + BOOT_S
    result = _run((3.0, 400.0), 420.0)
    latency = result.records.sort_values("created_s")["latency_s"].to_numpy()
    np.testing.assert_allclose(latency, [cold_s + 1.0, BOOT_S + 1.0])
    assert result.platform is not None
    events = result.platform.events
    kinds = ["activate", "pull_start", "pull_end", "ready", "autoscale", "terminated"]
    timeline = [(float(t), str(k), str(d)) for t, k, d in
                events[events["kind"].isin(kinds)][["time_s", "kind", "detail"]].to_numpy()]
    assert timeline == [(3.0, "activate", "1"), (3.0, "pull_start", "svc:v1"),
                        (3.0 + cold_s - BOOT_S, "pull_end", "svc:v1"), (3.0 + cold_s, "ready", ""),
                        (315.0, "autoscale", "0"), (315.0, "terminated", ""), (400.0, "activate", "1"),
                        (400.0 + BOOT_S, "ready", "")]


def test_requests_arriving_during_the_cold_start_are_buffered_and_served_in_order() -> None:
    # three requests at 3, 4 and 5 s: one activation; all wait for the replica ready at 13.5 s, then run one after
    # the other on its one worker (13.5, 14.5, 15.5 s)
    result = _run((3.0, 4.0, 5.0), 60.0)
    records = result.records.sort_values("created_s")
    np.testing.assert_allclose(records["service_start_s"].to_numpy(), [13.5, 14.5, 15.5])
    assert result.platform is not None
    assert (result.platform.events["kind"] == "activate").sum() == 1


def test_scale_to_zero_needs_room_for_one_replica() -> None:
    with pytest.raises(ParameterError, match="max_replicas"):
        Autoscaling(0, 0, "busy", 0.5)


SCENARIO = """\
name: zero
run: {duration: 2 min, seed: 2}
services:
  - {name: plates, work: 9G, input: 300 kB, output: 1 kB}
access_points:
  - {name: cpe, uplink: 20 Mbps, downlink: 50 Mbps, latency: 5 ms}
nodes:
  - {name: edge-1, speed: 1T, location: site, cpu: 4, labels: {pool: baoshan}}
  - {name: cloud, tier: cloud, speed: 1T}
links:
  - {between: [cpe, site], bandwidth: 1 Gbps, latency: 1 ms}
  - {between: [site, cloud], bandwidth: 100 Mbps, latency: 20 ms}
images:
  - {name: plates-v1, size: 500 MB}
registry: {node: cloud}
deployments:
  - {service: plates, image: plates-v1, replicas: 0, domain: {pool: baoshan}, boot: 5 s,
     unready: {action: wait, timeout: 1 min}, autoscale: {min: 0, max: 3, metric: busy, target: 0.5}}
devices:
  - {name: cams, count: 1, profile: {compute_time: 13 s}, access_point: cpe, service: plates,
     workload: {kind: poisson, rate: 1/s}}
policies: [always_edge]
switches: [site]
"""


def test_a_scenario_deployment_starts_at_zero_and_activates(tmp_path: Path) -> None:
    path = tmp_path / "zero.yaml"
    path.write_text(SCENARIO)
    result = simulate(load_scenario(path))
    assert result.platform is not None
    events = result.platform.events
    assert (events["kind"] == "activate").sum() == 1
    path.write_text(SCENARIO.replace("min: 0, max: 3", "min: 0, max: 0"))
    with pytest.raises(ScenarioError, match=r"deployments\[0\]\.autoscale\.max: 0: must be >= 1"):
        load_scenario(path)
