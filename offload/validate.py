"""Small argument checks that name the parameter and the rule (SimPy style: ``amount(=-1) must be > 0``)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from offload.errors import ParameterError


def check_positive(name: str, value: float, *, allow_inf: bool = False) -> float:
    """Return ``value`` as float if it is a finite number > 0 (or +inf when allowed), else raise."""
    value = _as_number(name, value)
    if not value > 0 or (math.isinf(value) and not allow_inf):
        raise ParameterError(name, value, "must be > 0" + ("" if allow_inf else " and finite"))
    return value


def check_non_negative(name: str, value: float, *, allow_inf: bool = False) -> float:
    """Return ``value`` as float if it is a number >= 0 (finite unless ``allow_inf``), else raise."""
    value = _as_number(name, value)
    if not value >= 0 or (math.isinf(value) and not allow_inf):
        raise ParameterError(name, value, "must be >= 0" + ("" if allow_inf else " and finite"))
    return value


def check_fraction(name: str, value: float) -> float:
    """Return ``value`` if 0 <= value <= 1, else raise."""
    value = _as_number(name, value)
    if not 0.0 <= value <= 1.0:
        raise ParameterError(name, value, "must be between 0 and 1")
    return value


def check_array_non_negative(name: str, values: npt.ArrayLike, *, allow_inf: bool = True) -> npt.NDArray[np.float64]:
    """Return ``values`` as a float array if every element is >= 0 (NaN never passes)."""
    array = np.asarray(values, dtype=np.float64)
    bad = ~(array >= 0) | (~np.isfinite(array) & (not allow_inf))
    if bad.any():
        raise ParameterError(name, float(array[bad].flat[0]), "must be >= 0" + ("" if allow_inf else " and finite"))
    return array


def check_array_positive(name: str, values: npt.ArrayLike, *, allow_inf: bool = True) -> npt.NDArray[np.float64]:
    """Return ``values`` as a float array if every element is > 0 (NaN never passes)."""
    array = np.asarray(values, dtype=np.float64)
    bad = ~(array > 0) | (~np.isfinite(array) & (not allow_inf))
    if bad.any():
        raise ParameterError(name, float(array[bad].flat[0]), "must be > 0" + ("" if allow_inf else " and finite"))
    return array


def _as_number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ParameterError(name, value, "must be a number")
    number = float(value)
    if math.isnan(number):
        raise ParameterError(name, value, "must be a number, not NaN")
    return number
