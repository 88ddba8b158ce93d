"""``mecsim place SCENARIO`` and ``mecsim simulate`` on a scenario with a ``placement`` section.

The scenario: 40 cameras at ap0 and 20 at ap1 send 0.5 req/s each of 2 Gop (0.2 s on a 10 Gop/s core), 30 req/s in
all, so at most 0.6 · 10 / 2 = 3 req/s per replica under the utilisation cap: at least 10 replicas, more than the
edge servers' 2 + 3 cores, so the cloud must take some.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from scheduler.checker import check_placement
from scheduler.result import Placement
from scheduler.solvers import SOLVERS
from simulator.cli import main
from simulator.placement_bridge import PlacedWorld, placed_server_name
from simulator.scenario import load_scenario, placed_world

SCENARIO = """\
name: cli-placed
run: {duration: 60 s, warmup: 10 s, seed: 5, replications: 1}
services:
  - {name: det, work: 2G, input: 200 kB, output: 2 kB, deadline: 2 s}
access_points:
  - {name: ap0, uplink: 500 Mbps, latency: 3 ms, shared: false}
  - {name: ap1, uplink: 500 Mbps, latency: 3 ms, shared: false}
switches: [hub]
nodes:
  - {name: m0, speed: 10G, workers: 2, location: ap0}
  - {name: m1, speed: 10G, workers: 3, location: ap1}
  - {name: cloud, tier: cloud, speed: 10G, workers: 64}
links:
  - {between: [ap0, hub], latency: 1 ms, distance: 5 km}
  - {between: [ap1, hub], latency: 1 ms, distance: 5 km}
  - {between: [hub, cloud], latency: 15 ms, distance: 700 km}
devices:
  - {name: east, count: 40, profile: {speed: 1G}, access_point: ap0, workload: {kind: poisson, rate: 0.5/s}}
  - {name: west, count: 20, profile: {speed: 1G}, access_point: ap1, workload: {kind: poisson, rate: 0.5/s}}
policies: [always_edge, queue_aware]
placement:
  policy: milp
  time_limit: 20 s
  target_utilisation: 0.6
  objective: {latency: 1, compute: 1, traffic: 0}
  services: {det: {cpu: 1, min_replicas: 1}}
  nodes:
    cloud: {cpu_price: 2/h}
"""
RATE_PER_S = 40 * 0.5 + 20 * 0.5
WORK_OPS, SPEED_OPS_PER_S, TARGET = 2e9, 10e9, 0.6


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("placed") / "cli-placed.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def placed(scenario_file: Path) -> PlacedWorld:
    result = placed_world(load_scenario(scenario_file))
    assert result is not None
    return result


def _replicas(entry: dict) -> dict[tuple[str, str], int]:
    return {(row["service"], node): cell["replicas"]
            for row in entry["services"] for node, cell in row["nodes"].items()}


def _workers(placed: PlacedWorld) -> dict[tuple[str, str], int]:
    """Workers of the placed world's per-service servers, keyed like :func:`_replicas`."""
    names = {placed_server_name(node, service.name): (service.name, node)
             for service in placed.problem.services for node in placed.problem.node_names}
    return {names[server.name]: server.workers for server in placed.world.servers}


def _check_entry(entry: dict, placed: PlacedWorld) -> None:
    """The JSON entry's placement passes the independent checker on the simulator's problem, with its totals."""
    problem = placed.problem
    replicas = np.zeros((len(problem.services), len(problem.node_names)), dtype=np.int64)
    for (service, node), count in _replicas(entry).items():
        replicas[problem.service_names.index(service), problem.node_names.index(node)] = count
    rows = entry["assignment"]
    placement = Placement(replicas, np.array([problem.group_names.index(r["group"]) for r in rows]),
                          np.array([problem.service_names.index(r["service"]) for r in rows]),
                          np.array([problem.node_names.index(r["node"]) for r in rows]),
                          np.array([r["share"] for r in rows]))
    report = check_placement(placed.graph, problem, placement)
    assert report.feasible, report.violations
    assert report.terms.total == pytest.approx(entry["objective"]["total"], rel=1e-9)
    assert report.terms.mean_latency_s == pytest.approx(entry["objective"]["mean_latency_s"], rel=1e-9)
    assert entry["lower_bound"] <= entry["objective"]["total"] * (1 + 1e-9)
    assert entry["gap"] >= 0
    # capacity: each replica serves at most TARGET x speed / work requests per second
    assert replicas.sum() >= math.ceil(RATE_PER_S * WORK_OPS / (SPEED_OPS_PER_S * TARGET) - 1e-9)


