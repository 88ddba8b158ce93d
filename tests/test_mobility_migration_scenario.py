"""Session migration in scenario files: a service's ``state`` and the ``migration`` section load into the
mobility's Migration, the mobility table counts the migrations, and bad input gives one file:line error per
problem (exit 2 from the CLI)."""

import re
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_mobility_scenario import BASE as MOVING

from simulator.cli import main
from simulator.lifecycle.replacement import Replacement
from simulator.mobility.migration import Threshold
from simulator.scenario import ScenarioError, load_scenario, simulate

BASE = (MOVING.replace("handover: {interruption: 50 ms, in_flight: restart}",
                       "migration: {policy: threshold, horizon: 2 min, downtime: 80 ms}")
        .replace("hosts: [ea, eb]}", "state: 50 MB, hosts: [ea, eb]}")
        .replace("latency: 5 ms}", "latency: 5 ms, bandwidth: 1 Gbps}"))
STILL = BASE.replace("    mobility: {model: random_waypoint, speed: [1 m/s, 15 km/h], pause: 2 s, step: 1 s}\n", "")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def errors(tmp_path: Path, text: str) -> list[str]:
    """The error lines of loading ``text``, each checked to start with its file:line."""
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, text))
    found = str(info.value).splitlines()
    assert all(re.match(r"^\S*s\.yaml:\d+: ", line) for line in found), found
    return found


def test_the_sections_load_into_a_migration_and_runs_count_migrations(tmp_path):
    scenario = load_scenario(write(tmp_path, BASE))
    assert scenario.mobility is not None
    migration = scenario.mobility.migration
    assert migration is not None
    assert migration.state_bits == {"detect": 400e6}
    assert migration.policy == Threshold(120.0)
    assert migration.downtime_s == 0.08
    rows = simulate(scenario).to_json_dict()["policies"]["always_edge"]["mobility"]
    # 1/s x 120 s x 2 x 2 x 5 ms = 2.4 s saved > 400 Mbit / 1 Gbit/s + 80 ms = 0.48 s (the estimate): every change
    # migrates. The copies share the link with the requests and each other: each takes at least its idle time,
    # 0.4 s + the link's 5 ms, then 80 ms down
    assert rows[0]["migrations"] > 0
    assert rows[0]["migration_s"] >= rows[0]["migrations"] * (0.4 + 0.005 + 0.08) * (1 - 1e-12)
    assert rows[0]["migration_downtime_s"] == pytest.approx(rows[0]["migrations"] * 0.08)


@pytest.mark.parametrize(("old", "new", "message"), [
    ("policy: threshold", "policy: sometimes",
     'migration.policy: "sometimes": undefined migration policy (defined: never, follow, threshold)'),
    ("policy: threshold, horizon: 2 min", "policy: follow, horizon: 2 min",
     "migration.horizon: is not a parameter of policy 'follow' (it takes none)"),
    ("horizon: 2 min, ", "", "migration: policy 'threshold' needs horizon"),
    ("state: 50 MB", "state: -5 MB", "services[0].state"),
    ("downtime: 80 ms", "downtime: -1 s", "migration.downtime"),
    ("migration: {policy: threshold, horizon: 2 min, downtime: 80 ms}\n", "",
     "services[0].state: needs a top-level migration section (policy: never, follow, threshold)"),
    ("state: 50 MB, ", "", "migration: no moving device group uses a service with a state"),
])
def test_bad_migration_input_is_one_line_per_problem_with_its_line(tmp_path, old, new, message):
    assert old in BASE
    found = errors(tmp_path, BASE.replace(old, new))
    assert any(message in line for line in found), found


def test_state_without_moving_devices_is_an_error_and_validate_exits_2(tmp_path):
    assert STILL != BASE
    result = CliRunner().invoke(main, ["validate", str(write(tmp_path, STILL))])
    assert result.exit_code == 2
    err = result.output
    assert "s.yaml:5: services[0].state: only for the sessions of moving devices" in err
    assert "s.yaml:4: migration: no device group moves" in err


REPLACED = (MOVING.replace("handover: {interruption: 50 ms, in_flight: restart}",
                           "replacements: [{service: detect, replicas: 1, every: 20 s, image: 1 GB, registry: a, "
                           "boot: 2 s}]")
            .replace("latency: 5 ms}", "latency: 5 ms, bandwidth: 1 Gbps}").replace("work: 1G", "work: 100M"))


def test_a_replacement_section_loads_and_moves_the_replica_after_its_user(tmp_path):
    # one phone jumps from cell a to cell b at 30 s; the re-placement due at 40 s pulls the 1 GB image from the
    # registry at a over the 1 Gbit/s link (8 s + 5 ms) to eb, which boots for 2 s: eb serves from 50.005 s
    (tmp_path / "walk.csv").write_text("time,device,x,y\n0,0,200,250\n30,0,300,250\n30,0,700,250\n",
                                       encoding="utf-8")
    text = REPLACED.replace("count: 20", "count: 1").replace(
        "{model: random_waypoint, speed: [1 m/s, 15 km/h], pause: 2 s, step: 1 s}", "{model: trace, trace: walk.csv}")
    scenario = load_scenario(write(tmp_path, text))
    assert scenario.mobility is not None
    assert scenario.mobility.replacements == (Replacement("detect", 1, 20.0, "greedy", 8e9, "a", 2.0),)
    again = load_scenario(write(tmp_path, text.replace("every: 20 s", "every: 20 s, handovers: 3")))
    assert again.mobility is not None
    assert again.mobility.replacements[0].handovers == 3
    result = simulate(scenario)
    records = result.records
    ready_s = 40.0 + 8e9 / 1e9 + 0.005 + 2.0
    assert set(records.loc[records["created_s"] < ready_s, "target"]) == {"ea"}
    assert set(records.loc[records["created_s"] > ready_s, "target"]) == {"eb"}
    rows = result.to_json_dict()["policies"]["always_edge"]["mobility"]
    assert (rows[0]["replacements"], rows[0]["replicas_moved"]) == (1, 1)
    assert rows[0]["placement_gain_s"] == pytest.approx(2 * 0.005, rel=1e-6)  # the a-b round trip saved


