"""``mecsim place`` and the placement file format: bundled files, JSON shape, compare, file:line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from scheduler.builders import topohub_backbone
from scheduler.checker import check_placement
from scheduler.result import Placement
from simulator.cli import main
from simulator.scenario.errors import ScenarioError
from simulator.scenario.placement_file import load_placement_file


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_bundled_melbourne_file_is_real_eua_data() -> None:
    case = load_placement_file("place-melbourne")
    kinds = [case.graph.nodes[n]["spec"].kind.value for n in case.problem.node_names]
    assert kinds.count("base_station") == 40
    assert 10 <= len(case.problem.group_names) <= 40  # 300 cameras grouped by their nearest base station
    # 300 cameras x (0.5 + 1 + 1/60) requests/s each
    assert case.problem.rate_per_s.sum() == pytest.approx(300 * (0.5 + 1 + 1 / 60))


def test_place_text_output_lists_replicas_and_bound() -> None:
    code, out, _ = _invoke("place", "place-small", "--policy", "greedy")
    assert code == 0
    assert "plate-recognition" in out
    assert "replicas" in out
    assert "lower bound" in out
    assert "checked: feasible" in out


def test_place_json_matches_checker() -> None:
    code, out, _ = _invoke("place", "place-small", "--policy", "milp", "--json", "--assignment")
    assert code == 0
    data = json.loads(out)
    result = data["results"][0]
    assert result["status"] == "optimal"
    case = load_placement_file("place-small")
    problem = case.problem
    replicas = np.zeros((len(problem.services), len(problem.node_names)), dtype=np.int64)
    for row in result["services"]:
        for node, cell in row["nodes"].items():
            replicas[problem.service_names.index(row["service"]), problem.node_names.index(node)] = cell["replicas"]
    entries = result["assignment"]
    placement = Placement(replicas, np.array([problem.group_names.index(e["group"]) for e in entries]),
                          np.array([problem.service_names.index(e["service"]) for e in entries]),
                          np.array([problem.node_names.index(e["node"]) for e in entries]),
                          np.array([e["share"] for e in entries]))
    report = check_placement(case.graph, problem, placement)
    assert report.feasible, report.violations
    assert report.terms.total == pytest.approx(result["objective"]["total"], rel=1e-9)
    assert data["lower_bound"] <= result["objective"]["total"] * (1 + 1e-9)


def test_place_compare_runs_every_solver() -> None:
    code, out, _ = _invoke("place", "place-small", "--compare", "--json")
    assert code == 0
    results = {r["solver"]: r for r in json.loads(out)["results"]}
    assert set(results) == {"nearest", "greedy", "least-loaded", "local-search", "milp", "filter-score"}
    best = results["milp"]["objective"]["total"]
    assert all(r["objective"]["total"] >= best * (1 - 1e-9) for r in results.values())


def test_placement_file_defaults_to_local_search() -> None:
    code, out, _ = _invoke("place", "place-small", "--json")
    assert code == 0
    (result,) = json.loads(out)["results"]
    assert result["solver"] == "local-search"
    assert result["gap"] >= 0


def test_unknown_policy_is_one_line_exit_2() -> None:
    code, _, err = _invoke("place", "place-small", "--policy", "fastest")
    assert code == 2
    assert "unknown placement solver; valid: nearest, greedy, least-loaded, local-search, milp, filter-score" in err
    assert "Traceback" not in err


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """\
name: t
topology:
  hierarchical: {regions: 1, stations_per_region: 2, seed: 0}
services:
  - name: a
    work: 1G
users:
  groups:
    - {name: g, node: bs0-0, rate: {a: 2/s}}
