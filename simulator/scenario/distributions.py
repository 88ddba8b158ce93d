"""Distributions in a scenario file: a plain quantity (a constant) or ``{distribution: KIND, ...}``.

:func:`distribution_type` builds the field type for one kind of quantity (work, data size, duration): one section
class per kind, each with :meth:`DistributionSection.build` returning the simulator's distribution, told apart by
``distribution``. Every section is built once while the file is checked, so a rule that relates its fields
(``high > low``, one weight per value) is reported at its line. :data:`BatchSize` is the batch size of a renewal
workload: a whole number, or a constant, empirical or geometric distribution of whole numbers >= 1.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, Discriminator, Field, Tag, model_validator

from offload.errors import ParameterError
from simulator.distributions import Constant, Distribution, Empirical, Exponential, LogNormal, Uniform
from simulator.families import BoundedPareto, Gamma, Geometric, Mixture, Weibull, erlang, hyperexponential
from simulator.scenario.quantities import Duration, DurationOrZero, Strict

Weight = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]


def by_key(key: str) -> Any:
    """Discriminator for "a plain quantity, or a mapping whose ``key`` names its kind"."""

    def tag(value: Any) -> str | None:
        if isinstance(value, BaseModel):
            return str(getattr(value, key))
        if isinstance(value, dict):
            kind = value.get(key)
            return kind if isinstance(kind, str) else None
        return "value"

    tag.__name__ = key  # pydantic names the discriminator after the function in its errors
    return Discriminator(tag)


class DistributionSection(Strict, abc.ABC):
    """A ``{distribution: KIND, ...}`` mapping; subclasses add the tag and their fields."""

    @abc.abstractmethod
    def build(self) -> Distribution:
        """The simulator's distribution (SI units)."""

    @model_validator(mode="after")
    def _buildable(self) -> DistributionSection:
        try:
            self.build()
        except ParameterError as error:
            raise ValueError(f"{error.name}: {error.rule}") from None
        return self


def build(value: Any) -> Distribution | float:
    """A field of a type from :func:`distribution_type` as a number or a simulator distribution."""
    return float(value) if isinstance(value, int | float) else value.build()


def distribution_type(quantity: Any, positive: Any) -> Any:
    """The field type of a quantity that may vary: ``quantity`` (>= 0) or a distribution section whose means are of
    type ``positive`` (> 0)."""

    class ConstantSize(DistributionSection):
        distribution: Literal["constant"]
        value: quantity

        def build(self) -> Distribution:
            return Constant(self.value)

    class ExponentialSize(DistributionSection):
        distribution: Literal["exponential"]
        mean: positive

        def build(self) -> Distribution:
            return Exponential(self.mean)

    class UniformSize(DistributionSection):
        distribution: Literal["uniform"]
        low: quantity
        high: quantity

        def build(self) -> Distribution:
            return Uniform(self.low, self.high)

    class LogNormalSize(DistributionSection):
        distribution: Literal["lognormal"]
        mean: positive
        cv: Annotated[float, Field(gt=0.0, le=100.0)]  # beyond, a sample overflows

        def build(self) -> Distribution:
            return LogNormal(self.mean, self.cv)

    class EmpiricalSize(DistributionSection):
        distribution: Literal["empirical"]
        values: Annotated[list[quantity], Field(min_length=1)]
        weights: list[Weight] | None = None

        def build(self) -> Distribution:
            return Empirical(tuple(self.values), None if self.weights is None else tuple(self.weights))

    class ErlangSize(DistributionSection):
        distribution: Literal["erlang"]
        k: Annotated[int, Field(ge=1, le=10_000)]
        mean: positive

        def build(self) -> Distribution:
            return erlang(self.k, self.mean)

    class GammaSize(DistributionSection):
        distribution: Literal["gamma"]
        shape: Annotated[float, Field(ge=1e-3, le=1e6)]
        mean: positive

        def build(self) -> Distribution:
            return Gamma(self.shape, self.mean)

    class WeibullSize(DistributionSection):
        distribution: Literal["weibull"]
        shape: Annotated[float, Field(ge=0.1, le=100.0)]  # below, Γ(1 + 2/shape) overflows
        mean: positive

        def build(self) -> Distribution:
            return Weibull(self.shape, self.mean)

    class ParetoSize(DistributionSection):
        distribution: Literal["pareto"]
        alpha: Annotated[float, Field(gt=0.0, le=100.0)]
        low: positive
        high: positive | None = None

        def build(self) -> Distribution:
            return BoundedPareto(self.alpha, self.low, float("inf") if self.high is None else self.high)

    class HyperexponentialSize(DistributionSection):
        distribution: Literal["hyperexponential"]
        means: Annotated[list[positive], Field(min_length=1)]
        weights: Annotated[list[Weight], Field(min_length=1)]

        def build(self) -> Distribution:
            return hyperexponential(tuple(self.means), tuple(self.weights))

    simple = (ConstantSize, ExponentialSize, UniformSize, LogNormalSize, EmpiricalSize, ErlangSize, GammaSize,
              WeibullSize, ParetoSize, HyperexponentialSize)
    component = _union(quantity, simple)

    class MixtureSize(DistributionSection):
        distribution: Literal["mixture"]
        components: Annotated[list[component], Field(min_length=1)]  # type: ignore[valid-type]
        weights: Annotated[list[Weight], Field(min_length=1)]

        def build(self) -> Distribution:
            parts = tuple(Constant(c) if isinstance(c, int | float) else c.build() for c in self.components)
            return Mixture(parts, tuple(self.weights))

    return _union(quantity, (*simple, MixtureSize))


def _union(quantity: Any, kinds: tuple[type[DistributionSection], ...]) -> Any:
    """``quantity`` or one of ``kinds``, by the ``distribution`` key."""
    tags = [Annotated[kind, Tag(kind.model_fields["distribution"].annotation.__args__[0])]  # type: ignore[union-attr]
            for kind in kinds]
    options: Any = Annotated[quantity, Tag("value")]
    for option in tags:
        options = options | option
    return Annotated[options, by_key("distribution")]


class ConstantBatch(DistributionSection):
    """Every batch of the same whole size."""

    distribution: Literal["constant"]
    value: Annotated[int, Field(ge=1, le=1_000_000)]

    def build(self) -> Distribution:
        return Constant(float(self.value))


class EmpiricalBatch(DistributionSection):
    """Batch sizes drawn from whole ``values`` with optional ``weights``."""

    distribution: Literal["empirical"]
    values: Annotated[list[Annotated[int, Field(ge=1, le=1_000_000)]], Field(min_length=1)]
    weights: list[Weight] | None = None

    def build(self) -> Distribution:
        return Empirical(tuple(float(v) for v in self.values), None if self.weights is None else tuple(self.weights))


class GeometricBatch(DistributionSection):
    """Geometric batch sizes ``1, 2, …`` of the given mean."""

    distribution: Literal["geometric"]
    mean: Annotated[float, Field(ge=1.0, le=1_000_000.0)]

    def build(self) -> Distribution:
        return Geometric(self.mean)


if TYPE_CHECKING:  # a union built at run time is opaque to mypy
    BatchSize = Any
    TimeDistribution = Any
else:
    #: A time in seconds (>= 0) or a distribution of times (means > 0): inter-arrival times, patience.
    TimeDistribution = distribution_type(DurationOrZero, Duration)
    BatchSize = _union(Annotated[int, Field(ge=1, le=1_000_000)], (ConstantBatch, EmpiricalBatch, GeometricBatch))