SITTERS = "  - {name: sitters, count: 1, access_point: b, profile: {speed: 1 GHz}, workload: 0.5/s}\n"


def test_a_group_that_stays_uses_the_replaced_service_from_its_access_point(tmp_path):
    # a sitter at b next to the walker of the test above, at half its rate: the replica, placed for the walker at ea,
    # serves the sitter from there (over the a - b link) until eb is ready, then from eb
    (tmp_path / "walk.csv").write_text("time,device,x,y\n0,0,200,250\n30,0,300,250\n30,0,700,250\n",
                                       encoding="utf-8")
    text = REPLACED.replace("count: 20", "count: 1").replace(
        "{model: random_waypoint, speed: [1 m/s, 15 km/h], pause: 2 s, step: 1 s}", "{model: trace, trace: walk.csv}"
    ).replace("policies: [always_edge]", SITTERS + "policies: [always_edge]")
    records = simulate(load_scenario(write(tmp_path, text))).records
    sitters = records[records["device"].str.startswith("sitters")]
    ready_s = 40.0 + 8e9 / 1e9 + 0.005 + 2.0
    assert set(sitters.loc[sitters["created_s"] < ready_s, "target"]) == {"ea"}
    assert set(sitters.loc[sitters["created_s"] > ready_s, "target"]) == {"eb"}


def test_a_group_that_stays_cannot_plan_with_lyapunov_on_a_replaced_service(tmp_path):
    text = REPLACED.replace("policies: [always_edge]", SITTERS + "policies: [always_edge, lyapunov]")
    found = errors(tmp_path, text)
    assert any("devices[1].service: \"detect\": policy 'lyapunov' plans each task for fixed servers" in line
               for line in found), found


@pytest.mark.parametrize(("old", "new", "message"), [
    ("service: detect, replicas", "service: track, replicas",
     'replacements[0].service: "track": undefined service'),
    ("every: 20 s", "every: 20 s, solver: simplex", 'replacements[0].solver: "simplex": undefined placement solver'),
    ("registry: a", "registry: nowhere", 'replacements[0].registry: "nowhere": undefined place'),
    ("image: 1 GB, ", "", "replacements[0]: give both image (its size) and registry"),
    ("replicas: 1", "replicas: 0", "replacements[0].replicas"),
    ("every: 20 s", "every: -20 s", "replacements[0].every"),
    ("every: 20 s", "handovers: 0", "replacements[0].handovers"),
    ("{name: ea, speed: 10 GHz, location: a}", "{name: ea, compute_time: 10 ms, location: a}",
     "nodes[0].speed: a node the re-placed service may use needs a speed"),
    ("    mobility: {model: random_waypoint, speed: [1 m/s, 15 km/h], pause: 2 s, step: 1 s}\n", "",
     "replacements[0]: no device group moves"),
])
def test_bad_replacement_input_is_one_line_per_problem_with_its_line(tmp_path, old, new, message):
    assert old in REPLACED
    found = errors(tmp_path, REPLACED.replace(old, new))
    assert any(message in line for line in found), found


PAIRED = (BASE.replace("migration: {policy: threshold, horizon: 2 min, downtime: 80 ms}",
                       "migration: {policy: follow, downtime: 80 ms, policies: [go]}")
          .replace("policies: [always_edge]", "policies: [{name: always_edge, label: stay}, "
                                                "{name: always_edge, label: go}]"))


def test_a_section_applies_to_the_policies_it_names_on_the_same_trajectories(tmp_path):
    result = simulate(load_scenario(write(tmp_path, PAIRED)))
    assert result.mobility is not None
    rows = result.mobility.set_index("policy")
    assert rows.loc["stay", "migrations"] == 0
    assert rows.loc["go", "migrations"] > 0
    assert rows.loc["stay", "handovers"] == rows.loc["go", "handovers"]


@pytest.mark.parametrize(("old", "new", "message"), [
    ("policies: [go]", "policies: [went]", 'migration.policies[0]: "went": undefined policy label'),
    ("policies: [go]}", ("policies: [go]}\nreplacements: [{service: detect, policies: [stay]}, "
                         "{service: detect, every: 1 min}]"),
     "replacements[1]: re-places service 'detect' for a policy"),
])
def test_policy_labels_are_checked(tmp_path, old, new, message):
    assert old in PAIRED
    found = errors(tmp_path, PAIRED.replace(old, new))
    assert any(message in line for line in found), found


def test_a_start_file_places_every_device_or_names_the_missing_ones(tmp_path):
    (tmp_path / "start.csv").write_text("time,device,x,y\n0,0,100,100\n0,1,900,400\n", encoding="utf-8")
    text = BASE.replace("count: 20", "count: 2").replace("step: 1 s}", "step: 1 s, start: start.csv}")
    scenario = load_scenario(write(tmp_path, text))
    assert scenario.mobility is not None
    assert scenario.mobility.groups[0].start_m.tolist() == [[100.0, 100.0], [900.0, 400.0]]
    found = errors(tmp_path, text.replace("count: 2", "count: 3"))
    assert any("mobility.start: \"start.csv\": has no row for devices 2 (every device needs a start)" in line
               for line in found), found
