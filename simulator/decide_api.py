"""The one answer of ``mecsim decide``, shared by the command line and the HTTP service (``mecsim serve``).

Human-unit fields (``300kB``, ``20Mbps``, ``9ms``) become SI values, are checked against the rules, and give either
one JSON answer (:func:`answer`, the scalar path: plain floats through the same cost kernels, no arrays to build) or
the columns of a batch (:func:`batch_columns`, the vectorised path). The CLI's ``--json`` output and the service's
answer are both :func:`answer`, so they agree by construction. Field names are the CLI's long options without the
dashes (``device-time``, ``uplink``); errors name them with the caller's ``flag`` prefix (``--`` on the CLI).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from offload.batch import decide_batch
from offload.breakeven import Parameter, break_even_arguments, break_even_batch
from offload.cost import LOCAL, LOCAL_OPTION, kernel_arguments, local_option, remote_option
from offload.decision import EnergyView, Objective, Preference, meets_deadline, select_one
from offload.errors import ParameterError
from offload.formulas import propagation_delay_s, round_trip_s
from offload.inputs import CostInputs
from offload.partial import partial_from_inputs
from offload.units import Dimension, describe, parse_quantity

FloatArray = npt.NDArray[np.float64]
Value = float | FloatArray
#: the name of the single remote option in answers
TARGET = "offload"


@dataclass(frozen=True, slots=True)
class Quantity:
    """One numeric field (CLI option, CSV column, JSON key): name, seed alias, dimension, rule, help."""

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
    Quantity("edge-power", "Ee", Dimension.WATTS, False, "Edge power while computing (system energy view)."),
    Quantity("radio-power", "Ec", Dimension.WATTS, False, "Device radio power while transmitting."),
    Quantity("rx-power", None, Dimension.WATTS, False, "Radio power while receiving (default: --radio-power)."),
    Quantity("idle-power", None, Dimension.WATTS, False, "Device power while waiting (device energy view)."),
    Quantity("tail-energy", None, Dimension.JOULES, False, "Radio tail energy per offload (device energy view)."),
    Quantity("deadline", None, Dimension.SECONDS, True, "Latest acceptable latency; late options are excluded."),
)
BY_NAME = {q.name: q for q in QUANTITIES}
#: what an absent optional quantity means (an empty CSV cell too); others must be given or come from DEFAULTS_FROM
EMPTY_CELL = {"deadline": math.inf, "result": 0.0, "rtt": 0.0, "distance": 0.0, "edge-wait": 0.0,
              "idle-power": 0.0, "tail-energy": 0.0}
#: quantities that default to another one when absent; they move with it in every break-even search
DEFAULTS_FROM = {"downlink": "uplink", "rx-power": "radio-power"}
#: the cost-model field (:class:`offload.inputs.CostInputs`) of each quantity; rtt and distance add up
FIELD = {"compute": "work_ops", "device-speed": "device_speed_ops_per_s", "edge-speed": "server_speed_ops_per_s",
         "device-time": "device_time_s", "edge-time": "server_time_s", "data": "input_bits", "uplink": "uplink_bps",
         "result": "output_bits", "downlink": "downlink_bps", "rtt": "round_trip_s", "edge-wait": "wait_s",
         "device-power": "device_compute_power_w", "edge-power": "server_compute_power_w", "radio-power": "tx_power_w",
         "rx-power": "rx_power_w", "idle-power": "idle_power_w", "tail-energy": "tail_energy_j",
         "deadline": "deadline_s"}
#: a field's value when its quantity is absent and has no EMPTY_CELL entry
_UNSET = {"work_ops": 0.0, "device_speed_ops_per_s": math.inf, "server_speed_ops_per_s": math.inf,
          "device_time_s": 0.0, "server_time_s": 0.0, "device_compute_power_w": 0.0, "server_compute_power_w": 0.0,
          "tx_power_w": 0.0}
_TARGET_FIELDS = ("server_speed_ops_per_s", "server_time_s", "server_compute_power_w", "wait_s", "uplink_bps",
                  "downlink_bps", "round_trip_s")
#: the powers each energy view needs (all must be given) and those it can use (the rest are unused by it)
NEEDS = {EnergyView.DEVICE: ("device-power", "radio-power"),
         EnergyView.SYSTEM: ("device-power", "radio-power", "edge-power")}
USES = {EnergyView.DEVICE: ("device-power", "radio-power", "rx-power", "idle-power", "tail-energy"),
        EnergyView.SYSTEM: ("device-power", "radio-power", "rx-power", "edge-power")}
POWERS = ("device-power", "edge-power", "radio-power", "rx-power", "idle-power", "tail-energy")
#: the non-numeric fields of a request, with their defaults
SETTINGS: dict[str, Any] = {"objective": "latency", "energy-view": "device", "w-latency": None, "w-energy": None,
                            "normalise": False}
ANSWER_TERMS = ("upload_s", "round_trip_s", "wait_s", "compute_s", "download_s")
#: per break-even parameter, the quantities that default from its quantity and their fields (see :func:`linked`)
_FOLLOWERS = {parameter: tuple((name, FIELD[name]) for name, origin in DEFAULTS_FROM.items()
                               if FIELD[origin] == parameter.value) for parameter in Parameter}


@dataclass(frozen=True, slots=True)
class Request:
    """One checked task: SI values by quantity name, and how to score it."""

    values: dict[str, float]
    preference: Preference


@lru_cache(maxsize=4096)
def _parse_text(text: str, dimension: Dimension, label: str) -> float:
    return parse_quantity(text, dimension, label)


def parse_value(name: str, given: object, flag: str = "") -> float:
    """One quantity in SI units, checked against its rule (errors name ``flag + name`` and the given text)."""
    quantity = BY_NAME[name]
    label = flag + name
    if isinstance(given, str):
        value = _parse_text(given, quantity.dimension, label)
    elif isinstance(given, int | float) and not isinstance(given, bool):
        value = float(given)
    else:
        raise ParameterError(label, given, f"expected a number or a quantity ({describe(quantity.dimension)})")
    if value != value:  # NaN
        raise ParameterError(label, given, "must be a number, not NaN")
    if not ((value > 0 if quantity.positive else value >= 0) and value != math.inf):
        raise ParameterError(label, given, ("must be > 0" if quantity.positive else "must be >= 0") + " and finite")
    return value


def parse_request(fields: Mapping[str, object], flag: str = "") -> Request:
    """A task from its fields: quantities (human units or SI numbers) and settings (``objective``, ...)."""
    values: dict[str, float] = {}
    settings = dict(SETTINGS)
    for key, given in fields.items():
        if key in BY_NAME:
            if given is not None:
                values[key] = parse_value(key, given, flag)
        elif key in SETTINGS:
            settings[key] = given
        else:
            raise ParameterError(flag + key, None, "unknown field; valid: " + ", ".join([*BY_NAME, *SETTINGS]))
    try:
        chosen = _known_preference(tuple((name, type(given), given) for name, given in settings.items()),
                                   frozenset(values), flag)
    except TypeError:  # an unhashable setting (a JSON list, say): checked afresh, which names it
        chosen = preference(settings, set(values), flag)
    return Request(values, chosen)


@lru_cache(maxsize=1024)
def _known_preference(settings: tuple[tuple[str, type, object], ...], present: frozenset[str], flag: str
                      ) -> Preference:
    """:func:`preference` for settings seen before with the same quantities present (keyed by each setting's type
    too, so that ``0`` and ``false`` stay apart): a service's devices send the same few combinations."""
    return preference({name: given for name, _, given in settings}, set(present), flag)


