"""``mecsim simulate``, ``mecsim validate`` and ``mecsim scenarios``: run, check and list scenario files."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from offload.errors import UnitError
from offload.units import Dimension, parse_quantity
from simulator.cli.output import check_out_dir, dumps_json, run_folder, terminal_width, write_run
from simulator.scenario import ScenarioError, bundled_scenarios, load_scenario
from simulator.scenario.execute import check_run_budget, simulate, summary_dict
from simulator.scenario.report import format_summary

EXIT_USAGE = 2
_SET_HELP = "Override a scenario value, e.g. run.duration=600s or devices[0].count=50 (repeatable)."


@contextmanager
def _scenario_errors(ctx: click.Context) -> Iterator[None]:
    """Print every scenario issue on its own line and exit 2 (``--debug`` shows the traceback instead)."""
    try:
        yield
    except ScenarioError as error:
        root = ctx.find_root()
        if root.obj and root.obj.get("debug"):
            raise
        for issue in error.issues:
            click.echo(f"mecsim: error: {issue}", err=True)
        ctx.exit(EXIT_USAGE)


def _duration(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = parse_quantity(value, Dimension.SECONDS, "--duration")
    except UnitError as error:
        raise click.BadParameter(f"{value!r}: {error.rule}") from None
    if not seconds > 0:
        raise click.BadParameter(f"{value!r}: must be > 0")
    return seconds


def _progress(quiet: bool, total: int) -> tuple[Callable[[int, int, str], None], Callable[[], None]]:
    """A tqdm bar on stderr that appears after two seconds; silent with --quiet or when stderr is no terminal."""
    if quiet or not sys.stderr.isatty():
        return (lambda done, of, name: None), (lambda: None)
    from tqdm import tqdm

    bar = tqdm(total=total, unit="policy", desc="simulating", file=sys.stderr, delay=2.0, leave=False,
               mininterval=0.5)

    def update(done: int, of: int, name: str) -> None:
        bar.update(done - bar.n)
        bar.set_postfix_str(name)

    return update, bar.close


@click.command("simulate")
@click.argument("scenario")
@click.option("--seed", type=click.IntRange(min=0), help="Base seed (default: the scenario's run.seed).")
@click.option("--replications", type=click.IntRange(min=1), help="Independent replications per policy.")
@click.option("--duration", callback=_duration, help="Simulated horizon, e.g. 600s or 10min.")
@click.option("--set", "overrides", multiple=True, metavar="PATH=VALUE", help=_SET_HELP)
@click.option("--out", type=click.Path(path_type=Path), help="Write records, summary, scenario and figures here.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.option("--force", is_flag=True, help="Replace the files a previous run wrote in --out (other files are kept).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def simulate_command(ctx: click.Context, scenario: str, seed: int | None, replications: int | None,
                     duration: float | None, overrides: tuple[str, ...], out: Path | None, as_json: bool,
                     force: bool, quiet: bool) -> None:
    """Simulate SCENARIO (a YAML file or a bundled name, see `mecsim scenarios`) under each of its policies."""
    with _scenario_errors(ctx):
        loaded = load_scenario(scenario, overrides)
        if out is not None:
            check_out_dir(out, force=force)
        update, close = _progress(quiet, len(loaded.world.policies))
        try:
            result = simulate(loaded, seed=seed, replications=replications, duration_s=duration, progress=update)
        finally:
            close()
    summary = summary_dict(loaded, result)
    if out is not None:
        outputs = loaded.outputs
        with run_folder(out) as folder:
            write_run(folder, records=result.records if outputs.records else None,
                      timeseries=result.timeseries if outputs.timeseries else None, summary=summary,
                      battery=result.battery if outputs.timeseries else None,
                      resolved_scenario=loaded.resolved, figures=outputs.figures, platform=result.platform,
                      mobility=result.mobility, motion=result.motion,
                      latency_by_speed=None if result.motion is None else result.latency_by_speed())
    if as_json:
        click.echo(dumps_json(summary))
    else:
        click.echo(format_summary(loaded, result, width=terminal_width()))
        if out is not None:
            click.echo(f"\nwrote {out}/")


@click.command("validate")
@click.argument("scenario")
@click.option("--set", "overrides", multiple=True, metavar="PATH=VALUE", help=_SET_HELP)
@click.pass_context
def validate_command(ctx: click.Context, scenario: str, overrides: tuple[str, ...]) -> None:
    """Check SCENARIO without running it: every problem is printed as file:line: path: value: rule."""
    with _scenario_errors(ctx):
        loaded = load_scenario(scenario, overrides)
        check_run_budget(loaded)
        world = loaded.world
        sweep_runs = _sweep_runs(scenario, overrides) if loaded.resolved.get("sweep") else None
    sweep = "" if sweep_runs is None else f", sweep of {sweep_runs} run(s)"
    placement = "" if loaded.placement is None else f", placement by {loaded.placement.policy} (checked, not solved)"
    click.echo(f"{loaded.source}: ok: {loaded.name} (sha256 {loaded.sha256[:12]}): "
               f"{len(world.device_groups)} device group(s), {world.n_devices} device(s), "
               f"{len(world.servers)} server(s), policies {', '.join(loaded.policy_names)}{placement}{sweep}")


def _sweep_runs(scenario: str, overrides: tuple[str, ...]) -> int:
    """Check the ``sweep:`` section and every point it makes (as ``mecsim sweep`` would); the number of runs."""
    from simulator.sweep.scenarios import load_sweep  # lazily: the sweep package imports the scenario package

    return len(load_sweep(scenario, overrides=overrides).tasks())


@click.command("scenarios")
def scenarios_command() -> None:
    """List the bundled scenarios with one-line descriptions."""
    listing: list[Any] = bundled_scenarios()
    width = max((len(name) for name, _ in listing), default=0)
    for name, description in listing:
        click.echo(f"{name.ljust(width)}  {description}")
