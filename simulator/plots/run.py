"""Render the standard figures of a ``mecsim simulate --out DIR`` directory to ``DIR/figures/*.png``."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from offload.errors import ParameterError
from simulator.plots._style import save_png
from simulator.plots.energy import ENERGY_COMPONENTS, energy_per_task
from simulator.plots.latency import latency_cdf
from simulator.plots.timeseries import utilisation_over_time

logger = logging.getLogger(__name__)

FIGURES_DIR = "figures"
#: File names written by :func:`render_run_figures`.
LATENCY_CDF_PNG = "latency_cdf.png"
ENERGY_PNG = "energy_per_task.png"
UTILISATION_PNG = "utilisation.png"
RUN_FIGURES = (LATENCY_CDF_PNG, ENERGY_PNG, UTILISATION_PNG)


def read_table(directory: Path, stem: str) -> pd.DataFrame | None:
    """``directory/stem.parquet`` or, failing that, ``directory/stem.csv``; ``None`` when neither exists."""
    parquet, csv = directory / f"{stem}.parquet", directory / f"{stem}.csv"
    if parquet.is_file():
        return pd.read_parquet(parquet)
    if csv.is_file():
        return pd.read_csv(csv)
    return None


def is_run_dir(directory: Path) -> bool:
    """Whether ``directory`` holds the task records of a simulate run."""
    return any((directory / f"records.{suffix}").is_file() for suffix in ("parquet", "csv"))


def render_run_figures(out_dir: Path) -> list[Path]:
    """Draw the latency CDF, energy per task and (when a time series was written) utilisation over time.

    Parameters
    ----------
    out_dir : Path
        A simulate output directory holding ``records.parquet`` or ``records.csv`` and optionally
        ``timeseries.parquet``/``.csv``.

    Returns
    -------
    list of Path
        The PNG files written under ``out_dir / "figures"``.
    """
    out_dir = Path(out_dir)
    records = read_table(out_dir, "records")
    if records is None:
        raise ParameterError("RESULTS_DIR", str(out_dir), "must contain records.parquet or records.csv")
    figures = out_dir / FIGURES_DIR
    written = [save_png(latency_cdf(records), figures / LATENCY_CDF_PNG)]
    if any(column in records.columns for column in ENERGY_COMPONENTS):
        written.append(save_png(energy_per_task(records), figures / ENERGY_PNG))
    else:
        logger.info("no energy columns in %s: skipping %s", out_dir, ENERGY_PNG)
    timeseries = read_table(out_dir, "timeseries")
    if timeseries is not None and not timeseries.empty:
        written.append(save_png(utilisation_over_time(timeseries), figures / UTILISATION_PNG))
    else:
        logger.info("no time series in %s: skipping %s", out_dir, UTILISATION_PNG)
    return written
