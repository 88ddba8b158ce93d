"""Sweep figures: confidence intervals against hand-computed Student-t values; render_sweep_figures on a real
sweep directory written by :func:`simulator.sweep.run_sweep`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from offload.errors import ParameterError
from simulator.plots import is_sweep_dir, render_sweep_figures, summarise_sweep, sweep_metric_plot
from simulator.sweep import InlineBackend, ResolvedPoint, SweepSpec, plan_runs, run_sweep

T_975_DF2 = 4.302652729911275  # Student t quantile, 97.5 %, 2 degrees of freedom (statistical tables)


def _results() -> pd.DataFrame:
    frame = pd.DataFrame({
        "status": "ok", "cameras": [10, 10, 10, 20, 20, 20, 10],
        "policy": ["edge", "edge", "edge", "edge", "edge", "edge", "local"],
        "latency_s.mean": [1.0, 2.0, 3.0, 5.0, 5.0, 5.0, 13.0],
    })
    frame.attrs["parameters"] = ["cameras"]
    return frame


def test_summarise_sweep_student_t_interval() -> None:
    summary = summarise_sweep(_results(), "cameras", "latency_s.mean")
    edge10 = summary[(summary.policy == "edge") & (summary.cameras == 10)].iloc[0]
    assert edge10["n"] == 3
    assert edge10["mean"] == pytest.approx(2.0)
    # sample sd of 1, 2, 3 is 1; half-width t * s / sqrt(n)
    assert edge10["ci_high"] - edge10["mean"] == pytest.approx(T_975_DF2 / np.sqrt(3), rel=1e-9)
    edge20 = summary[(summary.policy == "edge") & (summary.cameras == 20)].iloc[0]
    assert (edge20["ci_low"], edge20["ci_high"]) == (5.0, 5.0)
    local = summary[summary.policy == "local"].iloc[0]
    assert (local["n"], local["ci_low"], local["ci_high"]) == (1, 13.0, 13.0)


def test_summarise_sweep_keeps_other_parameters_apart() -> None:
    frame = _results().assign(uplink_bps=[1e6, 1e6, 2e6, 1e6, 1e6, 2e6, 1e6])
    frame.attrs["parameters"] = ["cameras", "uplink_bps"]
    summary = summarise_sweep(frame, "cameras", "latency_s.mean")
    assert set(summary.series) == {"edge, uplink_bps=1000000.0", "edge, uplink_bps=2000000.0",
                                   "local, uplink_bps=1000000.0"}


def test_sweep_metric_plot_lines_and_bands() -> None:
    summary = summarise_sweep(_results(), "cameras", "latency_s.mean")
    ax = sweep_metric_plot(summary, "cameras", metric_label="mean latency [s]").axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["edge", "local"]
    np.testing.assert_allclose(np.asarray(ax.get_lines()[0].get_ydata(), dtype=float), [2.0, 5.0])
    assert len(ax.collections) == 2
    assert ax.get_ylabel() == "mean latency [s]"
    # edge at 10 cameras: 2 - t(0.975, 2) / sqrt(3) < 0, and a latency is never negative: the band stops at 0
    band = ax.collections[0].get_paths()[0].vertices
    assert band[:, 1].min() == pytest.approx(0.0)
    assert band[:, 1].max() == pytest.approx(5.0)


def test_summarise_sweep_needs_the_metric() -> None:
    with pytest.raises(ParameterError, match="energy_j_per_task"):
        summarise_sweep(_results(), "cameras", "energy_j_per_task")


BASE: dict[str, Any] = {"run": {"seed": 3, "replications": 2}, "cameras": 1}


def _toy_run(scenario: Mapping[str, Any], seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    cameras = scenario["cameras"]
    return {"policies": {
        policy: {"latency_s": {"mean": factor * cameras + rng.normal(0, 0.1), "p95": 2 * factor * cameras},
                 "energy_j_per_task": 1.0 / factor, "utilisation": {"edge": min(1.0, 0.01 * cameras)}}
        for policy, factor in (("local", 1.0), ("edge", 0.1))
    }}


def _resolve(point: Mapping[str, Any]) -> ResolvedPoint:
    data = json.loads(json.dumps(BASE))
    data.update(point)  # top-level keys only in this toy scenario
    return ResolvedPoint(scenario=data, base_seed=data["run"]["seed"], replications=data["run"]["replications"],
                         params=dict(point))


def write_sweep(directory: Path) -> None:
    spec = SweepSpec(grid=(("cameras", (1, 10, 100)),), replications=3)
    run_sweep(plan_runs(spec, _resolve), _toy_run, directory, backend=InlineBackend(), progress=False)


def test_render_sweep_figures_from_a_sweep_dir(tmp_path: Path) -> None:
    write_sweep(tmp_path)
    assert is_sweep_dir(tmp_path)
    written = render_sweep_figures(tmp_path)
    assert sorted(p.name for p in written) == [
        "sweep_energy_j_per_task_vs_cameras.png", "sweep_latency_s_mean_vs_cameras.png",
        "sweep_latency_s_p95_vs_cameras.png", "sweep_utilisation_edge_vs_cameras.png"]
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in written)


@pytest.mark.parametrize(("path", "unit", "label"), [
    ("devices[0].workload.rate", "1/s", "rate [1/s] · devices[0].workload"),
    ("access_points[0].uplink", "bit/s", "uplink [bit/s] · access_points[0]"),
    ("services[0].deadline", "s", "deadline [s] · services[0]"),
    ("services[0].work", "ops", "work [ops] · services[0]"),
    ("nodes[0].speed", "ops/s", "speed [ops/s] · nodes[0]"),
    ("devices[0].count", None, "count · devices[0]"),
])
def test_sweep_parameter_unit_comes_from_the_schema(path: str, unit: str | None, label: str) -> None:
    from simulator.plots.labels import path_label, path_unit

    assert path_unit(path) == unit
    assert path_label(path, unit) == label


def test_sweep_metric_plot_scales_the_parameter_axis() -> None:
    from simulator.plots.labels import scale

    summary = summarise_sweep(_results().assign(cameras=lambda f: f.cameras * 1e6), "cameras", "latency_s.mean")
    factor, unit = scale(2e7, "bit/s")
    assert (factor, unit) == (1e6, "Mbit/s")
    ax = sweep_metric_plot(summary, "cameras", metric_label="mean latency [s]", parameter_label=f"uplink [{unit}]",
                           x_scale=factor, log_y=True).axes[0]
    np.testing.assert_allclose(np.asarray(ax.get_lines()[0].get_xdata(), dtype=float), [10.0, 20.0])
    assert ax.get_xlabel() == "uplink [Mbit/s]"
    assert ax.get_yscale() == "log"


def test_metrics_with_one_value_throughout_are_not_drawn() -> None:
    from simulator.plots.sweep import varying_metrics

    frame = _results().assign(offload_fraction=1.0, deadline_miss_rate=[0.0] * 6 + [0.5])
    frame.attrs["metrics"] = ["latency_s.mean", "offload_fraction", "deadline_miss_rate"]
    assert list(varying_metrics(frame)) == ["latency_s.mean", "deadline_miss_rate"]


def test_sweep_theory_rebuilds_each_point_of_a_textbook_queue() -> None:
    from simulator.plots.sweep import sweep_theory
    from simulator.scenario import load_scenario

    rate = "devices[0].workload.rate"
    results = pd.DataFrame({rate: [4.0, 4.0, 8.0, 12.0], "policy": "edge"})
    results.attrs["parameters"] = [rate]
    theory = sweep_theory(load_scenario("mm1").resolved, results, rate)
    assert theory is not None
    label, means = theory
    assert label == "M/M/1 theory (mean)"
    # M/M/1 mean time in system 1 / (mu - lambda) with mu = 10/s; unstable at 12/s
    np.testing.assert_allclose(means.loc[[4.0, 8.0]].to_numpy(), [1 / 6, 1 / 2])
    assert np.isnan(means.loc[12.0])
    assert sweep_theory(load_scenario("license-plate").resolved, results, rate) is None
    assert sweep_theory(None, results, rate) is None
    ax = sweep_metric_plot(summarise_sweep(results.assign(**{"latency_s.mean": 0.2}), rate, "latency_s.mean"), rate,
                           metric_label="mean latency [s]", theory=theory).axes[0]
    (line,) = [line for line in ax.get_lines() if line.get_label() == label]
    np.testing.assert_allclose(np.asarray(line.get_ydata(), dtype=float)[:2], [1 / 6, 1 / 2])
