"""The mobility sections of a scenario (:mod:`simulator.scenario.mobility_schema`): their rules, each a
:class:`~simulator.world.Problem` at the YAML path of the offending value, and their one conversion to a
:class:`simulator.mobility.Mobility` (trace files read once, here)."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from offload.errors import MecsimError
from offload.pathloss import RadioModel
from scheduler.geo import local_xy_m
from simulator.mobility import MOBILITY_MODELS, Area, MobilityModel, Trace, mobility_model
from simulator.mobility.controller import Cell, GroupMotion, HandoverRule, Mobility
from simulator.scenario.migration import migration_from_spec
from simulator.scenario.mobility_schema import MODEL_PARAMETERS, AreaSpec, LatLon, MobilitySpec, Position, RadioSpec
from simulator.scenario.replacement import replacements_from_spec
from simulator.scenario.schema import ScenarioSpec
from simulator.world import Path as YamlPath
from simulator.world import Problem, World, undefined

#: Tolerance for a position on the edge of the area (rounding of a projection).
_EDGE_M = 1e-6


class _Plane:
    """The area as a plane, and positions of the file projected onto it."""

    def __init__(self, area: AreaSpec) -> None:
        self.spec = area
        if area.geographic:
            corner = local_xy_m(area.north, area.east, area.south, area.west)  # type: ignore[arg-type]
            self.area = Area(float(corner[0]), float(corner[1]))
        else:
            self.area = Area(area.width, area.height)  # type: ignore[arg-type]

    def xy(self, position: Position) -> tuple[float, float] | str:
        """The position on the plane, or why it cannot be read."""
        if isinstance(position, LatLon) != self.spec.geographic:
            return ("must be {lat, lon}: the area is a latitude/longitude box" if self.spec.geographic
                    else "must be [x, y] in metres: the area is a plane (width, height)")
        if isinstance(position, LatLon):
            xy = local_xy_m(position.lat, position.lon, self.spec.south, self.spec.west)  # type: ignore[arg-type]
            return float(xy[0]), float(xy[1])
        return float(position[0]), float(position[1])

    def outside(self, xy: np.ndarray) -> np.ndarray:
        """Which points lie outside the area."""
        return ~np.asarray(((xy >= -_EDGE_M) & (xy <= self.area.size_m + _EDGE_M)).all(axis=-1))


def mobility_from_spec(spec: ScenarioSpec, base_dir: Path, world: World | None) -> tuple[Mobility | None,
                                                                                          list[Problem]]:
    """The scenario's :class:`Mobility` (``None``: nothing moves) and every problem of its sections; with the
    ``world``, also that every cell reaches a host of each moving group's service."""
    moving = [index for index, group in enumerate(spec.devices) if group.mobility is not None]
    problems: list[Problem] = []
    if not moving:
        problems += [Problem((key,), None, "no device group moves (give a group a mobility section)")
                     for key in ("area", "handover", "migration") if getattr(spec, key) is not None]
        problems += [Problem(("replacements", i), None, "no device group moves (give a group a mobility section)")
                     for i in range(len(spec.replacements))]
        problems += [Problem(("services", i, "state"), None, "only for the sessions of moving devices (give a group "
                             "a mobility section)") for i, service in enumerate(spec.services)
                     if service.state is not None]
        problems += [Problem(("access_points", i, key), None, "only for moving devices (give a group a mobility "
                             "section)") for i, ap in enumerate(spec.access_points)
                     for key in ("position", "range", "radio") if getattr(ap, key) is not None]
        return None, problems
    if spec.area is None:
        return None, [Problem(("devices", moving[0], "mobility"), None, "moving devices need a top-level area")]
    plane = _Plane(spec.area)
    cells = list(_cells(spec, plane, problems))
    rule = spec.handover
    handover = HandoverRule() if rule is None else HandoverRule(rule.rule, rule.hysteresis_db, rule.time_to_trigger,
                                                                 rule.interruption, rule.in_flight)
    if handover.rule == "strongest":
        problems += [Problem(("access_points", i, "radio"), None, "handover rule 'strongest' needs a radio on "
                             "every access point") for i, ap in enumerate(spec.access_points) if ap.radio is None]
    motions = []
    for index in moving:
        motion = _motion(spec, index, plane, base_dir, problems)
        if motion is not None:
            motions.append(motion)
    if world is not None:
        problems += _reach(spec, world, moving)
    if spec.placement is not None:
        names = ", ".join(repr(spec.devices[index].name) for index in moving)
        problems.append(Problem(("placement",), None, f"fixes every group's servers before the run, but {names} "
                                "move and are served on their current cell: drop placement, or place the service "
                                "online with replacements"))
    migration, found = migration_from_spec(spec, moving)
    problems += found
    replacements, found = replacements_from_spec(spec)
    problems += found
    if problems:
        return None, problems
    return Mobility(plane.area, tuple(cells), tuple(motions), handover, migration, replacements), []


