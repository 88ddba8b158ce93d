"""The run budget (issue 11): expected events and record memory against hand-computed numbers; refusals located;
moving devices' steps and motion logs counted (issue 13)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from simulator.cli import main
from simulator.scenario import ScenarioError, bundled_scenarios, load_scenario
from simulator.scenario.budget import (
    DEFAULT_MAX_EVENTS,
    MOTION_BYTES_PER_STEP,
    RECORD_BYTES_PER_TASK,
    available_memory_bytes,
    check_budget,
    expected_samples,
    expected_steps,
    expected_tasks,
)

# Two groups: 3 devices at 2/s and 5 devices at 0.5/s (8.5 tasks/s in all), three policies.
SCENARIO = """\
name: budget
run:
  duration: 1000 s
  replications: 4
{extra}services:
  - {{name: job, work: 1G}}
profiles:
  - {{name: phone, speed: 1 GHz}}
access_points:
  - {{name: ap, uplink: 1 Gbps, downlink: 1 Gbps}}
nodes:
  - {{name: server, speed: 10G, location: ap}}
devices:
  - {{name: a, count: 3, profile: phone, access_point: ap, workload: {{kind: poisson, rate: 2/s}}}}
  - {{name: b, count: 5, profile: phone, access_point: ap, workload: {{kind: poisson, rate: 0.5/s}}}}