"""


def test_errors_name_file_line_path_value_and_rule(tmp_path: Path) -> None:
    bad = GOOD.replace("work: 1G", "work: 1 parsecs").replace("{a: 2/s}", "{b: 2/s}")
    path = _write(tmp_path, bad)
    with pytest.raises(ScenarioError, match=r"bad.yaml:6: services\[0\].work: \"1 parsecs\": unknown unit"):
        load_placement_file(path)
    path = _write(tmp_path, GOOD.replace("{a: 2/s}", "{b: 2/s}").replace("bs0-0", "bs9"))
    with pytest.raises(ScenarioError) as info:
        load_placement_file(path)
    text = str(info.value)
    assert 'bad.yaml:9: users.groups[0].node: "bs9": not a node of the topology' in text
    assert 'users.groups[0].rate.b: "b": unknown service; valid: a' in text


def test_two_topologies_and_cli_error(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace("  hierarchical:", "  eua: {sites: 3, seed: 1}\n  hierarchical:"))
    code, _, err = _invoke("place", str(path))
    assert code == 2
    assert "give exactly one of hierarchical, topohub, eua (got hierarchical, eua)" in err
    path = _write(tmp_path, GOOD.replace("hierarchical: {regions: 1, stations_per_region: 2, seed: 0}",
                                         "topohub: {key: topozoo/Atlantis}"))
    code, _, err = _invoke("place", str(path))
    assert code == 2
    assert "bad.yaml:3: topology.topohub: \"topozoo/Atlantis\": topohub key: no such topology" in err
    assert err.startswith("mecsim: error: ")
    assert err.count("\n") == 1  # one line, no traceback
    # the hint names keys of the same collection that really load
    hint = err.split("(e.g. ", 1)[1].split(")", 1)[0].split(", ")
    assert len(hint) >= 3
    assert all(key.startswith("topozoo/") for key in hint)
    for key in hint[:2]:
        assert topohub_backbone(key).number_of_nodes() > 0


def test_infeasible_problem_is_a_clear_error(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace("work: 1G", "work: 1G\n    slo: 1ms"))
    code, _, err = _invoke("place", str(path))
    assert code == 2
    assert "group 'g' cannot reach service 'a' within its SLO 1 ms" in err


def test_group_given_by_coordinates_attaches_to_nearest_base_station() -> None:
    case = load_placement_file("place-small")
    lat, lon = 31.13, 121.86  # the "harbour" group in place-small.yaml
    stations = [(n, s) for n, s in case.graph.nodes(data="spec") if s.kind.value == "base_station"]
    # equirectangular distance is exact enough to rank sites a few km apart
    scale = np.cos(np.radians(lat))
    nearest = min(stations, key=lambda item: (item[1].lat_deg - lat) ** 2 + ((item[1].lon_deg - lon) * scale) ** 2)
    assert case.problem.group_nodes[case.problem.group_names.index("harbour")] == nearest[0]


def test_group_needs_node_or_coordinates(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace("node: bs0-0,", "node: bs0-0, at: [1, 2],"))
    with pytest.raises(ScenarioError, match=r"bad.yaml:9: users.groups\[0\]: .*give exactly one of node, at"):
        load_placement_file(path)


def test_budgets_are_work_counts_and_the_clock_is_opt_in() -> None:
    args = ("place", "place-small", "--policy", "local-search", "--evaluations", "7", "--json", "--assignment")
    first, second = _invoke(*args), _invoke(*args)
    assert first[0] == 0
    result = json.loads(first[1])["results"][0]
    assert "evaluation budget spent (7 evaluations" in result["message"]
    assert json.loads(second[1])["results"][0]["assignment"] == result["assignment"]  # same placement again
    code, _, err = _invoke("place", "place-small", "--evaluations", "0")
    assert code == 2
    assert "--evaluations" in err
    code, _, err = _invoke("place", "place-small", "--time-limit", "0s")
    assert code == 2
    assert "'0s': must be > 0" in err


def test_place_out_writes_tables_summary_and_figures(tmp_path: Path) -> None:
    import pandas as pd

    from simulator.plots import read_table

    out = tmp_path / "placed"
    code, stdout, err = _invoke("place", "place-small", "--policy", "milp", "--out", str(out))
    assert code == 0, err
    assert f"wrote {out}/" in stdout
    summary = json.loads((out / "summary.json").read_text())
    (entry,) = summary["results"]
    assignment, replicas = read_table(out, "assignment"), read_table(out, "replicas")
    assert assignment is not None
    assert replicas is not None
    expected = pd.DataFrame(entry["assignment"])
    pd.testing.assert_frame_equal(assignment[["group", "service", "node", "share"]], expected)
    # the rate column is the group's demand times the share; every demand is served in full
    case = load_placement_file(Path(__file__).parent.parent / "scenarios" / "place-small.yaml")
    assert assignment["rate_per_s"].sum() == pytest.approx(case.problem.rate_per_s.sum())
    assert replicas["replicas"].sum() == sum(s["replicas"] for s in entry["services"])
    assert sorted(p.name for p in (out / "figures").iterdir()) == ["placement_map_milp.png"]
    again = _invoke("place", "place-small", "--out", str(out))
    assert again[0] == 2
    assert "use --force" in again[2]
    code, _, err = _invoke("place", "place-small", "--compare", "--out", str(out), "--force")
    assert code == 0, err
    assert "solver_comparison.png" in {p.name for p in (out / "figures").iterdir()}
