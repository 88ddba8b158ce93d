"""Sweep figures: a metric against a swept parameter, one line per policy, with 95 % confidence bands."""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from offload.errors import ParameterError
from simulator.plots._style import (
    FigureOptions,
    colours,
    figure_style,
    legend_outside,
    new_figure,
    require_columns,
    require_rows,
    save_figure,
)
from simulator.plots.labels import path_label, path_unit, scale
from simulator.plots.run import FIGURES_DIR
from simulator.plots.theory import queue_theory
from simulator.scenario import parse_path, set_path
from simulator.summary import t_half_width

logger = logging.getLogger(__name__)

#: Metric columns of :func:`simulator.sweep.load_results` drawn by :func:`render_sweep_figures`, when present.
SWEEP_METRICS: dict[str, str] = {
    "latency_s.mean": "mean latency [s]",
    "latency_s.p95": "p95 latency [s]",
    "energy_j_per_task": "device energy per task [J]",
    "offload_fraction": "offload fraction [share of tasks]",
    "deadline_miss_rate": "deadline-miss rate [share of tasks]",
}
MEAN_LATENCY = "latency_s.mean"
#: Per-server utilisation columns (``utilisation.edge``) are drawn too, one figure per server.
_UTILISATION_PREFIX = "utilisation."
CONFIDENCE = 0.95  # the level of :func:`simulator.summary.t_half_width`
#: Positive values spanning this ratio or more are drawn on a logarithmic axis.
DECADES = 100.0


def summarise_sweep(results: pd.DataFrame, parameter: str, metric: str, *,
                    policy_column: str = "policy") -> pd.DataFrame:
    """Mean and Student-t 95 % confidence interval of ``metric`` over replications, per policy and parameter value.

    The interval is :func:`simulator.summary.t_half_width`, the one the simulator's own summaries use.

    Other swept parameters (``results.attrs["parameters"]``) stay separate series: a row per combination of
    policy, other parameters and ``parameter``. A series with one replication gets a zero-width interval.

    Returns
    -------
    DataFrame
        Columns ``series`` (policy plus other parameters, a legend label), ``policy_column``, ``parameter``,
        ``n``, ``mean``, ``ci_low``, ``ci_high``.
    """
    require_columns(results, [parameter, metric, policy_column], "sweep results")
    ok = results[results["status"] == "ok"] if "status" in results.columns else results
    ok = ok[ok[metric].notna()]
    require_rows(ok, f"sweep results with {metric}")
    others = [p for p in results.attrs.get("parameters", []) if p != parameter and p in results.columns]
    keys = [policy_column, *others, parameter]
    groups = ok.groupby(keys, sort=True, dropna=False)[metric]
    grouped = groups.agg(["count", "mean"]).reset_index()
    half_width = np.array([t_half_width(values.tolist()) or 0.0 for _, values in groups])
    labels = grouped[policy_column].astype(str)
    for other in others:
        labels = labels + f", {other}=" + grouped[other].astype(str)
    return pd.DataFrame({
        "series": labels, policy_column: grouped[policy_column], parameter: grouped[parameter],
        "n": grouped["count"], "mean": grouped["mean"], "ci_low": grouped["mean"] - half_width,
        "ci_high": grouped["mean"] + half_width,
    })


def sweep_metric_plot(summary: pd.DataFrame, parameter: str, *, metric_label: str,
                      parameter_label: str | None = None, log_x: bool = False, log_y: bool = False,
                      x_scale: float = 1.0, theory: tuple[str, pd.Series] | None = None) -> Figure:
    """One line per series of ``summary`` (from :func:`summarise_sweep`) with its confidence band.

    ``x_scale`` divides the parameter values (an axis in Mbit/s from values in bit/s; the label says which). When
    every mean is non-negative, the bands stop at zero. ``theory`` is a label and the analytic value at each
    parameter value (a series indexed by them, NaN where there is none), drawn as a black dashed line.
    """
    require_columns(summary, ["series", parameter, "mean", "ci_low", "ci_high"], "sweep summary")
    require_rows(summary, "sweep summary")
    figure, (ax,) = new_figure()
    palette = colours(summary["series"])
    floor = 0.0 if (summary["mean"] >= 0).all() else -np.inf  # a latency or a share is never negative
    for series, group in summary.groupby("series", sort=False):
        group = group.sort_values(parameter)
        colour = palette[str(series)]
        x = group[parameter].to_numpy(dtype=np.float64) / x_scale
        ax.plot(x, group["mean"], marker="o", color=colour, label=str(series))
        ax.fill_between(x, np.maximum(group["ci_low"], floor), group["ci_high"], color=colour, alpha=0.2,
                        linewidth=0)
    if theory is not None:
        label, values = theory
        ax.plot(values.index.to_numpy(dtype=np.float64) / x_scale, values.to_numpy(dtype=np.float64), color="black",
                linestyle="--", linewidth=1.0, label=label, zorder=4)
    if log_x:
        ax.set_xscale("log")
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel(parameter_label or parameter)
    ax.set_ylabel(metric_label)
    ax.grid(True, which="both", alpha=0.3)
    legend_outside(ax)
    ax.set_title(f"{metric_label.split(' [')[0]} (bands: {CONFIDENCE:.0%} CI)")
    return figure