policies: [always_local, always_edge, {{name: always_edge, label: edge2}}]
"""
RATE_PER_S = 3 * 2.0 + 5 * 0.5
POLICIES = 3


def _write(tmp_path: Path, extra: str = "", template: str = SCENARIO) -> Path:
    """``template`` (a scenario with an ``{extra}`` slot for run keys) with ``extra``, written in ``tmp_path``."""
    path = tmp_path / "budget.yaml"
    path.write_text(template.format(extra=extra), encoding="utf-8")
    return path


def test_estimates_match_hand_computation(tmp_path: Path) -> None:
    budget = load_scenario(_write(tmp_path)).budget
    assert budget.tasks_per_s == pytest.approx(RATE_PER_S)
    assert budget.policies == POLICIES
    assert expected_tasks(budget, 1000.0, 4) == pytest.approx(RATE_PER_S * 1000 * 4 * POLICIES)  # 102,000
    assert expected_samples(budget, 1000.0, 4) == pytest.approx(200 * 4 * POLICIES)
    sampled = load_scenario(_write(tmp_path, "  sample_interval: 10 ms\n")).budget
    assert expected_samples(sampled, 1000.0, 4) == pytest.approx(1000 / 0.01 * 4 * POLICIES)


def test_event_limit_is_exact_and_names_the_line(tmp_path: Path) -> None:
    events = RATE_PER_S * 1000 * 4 * POLICIES + 200 * 4 * POLICIES  # 102,000 + 2,400
    at_limit = load_scenario(_write(tmp_path, f"  max_events: {math.ceil(events)}\n"))
    check_budget(at_limit.budget, 1000.0, 4, None)
    below = load_scenario(_write(tmp_path, f"  max_events: {math.floor(events) - 1}\n"))
    with pytest.raises(ScenarioError) as caught:
        check_budget(below.budget, 1000.0, 4, None)
    (issue,) = caught.value.issues
    assert (issue.line, issue.path) == (5, ("run", "max_events"))
    assert f"{events:.3g} events" in issue.rule
    assert "run.max_events" in issue.rule


def test_default_limit_points_at_duration_or_sample_interval(tmp_path: Path) -> None:
    scenario = load_scenario(_write(tmp_path))
    too_long_s = DEFAULT_MAX_EVENTS / (RATE_PER_S * POLICIES) * 1.01
    with pytest.raises(ScenarioError) as caught:
        check_budget(scenario.budget, too_long_s, 1, None)
    assert (caught.value.issues[0].line, caught.value.issues[0].path) == (3, ("run", "duration"))
    fine = load_scenario(_write(tmp_path, "  sample_interval: 1 ns\n"))
    with pytest.raises(ScenarioError) as caught:
        check_budget(fine.budget, 1000.0, 4, None)
    assert (caught.value.issues[0].line, caught.value.issues[0].path) == (5, ("run", "sample_interval"))


def test_memory_limit_against_available_and_max_memory(tmp_path: Path) -> None:
    scenario = load_scenario(_write(tmp_path))
    need_bytes = RATE_PER_S * 1000 * 4 * POLICIES * RECORD_BYTES_PER_TASK  # 18.768 MB
    check_budget(scenario.budget, 1000.0, 4, math.ceil(need_bytes))
    with pytest.raises(ScenarioError) as caught:
        check_budget(scenario.budget, 1000.0, 4, math.floor(need_bytes) - 1)
    assert "memory available" in caught.value.issues[0].rule
    assert "run.max_memory" in caught.value.issues[0].rule
    capped = load_scenario(_write(tmp_path, "  max_memory: 18 MB\n"))
    with pytest.raises(ScenarioError) as caught:
        check_budget(capped.budget, 1000.0, 4, 10**12)
    assert (caught.value.issues[0].line, caught.value.issues[0].path) == (5, ("run", "max_memory"))
    raised = load_scenario(_write(tmp_path, "  max_memory: 19 MB\n"))
    check_budget(raised.budget, 1000.0, 4, 1)  # an explicit limit replaces the available memory


def test_available_memory_reads_meminfo(tmp_path: Path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal: 100 kB\nMemAvailable:    2048 kB\n", encoding="ascii")
    assert available_memory_bytes(meminfo) == 2048 * 1024
    assert available_memory_bytes(tmp_path / "missing") is None


@pytest.mark.parametrize("name", [name for name, _ in bundled_scenarios()])
def test_bundled_scenarios_fit_the_default_budget(name: str) -> None:
    try:
        scenario = load_scenario(name)
    except ScenarioError:
        pytest.skip("a placement problem, not a simulation")
    check_budget(scenario.budget, scenario.run.duration_s, scenario.run.replications, None)


@pytest.mark.parametrize("command", [["validate"], ["simulate", "--quiet"]])
def test_cli_refuses_over_budget_with_one_located_line(tmp_path: Path, command: list[str]) -> None:
    path = _write(tmp_path, "  max_events: 1000\n")
    assert f"{path}:5: run.max_events:" in _refusal(command, path)


def _refusal(command: list[str], path: Path) -> str:
    """The one line a refused command prints (exit 2)."""
    result = CliRunner().invoke(main, [*command, str(path)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    return lines[0]


def test_simulate_counts_its_duration_and_replications_options(tmp_path: Path) -> None:
    path = _write(tmp_path, "  max_events: 200000\n")  # the file's own run (104,400 events) fits
    assert CliRunner().invoke(main, ["validate", str(path)]).exit_code == 0
    result = CliRunner().invoke(main, ["simulate", str(path), "--quiet", "--replications", "8"])
    assert result.exit_code == 2
    assert f"{RATE_PER_S * 1000 * 8 * POLICIES:.3g} tasks" in result.stderr


def test_the_python_api_refuses_over_budget_before_running(tmp_path: Path) -> None:
    from simulator.scenario import simulate

    scenario = load_scenario(_write(tmp_path, "  max_events: 1000\n"))
    with pytest.raises(ScenarioError) as caught:
        simulate(scenario)
    (issue,) = caught.value.issues
    assert (issue.line, issue.path) == (5, ("run", "max_events"))
    expected_events = RATE_PER_S * 1000 * 4 * POLICIES + 200 * 4 * POLICIES
    assert f"{expected_events:.3g} events" in issue.rule
    with pytest.raises(ScenarioError, match=f"{RATE_PER_S * 10 * 2 * POLICIES:.3g} tasks"):
        simulate(scenario, duration_s=10.0, replications=2)  # 510 tasks + 1,200 samples: over 1,000


def test_each_sweep_point_is_budgeted_before_the_sweep_starts(tmp_path: Path) -> None:
    # one run of a sweep is one replication: 8.5/s x 1000 s x 3 policies + 200 x 3 samples = 26,100 events;
    # a point with group a at 200/s has 3 x 200 + 2.5 = 602.5/s: 1,807,500 + 600 events
    path = _write(tmp_path, "  max_events: 200000\n")  # the base (4 replications: 104,400 events) fits
    text = path.read_text(encoding="utf-8") + "sweep:\n  grid:\n    devices[a].workload.rate: [2/s, 200/s]\n"
    path.write_text(text, encoding="utf-8")
    sweep_line = len(text.splitlines())
    out = tmp_path / "sweep"
    for command in (["validate", str(path)], ["sweep", str(path), "--out", str(out), "--quiet"]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 2, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, lines
        assert lines[0].startswith(f"mecsim: error: {path}:{sweep_line}: run.max_events: the run would process "
                                   f"about {(3 * 200 + 2.5) * 1000 * POLICIES + 200 * POLICIES:.3g} events")
        assert lines[0].endswith("(at sweep point devices[a].workload.rate=200/s)")
    assert not out.exists()  # refused before anything ran


# 1,000 walkers stepping every 0.5 s and 10 drivers every 2 s (2,005 device steps/s), a trickle of tasks, one policy.
MOVING = """\
name: moving
run:
  duration: 1 h
{extra}area: {{width: 1 km, height: 500 m}}
services:
  - {{name: job, work: 1G}}
