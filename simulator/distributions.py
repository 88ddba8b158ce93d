"""Task size distributions: value objects that know their analytic mean and variance and sample in blocks.

Every distribution draws with a caller-supplied ``rng: np.random.Generator`` and returns a float64 array, so the
engine can draw thousands of sizes with one numpy call. Tests compare sample moments with ``mean``/``variance``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from offload.errors import ParameterError
from offload.validate import check_non_negative, check_positive

FloatArray = npt.NDArray[np.float64]


@runtime_checkable
class Distribution(Protocol):
    """A non-negative random quantity (ops, bits or seconds)."""

    @property
    def mean(self) -> float:
        """Analytic mean."""
        ...

    @property
    def variance(self) -> float:
        """Analytic variance."""
        ...

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        """Draw ``n`` independent values."""
        ...


@dataclass(frozen=True, slots=True)
class Constant:
    """Always ``value``."""

    value: float

    def __post_init__(self) -> None:
        check_non_negative("value", self.value)

    @property
    def mean(self) -> float:
        """The value itself."""
        return float(self.value)

    @property
    def variance(self) -> float:
        """Zero."""
        return 0.0

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        """``n`` copies of the value (``rng`` is not consumed)."""
        return np.full(n, float(self.value))


@dataclass(frozen=True, slots=True)
class Exponential:
    """Exponential with the given mean."""

    mean_value: float

    def __post_init__(self) -> None:
        check_positive("mean_value", self.mean_value)

    @property
    def mean(self) -> float:
        """``mean_value``."""
        return float(self.mean_value)

    @property
    def variance(self) -> float:
        """``mean_value²``."""
        return float(self.mean_value) ** 2

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        """Draw ``n`` values."""
        return rng.exponential(self.mean_value, n)


@dataclass(frozen=True, slots=True)
class Uniform:
    """Uniform on ``[low, high]``."""

    low: float
    high: float

    def __post_init__(self) -> None:
        check_non_negative("low", self.low)
        check_non_negative("high", self.high)
        if self.high < self.low:
            raise ParameterError("high", self.high, f"must be >= low ({self.low})")

    @property
    def mean(self) -> float:
        """``(low + high) / 2``."""
        return (self.low + self.high) / 2.0

    @property
    def variance(self) -> float:
        """``(high − low)² / 12``."""
        return (self.high - self.low) ** 2 / 12.0

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        """Draw ``n`` values."""
        return rng.uniform(self.low, self.high, n)


@dataclass(frozen=True, slots=True)
class LogNormal:
    """Lognormal given by its mean and coefficient of variation ``cv`` (std / mean).

    The underlying normal has ``σ² = ln(1 + cv²)`` and ``μ = ln(mean) − σ²/2``.
    """

    mean_value: float
    cv: float

    def __post_init__(self) -> None:
        check_positive("mean_value", self.mean_value)
        check_non_negative("cv", self.cv)

    @property
    def mean(self) -> float:
        """``mean_value``."""
        return float(self.mean_value)

    @property
    def variance(self) -> float:
        """``(cv · mean)²``."""
        return (self.cv * self.mean_value) ** 2

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        """Draw ``n`` values."""
        sigma2 = math.log1p(self.cv**2)
        return rng.lognormal(math.log(self.mean_value) - sigma2 / 2.0, math.sqrt(sigma2), n)


@dataclass(frozen=True, slots=True)
class Empirical:
    """Resampling of observed ``values`` with optional ``weights`` (normalised to probabilities)."""

    values: tuple[float, ...]
    weights: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if len(self.values) == 0:
            raise ParameterError("values", self.values, "needs at least one value")
        for v in self.values:
            check_non_negative("values", v)
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ParameterError("weights", self.weights, f"needs one weight per value ({len(self.values)})")
            for w in self.weights:
                check_non_negative("weights", w)
            if sum(self.weights) <= 0:
                raise ParameterError("weights", self.weights, "must not all be 0")

    def _probabilities(self) -> FloatArray:
        if self.weights is None:
            return np.full(len(self.values), 1.0 / len(self.values))
        w = np.asarray(self.weights, dtype=np.float64)
        return np.asarray(w / w.sum(), dtype=np.float64)

    @property
    def mean(self) -> float:
        """Weighted mean of the values."""
        return float(np.dot(self._probabilities(), self.values))

    @property
    def variance(self) -> float:
        """Weighted variance of the values."""
        v = np.asarray(self.values, dtype=np.float64)
        return float(np.dot(self._probabilities(), (v - self.mean) ** 2))

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        """Draw ``n`` values with replacement."""
        values = np.asarray(self.values, dtype=np.float64)
        if self.weights is None:
            return values[rng.integers(0, len(values), n)]
        return rng.choice(values, size=n, p=self._probabilities())


def as_distribution(name: str, value: Distribution | float | int | Sequence[float]) -> Distribution:
    """Coerce a plain number to :class:`Constant`; pass distributions through; reject anything else by name."""
    if isinstance(value, bool):
        raise ParameterError(name, value, "must be a number or a distribution")
    if isinstance(value, int | float | np.integer | np.floating):
        return Constant(float(value))
    if isinstance(value, Distribution):
        return value
    raise ParameterError(name, value, "must be a number or a distribution (Constant, Exponential, ...)")