def test_place_scenario_solves_the_problem_simulate_places(scenario_file: Path, placed: PlacedWorld) -> None:
    code, out, _ = _invoke("place", str(scenario_file), "--json", "--assignment")
    assert code == 0
    data = json.loads(out)
    assert data["name"] == "cli-placed"
    assert data["weights"] == {"latency": 1.0, "compute": 1.0, "traffic": 0.0}
    (entry,) = data["results"]
    assert entry["solver"] == "milp"  # the placement section's solver
    assert entry["status"] == "optimal"
    _check_entry(entry, placed)
    assert _replicas(entry) == _workers(placed)
    served = sum(cell["rate_per_s"] for row in entry["services"] for cell in row["nodes"].values())
    assert served == pytest.approx(RATE_PER_S)


def test_policy_option_overrides_the_section(scenario_file: Path, placed: PlacedWorld) -> None:
    code, out, _ = _invoke("place", str(scenario_file), "--policy", "greedy", "--json", "--assignment")
    assert code == 0
    (entry,) = json.loads(out)["results"]
    assert entry["solver"] == "greedy"
    _check_entry(entry, placed)
    optimum = placed.result.objective
    assert optimum is not None
    assert entry["objective"]["total"] >= optimum.total * (1 - 1e-9)  # the section's milp is optimal


def test_compare_runs_every_solver_on_the_scenario(scenario_file: Path, placed: PlacedWorld) -> None:
    code, out, _ = _invoke("place", str(scenario_file), "--compare", "--json", "--assignment")
    assert code == 0
    results = {r["solver"]: r for r in json.loads(out)["results"]}
    assert set(results) == set(SOLVERS)
    for entry in results.values():
        _check_entry(entry, placed)
    best = results["milp"]["objective"]["total"]
    assert all(r["objective"]["total"] >= best * (1 - 1e-9) for r in results.values())


def test_place_scenario_text_output(scenario_file: Path) -> None:
    code, out, _ = _invoke("place", str(scenario_file), "--policy", "nearest")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("cli-placed: 1 services, 3 candidate nodes, 2 user groups")
    assert lines[1].startswith("solver nearest: ")
    assert lines[2].split()[0] == "det"
    for word in ("objective", "mean latency", "compute", "traffic", "lower bound", "gap", "checked: feasible"):
        assert word in out


def test_scenario_without_placement_is_one_line_exit_2() -> None:
    code, out, err = _invoke("place", "mm1")
    assert code == 2
    assert out == ""
    assert len(err.splitlines()) == 1
    assert "placement: the scenario has no placement section" in err


def test_simulate_prints_the_placement_before_the_policy_table(scenario_file: Path) -> None:
    code, out, _ = _invoke("simulate", str(scenario_file), "--quiet")
    assert code == 0
    lines = out.splitlines()
    block = lines.index("placement (replicas placed before simulating):")
    table = next(i for i, line in enumerate(lines) if line.startswith("policy "))
    assert block < table
    assert lines[block + 1].startswith("solver milp: optimal")
    assert lines[block + 2].split()[0] == "det"
    assert any(line.startswith("lower bound") and "gap" in line for line in lines[block:table])


def test_simulate_json_and_summary_file_carry_the_placement(scenario_file: Path, placed: PlacedWorld,
                                                            tmp_path: Path) -> None:
    out_dir = tmp_path / "run"
    code, out, _ = _invoke("simulate", str(scenario_file), "--quiet", "--json", "--out", str(out_dir))
    assert code == 0
    placement = json.loads(out)["placement"]
    assert placement["solver"] == "milp"
    assert placement["check"] == {"feasible": True, "violations": []}
    assert placement["weights"] == {"latency": 1.0, "compute": 1.0, "traffic": 0.0}
    assert placement["gap"] >= 0
    assert placement["lower_bound"] <= placement["objective"]["total"] * (1 + 1e-9)
    assert _replicas(placement) == _workers(placed)
    summary = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["placement"]["services"] == placement["services"]
    # every placed server is simulated: utilisation is reported for exactly those servers
    for stats in summary["policies"].values():
        assert set(stats["utilisation"]) == {server.name for server in placed.world.servers}
