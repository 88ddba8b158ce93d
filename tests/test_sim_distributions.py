"""Every size/time distribution against its analytic mean and variance, and renewal (batch) arrivals against
their rate: large seeded samples, tolerances from the central limit theorem (5 standard errors, so a fixed seed is
not a coin flip and a wrong formula is still caught)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from offload.errors import ParameterError
from simulator.distributions import Constant, Distribution, Empirical, Exponential, LogNormal, Uniform
from simulator.families import BoundedPareto, Gamma, Geometric, Mixture, Scaled, Weibull, erlang, hyperexponential
from simulator.workloads import Renewal

N = 400_000
Z = 5.0

DISTRIBUTIONS: dict[str, Distribution] = {
    "exponential": Exponential(2.0),
    "uniform": Uniform(1.0, 3.0),
    "lognormal": LogNormal(2.0, 0.8),
    "empirical": Empirical((1.0, 2.0, 7.0), (0.5, 0.3, 0.2)),
    "erlang-4": erlang(4, 2.0),
    "gamma-0.5": Gamma(0.5, 2.0),
    "weibull-1.5": Weibull(1.5, 2.0),
    "weibull-0.7": Weibull(0.7, 2.0),
    "bounded-pareto": BoundedPareto(1.5, 0.5, 500.0),
    "pareto-alpha-3": BoundedPareto(3.0, 1.0),
    "geometric": Geometric(3.0),
    "hyperexponential": hyperexponential((0.5, 8.0), (0.9, 0.1)),
    "mixture": Mixture((Constant(1.0), Uniform(2.0, 4.0), erlang(3, 6.0)), (2.0, 1.0, 1.0)),
    "scaled": Scaled(erlang(2, 0.1), 1e9),
}


@pytest.mark.parametrize("name", list(DISTRIBUTIONS))
def test_sample_moments_match_the_analytic_mean_and_variance(name: str) -> None:
    dist = DISTRIBUTIONS[name]
    x = dist.sample(np.random.default_rng(11), N)
    assert x.shape == (N,)
    assert np.all(x >= 0)
    mean, var = dist.mean, dist.variance
    assert abs(x.mean() - mean) <= Z * math.sqrt(var / N), f"mean {x.mean()} vs {mean}"
    # Var(s²) ≈ (μ4 − σ⁴) / n, with the fourth central moment estimated from the sample itself
    m4 = float(np.mean((x - x.mean()) ** 4))
    assert abs(x.var(ddof=1) - var) <= Z * math.sqrt(max(m4 - var**2, 0.0) / N), f"variance {x.var()} vs {var}"


def test_closed_forms_by_hand() -> None:
    assert erlang(3, 6.0).variance == pytest.approx(12.0)  # k phases of mean 2: 3 · 2²
    h = hyperexponential((1.0, 3.0), (0.5, 0.5))
    assert (h.mean, h.variance) == pytest.approx((2.0, 0.5 * 2 + 0.5 * 18 - 4.0))
    p = BoundedPareto(2.0, 1.0)  # unbounded, α = 2: mean α/(α−1) = 2, infinite variance
    assert p.mean == pytest.approx(2.0)
    assert math.isinf(p.variance)
    w = Weibull(1.0, 3.0)  # shape 1 is exponential
    assert w.variance == pytest.approx(9.0)
    g = Geometric(4.0)
    assert g.variance == pytest.approx(0.75 / 0.25**2)


@pytest.mark.parametrize(("make", "match"), [
    (lambda: erlang(0, 1.0), "k"),
    (lambda: Gamma(-1.0, 1.0), "shape"),
    (lambda: BoundedPareto(2.0, 3.0, 1.0), "must be > low"),
    (lambda: BoundedPareto(0.8, 1.0), "unbounded"),
    (lambda: Mixture((Exponential(1.0),), (1.0, 2.0)), "one weight per component"),
    (lambda: Geometric(0.5), ">= 1"),
    (lambda: Renewal(Constant(0.0)), "mean > 0"),
])
def test_bad_parameters_are_named(make: object, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        make()  # type: ignore[operator]


def _arrivals(workload: Renewal, count: int, horizon_s: float, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    blocks = list(workload.blocks(np.random.default_rng(seed), count, horizon_s))
    return np.concatenate([b.times_s for b in blocks]), np.concatenate([b.device for b in blocks])


def test_renewal_superposition_is_ordered_and_each_device_has_the_interarrival_law() -> None:
    gap = Weibull(0.7, 0.5)
    times, device = _arrivals(Renewal(gap), 7, 20_000.0)
    assert np.all(np.diff(times) >= 0)
    assert times.max() < 20_000.0
    gaps = np.concatenate([np.diff(np.concatenate([[0.0], times[device == d]])) for d in range(7)])
    n = gaps.size
    assert abs(gaps.mean() - gap.mean) <= Z * math.sqrt(gap.variance / n)
    assert abs(gaps.var() - gap.variance) <= 0.05 * gap.variance  # n ≈ 280 k: a few percent at most


def test_batch_arrivals_bring_batches_at_the_renewal_epochs() -> None:
    workload = Renewal(Exponential(2.0), Geometric(3.0))
    times, device = _arrivals(workload, 4, 50_000.0)
    epochs, sizes = np.unique(np.stack([times, device]), axis=1, return_counts=True)
    assert abs(sizes.mean() - 3.0) <= Z * math.sqrt(Geometric(3.0).variance / sizes.size)
    rate = times.size / (4 * 50_000.0)
    expected = workload.mean_rate_per_s
    assert expected == pytest.approx(1.5)
    assert abs(rate - expected) <= Z * math.sqrt(expected * (1 + 2 * 6.0 / 3.0) / (4 * 50_000.0))  # batch dispersion
    assert epochs.shape[1] == sizes.size
