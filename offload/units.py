"""Human-friendly quantities ("300 kB", "20 Mbps", "9 ms") converted to SI floats.

Conventions: ``B`` is a byte (8 bits), ``b``/``bit`` a bit; decimal prefixes (k, M, G, T) are powers of 1000 and
binary ones (Ki, Mi, Gi) powers of 1024; ``bps`` is bits per second. A plain number is already SI.
Work (``ops``) is an abstract operation count: cycles and FLOPs map to the same unit, so ``1.5 GHz`` is a speed of
1.5e9 ops/s and ``16.8G`` an amount of 16.8e9 ops; ``OPS`` (as in ``26 TOPS``) and ``FLOPS`` are speeds. Durations
take ``s``, ``min``, ``h``/``hour`` and ``d``/``day``; rates a count per duration (``10/s``, ``10 req/s``,
``120 tasks/min``, ``5 per hour``), ``fps`` or ``Hz``.
"""

from __future__ import annotations

import math
import re
from enum import Enum

import numpy as np
import numpy.typing as npt

from offload.errors import UnitError

#: Bits in one gibibyte (memory sizes: 2^30 bytes).
GIB_BITS = 8.0 * 1024**3


class Dimension(Enum):
    """The physical dimension a quantity must have; the value is the SI unit suffix used in names."""

    BITS = "bits"
    BPS = "bps"
    SECONDS = "s"
    OPS = "ops"
    OPS_PER_S = "ops_per_s"
    WATTS = "w"
    JOULES = "j"
    METRES = "m"
    RATE_PER_S = "per_s"
    VELOCITY = "mps"
    DIMENSIONLESS = "1"


_PREFIX = {
    "": 1.0, "n": 1e-9, "u": 1e-6, "µ": 1e-6, "μ": 1e-6, "m": 1e-3, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9,
    "T": 1e12, "P": 1e15, "Ki": 1024.0, "Mi": 1024.0**2, "Gi": 1024.0**3, "Ti": 1024.0**4,
}

# unit symbol (without prefix) -> (dimension, factor to SI)
_UNITS: dict[str, tuple[Dimension, float]] = {
    "b": (Dimension.BITS, 1.0), "bit": (Dimension.BITS, 1.0), "bits": (Dimension.BITS, 1.0),
    "B": (Dimension.BITS, 8.0), "byte": (Dimension.BITS, 8.0), "bytes": (Dimension.BITS, 8.0),
    "bps": (Dimension.BPS, 1.0), "bit/s": (Dimension.BPS, 1.0), "b/s": (Dimension.BPS, 1.0),
    "Bps": (Dimension.BPS, 8.0), "B/s": (Dimension.BPS, 8.0),
    "ops": (Dimension.OPS, 1.0), "op": (Dimension.OPS, 1.0), "FLOP": (Dimension.OPS, 1.0),
    "FLOPs": (Dimension.OPS, 1.0), "cycles": (Dimension.OPS, 1.0), "cycle": (Dimension.OPS, 1.0),
    "Hz": (Dimension.OPS_PER_S, 1.0), "ops/s": (Dimension.OPS_PER_S, 1.0), "FLOPS": (Dimension.OPS_PER_S, 1.0),
    "FLOP/s": (Dimension.OPS_PER_S, 1.0), "cycles/s": (Dimension.OPS_PER_S, 1.0), "OPS": (Dimension.OPS_PER_S, 1.0),
    "W": (Dimension.WATTS, 1.0),
    "J": (Dimension.JOULES, 1.0), "Wh": (Dimension.JOULES, 3600.0),
    "m": (Dimension.METRES, 1.0),
    # prefixes apply to the metre: "km/h"
    "m/s": (Dimension.VELOCITY, 1.0), "m/h": (Dimension.VELOCITY, 1.0 / 3600.0),
    "per_s": (Dimension.RATE_PER_S, 1.0), "fps": (Dimension.RATE_PER_S, 1.0),
}

