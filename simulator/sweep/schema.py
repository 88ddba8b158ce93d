"""The ``sweep:`` section of a scenario file: a pydantic model (file boundary only) turned into a :class:`SweepSpec`.

Example::

    sweep:
      grid:
        devices[cameras].count: [10, 20, 40]
        access_points[0].uplink: ["10 Mbps", "50 Mbps"]
        devices[cameras].workload.rate: {linspace: [0.5, 2.0, 4]}
      zip:
        nodes[edge].workers: [1, 2, 4]
        nodes[edge].speed: ["10 GHz", "5 GHz", "2.5 GHz"]
      random:
        samples: 16
        seed: 7
        params:
          services[0].input: {loguniform: [1.0e5, 1.0e7]}
      replications: 5

Paths use the ``--set`` syntax (``[i]`` an index, ``[name]`` the item with that name).
Values are written as in the scenario itself (human units allowed); random bounds are plain SI numbers.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError, model_validator

from offload.errors import ParameterError
from simulator.scenario.errors import ScenarioError, ScenarioIssue
from simulator.sweep.spec import DistributionKind, RandomBlock, SweepDistribution, SweepSpec

LineOf = Callable[[tuple[str | int, ...]], "int | None"]


class Span(BaseModel):
    """A generated list of grid values: exactly one of linspace/logspace ``[first, last, count]`` or range
    ``[start, stop, step]`` (stop excluded)."""

    model_config = ConfigDict(extra="forbid")

    linspace: tuple[float, float, int] | None = None
    logspace: tuple[float, float, int] | None = None
    range: tuple[float, float, float] | None = None

    @model_validator(mode="after")
    def _one(self) -> Span:
        given = [name for name in ("linspace", "logspace", "range") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of linspace, logspace, range")
        self.values()
        return self

    def values(self) -> tuple[Any, ...]:
        """The generated values as plain Python numbers."""
        if self.range is not None:
            start, stop, step = self.range
            if step == 0:
                raise ValueError("range step must not be 0")
            values = np.arange(start, stop, step)
            integral = all(float(x).is_integer() for x in self.range)
            return tuple(int(x) if integral else float(x) for x in values)
        first, last, count = self.linspace or self.logspace or (0.0, 0.0, 0)
        if count < 1:
            raise ValueError("count must be >= 1")
        if self.logspace is not None:
            if first <= 0 or last <= 0:
                raise ValueError("logspace bounds must be > 0")
            return tuple(float(x) for x in np.geomspace(first, last, count))
        return tuple(float(x) for x in np.linspace(first, last, count))


class DistributionSection(BaseModel):
    """One random parameter: exactly one of ``uniform``/``loguniform``/``randint`` ``[low, high]`` or ``choice``."""

    model_config = ConfigDict(extra="forbid")

    uniform: tuple[float, float] | None = None
    loguniform: tuple[float, float] | None = None
    randint: tuple[int, int] | None = None
    choice: list[Any] | None = None

    @model_validator(mode="after")
    def _check(self) -> DistributionSection:
        given = [kind for kind in DistributionKind if getattr(self, kind.value) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of " + ", ".join(kind.value for kind in DistributionKind))
        self.to_distribution()
        return self

    def to_distribution(self) -> SweepDistribution:
        """The validated :class:`SweepDistribution`."""
        for kind in DistributionKind:
            args = getattr(self, kind.value)
            if args is not None:
                try:
                    return SweepDistribution(kind, tuple(args))
                except ParameterError as error:
                    raise ValueError(error.rule) from error
        raise ValueError("no distribution given")


class RandomSection(BaseModel):
    """``samples`` joint random draws of ``params`` with generator seed ``seed``."""

    model_config = ConfigDict(extra="forbid")

    samples: int = Field(ge=1)
    seed: int = Field(default=0, ge=0)
    params: dict[str, DistributionSection] = Field(min_length=1)


Values = Annotated[list[Any], Field(min_length=1)]
GridValues = Annotated[
    Annotated[Values, Tag("list")] | Annotated[Span, Tag("span")],
    Discriminator(lambda value: "span" if isinstance(value, Mapping | Span) else "list"),
]


class SweepSection(BaseModel):
    """The ``sweep:`` section of a scenario; include it in a scenario schema as ``sweep: SweepSection | None``."""

    model_config = ConfigDict(extra="forbid")

    grid: dict[str, GridValues] = Field(default_factory=dict)
    zip: dict[str, Values] = Field(default_factory=dict)
    random: RandomSection | None = None
    replications: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _check(self) -> SweepSection:
        self.to_spec()
        return self

    def to_spec(self) -> SweepSpec:
        """The validated :class:`SweepSpec`; a broken rule raises ``ValueError`` (pydantic reports it)."""
        try:
            grid = tuple((path, tuple(values.values() if isinstance(values, Span) else values))
                         for path, values in self.grid.items())
            random = None
            if self.random is not None:
                params = tuple((path, dist.to_distribution()) for path, dist in self.random.params.items())
                random = RandomBlock(self.random.samples, self.random.seed, params)
            return SweepSpec(grid=grid, zip=tuple((path, tuple(values)) for path, values in self.zip.items()),
                             random=random, replications=self.replications)
        except ParameterError as error:
            raise ValueError(str(error)) from error


def parse_sweep(data: Any, *, source: str = "<sweep>", line_of: LineOf | None = None) -> SweepSpec:
    """Validate a ``sweep:`` mapping and return its :class:`SweepSpec`; every problem is reported at once.

    Parameters
    ----------
    data : mapping or None
        The section as loaded from YAML (None: no sweep axes).
    source : str
        File name for messages.
    line_of : callable, optional
        YAML path -> line number (``LoadedYaml.line_of`` of the scenario file), for ``file:line:`` messages.

    Raises
    ------
    ScenarioError
        One issue per problem, e.g. ``city.yaml:31: sweep.grid.devices[0].count: must list at least one value``.
    """
    def issue(location: tuple[str | int, ...], rule: str, *value: Any) -> ScenarioIssue:
        path = ("sweep", *location)
        return ScenarioIssue(source, line_of(path) if line_of else None, path, rule, *value)

    if data is None:
        return SweepSpec()
    if not isinstance(data, Mapping):
        raise ScenarioError([issue((), "must be a mapping with grid, zip, random and/or replications", data)])
    try:
        return SweepSection.model_validate(dict(data)).to_spec()
    except ValidationError as error:
        issues = [issue(tuple(part for part in item["loc"] if not _is_union_tag(part)), _message(item))
                  for item in error.errors()]
        raise ScenarioError(list({str(found): found for found in issues}.values())) from None


def _message(item: Any) -> str:
    message = str(item["msg"]).removeprefix("Value error, ")
    if item["type"] == "extra_forbidden":
        models = (SweepSection, RandomSection, DistributionSection, Span)
        names = {name for model in models for name in model.model_fields}
        close = difflib.get_close_matches(str(item["loc"][-1]), sorted(names), n=1)
        message = "unknown key" + (f"; did you mean {close[0]!r}?" if close else "")
    return message


def _is_union_tag(part: object) -> bool:
    # pydantic names union branches and validators in error locations; they mean nothing to a user
    return isinstance(part, str) and (part in {"list", "span"} or part.startswith("function-"))
