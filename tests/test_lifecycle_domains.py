"""A service deployed in two domains and rolled out domain by domain: the second domain's rollout begins when the
first one completed (or at its own time if later), a rollback in the first cancels the second, requests stay in the
domain they were sent to, and every broken ``after`` or overlapping domain is reported at its line."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from click.testing import CliRunner
from scenario_files import write_scenario

from offload.errors import ParameterError
from simulator.cli import main
from simulator.lifecycle import Deployment, Image, NodeCapacity, Platform, Registry, RollingUpdate, Rollout, Version
from simulator.plots.platform import canary_against_slo, replicas_over_time
from simulator.result import SimulationResult
from simulator.scenario import ScenarioError, load_scenario, simulate

SCENARIO = """\
name: domains
run: {duration: 5 min, seed: 3}
services:
  - {name: plates, work: 10G, input: 1 kB, output: 1 kB}
access_points:
  - {name: cpe-east, uplink: 100 Mbps, downlink: 100 Mbps, latency: 2 ms}
  - {name: cpe-west, uplink: 100 Mbps, downlink: 100 Mbps, latency: 2 ms}
nodes:
  - {name: east-1, speed: 1T, location: east, cpu: 8, labels: {zone: east}, images: [plates-v1, plates-v2]}
  - {name: east-2, speed: 1T, location: east, cpu: 8, labels: {zone: east}, images: [plates-v1, plates-v2]}
  - {name: west-1, speed: 1T, location: west, cpu: 8, labels: {zone: west}, images: [plates-v1, plates-v2]}
  - {name: west-2, speed: 1T, location: west, cpu: 8, labels: {zone: west}, images: [plates-v1, plates-v2]}
  - {name: cloud, tier: cloud, speed: 1T}
links:
  - {between: [cpe-east, east], bandwidth: 1 Gbps, latency: 1 ms}
  - {between: [cpe-west, west], bandwidth: 1 Gbps, latency: 1 ms}
  - {between: [east, cloud], bandwidth: 1 Gbps, latency: 10 ms}
  - {between: [west, cloud], bandwidth: 1 Gbps, latency: 10 ms}
images:
  - {name: plates-v1, size: 500 MB}
  - {name: plates-v2, size: 400 MB}
registry: {node: cloud}
versions:
  - {service: plates, name: v1, image: plates-v1}
  - {service: plates, name: v2, image: plates-v2, speedup: 2}
deployments:
  - name: plates-east
    service: plates
    replicas: 2
    domain: {zone: east}
    boot: 10 s
    rollout: {to: v2, at: 1 min, strategy: rolling, max_surge: 1, max_unavailable: 0}
  - name: plates-west
    service: plates
    replicas: 2
    domain: {zone: west}
    boot: 10 s
    rollout: {to: v2, after: plates-east, strategy: rolling, max_surge: 1, max_unavailable: 0}
devices:
  - {name: east-cams, count: 2, profile: {compute_time: 13 s}, access_point: cpe-east, service: plates,
     workload: {kind: poisson, rate: 2/s}}
  - {name: west-cams, count: 2, profile: {compute_time: 13 s}, access_point: cpe-west, service: plates,
     workload: {kind: poisson, rate: 2/s}}
