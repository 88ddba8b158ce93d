"""More size and time distributions for queueing models: gamma (Erlang-k), Weibull, bounded Pareto, geometric
batch sizes, finite mixtures (hyperexponential) and a change of unit.

Each is a :class:`simulator.distributions.Distribution`: analytic ``mean`` and ``variance`` (the formulas are the
textbook ones, e.g. Harchol-Balter, *Performance Modeling and Design of Computer Systems*, 2013, ch. 3 and 20) and
block sampling from a caller-supplied generator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from offload.errors import ParameterError
from offload.validate import check_non_negative, check_positive
from simulator.distributions import Distribution, Exponential, FloatArray


@dataclass(frozen=True, slots=True)
class _ShapeAndMean:
    """A two-parameter family given by a shape and its mean (both > 0)."""

    shape: float
    mean_value: float

    def __post_init__(self) -> None:
        check_positive("shape", self.shape)
        check_positive("mean_value", self.mean_value)

    @property
    def mean(self) -> float:
        """``mean_value``."""
        return float(self.mean_value)


@dataclass(frozen=True, slots=True)
class Gamma(_ShapeAndMean):
    """Gamma with the given ``shape`` and mean (scale ``mean_value / shape``); an integer shape is Erlang-k."""

    @property
    def variance(self) -> float:
        """``mean² / shape``."""
        return float(self.mean_value) ** 2 / self.shape

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        """Draw ``n`` values."""
        return rng.gamma(self.shape, self.mean_value / self.shape, n)


def erlang(k: int, mean_value: float) -> Gamma:
    """Erlang-k: the sum of ``k`` exponential phases, of total mean ``mean_value`` (coefficient of variation
    ``1/√k``)."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ParameterError("k", k, "must be a whole number >= 1")
    return Gamma(float(k), mean_value)


@dataclass(frozen=True, slots=True)
class Weibull(_ShapeAndMean):
    """Weibull with the given ``shape`` and mean (scale ``mean / Γ(1 + 1/shape)``)."""

    @property
    def scale(self) -> float:
        """``λ = mean / Γ(1 + 1/k)``."""
        return self.mean_value / math.gamma(1.0 + 1.0 / self.shape)

    @property
    def variance(self) -> float:
        """``λ² (Γ(1 + 2/k) − Γ(1 + 1/k)²)``."""
        return self.scale**2 * (math.gamma(1.0 + 2.0 / self.shape) - math.gamma(1.0 + 1.0 / self.shape) ** 2)

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        """Draw ``n`` values."""
        return self.scale * rng.weibull(self.shape, n)


