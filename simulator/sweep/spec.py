"""What a sweep varies: grid axes, zipped axes and random samples over scenario paths, plus replications.

The points of a sweep are the Cartesian product of every grid axis, the zip block (its lists walked in lock-step,
one axis) and the random block (``samples`` draws, one axis), in that order. A sweep with no axis has one point:
the scenario as written.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np

from offload.errors import MecsimError, ParameterError
from simulator.scenario.overrides import parse_path


class DistributionKind(Enum):
    """How a random parameter is drawn; bounds are inclusive for ``randint``, half-open otherwise."""

    UNIFORM = "uniform"
    LOGUNIFORM = "loguniform"
    RANDINT = "randint"
    CHOICE = "choice"


@dataclass(frozen=True, slots=True)
class SweepDistribution:
    """A distribution to draw one swept parameter from: ``kind`` with ``args`` (low, high) or the choices."""

    kind: DistributionKind
    args: tuple[Any, ...]

    def __post_init__(self) -> None:
        if self.kind is DistributionKind.CHOICE:
            if not self.args:
                raise ParameterError("choice", list(self.args), "must list at least one value")
            return
        if len(self.args) != 2 or not all(_is_number(arg) for arg in self.args):
            raise ParameterError(self.kind.value, list(self.args), "must be two numbers [low, high]")
        low, high = self.args
        if not low < high:
            raise ParameterError(self.kind.value, list(self.args), "low must be < high")
        if self.kind is DistributionKind.LOGUNIFORM and low <= 0:
            raise ParameterError(self.kind.value, list(self.args), "low must be > 0")
        if self.kind is DistributionKind.RANDINT and not all(float(arg).is_integer() for arg in self.args):
            raise ParameterError(self.kind.value, list(self.args), "bounds must be integers")

    def sample(self, rng: np.random.Generator, size: int) -> list[Any]:
        """Draw ``size`` values as plain Python scalars (JSON-able)."""
        if self.kind is DistributionKind.CHOICE:
            return [self.args[int(i)] for i in rng.integers(0, len(self.args), size)]
        low, high = (float(arg) for arg in self.args)
        if self.kind is DistributionKind.UNIFORM:
            return [float(x) for x in rng.uniform(low, high, size)]
        if self.kind is DistributionKind.LOGUNIFORM:
            return [float(math.exp(x)) for x in rng.uniform(math.log(low), math.log(high), size)]
        return [int(x) for x in rng.integers(int(low), int(high), size, endpoint=True)]


@dataclass(frozen=True, slots=True)
class RandomBlock:
    """``samples`` joint draws of every parameter in ``params``, from a generator seeded with ``seed``."""

    samples: int
    seed: int
    params: tuple[tuple[str, SweepDistribution], ...]

    def __post_init__(self) -> None:
        if self.samples < 1:
            raise ParameterError("sweep.random.samples", self.samples, "must be >= 1")
        if not self.params:
            raise ParameterError("sweep.random.params", {}, "must name at least one path")
        for path, _ in self.params:
            check_path(path, "sweep.random.params")

    def points(self) -> list[dict[str, Any]]:
        """The drawn points; parameters are drawn one after another in the order written."""
        rng = np.random.default_rng(self.seed)
        columns = {path: dist.sample(rng, self.samples) for path, dist in self.params}
        return [{path: values[i] for path, values in columns.items()} for i in range(self.samples)]


@dataclass(frozen=True, slots=True)
class SweepSpec:
    """The parameter space of a sweep.

    Parameters
    ----------
    grid : tuple of (path, values)
        Axes crossed with each other.
    zip : tuple of (path, values)
        Axes walked together; all lists have the same length.
    random : RandomBlock or None
        Random samples, one more axis.
    replications : int or None
        Independent seeds per point; None means the scenario's ``run.replications``.
    """

    grid: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    zip: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    random: RandomBlock | None = None
    replications: int | None = None
    paths: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        for section, axes in (("grid", self.grid), ("zip", self.zip)):
            for path, values in axes:
                check_path(path, f"sweep.{section}")
                if not values:
                    raise ParameterError(f"sweep.{section}.{path}", list(values), "must list at least one value")
        if self.zip and len({len(values) for _, values in self.zip}) > 1:
            lengths = {path: len(values) for path, values in self.zip}
            raise ParameterError("sweep.zip", lengths, "all lists must have the same length")
        if self.replications is not None and self.replications < 1:
            raise ParameterError("sweep.replications", self.replications, "must be >= 1")
        random_paths = tuple(path for path, _ in self.random.params) if self.random else ()
        paths = tuple(path for path, _ in self.grid) + tuple(path for path, _ in self.zip) + random_paths
        repeated = sorted({path for path in paths if paths.count(path) > 1})
        if repeated:
            raise ParameterError("sweep", repeated, "a path may be swept only once")
        object.__setattr__(self, "paths", paths)

    def with_axes(self, *, grid: Sequence[tuple[str, Sequence[Any]]] = (),
                  zip_axes: Sequence[tuple[str, Sequence[Any]]] = (), replications: int | None = None) -> SweepSpec:
        """A copy with ``grid`` axes added (replacing axes of the same path), the zip block replaced if
        ``zip_axes`` is given, and ``replications`` if given."""
        merged = dict(self.grid) | {path: tuple(values) for path, values in grid}
        return SweepSpec(grid=tuple(merged.items()),
                         zip=tuple((path, tuple(values)) for path, values in zip_axes) or self.zip,
                         random=self.random, replications=replications or self.replications)

    def describe(self) -> dict[str, Any]:
        """Plain JSON-able description (for the sweep manifest)."""
        random = None if self.random is None else {
            "samples": self.random.samples, "seed": self.random.seed,
            "params": {path: {dist.kind.value: list(dist.args)} for path, dist in self.random.params}}
        return {"grid": {path: list(values) for path, values in self.grid},
                "zip": {path: list(values) for path, values in self.zip},
                "random": random, "replications": self.replications}

    def points(self) -> list[dict[str, Any]]:
        """Every point of the sweep as ``{path: value}``, in a fixed order (grid varies slowest)."""
        axes: list[list[dict[str, Any]]] = [[{path: value} for value in values] for path, values in self.grid]
        if self.zip:
            axes.append([dict(zip([p for p, _ in self.zip], row, strict=True))
                         for row in zip(*(values for _, values in self.zip), strict=True)])
        if self.random is not None:
            axes.append(self.random.points())
        return [_merge(combination) for combination in itertools.product(*axes)]


def grid_from_options(options: Sequence[str], option: str = "--grid") -> tuple[tuple[str, tuple[Any, ...]], ...]:
    """Parse ``path=v1,v2,...`` options; each value is read as a YAML scalar (``10`` is an int, ``20 Mbps`` text)."""
    axes = []
    for text in options:
        path, sep, values = text.partition("=")
        if not sep or not path.strip() or not values.strip():
            raise ParameterError(option, text, "expected path=v1,v2,... e.g. devices[0].count=10,20,40")
        check_path(path.strip(), option)
        axes.append((path.strip(), tuple(_scalar(value.strip(), option, text) for value in values.split(","))))
    return tuple(axes)


def _scalar(value: str, option: str, text: str) -> Any:
    """A number if Python reads one (``1e6`` too, unlike YAML 1.1), else the YAML scalar (``true``, ``20 Mbps``)."""
    import yaml

    for number in (int, float):
        try:
            return number(value)
        except ValueError:
            pass
    try:
        return yaml.safe_load(value)
    except yaml.YAMLError as error:
        raise ParameterError(option, text, f"value {value!r} is not a YAML scalar") from error


def check_path(path: str, where: str) -> str:
    """Return ``path`` if it is a scenario path (``--set`` syntax), else raise naming ``where``."""
    try:
        parse_path(path)
    except MecsimError:
        raise ParameterError(where, path, "not a scenario path; expected e.g. devices[0].count or "
                                          "devices[cameras].count") from None
    return path


def _merge(parts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    point: dict[str, Any] = {}
    for part in parts:
        point.update(part)
    return point


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
