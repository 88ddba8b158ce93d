"""What the service knows: the configured profiles and the live estimates, and how a request is completed by them.

A request's fields are, in increasing precedence: the named device profile, the named target's profile, the live
estimates for that target (its link as seen by that device, or by anyone, and its measured edge time), and the
fields given inline. A target's estimated queue length becomes the task's expected wait with the FIFO backlog
formula of the simulator's queue-aware policy (:func:`offload.runtime.backlog_wait_s`), the task's own edge time
standing for the mean service time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from offload.errors import ParameterError
from offload.formulas import compute_time_s
from offload.inputs import check_array
from offload.runtime import backlog_wait_s
from offload.units import Dimension, parse_quantity
from simulator.decide_api import (
    BY_NAME,
    SETTINGS,
    Request,
    Value,
    batch_columns,
    parse_value,
    preference,
)
from simulator.serve.config import ServiceConfig
from simulator.serve.estimates import EDGE_QUANTITIES, LINK_QUANTITIES, Estimates

NAMES = ("device", "target")


@dataclass(slots=True)
class ServiceState:
    """Configuration plus live estimates (one per process)."""

    config: ServiceConfig
    estimates: Estimates

    def _named(self, item: Mapping[str, Any]) -> tuple[str | None, str | None]:
        names: list[str | None] = []
        for kind, known in (("device", self.config.devices), ("target", self.config.targets)):
            name = item.get(kind)
            if name is not None and (not isinstance(name, str) or name not in known):
                valid = ", ".join(sorted(known)) or f"none (no {kind}s in the configuration)"
                raise ParameterError(kind, name, f"unknown {kind}; valid: {valid}")
            names.append(name)
        return names[0], names[1]

    def merge(self, item: Mapping[str, Any]) -> tuple[dict[str, Any], str | None, str | None]:
        """The request's fields completed by its named profiles and the target's live estimates."""
        device, target = self._named(item)
        inline = {key: value for key, value in item.items() if key not in NAMES}
        if device is None and target is None:
            return inline, None, None
        self.estimates.refresh()
        fields: dict[str, Any] = {}
        if device is not None:
            fields |= self.config.devices[device]
        if target is not None:
            fields |= self.config.targets[target].values
            for quantity in LINK_QUANTITIES:
                value = self._link_estimate(device, target, quantity)
                if value is not None:
                    fields[quantity] = value
            edge_time = self.estimates.get(target, "edge-time")
            if edge_time is not None and "edge-speed" not in fields:
                fields["edge-time"] = edge_time
        if "edge-speed" in inline or "edge-time" in inline:  # an inline side replaces the profile's description
            fields.pop("edge-speed", None)
            fields.pop("edge-time", None)
        if "device-speed" in inline or "device-time" in inline:
            fields.pop("device-speed", None)
            fields.pop("device-time", None)
        if "downlink" in fields and "result" not in fields and "result" not in inline:
            fields.pop("downlink")  # a profile's downlink serves tasks with results; without one it is moot
        return fields | inline, device, target

    def _link_estimate(self, device: str | None, target: str, quantity: str) -> float | None:
        own = None if device is None else self.estimates.get(f"{device}/{target}", quantity)
        return own if own is not None else self.estimates.get(target, quantity)

    def with_queue(self, request: Request, target: str | None) -> Request:
        """The request with the target's estimated backlog wait, unless it gives its own ``edge-wait``."""
        queue = None if target is None else self.estimates.get(target, "queue-length")
        if queue is None or "edge-wait" in request.values:
            return request
        values = request.values
        service_s = compute_time_s(values.get("compute", 0.0), values.get("edge-speed", math.inf),
                                   values.get("edge-time", 0.0))
        wait_s = float(backlog_wait_s(queue, self.config.targets[target].workers, service_s))  # type: ignore[index]
        return Request(values | {"edge-wait": wait_s}, request.preference)

    def decide_columns(self, body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        """Decide the tasks of a column batch: ``(count, columns)``."""
        fields, _, target = self.merge(body)
        settings = dict(SETTINGS)
        values: dict[str, Value] = {}
        count = 1
        for key, given in fields.items():
            if key in SETTINGS:
                settings[key] = given
            elif key not in BY_NAME:
                raise ParameterError(key, None, "unknown field; valid: " + ", ".join([*BY_NAME, *SETTINGS, *NAMES]))
            elif isinstance(given, list):
                values[key] = _column(key, given)
                if count not in (1, len(given)):
                    raise ParameterError(key, f"{len(given)} values", f"every list must have the same length "
                                                                     f"({count} before)")
                count = max(count, len(given))
            elif given is not None:
                values[key] = parse_value(key, given)
        queue = None if target is None else self.estimates.get(target, "queue-length")
        if queue is not None and "edge-wait" not in values:
            service_s = compute_time_s(values.get("compute", 0.0), values.get("edge-speed", math.inf),
                                       values.get("edge-time", 0.0))
            values["edge-wait"] = backlog_wait_s(queue, self.config.targets[target].workers,  # type: ignore[index]
                                                 service_s)
        columns = batch_columns(values, preference(settings, set(values)))
        out = {name: column.tolist() if column.dtype.kind == "U" else np.ascontiguousarray(column)
               for name, column in columns.items()}
        return len(columns["decision"]), out

    def observe(self, body: Mapping[str, Any]) -> dict[str, dict[str, dict[str, float]]]:
        """Fold a report of measurements into the estimates; returns the touched estimates."""
        unknown = [key for key in body if key not in (*NAMES, *LINK_QUANTITIES, *EDGE_QUANTITIES)]
        if unknown:
            valid = ", ".join((*NAMES, *LINK_QUANTITIES, *EDGE_QUANTITIES))
            raise ParameterError(unknown[0], None, f"unknown field; valid: {valid}")
        if body.get("target") is None:
            raise ParameterError("target", None, "missing: name the target the measurement concerns")
        device, target = self._named(body)
        assert target is not None
        measured = {key: value for key, value in body.items() if key not in NAMES and value is not None}
        if not measured:
            raise ParameterError("body", None, "reports no measurement; give one of "
                                 + ", ".join((*LINK_QUANTITIES, *EDGE_QUANTITIES)))
        parsed = {key: _queue_length(value) if key == "queue-length" else parse_value(key, value)
                  for key, value in measured.items()}  # all checked before any is folded in
        link = target if device is None else f"{device}/{target}"
        self.estimates.observe([(link if key in LINK_QUANTITIES else target, key, value)
                                for key, value in parsed.items()])
        snapshot = self.estimates.snapshot()
        return {key: snapshot[key] for key in (link, target) if key in snapshot}

    def report(self) -> dict[str, Any]:
        """Configuration names and every estimate."""
        self.estimates.refresh()
        return {"half_life": self.config.half_life, "devices": sorted(self.config.devices),
                "targets": sorted(self.config.targets), "estimates": self.estimates.snapshot()}


def _queue_length(given: Any) -> float:
    if isinstance(given, bool) or not isinstance(given, int | float | str):
        raise ParameterError("queue-length", given, "expected a number of tasks")
    value = parse_quantity(given, Dimension.DIMENSIONLESS, "queue-length")
    if not (value >= 0 and math.isfinite(value)):
        raise ParameterError("queue-length", given, "must be >= 0 and finite")
    return value


def _column(name: str, given: list[Any]) -> npt.NDArray[np.float64]:
    """A per-task list as SI floats: plain numbers at once, quantities with units one by one (parsing is cached)."""
    if not given:
        raise ParameterError(name, "[]", "a list needs at least one value")
    if all(type(value) in (float, int) for value in given):
        array = np.array(given, dtype=np.float64)
        quantity = BY_NAME[name]
        return check_array(name, array, positive=quantity.positive, allow_inf=False)
    values = np.empty(len(given))
    for i, value in enumerate(given):
        values[i] = _element(name, i, value)
    return values


def _element(name: str, index: int, given: Any) -> float:
    try:
        return parse_value(name, given)
    except ParameterError as error:
        raise ParameterError(f"{name}[{index}]", error.value, error.rule) from None
