"""The platform sections of a scenario file: a valid one runs (cold start visible in the events, conservation by
drop reason), every broken rule is reported at its line, all at once, and the CLI's --json carries the events."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from scenario_files import write_scenario

from simulator.cli import main
from simulator.scenario import ScenarioError, load_scenario, simulate

BASE = """\
name: platform
run: {duration: 2 min, seed: 2}
services:
  - {name: plates, work: 9G, input: 300 kB, output: 1 kB}
access_points:
  - {name: cpe, uplink: 20 Mbps, downlink: 50 Mbps, latency: 5 ms}
nodes:
  - {name: edge-1, speed: 1T, location: site, cpu: 4, disk: 2 GB, labels: {pool: baoshan}}
  - {name: edge-2, speed: 1T, location: site, cpu: 4, disk: 2 GB, labels: {pool: baoshan}, images: [plates-v1]}
  - {name: cloud, tier: cloud, speed: 1T}
links:
  - {between: [cpe, site], bandwidth: 1 Gbps, latency: 1 ms}
  - {between: [site, cloud], bandwidth: 100 Mbps, latency: 20 ms}
images:
  - {name: plates-v1, size: 500 MB, build: 1 min}
registry: {node: cloud}
deployments:
  - service: plates
    image: plates-v1
    replicas: 2
    domain: {pool: baoshan}
    boot: 10 s
    unready: {action: wait, timeout: 5 s}
events:
  - {at: 1 min, kind: scale, deployment: plates-v1, replicas: 1}
devices:
  - {name: cams, count: 5, profile: {compute_time: 13 s}, access_point: cpe, service: plates,
     workload: {kind: poisson, rate: 1/s}}