# durations: unit symbol -> seconds (prefixes apply to the second only: "ms", "us")
_DURATIONS = {
    "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
    "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0,
    "h": 3600.0, "hr": 3600.0, "hrs": 3600.0, "hour": 3600.0, "hours": 3600.0,
    "d": 86400.0, "day": 86400.0, "days": 86400.0,
}
_UNITS.update({symbol: (Dimension.SECONDS, seconds) for symbol, seconds in _DURATIONS.items()})

# what may be counted in a rate "COUNT/DURATION" or "COUNT per DURATION" ("10/s", "10 req/s", "120 tasks/min")
_RATE_COUNTS = frozenset({"", "req", "reqs", "request", "requests", "task", "tasks", "job", "jobs", "event",
                          "events", "frame", "frames", "image", "images", "arrival", "arrivals"})
_PER = re.compile(r"^(?P<count>[A-Za-z]*)\s*(?:/|\s+per\s+|^per\s+)\s*(?P<duration>[A-Za-z]+)$")

#: a number followed by an optional unit (also used, as a pattern, to split whole CSV columns)
NUMBER_PATTERN = r"^\s*(?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(?P<unit>.*?)\s*$"
_NUMBER = re.compile(NUMBER_PATTERN)


def _lookup(unit: str) -> tuple[Dimension, float] | None:
    per = _PER.match(unit)
    if per is not None and per.group("count") in _RATE_COUNTS and per.group("duration") in _DURATIONS:
        return Dimension.RATE_PER_S, 1.0 / _DURATIONS[per.group("duration")]
    if unit in _UNITS:
        return _UNITS[unit]
    for prefix in sorted(_PREFIX, key=len, reverse=True):
        if prefix and unit.startswith(prefix) and unit[len(prefix):] in _UNITS:
            dim, factor = _UNITS[unit[len(prefix):]]
            return dim, factor * _PREFIX[prefix]
    return None


def parse_quantity(text: str | float | int, dimension: Dimension, name: str = "value") -> float:
    """Convert ``text`` to a float in SI units of ``dimension``.

    Parameters
    ----------
    text : str or float
        ``"300 kB"``, ``"20Mbps"``, ``"9 ms"``, ``"1.5GHz"``, ``"16.8G"`` (a bare prefix scales a plain number)
        or a plain number, taken as SI.
    dimension : Dimension
        The dimension the result must have.
    name : str
        Used in the error message.

    Raises
    ------
    UnitError
        The text is not a number with a known unit of that dimension, or is NaN.

    Examples
    --------
    >>> parse_quantity("300kB", Dimension.BITS)
    2400000.0
    >>> parse_quantity("9 ms", Dimension.SECONDS)
    0.009
    >>> parse_quantity("16.8G", Dimension.OPS)
    16800000000.0
    """
    if isinstance(text, bool):
        raise UnitError(name, text, f"expected a number or a quantity ({describe(dimension)})")
    if isinstance(text, int | float):
        value = float(text)
    else:
        match = _NUMBER.match(str(text))
        if match is None and str(text).strip().lower().lstrip("+-") == "nan":
            raise UnitError(name, text, "must be a number, not NaN")
        if match is None:
            raise UnitError(name, text, f"expected a number with an optional unit: {describe(dimension)}")
        number, unit = float(match.group(1)), match.group(2)
        value = float(scale(number, unit_factor(unit, dimension, name, text)))
    if math.isnan(value):
        raise UnitError(name, text, "must be a number, not NaN")
    return value


def scale(number: npt.ArrayLike, factor: float) -> npt.NDArray[np.float64] | float:
    """``number`` in a unit with SI ``factor``, converted to SI.

    Sub-unit factors divide by their reciprocal so that "9 ms" is exactly 0.009, not 0.009000000000000001; every
    conversion (one string or a column of them) goes through here so that both give identical floats.
    """
    if factor >= 1:
        return np.multiply(number, factor)
    return np.divide(number, round(1.0 / factor, 6))