def _require(condition: bool, name: str, value: object, rule: str) -> None:
    if not condition:
        raise ParameterError(name, value, rule)


def _check_sides(present: set[str], flag: str) -> None:
    for side in ("device", "edge"):
        speed, time = f"{flag}{side}-speed", f"{flag}{side}-time"
        _require(not (f"{side}-speed" in present and f"{side}-time" in present), time, None,
                 f"give {time} or {speed}, not both")
        _require(f"{side}-speed" in present or f"{side}-time" in present, time, None,
                 f"missing: give {time} (measured) or {speed} with {flag}compute")
        _require(f"{side}-speed" not in present or "compute" in present, f"{flag}compute", None,
                 f"missing: {speed} needs the work per task")
    _require("compute" not in present or bool({"device-speed", "edge-speed"} & present), f"{flag}compute", None,
             f"is only used with {flag}device-speed or {flag}edge-speed (both sides are measured times)")
    for name in ("data", "uplink"):
        _require(name in present, flag + name, None, "missing required value")
    _require("downlink" not in present or "result" in present, f"{flag}downlink", None, f"needs {flag}result")


def _check_energy(present: set[str], view: EnergyView, objective: Objective, flag: str) -> None:
    """The chosen view's powers are needed when energy is scored or any power is given; every power is accepted."""
    if objective is Objective.LATENCY and not set(POWERS) & present:
        return
    needed = NEEDS[view]
    missing = [name for name in needed if name not in present]
    _require(not missing, flag + (missing or [""])[0], None,
             f"missing: energies ({objective.value} objective / power options given) in the {view.value} view need "
             + ", ".join(flag + name for name in needed))


