"""Image distribution: a pull from a peer in the same domain against one from the registry, and pushes ahead of a
rollout sharing a link, each timed by hand from size / bandwidth plus path delay; peer groups and pushes in a
scenario file, with their errors at their lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from rack_world import RACK_BPS, RACK_DELAY_S, SIZE_BITS, WAN_BPS, WAN_DELAY_S, rack_world

from offload.errors import ParameterError
from simulator.cli import main
from simulator.lifecycle import Deployment, Image, NodeCapacity, Platform, Push, Registry
from simulator.result import SimulationResult
from simulator.run import run
from simulator.scenario import ScenarioError, load_scenario, simulate

IMAGE = Image("svc:v1", SIZE_BITS)


def _pull_ends(result: SimulationResult) -> dict[str, float]:
    assert result.platform is not None
    events = result.platform.events
    ends = events[events["kind"] == "pull_end"]
    return {str(node): float(t) for node, t in ends[["node", "time_s"]].to_numpy()}


def _run(peers: tuple[tuple[str, ...], ...], *, replicas: int = 2, pushes: tuple[Push, ...] = (),
         images: tuple[Image, ...] = (IMAGE,)) -> SimulationResult:
    deployment = Deployment("svc-v1", "svc", "v1", IMAGE, replicas, ("e1", "e2"))
    nodes = (NodeCapacity("e1", 1.0, images=(IMAGE.name,)), NodeCapacity("e2", 1.0))
    platform = Platform(images, (Registry("dc"),), nodes, (deployment,), peers=peers, pushes=pushes)
    return run(rack_world(), duration_s=60.0, seed=1, platform=platform)


def test_a_peer_in_the_domain_serves_the_pull_faster_than_the_registry() -> None:
    # e1 holds the image; the second replica goes to e2 (spread), which pulls it. From the registry: over the WAN
    # (800 Mbit at 100 Mbit/s plus 10 ms), then the rack link (800 Mbit at 1 Gbit/s plus 1 ms), store and forward;
    # from its peer e1: two rack links (rack1 - site - rack2), 0.8 s plus 1 ms each
    from_registry_s = SIZE_BITS / WAN_BPS + WAN_DELAY_S + SIZE_BITS / RACK_BPS + RACK_DELAY_S
    from_peer_s = 2 * (SIZE_BITS / RACK_BPS + RACK_DELAY_S)
    assert _pull_ends(_run(())) == {"e2": pytest.approx(from_registry_s)}
    assert _pull_ends(_run((("e1", "e2"),))) == {"e2": pytest.approx(from_peer_s)}


def test_pushes_ahead_of_a_rollout_share_the_registry_link_and_a_cached_image_is_not_pulled() -> None:
    # at 5 s v2 (400 Mbit) is pushed to e1 and e2: both transfers share the WAN link fairly, so both cross it in
    # 2 × 400 / 100 = 8 s, then their own rack links (0.4 s plus 1 ms each); a second push finds v2 on the disks
    v2 = Image("svc:v2", 4e8)
    pushes = (Push(5.0, v2.name, ("e1", "e2")), Push(30.0, v2.name, ("e1", "e2")))
    result = _run((), replicas=1, pushes=pushes, images=(IMAGE, v2))
    done_s = 5.0 + 2 * v2.size_bits / WAN_BPS + WAN_DELAY_S + v2.size_bits / RACK_BPS + RACK_DELAY_S
    assert _pull_ends(result) == {"e1": pytest.approx(done_s), "e2": pytest.approx(done_s)}
    assert result.platform is not None
    starts = result.platform.events[result.platform.events["kind"] == "pull_start"]
    assert starts["time_s"].tolist() == [5.0, 5.0]
    assert set(starts["deployment"]) == {""}


def test_every_pull_event_says_where_the_image_came_from() -> None:
    # e2 pulls v1 from its peer e1 (2 ms away; the central registry, the only one holding v1, is 11 ms away); the
    # push of v2 to e1 at 5 s comes from the mirror at site (1 ms away), which holds v2; the push of v3 to e2 at
    # 10 s from the central registry at dc (no mirror or peer has v3); each timed store-and-forward as above
    v2, v3 = Image("svc:v2", 4e8), Image("svc:v3", 4e8)
    deployment = Deployment("svc-v1", "svc", "v1", IMAGE, 2, ("e1", "e2"))
    nodes = (NodeCapacity("e1", 1.0, images=(IMAGE.name,)), NodeCapacity("e2", 1.0))
    platform = Platform((IMAGE, v2, v3), (Registry("dc"), Registry("site", (v2.name,))), nodes, (deployment,),
                        peers=(("e1", "e2"),), pushes=(Push(5.0, v2.name, ("e1",)), Push(10.0, v3.name, ("e2",))))
    result = run(rack_world(), duration_s=60.0, seed=1, platform=platform)
    assert result.platform is not None
    events = result.platform.events
    pulls = events[events["kind"].isin(["pull_start", "pull_end"])]
    rack_s, wan_s = v2.size_bits / RACK_BPS + RACK_DELAY_S, v3.size_bits / WAN_BPS + WAN_DELAY_S
    assert pulls[["kind", "node", "detail", "source"]].to_numpy().tolist() == [
        ["pull_start", "e2", "svc:v1", "peer:e1"], ["pull_end", "e2", "svc:v1", "peer:e1"],
        ["pull_start", "e1", "svc:v2", "mirror:site"], ["pull_end", "e1", "svc:v2", "mirror:site"],
        ["pull_start", "e2", "svc:v3", "central:dc"], ["pull_end", "e2", "svc:v3", "central:dc"]]
    assert pulls["time_s"].tolist() == pytest.approx([0.0, 2 * (SIZE_BITS / RACK_BPS + RACK_DELAY_S), 5.0,
                                                      5.0 + rack_s, 10.0, 10.0 + wan_s + rack_s])
    others = events[~events["kind"].isin(["pull_start", "pull_end"])]
    assert set(others["source"]) == {""}


def test_a_push_to_a_mirror_makes_later_pulls_come_from_it() -> None:
    # v2 is pushed to the mirror at site at 5 s: from the central registry over the WAN, 4 s + 10 ms; the push of v2
    # to e1 at 20 s then crosses only the rack link from the mirror (0.4 s + 1 ms); a second push to the mirror,
    # which holds v2 by then, moves nothing. Without the mirror push, e1's pull comes over the WAN and the rack link
    v2 = Image("svc:v2", 4e8)
    rack_s, wan_s = v2.size_bits / RACK_BPS + RACK_DELAY_S, v2.size_bits / WAN_BPS + WAN_DELAY_S

    def transfers(*pushes: Push) -> list[list[object]]:
        deployment = Deployment("svc-v1", "svc", "v1", IMAGE, 1, ("e1", "e2"))
        nodes = (NodeCapacity("e1", 1.0, images=(IMAGE.name,)), NodeCapacity("e2", 1.0))
        platform = Platform((IMAGE, v2), (Registry("dc"), Registry("site", ())), nodes, (deployment,), pushes=pushes)
        result = run(rack_world(), duration_s=60.0, seed=1, platform=platform)
        assert result.platform is not None
        events = result.platform.events
        moves = events[events["kind"].isin(["pull_start", "pull_end", "push_start", "push_end"])]
        return moves[["time_s", "kind", "node", "source"]].to_numpy().tolist()

    to_e1 = Push(20.0, v2.name, ("e1",))
    assert transfers(Push(5.0, v2.name, mirror="site"), Push(30.0, v2.name, mirror="site"), to_e1) == [
        [5.0, "push_start", "site", "central:dc"], [pytest.approx(5.0 + wan_s), "push_end", "site", "central:dc"],
        [20.0, "pull_start", "e1", "mirror:site"], [pytest.approx(20.0 + rack_s), "pull_end", "e1", "mirror:site"]]
    assert transfers(to_e1)[1] == [pytest.approx(20.0 + wan_s + rack_s), "pull_end", "e1", "central:dc"]
    with pytest.raises(ParameterError, match="or a mirror"):
        Platform((IMAGE, v2), (Registry("dc"),), (NodeCapacity("e1", 1.0),), (), pushes=(Push(5.0, v2.name,
                                                                                              mirror="site"),))


SCENARIO = """\
name: distribution
run: {duration: 2 min, seed: 2}
services:
  - {name: plates, work: 9G, input: 300 kB, output: 1 kB}