def unit_factor(unit: str, dimension: Dimension, name: str = "value", text: object = None) -> float:
    """SI factor of ``unit`` (``"kB"`` -> 8000.0 for bits), or :class:`UnitError` naming ``name`` and ``text``."""
    text = unit if text is None else text
    if unit == "":
        return 1.0
    if unit in _PREFIX and dimension in (Dimension.OPS, Dimension.OPS_PER_S, Dimension.DIMENSIONLESS):
        return _PREFIX[unit]
    found = _lookup(unit) or _lookup(unit.replace(" ", ""))
    if found is None:
        raise UnitError(name, text, f"unknown unit {unit!r}; expected {describe(dimension)}")
    unit_dim, factor = found
    if dimension is Dimension.RATE_PER_S and unit_dim is Dimension.OPS_PER_S and unit.endswith("Hz"):
        return factor  # a frequency is a rate of events as much as a clock speed: "2 Hz" arrivals
    if unit_dim is not dimension:
        raise UnitError(name, text, f"{unit!r} is {quantity_name(unit_dim)}, expected {describe(dimension)}")
    return factor


#: What each dimension is called in messages, and examples of what may be typed for it.
_QUANTITIES: dict[Dimension, tuple[str, str]] = {
    Dimension.BITS: ("a data size", "300kB, 2.4Mbit or 1MiB"),
    Dimension.BPS: ("a bandwidth", "20Mbps, 1Gbps or 5MB/s"),
    Dimension.SECONDS: ("a duration", "9ms, 13s, 2min, 1hour or 1day"),
    Dimension.OPS: ("an amount of work", "16.8G, 500Mops or 2GFLOP"),
    Dimension.OPS_PER_S: ("a speed", "1.5GHz, 10Gops/s, 2TFLOPS or 26TOPS"),
    Dimension.WATTS: ("a power", "6.4W or 500mW"),
    Dimension.JOULES: ("an energy", "2J or 5mWh"),
    Dimension.METRES: ("a distance", "12km or 300m"),
    Dimension.RATE_PER_S: ("a rate", "10/s, 2Hz, 30fps, 10req/s or 120/min"),
    Dimension.VELOCITY: ("a velocity", "1.4m/s or 50km/h"),
    Dimension.DIMENSIONLESS: ("a plain number", "0.25 or 3"),
}


def quantity_name(dimension: Dimension) -> str:
    """What a value of ``dimension`` is called in messages: ``"a rate"``."""
    return _QUANTITIES[dimension][0]


def describe(dimension: Dimension) -> str:
    """``dimension`` for a message, with examples: ``"a rate such as 10/s, 2Hz, 30fps, 10req/s or 120/min"``."""
    name, examples = _QUANTITIES[dimension]
    return f"{name} such as {examples}"


def format_quantity(value: float, dimension: Dimension) -> str:
    """Render an SI value with a readable prefix: ``format_quantity(2.4e6, Dimension.BPS) == '2.4 Mbps'``."""
    unit = {Dimension.BITS: "bit", Dimension.BPS: "bps", Dimension.SECONDS: "s", Dimension.OPS: "ops",
            Dimension.OPS_PER_S: "ops/s", Dimension.WATTS: "W", Dimension.JOULES: "J", Dimension.METRES: "m",
            Dimension.RATE_PER_S: "/s", Dimension.VELOCITY: "m/s", Dimension.DIMENSIONLESS: ""}[dimension]
    if not math.isfinite(value) or value == 0:
        return f"{value:g} {unit}".strip()
    for prefix, factor in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3), ("", 1.0), ("m", 1e-3),
                           ("µ", 1e-6), ("n", 1e-9)):
        if abs(value) >= factor:
            return f"{value / factor:.4g} {prefix}{unit}".strip()
    return f"{value:.4g} {unit}".strip()