def preference(settings: Mapping[str, Any], present: set[str], flag: str = "") -> Preference:
    """How to score, from the settings, after checking which quantities are ``present`` against the rules."""
    try:
        chosen = Objective(settings["objective"])
    except ValueError:
        raise ParameterError(f"{flag}objective", settings["objective"],
                             "must be one of " + ", ".join(o.value for o in Objective)) from None
    try:
        view = EnergyView(settings["energy-view"])
    except ValueError:
        raise ParameterError(f"{flag}energy-view", settings["energy-view"],
                             "must be one of " + ", ".join(v.value for v in EnergyView)) from None
    weighted = chosen is Objective.WEIGHTED
    normalise = settings["normalise"]
    _require(isinstance(normalise, bool), f"{flag}normalise", normalise, "must be true or false")
    for name in ("w-latency", "w-energy", "normalise"):
        _require(weighted or settings[name] in (None, False), flag + name, None,
                 f"applies to {flag}objective weighted only")
    _check_sides(present, flag)
    _check_energy(present, view, chosen, flag)
    weights = []
    for name in ("w-latency", "w-energy"):
        given = settings[name]
        weight = 0.5 if given is None else _weight(given, flag + name)
        _require(math.isfinite(weight) and weight >= 0, flag + name, weight, "must be >= 0 and finite")
        weights.append(weight)
    _require(not weighted or any(weights), f"{flag}w-latency", 0.0,
             f"{flag}w-latency and {flag}w-energy cannot both be 0")
    return Preference(chosen, view, weights[0], weights[1], normalise)


def _weight(given: object, label: str) -> float:
    if isinstance(given, bool) or not isinstance(given, str | int | float):
        raise ParameterError(label, given, "expected a number")
    return parse_quantity(given, Dimension.DIMENSIONLESS, label)


def views(present: set[str]) -> list[EnergyView]:
    """The energy views whose powers are all given."""
    return [view for view, needed in NEEDS.items() if set(needed) <= present]


def fields(values: Mapping[str, Value]) -> dict[str, Value]:
    """Every cost-model field from the quantities given (absent ones take their default)."""
    out: dict[str, Value] = dict(_UNSET)
    for name, field in FIELD.items():
        if name in values:
            out[field] = values[name]
        elif name in DEFAULTS_FROM:
            out[field] = values.get(DEFAULTS_FROM[name], EMPTY_CELL.get(DEFAULTS_FROM[name], 0.0))
        elif name in EMPTY_CELL:
            out[field] = EMPTY_CELL[name]
    distance = values.get("distance")
    if distance is not None:
        out["round_trip_s"] = round_trip_s(propagation_delay_s(distance), out["round_trip_s"])
    return out


def linked(parameter: Parameter, present: set[str]) -> tuple[str, ...]:
    """The fields that default from ``parameter``'s quantity and so move with it in its break-even search."""
    return tuple(field for name, field in _FOLLOWERS[parameter] if name not in present)


