"""``mecsim plot``: writes the expected PNGs for a run directory; bad directories exit 2 with one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from click.testing import CliRunner

from simulator.cli import main


def _write_run(directory: Path) -> None:
    rng = np.random.default_rng(0)
    n = 40
    pd.DataFrame({
        "policy": np.repeat(["local", "edge"], n // 2), "replication": 0, "latency_s": rng.exponential(0.2, n),
        "energy_compute_j": rng.uniform(0, 5, n), "energy_tx_j": rng.uniform(0, 1, n),
        "energy_idle_j": rng.uniform(0, 1, n), "energy_tail_j": 0.1,
    }).to_parquet(directory / "records.parquet")
    pd.DataFrame({
        "policy": "edge", "replication": 0, "time_s": np.arange(10.0), "server": "edge0",
        "utilisation": rng.uniform(0, 1, 10), "queue_length": rng.integers(0, 4, 10),
    }).to_parquet(directory / "timeseries.parquet")


def test_plot_run_dir_writes_pngs(tmp_path: Path) -> None:
    _write_run(tmp_path)
    result = CliRunner().invoke(main, ["plot", str(tmp_path)])
    assert result.exit_code == 0, result.output
    expected = {"latency_cdf.png", "energy_per_task.png", "utilisation.png"}
    assert {p.name for p in (tmp_path / "figures").iterdir()} == expected
    assert {Path(line).name for line in result.output.splitlines()} == expected


def test_plot_missing_dir_exits_2_with_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["plot", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0
    assert "must be an existing directory" in result.output


def test_plot_dir_without_results_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["plot", str(tmp_path)])
    assert result.exit_code == 2
    assert "RESULTS_DIR" in result.output
    assert "Traceback" not in result.output


def test_plot_sweep_dir_writes_metric_figures(tmp_path: Path) -> None:
    from test_plots_sweep import write_sweep

    write_sweep(tmp_path)
    result = CliRunner().invoke(main, ["plot", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "sweep_latency_s_p95_vs_cameras.png" in {Path(line).name for line in result.output.splitlines()}


def test_plot_redraws_a_real_simulate_out_dir(tmp_path: Path) -> None:
    out = tmp_path / "run"
    simulated = CliRunner().invoke(main, ["simulate", "mm1", "--duration", "60s", "--set", "run.warmup=5s",
                                          "--replications", "1", "--out", str(out), "--quiet"])
    assert simulated.exit_code == 0, simulated.output
    for png in (out / "figures").iterdir():
        png.unlink()
    result = CliRunner().invoke(main, ["plot", str(out)])
    assert result.exit_code == 0, result.output
    assert {p.name for p in (out / "figures").iterdir()} == {"latency_cdf.png", "energy_per_task.png",
                                                            "utilisation.png"}


def test_plot_never_replaces_figures_without_force(tmp_path: Path) -> None:
    _write_run(tmp_path)
    assert CliRunner().invoke(main, ["plot", str(tmp_path)]).exit_code == 0
    mine = tmp_path / "figures" / "latency_cdf.png"
    mine.write_bytes(b"my own edit")
    refused = CliRunner().invoke(main, ["plot", str(tmp_path)])
    assert refused.exit_code == 2
    assert refused.output.strip().count("\n") == 0
    assert "already has figures (energy_per_task.png, latency_cdf.png, utilisation.png); add --force" in refused.output
    assert mine.read_bytes() == b"my own edit"
    replaced = CliRunner().invoke(main, ["plot", str(tmp_path), "--force"])
    assert replaced.exit_code == 0, replaced.output
    assert mine.read_bytes().startswith(b"\x89PNG")


def test_plot_format_dpi_style_and_force_across_formats(tmp_path: Path) -> None:
    _write_run(tmp_path)
    result = CliRunner().invoke(main, ["plot", str(tmp_path), "--format", "pdf", "--style", "slides"])
    assert result.exit_code == 0, result.output
    assert {p.name for p in (tmp_path / "figures").iterdir()} == {"latency_cdf.pdf", "energy_per_task.pdf",
                                                                 "utilisation.pdf"}
    refused = CliRunner().invoke(main, ["plot", str(tmp_path), "--format", "png"])  # PDFs are figures too
    assert refused.exit_code == 2
    assert "add --force" in refused.output
    replaced = CliRunner().invoke(main, ["plot", str(tmp_path), "--format", "png", "--dpi", "50", "--force"])
    assert replaced.exit_code == 0, replaced.output
    from PIL import Image

    with Image.open(tmp_path / "figures" / "latency_cdf.png") as image:  # 8 x 4 inch figure at 50 dpi
        assert image.size == (400, 200)
    bad = CliRunner().invoke(main, ["plot", str(tmp_path), "--format", "jpg"])
    assert bad.exit_code == 2
    assert "png" in bad.output
