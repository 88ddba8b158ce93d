"""Scenario keys for batteries with energy harvesting, radio profiles and the ``lyapunov`` policy: conversion to SI
against hand computation, located errors, and the bundled ``harvesting-sensor`` scenario."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from simulator.cli import main
from simulator.cli.output import parquet_available
from simulator.distributions import Constant, Exponential, Uniform
from simulator.scenario import ScenarioError, load_scenario, simulate

BASE = """\
name: sensor
run:
  duration: 1 s
  seed: 3
services:
  - name: sense
    work: 737.5 kcycles
    input: 1000 bit
    deadline: 2 ms
profiles:
  - name: node
    speed: 1.5 GHz
    compute_power: 0.3 W
    battery:
      capacity: 10 mJ
      initial: 1 mJ
      slot: 2 ms
      harvest: {model: uniform, max: 48 uJ}
access_points:
  - {name: cell, uplink: 5 Mbps, downlink: 20 Mbps, shared: false}
nodes:
  - {name: mec, compute_time: 0 s, location: cell}
devices:
  - name: device
    profile: node
    access_point: cell
    workload: {kind: periodic, fps: 500/s, fraction: 0.6}
policies:
  - {name: lyapunov, params: {v: 1e-5}}
  - always_local
"""


def _load(tmp_path: Path, text: str):
    path = tmp_path / "sensor.yaml"
    path.write_text(text, encoding="utf-8")
    return load_scenario(path)


def test_battery_and_harvest_keys_convert_to_si(tmp_path: Path) -> None:
    battery = _load(tmp_path, BASE).world.device_groups[0].battery
    assert (battery.capacity_j, battery.initial_j, battery.slot_s) == (pytest.approx(0.01), pytest.approx(1e-3),
                                                                        pytest.approx(2e-3))
    assert isinstance(battery.harvest_j, Uniform)
    assert (battery.harvest_j.low, battery.harvest_j.high) == (0.0, pytest.approx(48e-6))
    other = BASE.replace("{model: uniform, max: 48 uJ}", "{model: exponential, mean: 24 uJ}")
    harvest = _load(tmp_path, other).world.device_groups[0].battery.harvest_j
    assert isinstance(harvest, Exponential)
    assert harvest.mean == pytest.approx(24e-6)
    constant = BASE.replace("{model: uniform, max: 48 uJ}", "{model: constant, power: 12 mW}")
    harvest = _load(tmp_path, constant).world.device_groups[0].battery.harvest_j
    assert isinstance(harvest, Constant)
    assert harvest.value == pytest.approx(12e-3 * 2e-3)  # 12 mW over a 2 ms slot


def test_a_radio_profile_prices_the_access_points_throughputs(tmp_path: Path) -> None:
    text = BASE.replace("    compute_power: 0.3 W\n", "    compute_power: 0.3 W\n    radio: lte\n")
    device = _load(tmp_path, text).world.device_groups[0].device
    # Huang et al. 2012, LTE: 438.39 mW/Mbps up, 51.97 mW/Mbps down, 1288.04 mW base; 260.1 ms promotion at
    # 1210.7 mW, 11576 ms tail at 1060 mW
    assert device.tx_power_w == pytest.approx((438.39 * 5 + 1288.04) / 1000)
    assert device.rx_power_w == pytest.approx((51.97 * 20 + 1288.04) / 1000)
    assert device.tail_energy_j == pytest.approx((1210.7 * 260.1 + 1060.0 * 11576.0) / 1e6)


def test_the_run_reports_battery_levels_and_battery_drops(tmp_path: Path) -> None:
    result = simulate(_load(tmp_path, BASE))
    assert set(result.battery["policy"]) == {"lyapunov", "always_local"}
    assert result.battery["battery_j"].between(0.0, 0.01).all()
    summary = result.to_json_dict()["policies"]
    assert summary["lyapunov"]["battery_j"] == pytest.approx(
        result.battery.loc[result.battery["policy"] == "lyapunov", "battery_j"].mean(), rel=1e-12)
    local = result.records[result.records["policy"] == "always_local"]
    # 0.3 W for 0.49 ms is 147 uJ a task, about six slots of harvest: most tasks find the battery empty
    assert (local["drop_reason"] == "battery_empty").mean() > 0.5
    lodco = result.records[result.records["policy"] == "lyapunov"]
    assert set(lodco["drop_reason"].astype(str)) <= {"", "policy_drop"}


BATTERY = BASE[BASE.index("    battery:"):BASE.index("access_points:")]
ERRORS = [
    ("    compute_power: 0.3 W\n", "    compute_power: 0.3 W\n    radio: lte\n    tx_power: 1 W\n",
     r"sensor\.yaml:15: profiles\[0\]\.tx_power: 1\.0: is set by radio 'lte'"),
    ("    compute_power: 0.3 W\n", "    compute_power: 0.3 W\n    radio: 5g\n",
     r"sensor\.yaml:14: profiles\[0\]\.radio: \"5g\""),
    ("      initial: 1 mJ", "      initial: 20 mJ",
     r"sensor\.yaml:16: profiles\[0\]\.battery\.initial: 0\.02: must be <= battery\.capacity \(0\.01 J\)"),
    ("      capacity: 10 mJ", "      capacity: 0 J",
     r"sensor\.yaml:15: profiles\[0\]\.battery\.capacity: \"0 J\": must be > 0"),
    ("{model: uniform, max: 48 uJ}", "{model: solar, max: 48 uJ}",
     r"sensor\.yaml:18: profiles\[0\]\.battery\.harvest\.model: \"solar\": unknown kind"),
    ("{model: uniform, max: 48 uJ}", "{model: uniform, max: 48 uW}",
     r"sensor\.yaml:18: profiles\[0\]\.battery\.harvest\.max: \"48 uW\": 'uW' is a power, expected an energy"),
    ("    deadline: 2 ms", "    deadline: 5 ms",
     r"sensor\.yaml:\d+: devices\[0\]\.service: .*deadline <= the battery slot \(0\.002 s\)"),
    (BATTERY, "",
     r"sensor\.yaml:\d+: devices\[0\]\.profile: policy 'lyapunov' needs a battery"),
    ("params: {v: 1e-5}", "params: {v: -1}", r"policies\[0\]\.params: invalid for policy 'lyapunov': must be finite"),
    ("params: {v: 1e-5}", "params: {v: 1e-5, noise: 1 J}", r"policies\[0\]\.params: invalid for policy 'lyapunov'"),
]


@pytest.mark.parametrize(("old", "new", "message"), ERRORS)
def test_bad_keys_are_located(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in BASE
    with pytest.raises(ScenarioError) as raised:
        _load(tmp_path, BASE.replace(old, new, 1))
    assert re.search(message, str(raised.value)), str(raised.value)


def test_the_bundled_harvesting_sensor_cites_the_paper_and_runs() -> None:
    scenario = load_scenario("harvesting-sensor", ("run.duration=1s", "run.replications=1"))
    group = scenario.world.device_groups[0]
    assert group.battery.slot_s == pytest.approx(2e-3)
    assert group.deadline_s == pytest.approx(2e-3)
    assert group.battery.harvest_j.high == pytest.approx(48e-6)
    result = simulate(scenario)
    assert {"lodco-v1e-5", "lodco-v1e-4", "full-speed-local"} == set(result.policies)
    assert all(summary.battery_j is not None for summary in result.policies.values())


def test_simulate_out_writes_the_battery_levels(tmp_path: Path) -> None:
    scenario = tmp_path / "sensor.yaml"
    scenario.write_text(BASE.replace("  duration: 1 s", "  duration: 200 ms"), encoding="utf-8")
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["simulate", str(scenario), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    name = "battery.parquet" if parquet_available() else "battery.csv"
    table = pd.read_parquet(out / name) if name.endswith("parquet") else pd.read_csv(out / name)
    assert list(table.columns) == ["policy", "replication", "time_s", "device", "battery_j"]
    assert table["battery_j"].between(0.0, 0.01).all()