def _cells(spec: ScenarioSpec, plane: _Plane, problems: list[Problem]) -> Iterator[Cell]:
    for index, ap in enumerate(spec.access_points):
        where: YamlPath = ("access_points", index)
        if ap.position is None:
            problems.append(Problem(where, None, "needs a position: devices move"))
            continue
        xy = plane.xy(ap.position)
        if isinstance(xy, str):
            problems.append(Problem((*where, "position"), None, xy))
            continue
        if plane.outside(np.array(xy)):
            problems.append(Problem((*where, "position"), None, _outside(plane, xy)))
            continue
        radio = None if ap.radio is None else _radio(ap.radio, (*where, "radio"), problems)
        if radio is not None and radio.downlink_power_w is not None and ap.downlink is None \
                and ap.downlink_table is None:
            problems.append(Problem((*where, "radio", "downlink_power"), radio.downlink_power_w, "needs the access "
                                    "point's downlink (the cell's capacity, which its concurrent downloads share)"))
        yield Cell(ap.name, xy, math.inf if ap.range is None else ap.range, radio)


def _outside(plane: _Plane, xy: tuple[float, float]) -> str:
    area = plane.area
    return (f"lies outside the area (at x={xy[0]:.1f} m, y={xy[1]:.1f} m of a {area.width_m:.1f} m × "
            f"{area.height_m:.1f} m plane)")


def _radio(spec: RadioSpec, where: YamlPath, problems: list[Problem]) -> RadioModel | None:
    found = len(problems)
    problems.extend(Problem((*where, key), getattr(spec, key), "must be > 0") for key in ("tx_power", "downlink_power")
                    if getattr(spec, key) is not None and getattr(spec, key) <= 0)
    if spec.downlink_power is None:
        problems.extend(Problem((*where, key), getattr(spec, key), "only with downlink_power (the access point's "
                                "transmit power): without it the downlink keeps the cell's rate")
                        for key in ("downlink_peak", "device_noise_figure_db") if key in spec.model_fields_set)
    if len(problems) > found:
        return None
    extra = {} if spec.reference_loss_db is None else {"reference_loss_db": spec.reference_loss_db}
    return RadioModel(spec.bandwidth, spec.tx_power, spec.path_loss_exponent, spec.shadowing_db,
                      math.inf if spec.peak is None else spec.peak, noise_figure_db=spec.noise_figure_db,
                      channel=spec.channel, downlink_power_w=spec.downlink_power,
                      device_noise_figure_db=spec.device_noise_figure_db,
                      downlink_peak_bps=math.inf if spec.downlink_peak is None else spec.downlink_peak, **extra)


def _motion(spec: ScenarioSpec, index: int, plane: _Plane, base_dir: Path,
            problems: list[Problem]) -> GroupMotion | None:
    group = spec.devices[index]
    where: YamlPath = ("devices", index, "mobility")
    mobility = group.mobility
    assert mobility is not None
    found = len(problems)
    if mobility.model not in MOBILITY_MODELS:
        problems.append(undefined((*where, "model"), mobility.model, "mobility model", list(MOBILITY_MODELS)))
        return None
    takes, needs = MODEL_PARAMETERS[mobility.model]
    problems.extend(Problem((*where, key), None, f"is not a parameter of model {mobility.model!r} (it takes "
                                                 f"{', '.join(takes) or 'none'})")
                    for key in sorted(mobility.model_fields_set - {"model", "step", "start", *takes}))
    problems.extend(Problem(where, None, f"model {mobility.model!r} needs {key}")
                    for key in needs if getattr(mobility, key) is None)
    if len(problems) > found:
        return None
    model = _model(mobility, group.count, plane, base_dir, (*where, "trace"), problems)
    start = None if mobility.start is None else _start(mobility.start, group.count, plane, base_dir,
                                                         (*where, "start"), problems)
    if model is None or (mobility.start is not None and start is None):
        return None
    return GroupMotion(group.name, model, mobility.step, start)


def _start(name: str, count: int, plane: _Plane, base_dir: Path, where: YamlPath,
           problems: list[Problem]) -> np.ndarray | None:
    """Every device's position at time 0 in the trace-format file ``name``."""
    trace = _trace(name, count, plane, base_dir, where, problems)
    if trace is None:
        return None
    missing = sorted(set(range(count)) - set(trace.devices.tolist()))
    if missing:
        problems.append(Problem(where, name, f"has no row for devices {', '.join(map(str, missing[:5]))}"
                                             f"{' ...' if len(missing) > 5 else ''} (every device needs a start)"))
        return None
    return trace.start(np.zeros((count, 2)), plane.area, np.random.default_rng(0)).positions_m


