"""The moving devices' outputs (:mod:`simulator.motion_log`): the distance to the serving replica over time, the
tracks, the latency against speed, and the files and figure ``simulate --out`` writes, on a deterministic trace
worked out by hand."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest
from click.testing import CliRunner

from offload.profiles import Device
from simulator.cli import main
from simulator.mobility import Area, Trace
from simulator.mobility.controller import Mobility
from simulator.mobility.spec import Cell, GroupMotion
from simulator.run import run
from simulator.workloads import Trace as TaskTrace
from simulator.world import AccessPoint, BackhaulLink, DeviceGroup, EdgeServer, World

#: one device along y = 50 m at 10 m/s from x = 0 at t = 0; cells a at x = 50 m and b at x = 150 m
WALK = Trace(np.array([0.0, 20.0]), np.array([0, 0]), np.array([[0.0, 50.0], [200.0, 50.0]]))


def walk_world() -> tuple[World, Mobility]:
    tasks = TaskTrace((0.5, 5.5, 12.5), (0, 0, 0), (1e6, 1e6, 1e6), (1e5, 1e5, 1e5), (0.0, 0.0, 0.0))
    group = DeviceGroup("walkers", 1, Device(speed_ops_per_s=1e9), tasks, "a")
    aps = (AccessPoint("a", 1e6, latency_s=0.002), AccessPoint("b", 1e6, latency_s=0.002))
    servers = (EdgeServer("ea", speed_ops_per_s=1e9, location="a"),
               EdgeServer("eb", speed_ops_per_s=1e9, location="b"))
    world = World(device_groups=(group,), access_points=aps, servers=servers,
                  links=(BackhaulLink("a", "b", latency_s=0.01),), policies=("always_edge",))
    spec = Mobility(Area(200.0, 100.0), (Cell("a", (50.0, 50.0)), Cell("b", (150.0, 50.0))),
                    (GroupMotion("walkers", WALK, step_s=1.0),))
    return world, spec


def test_distance_to_the_serving_replica_follows_the_hand_computation():
    world, spec = walk_world()
    result = run(world, duration_s=20.0, seed=1, mobility=spec)
    assert result.motion is not None
    series = result.motion.series
    steps = np.arange(1.0, 20.0)  # the step at the horizon is not run
    assert series["time_s"].tolist() == steps.tolist()
    # at x = 10 t the device is on cell a up to x = 100 m (a tie keeps the serving cell), then on b: its replica
    # is the nearest host of its cell, ea at (50, 50) or eb at (150, 50); one way 2 ms of radio link each way
    x = 10.0 * steps
    expected = np.where(x <= 100.0, np.abs(x - 50.0), np.abs(x - 150.0))
    np.testing.assert_allclose(series["replica_distance_m"], expected, atol=1e-9)
    np.testing.assert_allclose(series["replica_round_trip_s"], 0.004, rtol=1e-12)
    tracks = result.motion.tracks
    np.testing.assert_allclose(tracks[["x_m", "y_m"]], np.column_stack([x, np.full(x.size, 50.0)]), atol=1e-9)
    assert result.motion.cells[["access_point", "x_m", "y_m"]].values.tolist() == [["a", 50.0, 50.0],
                                                                                   ["b", 150.0, 50.0]]


def test_latency_against_speed_bins_each_task_by_its_device_speed():
    world, spec = walk_world()
    result = run(world, duration_s=20.0, seed=1, mobility=spec)
    assert result.motion is not None
    by_speed = result.latency_by_speed()
    # speed 10 m/s at every step: one bin, the top one of five from 0 to 10 m/s; the task at 0.5 s comes before
    # the first step (no speed yet); the others upload 0.1 Mbit at 1 Mbps (0.1 s), 2 ms radio latency each way,
    # 1 ms of compute; the one at 12.5 s is on cell b and served by eb
    assert by_speed[["policy", "group", "tasks"]].values.tolist() == [["always_edge", "walkers", 2]]
    assert by_speed[["speed_lo_mps", "speed_hi_mps"]].values.tolist() == [[pytest.approx(8.0), pytest.approx(10.0)]]
    assert by_speed["mean_latency_s"].iloc[0] == pytest.approx(0.1 + 0.002 + 0.001 + 0.002)
    summary = result.to_json_dict()["policies"]["always_edge"]
    assert [row["time_s"] for row in summary["mobility_series"]] == list(range(1, 20))
    assert summary["latency_by_speed"][0]["tasks"] == 2


SCENARIO = """\
name: walkers
run: {duration: 30 s, seed: 3}
area: {width: 1 km, height: 500 m}
services: [{name: detect, work: 1G, input: 200 kB, hosts: [ea, eb]}]
access_points:
  - {name: a, uplink: 20 Mbps, position: [250, 250], range: 400 m}
  - {name: b, uplink: 20 Mbps, position: [750, 250], range: 400 m}
nodes:
  - {name: ea, speed: 10 GHz, location: a}
  - {name: eb, speed: 10 GHz, location: b}
links: [{between: [a, b], latency: 5 ms}]
devices:
  - {name: phones, count: 20, access_point: a, profile: {speed: 1 GHz}, workload: 1/s,
     mobility: {model: random_waypoint, speed: [5 m/s, 20 m/s], step: 1 s}}
policies: [always_edge]
"""


def test_simulate_out_writes_the_mobility_tables_and_the_track_figure(tmp_path):
    path = tmp_path / "walkers.yaml"
    path.write_text(textwrap.dedent(SCENARIO), encoding="utf-8")
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["simulate", str(path), "--quiet", "--out", str(out)])
    assert result.exit_code == 0, result.output
    for stem in ("mobility", "mobility_series", "tracks", "latency_by_speed", "cells"):
        assert any((out / f"{stem}.{suffix}").is_file() for suffix in ("parquet", "csv")), stem
    assert (out / "figures" / "tracks.png").stat().st_size > 0
    summary = json.loads((out / "summary.json").read_text())["policies"]["always_edge"]
    assert len(summary["mobility_series"]) == 29
    assert sum(row["tasks"] for row in summary["latency_by_speed"]) > 400


def test_every_policy_of_a_scenario_keeps_its_motion_tables(tmp_path):
    # simulate runs each policy separately and merges the results: the motion tables of both must survive
    path = tmp_path / "walkers.yaml"
    both = textwrap.dedent(SCENARIO).replace("policies: [always_edge]", "policies: [always_edge, always_local]")
    path.write_text(both, encoding="utf-8")
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["simulate", str(path), "--quiet", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "figures" / "tracks.png").stat().st_size > 0
    policies = json.loads((out / "summary.json").read_text())["policies"]
    for name in ("always_edge", "always_local"):
        assert len(policies[name]["mobility_series"]) == 29, name
        assert sum(row["tasks"] for row in policies[name]["latency_by_speed"]) > 400, name


def test_streaming_keeps_the_mobility_table_but_no_per_step_logs():
    # streaming promises memory that does not grow with the horizon: no records, and no motion logs either; the
    # devices move exactly as when logging (same handovers, distances, latencies)
    world, spec = walk_world()
    logged = run(world, duration_s=20.0, seed=1, mobility=spec)
    streamed = run(world, duration_s=20.0, seed=1, mobility=spec, streaming=True)
    assert streamed.motion is None
    assert streamed.records.empty
    assert logged.mobility is not None
    assert streamed.mobility is not None
    assert streamed.mobility.equals(logged.mobility)
    assert logged.mobility["handovers"].tolist() == [1]  # the walk crosses from a to b once
    assert streamed.policies["always_edge"].latency_s.mean_s == logged.policies["always_edge"].latency_s.mean_s
