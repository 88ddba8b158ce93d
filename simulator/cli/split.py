"""``mecsim split``: where to cut a deep network between the device and the edge (Neurosurgeon, ASPLOS 2017).

PROFILE is a per-layer CSV or YAML file (see :mod:`simulator.dnn.profile`) or a bundled network: ``alexnet``,
``vgg16``, ``resnet18``, ``mobilenetv2``. Options take human units (``2TFLOPS``, ``25.6GB/s``, ``8Mbps``, ``20ms``).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

import click
import numpy as np

from offload.decision import EnergyView, Objective
from offload.errors import ParameterError
from offload.radio import RADIO_PROFILES, radio_profile
from offload.split import LayerProfile, SplitCosts, SplitLink, SplitPower, split_costs
from offload.units import Dimension, format_quantity, parse_quantity
from simulator.dnn.profile import layer_profile, read_profile

RULES = """\b
Rules (bad input exits 2 with one line naming the option, file, line or column):
  * each side is EITHER the profile's measured time column (device_time_s /
    edge_time_s) OR a speed (--device-speed / --edge-speed, from the ops
    column); --device-memory / --edge-memory add the roofline's memory term
    (needs a memory_bytes column);
  * --uplink is required and > 0; --downlink defaults to the uplink;
    --load is the edge's slowdown factor (>= 1);
  * --objective energy needs --device-power and --radio-power (or --radio);
    --radio lte|3g|wifi takes transmit/receive power, tail energy and the
    promotion delay from Huang et al. (MobiSys 2012) instead of
    --radio-power, --rx-power and --tail-energy;
  * --plot FILE.png draws latency per split for --uplink and the uplinks in
    --plot-uplinks (comma-separated); it never overwrites without --force.