def _model(mobility: MobilitySpec, count: int, plane: _Plane, base_dir: Path, where: YamlPath,
           problems: list[Problem]) -> MobilityModel | None:
    if mobility.model == "trace":
        return _trace(mobility.trace or "", count, plane, base_dir, where, problems)
    low, high = (mobility.speed, mobility.speed) if not isinstance(mobility.speed, list) else mobility.speed
    parameters: dict[str, float] = {}
    if mobility.model in ("random_waypoint", "random_direction"):
        if low is not None and high is not None and high < low:
            problems.append(Problem((*where[:-1], "speed", 1), high, f"must be >= the minimum speed ({low:g} m/s)"))
            return None
        parameters = {"speed_min_mps": low or 0.0, "speed_max_mps": high or 0.0}
        if mobility.pause is not None:
            parameters["pause_s"] = mobility.pause
        if mobility.epoch is not None:
            parameters["epoch_s"] = mobility.epoch
    elif mobility.model == "gauss_markov":
        if isinstance(mobility.speed, list):
            problems.append(Problem((*where[:-1], "speed"), None, "gauss_markov takes one mean speed, not a range"))
            return None
        parameters = {"mean_speed_mps": low or 0.0, "alpha": mobility.alpha or 0.0}
        if mobility.speed_sd is not None:
            parameters["speed_sd_mps"] = mobility.speed_sd
        if mobility.direction_sd is not None:
            parameters["direction_sd_rad"] = mobility.direction_sd
    try:
        return mobility_model(mobility.model, **parameters)
    except MecsimError as error:
        problems.append(Problem(where[:-1], None, str(error)))
        return None


def _trace(name: str, count: int, plane: _Plane, base_dir: Path, where: YamlPath,
           problems: list[Problem]) -> Trace | None:
    path = Path(name) if Path(name).is_absolute() else base_dir / name
    columns = ("time", "device", "lat", "lon") if plane.spec.geographic else ("time", "device", "x", "y")
    found = len(problems)
    rows: list[tuple[float, int, float, float]] = []
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames is None or not set(columns) <= set(reader.fieldnames):
                problems.append(Problem(where, name, f"needs the columns {', '.join(columns)} (it has "
                                                     f"{', '.join(reader.fieldnames or []) or 'none'})"))
                return None
            for line, row in enumerate(reader, start=2):
                try:
                    time, device = float(row[columns[0]]), int(row[columns[1]])
                    first, second = float(row[columns[2]]), float(row[columns[3]])
                except (TypeError, ValueError):
                    problems.append(Problem(where, name, f"line {line}: needs numbers (time, a device index, "
                                                         "coordinates)"))
                    continue
                if not 0 <= device < count:
                    problems.append(Problem(where, name, f"line {line}: device {device} is not a device of the "
                                                         f"group (devices 0 to {count - 1})"))
                elif not (math.isfinite(time) and time >= 0):
                    problems.append(Problem(where, name, f"line {line}: time {time:g} must be >= 0"))
                else:
                    rows.append((time, device, first, second))
    except OSError as error:
        problems.append(Problem(where, name, f"cannot be read ({error.strerror or error})"))
        return None
    if not rows and len(problems) == found:
        problems.append(Problem(where, name, "has no rows"))
    if len(problems) > found:
        return None
    table = np.array(rows, dtype=np.float64)
    xy = (local_xy_m(table[:, 2], table[:, 3], plane.spec.south, plane.spec.west)  # type: ignore[arg-type]
          if plane.spec.geographic else table[:, 2:4])
    outside = np.flatnonzero(plane.outside(xy))
    problems.extend(Problem(where, name, f"line {k + 2}: " + _outside(plane, (float(xy[k, 0]), float(xy[k, 1]))))
                    for k in outside[:5].tolist())
    if outside.size:
        return None
    return Trace(table[:, 0], table[:, 1].astype(np.intp), xy)


def _reach(spec: ScenarioSpec, world: World, moving: list[int]) -> Iterator[Problem]:
    delays = world.delays_s()
    for index in moving:
        group = world.device_groups[index]
        for ap_index, ap in enumerate(world.access_points):
            if not world.hosts_reachable_from(ap.name, group.service, delays):
                yield Problem(("access_points", ap_index), ap.name,
                              f"cannot reach any node hosting service {group.service!r} of moving group "
                              f"{group.name!r}; add a link")
