"""``mecsim decide``: should one task (or every row of a CSV) run on the device or be offloaded to the edge?

Every option accepts human units (``300kB``, ``20Mbps``, ``9ms``, ``1.5GHz``, ``16.8G``, ``6.4W``); plain numbers are
SI. The single-task mode is the batch mode with one row: both build one :class:`offload.inputs.CostInputs`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import click
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from offload.decision import EnergyView, Objective
from offload.errors import ParameterError
from offload.radio import RADIO_PROFILES
from offload.units import Dimension, format_quantity, parse_quantity
from simulator.cli.decide_csv import check_column, column_values, labels, read_table, write_table
from simulator.decide_api import (
    BY_NAME,
    EMPTY_CELL,
    QUANTITIES,
    answer,
    batch_columns,
    parse_request,
    partial_answer,
    preference,
    with_radio,
)

FloatArray = npt.NDArray[np.float64]

RULES = """\b
Rules (bad input exits 2 with one line naming the option):
  * each side is EITHER a measured time (--device-time / --edge-time) OR a speed
    (--device-speed / --edge-speed, which needs --compute); not both, not neither;
    --compute without any speed is rejected (it would be ignored);
  * --data and --uplink are required; --downlink needs --result;
  * --rtt and --distance add up; speeds, throughputs and --deadline must be > 0,
    everything else >= 0; NaN and unknown units are rejected;
  * energies need --device-power and --radio-power (and --edge-power for
    --energy-view system); --objective energy or weighted needs the energies;
    every power is accepted: --idle-power, --rx-power, --tail-energy count in
    the device view, --edge-power in the system view; when both views can be
    priced both are shown, and powers the chosen view does not use are named;
  * --radio lte|3g|wifi (Huang et al., MobiSys 2012) sets --radio-power to
    alpha_u x uplink + beta, --rx-power to alpha_d x downlink + beta and
    --tail-energy to the promotion plus tail energy, and adds the promotion
    delay to the round trip; it replaces those three options;
  * --w-latency, --w-energy and --normalise apply to --objective weighted only;
  * --batch FILE.csv: one task per row, columns named like the long options
    (compute, device-time, data, uplink, ...; units allowed in cells); empty
    cells mean "none" for deadline and 0 for result, rtt, distance, edge-wait,
    idle-power, tail-energy, and are errors elsewhere; options given on the
    command line apply to every row, and a quantity may not be both a column
    and an option; --out never overwrites without --force.
