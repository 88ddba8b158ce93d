"""Sweep specification: paths, points of grid/zip/random blocks, the sweep section schema, seeds and run keys."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from offload.errors import MecsimError, ParameterError
from simulator.scenario import parse_path, set_path
from simulator.sweep import (
    DistributionKind,
    RandomBlock,
    ResolvedPoint,
    SweepDistribution,
    SweepSpec,
    grid_from_options,
    parse_sweep,
    plan_runs,
    replication_seeds,
    run_key,
)


def test_paths_use_the_scenario_override_syntax():
    spec = SweepSpec(grid=(("devices[0].count", (1,)), ("devices[cameras].workload.rate", (2,))))
    assert spec.paths == ("devices[0].count", "devices[cameras].workload.rate")


@pytest.mark.parametrize("path", ["", "a..b", ".a", "a."])
def test_malformed_paths_are_rejected_naming_the_section(path):
    with pytest.raises(ParameterError, match=r"sweep\.grid=.*not a scenario path"):
        SweepSpec(grid=((path, (1,)),))


def test_grid_points_are_the_cartesian_product_grid_slowest():
    spec = SweepSpec(grid=(("a", (1, 2)), ("b", ("x", "y", "z"))))
    assert spec.points() == [{"a": a, "b": b} for a, b in itertools.product((1, 2), ("x", "y", "z"))]


def test_zip_walks_lists_together_and_crosses_the_grid():
    spec = SweepSpec(grid=(("g", (0, 1)),), zip=(("u", (1, 2, 3)), ("v", (10, 20, 30))))
    points = spec.points()
    assert len(points) == 6
    assert all(point["v"] == 10 * point["u"] for point in points)
    assert [point["g"] for point in points] == [0, 0, 0, 1, 1, 1]


def test_no_axis_means_one_point():
    assert SweepSpec().points() == [{}]


def test_random_block_draws_within_bounds_reproducibly():
    params = (("u", SweepDistribution(DistributionKind.UNIFORM, (2.0, 3.0))),
              ("l", SweepDistribution(DistributionKind.LOGUNIFORM, (1e3, 1e6))),
              ("i", SweepDistribution(DistributionKind.RANDINT, (1, 3))),
              ("c", SweepDistribution(DistributionKind.CHOICE, ("edge", "local"))))
    block = RandomBlock(samples=400, seed=5, params=params)
    points = block.points()
    assert points == RandomBlock(samples=400, seed=5, params=params).points()
    assert points != RandomBlock(samples=400, seed=6, params=params).points()
    assert all(2.0 <= p["u"] < 3.0 and 1e3 <= p["l"] < 1e6 and p["i"] in (1, 2, 3) for p in points)
    assert {p["i"] for p in points} == {1, 2, 3}  # inclusive upper bound
    assert {p["c"] for p in points} == {"edge", "local"}
    # log-uniform: log10 is uniform on [3, 6), mean 4.5 (std of the mean ~ 0.87/sqrt(400) = 0.043)
    assert abs(np.mean([math.log10(p["l"]) for p in points]) - 4.5) < 0.2


def test_spec_rejects_bad_shapes():
    with pytest.raises(ParameterError, match="same length"):
        SweepSpec(zip=(("a", (1, 2)), ("b", (1,))))
    with pytest.raises(ParameterError, match="swept only once"):
        SweepSpec(grid=(("a", (1,)),), zip=(("a", (2,)),))
    with pytest.raises(ParameterError, match="at least one value"):
        SweepSpec(grid=(("a", ()),))
    with pytest.raises(ParameterError, match="low must be > 0"):
        SweepDistribution(DistributionKind.LOGUNIFORM, (0.0, 1.0))
    with pytest.raises(ParameterError, match="low must be < high"):
        SweepDistribution(DistributionKind.UNIFORM, (2.0, 1.0))


def test_parse_sweep_section():
    spec = parse_sweep({
        "grid": {"devices[0].count": [10, 20], "rate": {"linspace": [1, 2, 3]}, "k": {"range": [1, 7, 2]},
                 "bw": {"logspace": [1e6, 1e8, 3]}},
        "zip": {"a": [1, 2], "b": ["x", "y"]},
        "random": {"samples": 4, "seed": 3, "params": {"p": {"uniform": [0, 1]}}},
        "replications": 2,
    })
    assert dict(spec.grid)["rate"] == (1.0, 1.5, 2.0)
    assert dict(spec.grid)["k"] == (1, 3, 5)
    assert dict(spec.grid)["bw"] == pytest.approx((1e6, 1e7, 1e8))
    assert spec.replications == 2
    assert len(spec.points()) == 2 * 3 * 3 * 3 * 2 * 4


def test_parse_sweep_reports_every_error_at_once():
    with pytest.raises(MecsimError, match=r"sweep\.gird: unknown key; did you mean 'grid'\?") as caught:
        parse_sweep({"gird": {"a": [1]}, "replications": 0})
    assert "sweep.replications: Input should be greater than or equal to 1" in str(caught.value)
    with pytest.raises(MecsimError, match=r"sweep\.random\.params\.p\.normal: unknown key"):
        parse_sweep({"random": {"samples": 2, "params": {"p": {"normal": [0, 1]}}}})
    with pytest.raises(MecsimError, match=r"sweep\.random\.params\.p: give exactly one of uniform"):
        parse_sweep({"random": {"samples": 2, "params": {"p": {}}}})
    with pytest.raises(MecsimError, match=r"sweep\.grid\.r: .*logspace bounds must be > 0"):
        parse_sweep({"grid": {"r": {"logspace": [0, 1, 3]}}})
    with pytest.raises(MecsimError, match=r"all lists must have the same length"):
        parse_sweep({"zip": {"a": [1, 2], "b": [1]}})
    with pytest.raises(MecsimError, match=r"sweep: sweep\.grid='a\.\.b': not a scenario path"):
        parse_sweep({"grid": {"a..b": [1]}})
    with pytest.raises(MecsimError, match=r"^<sweep>: sweep: a list: must be a mapping"):
        parse_sweep([1])


def test_parse_sweep_errors_carry_file_lines():
    lines = {("sweep",): 10, ("sweep", "grid"): 11, ("sweep", "grid", "devices[0].count"): 12}

    def line_of(path):
        return next(lines[path[:end]] for end in range(len(path), -1, -1) if path[:end] in lines)

    with pytest.raises(MecsimError, match=r"^city\.yaml:12: sweep\.grid\.devices\[0\]\.count: List should have"):
        parse_sweep({"grid": {"devices[0].count": []}}, source="city.yaml", line_of=line_of)


def test_grid_options_read_yaml_scalars():
    assert grid_from_options(["devices[0].count=10,20", "uplink=20 Mbps, 1e6"]) == (
        ("devices[0].count", (10, 20)), ("uplink", ("20 Mbps", 1e6)))
    with pytest.raises(ParameterError, match=r"--grid='count': expected path=v1,v2"):
        grid_from_options(["count"])


def test_replication_seeds_follow_seed_sequence_spawn():
    seeds = replication_seeds(42, 3)
    children = np.random.SeedSequence(42).spawn(3)
    assert seeds == [int(child.generate_state(1, dtype=np.uint64)[0]) >> 1 for child in children]
    assert len(set(seeds)) == 3
    assert all(0 <= seed < 2**63 for seed in seeds)
    assert replication_seeds(42, 5)[:3] == seeds  # more replications extend, never reshuffle


@given(st.dictionaries(st.text(min_size=1, max_size=5), st.integers() | st.floats(allow_nan=False) | st.text()),
       st.integers(0, 2**63 - 1))
def test_run_key_ignores_key_order_and_tracks_content(data, seed):
    reordered = dict(reversed(list(data.items())))
    assert run_key(data, seed) == run_key(reordered, seed)
    assert run_key(data, seed) != run_key(data, seed + 1)
    assert run_key(data, seed) != run_key({**data, "__extra__": 1}, seed)


def _resolver(point):
    data = {"run": {"seed": 7, "replications": 2}, "x": 0, "y": "a"}
    for path, value in point.items():
        set_path(data, parse_path(path), value)
    return ResolvedPoint(data, data["run"]["seed"], data["run"]["replications"], point)


def test_plan_runs_crosses_points_with_common_seeds():
    spec = SweepSpec(grid=(("x", (1, 2, 3)),))
    tasks = plan_runs(spec, _resolver)
    assert len(tasks) == 6
    assert len({task.key for task in tasks}) == 6
    seeds = replication_seeds(7, 2)
    assert [task.seed for task in tasks] == seeds * 3  # replication r uses the same seed at every point
    assert [task.replication for task in tasks] == [0, 1] * 3
    assert all(task.key == run_key(task.scenario, task.seed) for task in tasks)
    assert len(plan_runs(spec, _resolver, replications=4)) == 12
    assert len(plan_runs(SweepSpec(grid=(("x", (1, 2)),), replications=3), _resolver)) == 6


def test_plan_runs_plans_a_repeated_point_once(caplog):
    tasks = plan_runs(SweepSpec(grid=(("x", (1, 1, 2)),), replications=1), _resolver)
    assert [task.point for task in tasks] == [{"x": 1}, {"x": 2}]
    assert "repeats point" in caplog.text


def test_the_documented_example_section_parses():
    import yaml

    from simulator.sweep import schema

    text = schema.__doc__.split("Example::")[1].split("\n\nPaths use")[0]
    spec = parse_sweep(yaml.safe_load(text)["sweep"])
    assert len(spec.points()) == 3 * 2 * 4 * 3 * 16
    assert spec.replications == 5
