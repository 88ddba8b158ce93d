"""A scenario's ``placement`` section: replicas become workers, shares become routes, and placing helps.

The scenario: 50 cameras at ap0 send 25 req/s of 1 Gop (0.1 s on a 10 Gop/s core) to a 2-core server e0, so the
nearest-server baseline runs e0 at utilisation 25 / (2 · 10) > 1; the placement caps utilisation at 0.5 and must
spill over to e1 (4 cores) or the cloud.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from scheduler.checker import check_placement
from simulator.placement_bridge import placed_server_name
from simulator.run import run
from simulator.scenario import ScenarioError, load_scenario, placed_world, scenario_from_dict

SCENARIO = """\
name: placed-small
run: {duration: 200 s, warmup: 20 s, seed: 3}
services:
  - {name: det, work: 1G, input: 100 kB, output: 1 kB, deadline: 1 s}
access_points:
  - {name: ap0, uplink: 1 Gbps, latency: 2 ms, shared: false}
  - {name: ap1, uplink: 1 Gbps, latency: 2 ms, shared: false}
switches: [core]
nodes:
  - {name: e0, speed: 10G, workers: 2, location: ap0}
  - {name: e1, speed: 10G, workers: 4, location: ap1}
  - {name: dc, tier: cloud, speed: 10G, workers: 100}
links:
  - {between: [ap0, core], latency: 1 ms, distance: 10 km}
  - {between: [ap1, core], latency: 1 ms, distance: 10 km}
  - {between: [core, dc], latency: 10 ms, distance: 800 km}
devices:
  - {name: cams0, count: 50, profile: {speed: 1G}, access_point: ap0, workload: {kind: poisson, rate: 0.5/s}}
  - {name: cams1, count: 10, profile: {speed: 1G}, access_point: ap1, workload: {kind: poisson, rate: 0.5/s}}
policies: [always_edge, queue_aware]
placement:
  policy: milp
  time_limit: 10 s
  target_utilisation: 0.5
  objective: {latency: 1, compute: 1, traffic: 0}
  services: {det: {cpu: 1, min_replicas: 1}}
  nodes:
    dc: {cpu_price: 1/h}
