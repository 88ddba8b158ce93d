"""Server disciplines, patience and priorities in scenario files: each reaches the World, and an impossible
combination is reported at its file and line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from simulator.distributions import Constant, Exponential
from simulator.scenario import ScenarioError, load_scenario
from simulator.world import World

TEMPLATE = """\
name: disc
run: {{duration: 10 s}}
services:
  - {{name: fast, work: 1 Gops, priority: 0}}
  - {{name: slow, work: 1 Gops, priority: 2}}
access_points: [{{name: ap, uplink: 10 Mbps}}]
nodes:
  - {{name: e, speed: 10 Gops/s, location: ap, {node}}}
devices:
  - {{name: a, profile: {{speed: 1 GHz}}, access_point: ap, service: fast, workload: {{kind: poisson, rate: 1/s}}}}
  - {{name: b, profile: {{speed: 1 GHz}}, access_point: ap, service: slow, workload: {{kind: poisson, rate: 1/s}},
     {group}}}
policies: [always_edge]
"""


def _world(tmp_path: Path, node: str, group: str = "drop_expired: false") -> World:
    path = tmp_path / "disc.yaml"
    path.write_text(TEMPLATE.format(node=node, group=group), encoding="utf-8")
    return load_scenario(str(path)).world


def test_discipline_patience_and_priorities_reach_the_world(tmp_path: Path) -> None:
    world = _world(tmp_path, "discipline: preemptive, patience: {distribution: exponential, mean: 2 s}")
    server = world.servers[0]
    assert server.discipline == "preemptive"
    assert server.patience == Exponential(2.0)
    assert [g.priority for g in world.device_groups] == [0, 2]  # from the services
    world = _world(tmp_path, "discipline: ps", "priority: -1")
    assert world.servers[0].patience is None
    assert [g.priority for g in world.device_groups] == [0, -1]  # a group's own priority wins
    assert _world(tmp_path, "patience: 3 s").servers[0].patience == Constant(3.0)


@pytest.mark.parametrize(("node", "message"), [
    ("discipline: ps, patience: 1 s",
     "disc.yaml:8: nodes[0]: a mapping: discipline 'ps': 'ps' serves every task at once"),
    ("discipline: preemptive, batching: {max_batch: 4, per_item: 1 ms}",
     "disc.yaml:8: nodes[0]: a mapping: discipline 'preemptive': 'preemptive' cannot batch"),
    ("discipline: lifo", "disc.yaml:8: nodes[0].discipline: \"lifo\""),
    ("patience: {distribution: weibull, shape: 2, mean: -1 s}", "disc.yaml:8: nodes[0].patience.mean"),
])
def test_an_impossible_server_is_reported_at_its_line(tmp_path: Path, node: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=re.escape(message)):
        _world(tmp_path, node)