access_points:
  - {name: cpe, uplink: 20 Mbps, downlink: 50 Mbps, latency: 5 ms}
nodes:
  - {name: edge-1, speed: 1T, location: rack1, cpu: 4, labels: {pool: baoshan}, images: [plates-v1]}
  - {name: edge-2, speed: 1T, location: rack2, cpu: 4, labels: {pool: baoshan}}
  - {name: cloud, tier: cloud, speed: 1T}
links:
  - {between: [cpe, site], bandwidth: 1 Gbps, latency: 1 ms}
  - {between: [rack1, site], bandwidth: 1 Gbps, latency: 1 ms}
  - {between: [rack2, site], bandwidth: 1 Gbps, latency: 1 ms}
  - {between: [site, cloud], bandwidth: 100 Mbps, latency: 20 ms}
images:
  - {name: plates-v1, size: 100 MB}
  - {name: plates-v2, size: 100 MB}
registry: {node: cloud, mirrors: [{node: site}]}
deployments:
  - {service: plates, image: plates-v1, replicas: 2, domain: {pool: baoshan}, peer_distribution: true}
predistribute:
  - {at: 1 min, image: plates-v2, domain: {pool: baoshan}}
  - {at: 30 s, image: plates-v2, mirror: site}
devices:
  - {name: cams, count: 1, profile: {compute_time: 13 s}, access_point: cpe, service: plates,
     workload: {kind: poisson, rate: 1/s}}
