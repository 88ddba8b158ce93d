"""Mobility in scenario files: the sections load into a Mobility, runs report the mobility table, and bad input
gives one clear file:line error per problem."""

import re
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from offload.units import Dimension, parse_quantity
from simulator.cli import main
from simulator.mobility import MOBILITY_MODELS, GaussMarkov, RandomWaypoint
from simulator.scenario import ScenarioError, load_scenario, simulate
from simulator.scenario.mobility_schema import MODEL_PARAMETERS

BASE = """\
name: walkers
run: {duration: 120 s, seed: 3}
area: {width: 1 km, height: 500 m}
handover: {interruption: 50 ms, in_flight: restart}
services: [{name: detect, work: 1G, input: 200 kB, hosts: [ea, eb]}]
access_points:
  - {name: a, uplink: 20 Mbps, position: [250, 250], range: 400 m}
  - {name: b, uplink: 20 Mbps, position: [750, 250], range: 400 m}
nodes:
  - {name: ea, speed: 10 GHz, location: a}
  - {name: eb, speed: 10 GHz, location: b}
links: [{between: [a, b], latency: 5 ms}]
devices:
  - name: phones
    count: 20
    access_point: a
    profile: {speed: 1 GHz}
    workload: 1/s
    mobility: {model: random_waypoint, speed: [1 m/s, 15 km/h], pause: 2 s, step: 1 s}
policies: [always_edge]
"""


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def errors(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return str(info.value).splitlines()


def test_velocity_units():
    assert parse_quantity("36 km/h", Dimension.VELOCITY) == 10.0
    assert parse_quantity("1.4 m/s", Dimension.VELOCITY) == 1.4
    assert parse_quantity(3, Dimension.VELOCITY) == 3.0


def test_a_moving_scenario_loads_and_reports_handovers(tmp_path):
    scenario = load_scenario(write(tmp_path, BASE))
    mobility = scenario.mobility
    assert mobility is not None
    model = mobility.groups[0].model
    assert isinstance(model, RandomWaypoint)
    assert (model.speed_min_mps, model.speed_max_mps, model.pause_s) == (1.0, pytest.approx(15 / 3.6), 2.0)
    assert [cell.position_m for cell in mobility.cells] == [(250.0, 250.0), (750.0, 250.0)]
    assert mobility.handover.interruption_s == 0.05
    result = simulate(scenario)
    summary = result.to_json_dict()["policies"]["always_edge"]["mobility"]
    assert summary[0]["group"] == "phones"
    assert summary[0]["handovers"] > 0
    assert 0 < summary[0]["mean_distance_m"] < 400


def test_a_scenario_without_mobility_has_none(tmp_path):
    text = "\n".join(line for line in BASE.splitlines()
                     if not line.startswith(("area", "handover", "    mobility")))
    text = text.replace(", position: [250, 250], range: 400 m", "").replace(", position: [750, 250], range: 400 m",
                                                                            "")
    scenario = load_scenario(write(tmp_path, text))
    assert scenario.mobility is None
    assert simulate(scenario).mobility is None


def test_a_trace_in_lat_lon_is_projected(tmp_path):
    (tmp_path / "walk.csv").write_text("time,device,lat,lon\n0,0,-37.8140,144.9600\n60,0,-37.8140,144.9700\n",
                                       encoding="utf-8")
    text = BASE.replace("area: {width: 1 km, height: 500 m}",
                        "area: {south: -37.82, west: 144.95, north: -37.81, east: 144.98}")
    text = text.replace("position: [250, 250]", "position: {lat: -37.814, lon: 144.96}")
    text = text.replace("position: [750, 250]", "position: {lat: -37.814, lon: 144.97}")
    text = text.replace("count: 20", "count: 1").replace(
        "{model: random_waypoint, speed: [1 m/s, 15 km/h], pause: 2 s, step: 1 s}", "{model: trace, trace: walk.csv}")
    scenario = load_scenario(write(tmp_path, text))
    assert scenario.mobility is not None
    trace = scenario.mobility.groups[0].model
    # 0.01 degree of longitude at 37.81 S is ~879 m
    assert trace.positions_m[1, 0] - trace.positions_m[0, 0] == pytest.approx(879.0, rel=2e-3)
    result = simulate(scenario)
    assert result.mobility is not None
    assert result.mobility.iloc[0]["handovers"] == 1


@pytest.mark.parametrize(("old", "new", "message"), [
    ("model: random_waypoint", "model: levy", "devices[0].mobility.model: \"levy\": undefined mobility model"),
    ("speed: [1 m/s, 15 km/h]", "speed: [0 m/s, 15 km/h]", "devices[0].mobility.speed"),
    ("speed: [1 m/s, 15 km/h]", "speed: [-3 m/s, 15 km/h]", "must be > 0"),
    ("speed: [1 m/s, 15 km/h]", "speed: [5 m/s, 1 m/s]", "must be >= the minimum speed"),
    ("pause: 2 s", "alpha: 0.5", "mobility.alpha: is not a parameter of model 'random_waypoint'"),
    ("position: [750, 250]", "position: [1750, 250]", "access_points[1].position: lies outside the area (at x=1750"),
    (", position: [750, 250]", "", "access_points[1]: needs a position: devices move"),
    ("area: {width: 1 km, height: 500 m}\n", "", "devices[0].mobility: moving devices need a top-level area"),
    ("in_flight: restart", "in_flight: later", "handover.in_flight"),
    ("interruption: 50 ms", "rule: strongest", "access_points[0].radio: handover rule 'strongest' needs a radio"),
])
def test_bad_mobility_input_is_one_line_per_problem_with_its_line(tmp_path, old, new, message):
    assert old in BASE
    path = write(tmp_path, BASE.replace(old, new))
    found = errors(path)
    assert any(message in line for line in found), found
    assert all(re.match(r"^\S*s\.yaml:\d+: ", line) for line in found), found


def test_error_lines_point_at_the_key(tmp_path):
    path = write(tmp_path, BASE.replace("model: random_waypoint", "model: levy"))
    (line,) = [text for text in errors(path) if "levy" in text]
    assert "s.yaml:19: " in line  # the devices[0].mobility line
    assert "static, random_waypoint, random_direction, gauss_markov, trace" in line


def test_a_trace_naming_unknown_devices_or_leaving_the_area_is_an_error(tmp_path):
    (tmp_path / "t.csv").write_text("time,device,x,y\n0,0,10,10\n5,7,20,20\n9,1,5000,10\n", encoding="utf-8")
    path = write(tmp_path, BASE.replace("count: 20", "count: 2").replace(
        "{model: random_waypoint, speed: [1 m/s, 15 km/h], pause: 2 s, step: 1 s}", "{model: trace, trace: t.csv}"))
    found = errors(path)
    assert any("line 3: device 7 is not a device of the group (devices 0 to 1)" in line for line in found), found
    path = write(tmp_path, BASE.replace("count: 20", "count: 2").replace(
        "{model: random_waypoint, speed: [1 m/s, 15 km/h], pause: 2 s, step: 1 s}", "{model: trace, trace: t.csv}"
    ).replace("5,7", "5,1"))
    (tmp_path / "t.csv").write_text("time,device,x,y\n0,0,10,10\n9,1,5000,10\n", encoding="utf-8")
    found = errors(path)
    assert any("line 3: lies outside the area" in line for line in found), found


def test_every_model_has_its_parameters_declared():
    assert set(MODEL_PARAMETERS) == set(MOBILITY_MODELS)


def test_gauss_markov_from_yaml(tmp_path):
    path = write(tmp_path, BASE.replace("{model: random_waypoint, speed: [1 m/s, 15 km/h], pause: 2 s, step: 1 s}",
                                        "{model: gauss_markov, speed: 10 m/s, alpha: 0.75, speed_sd: 2 m/s}"))
    scenario = load_scenario(path)
    assert scenario.mobility is not None
    model = scenario.mobility.groups[0].model
    assert model == GaussMarkov(10.0, 0.75, speed_sd_mps=2.0)


def test_a_placement_section_with_moving_devices_is_refused_by_validate(tmp_path):
    # placement fixes each group's servers before the run; a moving group is served on its current cell: the
    # conflict is found when loading (validate), not when the run starts
    placed = BASE + "placement: {policy: greedy, services: {detect: {cpu: 1}}}\n"
    path = write(tmp_path, placed)
    (line,) = [text for text in errors(path) if "placement" in text]
    at = len(BASE.splitlines()) + 1  # the appended placement line
    assert re.match(rf"^\S*s\.yaml:{at}: placement: fixes every group's servers before the run, but 'phones' move",
                    line)
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert "drop placement, or place the service online with replacements" in result.stderr