def _spans_decades(values: pd.Series) -> bool:
    values = values.dropna()
    return bool(values.size and (values > 0).all() and values.max() / values.min() >= DECADES)


def is_sweep_dir(directory: Path) -> bool:
    """Whether ``directory`` was written by a sweep (holds its run log or manifest)."""
    from simulator.sweep.store import MANIFEST_FILE, RUNS_FILE

    return (directory / RUNS_FILE).is_file() or (directory / MANIFEST_FILE).is_file()


def render_sweep_figures(sweep_dir: Path, options: FigureOptions | None = None) -> list[Path]:
    """Draw each metric against each numeric swept parameter into ``sweep_dir / "figures"``.

    The metrics are those of :data:`SWEEP_METRICS` present in the results, or, when none is, every numeric metric.
    A metric with the same value in every run (within 1e-9 relative) says nothing and is not drawn; the log names
    it. The parameter axis gets the quantity and unit of the scenario field swept
    (:func:`simulator.plots.labels.path_unit`); axes whose values span two decades or more are logarithmic.

    Returns
    -------
    list of Path
        The files written, named ``sweep_<metric>_vs_<parameter>.<format>``.
    """
    from simulator.sweep import load_results
    from simulator.sweep.store import read_manifest

    sweep_dir = Path(sweep_dir)
    options = options or FigureOptions()
    results = load_results(sweep_dir, include_failed=False)
    parameters = [p for p in results.attrs.get("parameters", [])
                  if p in results.columns and pd.api.types.is_numeric_dtype(results[p])]
    if not parameters:
        raise ParameterError("RESULTS_DIR", str(sweep_dir), "sweep has no numeric swept parameter to plot against")
    metrics = varying_metrics(results)
    manifest = read_manifest(sweep_dir) or {}
    written = []
    with figure_style(options.style):
        for parameter in parameters:
            unit = path_unit(parameter)
            factor, shown = scale(float(results[parameter].abs().max()), unit)
            for metric, label in metrics.items():
                theory = sweep_theory(manifest.get("resolved"), results, parameter) if metric == MEAN_LATENCY else None
                figure = sweep_metric_plot(summarise_sweep(results, parameter, metric), parameter,
                                           metric_label=label, parameter_label=path_label(parameter, shown),
                                           log_x=_spans_decades(results[parameter]),
                                           log_y=_spans_decades(results[metric]), x_scale=factor, theory=theory)
                name = f"sweep_{_slug(metric)}_vs_{_slug(parameter)}"
                written.append(save_figure(figure, sweep_dir / FIGURES_DIR, name, options))
    if not written:
        logger.info("no varying numeric metric in %s", sweep_dir)
    return written


def sweep_theory(base: object, results: pd.DataFrame, parameter: str) -> tuple[str, pd.Series] | None:
    """The analytic mean time in system at each value of ``parameter``, when every point of the sweep is a
    textbook queue (:func:`simulator.plots.theory.queue_theory`) and the other swept paths hold one value.

    ``base`` is the resolved base scenario of the sweep's manifest; each point is rebuilt from it by setting the
    swept paths to the point's (SI) values. NaN where the queue is unstable; ``None`` when there is no theory.
    """
    if not isinstance(base, Mapping):
        return None
    others = {p: results[p].dropna().unique() for p in results.attrs.get("parameters", []) if p != parameter}
    if any(len(values) != 1 for values in others.values()):
        return None
    means: dict[float, float] = {}
    kinds: set[str] = set()
    labels: set[str] = set()
    for value in sorted(results[parameter].dropna().unique()):
        data = copy.deepcopy(dict(base))
        for path, point_value in [*((p, v[0]) for p, v in others.items()), (parameter, value)]:
            set_path(data, parse_path(path), point_value.item() if hasattr(point_value, "item") else point_value)
        theory = queue_theory(data)
        means[float(value)] = np.nan if theory is None else theory.mean_sojourn_s()
        if theory is not None:
            kinds.add(theory.kind)
            labels.add(theory.label)
    if len(kinds) != 1:
        return None
    return f"{labels.pop() if len(labels) == 1 else kinds.pop()} theory (mean)", pd.Series(means)


def varying_metrics(results: pd.DataFrame) -> dict[str, str]:
    """Metric column -> axis label of the metrics worth drawing: the standard ones present (or every numeric metric
    when none is), less those with one value throughout."""
    metrics = {m: label for m, label in SWEEP_METRICS.items() if m in results.columns and results[m].notna().any()}
    metrics |= {m: f"utilisation of {m.removeprefix(_UTILISATION_PREFIX)} [fraction]" for m in results.columns
                if m.startswith(_UTILISATION_PREFIX) and results[m].notna().any()}
    if not metrics:  # not a simulate summary: draw every numeric metric the runs returned
        metrics = {m: m for m in results.attrs.get("metrics", [])
                   if m in results.columns and pd.api.types.is_numeric_dtype(results[m])}
    flat = [m for m in metrics if _constant(results[m])]
    if flat:
        logger.info("same value in every run, not drawn: %s", ", ".join(flat))
    return {m: label for m, label in metrics.items() if m not in flat}


def _constant(values: pd.Series) -> bool:
    values = pd.to_numeric(values, errors="coerce").dropna()
    return bool(values.empty or np.isclose(values.min(), values.max(), rtol=1e-9, atol=0.0))


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")
