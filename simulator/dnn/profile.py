"""Reading per-layer profiles (CSV or YAML) and turning them into :class:`offload.split.LayerProfile`.

A profile is a table, one row per layer in execution order, the first row being the raw ``input``:

=================  ==========================================================================================
``layer``          name (the first row must be ``input``; its ``output_bytes`` is the raw input's size)
``output_bytes``   size of the layer's output tensor, in bytes
``ops``            work of the layer (for the roofline estimate with ``--device-speed`` / ``--edge-speed``)
``memory_bytes``   bytes the layer moves (weights and activations; the roofline's memory term), optional
``device_time_s``  measured time on the device, instead of ``ops`` and a device speed
``edge_time_s``    measured time on an unloaded edge server, instead of ``ops`` and an edge speed
``kind``, ``macs``, ``params``  informative (the bundled profiles carry them)
=================  ==========================================================================================

YAML: a mapping with a ``layers`` list of such rows. A bundled name (``alexnet``, ``vgg16``, ``resnet18``,
``mobilenetv2``; see :mod:`simulator.dnn.zoo`) may stand for a path.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from offload.errors import MecsimError
from offload.split import INPUT, LayerProfile, roofline_time_s
from simulator.dnn.zoo import DATA_DIR, NETWORKS
from simulator.scenario.errors import ScenarioError
from simulator.scenario.yamlload import load_yaml

FloatArray = npt.NDArray[np.float64]
NUMERIC = ("output_bytes", "ops", "memory_bytes", "device_time_s", "edge_time_s", "macs", "params")
KNOWN = ("layer", "kind", *NUMERIC)
SIDES = ("device", "edge")


class ProfileError(MecsimError):
    """A layer profile breaks a rule; the message names the file, line, column, value and rule."""

    def __init__(self, source: str, line: int | None, column: str | None, value: Any, rule: str) -> None:
        where = f"{source}:{line}" if line is not None else source
        what = f" {column}" if column else ""
        shown = "" if value is None else f"={value!r}"
        super().__init__(f"{where}:{what}{shown}: {rule}")


@dataclass(frozen=True, slots=True)
class ProfileTable:
    """A validated profile file: layer names and numeric columns (NaN where a row left a cell empty)."""

    source: str
    names: tuple[str, ...]
    input_bytes: float
    columns: dict[str, FloatArray]

    def has(self, column: str) -> bool:
        """Whether every layer gives ``column``."""
        return column in self.columns and not np.isnan(self.columns[column]).any()


def resolve_profile(path_or_name: str) -> Path:
    """An existing file, or the bundled profile of that name; otherwise an error listing the bundled names."""
    path = Path(path_or_name)
    if path.is_file():
        return path
    if path_or_name in NETWORKS:
        return DATA_DIR / f"{path_or_name}.csv"
    raise ProfileError(path_or_name, None, None, None,
                       f"no such file and not a bundled profile ({', '.join(NETWORKS)})")


def _rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line, row) pairs of a CSV or YAML profile."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ProfileError(str(path), None, None, None, f"cannot read: {error}") from None
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            loaded = load_yaml(text, str(path))
        except ScenarioError as error:
            raise ProfileError(str(path), None, None, None, str(error).split(": ", 1)[-1]) from None
        layers = loaded.data.get("layers") if isinstance(loaded.data, dict) else None
        if not isinstance(layers, list) or not all(isinstance(row, dict) for row in layers):
            raise ProfileError(str(path), loaded.line_of(("layers",)), "layers", None,
                               "must be a list of rows (mappings with layer, output_bytes, ...)")
        return [(loaded.line_of(("layers", i)) or 0, row) for i, row in enumerate(layers)]
    reader = csv.DictReader(text.splitlines())
    return [(index + 2, row) for index, row in enumerate(reader)]


def _number(source: str, line: int, column: str, text: Any) -> float:
    if text is None or text == "":
        return math.nan
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise ProfileError(source, line, column, text, "must be a number") from None
    if not (value >= 0 and math.isfinite(value)):
        raise ProfileError(source, line, column, text, "must be >= 0 and finite")
    return value


def read_profile(path_or_name: str) -> ProfileTable:
    """Read and check a profile: known columns only, ``input`` first, at least one layer, numbers >= 0, each of
    ``output_bytes`` filled in on every row and the other numeric columns on every layer or none."""
    path = resolve_profile(path_or_name)
    source = str(path)
    rows = _rows(path)
    for line, row in rows:
        unknown = sorted(str(key) for key in row if key not in KNOWN)
        if unknown:
            raise ProfileError(source, line, unknown[0], None, f"unknown column; known columns: {', '.join(KNOWN)}")
    if not rows or str(rows[0][1].get("layer", "")).strip() != INPUT:
        raise ProfileError(source, rows[0][0] if rows else None, "layer", None,
                           f"the first row must be {INPUT!r} (its output_bytes is the raw input size)")
    if len(rows) < 2:
        raise ProfileError(source, rows[0][0], None, None, "the profile has no layers after 'input'")
    names = []
    columns: dict[str, list[float]] = {column: [] for column in NUMERIC}
    for line, row in rows[1:]:
        name = str(row.get("layer") or "").strip()
        if not name or name == INPUT or name in names:
            raise ProfileError(source, line, "layer", name, "must be a unique, non-empty name other than 'input'")
        names.append(name)
        for column in NUMERIC:
            columns[column].append(_number(source, line, column, row.get(column)))
    line0, first = rows[0]
    input_bytes = _number(source, line0, "output_bytes", first.get("output_bytes"))
    if math.isnan(input_bytes):
        raise ProfileError(source, line0, "output_bytes", None, "the input row needs the raw input size")
    arrays = {column: np.array(values) for column, values in columns.items()}
    for column, values in arrays.items():
        missing = np.isnan(values)
        required = column == "output_bytes"
        if (required and missing.any()) or 0 < missing.sum() < len(values):
            line = rows[1 + int(np.argmax(missing))][0]
            rule = "is required on every layer" if required else "is empty here but given on other layers"
            raise ProfileError(source, line, column, None, rule)
    return ProfileTable(source, tuple(names), input_bytes, {c: v for c, v in arrays.items() if not np.isnan(v).all()})


def side_times_s(table: ProfileTable, side: str, speed_ops_per_s: float | None,
                 memory_bps: float = math.inf) -> FloatArray:
    """Per-layer times on ``side`` (``device`` or ``edge``): the measured column, or the roofline of ``ops`` (and
    ``memory_bytes`` when a memory bandwidth is given) at ``speed_ops_per_s``. Exactly one of the two must exist."""
    option = f"--{side}-speed"
    measured = table.has(f"{side}_time_s")
    if measured and speed_ops_per_s is not None:
        raise ProfileError(table.source, None, option, None,
                           f"the profile has measured {side}_time_s; give either the column or {option}, not both")
    if measured:
        return table.columns[f"{side}_time_s"]
    if speed_ops_per_s is None:
        raise ProfileError(table.source, None, option, None,
                           f"needed: the profile has no {side}_time_s column to use instead")
    if not table.has("ops"):
        raise ProfileError(table.source, None, "ops", None, f"{option} needs an ops column in the profile")
    memory_bits = table.columns["memory_bytes"] * 8 if table.has("memory_bytes") else 0.0
    if math.isfinite(memory_bps) and not table.has("memory_bytes"):
        raise ProfileError(table.source, None, "memory_bytes", None,
                           f"--{side}-memory needs a memory_bytes column in the profile")
    return np.asarray(roofline_time_s(table.columns["ops"], memory_bits, speed_ops_per_s, memory_bps))


def layer_profile(table: ProfileTable, *, device_speed_ops_per_s: float | None = None,
                  edge_speed_ops_per_s: float | None = None, device_memory_bps: float = math.inf,
                  edge_memory_bps: float = math.inf) -> LayerProfile:
    """The :class:`offload.split.LayerProfile` of ``table`` on a given device and edge server (SI units)."""
    return LayerProfile(
        table.names, table.input_bytes * 8, table.columns["output_bytes"] * 8,
        side_times_s(table, "device", device_speed_ops_per_s, device_memory_bps),
        side_times_s(table, "edge", edge_speed_ops_per_s, edge_memory_bps))
