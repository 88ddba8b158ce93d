"""Offloading game files (YAML) for ``mecsim game``: users, channels and radio in human units.

Format (quantities accept units; plain numbers are SI)::

    name: chen-2016-small
    description: one line
    channels: 3                    # M orthogonal channels, 1 <= M <= number of users
    bandwidth: 5 MHz               # W of each channel
    noise: -100 dBm                # background noise w0 (dBm, or a power such as 1e-13 W)
    cloud_speed: 100 GHz           # f_cloud
    path_loss_exponent: 4          # gain = distance^-exponent for users given by distance (default 4)
    defaults:                      # any user key; each user overrides what it sets
      power: 100 mW                # transmit power P_n
      data: 5000 kB                # task input B_n
      work: 1000M                  # task work D_n (cycles or ops)
      speed: 1 GHz                 # device speed f_n
      compute_power: 0.5 W         # device power while computing
      time_weight: 1               # overhead = time_weight * time + energy_weight * energy
      energy_weight: 1
      tail_energy: 0 J             # radio tail per offload (default 0)
    users:
      - distance: 12 m             # or gain: 2.4e-5
      - {distance: 30 m, speed: 0.5 GHz}

Every problem is reported at once as ``file:line: path: value: rule`` (a ``ScenarioError``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import BeforeValidator, Field, ValidationError

from offload.errors import ParameterError, UnitError
from offload.game import OffloadGame, path_loss_gain
from offload.units import Dimension, parse_quantity
from simulator.scenario.errors import ScenarioError, ScenarioIssue, YamlPath
from simulator.scenario.quantities import Distance, Energy, FileSection, PositiveDataSize, PositiveWork, Power, Speed
from simulator.scenario.validation import issues_from_error
from simulator.scenario.yamlload import LoadedYaml, load_yaml, read_text

_REQUIRED = ("power", "data", "work", "speed", "compute_power", "time_weight", "energy_weight")


def _noise_w(value: Any) -> float:
    """A power in W (``1e-13 W``) or in dBm (``-100 dBm``), > 0."""
    if isinstance(value, str) and value.strip().endswith("dBm"):
        try:
            dbm = float(value.strip()[:-3])
        except ValueError:
            raise ValueError("expected a number before dBm") from None
        watts = 10.0 ** ((dbm - 30.0) / 10.0)
    else:
        try:
            watts = parse_quantity(value, Dimension.WATTS)
        except UnitError as error:
            raise ValueError(error.rule) from None
    if not (math.isfinite(watts) and watts > 0):
        raise ValueError("must be > 0")
    return float(watts)


class UserSpec(FileSection):
    """One user (or the ``defaults``): every key optional here, required after merging with the defaults."""

    distance: Distance | None = None
    gain: Annotated[float, Field(gt=0.0, allow_inf_nan=False)] | None = None
    power: Power | None = None
    data: PositiveDataSize | None = None
    work: PositiveWork | None = None
    speed: Speed | None = None
    compute_power: Power | None = None
    time_weight: Annotated[float, Field(ge=0.0, allow_inf_nan=False)] | None = None
    energy_weight: Annotated[float, Field(ge=0.0, allow_inf_nan=False)] | None = None
    tail_energy: Energy | None = None


class GameFileSpec(FileSection):
    """The whole file."""

    name: str = "game"
    description: str = ""
    channels: Annotated[int, Field(ge=1)]
    bandwidth: Speed
    noise: Annotated[float, BeforeValidator(_noise_w)]
    cloud_speed: Speed
    path_loss_exponent: Annotated[float, Field(gt=0.0, allow_inf_nan=False)] = 4.0
    defaults: UserSpec = UserSpec()
    users: Annotated[list[UserSpec], Field(min_length=1)]


@dataclass(frozen=True, slots=True)
class GameCase:
    """A loaded game file: its name, description, source and the :class:`offload.game.OffloadGame`."""

    name: str
    description: str
    source: str
    game: OffloadGame


def game_from_data(data: Any, source: str = "<dict>", loaded: LoadedYaml | None = None) -> GameCase:
    """Validate plain data (as read from YAML) and build the game.

    Raises
    ------
    ScenarioError
        Every problem found, one per line, as ``file:line: path: value: rule``.
    """
    def issue(path: YamlPath, rule: str, *value: Any) -> ScenarioIssue:
        return ScenarioIssue(source, loaded.line_of(path) if loaded is not None else None, path, rule, *value)

    if not isinstance(data, dict):
        raise ScenarioError([issue((), "a game file must be a mapping with channels, bandwidth, noise, "
                                       "cloud_speed and users")])
    try:
        spec = GameFileSpec.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(issues_from_error(error, data, GameFileSpec, lambda p: (
            source, loaded.line_of(p) if loaded is not None else None))) from None
    problems: list[ScenarioIssue] = []
    columns: dict[str, list[float]] = {key: [] for key in (*_REQUIRED, "gain", "tail_energy")}
    for i, user in enumerate(spec.users):
        own = user.model_dump(exclude_none=True)
        base = spec.defaults.model_dump(exclude_none=True)
        if {"distance", "gain"} & own.keys():  # a user's own placement replaces the default one
            base.pop("distance", None)
            base.pop("gain", None)
        merged = {**base, **own}
        if {"distance", "gain"} <= merged.keys():
            problems.append(issue(("users", i), "give either distance or gain, not both"))
            continue
        missing = [key for key in _REQUIRED if key not in merged]
        if missing or ("distance" not in merged and "gain" not in merged):
            what = ", ".join(missing + ([] if {"distance", "gain"} & merged.keys() else ["distance or gain"]))
            problems.append(issue(("users", i), f"missing {what} (set it on the user or in defaults)"))
            continue
        if merged.get("distance") == 0.0:
            problems.append(issue(("users", i, "distance"), "must be > 0 (the path loss is infinite at 0 m)", 0.0))
            continue
        gain = merged["gain"] if "gain" in merged else float(path_loss_gain(merged["distance"],
                                                                               spec.path_loss_exponent))
        for key in _REQUIRED:
            columns[key].append(merged[key])
        columns["gain"].append(gain)
        columns["tail_energy"].append(merged.get("tail_energy", 0.0))
    if spec.channels > len(spec.users):
        problems.append(issue(("channels",), f"must be <= the number of users ({len(spec.users)}): the model "
                                             "(Chen et al. 2016) has users contending for fewer channels",
                              spec.channels))
    for i, power in enumerate(columns["power"]):
        if power <= 0:
            problems.append(issue(("users", i, "power"), "transmit power must be > 0", power))
    if problems:
        raise ScenarioError(problems)
    arrays = {key: np.asarray(values, dtype=np.float64) for key, values in columns.items()}
    try:
        game = OffloadGame(
            gain=arrays["gain"], tx_power_w=arrays["power"], input_bits=arrays["data"], work_ops=arrays["work"],
            device_speed_ops_per_s=arrays["speed"], compute_power_w=arrays["compute_power"],
            time_weight=arrays["time_weight"], energy_weight=arrays["energy_weight"],
            tail_energy_j=arrays["tail_energy"], channels=spec.channels, bandwidth_hz=spec.bandwidth,
            noise_w=spec.noise, cloud_speed_ops_per_s=spec.cloud_speed)
    except ParameterError as error:
        raise ScenarioError([issue(("users",), f"{error.name}: {error.rule}", error.value)]) from None
    return GameCase(spec.name, spec.description, source, game)


def load_game_file(path: str | Path) -> GameCase:
    """Read and validate a game file."""
    source = str(path)
    loaded = load_yaml(read_text(path, source), source)
    return game_from_data(loaded.data, source, loaded)
