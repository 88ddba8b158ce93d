"""Pydantic field types for human-unit quantities (``"20 Mbps"``, ``"9 ms"``; plain numbers are SI) and
:class:`Strict`, the base model of every scenario section.

Each type converts at the file boundary with :func:`offload.units.parse_quantity` and checks its sign rule, so a
field declared ``Bandwidth`` holds bits per second as a float and the error reads ``"-5 Mbps": must be > 0``.

A non-zero value must also lie within :data:`PLAUSIBLE` for its dimension: far outside, a value is a unit slip
(``5 mbps`` is 5 milli-bit/s) or a typo, and would make a run overflow or never end.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from offload.errors import UnitError
from offload.units import Dimension, describe, parse_quantity

#: Smallest non-zero and largest magnitude accepted per dimension (SI units), and the unit shown in errors.
PLAUSIBLE: dict[Dimension, tuple[float, float, str]] = {
    Dimension.SECONDS: (1e-9, 1e9, "s"),  # a nanosecond to about 30 years
    Dimension.BITS: (1.0, 1e15, "bit"),  # a bit to 125 TB
    Dimension.BPS: (1.0, 1e13, "bit/s"),  # 1 bit/s to 10 Tbit/s
    Dimension.OPS: (1.0, 1e18, "ops"),
    Dimension.OPS_PER_S: (1.0, 1e16, "ops/s"),  # ten times the largest accelerator
    Dimension.WATTS: (1e-9, 1e6, "W"),
    Dimension.JOULES: (1e-12, 1e12, "J"),
    Dimension.METRES: (1e-3, 1e8, "m"),  # a millimetre to a quarter of the way to the Moon
    Dimension.RATE_PER_S: (1e-9, 1e9, "/s"),  # once in 30 years to a billion per second
    Dimension.VELOCITY: (1e-3, 1e4, "m/s"),  # a millimetre per second to ten times a jet airliner
}


@dataclass(frozen=True, slots=True)
class QuantityInfo:
    """Marks a quantity field type with its dimension and sign rule (``"> 0"`` or ``">= 0"``), for tools that read
    the schema (the generated scenario reference); validation does not use it."""

    dimension: Dimension
    rule: str
    #: How the reference describes the field when its dimension's words do not fit (a price is a rate of cost).
    label: str | None = None

    @property
    def unit(self) -> str:
        """The SI unit a plain number is read in."""
        return PLAUSIBLE[self.dimension][2]


class FileSection(BaseModel):
    """Base of the sections of placement and game files: unknown keys are errors, models are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Strict(BaseModel):
    """Base of every section: unknown keys are errors, values are never coerced across types, models are frozen."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _converter(dimension: Dimension, *, positive: bool) -> Callable[[Any], float]:
    low, high, unit = PLAUSIBLE[dimension]

    def convert(value: Any) -> float:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ValueError(f"expected a number or a quantity ({describe(dimension)})")
        try:
            number = parse_quantity(value, dimension)
        except UnitError as error:
            raise ValueError(error.rule) from None
        except OverflowError:  # an integer too large for a float
            raise ValueError("must be finite") from None
        if math.isinf(number):
            raise ValueError("must be finite")
        if positive and not number > 0:
            raise ValueError("must be > 0")
        if not positive and not number >= 0:
            raise ValueError("must be >= 0")
        if number and not low <= number <= high:
            raise ValueError(f"read as {number:g} {unit}, outside the plausible range {low:g} to {high:g} {unit} "
                             "(a unit slip?)")
        return number

    return convert


#: Time in seconds, > 0 (``"13 s"``, ``"9 ms"``, ``"2 min"``, ``"1 hour"``, ``"1 day"``).
Duration = Annotated[float, BeforeValidator(_converter(Dimension.SECONDS, positive=True)),
                     QuantityInfo(Dimension.SECONDS, "> 0")]
#: Time in seconds, >= 0.
DurationOrZero = Annotated[float, BeforeValidator(_converter(Dimension.SECONDS, positive=False)),
                           QuantityInfo(Dimension.SECONDS, ">= 0")]
_seconds_or_zero = _converter(Dimension.SECONDS, positive=False)


def _or_auto(value: Any) -> Any:
    return "auto" if value == "auto" else _seconds_or_zero(value)


#: Time in seconds, >= 0, or ``"auto"`` (left to the run to determine: the warm-up).
DurationOrAuto = Annotated[float | Literal["auto"], BeforeValidator(_or_auto),
                           QuantityInfo(Dimension.SECONDS, ">= 0, or auto")]
#: Data size in bits, >= 0 (``"300 kB"``).
DataSize = Annotated[float, BeforeValidator(_converter(Dimension.BITS, positive=False)),
                     QuantityInfo(Dimension.BITS, ">= 0")]
#: Data size in bits, > 0 (a mean size).
PositiveDataSize = Annotated[float, BeforeValidator(_converter(Dimension.BITS, positive=True)),
                             QuantityInfo(Dimension.BITS, "> 0")]
#: Throughput in bits per second, > 0 (``"20 Mbps"``).
Bandwidth = Annotated[float, BeforeValidator(_converter(Dimension.BPS, positive=True)),
                      QuantityInfo(Dimension.BPS, "> 0")]
#: Work in operations, >= 0 (``"16.8G"``, ``"500 Mops"``).
Work = Annotated[float, BeforeValidator(_converter(Dimension.OPS, positive=False)),
                 QuantityInfo(Dimension.OPS, ">= 0")]
#: Work in operations, > 0 (a mean work).
PositiveWork = Annotated[float, BeforeValidator(_converter(Dimension.OPS, positive=True)),
                         QuantityInfo(Dimension.OPS, "> 0")]
#: Processing speed in operations per second, > 0 (``"1.5 GHz"``, ``"2 TFLOPS"``, ``"26 TOPS"``).
Speed = Annotated[float, BeforeValidator(_converter(Dimension.OPS_PER_S, positive=True)),
                  QuantityInfo(Dimension.OPS_PER_S, "> 0")]
#: Power in watts, >= 0 (``"6.4 W"``).
Power = Annotated[float, BeforeValidator(_converter(Dimension.WATTS, positive=False)),
                  QuantityInfo(Dimension.WATTS, ">= 0")]
#: Energy in joules, >= 0.
Energy = Annotated[float, BeforeValidator(_converter(Dimension.JOULES, positive=False)),
                   QuantityInfo(Dimension.JOULES, ">= 0")]
#: Energy in joules, > 0 (``"1 J"``, ``"48 uJ"``, ``"1 Wh"``).
PositiveEnergy = Annotated[float, BeforeValidator(_converter(Dimension.JOULES, positive=True)),
                           QuantityInfo(Dimension.JOULES, "> 0")]
#: Distance in metres, >= 0 (``"12 km"``).
Distance = Annotated[float, BeforeValidator(_converter(Dimension.METRES, positive=False)),
                     QuantityInfo(Dimension.METRES, ">= 0")]
#: Event rate per second, > 0 (``"10/s"``, ``"10 req/s"``, ``"2 Hz"``, ``"10 fps"``, ``"120/min"``).
Rate = Annotated[float, BeforeValidator(_converter(Dimension.RATE_PER_S, positive=True)),
                 QuantityInfo(Dimension.RATE_PER_S, "> 0")]
#: Event rate per second, >= 0.
RateOrZero = Annotated[float, BeforeValidator(_converter(Dimension.RATE_PER_S, positive=False)),
                       QuantityInfo(Dimension.RATE_PER_S, ">= 0")]
#: Cost per unit of time, >= 0 (``"0.06/h"``): placement prices per core-, GPU- or GiB-hour.
Price = Annotated[float, BeforeValidator(_converter(Dimension.RATE_PER_S, positive=False)),
                  QuantityInfo(Dimension.RATE_PER_S, ">= 0", "a cost per unit of time such as 0.06/h")]
#: Velocity in metres per second, > 0 (``"1.4 m/s"``, ``"50 km/h"``).
Velocity = Annotated[float, BeforeValidator(_converter(Dimension.VELOCITY, positive=True)),
                     QuantityInfo(Dimension.VELOCITY, "> 0")]
#: Velocity in metres per second, >= 0.
VelocityOrZero = Annotated[float, BeforeValidator(_converter(Dimension.VELOCITY, positive=False)),
                           QuantityInfo(Dimension.VELOCITY, ">= 0")]
#: A frequency in hertz, > 0 (``"20 MHz"``): a radio channel's bandwidth.
Frequency = Annotated[float, BeforeValidator(_converter(Dimension.OPS_PER_S, positive=True)),
                      QuantityInfo(Dimension.OPS_PER_S, "> 0", "a frequency such as 20 MHz")]
#: A plain dimensionless number >= 0 (weights, CPU cores, GPUs).
NonNegative = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
