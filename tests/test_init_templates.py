"""`mecsim init` templates (issue 18): each one validates and runs; the minimal one is at most 10 lines of block
style; the schema's defaults are exactly what the long form of the same scenario says."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from simulator.cli import main
from simulator.scenario import load_scenario, scenario_from_dict, simulate
from simulator.scenario.errors import ScenarioError
from simulator.scenario.scaffold import TEMPLATE_DIR, template_names, template_summary


def _init(tmp_path: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["init", *args], catch_exceptions=False, env={"PWD": str(tmp_path)})
    return result.exit_code, result.output


def test_templates_are_shipped() -> None:
    assert {"minimal", "phones", "cameras", "placement"} <= set(template_names())
    assert all(template_summary(name) for name in template_names())


@pytest.mark.parametrize("template", template_names())
def test_every_template_validates_and_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, template: str) -> None:
    monkeypatch.chdir(tmp_path)
    code, output = _init(tmp_path, "study", "--template", template)
    assert code == 0, output
    assert output.startswith(f"wrote study.yaml (template {template})")
    assert (tmp_path / "study.yaml").read_text() == (TEMPLATE_DIR / f"{template}.yaml").read_text()
    scenario = load_scenario("study.yaml", ["run.duration=40s", "run.replications=1"])
    assert scenario.name == "study"  # a file without a name is called after itself
    result = simulate(scenario)
    assert list(result.policies) == list(scenario.policy_names)
    for summary in result.policies.values():
        assert summary.tasks.generated > 0
        assert summary.tasks.completed > 0


def test_minimal_template_is_at_most_ten_lines_of_block_style() -> None:
    lines = [line.split("#", 1)[0].rstrip() for line in (TEMPLATE_DIR / "minimal.yaml").read_text().splitlines()]
    content = [line for line in lines if line.strip()]
    assert len(content) <= 10
    assert not any(char in line for line in content for char in "{}[]")  # block style, nothing crammed


def test_defaults_are_the_long_form() -> None:
    # the minimal template with every default written out gives the same scenario (same resolved form and hash)
    short = yaml.safe_load((TEMPLATE_DIR / "minimal.yaml").read_text())
    long = {
        "name": "study",
        "run": {"duration": "60 s"},
        "services": [{"name": "default", "work": "2G"}],
        "access_points": [{"name": "ap", "uplink": "100 Mbps"}],
        "nodes": [{"name": "edge", "speed": "40 GHz", "location": "ap"}],
        "devices": [{"name": "devices", "profile": {"speed": "1.5 GHz"}, "access_point": "ap",
                     "workload": {"kind": "poisson", "rate": "0.5/s"}}],
        "policies": ["always_local", "always_edge"],
    }
    a, b = scenario_from_dict({"name": "study", **short}), scenario_from_dict(long)
    assert a.world == b.world
    assert a.run == b.run
    assert a.policy_names == ("always_local", "always_edge")
    assert a.world.servers[0].location == "ap"


def test_a_device_group_needs_its_access_point_when_there_are_several() -> None:
    data = yaml.safe_load((TEMPLATE_DIR / "minimal.yaml").read_text())
    data["access_points"] = [{"name": "a", "uplink": "10 Mbps"}, {"name": "b", "uplink": "10 Mbps"}]
    data["nodes"][0]["location"] = "a"
    with pytest.raises(ScenarioError, match=r"devices\[0\]: needs an access_point: several are defined \(a, b\)"):
        scenario_from_dict(data)


def test_the_units_people_type_are_accepted_in_a_scenario() -> None:
    data = yaml.safe_load((TEMPLATE_DIR / "minimal.yaml").read_text())
    data["run"] = {"duration": "1 hour"}
    data["devices"][0]["workload"] = "10 req/s"
    data["devices"][0]["profile"] = {"speed": "2 TOPS"}
    data["nodes"][0]["speed"] = "26 TOPS"
    scenario = scenario_from_dict(data)
    assert scenario.run.duration_s == 3600.0
    assert scenario.world.device_groups[0].workload.mean_rate_per_s == 10.0
    assert scenario.world.device_groups[0].device.speed_ops_per_s == 2e12
    data["devices"][0]["workload"] = {"kind": "periodic", "fps": "2 Hz"}
    assert scenario_from_dict(data).world.device_groups[0].workload.mean_rate_per_s == 2.0


def test_a_rate_given_as_a_bandwidth_speaks_of_quantities() -> None:
    data = yaml.safe_load((TEMPLATE_DIR / "minimal.yaml").read_text())
    data["devices"][0]["workload"] = "10 Mbps"
    with pytest.raises(ScenarioError, match=r"'Mbps' is a bandwidth, expected a rate such as 10/s") as info:
        scenario_from_dict(data)
    assert "RATE_PER_S" not in str(info.value)
    assert "per_s" not in str(info.value)


def test_init_never_replaces_a_file_without_force(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.yaml").write_text("precious\n")
    code, output = _init(tmp_path, "mine")
    assert code == 2
    assert "mine.yaml': already exists; add --force to replace it" in output
    assert (tmp_path / "mine.yaml").read_text() == "precious\n"
    code, _ = _init(tmp_path, "mine.yaml", "--force", "-t", "phones")
    assert code == 0
    assert (tmp_path / "mine.yaml").read_text() == (TEMPLATE_DIR / "phones.yaml").read_text()