@dataclass(frozen=True, slots=True)
class BoundedPareto:
    """Pareto of index ``alpha`` on ``[low, high]`` (``high = inf``: unbounded, then ``alpha > 1`` for a mean).

    Density ``α L^α x^(−α−1) / (1 − (L/H)^α)``; sampled by inverting the CDF.
    """

    alpha: float
    low: float
    high: float = math.inf

    def __post_init__(self) -> None:
        check_positive("alpha", self.alpha)
        check_positive("low", self.low)
        check_positive("high", self.high, allow_inf=True)
        if not self.high > self.low:
            raise ParameterError("high", self.high, f"must be > low ({self.low})")
        if math.isinf(self.high) and self.alpha <= 1.0:
            raise ParameterError("alpha", self.alpha, "must be > 1 for an unbounded Pareto (else the mean is infinite)")

    def moment(self, k: int) -> float:
        """``E[X^k]`` (``inf`` when it diverges)."""
        a, low, high = self.alpha, self.low, self.high
        if math.isinf(high):
            return float(a * low**k / (a - k)) if a > k else math.inf
        norm = a * low**a / (1.0 - (low / high) ** a)
        if math.isclose(a, k):
            return float(norm * math.log(high / low))
        return float(norm * (high ** (k - a) - low ** (k - a)) / (k - a))

    @property
    def mean(self) -> float:
        """``E[X]``."""
        return self.moment(1)

    @property
    def variance(self) -> float:
        """``E[X²] − E[X]²`` (``inf`` for an unbounded Pareto with ``alpha <= 2``)."""
        second = self.moment(2)
        return math.inf if math.isinf(second) else second - self.mean**2

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        """Draw ``n`` values: ``L (1 − u (1 − (L/H)^α))^(−1/α)``."""
        tail = 1.0 - (self.low / self.high) ** self.alpha
        return np.asarray(self.low * (1.0 - rng.random(n) * tail) ** (-1.0 / self.alpha), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class Geometric:
    """Whole numbers ``1, 2, …`` with ``P(k) = p (1 − p)^(k−1)``, ``p = 1 / mean`` (e.g. a batch size)."""

    mean_value: float

    def __post_init__(self) -> None:
        check_positive("mean_value", self.mean_value)
        if self.mean_value < 1.0:
            raise ParameterError("mean_value", self.mean_value, "must be >= 1")

    @property
    def mean(self) -> float:
        """``1 / p``."""
        return float(self.mean_value)

    @property
    def variance(self) -> float:
        """``(1 − p) / p²``."""
        p = 1.0 / self.mean_value
        return (1.0 - p) / p**2

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        """Draw ``n`` values."""
        return rng.geometric(1.0 / self.mean_value, n).astype(np.float64)


@dataclass(frozen=True, slots=True)
class Mixture:
    """With probability ``weights[i]`` (normalised) a draw of ``components[i]``."""

    components: tuple[Distribution, ...]
    weights: tuple[float, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "components", tuple(self.components))
        object.__setattr__(self, "weights", tuple(float(w) for w in self.weights))
        if not self.components:
            raise ParameterError("components", self.components, "needs at least one component")
        if len(self.weights) != len(self.components):
            raise ParameterError("weights", self.weights, f"needs one weight per component ({len(self.components)})")
        for w in self.weights:
            check_non_negative("weights", w)
        if sum(self.weights) <= 0:
            raise ParameterError("weights", self.weights, "must not all be 0")

    @property
    def probabilities(self) -> FloatArray:
        """The weights normalised to sum to 1."""
        w = np.asarray(self.weights, dtype=np.float64)
        return np.asarray(w / w.sum(), dtype=np.float64)

    @property
    def mean(self) -> float:
        """``Σ p_i m_i``."""
        return float(sum(p * c.mean for p, c in zip(self.probabilities, self.components, strict=True)))

    @property
    def variance(self) -> float:
        """``Σ p_i (v_i + m_i²) − mean²`` (law of total variance)."""
        second = sum(p * (c.variance + c.mean**2) for p, c in zip(self.probabilities, self.components, strict=True))
        return float(second - self.mean**2)

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        """Draw the component of each value, then each component's values in one block."""
        cdf = np.cumsum(self.probabilities)
        which = np.minimum(cdf.searchsorted(rng.random(n), side="right"), cdf.size - 1)
        out = np.empty(n)
        for i, component in enumerate(self.components):
            chosen = which == i
            out[chosen] = component.sample(rng, int(chosen.sum()))
        return out


def hyperexponential(means: tuple[float, ...], weights: tuple[float, ...]) -> Mixture:
    """A hyperexponential: a mixture of exponentials of the given means (coefficient of variation >= 1)."""
    return Mixture(tuple(Exponential(m) for m in means), weights)


@dataclass(frozen=True, slots=True)
class Scaled:
    """``factor`` times a draw of ``base`` (a change of unit, e.g. seconds of service to ops at a speed)."""

    base: Distribution
    factor: float

    def __post_init__(self) -> None:
        check_positive("factor", self.factor)

    @property
    def mean(self) -> float:
        """``factor · mean``."""
        return self.factor * self.base.mean

    @property
    def variance(self) -> float:
        """``factor² · variance``."""
        return self.factor**2 * self.base.variance

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        """Draw ``n`` values."""
        return self.factor * self.base.sample(rng, n)
