"""Render the standard figures of a ``mecsim simulate --out DIR`` directory to ``DIR/figures/``."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from offload.errors import ParameterError
from simulator.plots._style import FORMATS, FigureOptions, figure_style, save_figure
from simulator.plots.energy import ENERGY_COMPONENTS, energy_per_task
from simulator.plots.latency import latency_cdf
from simulator.plots.mobility import trajectories
from simulator.plots.platform import canary_against_slo, replicas_over_time
from simulator.plots.theory import queue_theory
from simulator.plots.timeseries import utilisation_over_time

logger = logging.getLogger(__name__)

FIGURES_DIR = "figures"
#: File stems written by :func:`render_run_figures` (the suffix is the chosen format).
LATENCY_CDF = "latency_cdf"
ENERGY = "energy_per_task"
UTILISATION = "utilisation"
REPLICAS = "replicas"
ROLLOUT = "rollout"
TRACKS = "tracks"
#: Every figure file :func:`render_run_figures` may write (what ``simulate --out --force`` replaces).
RUN_FIGURES = tuple(f"{stem}.{suffix}" for stem in (LATENCY_CDF, ENERGY, UTILISATION, REPLICAS, ROLLOUT, TRACKS)
                    for suffix in FORMATS)


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


def _read_mapping(path: Path) -> Mapping[str, Any]:
    """The JSON or YAML object in ``path``; empty when the file is absent or holds no object."""
    if not path.is_file():
        return {}
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    return data if isinstance(data, Mapping) else {}


def deadlines_s(scenario: Mapping[str, Any]) -> dict[str, float]:
    """Service name -> deadline in seconds, from a resolved scenario (services without a deadline left out)."""
    return {str(s["name"]): float(s["deadline"]) for s in scenario.get("services", [])
            if isinstance(s, Mapping) and isinstance(s.get("deadline"), int | float)}


def render_run_figures(out_dir: Path, options: FigureOptions | None = None) -> list[Path]:
    """Draw the latency CDF, energy per task, (when a time series was written) utilisation over time, the platform's
    figures of a run with deployments and the devices' tracks over the cells of a run whose devices move.

    The resolved ``scenario.yaml`` beside the records adds the services' deadlines and, for a textbook queue
    (:func:`simulator.plots.theory.queue_theory`), the analytic latency distribution; ``summary.json`` adds the
    warm-up period to the time series.

    Parameters
    ----------
    out_dir : Path
        A simulate output directory holding ``records.parquet`` or ``records.csv`` and optionally
        ``timeseries.parquet``/``.csv``, ``scenario.yaml`` and ``summary.json``.
    options : FigureOptions, optional
        Format, resolution and style (default PNG, paper style).

    Returns
    -------
    list of Path
        The files written under ``out_dir / "figures"``.
    """
    out_dir = Path(out_dir)
    options = options or FigureOptions()
    records = read_table(out_dir, "records")
    if records is None:
        raise ParameterError("RESULTS_DIR", str(out_dir), "must contain records.parquet or records.csv")
    scenario = _read_mapping(out_dir / "scenario.yaml")
    warmup_s = _read_mapping(out_dir / "summary.json").get("warmup_s")
    figures = out_dir / FIGURES_DIR
    with figure_style(options.style):
        cdf = latency_cdf(records, deadlines_s=deadlines_s(scenario), theory=queue_theory(scenario))
        written = [save_figure(cdf, figures, LATENCY_CDF, options)]
        if any(column in records.columns for column in ENERGY_COMPONENTS):
            written.append(save_figure(energy_per_task(records), figures, ENERGY, options))
        else:
            logger.info("no energy columns in %s: skipping %s", out_dir, ENERGY)
        timeseries = read_table(out_dir, "timeseries")
        if timeseries is not None and not timeseries.empty:
            utilisation = utilisation_over_time(
                timeseries, warmup_s=float(warmup_s) if isinstance(warmup_s, int | float) else None)
            written.append(save_figure(utilisation, figures, UTILISATION, options))
        else:
            logger.info("no time series in %s: skipping %s", out_dir, UTILISATION)
        written += _platform_figures(out_dir, scenario, options)
        tracks, cells = read_table(out_dir, "tracks"), read_table(out_dir, "cells")
        if tracks is not None and not tracks.empty and cells is not None:
            written.append(save_figure(trajectories(tracks, cells), figures, TRACKS, options))
    return written


def _platform_figures(out_dir: Path, scenario: Mapping[str, Any], options: FigureOptions) -> list[Path]:
    """Replicas and load per version (a run with deployments) and the canary against its SLO (a run with a
    rollout)."""
    traffic, events = read_table(out_dir, "traffic"), read_table(out_dir, "events")
    if traffic is None or traffic.empty or events is None:
        return []
    figures = out_dir / FIGURES_DIR
    written = [save_figure(replicas_over_time(traffic), figures, REPLICAS, options)]
    if events["kind"].isin(["rollout_start"]).any():
        slo = canary_against_slo(traffic, events, p95_slo_s=min(p95_slos_s(scenario), default=math.inf))
        written.append(save_figure(slo, figures, ROLLOUT, options))
    return written


def p95_slos_s(scenario: Mapping[str, Any]) -> list[float]:
    """The p95 bounds (s) of the canary analyses of a resolved scenario."""
    bounds = []
    for deployment in scenario.get("deployments", []):
        analysis = ((deployment.get("rollout") or {}).get("analysis") or {}) if isinstance(deployment, Mapping) else {}
        if isinstance(analysis.get("p95"), int | float):
            bounds.append(float(analysis["p95"]))
    return bounds
