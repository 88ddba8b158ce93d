"""``mecsim decide``: should one task (or every row of a CSV) run on the device or be offloaded to the edge?

Every option accepts human units (``300kB``, ``20Mbps``, ``9ms``, ``1.5GHz``, ``16.8G``, ``6.4W``); plain numbers are
SI. The single-task mode is the batch mode with one row: both build one :class:`offload.inputs.CostInputs`.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from offload.batch import decide_batch
from offload.breakeven import Parameter, break_even_batch
from offload.cost import LOCAL_OPTION, cost_arrays
from offload.decision import EnergyView, Objective, OffloadDecision, Preference, decide
from offload.errors import ParameterError
from offload.formulas import propagation_delay_s, round_trip_s
from offload.inputs import CostInputs
from offload.units import Dimension, format_quantity, parse_quantity
from simulator.cli.decide_csv import check_column, column_values, labels, read_table, write_table

FloatArray = npt.NDArray[np.float64]
TARGET = "offload"


@dataclass(frozen=True, slots=True)
class Quantity:
    """One numeric option (and CSV column): its name, seed alias, dimension, rule and help."""

    name: str
    alias: str | None
    dimension: Dimension
    positive: bool
    help: str


QUANTITIES = (
    Quantity("compute", "C", Dimension.OPS, False, "Work per task (ops, cycles or FLOPs), e.g. 16.8G."),
    Quantity("device-speed", "Pd", Dimension.OPS_PER_S, True, "Device speed, e.g. 1.5GHz (needs --compute)."),
    Quantity("edge-speed", "Pe", Dimension.OPS_PER_S, True, "Edge speed, e.g. 2TFLOPS (needs --compute)."),
    Quantity("device-time", None, Dimension.SECONDS, False, "Measured time on the device, e.g. 13s."),
    Quantity("edge-time", None, Dimension.SECONDS, False, "Measured time on the edge, e.g. 9ms."),
    Quantity("data", "D", Dimension.BITS, False, "Input sent to the edge, e.g. 300kB.  [required]"),
    Quantity("uplink", "Bc", Dimension.BPS, True, "Uplink throughput, e.g. 5Mbps.  [required]"),
    Quantity("result", None, Dimension.BITS, False, "Result returned by the edge, e.g. 2kB (default 0)."),
    Quantity("downlink", None, Dimension.BPS, True, "Downlink throughput (default: the uplink; needs --result)."),
    Quantity("rtt", None, Dimension.SECONDS, False, "Round-trip time, e.g. 20ms (default 0)."),
    Quantity("distance", None, Dimension.METRES, False, "Fibre distance to the edge; adds 9.8 µs per km to the RTT."),
    Quantity("edge-wait", None, Dimension.SECONDS, False, "Expected queueing wait at the edge (default 0)."),
    Quantity("device-power", "Ed", Dimension.WATTS, False, "Device power while computing, e.g. 6.4W."),
    Quantity("edge-power", "Ee", Dimension.WATTS, False, "Edge power while computing (system view only)."),
    Quantity("radio-power", "Ec", Dimension.WATTS, False, "Device radio power while transmitting."),
    Quantity("rx-power", None, Dimension.WATTS, False, "Radio power while receiving (default: --radio-power)."),
    Quantity("idle-power", None, Dimension.WATTS, False, "Device power while waiting (device view only)."),
    Quantity("tail-energy", None, Dimension.JOULES, False, "Radio tail energy per offload (device view only)."),
    Quantity("deadline", None, Dimension.SECONDS, True, "Latest acceptable latency; late options are excluded."),
)
BY_NAME = {q.name: q for q in QUANTITIES}
#: what an empty CSV cell means for optional quantities (others must be filled in)
EMPTY_CELL = {"deadline": math.inf, "result": 0.0, "rtt": 0.0, "distance": 0.0, "edge-wait": 0.0,
              "idle-power": 0.0, "tail-energy": 0.0}
DEVICE_VIEW_ONLY = ("idle-power", "tail-energy", "rx-power")

RULES = """\b
Rules (bad input exits 2 with one line naming the option):
  * each side is EITHER a measured time (--device-time / --edge-time) OR a speed
    (--device-speed / --edge-speed, which needs --compute); not both, not neither;
    --compute without any speed is rejected (it would be ignored);
  * --data and --uplink are required; --downlink needs --result;
  * --rtt and --distance add up; speeds, throughputs and --deadline must be > 0,
    everything else >= 0; NaN and unknown units are rejected;
  * energies need --device-power and --radio-power (and --edge-power for
    --energy-view system); --idle-power, --rx-power, --tail-energy apply to the
    device view only, --edge-power to the system view only; --objective energy
    or weighted needs the energies;
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
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the table.")
@click.option("--batch", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Decide every row of FILE.csv; writes CSV to stdout or --out.")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=None, help="CSV output file.")
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
@click.option("--debug", is_flag=True, help="Show a traceback on errors.")
@click.pass_context
def command(ctx: click.Context, /, objective: str, energy_view: str, w_latency: str | None, w_energy: str | None,
            normalise: bool, as_json: bool, batch: Path | None, out: Path | None, force: bool, debug: bool,
            **given: str | None) -> None:
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
    _check_output_options(batch, out, force, as_json)
    if batch is None:
        values: dict[str, FloatArray] = {
            name: np.array([parse_quantity(text, BY_NAME[name].dimension, f"--{name}")]) for name, text in
            options.items()}
        rows_are_lines = False
    else:
        values = _batch_values(batch, options)
        rows_are_lines = True
    for name, array in values.items():
        from_option = name in options
        try:
            check_column(array, f"--{name}" if from_option else f"--{name} (column {name!r})",
                         positive=BY_NAME[name].positive, rows_are_lines=rows_are_lines and not from_option,
                         allow_inf=name == "deadline" and not from_option)
        except ParameterError as error:
            raise ParameterError(error.name, options[name], error.rule) if from_option else error from None
    preference = _preference(objective, energy_view, w_latency, w_energy, normalise, set(values))
    inputs = _inputs(values, preference)
    if batch is None:
        _single(inputs, preference, as_json, energies=_has_energy(set(values), preference))
    else:
        _write_batch(inputs, preference, set(values), out, energies=_has_energy(set(values), preference))


def _check_output_options(batch: Path | None, out: Path | None, force: bool, as_json: bool) -> None:
    if batch is None and out is not None:
        raise ParameterError("--out", str(out), "needs --batch (the single-task result goes to stdout)")
    if force and out is None:
        raise ParameterError("--force", True, "needs --out")
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


def _require(condition: bool, name: str, value: object, rule: str) -> None:
    if not condition:
        raise ParameterError(name, value, rule)


def _check_sides(present: set[str]) -> None:
    for side in ("device", "edge"):
        speed, time = f"{side}-speed", f"{side}-time"
        _require(not (speed in present and time in present), f"--{time}", None,
                 f"give --{time} or --{speed}, not both")
        _require(speed in present or time in present, f"--{time}", None,
                 f"missing: give --{time} (measured) or --{speed} with --compute")
        _require(speed not in present or "compute" in present, "--compute", None,
                 f"missing: --{speed} needs the work per task")
    _require("compute" not in present or bool({"device-speed", "edge-speed"} & present), "--compute", None,
             "is only used with --device-speed or --edge-speed (both sides are measured times)")
    for name in ("data", "uplink"):
        _require(name in present, f"--{name}", None, "missing required value")
    _require("downlink" not in present or "result" in present, "--downlink", None, "needs --result")


def _check_energy(present: set[str], view: EnergyView, objective: Objective) -> None:
    powers = {"device-power", "radio-power", "edge-power", *DEVICE_VIEW_ONLY} & present
    needed = {"device-power", "radio-power"} | ({"edge-power"} if view is EnergyView.SYSTEM else set())
    if objective is not Objective.LATENCY or powers:
        missing = sorted(needed - present)
        _require(not missing, f"--{missing[0]}" if missing else "", None,
                 f"missing: energies ({objective.value} objective / power options given) need "
                 + ", ".join(f"--{n}" for n in sorted(needed)))
    for name in DEVICE_VIEW_ONLY:
        _require(view is EnergyView.DEVICE or name not in present, f"--{name}", None,
                 "applies to --energy-view device only")
    _require(view is EnergyView.SYSTEM or "edge-power" not in present, "--edge-power", None,
             "applies to --energy-view system only (the device view charges the battery, not the edge)")


def _preference(objective: str, energy_view: str, w_latency: str | None, w_energy: str | None, normalise: bool,
                present: set[str]) -> Preference:
    chosen, view = Objective(objective), EnergyView(energy_view)
    weighted = chosen is Objective.WEIGHTED
    for flag, value in (("--w-latency", w_latency), ("--w-energy", w_energy), ("--normalise", normalise or None)):
        _require(weighted or value is None, flag, None, "applies to --objective weighted only")
    _check_sides(present)
    _check_energy(present, view, chosen)
    weights = [parse_quantity(text if text is not None else 0.5, Dimension.DIMENSIONLESS, flag)
               for flag, text in (("--w-latency", w_latency), ("--w-energy", w_energy))]
    for flag, weight in zip(("--w-latency", "--w-energy"), weights, strict=True):
        _require(math.isfinite(weight) and weight >= 0, flag, weight, "must be >= 0 and finite")
    _require(not weighted or any(weights), "--w-latency", 0.0, "--w-latency and --w-energy cannot both be 0")
    return Preference(chosen, view, weights[0], weights[1], normalise)


def _has_energy(present: set[str], preference: Preference) -> bool:
    return {"device-power", "radio-power"} <= present and (
        preference.energy_view is EnergyView.DEVICE or "edge-power" in present)


def _inputs(values: dict[str, FloatArray], preference: Preference) -> CostInputs:
    def get(name: str, default: float | FloatArray = 0.0) -> float | FloatArray:
        return values.get(name, default)

    inf = math.inf
    round_trip = round_trip_s(propagation_delay_s(get("distance")), get("rtt"))
    return CostInputs(
        work_ops=get("compute"), input_bits=get("data"), output_bits=get("result"), deadline_s=get("deadline", inf),
        device_speed_ops_per_s=get("device-speed", inf), device_time_s=get("device-time"),
        device_compute_power_w=get("device-power"), idle_power_w=get("idle-power"), tx_power_w=get("radio-power"),
        rx_power_w=get("rx-power", get("radio-power")), tail_energy_j=get("tail-energy"),
        server_speed_ops_per_s=_column(get("edge-speed", inf)), server_time_s=_column(get("edge-time")),
        server_compute_power_w=_column(get("edge-power")), wait_s=_column(get("edge-wait")),
        uplink_bps=_column(get("uplink")), downlink_bps=_column(get("downlink", get("uplink"))),
        round_trip_s=_column(round_trip), target_names=[TARGET],
    )


def _column(value: float | FloatArray) -> FloatArray:
    """A per-row target quantity as a ``(rows, 1)`` array (one target)."""
    return np.asarray(value, dtype=np.float64).reshape(-1, 1)


def _none_if_nan(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _single(inputs: CostInputs, preference: Preference, as_json: bool, *, energies: bool) -> None:
    result = decide(cost_arrays(inputs), preference, inputs.deadline_s)
    flip = break_even_batch(Parameter.UPLINK, inputs, preference)
    report = _report(result, preference, energies, float(flip.value[0, 0]), str(flip.offload_wins[0, 0]),
                     float(inputs.array("deadline_s")[0]))
    click.echo(json.dumps(report, indent=2) if as_json else _table(report))


def _report(result: OffloadDecision, preference: Preference, energies: bool, break_even_bps: float, wins: str,
            deadline_s: float) -> dict[str, Any]:
    costs = result.costs
    energy = preference.energy_j(costs)

    def option(j: int) -> dict[str, Any]:
        return {"latency_s": float(costs.latency_s[0, j]), "energy_j": float(energy[0, j]) if energies else None,
                "score": float(result.score[0, j]), "meets_deadline": bool(result.meets_deadline[0, j])}

    offload = option(1) | {"breakdown": {term: float(getattr(costs, term)[0, 1]) for term in (
        "upload_s", "round_trip_s", "wait_s", "compute_s", "download_s")}}
    return {
        "decision": "local" if result.choice[0] == LOCAL_OPTION else "offload",
        "objective": preference.objective.value, "energy_view": preference.energy_view.value,
        "deadline_s": _none_if_nan(deadline_s), "deadline_missed": bool(result.deadline_missed[0]),
        "local": option(0), "offload": offload,
        "break_even": {"uplink_bps": _none_if_nan(break_even_bps), "offload_wins": wins},
    }


def _table(report: dict[str, Any]) -> str:
    def energy(value: float | None) -> str:
        return "-" if value is None else format_quantity(value, Dimension.JOULES)

    def seconds(value: float) -> str:
        return format_quantity(value, Dimension.SECONDS)

    local, offload = report["local"], report["offload"]
    lines = [f"{'option':<10}{'latency':>12}{'energy':>12}"]
    for name, row in (("local", local), ("offload", offload)):
        late = "" if row["meets_deadline"] or report["deadline_s"] is None else "  (misses the deadline)"
        lines.append(f"{name:<10}{seconds(row['latency_s']):>12}{energy(row['energy_j']):>12}{late}")
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


def _write_batch(inputs: CostInputs, preference: Preference, present: set[str], out: Path | None, *,
                 energies: bool) -> None:
    result = decide_batch(inputs, preference, values=False, keep_options=True)
    assert result.option_latency_s is not None
    assert result.option_energy_j is not None
    flip = break_even_batch(Parameter.UPLINK, inputs, preference)
    columns: dict[str, npt.NDArray[np.generic] | pa.Array] = {
        "decision": labels(np.where(result.offloaded, "offload", "local"), ("local", "offload")),
        "local_latency_s": result.option_latency_s[:, 0], "offload_latency_s": result.option_latency_s[:, 1]}
    if energies:
        columns |= {"local_energy_j": result.option_energy_j[:, 0], "offload_energy_j": result.option_energy_j[:, 1]}
    if "deadline" in present:
        columns["deadline_missed"] = result.deadline_missed
    columns["break_even_uplink_bps"] = flip.value[:, 0]
    columns["offload_wins"] = labels(flip.offload_wins[:, 0], ("above", "below", "always", "never"))
    write_table(columns, out if out is not None else sys.stdout.buffer)
