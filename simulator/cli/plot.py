"""``mecsim plot RESULTS_DIR``: render the standard figures of a simulate output directory (or a sweep) to PNG."""

from __future__ import annotations

from pathlib import Path

import click

from offload.errors import ParameterError
from simulator.plots import is_run_dir, render_run_figures


@click.command("plot")
@click.argument("results_dir", type=click.Path(path_type=Path))
def command(results_dir: Path) -> None:
    """Render the figures of RESULTS_DIR (written by `mecsim simulate --out`) into RESULTS_DIR/figures."""
    if not results_dir.is_dir():
        raise ParameterError("RESULTS_DIR", str(results_dir), "must be an existing directory")
    if not is_run_dir(results_dir):
        raise ParameterError("RESULTS_DIR", str(results_dir),
                             "must be a `mecsim simulate --out` directory (records.parquet or records.csv)")
    for path in render_run_figures(results_dir):
        click.echo(str(path))
