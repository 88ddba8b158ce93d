"""Traffic locality: a deployment serves inside its domain and, with no ready replica there, spills requests to its
parent region's nodes in turn (or to the nearest cloud), each timed there by hand; spills are counted by reason,
and every bad region is reported at its line."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scenario_files import write_scenario

from offload.profiles import Device
from simulator.lifecycle import Deployment, Image, NodeCapacity, NodeEvent, Platform, Registry, Unready
from simulator.run import run
from simulator.scenario import ScenarioError, load_scenario, simulate
from simulator.workloads import Trace
from simulator.world import AccessPoint, BackhaulLink, DeviceGroup, EdgeServer, Service, TaskSizes, World

IMAGE = Image("svc:v1", 8e8)
TIMES_S = (1.0, 11.0, 12.0, 13.0, 31.0)


def _world() -> World:
    n = len(TIMES_S)
    trace = Trace(TIMES_S, (0,) * n, (1e9,) * n, (0.0,) * n, (0.0,) * n)
    group = DeviceGroup("cams", 1, Device(speed_ops_per_s=1e6), trace, "ap", TaskSizes(work_ops=1e9), service="svc")
    servers = (EdgeServer("e1", speed_ops_per_s=1e9, location="site"),
               EdgeServer("r1", speed_ops_per_s=2e9, location="region"),
               EdgeServer("r2", speed_ops_per_s=2e9, location="region"))
    return World(device_groups=(group,), access_points=(AccessPoint("ap", math.inf, math.inf),), servers=servers,
                 links=(BackhaulLink("ap", "site"), BackhaulLink("site", "region", latency_s=0.01),
                        BackhaulLink("site", "dc", 1e9)),
                 services=(Service("svc", ("e1",)),), policies=("always_edge",))


def _write(tmp_path: Path, text: str) -> Path:
    return write_scenario(tmp_path, text, "locality.yaml")


def test_requests_spill_to_the_region_in_turn_while_the_domain_has_no_ready_replica() -> None:
    # the only replica (e1, 1 GHz) is down 10 .. 20 s; requests of 1e9 ops at 11, 12 and 13 s spill to r1, r2, r1
    # (2 GHz, 10 ms beyond the site): 10 ms there, 0.5 s of service, 10 ms back = 0.52 s; the others take 1 s on e1
    deployment = Deployment("svc-v1", "svc", "v1", IMAGE, 1, ("e1",), reschedule=False,
                            unready=Unready("region", region=("r1", "r2")))
    nodes = tuple(NodeCapacity(n, 1.0, images=(IMAGE.name,)) for n in ("e1", "r1", "r2"))
    failures = (NodeEvent(10.0, "e1", "fail"), NodeEvent(20.0, "e1", "recover"))
    platform = Platform((IMAGE,), (Registry("dc"),), nodes, (deployment,), failures=failures)
    result = run(_world(), duration_s=40.0, seed=1, platform=platform)
    records = result.records.sort_values("created_s")
    assert records["target"].astype(str).tolist() == ["e1", "r1", "r2", "r1", "e1"]
    np.testing.assert_allclose(records["latency_s"].to_numpy(), [1.0, 0.52, 0.52, 0.52, 1.0])
    summary = result.to_json_dict()["policies"]["always_edge"]
    assert summary["spilled_by_reason"] == {"no_ready_replica": 3}
    assert summary["dropped_by_reason"] == {}


def test_a_region_must_lie_outside_the_domain() -> None:
    deployment = Deployment("svc-v1", "svc", "v1", IMAGE, 1, ("e1", "r1"), unready=Unready("region", region=("r1",)))
    nodes = tuple(NodeCapacity(n, 1.0) for n in ("e1", "r1"))
    with pytest.raises(ValueError, match="outside the domain"):
        Platform((IMAGE,), (Registry("dc"),), nodes, (deployment,))
    with pytest.raises(ValueError, match="exactly when the action is 'region'"):
        Unready("region")


SCENARIO = """\
name: locality
run: {duration: 2 min, seed: 2}
services:
  - {name: plates, work: 9G, input: 300 kB, output: 1 kB}
access_points:
  - {name: cpe, uplink: 20 Mbps, downlink: 50 Mbps, latency: 5 ms}
nodes:
  - {name: edge-1, speed: 1T, location: site, cpu: 4, labels: {pool: baoshan}, images: [plates-v1]}
  - {name: dc-1, speed: 2T, location: dc, labels: {region: shanghai}}
  - {name: dc-2, speed: 2T, location: dc, labels: {region: shanghai}}
  - {name: cloud, tier: cloud, speed: 1T}
links:
  - {between: [cpe, site], bandwidth: 1 Gbps, latency: 1 ms}
  - {between: [site, dc], bandwidth: 1 Gbps, latency: 2 ms}
  - {between: [dc, cloud], bandwidth: 100 Mbps, latency: 20 ms}
images:
  - {name: plates-v1, size: 500 MB}
registry: {node: cloud}
deployments:
  - {service: plates, image: plates-v1, replicas: 1, domain: {pool: baoshan}, reschedule: false,
     unready: {action: region, region: {region: shanghai}}}
events:
  - {at: 1 min, kind: fail, node: edge-1}
devices:
  - {name: cams, count: 5, profile: {compute_time: 13 s}, access_point: cpe, service: plates,
     workload: {kind: poisson, rate: 1/s}}
policies: [always_edge]
switches: [site, dc]
"""


def test_a_scenario_spills_to_its_region_after_the_domain_fails(tmp_path: Path) -> None:
    scenario = load_scenario(_write(tmp_path, SCENARIO))
    assert scenario.platform is not None
    assert scenario.platform.deployments[0].unready == Unready("region", 10.0, ("dc-1", "dc-2"))
    result = simulate(scenario)
    records = result.records
    targets = records["target"].astype(str)
    late = records[(records["created_s"] > 60.5) & records["completed_s"].notna()]
    assert set(late["target"].astype(str)) == {"dc-1", "dc-2"}
    # every request served in the region was spilled there, and none was lost for want of a replica
    summary = result.to_json_dict()["policies"]["always_edge"]
    assert summary["spilled_by_reason"] == {"no_ready_replica": int(targets.isin(["dc-1", "dc-2"]).sum())}
    assert "no_ready_replica" not in summary["dropped_by_reason"]


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("region: {region: shanghai}", "region: {region: beijing}",
     "locality.yaml:21: deployments[0].unready.region: unknown region: no node has the labels region=beijing"),
    ("labels: {region: shanghai}}\n  - {name: dc-2", "labels: {region: shanghai, pool: baoshan}}\n  - {name: dc-2",
     "deployments[0].unready.region: the region must lie outside the domain; dc-1 belong to both"),
    ("action: region, region: {region: shanghai}", "action: wait, region: {region: shanghai}",
     "deployments[0].unready.region: \"wait\": the region's labels go with action: region"),
    ("action: region, region: {region: shanghai}", "action: region",
     ("deployments[0].unready.action: \"region\": the region's labels go with action: region, and action: region "
      "needs them")),
])
def test_bad_regions_are_reported_at_their_line(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in SCENARIO
    with pytest.raises(ScenarioError) as caught:
        load_scenario(_write(tmp_path, SCENARIO.replace(old, new)))
    assert expected in str(caught.value)
