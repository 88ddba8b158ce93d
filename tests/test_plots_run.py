"""Run figures: latency CDF, energy per task, utilisation over time, and render_run_figures on a synthetic run dir."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.container import BarContainer

from offload.errors import ParameterError
from simulator.plots import energy_per_task, latency_cdf, render_run_figures, utilisation_over_time

POLICIES = ("local", "edge", "queue-aware")


def _data(values: object) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)


def synthetic_records(tasks_per_policy: int = 50, replications: int = 2) -> pd.DataFrame:
    """Records shaped like ``SimulationResult.records``; energies are constant per policy so means are known."""
    rng = np.random.default_rng(1)
    rows = []
    for p, policy in enumerate(POLICIES):
        for replication in range(replications):
            for _ in range(tasks_per_policy):
                offloaded = policy != "local"
                rows.append({
                    "policy": policy, "replication": replication, "latency_s": rng.exponential(0.1 * (p + 1)),
                    "energy_compute_j": 0.0 if offloaded else 8.0, "energy_tx_j": 0.5 if offloaded else 0.0,
                    "energy_rx_j": 0.1 if offloaded else 0.0, "energy_idle_j": 0.2 * p, "energy_tail_j": 0.3 * p,
                    "target": "edge0" if offloaded else "local", "offloaded": offloaded,
                })
    records = pd.DataFrame(rows)
    energy_columns = [c for c in records.columns if c.startswith("energy_")]
    records["energy_j"] = records[energy_columns].sum(axis=1)
    return records


def synthetic_timeseries(servers: int = 2) -> pd.DataFrame:
    rows = [
        {"policy": policy, "replication": replication, "time_s": float(t), "server": f"edge{s}",
         "utilisation": 0.1 * (s + 1), "queue_length": float(t % 3)}
        for policy in POLICIES for replication in range(2) for s in range(servers) for t in range(10)
    ]
    return pd.DataFrame(rows)


def test_latency_cdf_draws_one_ecdf_per_policy() -> None:
    records = synthetic_records()
    records.loc[0, "latency_s"] = np.nan  # a dropped task is left out
    ax = latency_cdf(records).axes[0]
    lines = ax.get_lines()
    assert [str(line.get_label()).split(" ")[0] for line in lines] == list(POLICIES)
    for line, policy in zip(lines, POLICIES, strict=True):
        expected = np.sort(records.loc[records.policy == policy, "latency_s"].dropna().to_numpy())
        np.testing.assert_allclose(_data(line.get_xdata()), expected)
        np.testing.assert_allclose(_data(line.get_ydata()), np.arange(1, expected.size + 1) / expected.size)
    assert ax.get_xscale() == "log"
    assert "latency" in ax.get_xlabel()


def test_latency_cdf_thins_large_runs_onto_the_exact_ecdf() -> None:
    latency_s = np.random.default_rng(5).lognormal(0.0, 1.0, 100_000)
    line = latency_cdf(pd.DataFrame({"policy": "edge", "latency_s": latency_s}), max_points=500).axes[0].get_lines()[0]
    x, y = _data(line.get_xdata()), _data(line.get_ydata())
    assert 2 <= x.size <= 500
    ranks = np.rint(y * latency_s.size).astype(int)  # each point is (x_(k), k / n) of the full ECDF
    np.testing.assert_array_equal(x, np.sort(latency_s)[ranks - 1])
    assert (ranks[0], ranks[-1]) == (1, latency_s.size)


def test_latency_cdf_names_a_policy_with_no_completed_task() -> None:
    records = pd.DataFrame({"policy": ["local", "local", "edge"], "latency_s": [np.nan, np.nan, 0.1]})
    ax = latency_cdf(records).axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["local (none completed)", "edge (n=1)"]


def test_latency_cdf_rejects_missing_column() -> None:
    with pytest.raises(ParameterError, match="latency_s"):
        latency_cdf(pd.DataFrame({"policy": ["a"]}))


def test_latency_cdf_rejects_empty_records() -> None:
    with pytest.raises(ParameterError, match="at least one row"):
        latency_cdf(pd.DataFrame({"policy": [], "latency_s": []}))


def test_energy_per_task_stacks_component_means() -> None:
    ax = energy_per_task(synthetic_records()).axes[0]
    containers = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert [c.get_label() for c in containers] == ["compute", "transmit", "receive", "idle (waiting)", "radio tail"]
    tops = np.zeros(len(POLICIES))
    for container in containers:
        tops += [patch.get_height() for patch in container.patches]
    # hand-computed totals: local 8 J; edge 0.5 + 0.1 + 0.2 + 0.3; queue-aware 0.5 + 0.1 + 0.4 + 0.6
    np.testing.assert_allclose(tops, [8.0, 1.1, 1.6])
    assert [t.get_text() for t in ax.get_xticklabels()] == list(POLICIES)


def test_energy_per_task_skips_absent_components() -> None:
    records = synthetic_records().drop(columns=["energy_rx_j", "energy_tail_j"])
    ax = energy_per_task(records).axes[0]
    assert [c.get_label() for c in ax.containers] == ["compute", "transmit", "idle (waiting)"]


def test_utilisation_over_time_one_line_per_server_when_few() -> None:
    figure = utilisation_over_time(synthetic_timeseries(servers=2))
    top, bottom = figure.axes
    assert [line.get_label() for line in top.get_lines()] == [
        f"{policy} · edge{s}" for policy in POLICIES for s in range(2)]
    np.testing.assert_allclose(_data(top.get_lines()[1].get_ydata()), 0.2)
    assert [line.get_linestyle() for line in top.get_lines()[:2]] == ["-", "--"]
    np.testing.assert_allclose(_data(bottom.get_lines()[0].get_ydata()), np.arange(10) % 3)
    assert bottom.get_xlabel() == "simulated time [s]"


def test_utilisation_over_time_mean_and_band_when_many() -> None:
    top, _ = utilisation_over_time(synthetic_timeseries(servers=6)).axes
    assert [line.get_label() for line in top.get_lines()] == [f"{policy} · mean of 6" for policy in POLICIES]
    # mean of 0.1, 0.2, ..., 0.6 is 0.35 at every instant; the band spans 0.1 .. 0.6
    np.testing.assert_allclose(_data(top.get_lines()[0].get_ydata()), 0.35)
    assert sum(isinstance(c, PolyCollection) for c in top.collections) == len(POLICIES)


def test_render_run_figures_writes_three_pngs(tmp_path: Path) -> None:
    synthetic_records().to_parquet(tmp_path / "records.parquet")
    synthetic_timeseries().to_csv(tmp_path / "timeseries.csv", index=False)
    written = render_run_figures(tmp_path)
    assert sorted(p.name for p in written) == ["energy_per_task.png", "latency_cdf.png", "utilisation.png"]
    for path in written:
        assert path.parent == tmp_path / "figures"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_render_run_figures_without_timeseries(tmp_path: Path) -> None:
    synthetic_records().to_csv(tmp_path / "records.csv", index=False)
    assert [p.name for p in render_run_figures(tmp_path)] == ["latency_cdf.png", "energy_per_task.png"]


def test_render_run_figures_needs_records(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match=r"records\.parquet or records\.csv"):
        render_run_figures(tmp_path)


def test_energy_per_task_averages_completed_tasks_only() -> None:
    records = synthetic_records().assign(dropped=False, in_flight=False)
    skipped = records.iloc[:30].assign(dropped=True, energy_compute_j=0.0)  # frames skipped before any work
    records = pd.concat([records, skipped], ignore_index=True)
    records["policy"] = records["policy"].astype("category")
    ax = energy_per_task(records).axes[0]
    np.testing.assert_allclose(sum(np.array([p.get_height() for p in c.patches]) for c in ax.containers),
                               [8.0, 1.1, 1.6])
    assert ax.get_ylabel() == "device energy per completed task [J]"
    everything = energy_per_task(records, completed_only=False).axes[0]
    assert everything.containers[0].patches[0].get_height() == pytest.approx(8.0 * 100 / 130)


def test_energy_per_task_log_axis_side_by_side_with_intervals() -> None:
    """Totals 80 J against 0.4 J span two decades: log axis, components side by side, whiskers = Student t."""
    rows = []
    for replication, (local_j, edge_tx_j) in enumerate(((79.0, 0.3), (80.0, 0.4), (81.0, 0.5))):
        rows += [{"policy": "local", "replication": replication, "energy_compute_j": local_j, "energy_tx_j": 0.0,
                  "energy_tail_j": 0.0}] * 4
        rows += [{"policy": "edge", "replication": replication, "energy_compute_j": 0.0, "energy_tx_j": edge_tx_j,
                  "energy_tail_j": 0.0}] * 4
    ax = energy_per_task(pd.DataFrame(rows)).axes[0]
    assert ax.get_yscale() == "log"
    assert [c.get_label() for c in ax.containers] == ["compute", "transmit"]  # the tail spent nothing: skipped
    assert [p.get_height() for p in ax.containers[0].patches] == pytest.approx([80.0, 0.0])
    assert [p.get_height() for p in ax.containers[1].patches] == pytest.approx([0.0, 0.4])
    # sd of (79, 80, 81) is 1 and of (0.3, 0.4, 0.5) is 0.1; half-width t(0.975, 2) * sd / sqrt(3)
    from test_plots_sweep import T_975_DF2

    spans = sorted(float(abs(seg[1][1] - seg[0][1])) for coll in ax.collections for seg in coll.get_segments()
                   if seg[0][0] == seg[1][0])
    np.testing.assert_allclose(spans, sorted([2 * T_975_DF2 * 0.1 / np.sqrt(3), 2 * T_975_DF2 / np.sqrt(3)]))
    assert [t.get_text() for t in ax.texts][:2] == ["80 J", "0.4 J"]
    assert "radio tail" in ax.texts[-1].get_text()
    assert "95 % CI" in ax.texts[-1].get_text()
    assert ax.get_ylabel() == "device energy per completed task [J]"


def test_energy_per_task_linear_stack_whisker_on_the_total() -> None:
    from test_plots_sweep import T_975_DF2

    records = pd.DataFrame({"policy": ["local"] * 3 + ["edge"] * 3, "replication": [0, 1, 2] * 2,
                            "energy_compute_j": [7.0, 8.0, 9.0, 0.0, 0.0, 0.0], "energy_tx_j": [0.0] * 3 + [2.0] * 3})
    ax = energy_per_task(records).axes[0]
    assert ax.get_yscale() == "linear"
    tops = sum(np.array([p.get_height() for p in c.patches]) for c in ax.containers)
    np.testing.assert_allclose(tops, [8.0, 2.0])
    # local: replications 7, 8, 9 J, sd 1, half-width t(0.975, 2) / sqrt(3); edge is constant: no whisker
    vertical = [seg for coll in ax.collections for seg in coll.get_segments() if seg[0][0] == seg[1][0]]
    assert len(vertical) == 1
    np.testing.assert_allclose(sorted(vertical[0][:, 1]), 8.0 + np.array([-1, 1]) * T_975_DF2 / np.sqrt(3))


def test_latency_cdf_deadline_theory_and_drop_shares() -> None:
    from simulator.plots.theory import QueueTheory

    records = pd.DataFrame({"policy": ["local"] * 4 + ["edge"] * 4,
                            "latency_s": [np.nan, np.nan, np.nan, 2.0, 0.1, 0.2, 0.3, np.nan],
                            "dropped": [True, True, True, False, False, False, False, False],
                            "in_flight": [False] * 7 + [True]})
    theory = QueueTheory("M/M/c", 8.0, 10.0, 1)
    ax = latency_cdf(records, deadlines_s={"plates": 1.0}, theory=theory).axes[0]
    labels = [str(line.get_label()) for line in ax.get_lines()]
    assert labels == ["local (n=1; 75 % dropped)", "edge (n=3; 25 % unfinished)", "M/M/1 theory",
                      "M/M/1 mean 500 ms", "deadline 1 s"]
    curve, mean, deadline = ax.get_lines()[2:]
    t = _data(curve.get_xdata())
    np.testing.assert_allclose(_data(curve.get_ydata()), 1.0 - np.exp(-(10.0 - 8.0) * t))  # exponential sojourn
    assert _data(mean.get_xdata())[0] == pytest.approx(1.0 / (10.0 - 8.0))
    assert _data(deadline.get_xdata())[0] == 1.0
    assert [t.get_text() for t in ax.get_legend().get_texts()] == labels


def test_utilisation_skips_idle_servers_with_a_note_and_shades_warmup() -> None:
    series = synthetic_timeseries(servers=2)
    series.loc[series.server == "edge1", ["utilisation", "queue_length"]] = 0.0
    top, bottom = utilisation_over_time(series, warmup_s=3.0).axes
    assert [line.get_label() for line in top.get_lines()] == [f"{policy} · edge0" for policy in POLICIES]
    assert bottom.texts[-1].get_text() == "never busy, not drawn: " + "; ".join(f"{p}: edge1" for p in POLICIES)
    (span,) = [p for p in top.patches if p.get_label() == "warm-up"]
    assert span.get_x() == 0.0
    assert span.get_width() == pytest.approx(3.0)
    assert top.get_ylabel() == "utilisation [%]"
    assert bottom.get_ylabel() == "queue length [tasks]"


def test_render_run_figures_formats_and_scenario_overlays(tmp_path: Path) -> None:
    import yaml

    from simulator.plots import FigureOptions

    synthetic_records().to_parquet(tmp_path / "records.parquet")
    (tmp_path / "scenario.yaml").write_text(yaml.safe_dump({"services": [{"name": "s", "deadline": 0.5}]}))
    written = render_run_figures(tmp_path, FigureOptions(format="svg", style="slides"))
    assert [p.name for p in written] == ["latency_cdf.svg", "energy_per_task.svg"]
    text = written[0].read_text()
    assert text.startswith("<?xml")
    assert "deadline 500 ms" in text
    pdf = render_run_figures(tmp_path, FigureOptions(format="pdf"))
    assert all(p.read_bytes()[:4] == b"%PDF" for p in pdf)


def test_queue_theory_recognises_the_bundled_textbook_scenarios() -> None:
    from simulator.plots.theory import queue_theory
    from simulator.scenario import load_scenario

    mm1, mmc, md1 = (queue_theory(load_scenario(name).resolved) for name in ("mm1", "mmc", "md1"))
    assert mm1 is not None
    assert (mm1.label, mm1.mean_sojourn_s()) == ("M/M/1", pytest.approx(0.5))
    assert mmc is not None
    assert (mmc.label, mmc.mean_sojourn_s()) == ("M/M/4", pytest.approx(0.174554, rel=1e-5))
    assert md1 is not None
    assert (md1.label, md1.mean_sojourn_s()) == ("M/D/1", pytest.approx(0.3))
    assert queue_theory(load_scenario("license-plate").resolved) is None  # a network, a cloud: no textbook queue
