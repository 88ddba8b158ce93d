"""Deployments placed by Kubernetes' filter and score (``scheduling``): the nodes least- and most-allocated
scheduling choose, computed by hand from the kube-scheduler formulas; image locality against resource fit; the
``scheduling:`` section of a scenario and its errors at their lines."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from scenario_files import write_scenario
from test_lifecycle_scenario import BASE

from offload.profiles import Device
from scheduler.scoring import Scoring
from simulator.lifecycle import Deployment, Image, NodeCapacity, Platform, Registry
from simulator.run import run
from simulator.scenario import ScenarioError, load_scenario, simulate
from simulator.workloads import PeriodicStream
from simulator.world import AccessPoint, BackhaulLink, DeviceGroup, EdgeServer, Service, TaskSizes, World

IMAGE = Image("svc:v1", 500e6 * 8)  # 500 MB
NAMES = ("e1", "e2", "e3")


def _world() -> World:
    group = DeviceGroup("cams", 1, Device(speed_ops_per_s=1e6), PeriodicStream(1e-3), "ap", TaskSizes(work_ops=1e6),
                        service="svc")
    return World(device_groups=(group,), access_points=(AccessPoint("ap", math.inf, math.inf),),
                 servers=tuple(EdgeServer(n, speed_ops_per_s=1e9, location="site") for n in NAMES),
                 links=(BackhaulLink("ap", "site"), BackhaulLink("site", "dc", 1e9)),
                 services=(Service("svc", NAMES),), policies=("always_edge",))


def _placed(deployment: Deployment, nodes: tuple[NodeCapacity, ...]) -> tuple[list[str], list[str]]:
    """The node each replica starts on, in order, and the nodes an image was pulled to."""
    result = run(_world(), duration_s=10.0, seed=1,
                 platform=Platform((IMAGE,), (Registry("dc"),), nodes, (deployment,)))
    assert result.platform is not None
    events = result.platform.events
    return (events[events["kind"] == "starting"]["node"].tolist(),
            events[events["kind"] == "pull_start"]["node"].tolist())


def _cached(cpus: tuple[float, ...], on: tuple[str, ...] = NAMES) -> tuple[NodeCapacity, ...]:
    return tuple(NodeCapacity(n, c, images=(IMAGE.name,) if n in on else ()) for n, c in zip(NAMES, cpus, strict=True))


def _deployment(scoring: Scoring, replicas: int = 3, nodes: tuple[str, ...] = NAMES) -> Deployment:
    return Deployment("svc-v1", "svc", "v1", IMAGE, replicas, nodes, cpu=2.0, scheduling=scoring)


def _write(tmp_path: Path, text: str) -> Path:
    return write_scenario(tmp_path, text, "platform.yaml")


def test_least_and_most_allocated_choose_the_nodes_computed_by_hand() -> None:
    # cpu 8, 4, 6; each replica 2 cores; memory unlimited (left out); no spread, no image weight.
    # least: (8-2)/8 = 75, (4-2)/4 = 50, (6-2)/6 = 66 -> e1; then 50, 50, 66 -> e3; then 50, 50, 33 -> e1 (first).
    # most: 25, 50, 33 -> e2; then 25, 100, 33 -> e2; e2 is full: 25, -, 33 -> e3.
    nodes = _cached((8.0, 4.0, 6.0))
    plain = {"spread": 0.0, "image_locality": 0.0}
    least, _ = _placed(_deployment(Scoring("least-allocated", **plain)), nodes)  # type: ignore[arg-type]
    most, _ = _placed(_deployment(Scoring("most-allocated", **plain)), nodes)  # type: ignore[arg-type]
    assert least == ["e1", "e3", "e1"]
    assert most == ["e2", "e2", "e3"]
    # with the default spread weight 2 (counts 1, 0, 1 -> spread 0, 100, 0): least-allocated goes e1, e3, e2
    spread, _ = _placed(_deployment(Scoring("least-allocated", image_locality=0.0)), nodes)
    assert spread == ["e1", "e3", "e2"]


def test_image_locality_prefers_the_node_that_has_the_image_cached() -> None:
    # e1: 8 cores, no image; e2: 4 cores with the image; a replica of 2 cores: least allocated (8-2)/8 = 75 against
    # (4-2)/4 = 50. Image locality: 500 MB on 1 of the 2 domain nodes -> 250 MB = 238.4 MiB ->
    # (238.4 - 23) / 977 * 100 = 22.05 -> 22. Weight 1: 75 vs 72 -> e1 (pulls); weight 2: 75 vs 94 -> e2 (no pull).
    nodes = (NodeCapacity("e1", 8.0), NodeCapacity("e2", 4.0, images=(IMAGE.name,)))
    assert _placed(_deployment(Scoring(image_locality=1.0), 1, ("e1", "e2")), nodes)[1] == ["e1"]
    assert _placed(_deployment(Scoring(image_locality=2.0), 1, ("e1", "e2")), nodes) == (["e2"], [])


SCHEDULED = BASE.replace("    boot: 10 s\n", "    boot: 10 s\n    scheduling: {strategy: most-allocated, spread: 0}\n")


def test_a_scenarios_scheduling_section_packs_the_replicas_where_the_image_is(tmp_path: Path) -> None:
    # edge-1 and edge-2: 4 cores each, the image on edge-2 only. Most allocated, no spread: replica 1 scores
    # 25 + image 22 on edge-2 against 25 on edge-1; replica 2: 50 + 22 against 25 -> both on edge-2, no pull.
    # Without scheduling the controller spreads them (one pull to edge-1).
    scenario = load_scenario(_write(tmp_path, SCHEDULED))
    assert scenario.platform is not None
    assert scenario.platform.deployments[0].scheduling == Scoring("most-allocated", spread=0.0)
    result = simulate(scenario)
    assert result.platform is not None
    events = result.platform.events
    assert events[events["kind"] == "starting"]["node"].tolist()[:2] == ["edge-2", "edge-2"]
    assert not (events["kind"] == "pull_start").any()
    plain = simulate(load_scenario(_write(tmp_path, BASE))).platform
    assert plain is not None
    assert plain.events[plain.events["kind"] == "pull_start"]["node"].tolist() == ["edge-1"]


@pytest.mark.parametrize(("new", "expected"), [
    ("{strategy: balanced}", "platform.yaml:23: deployments[0].scheduling.strategy: \"balanced\""),
    ("{spread: -1}", "platform.yaml:23: deployments[0].scheduling.spread: -1: must be >= 0"),
    ("{weights: {cpu: 0, memory: 0}}",
     "platform.yaml:23: deployments[0].scheduling.weights: at least one resource weight must be > 0"),
    ("{weights: {disk: 1}}", "platform.yaml:23: deployments[0].scheduling.weights.disk"),
])
def test_bad_scheduling_is_reported_at_its_line(tmp_path: Path, new: str, expected: str) -> None:
    text = SCHEDULED.replace("{strategy: most-allocated, spread: 0}", new)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(_write(tmp_path, text))
    assert expected in str(caught.value)
