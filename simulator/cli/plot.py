"""``mecsim plot RESULTS_DIR``: render the standard figures of a simulate output directory or a sweep (PNG, PDF or
SVG; paper or slides style)."""

from __future__ import annotations

from pathlib import Path

import click

from offload.errors import ParameterError
from simulator.plots import is_run_dir, is_sweep_dir, render_run_figures, render_sweep_figures
from simulator.plots._style import DEFAULT_DPI, FORMATS, STYLES, FigureOptions
from simulator.plots.run import FIGURES_DIR


@click.command("plot")
@click.argument("results_dir", type=click.Path(path_type=Path))
@click.option("--format", "file_format", type=click.Choice(FORMATS), default="png", show_default=True,
              help="File format: PNG (raster) or PDF/SVG (vector, for papers).")
@click.option("--dpi", type=click.IntRange(min=1, max=2400), default=DEFAULT_DPI, show_default=True,
              help="Resolution of PNG figures (and of raster parts of vector ones).")
@click.option("--style", type=click.Choice(STYLES), default="paper", show_default=True,
              help="Text and line sizes: paper (a printed column) or slides (a projector).")
@click.option("--force", is_flag=True, help="Replace figures already in RESULTS_DIR/figures.")
def command(results_dir: Path, file_format: str, dpi: int, style: str, force: bool) -> None:
    """Render the figures of RESULTS_DIR into RESULTS_DIR/figures.

    RESULTS_DIR is written by `mecsim simulate --out` (latency CDF, energy per task, utilisation over time) or by
    `mecsim sweep --out` (each metric against each swept parameter, one line per policy, 95 % CI bands).
    """
    if not results_dir.is_dir():
        raise ParameterError("RESULTS_DIR", str(results_dir), "must be an existing directory")
    figures = results_dir / FIGURES_DIR
    existing = sorted(p.name for p in figures.iterdir() if p.suffix.lstrip(".") in FORMATS) if figures.is_dir() else []
    if existing and not force:
        shown = ", ".join(existing[:3]) + (f" and {len(existing) - 3} more" if len(existing) > 3 else "")
        raise ParameterError("RESULTS_DIR", str(results_dir),
                             f"already has figures ({shown}); add --force to replace them")
    options = FigureOptions(format=file_format, dpi=dpi, style=style)  # type: ignore[arg-type]  # click checked
    if is_run_dir(results_dir):
        written = render_run_figures(results_dir, options)
    elif is_sweep_dir(results_dir):
        written = render_sweep_figures(results_dir, options)
    else:
        raise ParameterError("RESULTS_DIR", str(results_dir),
                             "must be a `mecsim simulate --out` directory (records.parquet or records.csv)"
                             " or a `mecsim sweep --out` directory (runs.jsonl)")
    for path in written:
        click.echo(str(path))
