"""Axis labels for swept scenario paths: the quantity and its SI unit, read from the scenario schema.

A sweep names its parameters by path (``devices[0].workload.rate``); the schema knows that this field is a rate
(a :mod:`simulator.scenario.quantities` type converting to events per second). The unit is found by walking the
pydantic models along the path; where a union of sections (the workload kinds) is ambiguous, the unit is used
only when every section having the field agrees on it.
"""

from __future__ import annotations

import inspect
import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from offload.units import Dimension
from simulator.scenario import ScenarioError, parse_path
from simulator.scenario.quantities import PLAUSIBLE
from simulator.scenario.schema import ScenarioSpec

#: Prefixes for scaling an axis into readable numbers (powers of 1000).
_PREFIXES = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "µ"))
#: Units that take a prefix (``/s`` is written ``1/s`` and scaled too).
_SCALED = {"s", "bit", "bit/s", "ops", "ops/s", "W", "J", "m", "1/s"}


def _split(path: str) -> list[str | int]:
    """The path's parts (``parse_path``); a list item named in brackets (``devices[cams]``) counts as an index."""
    try:
        parts = parse_path(path)
    except ScenarioError:
        return [path]
    return [0 if isinstance(part, str) and part.startswith("[") else part for part in parts]


def _members(annotation: Any) -> list[Any]:
    """The alternatives of ``annotation`` with their ``Annotated`` metadata kept (a union flattened)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *_ = get_args(annotation)
        inner = _members(base)
        return [annotation] if len(inner) == 1 else inner
    if origin is Union or isinstance(annotation, types.UnionType):
        return [member for arg in get_args(annotation) for member in _members(arg)]
    return [annotation]


def _strip(annotation: Any) -> tuple[Any, list[Any]]:
    """``annotation`` without ``Annotated`` wrappers, and the metadata they carried."""
    metadata: list[Any] = []
    while get_origin(annotation) is Annotated:
        annotation, *extra = get_args(annotation)
        metadata.extend(extra)
    return annotation, metadata


def _dimension(metadata: list[Any]) -> Dimension | None:
    """The dimension a quantity validator converts to (its converter closes over ``dimension``)."""
    for item in metadata:
        func = getattr(item, "func", None)
        if callable(func) and getattr(func, "__closure__", None):
            found = inspect.getclosurevars(func).nonlocals.get("dimension")
            if isinstance(found, Dimension):
                return found
    return None


def _units_at(annotation: Any, tokens: list[str | int]) -> set[str | None]:
    """Every unit the field at ``tokens`` below ``annotation`` may have (``None``: no unit known)."""
    found: set[str | None] = set()
    for member in _members(annotation):
        bare, metadata = _strip(member)
        if not tokens:
            if bare is type(None) or (isinstance(bare, type) and issubclass(bare, BaseModel)):
                continue  # a swept value is a number: not the null or the section alternatives
            dimension = _dimension(metadata)
            found.add(None if dimension is None else PLAUSIBLE[dimension][2])
            continue
        head, rest = tokens[0], tokens[1:]
        origin = get_origin(bare)
        if isinstance(head, int) and origin is list:
            found |= _units_at(get_args(bare)[0], rest)
        elif isinstance(head, str) and origin is dict:
            found |= _units_at(get_args(bare)[1], rest)
        elif isinstance(head, str) and isinstance(bare, type) and issubclass(bare, BaseModel):
            field = bare.model_fields.get(head)
            if field is not None:
                inner = Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation
                found |= _units_at(inner, rest)
    return found


def path_unit(path: str) -> str | None:
    """The SI unit of the scenario field at ``path`` (``"1/s"`` for ``devices[0].workload.rate``), or ``None``.

    Examples
    --------
    >>> path_unit("access_points[0].uplink")
    'bit/s'
    >>> path_unit("devices[0].count") is None
    True
    """
    units = _units_at(ScenarioSpec, _split(path))
    unit = units.pop() if len(units) == 1 else None
    return "1/s" if unit == "/s" else unit


def scale(values_max: float, unit: str | None) -> tuple[float, str | None]:
    """A power-of-1000 factor and prefixed unit that make ``values_max`` readable (``2e7 bit/s`` -> Mbit/s)."""
    if unit not in _SCALED or not values_max > 0:
        return 1.0, unit
    factor, prefix = next(((f, p) for f, p in _PREFIXES if values_max >= f), _PREFIXES[-1])
    return factor, prefix + unit


def path_label(path: str, unit: str | None) -> str:
    """``rate [1/s] · devices[0].workload``: the quantity (the path's last name), its unit and where it is."""
    tokens = _split(path)
    names = [t for t in tokens if isinstance(t, str)]
    quantity = names[-1].replace("_", " ") if names else path
    where = path[: path.rfind(names[-1])].rstrip(".") if names else ""
    unit_text = f" [{unit}]" if unit else ""
    return f"{quantity}{unit_text}" + (f" · {where}" if where else "")
