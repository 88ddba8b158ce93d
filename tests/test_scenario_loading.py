"""YAML loading with line numbers, overrides, units, canonical form, World conversion and common random numbers."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from simulator.distributions import Exponential, LogNormal, Uniform
from simulator.run import run
from simulator.scenario import ScenarioError, load_scenario, scenario_from_dict, simulate
from simulator.scenario.overrides import apply_overrides, parse_path
from simulator.scenario.yamlload import load_yaml
from simulator.workloads import PeriodicStream, Trace


def test_lines_of_keys_and_items() -> None:
    loaded = load_yaml("a: 1\nb:\n  - x: 2\n    y: [3, 4]\n  - z\n", "f.yaml")
    assert loaded.data == {"a": 1, "b": [{"x": 2, "y": [3, 4]}, "z"]}
    assert loaded.lines[("a",)] == 1
    assert loaded.lines[("b", 0, "y")] == 4
    assert loaded.lines[("b", 1)] == 5
    assert loaded.line_of(("b", 0, "missing")) == 3  # a missing key points at its parent


def test_anchors_and_merge_keys_keep_the_explicit_values() -> None:
    loaded = load_yaml("base: &b {x: 1, y: 2}\nchild: {<<: *b, y: 3}\n")
    assert loaded.data["child"] == {"x": 1, "y": 3}


def test_timestamps_stay_strings_and_no_objects_are_built() -> None:
    assert load_yaml("when: 2024-01-01\n").data == {"when": "2024-01-01"}
    with pytest.raises(ScenarioError, match="unsupported YAML tag"):
        load_yaml("x: !!python/name:os.system ''\n")


def test_alias_bombs_are_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]"
              for i in range(1, 9)]
    with pytest.raises(ScenarioError, match="expands to more than"):
        load_yaml("\n".join(lines) + "\n")


@pytest.mark.parametrize(("text", "expected"), [
    ("run.duration", ("run", "duration")),
    ("devices[0].count", ("devices", 0, "count")),
    ("devices[cams].workload.rate", ("devices", "[cams]", "workload", "rate")),
    ("a[1][2]", ("a", 1, 2)),
])
def test_parse_path(text: str, expected: tuple[str | int, ...]) -> None:
    assert parse_path(text) == expected


def test_overrides_parse_values_as_yaml_and_select_items_by_name() -> None:
    data = {"run": {"duration": "1 s"}, "devices": [{"name": "cams", "count": 1}]}
    result, touched = apply_overrides(data, ["run.duration=600s", "devices[cams].count=50", "run.extra.deep=yes"])
    assert result == {"run": {"duration": "600s", "extra": {"deep": True}},
                      "devices": [{"name": "cams", "count": 50}]}
    assert touched == [("run", "duration"), ("devices", 0, "count"), ("run", "extra", "deep")]
    assert data["devices"][0]["count"] == 1  # the input is not modified


def _mini(**service: object) -> dict[str, object]:
    return {
        "name": "mini", "run": {"duration": "10 s"},
        "services": [{"name": "s", "work": "1G", **service}],
        "access_points": [{"name": "ap", "uplink": "10 Mbps"}],
        "nodes": [{"name": "edge", "speed": "10 GHz", "location": "ap"}],
        "devices": [{"name": "d", "count": 3, "profile": {"speed": "1 GHz", "compute_power": "2 W"},
                     "access_point": "ap", "workload": {"kind": "periodic", "fps": "2 fps", "fraction": 0.5}}],
        "policies": ["always_local", {"name": "random", "params": {"p": 0.5}, "label": "coin"}],
    }


def test_units_become_si_and_the_world_matches() -> None:
    scenario = scenario_from_dict(_mini(input="300 kB", deadline="500 ms"))
    world = scenario.world
    group = world.device_groups[0]
    assert group.task.input_bits.mean == 2.4e6
    assert group.task.work_ops.mean == 1e9
    assert group.deadline_s == 0.5
    assert group.device.speed_ops_per_s == 1e9
    assert isinstance(group.workload, PeriodicStream)
    assert group.workload.fps == 2.0
    assert world.access_points[0].uplink_bps == 10e6
    assert math.isinf(world.access_points[0].downlink_bps)
    assert [p.display_name for p in world.policies] == ["always_local", "coin"]
    assert scenario.policy_names == ("always_local", "coin")


@pytest.mark.parametrize(("work", "kind", "mean"), [
    ({"distribution": "exponential", "mean": "2G"}, Exponential, 2e9),
    ({"distribution": "uniform", "low": "1G", "high": "3G"}, Uniform, 2e9),
    ({"distribution": "lognormal", "mean": "2G", "cv": 0.5}, LogNormal, 2e9),
])
def test_size_distributions(work: dict[str, object], kind: type, mean: float) -> None:
    size = scenario_from_dict(_mini(work=work)).world.device_groups[0].task.work_ops
    assert isinstance(size, kind)
    assert size.mean == pytest.approx(mean)


def test_canonical_form_and_hash_ignore_how_units_were_written() -> None:
    written = scenario_from_dict(_mini(input="300 kB"))
    plain = scenario_from_dict(_mini(input=2_400_000))
    assert written.sha256 == plain.sha256
    assert written.resolved == plain.resolved
    assert scenario_from_dict(_mini(input="301 kB")).sha256 != written.sha256


def test_trace_files_are_relative_to_the_scenario(tmp_path: Path) -> None:
    (tmp_path / "trace.csv").write_text("timestamp_s,device,work_ops,input_bits,output_bits\n"
                                        "0.5,0,1e9,8000,0\n1.5,1,2e9,8000,0\n", encoding="utf-8")
    data = _mini()
    data["devices"][0]["workload"] = {"kind": "trace", "file": "trace.csv"}  # type: ignore[index]
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    world = load_scenario(tmp_path / "s.yaml").world
    assert isinstance(world.device_groups[0].workload, Trace)
    data["devices"][0]["workload"]["file"] = "missing.csv"  # type: ignore[index]
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"missing\.csv"):
        load_scenario(tmp_path / "s.yaml")


def test_simulate_equals_one_run_over_all_policies_and_shares_arrivals() -> None:
    scenario = scenario_from_dict(_mini(input="100 kB"))
    ours = simulate(scenario, seed=5, replications=2)
    world = scenario.world
    reference = run(world, duration_s=10.0, seed=5, replications=2)
    assert ours.summary == reference.summary
    records = ours.records
    local = records[records["policy"] == "always_local"].sort_values(["replication", "task_id"])
    coin = records[records["policy"] == "coin"].sort_values(["replication", "task_id"])
    np.testing.assert_array_equal(local["created_s"].to_numpy(), coin["created_s"].to_numpy())
    assert set(coin["target"].astype(str)) == {"local", "edge"}


def test_the_format_reference_in_scenarios_readme_is_a_valid_scenario(tmp_path: Path) -> None:
    readme = Path(__file__).resolve().parents[1] / "scenarios" / "README.md"
    block = readme.read_text(encoding="utf-8").split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "example.yaml").write_text(block, encoding="utf-8")
    scenario = load_scenario(tmp_path / "example.yaml")
    world = scenario.world
    assert world.n_devices == 25
    assert scenario.policy_names == ("always_local", "random-30")
