"""Versions and rollouts in a scenario file: a canary and a rolling upgrade run from YAML, every broken rule is
reported at its line, all at once, ``validate`` refuses them like ``simulate`` (exit 2), and the bundled rollout
scenarios run (on a short horizon)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from scenario_files import write_scenario

from offload.errors import ParameterError
from simulator.cli import main
from simulator.lifecycle import Deployment, Image, NodeCapacity, Platform, Registry, RollingUpdate, Rollout, Version
from simulator.scenario import ScenarioError, load_scenario, simulate

BASE = """\
name: rollout
run: {duration: 10 min, seed: 3}
services:
  - {name: plates, work: 10G, input: 1 kB, output: 1 kB}
access_points:
  - {name: cpe, uplink: 100 Mbps, downlink: 100 Mbps, latency: 2 ms}
nodes:
  - {name: edge-1, speed: 1T, location: site, cpu: 8, labels: {pool: p}, images: [plates-v1, plates-v2]}
  - {name: edge-2, speed: 1T, location: site, cpu: 8, labels: {pool: p}, images: [plates-v1, plates-v2]}
  - {name: cloud, tier: cloud, speed: 1T}
links:
  - {between: [cpe, site], bandwidth: 1 Gbps, latency: 1 ms}
  - {between: [site, cloud], bandwidth: 1 Gbps, latency: 10 ms}
images:
  - {name: plates-v1, size: 500 MB}
  - {name: plates-v2, size: 400 MB}
registry: {node: cloud}
versions:
  - {service: plates, name: v1, image: plates-v1}
  - {service: plates, name: v2, image: plates-v2, speedup: 2, error_rate: 0}
deployments:
  - service: plates
    replicas: 2
    domain: {pool: p}
    boot: 10 s
    rollout:
      to: v2
      at: 1 min
      strategy: canary
      steps: [{weight: 25}, {pause: 2 min}, {weight: 50}, {pause: 2 min}]
      analysis: {window: 1 min, interval: 15 s, p95: 100 ms, error_rate: 0.01}
devices:
  - {name: cams, count: 4, profile: {compute_time: 13 s}, access_point: cpe, service: plates,
     workload: {kind: poisson, rate: 5/s}}
