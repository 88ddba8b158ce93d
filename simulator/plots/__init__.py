"""Matplotlib figures of mecsim results. Plot functions take results (DataFrames, arrays) and never recompute them.

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot, so it works headless (Agg) and
inside notebooks alike; :func:`render_run_figures` and :func:`render_sweep_figures` write the standard figures of
a simulate run or a sweep as PNG, PDF or SVG (:class:`FigureOptions`), in a colour-blind-safe palette.
"""

from simulator.plots._style import PALETTE, FigureOptions, figure_style
from simulator.plots.decision_grid import DecisionGrid, break_even_curve, decision_grid, with_parameter
from simulator.plots.decision_map import decision_region_map
from simulator.plots.energy import ENERGY_COMPONENTS, energy_per_task
from simulator.plots.latency import latency_cdf, latency_vs_load
from simulator.plots.mobility import trajectories
from simulator.plots.pareto import pareto_front, pareto_plot
from simulator.plots.placement import placement_map, solver_comparison
from simulator.plots.run import is_run_dir, read_table, render_run_figures
from simulator.plots.sweep import (
    SWEEP_METRICS,
    is_sweep_dir,
    render_sweep_figures,
    summarise_sweep,
    sweep_metric_plot,
)
from simulator.plots.theory import QueueTheory, queue_theory
from simulator.plots.timeseries import utilisation_over_time

__all__ = [
    "ENERGY_COMPONENTS",
    "PALETTE",
    "SWEEP_METRICS",
    "DecisionGrid",
    "FigureOptions",
    "QueueTheory",
    "break_even_curve",
    "decision_grid",
    "decision_region_map",
    "energy_per_task",
    "figure_style",
    "is_run_dir",
    "is_sweep_dir",
    "latency_cdf",
    "latency_vs_load",
    "pareto_front",
    "pareto_plot",
    "placement_map",
    "queue_theory",
    "read_table",
    "render_run_figures",
    "render_sweep_figures",
    "solver_comparison",
    "summarise_sweep",
    "sweep_metric_plot",
    "trajectories",
    "utilisation_over_time",
    "with_parameter",
]