policies: [always_edge]
switches: [site, rack1, rack2]
"""


def test_a_scenario_pulls_from_peers_and_pushes_ahead_of_time(tmp_path: Path) -> None:
    path = tmp_path / "distribution.yaml"
    path.write_text(SCENARIO)
    scenario = load_scenario(path)
    assert scenario.platform is not None
    assert scenario.platform.peers == (("edge-1", "edge-2"),)
    assert scenario.platform.pushes == (Push(60.0, "plates-v2", ("edge-1", "edge-2")),
                                        Push(30.0, "plates-v2", mirror="site"))
    result = simulate(scenario)
    assert result.platform is not None
    events = result.platform.events
    ends = events[events["kind"] == "pull_end"][["time_s", "node", "detail"]].to_numpy().tolist()
    # edge-2 pulls v1 from edge-1 (two 1 Gbit/s links: 2 × (0.8 s + 1 ms)); v2 comes from the mirror at site (pushed
    # there at 30 s: 800 Mbit over the 100 Mbit/s link, 8 s + 20 ms) to both
    assert ends[0] == [pytest.approx(1.602), "edge-2", "plates-v1"]
    assert sorted((node, detail) for _, node, detail in ends[1:]) == [("edge-1", "plates-v2"), ("edge-2", "plates-v2")]
    # --json says where each pull came from: the peer for v1, the mirror for v2 (no peer held it when both pulls
    # began), and the push to the mirror from the central registry at cloud
    done = CliRunner().invoke(main, ["simulate", str(path), "--json"])
    assert done.exit_code == 0, done.output
    json_events = json.loads(done.stdout)["policies"]["always_edge"]["events"]
    assert [(e["kind"], e["node"], e["detail"], e["source"]) for e in json_events if e["kind"].endswith("_end")] == [
        ("pull_end", "edge-2", "plates-v1", "peer:edge-1"), ("push_end", "site", "plates-v2", "central:cloud"),
        ("pull_end", "edge-1", "plates-v2", "mirror:site"), ("pull_end", "edge-2", "plates-v2", "mirror:site")]
    (push_end,) = [e["time_s"] for e in json_events if e["kind"] == "push_end"]
    assert push_end == pytest.approx(30.0 + 8.0 + 0.02)


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("image: plates-v2, domain", "image: plates-v3, domain",
     "distribution.yaml:23: predistribute[0].image: \"plates-v3\": undefined image"),
    ("{at: 1 min, image: plates-v2, domain: {pool: baoshan}}", "{at: 1 min, image: plates-v2, domain: {pool: x}}",
     "predistribute[0].domain: unknown domain: no node has the labels pool=x"),
    ("{at: 1 min, image", "{at: 3 min, image", "predistribute[0].at: 180.0: must be before the end of the run"),
    ("mirror: site}", "mirror: cloud}",
     "distribution.yaml:24: predistribute[1].mirror: \"cloud\": undefined registry mirror"),
    ("mirror: site}", "mirror: site, domain: {pool: baoshan}}",
     "distribution.yaml:24: predistribute[1]: needs either a domain or a mirror to push to"),
])
def test_bad_pushes_are_reported_at_their_line(tmp_path: Path, old: str, new: str, expected: str) -> None:
    path = tmp_path / "distribution.yaml"
    path.write_text(SCENARIO.replace(old, new))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert expected in str(caught.value)