def _none_if_nan(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _scalar(value: object) -> float:
    """A kernel result for one task (a numpy scalar) as a float."""
    return float(cast(float, value))


def answer(request: Request) -> dict[str, Any]:
    """The JSON answer for one task: decision, each option's latency, energy (both views where computable), score
    and deadline, the offload breakdown, the break-even uplink and the powers the chosen view leaves unused."""
    values, pref = request.values, request.preference
    present = set(values)
    given = cast(dict[str, float], fields(values))
    local_args, remote_args = kernel_arguments(given)
    # plain floats throughout (parse_value makes every value one): Python arithmetic, no numpy warning to silence
    local, remote = local_option(**local_args), remote_option(**remote_args)
    energy = {EnergyView.DEVICE: (_scalar(local.device_energy_j), _scalar(remote.device_energy_j)),
              EnergyView.SYSTEM: (_scalar(local.system_energy_j), _scalar(remote.system_energy_j))}
    local_s, remote_s = _scalar(local.latency_s), _scalar(remote.latency_s)
    local_j, remote_j = energy[pref.energy_view]
    local_score = _scalar(pref.combine(local_s, local_j, local_s, local_j))
    remote_score = _scalar(pref.combine(remote_s, remote_j, local_s, local_j))
    deadline_s = given["deadline_s"]
    choice, missed = select_one((local_score, remote_score), (local_s, remote_s), deadline_s)
    computable = views(present)
    with_energy = pref.energy_view in computable

    def option(latency_s: float, energy_j: float, score: float) -> dict[str, Any]:
        return {"latency_s": latency_s, "energy_j": energy_j if with_energy else None, "score": score,
                "meets_deadline": bool(meets_deadline(latency_s, deadline_s))}

    terms = (remote.upload_s, given["round_trip_s"], given["wait_s"], remote.compute_s, remote.download_s)
    flip_bps, wins = break_even_arguments(Parameter.UPLINK, local_args, remote_args, pref,
                                          linked(Parameter.UPLINK, present))
    used = set(USES[pref.energy_view])
    return {
        "decision": LOCAL if choice == LOCAL_OPTION else "offload",
        "objective": pref.objective.value, "energy_view": pref.energy_view.value,
        "deadline_s": _none_if_nan(deadline_s), "deadline_missed": missed,
        "local": option(local_s, local_j, local_score),
        "offload": option(remote_s, remote_j, remote_score)
        | {"breakdown": {term: _scalar(value) for term, value in zip(ANSWER_TERMS, terms, strict=True)}},
        "break_even": {"uplink_bps": _none_if_nan(flip_bps), "offload_wins": wins},
        "energies": {view.value: {"local_j": energy[view][0], "offload_j": energy[view][1]}
                     if view in computable else None for view in EnergyView},
        "unused": [name for name in POWERS if name in present and name not in used],
    }


def cost_inputs(values: Mapping[str, Value]) -> CostInputs:
    """Many tasks with one remote target (arrays of one value per task, or scalars shared by every task)."""
    given = fields(values)
    targets = {name: np.asarray(given[name], dtype=np.float64).reshape(-1, 1) for name in _TARGET_FIELDS}
    return CostInputs(**(given | targets), target_names=[TARGET])


def partial_answer(request: Request, flag: str = "") -> dict[str, Any]:
    """The best split of one task between the device and the edge (:func:`offload.partial.partial_from_inputs`):
    the offloaded ``fraction``, its ``latency_s``, its ``energy_j`` in the chosen view (``None`` when the powers
    are not given) and whether it meets the deadline (``feasible``)."""
    pref = request.preference
    _require(pref.objective is not Objective.WEIGHTED, f"{flag}partial", True,
             f"partial offloading optimises {flag}objective latency or energy, not weighted")
    with np.errstate(invalid="ignore"):
        split = partial_from_inputs(cost_inputs(request.values), pref)
    priced = pref.energy_view in views(set(request.values))
    return {"fraction": _scalar(split.fraction[0]), "latency_s": _scalar(split.latency_s[0]),
            "energy_j": _scalar(split.energy_j[0]) if priced else None, "feasible": bool(split.feasible[0])}


def batch_columns(values: Mapping[str, Value], pref: Preference) -> dict[str, npt.NDArray[Any]]:
    """The batch answer, one array per column: decision (``local``/``offload``), each option's latency, its energy
    in the chosen view when computable, ``deadline_missed`` when deadlines are given, the break-even uplink and on
    which side of it offloading wins."""
    present = set(values)
    inputs = cost_inputs(values)
    result = decide_batch(inputs, pref, values=False, keep_options=True)
    assert result.option_latency_s is not None
    assert result.option_energy_j is not None
    columns: dict[str, npt.NDArray[Any]] = {
        "decision": np.where(result.offloaded, "offload", "local"),
        "local_latency_s": result.option_latency_s[:, 0], "offload_latency_s": result.option_latency_s[:, 1]}
    if pref.energy_view in views(present):
        columns |= {"local_energy_j": result.option_energy_j[:, 0], "offload_energy_j": result.option_energy_j[:, 1]}
    if "deadline" in present:
        columns["deadline_missed"] = result.deadline_missed
    flip = break_even_batch(Parameter.UPLINK, inputs, pref, linked=linked(Parameter.UPLINK, present))
    columns["break_even_uplink_bps"] = flip.value[:, 0]
    columns["offload_wins"] = flip.offload_wins[:, 0]
    return columns