policies: [always_edge]
switches: [site]
"""
CANARY = BASE[BASE.index("strategy: canary"):BASE.index("\ndevices:")]


def _kinds(text: str, tmp_path: Path) -> list[tuple[float, str, str]]:
    result = simulate(load_scenario(_write(tmp_path, text)))
    assert result.platform is not None
    events = result.platform.events
    mine = events[events["kind"].isin(["weight", "rollback", "rollout_complete", "rollout_start"])]
    return [(float(t), str(k), str(d)) for t, k, d in zip(mine["time_s"], mine["kind"], mine["detail"], strict=True)]


def _write(tmp_path: Path, text: str) -> Path:
    return write_scenario(tmp_path, text, "rollout.yaml")


def test_a_canary_from_yaml_goes_through_its_steps(tmp_path: Path) -> None:
    kinds = _kinds(BASE, tmp_path)
    # boot 10 s, images cached: 25 % of 2 needs one new replica (ready at 70 s), 50 % the same one (at once after
    # the pause, 190 s); the promotion after the second pause needs a second one, ready at 320 s
    assert kinds == [(60.0, "rollout_start", "v1 -> v2"), (70.0, "weight", "25"), (190.0, "weight", "50"),
                     (320.0, "weight", "100"), (320.0, "rollout_complete", "")]


def test_a_bad_version_from_yaml_is_rolled_back(tmp_path: Path) -> None:
    kinds = _kinds(BASE.replace("error_rate: 0}", "error_rate: 0.2}"), tmp_path)
    assert [k for _, k, _ in kinds] == ["rollout_start", "weight", "rollback"]


def test_a_rolling_upgrade_from_yaml_completes(tmp_path: Path) -> None:
    text = BASE.split("      strategy: canary")[0] + ("      strategy: rolling\n      max_surge: 1\n"
                                                      "      max_unavailable: 0%\n") + "devices:" + BASE.split(
        "\ndevices:")[1]
    # one new replica at a time: ready 10 s after it starts, then an old one goes and the next starts
    assert _kinds(text, tmp_path) == [(60.0, "rollout_start", "v1 -> v2"), (80.0, "rollout_complete", "")]


def test_every_rollout_problem_is_reported_at_its_line_all_at_once(tmp_path: Path) -> None:
    text = (BASE.replace("{service: plates, name: v1, image: plates-v1}", "{service: plate, name: v1, image: p-v1}")
            .replace("to: v2", "to: v3").replace("at: 1 min", "at: 1 h")
            .replace("[{weight: 25}, {pause: 2 min}", "[{weight: 25, pause: 2 min}, {}")
            .replace("p95: 100 ms, error_rate: 0.01", "min_requests: 5"))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(_write(tmp_path, text))
    lines = str(caught.value).splitlines()
    expected = [
        "rollout.yaml:19: versions[0].service: \"plate\": undefined service",
        "rollout.yaml:19: versions[0].image: \"p-v1\": undefined image",
        "rollout.yaml:22: deployments[0].image: needs an image, or a version 'v1' of 'plates' in versions: with one",
        "rollout.yaml:27: deployments[0].rollout.to: \"v3\": undefined version of 'plates'",
        "rollout.yaml:28: deployments[0].rollout.at: 3600.0: must be before the end of the run (600 s)",
        "rollout.yaml:30: deployments[0].rollout.steps[0]: needs either a weight or a pause",
        "rollout.yaml:30: deployments[0].rollout.steps[1]: needs either a weight or a pause",
        "rollout.yaml:31: deployments[0].rollout.analysis: needs a p95 or an error_rate to judge by",
    ]
    for want in expected:
        assert any(want in line for line in lines), (want, lines)


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("{weight: 25}", "{weight: 120}", "deployments[0].rollout.steps[0].weight: 120: must be <= 100"),
    ("{pause: 2 min}, {weight: 50}", "{pause: -2 min}, {weight: 50}",
     "rollout.steps[1].pause: \"-2 min\": must be > 0"),
    ("steps: [{weight: 25}, {pause: 2 min}, {weight: 50}, {pause: 2 min}]", "steps: []",
     "deployments[0].rollout.steps: a canary needs at least one step"),
    ("window: 1 min", "window: 0 s", "rollout.analysis.window: \"0 s\": must be > 0"),
    ("speedup: 2", "speedup: 0", "versions[1].speedup: 0: must be > 0"),
    ("error_rate: 0}", "error_rate: 1.5}", "versions[1].error_rate: 1.5: must be <= 1"),
    ("to: v2", "to: v1", "deployments[0].rollout.to: \"v1\": is the version the deployment runs already"),
    ("strategy: canary", "strategy: rolling", "rollout.steps: only a canary has steps"),
    ("strategy: canary", "strategy: blue-green", "rollout.strategy: \"blue-green\""),
    (CANARY,
     "strategy: rolling\n      max_surge: 0\n      max_unavailable: 0%",
     "rollout.max_unavailable: \"0%\": may not be 0 when max_surge is 0"),
    (CANARY, "strategy: rolling\n      max_surge: 150%",
     "rollout.max_surge: \"150%\": must be at most 100%"),
    ("  - {service: plates, name: v1, image: plates-v1}\n",
     "  - {service: plates, name: v1, image: plates-v1}\n  - {service: plates, name: v1, image: plates-v2}\n",
     "versions[1].name: \"v1\": duplicate version of 'plates'"),
    ("    replicas: 2\n", "    replicas: 2\n    image: plates-v2\n",
     "deployments[0].image: \"plates-v2\": differs from the image of version 'v1' ('plates-v1')"),
])
def test_bad_rollout_values_are_named_and_validate_refuses_them(tmp_path: Path, old: str, new: str,
                                                                 expected: str) -> None:
    assert old in BASE
    path = _write(tmp_path, BASE.replace(old, new))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert expected in str(caught.value)
    done = CliRunner().invoke(main, ["validate", str(path)])
    assert done.exit_code == 2
    assert expected in done.stderr


@pytest.mark.parametrize("command", ["validate", "simulate"])
def test_a_version_image_larger_than_every_domain_disk_is_refused_at_its_line(tmp_path: Path, command: str) -> None:
    # the deployment runs v1 (500 MB) on nodes of 1 GB disks; the v2 its rollout brings is 2 GB = 1.6e10 bit
    text = (BASE.replace("cpu: 8, labels: {pool: p}", "cpu: 8, disk: 1 GB, labels: {pool: p}")
            .replace("{name: plates-v2, size: 400 MB}", "{name: plates-v2, size: 2 GB}")
            .replace("images: [plates-v1, plates-v2]}", "images: [plates-v1]}"))
    assert text.count("disk: 1 GB") == 2
    path = _write(tmp_path, text)
    want = ("rollout.yaml:20: versions[1].image: \"plates-v2\": is larger (1.6e+10 bit) than every node's disk in "
            "the domain of deployment 'plates-v1'")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    lines = str(caught.value).splitlines()
    assert len(lines) == 1
    assert lines[0].endswith(want)  # once: not also at the deployment, whose own image fits
    done = CliRunner().invoke(main, [command, str(path)])
    assert done.exit_code == 2
    assert want in done.stderr
    assert "Traceback" not in done.stderr


def test_the_platform_refuses_a_rollout_image_no_domain_disk_holds() -> None:
    v1, v2 = Image("svc:v1", 8e8), Image("svc:v2", 8e9)
    deployment = Deployment("svc-v1", "svc", "v1", v1, 1, ("e1", "e2"))
    nodes = (NodeCapacity("e1", 1.0, disk_bits=4e9), NodeCapacity("e2", 1.0, disk_bits=2e9))
    rollout = Rollout("svc-v1", Version("v2", v2), 10.0, RollingUpdate())
    Platform((v1, v2), (Registry("dc"),), nodes, (deployment,))  # v1 alone fits
    with pytest.raises(ParameterError, match=r"svc:v2.*is larger \(8e\+09 bit\) than every domain node's disk"):
        Platform((v1, v2), (Registry("dc"),), nodes, (deployment,), rollouts=(rollout,))


def test_json_and_out_carry_the_traffic_series_version_monitor_and_figures(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE)
    done = CliRunner().invoke(main, ["simulate", str(path), "--json", "--set", "run.duration=4 min"])
    assert done.exit_code == 0, done.output
    policy = json.loads(done.stdout)["policies"]["always_edge"]
    assert {"time_s", "service", "version", "weight", "load_rps", "p95_s", "error_rate"} <= policy["traffic"][0].keys()
    assert {row["version"] for row in policy["version_monitor"]} == {"v1", "v2"}
    assert {"avg_qpm", "avg_req_time_s", "calls"} <= policy["version_monitor"][0].keys()
    assert {"step", "weight"} <= {event["kind"] for event in policy["events"]}
    out = tmp_path / "run"
    done = CliRunner().invoke(main, ["simulate", str(path), "--out", str(out), "--set", "run.duration=4 min"])
    assert done.exit_code == 0, done.output
    traffic = pd.read_parquet(out / "traffic.parquet")
    assert set(traffic["version"]) == {"v1", "v2"}
    assert (out / "figures" / "replicas.png").is_file()
    assert (out / "figures" / "rollout.png").is_file()


#: A short window of the bundled rollout scenarios: two minutes from midnight, v2's image already where its replicas
#: go, a 1 s boot, the release at 10 s with a one-minute pause (and samples every 10 s).
SHORT = ("run.duration=2min", "run.warmup=0s", "run.sample_interval=10s", "deployments[0].boot=1s",
         "nodes[edge-1].images=[plates-v1, plates-v2]", "nodes[edge-3].images=[plates-v2]",
         "deployments[0].rollout.at=10s", "deployments[0].rollout.steps=[{weight: 50}, {pause: 1min}]")


@pytest.mark.parametrize(("name", "ends"), [("license-plate-day", "rollout_complete"),
                                            ("license-plate-bad-canary", "rollback")])
def test_the_bundled_rollout_scenarios_run(name: str, ends: str) -> None:
    result = simulate(load_scenario(name, SHORT))
    assert result.platform is not None
    kinds = result.platform.events["kind"].tolist()
    assert "weight" in kinds
    assert ends in kinds
    drops = result.to_json_dict()["policies"]["edge"]["dropped_by_reason"]
    assert ("version_error" in drops) == (ends == "rollback")
