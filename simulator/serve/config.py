"""The service's configuration file: named device profiles, named targets with their links, estimation and limits.

.. code-block:: yaml

    half-life: 8                 # observations after which an old measurement weighs half (EWMA), default 8
    max-batch: 100000            # tasks per /decide request, default 100,000
    max-body: 16MB               # request body size, default 16 MB
    devices:
      pi4: {device-time: 13s, device-power: 6.4W, radio-power: 3.4W, idle-power: 2.7W}
    targets:
      edge: {edge-time: 9ms, uplink: 5Mbps, rtt: 20ms, workers: 1}

Device and target fields are those of ``mecsim decide`` (human units); every problem is reported with its line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from offload.errors import ParameterError
from offload.units import Dimension, parse_quantity
from simulator.decide_api import parse_value
from simulator.scenario.errors import ScenarioError, ScenarioIssue, YamlPath
from simulator.scenario.yamlload import LoadedYaml, load_yaml

DEVICE_FIELDS = ("device-time", "device-speed", "device-power", "radio-power", "rx-power", "idle-power",
                 "tail-energy")
TARGET_FIELDS = ("edge-time", "edge-speed", "edge-power", "uplink", "downlink", "rtt", "distance", "edge-wait")


@dataclass(frozen=True, slots=True)
class TargetProfile:
    """A named remote target: its quantities (SI, by ``mecsim decide`` field name) and its number of workers."""

    values: dict[str, float]
    workers: int = 1


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    """Everything ``mecsim serve`` is configured with (defaults when no file is given)."""

    devices: dict[str, dict[str, float]] = field(default_factory=dict)
    targets: dict[str, TargetProfile] = field(default_factory=dict)
    half_life: float = 8.0
    max_batch: int = 100_000
    max_body_bytes: int = 16_000_000


def _profile(loaded: LoadedYaml, path: YamlPath, given: Any, allowed: tuple[str, ...],
             issues: list[ScenarioIssue], extra: tuple[str, ...] = ()) -> dict[str, float]:
    if not isinstance(given, dict):
        issues.append(ScenarioIssue(loaded.source, loaded.line_of(path), path, "must be a mapping of fields", given))
        return {}
    values: dict[str, float] = {}
    for key, text in given.items():
        where = (*path, key)
        if key in extra:
            continue
        if key not in allowed:
            issues.append(ScenarioIssue(loaded.source, loaded.line_of(where), where,
                                        "unknown field; valid: " + ", ".join((*allowed, *extra))))
            continue
        try:
            values[key] = parse_value(key, text)
        except ParameterError as error:
            issues.append(ScenarioIssue(loaded.source, loaded.line_of(where), where, error.rule, text))
    return values


def _count(loaded: LoadedYaml, key: str, issues: list[ScenarioIssue], default: int, path: YamlPath = ()) -> int:
    where = (*path, key)
    data = loaded.data
    for part in path:
        data = data[part]
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        issues.append(ScenarioIssue(loaded.source, loaded.line_of(where), where, "must be an integer >= 1", value))
        return default
    return value


def _positive(loaded: LoadedYaml, key: str, dimension: Dimension, default: float, issues: list[ScenarioIssue]
              ) -> float:
    given = loaded.data.get(key)
    if given is None:
        return default
    try:
        value = parse_quantity(given, dimension, key)
    except ParameterError as error:
        issues.append(ScenarioIssue(loaded.source, loaded.line_of((key,)), (key,), error.rule, given))
        return default
    if not (value > 0 and math.isfinite(value)):
        issues.append(ScenarioIssue(loaded.source, loaded.line_of((key,)), (key,), "must be > 0 and finite", given))
        return default
    return value


def parse_config(text: str, source: str = "<string>") -> ServiceConfig:
    """The configuration in ``text``; every problem is reported at once (:class:`ScenarioError`)."""
    loaded = load_yaml(text, source)
    if loaded.data is None:
        return ServiceConfig()
    if not isinstance(loaded.data, dict):
        raise ScenarioError([ScenarioIssue(source, 1, (), "must be a mapping")])
    issues: list[ScenarioIssue] = []
    known = ("half-life", "max-batch", "max-body", "devices", "targets")
    issues.extend(ScenarioIssue(source, loaded.line_of((key,)), (key,), "unknown key; valid: " + ", ".join(known))
                  for key in loaded.data if key not in known)
    sections: dict[str, dict[str, Any]] = {}
    for section in ("devices", "targets"):
        given = loaded.data.get(section, {})
        if not isinstance(given, dict):
            issues.append(ScenarioIssue(source, loaded.line_of((section,)), (section,), "must be a mapping of names"))
            given = {}
        sections[section] = given
    devices = {name: _profile(loaded, ("devices", name), given, DEVICE_FIELDS, issues)
               for name, given in sections["devices"].items()}
    targets = {name: TargetProfile(_profile(loaded, ("targets", name), given, TARGET_FIELDS, issues, ("workers",)),
                                   _count(loaded, "workers", issues, 1, ("targets", name))
                                   if isinstance(given, dict) else 1)
               for name, given in sections["targets"].items()}
    config = ServiceConfig(
        devices, targets, half_life=_positive(loaded, "half-life", Dimension.DIMENSIONLESS, 8.0, issues),
        max_batch=_count(loaded, "max-batch", issues, 100_000),
        max_body_bytes=int(_positive(loaded, "max-body", Dimension.BITS, 128e6, issues) / 8))
    if issues:
        raise ScenarioError(issues)
    return config


def load_config(path: Path) -> ServiceConfig:
    """Read and check the configuration file ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ParameterError("--config", str(path), f"cannot be read ({error.strerror})") from error
    return parse_config(text, str(path))