policies: [always_edge]
switches: [east, west]
"""
V2 = Version("v2", Image("svc:v2", 8e8))
CANARY = ("strategy: canary, steps: [{weight: 50}, {pause: 2 min}],\n"
          "               analysis: {window: 1 min, interval: 15 s, error_rate: 0.01, min_requests: 5}}")


def _run(tmp_path: Path, text: str) -> SimulationResult:
    result = simulate(load_scenario(_write(tmp_path, text)))
    assert result.platform is not None
    return result


def _rollout_events(result: SimulationResult) -> list[tuple[float, str, str, str]]:
    assert result.platform is not None
    events = result.platform.events
    mine = events[events["kind"].str.startswith("rollout") | (events["kind"] == "rollback")]
    return [(float(t), str(k), str(d), str(x)) for t, k, d, x in
            zip(mine["time_s"], mine["kind"], mine["deployment"], mine["detail"], strict=True)]


def _write(tmp_path: Path, text: str) -> Path:
    return write_scenario(tmp_path, text, "domains.yaml")


def test_the_second_domain_rolls_out_when_the_first_completed(tmp_path: Path) -> None:
    # each domain: one new replica at a time (max_surge 1, max_unavailable 0), ready 10 s after it starts (images
    # cached), then an old one goes and the next new one starts: 20 s per domain. East begins at 60 s and completes
    # at 80 s; west waits for it and begins at once
    assert _rollout_events(_run(tmp_path, SCENARIO)) == [
        (60.0, "rollout_start", "plates-east-v2", "v1 -> v2"), (80.0, "rollout_complete", "plates-east-v2", ""),
        (80.0, "rollout_start", "plates-west-v2", "v1 -> v2"), (100.0, "rollout_complete", "plates-west-v2", "")]


def test_a_later_at_holds_the_next_domain_until_then(tmp_path: Path) -> None:
    text = SCENARIO.replace("{to: v2, after: plates-east,", "{to: v2, at: 90 s, after: plates-east,")
    starts = [(t, d) for t, k, d, _ in _rollout_events(_run(tmp_path, text)) if k != "rollback"]
    assert starts == [(60.0, "plates-east-v2"), (80.0, "plates-east-v2"), (90.0, "plates-west-v2"),
                      (110.0, "plates-west-v2")]


def test_requests_stay_in_the_domain_they_were_sent_to(tmp_path: Path) -> None:
    records = _run(tmp_path, SCENARIO).records
    served = records[~records["dropped"] & ~records["in_flight"]]
    zones = {(str(device).split("-")[0], str(target).split("-")[0]) for device, target in
             zip(served["device"], served["target"], strict=True)}
    assert zones == {("east", "east"), ("west", "west")}


def test_the_figures_draw_a_version_per_domain(tmp_path: Path) -> None:
    result = _run(tmp_path, SCENARIO)
    assert result.platform is not None
    top = replicas_over_time(result.platform.traffic).axes[0]
    labels = {line.get_label() for line in top.get_lines()}
    assert labels == {f"plates-{zone}{version} {kind}" for zone in ("east", "west") for version in ("", "-v2")
                      for kind in ("ready", "desired")}
    weights = canary_against_slo(result.platform.traffic, result.platform.events).axes[0]
    assert {line.get_label() for line in weights.get_lines()} >= {"plates-east-v2", "plates-west-v2"}
    plt.close("all")


def test_a_rollback_in_the_first_domain_cancels_the_next(tmp_path: Path) -> None:
    text = (SCENARIO.replace("speedup: 2}", "speedup: 2, error_rate: 0.5}")
            .replace("strategy: rolling, max_surge: 1, max_unavailable: 0}", CANARY, 1))
    events = _rollout_events(_run(tmp_path, text))
    assert [(k, d) for _, k, d, _ in events] == [("rollout_start", "plates-east-v2"), ("rollback", "plates-east-v2"),
                                                 ("rollout_cancelled", "plates-west")]
    (rollback_s,) = [t for t, k, _, _ in events if k == "rollback"]
    assert events[-1] == (rollback_s, "rollout_cancelled", "plates-west", "plates-east rolled back")


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("after: plates-east", "after: plates-north",
     ("domains.yaml:38: deployments[1].rollout.after: \"plates-north\": undefined deployment; did you mean "
      "'plates-west'? (defined: plates-east, plates-west)")),
    ("after: plates-east", "after: plates-west",
     "deployments[1].rollout.after: \"plates-west\": is this deployment: a rollout cannot wait for itself"),
    ("{to: v2, at: 1 min, strategy", "{to: v2, after: plates-west, strategy",
     ("domains.yaml:32: deployments[0].rollout.after: \"plates-west\": makes a cycle: plates-east -> plates-west "
      "-> plates-east")),
    ("    rollout: {to: v2, at: 1 min, strategy: rolling, max_surge: 1, max_unavailable: 0}\n", "",
     "deployments[1].rollout.after: \"plates-east\": does not roll out 'plates' to 'v2'"),
    ("domain: {zone: west}", "domain: {zone: east}",
     "deployments[1].domain: \"east-1\": is also in the domain of deployments[0] of 'plates'"),
])
def test_bad_domain_rollouts_are_reported_at_their_line(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in SCENARIO
    path = _write(tmp_path, SCENARIO.replace(old, new))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert expected in message
    assert message.count("cycle") <= 1  # a cycle is one problem, reported at its first deployment only
    done = CliRunner().invoke(main, ["validate", str(path)])
    assert done.exit_code == 2
    assert expected in done.stderr


def _platform(*rollouts: Rollout, west_nodes: tuple[str, ...] = ("w1",)) -> Platform:
    v1 = Image("svc:v1", 8e8)
    deployments = (Deployment("svc-east", "svc", "v1", v1, 1, ("e1",)),
                   Deployment("svc-west", "svc", "v1", v1, 1, west_nodes))
    nodes = tuple(NodeCapacity(n, 1.0) for n in ("e1", "w1"))
    return Platform((v1, V2.image), (Registry("dc"),), nodes, deployments, rollouts=rollouts)


def test_the_platform_refuses_overlapping_domains_and_bad_waits() -> None:
    east, west = (Rollout("svc-east", V2, 10.0, RollingUpdate()), Rollout("svc-west", V2, 0.0, RollingUpdate(),
                                                                           after="svc-east"))
    assert _platform(east, west).rollouts[1].after == "svc-east"
    with pytest.raises(ParameterError, match="disjoint domains"):
        _platform(west_nodes=("w1", "e1"))
    with pytest.raises(ParameterError, match="same service to the same version"):
        _platform(west)  # svc-east has no rollout to wait for
    with pytest.raises(ParameterError, match=r"svc-east -> svc-west -> svc-east.*is a cycle"):
        _platform(dataclasses.replace(east, after="svc-west"), west)