policies: [always_edge]
switches: [site]
"""


def _write(tmp_path: Path, text: str) -> Path:
    return write_scenario(tmp_path, text, "platform.yaml")


def test_a_deployment_scenario_runs_its_replicas_through_their_life_cycle(tmp_path: Path) -> None:
    scenario = load_scenario(_write(tmp_path, BASE))
    assert scenario.platform is not None
    assert scenario.world.service("plates").hosts == ("edge-1", "edge-2")
    result = simulate(scenario)
    assert result.platform is not None
    events = result.platform.events
    ready = events[events["kind"] == "ready"]
    # edge-2 had the image: ready after the boot; edge-1 pulled 500 MB over 100 Mbps + 20 ms first
    assert ready[["node", "time_s"]].to_numpy().tolist() == [["edge-2", 10.0], ["edge-1", pytest.approx(40.02 + 10)]]
    assert events[events["kind"] == "terminating"]["time_s"].tolist() == [60.0]
    summary = result.to_json_dict()["policies"]["always_edge"]
    tasks = summary["tasks"]
    dropped = sum(summary["dropped_by_reason"].values())
    assert tasks["generated"] == tasks["completed"] + dropped + tasks["in_flight"]
    assert tasks["dropped"] == dropped
    assert summary["dropped_by_reason"]["no_ready_replica"] > 0  # the first 5 s of the 10 s cold start
    assert summary["replicas"][-1]["ready"] == 1


def test_without_platform_sections_there_is_no_platform(tmp_path: Path) -> None:
    text = BASE.split("\nimages:\n")[0] + "\ndevices:" + BASE.split("\ndevices:")[1]
    text = text.replace(", images: [plates-v1]}", "}")
    scenario = load_scenario(_write(tmp_path, text))
    assert scenario.platform is None
    assert "dropped_by_reason" not in simulate(scenario).to_json_dict()["policies"]["always_edge"]


def test_every_platform_problem_is_reported_at_its_line(tmp_path: Path) -> None:
    text = (BASE.replace("images: [plates-v1]}", "images: [plates-v2]}")
            .replace("registry: {node: cloud}", "registry: {node: moon, mirrors: [{node: site, images: [x]}]}")
            .replace("domain: {pool: baoshan}", "domain: {pool: pudong}")
            .replace("at: 1 min, kind: scale, deployment: plates-v1", "at: 5 min, kind: scale, deployment: plate")
            .replace("image: plates-v1\n", "image: plates-v1\n    cpu: 0\n"))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(_write(tmp_path, text))
    message = str(caught.value)
    # pydantic reports the schema first; fix the cpu and the cross-part rules all come out together
    assert "platform.yaml:20: deployments[0].cpu: 0: must be > 0" in message
    with pytest.raises(ScenarioError) as caught:
        load_scenario(_write(tmp_path, text.replace("    cpu: 0\n", "")))
    lines = str(caught.value).splitlines()
    expected = [
        "platform.yaml:9: nodes[1].images[0]: \"plates-v2\": undefined image",
        "platform.yaml:16: registry.node: \"moon\": undefined access point, node or switch",
        "platform.yaml:16: registry.mirrors[0].images[0]: \"x\": undefined image",
        "platform.yaml:21: deployments[0].domain: unknown domain: no node has the labels pool=pudong",
        "platform.yaml:25: events[0].at: 300.0: must be before the end of the run (120 s)",
        "platform.yaml:25: events[0].deployment: \"plate\": undefined deployment",
    ]
    for want in expected:
        assert any(want in line for line in lines), (want, lines)


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("size: 500 MB", "size: 5 GB", "deployments[0].image: \"plates-v1\": is larger (4e+10 bit) than every domain"),
    ("replicas: 2\n", "replicas: 2\n    cpu: 8\n", "deployments[0].cpu: 8.0: is more than any domain node's cpu"),
    ("registry: {node: cloud}\n", "", "deployments: needs a registry section"),
    ("services:\n  - {name: plates,", "services:\n  - {hosts: [cloud], name: plates,", "its service lists hosts"),
    ("speed: 1T, location: site, cpu: 4, disk: 2 GB, labels: {pool: baoshan}}",
     ("speed: 1T, location: site, cpu: 4, disk: 2 GB, labels: {pool: baoshan}, "
      "batching: {max_batch: 2, per_item: 1 ms}}"), "deployments[0].domain: \"edge-1\": batches requests"),
    ("replicas: 2\n", "replicas: 2\n    gpu: 1\n",
     "deployments[0].gpu: 1: is more than any domain node's gpu (at most 0)"),
    ("replicas: 2\n", "replicas: 2\n    memory: 1 GB\n    gpu: -1\n", "deployments[0].gpu: -1: must be >= 0"),
    ("replicas: 2\n", "replicas: 2\n    speed_share: 1.5\n", "deployments[0].speed_share: 1.5: must be <= 1"),
    ("  - {between: [site, cloud], bandwidth: 100 Mbps, latency: 20 ms}\n", "",
     "cannot be reached from the registry"),
    ("timeout: 5 s", "timeout: -5 s", "unready.timeout: \"-5 s\": must be > 0"),
    ("replicas: 2\n", "replicas: -1\n", "deployments[0].replicas: -1: must be >= 0"),
    ("replicas: 2\n", "replicas: 2\n    autoscale: {min: 3, max: 2, metric: rps, target: 4}\n",
     "deployments[0].autoscale.min: 3: must be <= max (2)"),
    ("replicas: 2\n", "replicas: 2\n    autoscale: {min: 3, max: 5, metric: rps, target: 4}\n",
     "deployments[0].replicas: 2: must be within the autoscaler's bounds [3, 5]"),
    ("replicas: 2\n", "replicas: 2\n    autoscale: {max: 5, metric: busy, target: 60}\n",
     "deployments[0].autoscale.target: 60.0: a busy fraction must be <= 1"),
    ("kind: scale, deployment: plates-v1, replicas: 1}", "kind: fail, node: edge-9}",
     "events[0].node: \"edge-9\": undefined node"),
    ("labels: {pool: baoshan}, images:", "labels: {pool: baoshan}, mtbf: 1 h, images:",
     "nodes[1].mttr: random failures need both mtbf and mttr"),
    ("replicas: 2\n", "replicas: 2\n    autoscale: {max: 5, metric: cpu, target: 0.5}\n",
     "deployments[0].autoscale.metric: \"cpu\""),
])
def test_bad_platform_values_are_named(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in BASE
    with pytest.raises(ScenarioError, match=None) as caught:
        load_scenario(_write(tmp_path, BASE.replace(old, new)))
    assert expected in str(caught.value)


def test_requests_beyond_the_domain_are_reported_all_at_once(tmp_path: Path) -> None:
    text = (BASE.replace("cpu: 4, disk: 2 GB, labels: {pool: baoshan}}", "cpu: 4, gpu: 1, memory: 1 GB, disk: 2 GB, "
                         "labels: {pool: baoshan}}")
            .replace("replicas: 2\n", "replicas: 2\n    gpu: 1\n    memory: 2 GB\n"))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(_write(tmp_path, text))
    # edge-1 has the gpu but 1 GB, edge-2 unlimited memory but no gpu: each request fits a node, not both at once
    assert ("deployments[0].domain: no domain node offers cpu 1, gpu 1 and memory 1.6e+10 bit at once"
            in str(caught.value))
    text = text.replace("memory: 2 GB", "memory: 2 GB\n    cpu: 5").replace("gpu: 1\n", "gpu: 2\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(_write(tmp_path, text))
    lines = str(caught.value).splitlines()
    assert any("platform.yaml:23: deployments[0].cpu: 5.0: is more than any domain node's cpu (at most 4)" in line
               for line in lines), lines
    assert any("platform.yaml:21: deployments[0].gpu: 2: is more than any domain node's gpu (at most 1)" in line
               for line in lines), lines


def test_the_cli_json_carries_events_per_policy(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE)
    done = CliRunner().invoke(main, ["simulate", str(path), "--json"])
    assert done.exit_code == 0, done.output
    policy = json.loads(done.stdout)["policies"]["always_edge"]
    kinds = [event["kind"] for event in policy["events"]]
    assert kinds[:2] == ["deploy", "scale"]
    assert {"pull_start", "pull_end", "starting", "ready", "terminating", "terminated"} <= set(kinds)
    assert all({"time_s", "kind", "service"} <= event.keys() for event in policy["events"])
    out = tmp_path / "run"
    done = CliRunner().invoke(main, ["simulate", str(path), "--out", str(out)])
    assert done.exit_code == 0, done.output
    events = pd.read_parquet(out / "events.parquet")
    assert events["kind"].tolist()[:2] == ["deploy", "scale"]
    assert pd.read_parquet(out / "replicas.parquet")["ready"].max() == 2
    bad = CliRunner().invoke(main, ["validate", str(_write(tmp_path, BASE.replace("image: plates-v1\n",
                                                                                  "image: plates-v9\n")))])
    assert bad.exit_code == 2
    assert "deployments[0].image: \"plates-v9\": undefined image" in bad.stderr


def test_an_autoscaled_deployment_scales_up_under_load(tmp_path: Path) -> None:
    text = BASE.replace("replicas: 2\n", "replicas: 1\n    autoscale: {min: 1, max: 4, metric: busy, target: 0.5}\n")
    # 200 requests/s of 20 G ops at 1 T ops/s: 4 busy workers; 1 kB uploads keep the 20 Mbps uplink out of the way
    text = text.replace("rate: 1/s", "rate: 40/s").replace("work: 9G, input: 300 kB", "work: 20G, input: 1 kB")
    result = simulate(load_scenario(_write(tmp_path, text)))
    assert result.platform is not None
    events = result.platform.events
    autoscale = events[events["kind"] == "autoscale"]
    assert not autoscale.empty
    assert (autoscale["time_s"] % 15.0 == 0.0).all()  # at syncs only
    assert autoscale["detail"].astype(int).max() == 4


def test_a_cloud_fallback_needs_a_cloud_node_and_then_serves_the_cold_start(tmp_path: Path) -> None:
    text = BASE.replace("{action: wait, timeout: 5 s}", "{action: cloud}")
    with pytest.raises(ScenarioError, match=r"deployments\[0\]\.unready\.action: \"cloud\": needs a cloud node"):
        load_scenario(_write(tmp_path, text.replace("tier: cloud, ", "")))
    result = simulate(load_scenario(_write(tmp_path, text)))
    summary = result.to_json_dict()["policies"]["always_edge"]
    assert summary["dropped_by_reason"] == {}
    targets = result.records["target"].astype(str)
    created = result.records["created_s"]
    assert set(targets[created < 10.0]) == {"cloud"}  # the first replica is ready at 10 s (cached image, boot)
    # served by the replica's own node: edge-2 had the image; edge-1's replica pulls 500 MB first (ready at 50.02 s)
    assert set(targets[(created > 10.1) & (created < 50.0)]) == {"edge-2"}
    assert set(targets[created > 50.1]) == {"edge-1", "edge-2"}


def test_scripted_failures_in_a_scenario_lose_and_replace_replicas(tmp_path: Path) -> None:
    text = BASE.replace("  - {at: 1 min, kind: scale, deployment: plates-v1, replicas: 1}\n",
                        "  - {at: 1 min, kind: fail, node: edge-2}\n  - {at: 90 s, kind: recover, node: edge-2}\n")
    scenario = load_scenario(_write(tmp_path, text))
    assert scenario.platform is not None
    assert [(f.at_s, f.node, f.kind) for f in scenario.platform.failures] == [(60.0, "edge-2", "fail"),
                                                                              (90.0, "edge-2", "recover")]
    result = simulate(scenario)
    assert result.platform is not None
    events = result.platform.events
    kinds = events[events["time_s"] == 60.0]["kind"].tolist()
    assert kinds[:2] == ["fail", "lost"]
    assert "recover" in events["kind"].tolist()
    summary = result.to_json_dict()["policies"]["always_edge"]
    tasks = summary["tasks"]
    assert tasks["generated"] == tasks["completed"] + sum(summary["dropped_by_reason"].values()) + tasks["in_flight"]