"""


def _quantity_options(function: Callable[..., Any]) -> Callable[..., Any]:
    for quantity in reversed(QUANTITIES):
        names = [f"--{quantity.name}"] + ([f"--{quantity.alias}"] if quantity.alias else [])
        function = click.option(*names, quantity.name.replace("-", "_"), default=None, metavar="QTY",
                                help=quantity.help)(function)
    return function


@click.command("decide", epilog=RULES)
@_quantity_options
@click.option("--objective", type=click.Choice([o.value for o in Objective]), default="latency", show_default=True,
              help="What to minimise.")
@click.option("--energy-view", type=click.Choice([v.value for v in EnergyView]), default="device",
              show_default=True, help="Whose energy counts: the device battery or the system (device + edge).")
@click.option("--w-latency", default=None, metavar="W", help="Weight per second of latency [0.5] (weighted objective).")
@click.option("--w-energy", default=None, metavar="W", help="Weight per joule of energy [0.5] (weighted objective).")
@click.option("--normalise", is_flag=True, help="Weighted objective of T/T_local and E/E_local (unit-free).")
@click.option("--radio", type=click.Choice(list(RADIO_PROFILES)), default=None,
              help="Radio power model (Huang et al. 2012) instead of --radio-power/--rx-power/--tail-energy.")
@click.option("--partial", is_flag=True,
              help="Also split the task: the best fraction to offload while the device runs the rest in parallel.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the table.")
@click.option("--batch", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Decide every row of FILE.csv; writes CSV to stdout or --out.")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=None, help="CSV output file.")
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
@click.option("--debug", is_flag=True, help="Show a traceback on errors.")
@click.pass_context
def command(ctx: click.Context, /, objective: str, energy_view: str, w_latency: str | None, w_energy: str | None,
            normalise: bool, radio: str | None, partial: bool, as_json: bool, batch: Path | None, out: Path | None,
            force: bool, debug: bool, **given: str | None) -> None:
    """Decide whether to run a task locally or offload it, and where the decision flips.

    \b
    Example (the licence-plate demo):
      mecsim decide --device-time 13s --edge-time 9ms --data 300kB --uplink 5Mbps --rtt 20ms
    """
    if debug:
        ctx.ensure_object(dict)
        ctx.find_root().ensure_object(dict)
        ctx.find_root().obj["debug"] = True
    options = {name.replace("_", "-"): text for name, text in given.items() if text is not None}
    settings: dict[str, object] = {"objective": objective, "energy-view": energy_view, "w-latency": w_latency,
                                   "w-energy": w_energy, "normalise": normalise, "radio": radio}
    _check_output_options(batch, out, force, as_json, partial)
    if batch is None:
        request = parse_request({**options, **settings}, "--")
        report = answer(request)
        if partial:
            report["partial"] = partial_answer(request, "--")
        click.echo(json.dumps(report, indent=2) if as_json else _table(report))
        return
    values = _batch_values(batch, options)
    for name, array in values.items():
        from_option = name in options
        try:
            check_column(array, f"--{name}" if from_option else f"--{name} (column {name!r})",
                         positive=BY_NAME[name].positive, rows_are_lines=not from_option,
                         allow_inf=name == "deadline" and not from_option)
        except ParameterError as error:
            raise ParameterError(error.name, options[name], error.rule) if from_option else error from None
    if radio is not None:
        values = cast(dict[str, FloatArray], with_radio(values, radio, "--"))
    columns: dict[str, npt.NDArray[np.generic] | pa.Array] = dict(
        batch_columns(values, preference(settings, set(values), "--")))
    columns["decision"] = labels(columns["decision"], ("local", "offload"))
    columns["offload_wins"] = labels(columns["offload_wins"], ("above", "below", "always", "never"))
    write_table(columns, out if out is not None else sys.stdout.buffer)


def _check_output_options(batch: Path | None, out: Path | None, force: bool, as_json: bool, partial: bool) -> None:
    if batch is None and out is not None:
        raise ParameterError("--out", str(out), "needs --batch (the single-task result goes to stdout)")
    if force and out is None:
        raise ParameterError("--force", True, "needs --out")
    if batch is not None and partial:
        raise ParameterError("--partial", True, "applies to a single task, not to --batch")
    if batch is not None and as_json:
        raise ParameterError("--json", True, "cannot be combined with --batch (which writes CSV)")
    if out is not None and out.exists() and not force:
        raise ParameterError("--out", str(out), "exists; add --force to overwrite it")


def _batch_values(path: Path, options: dict[str, str]) -> dict[str, FloatArray]:
    table = read_table(path)
    if table.num_rows == 0:
        raise ParameterError("--batch", str(path), "has no data rows")
    lookup = {q.name: q.name for q in QUANTITIES} | {q.name.replace("-", "_"): q.name for q in QUANTITIES} | {
        q.alias: q.name for q in QUANTITIES if q.alias}
    values: dict[str, FloatArray] = {}
    for column in table.column_names:
        name = lookup.get(column.strip())
        if name is None:
            valid = ", ".join(q.name for q in QUANTITIES)
            raise ParameterError(f"--batch column {column!r}", str(path), f"unknown column; valid: {valid}")
        if name in options:
            raise ParameterError(f"--{name}", options[name], f"is also a column of {path.name}; give it once")
        values[name] = column_values(table, column, f"--{name}", BY_NAME[name].dimension, EMPTY_CELL.get(name))
    for name, text in options.items():
        values[name] = np.full(1, parse_quantity(text, BY_NAME[name].dimension, f"--{name}"))
    return values


def _table(report: dict[str, Any]) -> str:
    def energy(value: float | None) -> str:
        return "-" if value is None else format_quantity(value, Dimension.JOULES)

    local, offload = report["local"], report["offload"]

    def seconds(value: float) -> str:
        return format_quantity(value, Dimension.SECONDS)

    chosen = report["energy_view"]
    # the other view beside the chosen one, when its powers were given too
    others = [view for view, value in report["energies"].items() if view != chosen and value is not None]
    header = f"{'option':<10}{'latency':>12}{'energy':>12}"
    lines = [header + "".join(f"{view + ' energy':>16}" for view in others)]
    for name, row in (("local", local), ("offload", offload)):
        late = "" if row["meets_deadline"] or report["deadline_s"] is None else "  (misses the deadline)"
        beside = "".join(f"{energy(report['energies'][view][name + '_j']):>16}" for view in others)
        lines.append(f"{name:<10}{seconds(row['latency_s']):>12}{energy(row['energy_j']):>12}{beside}{late}")
    lines.append("  offload = " + " + ".join(f"{term[:-2].replace('_', ' ')} {seconds(v)}"
                                             for term, v in offload["breakdown"].items()))
    winner, loser = (offload, local) if report["decision"] == "offload" else (local, offload)
    gain = [_change(loser["latency_s"] - winner["latency_s"], seconds, "latency")]
    if winner["energy_j"] is not None:
        gain.append(_change(loser["energy_j"] - winner["energy_j"], energy, "energy"))
    if winner["latency_s"] > 0 and loser["latency_s"] > 0:
        ratio = loser["latency_s"] / winner["latency_s"]
        gain.append(f"{ratio:.3g}x faster" if ratio >= 1 else f"{1 / ratio:.3g}x slower")
    verdict = f"decision: {report['decision'].upper()} ({', '.join(gain)}; objective {report['objective']}"
    if report["objective"] != "latency":
        verdict += f", {report['energy_view']} energy, score {winner['score']:.4g} vs {loser['score']:.4g}"
    lines.append(verdict + ")")
    if report["unused"]:
        unused = ", ".join(f"--{name}" for name in report["unused"])
        lines.append(f"note: the {chosen} energy view does not use {unused}"
                     + (f" (see the {others[0]} energy column)" if others else ""))
    if "partial" in report:
        split = report["partial"]
        late = "" if split["feasible"] else "  (misses the deadline)"
        lines.append(f"{'partial':<10}{seconds(split['latency_s']):>12}{energy(split['energy_j']):>12}"
                     f"  offload {split['fraction']:.1%} of the work, run the rest locally in parallel{late}")
    if report["deadline_missed"]:
        lines.append("warning: no option meets the deadline; the fastest was chosen")
    flip = report["break_even"]
    if flip["uplink_bps"] is None:
        lines.append(f"break-even uplink: none (offloading {flip['offload_wins']} wins at any uplink)")
    else:
        lines.append(f"break-even uplink: {format_quantity(flip['uplink_bps'], Dimension.BPS)} "
                     f"(offloading wins {flip['offload_wins']} it)")
    return "\n".join(lines)


def _change(saving: float, render: Callable[[float], str], what: str) -> str:
    return f"{render(saving)} less {what}" if saving >= 0 else f"{render(-saving)} more {what}"