profiles:
  - {{name: phone, speed: 1 GHz}}
access_points:
  - {{name: a, uplink: 20 Mbps, position: [250, 250]}}
  - {{name: b, uplink: 20 Mbps, position: [750, 250]}}
nodes:
  - {{name: server, speed: 10G, location: a}}
links: [{{between: [a, b], latency: 5 ms}}]
devices:
  - {{name: walkers, count: 1000, profile: phone, access_point: a, workload: {{kind: poisson, rate: 0.001/s}},
     mobility: {{model: random_waypoint, speed: [1 m/s, 2 m/s], step: 0.5 s}}}}
  - {{name: drivers, count: 10, profile: phone, access_point: b, workload: {{kind: poisson, rate: 0.001/s}},
     mobility: {{model: random_waypoint, speed: [5 m/s, 15 m/s], step: 2 s}}}}
policies: [always_edge]
"""
STEPS_PER_S = 1000 / 0.5 + 10 / 2.0
MOVING_TASKS_PER_S = 1010 * 0.001


def _moving(tmp_path: Path, extra: str = "") -> Path:
    return _write(tmp_path, extra, MOVING)


def test_mobility_steps_are_events_and_their_logs_memory(tmp_path: Path) -> None:
    budget = load_scenario(_moving(tmp_path)).budget
    assert budget.steps_per_s == pytest.approx(STEPS_PER_S)
    assert expected_steps(budget, 3600.0, 2) == pytest.approx(STEPS_PER_S * 3600 * 2)  # 14.436 M
    events = MOVING_TASKS_PER_S * 3600 * 2 + 200 * 2 + STEPS_PER_S * 3600 * 2
    check_budget(load_scenario(_moving(tmp_path, f"  max_events: {math.ceil(events)}\n")).budget, 3600.0, 2, None)
    with pytest.raises(ScenarioError) as caught:
        check_budget(load_scenario(_moving(tmp_path, f"  max_events: {math.floor(events) - 1}\n")).budget, 3600.0,
                     2, None)
    assert f"{STEPS_PER_S * 3600 * 2:.3g} mobility steps" in caught.value.issues[0].rule
    need_bytes = MOVING_TASKS_PER_S * 3600 * 2 * RECORD_BYTES_PER_TASK + STEPS_PER_S * 3600 * 2 * MOTION_BYTES_PER_STEP
    check_budget(budget, 3600.0, 2, math.ceil(need_bytes))
    with pytest.raises(ScenarioError) as caught:
        check_budget(budget, 3600.0, 2, math.floor(need_bytes) - 1)
    assert "motion logs" in caught.value.issues[0].rule


@pytest.mark.parametrize("command", [["validate"], ["simulate", "--quiet"]])
def test_cli_refuses_motion_logs_over_max_memory(tmp_path: Path, command: list[str]) -> None:
    # one hour: 7.218 M device steps × MOTION_BYTES_PER_STEP (~0.25 GB) over a 100 MB limit; the tasks' records
    # (3,636 × 184 B, 0.67 MB) alone would fit
    path = _moving(tmp_path, "  max_memory: 100 MB\n")
    line = _refusal(command, path)
    assert f"{path}:4: run.max_memory:" in line
    steps = STEPS_PER_S * 3600
    assert f"{steps:.3g} mobility steps" in line
    assert f"× {MOTION_BYTES_PER_STEP} B" in line
    assert f"{steps * MOTION_BYTES_PER_STEP / 1e9:.3g} GB" in line


def test_a_small_moving_run_fits(tmp_path: Path) -> None:
    path = _moving(tmp_path, "  max_memory: 100 MB\n")
    assert CliRunner().invoke(main, ["validate", str(path), "--set", "run.duration=60s"]).exit_code == 0
    result = CliRunner().invoke(main, ["simulate", str(path), "--quiet", "--set", "run.duration=20s"])
    assert result.exit_code == 0, result.output
