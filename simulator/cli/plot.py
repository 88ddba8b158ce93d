"""``mecsim plot RESULTS_DIR``: render the standard figures of a simulate output directory or a sweep to PNG."""

from __future__ import annotations

from pathlib import Path

import click

from offload.errors import ParameterError
from simulator.plots import is_run_dir, is_sweep_dir, render_run_figures, render_sweep_figures
from simulator.plots.run import FIGURES_DIR


@click.command("plot")
@click.argument("results_dir", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace figures already in RESULTS_DIR/figures.")
def command(results_dir: Path, force: bool) -> None:
    """Render the figures of RESULTS_DIR into RESULTS_DIR/figures.

    RESULTS_DIR is written by `mecsim simulate --out` (latency CDF, energy per task, utilisation over time) or by
    `mecsim sweep --out` (each metric against each swept parameter, one line per policy, 95 % CI bands).
    """
    if not results_dir.is_dir():
        raise ParameterError("RESULTS_DIR", str(results_dir), "must be an existing directory")
    figures = results_dir / FIGURES_DIR
    existing = sorted(p.name for p in figures.glob("*.png")) if figures.is_dir() else []
    if existing and not force:
        shown = ", ".join(existing[:3]) + (f" and {len(existing) - 3} more" if len(existing) > 3 else "")
        raise ParameterError("RESULTS_DIR", str(results_dir),
                             f"already has figures ({shown}); add --force to replace them")
    if is_run_dir(results_dir):
        written = render_run_figures(results_dir)
    elif is_sweep_dir(results_dir):
        written = render_sweep_figures(results_dir)
    else:
        raise ParameterError("RESULTS_DIR", str(results_dir),
                             "must be a `mecsim simulate --out` directory (records.parquet or records.csv)"
                             " or a `mecsim sweep --out` directory (runs.jsonl)")
    for path in written:
        click.echo(str(path))