"""


def _data() -> dict:
    return yaml.safe_load(SCENARIO)


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "placed.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_replicas_become_workers_and_shares_become_routes() -> None:
    placed = placed_world(scenario_from_dict(_data()))
    assert placed is not None
    problem, placement = placed.problem, placed.result.placement
    assert placement is not None
    assert check_placement(placed.graph, problem, placement).feasible
    servers = {s.name: s for s in placed.world.servers}
    speed = {"e0": 10e9, "e1": 10e9, "dc": 10e9}  # cpu 1 × speed 10G, from the file
    expected = {}
    for n, node in enumerate(problem.node_names):
        if placement.replicas[0, n] > 0:
            expected[placed_server_name(node, "det")] = int(placement.replicas[0, n])
            server = servers[placed_server_name(node, "det")]
            assert server.speed_ops_per_s == speed[node]
            assert server.node == {"e0": "ap0", "e1": "ap1", "dc": "dc"}[node]
    assert {name: s.workers for name, s in servers.items()} == expected
    assert servers["e0/det"].workers <= 2  # the file's cores
    assert servers.get("e1/det", servers["e0/det"]).workers <= 4
    assert set(placed.world.service("det").hosts) == set(expected)
    # e0 can carry at most 2 · 10 · 0.5 = 10 of cams0's 25 req/s: the rest is routed elsewhere
    routes = dict(next(g for g in placed.world.device_groups if g.name == "cams0").routes)
    assert routes.get("e0/det", 0.0) <= 10 / 25 + 1e-9
    assert math.isclose(sum(routes.values()), 1.0)


def test_simulated_routing_reproduces_the_placement_shares() -> None:
    placed = placed_world(scenario_from_dict(_data()))
    assert placed is not None
    records = run(placed.world, duration_s=300.0, seed=4, policies=["always_edge"]).records
    for group in placed.world.device_groups:
        mine = records[records["device"].astype(str).str.startswith(group.name + "/")]
        n = len(mine)
        counts = mine["target"].astype(str).value_counts()
        for server, p in group.routes:
            bound = 4 * math.sqrt(n * p * (1 - p)) + 1e-9
            assert abs(counts.get(server, 0) - n * p) <= bound, (group.name, server, counts.get(server, 0), n * p)


def test_placed_latency_is_within_the_model_and_below_the_nearest_server_baseline() -> None:
    scenario = scenario_from_dict(_data())
    placed = placed_world(scenario)
    assert placed is not None
    baseline_world = scenario_from_dict(_data(), overrides=["placement=null"]).world
    # derived from the file: the nearest server of cams0 is e0 with 2 workers of 10 req/s each, offered 25 req/s
    assert 50 * 0.5 / (2 * (10e9 / 1e9)) > 1.0
    kwargs = {"duration_s": 300.0, "seed": 7, "warmup_s": 30.0, "policies": ["always_edge"]}
    placed_latency = run(placed.world, **kwargs).records["latency_s"].mean()
    baseline_latency = run(baseline_world, **kwargs).records["latency_s"].mean()
    # issue 15: the model charges each pool its wait at the load placed (no longer one replica's at the cap, an
    # upper bound), so it is an estimate that must land within 10 % of the simulated mean
    assert placed_latency == pytest.approx(placed.check.terms.mean_latency_s, rel=0.10)
    assert placed_latency < 0.5 * baseline_latency


def test_placement_round_trips_through_the_resolved_scenario() -> None:
    scenario = scenario_from_dict(_data())
    again = scenario_from_dict(scenario.resolved)
    assert again.sha256 == scenario.sha256
    assert scenario.resolved["placement"]["nodes"]["dc"]["cpu_price"] == pytest.approx(1 / 3600)


def _with(change: dict) -> dict:
    data = _data()
    data["placement"] = {**data["placement"], **change}
    return data


@pytest.mark.parametrize(("change", "match"), [
    ({"solver": "milp"}, r'placed.yaml:\d+: placement.solver: "milp": unknown key \(valid keys: policy, '),
    ({"policy": "bestest"}, r'placed.yaml:\d+: placement.policy: "bestest": undefined placement solver.*milp'),
    ({"services": {"detect": {"cpu": 1}}}, r"services.detect: \"detect\": undefined service; did you mean 'det'"),
    ({"nodes": {"e9": {"cpu": 1}}}, r'placement.nodes.e9: "e9": undefined node \(defined: e0, e1, dc\)'),
    ({"services": {"det": {"min_replicas": 3, "max_replicas": 2}}}, r"min_replicas: 3: must be <= max_replicas"),
    ({"target_utilisation": 1.5}, r"placed.yaml:\d+: placement.target_utilisation: 1.5"),
    ({"nodes": {"dc": {"cpu_price": "-1/h"}}}, r"placement.nodes.dc.cpu_price: .*must be >= 0"),
])
def test_schema_errors_name_file_line_path_and_rule(tmp_path: Path, change: dict, match: str) -> None:
    with pytest.raises(ScenarioError, match=match):
        load_scenario(_write(tmp_path, _with(change)))


def test_a_node_without_a_speed_cannot_host_replicas(tmp_path: Path) -> None:
    data = _data()
    data["nodes"][0] = {"name": "e0", "compute_time": "9 ms", "location": "ap0"}
    with pytest.raises(ScenarioError, match=r"placed.yaml:\d+: nodes\[0\]: placement needs a speed"):
        load_scenario(_write(tmp_path, data))


def test_an_unreachable_deadline_is_reported_against_the_placement_section() -> None:
    data = _data()
    data["services"][0]["deadline"] = "50 ms"
    with pytest.raises(ScenarioError, match=r"placement: .*cams0.*cannot reach service 'det' within its SLO 50 ms"):
        scenario_from_dict(data)  # found when loading, so `validate` refuses it too (issue 11), before any solving


def test_without_a_placement_section_nothing_changes() -> None:
    world = scenario_from_dict(_data(), overrides=["placement=null"]).world
    assert [s.name for s in world.servers] == ["e0", "e1", "dc"]
    assert all(not g.routes for g in world.device_groups)
    assert world.service("det").hosts == ()


def test_the_problem_sees_the_simulated_paths() -> None:
    """One-way delay from a group to a server = access latency + the simulator's fastest backhaul path."""
    scenario = scenario_from_dict(_data())
    placed = placed_world(scenario)
    assert placed is not None
    world = scenario_from_dict(_data(), overrides=["placement=null"]).world
    delays = world.delays_s()
    aps = {ap.name: ap for ap in world.access_points}
    problem = placed.problem
    for g, group in enumerate(world.device_groups):
        ap = aps[group.access_point]
        for n, name in enumerate(problem.node_names):
            server = next(s for s in world.servers if s.name == name)
            expected = ap.latency_s + delays[ap.name][server.node]
            assert problem.delay_s[g, n] == pytest.approx(expected, rel=1e-12)
            assert problem.bottleneck_bps[g, n] == ap.uplink_bps


def test_each_placed_server_runs_at_the_utilisation_the_placement_implies() -> None:
    """Utilisation of ``node/service`` = Σ_groups rate · share · work / (replicas · replica speed); with Poisson
    arrivals over 600 s (≥ 3000 tasks per server) the estimate's relative error is a few per cent."""
    placed = placed_world(scenario_from_dict(_data()))
    assert placed is not None
    placement = placed.result.placement
    assert placement is not None
    problem = placed.problem
    load = {}
    for g, s, n, share in zip(placement.group, placement.service, placement.node, placement.share, strict=True):
        name = placed_server_name(problem.node_names[n], problem.services[s].name)
        load[name] = load.get(name, 0.0) + problem.rate_per_s[g, s] * share * problem.services[s].work_ops
    measured = run(placed.world, duration_s=600.0, seed=11, policies=["always_edge"]).summary["policies"][
        "always_edge"]["utilisation"]
    for server in placed.world.servers:
        expected = load[server.name] / (server.workers * server.speed_ops_per_s)
        assert expected <= placed.problem.target_utilisation + 1e-9
        assert measured[server.name] == pytest.approx(expected, rel=0.06), server.name


def test_validate_refuses_a_placement_that_cannot_be_solved_at_its_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from simulator.cli import main

    data = _data()
    data["services"][0]["deadline"] = "50 ms"
    path = _write(tmp_path, data)
    line = next(n for n, text in enumerate(path.read_text().splitlines(), start=1) if text.startswith("placement:"))
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"mecsim: error: {path}:{line}: placement: group 'cams0' cannot reach service 'det'")