"""


def _quantity(text: str | None, dimension: Dimension, option: str, *, positive: bool = False,
              default: float | None = None) -> float | None:
    """Parse ``text`` (human units) and check its sign, naming ``option`` in any error."""
    if text is None:
        return default
    value = parse_quantity(text, dimension, option)
    if positive and not value > 0:
        raise ParameterError(option, text, "must be > 0")
    if not value >= 0:
        raise ParameterError(option, text, "must be >= 0")
    return value


@click.command("split", epilog=RULES)
@click.argument("profile")
@click.option("--device-speed", metavar="QTY", help="Device peak speed, e.g. 50GFLOPS (uses the ops column).")
@click.option("--edge-speed", metavar="QTY", help="Edge peak speed, e.g. 10TFLOPS (uses the ops column).")
@click.option("--device-memory", metavar="QTY", help="Device memory bandwidth, e.g. 12.8GB/s (roofline).")
@click.option("--edge-memory", metavar="QTY", help="Edge memory bandwidth, e.g. 900GB/s (roofline).")
@click.option("--uplink", required=True, metavar="QTY", help="Uplink throughput, e.g. 8Mbps.  [required]")
@click.option("--downlink", metavar="QTY", help="Downlink throughput (default: the uplink).")
@click.option("--rtt", metavar="QTY", help="Round-trip time, e.g. 20ms (default 0).")
@click.option("--load", "load_text", metavar="X", default="1", show_default=True,
              help="Edge load factor: edge times are multiplied by it (>= 1).")
@click.option("--objective", type=click.Choice([Objective.LATENCY.value, Objective.ENERGY.value]),
              default="latency", show_default=True, help="What the best split minimises.")
@click.option("--energy-view", type=click.Choice([v.value for v in EnergyView]), default="device",
              show_default=True, help="Whose energy counts: the device battery or device + edge.")
@click.option("--device-power", metavar="QTY", help="Device power while computing, e.g. 5W.")
@click.option("--radio-power", metavar="QTY", help="Device radio power while transmitting.")
@click.option("--rx-power", metavar="QTY", help="Radio power while receiving (default: --radio-power).")
@click.option("--idle-power", metavar="QTY", help="Device power while waiting for the edge (device view).")
@click.option("--tail-energy", metavar="QTY", help="Radio tail energy per offload (device view).")
@click.option("--edge-power", metavar="QTY", help="Edge power while computing (system view).")
@click.option("--radio", type=click.Choice(list(RADIO_PROFILES)), default=None,
              help="Radio power model (Huang et al. 2012) instead of --radio-power/--rx-power/--tail-energy.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the table.")
@click.option("--plot", "plot_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the latency-per-split figure (PNG).")
@click.option("--plot-uplinks", metavar="LIST", default=None,
              help="More uplinks for --plot, e.g. 1Mbps,10Mbps,100Mbps.")
@click.option("--force", is_flag=True, help="Overwrite --plot if it exists.")
def command(profile: str, device_speed: str | None, edge_speed: str | None, device_memory: str | None,
            edge_memory: str | None, uplink: str, downlink: str | None, rtt: str | None, load_text: str,
            objective: str, energy_view: str, device_power: str | None, radio_power: str | None,
            rx_power: str | None, idle_power: str | None, tail_energy: str | None, edge_power: str | None,
            radio: str | None, as_json: bool, plot_path: Path | None, plot_uplinks: str | None,
            force: bool) -> None:
    """Price every split point of a network and print the best.

    \b
    Example (AlexNet, a phone GPU and an edge GPU over LTE):
      mecsim split alexnet --device-speed 100GFLOPS --edge-speed 10TFLOPS --uplink 8Mbps --rtt 20ms
    """
    ops_per_s, bps = Dimension.OPS_PER_S, Dimension.BPS
    table = read_profile(profile)
    layers = layer_profile(
        table, device_speed_ops_per_s=_quantity(device_speed, ops_per_s, "--device-speed", positive=True),
        edge_speed_ops_per_s=_quantity(edge_speed, ops_per_s, "--edge-speed", positive=True),
        device_memory_bps=_quantity(device_memory, bps, "--device-memory", positive=True) or math.inf,
        edge_memory_bps=_quantity(edge_memory, bps, "--edge-memory", positive=True) or math.inf)
    uplink_bps = _quantity(uplink, bps, "--uplink", positive=True)
    assert uplink_bps is not None
    downlink_bps = _quantity(downlink, bps, "--downlink", positive=True, default=uplink_bps)
    assert downlink_bps is not None
    round_trip = _quantity(rtt, Dimension.SECONDS, "--rtt", default=0.0) or 0.0
    load = _quantity(load_text, Dimension.DIMENSIONLESS, "--load", positive=True)
    if load is None or load < 1:
        raise ParameterError("--load", load_text, "must be >= 1 (1 = an idle edge server)")
    power, round_trip = _power(radio, uplink_bps, downlink_bps, round_trip, device_power=device_power,
                               radio_power=radio_power, rx_power=rx_power, idle_power=idle_power,
                               tail_energy=tail_energy, edge_power=edge_power)
    goal, view = Objective(objective), EnergyView(energy_view)
    if goal is Objective.ENERGY and (device_power is None or (radio_power is None and radio is None)):
        raise ParameterError("--objective", "energy", "needs --device-power and --radio-power (or --radio)")
    costs = split_costs(layers, SplitLink(uplink_bps, downlink_bps, round_trip, load), power)
    report = _report(costs, goal, view, table.source, uplink_bps)
    if plot_path is not None:
        _write_plot(plot_path, force, layers, uplink_bps, plot_uplinks, None if downlink is None else downlink_bps,
                    round_trip, load, power)
    click.echo(json.dumps(report, indent=2) if as_json else "\n".join(_lines(report, view)))


def _power(radio: str | None, uplink_bps: float, downlink_bps: float, round_trip_s: float, *,
           device_power: str | None, radio_power: str | None, rx_power: str | None, idle_power: str | None,
           tail_energy: str | None, edge_power: str | None) -> tuple[SplitPower, float]:
    """The power model and the round trip (a radio's promotion delay is paid once per offload)."""
    watts = Dimension.WATTS
    values = {name: _quantity(text, watts, f"--{name}") for name, text in (
        ("device-power", device_power), ("radio-power", radio_power), ("rx-power", rx_power),
        ("idle-power", idle_power), ("edge-power", edge_power))}
    tail = _quantity(tail_energy, Dimension.JOULES, "--tail-energy")
    if radio is not None:
        clash = [f"--{n}" for n, v in (("radio-power", radio_power), ("rx-power", rx_power),
                                       ("tail-energy", tail_energy)) if v is not None]
        if clash:
            raise ParameterError("--radio", radio, f"replaces {', '.join(clash)}; give one or the other")
        model = radio_profile(radio)
        tx, rx = float(model.tx_power_w(uplink_bps)), float(model.rx_power_w(downlink_bps))
        return (SplitPower(values["device-power"] or 0.0, tx, rx, values["idle-power"] or 0.0, model.tail_energy_j,
                           values["edge-power"] or 0.0), round_trip_s + model.promotion_s)
    tx = values["radio-power"] or 0.0
    rx = values["rx-power"] if values["rx-power"] is not None else tx
    return (SplitPower(values["device-power"] or 0.0, tx, rx, values["idle-power"] or 0.0, tail or 0.0,
                       values["edge-power"] or 0.0), round_trip_s)


def _report(costs: SplitCosts, goal: Objective, view: EnergyView, source: str, uplink_bps: float) -> dict[str, object]:
    """The ``--json`` object: every split and the best under the objective."""
    energy = costs.device_energy_j if view is EnergyView.DEVICE else costs.system_energy_j
    best = int(np.argmin(costs.objective(goal, view)[:, 0]))
    splits = [{"after": name, "latency_s": float(costs.latency_s[k, 0]), "energy_j": float(energy[k, 0]),
               "device_energy_j": float(costs.device_energy_j[k, 0]),
               "system_energy_j": float(costs.system_energy_j[k, 0])} for k, name in enumerate(costs.after)]
    return {"profile": source, "objective": goal.value, "energy_view": view.value, "uplink_bps": uplink_bps,
            "best": {"index": best, **splits[best]}, "splits": splits}


def _lines(report: dict[str, object], view: EnergyView) -> list[str]:
    splits = report["splits"]
    best = report["best"]
    assert isinstance(splits, list)
    assert isinstance(best, dict)
    lines = [f"{'split after':<14} {'latency':>12} {f'{view.value} energy':>16}"]
    for row in splits:
        mark = "  <- best" if row["after"] == best["after"] else ""
        lines.append(f"{row['after']:<14} {format_quantity(row['latency_s'], Dimension.SECONDS):>12} "
                     f"{format_quantity(row['energy_j'], Dimension.JOULES):>16}{mark}")
    where = {"input": "full offload"}.get(best["after"], "all local" if best["index"] == len(splits) - 1
                                          else f"device runs up to {best['after']}")
    lines.append(f"best ({report['objective']}): after {best['after']} ({where}): "
                 f"{format_quantity(best['latency_s'], Dimension.SECONDS)}, "
                 f"{format_quantity(best['energy_j'], Dimension.JOULES)}")
    return lines


def _write_plot(path: Path, force: bool, layers: LayerProfile, uplink_bps: float, plot_uplinks: str | None,
                downlink_bps: float | None, round_trip_s: float, load: float, power: SplitPower) -> None:
    """Render the latency-per-split figure for every uplink (the downlink follows the uplink unless fixed), written
    beside ``path`` and renamed into place."""
    from simulator.plots.split import split_latency_plot

    if path.exists() and not force:
        raise ParameterError("--plot", str(path), "exists; add --force to overwrite it")
    more = [_quantity(text.strip(), Dimension.BPS, "--plot-uplinks", positive=True)
            for text in (plot_uplinks or "").split(",") if text.strip()]
    uplinks = np.array(sorted({uplink_bps, *(float(v or 0.0) for v in more)}))
    link = SplitLink(uplinks, uplinks if downlink_bps is None else downlink_bps, round_trip_s, load)
    table = split_costs(layers, link, power)
    figure = split_latency_plot(table.after, table.latency_s, uplinks.tolist(),
                                title=f"latency per split point ({path.stem})")
    temporary: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".png")
        os.close(handle)
        figure.savefig(temporary, dpi=150, format="png")
        os.replace(temporary, path)
    except OSError as error:
        if temporary is not None and os.path.exists(temporary):
            os.unlink(temporary)
        raise ParameterError("--plot", str(path), f"cannot write: {error.strerror or error}") from None
