"""``mecsim sweep FILE|NAME``: run a scenario over a parameter space, resumably, locally or on a Dask cluster."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import pandas as pd

from offload.errors import ParameterError
from simulator.cli.output import OUTPUT_FILES, terminal_width
from simulator.scenario.report import fit_table
from simulator.sweep import (
    SweepInterruptedError,
    grid_from_options,
    load_results,
    make_backend,
    run_sweep,
)
from simulator.sweep.plan import canonical_json
from simulator.sweep.scenarios import load_sweep, run_scenario

EXIT_LOST = 1
EXIT_INTERRUPTED = 130


@click.command("sweep")
@click.argument("scenario")
@click.option("--grid", "grid", multiple=True, metavar="PATH=V1,V2,...",
              help="Add a grid axis (repeatable), e.g. --grid devices[0].count=10,20,40.")
@click.option("--zip", "zip_axes", multiple=True, metavar="PATH=V1,V2,...",
              help="Axes walked together (repeatable; equal lengths); replaces the file's zip block.")
@click.option("--set", "overrides", multiple=True, metavar="PATH=VALUE",
              help="Override a scenario value for every run, e.g. --set run.duration=600s.")
@click.option("--replications", type=click.IntRange(min=1), help="Seeds per point (default: the sweep's or run's).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path),
              help="Dataset directory (default: sweeps/<scenario name>); rerunning resumes it.")
@click.option("--workers", type=click.IntRange(min=0), default=0, show_default=True,
              help="Local worker processes (0: one per CPU).")
@click.option("--scheduler", metavar="ADDRESS", envvar="DASK_SCHEDULER_ADDRESS", show_envvar=True,
              help="Run on a Dask cluster, e.g. tcp://host:8786.")
@click.option("--retry-failed", is_flag=True, help="Also redo runs recorded with an error.")
@click.option("--dry-run", is_flag=True, help="List the planned runs and exit.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def command(scenario: str, grid: tuple[str, ...], zip_axes: tuple[str, ...], overrides: tuple[str, ...],
            replications: int | None, out_dir: Path | None, workers: int, scheduler: str | None,
            retry_failed: bool, dry_run: bool, quiet: bool) -> None:
    """Run SCENARIO (a file or a bundled name) at every point of its `sweep:` section and the --grid/--zip axes.

    Each run (point x replication) is appended to OUT/runs.jsonl as it finishes; an interrupted sweep resumes
    where it stopped when the same command is run again. Load the results with
    `simulator.sweep.load_results(OUT)`; draw them with `mecsim plot OUT`.
    """
    sweep = load_sweep(scenario, overrides=overrides, grid=grid_from_options(grid, "--grid"),
                       zip_axes=grid_from_options(zip_axes, "--zip"), replications=replications)
    tasks = sweep.tasks()
    out_dir = out_dir or Path("sweeps") / sweep.scenario.name
    points = len({canonical_json(task.point) for task in tasks})
    if dry_run:
        click.echo(f"{len(tasks)} runs ({points} points) of {sweep.scenario.source} -> {out_dir}")
        for task in tasks:
            point = ", ".join(f"{path}={value}" for path, value in task.point.items()) or "(scenario as written)"
            click.echo(f"{task.key[:12]}  replication {task.replication}  {point}")
        return
    if scheduler and workers:
        raise ParameterError("--workers", workers, f"sizes the local pool; with --scheduler {scheduler} the Dask "
                                                   "cluster's workers run the sweep (unset DASK_SCHEDULER_ADDRESS "
                                                   "to run locally)")
    simulated = [name for name in OUTPUT_FILES if (out_dir / name).exists()]
    if simulated:
        raise ParameterError("--out", str(out_dir), f"holds the outputs of `mecsim simulate` ({simulated[0]}); give "
                                                    "the sweep a folder of its own")
    backend = make_backend(workers=workers, address=scheduler)
    try:
        report = run_sweep(tasks, run_scenario, out_dir, backend=backend, retry_failed=retry_failed,
                           progress=False if quiet else None, manifest=sweep.manifest())
    except SweepInterruptedError as error:
        click.echo(f"mecsim: {error}", err=True)
        sys.exit(EXIT_INTERRUPTED)
    if report.damaged:
        lines = ", ".join(map(str, report.damaged[:10])) + (", ..." if len(report.damaged) > 10 else "")
        click.echo(f"mecsim: warning: {report.directory / 'runs.jsonl'}: skipped {len(report.damaged)} damaged "
                   f"line(s) (line {lines}); every good record was kept", err=True)
    click.echo(f"{report.planned} runs ({points} points): {report.reused} already done, {report.computed} run "
               f"({report.failed} failed) in {report.elapsed_s:.1f} s -> {report.directory}")
    if report.failed:
        click.echo(f"mecsim: {report.failed} runs failed; their errors are in {report.directory / 'runs.jsonl'}",
                   err=True)
    if report.lost:
        click.echo(f"mecsim: {report.lost} runs lost to dead workers; run the same command again to finish",
                   err=True)
        sys.exit(EXIT_LOST)
    table = result_table(load_results(report.directory, include_failed=False), terminal_width())
    if table:
        click.echo("")
        click.echo("\n".join(table))


#: Metrics of the closing table (column name -> header), when the runs report them.
TABLE_METRICS: dict[str, str] = {
    "latency_s.mean": "mean latency [s]", "latency_s.p95": "p95 latency [s]", "energy_j_per_task": "energy/task [J]",
    "offload_fraction": "offload", "deadline_miss_rate": "deadline miss",
}
#: Rows of the closing table; a larger sweep says how many more there are.
TABLE_ROWS = 30


def result_table(results: pd.DataFrame, width: int) -> list[str]:
    """The sweep's results as a compact table: one row per point and policy, the mean over replications of each
    standard metric (or, for a run function without them, of its first numeric metrics)."""
    if results.empty:
        return []
    metrics = {m: header for m, header in TABLE_METRICS.items() if m in results.columns and results[m].notna().any()}
    if not metrics:
        metrics = {m: m for m in results.attrs.get("metrics", [])
                   if pd.api.types.is_numeric_dtype(results[m])}
        metrics = dict(list(metrics.items())[:len(TABLE_METRICS)])
    if not metrics:
        return []
    parameters = [p for p in results.attrs.get("parameters", []) if p in results.columns]
    keys = [*parameters, "policy"] if "policy" in results.columns else parameters
    if not keys:
        return []
    grouped = results.assign(**{k: results[k].astype(str) for k in keys}).groupby(keys, sort=False, dropna=False)
    means = grouped[list(metrics)].mean()
    counts = grouped.size().to_numpy()
    rows = [[*keys, "runs", *metrics.values()]]
    for (index, row), count in zip(means.head(TABLE_ROWS).iterrows(), counts, strict=False):
        labels = [str(v) for v in index] if isinstance(index, tuple) else [str(index)]
        rows.append([*labels, str(count), *(f"{row[m]:.4g}" for m in metrics)])
    lines = ["mean over replications:", *fit_table(rows, width, fixed=len(keys))]
    if len(means) > TABLE_ROWS:
        lines.append(f"... and {len(means) - TABLE_ROWS} more rows: simulator.sweep.load_results(DIR) has them all")
    return lines
