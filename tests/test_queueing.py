"""Analytic queueing formulas against textbook values computed by hand (Kleinrock vol. 1)."""

import math

import numpy as np
import pytest

from offload import queueing as q
from offload.errors import ParameterError


def test_mm1_textbook():
    # λ=8, μ=10: W = 1/(μ-λ) = 0.5 s, Wq = ρ/(μ-λ) = 0.4 s, P(T>1) = e^-2
    assert q.mm1_mean_sojourn_s(8, 10) == pytest.approx(0.5)
    assert q.mm1_mean_wait_s(8, 10) == pytest.approx(0.4)
    assert q.mm1_sojourn_tail(1.0, 8, 10) == pytest.approx(math.exp(-2))


def test_erlang_c_textbook():
    # c=4, A=3.2 (λ=32, μ=10): C = 0.596432, Wq = C/(cμ-λ) = 0.074554 s
    assert q.erlang_c(4, 3.2) == pytest.approx(0.596432, abs=1e-6)
    assert q.mmc_mean_wait_s(32, 10, 4) == pytest.approx(0.074554, abs=1e-6)
    assert q.mmc_wait_tail(0.0, 32, 10, 4) == pytest.approx(0.596432, abs=1e-6)


def test_erlang_b_hand_computed():
    # B(1, A) = A/(1+A); B(2, 1) = (1/2)/(2 + 1/2) = 0.2
    assert q.erlang_b(1, 3.0) == pytest.approx(0.75)
    assert q.erlang_b(2, 1.0) == pytest.approx(0.2)


def test_mmc_with_one_server_is_mm1():
    lam = np.linspace(0.1, 9.9, 50)
    np.testing.assert_allclose(q.mmc_mean_wait_s(lam, 10, 1), lam / 10 / (10 - lam))


def test_md1_and_mg1():
    # M/D/1 λ=8, S=0.1: Wq = ρS/(2(1-ρ)) = 0.8*0.1/0.4 = 0.2 -> T = 0.3 s
    assert q.md1_mean_sojourn_s(8, 0.1) == pytest.approx(0.3)
    # P-K with exponential service equals M/M/1
    assert q.mg1_mean_wait_s(8, 0.1, 1.0) == pytest.approx(q.mm1_mean_wait_s(8, 10))
    assert q.mg1_ps_mean_sojourn_s(8, 0.1) == pytest.approx(0.5)


def test_unstable_queues_are_infinite():
    assert math.isinf(q.mm1_mean_sojourn_s(10, 10))
    assert math.isinf(q.mmc_mean_wait_s(41, 10, 4))
    assert math.isinf(q.mg1_ps_mean_sojourn_s(11, 0.1))
    assert q.erlang_c(4, 5.0) == 1.0


def test_bad_rates_are_rejected_with_names():
    with pytest.raises(ParameterError, match="service_rate_per_s"):
        q.mm1_mean_sojourn_s(1, 0)
    with pytest.raises(ParameterError, match="arrival_rate_per_s"):
        q.mm1_mean_sojourn_s(float("nan"), 1)
    with pytest.raises(ParameterError, match="whole number"):
        q.erlang_b(2.5, 1.0)


def test_mmc_sojourn_tail_one_server_is_the_mm1_exponential() -> None:
    from offload.queueing import mm1_sojourn_tail, mmc_sojourn_tail

    t = np.linspace(0.0, 3.0, 31)
    np.testing.assert_allclose(mmc_sojourn_tail(t, 8.0, 10.0, 1), mm1_sojourn_tail(t, 8.0, 10.0), rtol=1e-12)


@pytest.mark.parametrize(("lam", "mu", "c"), [(32.0, 10.0, 4), (10.0, 10.0, 2), (5.0, 1.0, 8)])
def test_mmc_sojourn_tail_integrates_to_the_erlang_c_mean(lam: float, mu: float, c: int) -> None:
    """E[T] = integral of P(T > t); (10, 10, 2) hits the a = mu limit (c mu - lam = mu)."""
    from scipy.integrate import quad

    from offload.queueing import mmc_mean_sojourn_s, mmc_sojourn_tail

    mean, _ = quad(lambda t: float(mmc_sojourn_tail(t, lam, mu, c)), 0.0, np.inf)
    assert mean == pytest.approx(float(mmc_mean_sojourn_s(lam, mu, c)), rel=1e-7)


def test_md1_wait_cdf_atom_and_pollaczek_khinchine_mean() -> None:
    from offload.queueing import md1_mean_wait_s, md1_wait_cdf

    assert float(md1_wait_cdf(0.0, 8.0, 0.1)) == pytest.approx(1.0 - 0.8)  # P(W = 0) = 1 - rho
    t = np.linspace(0.0, 5.0, 50_001)
    cdf = md1_wait_cdf(t, 8.0, 0.1)
    ok = np.isfinite(cdf)
    assert np.all(np.diff(cdf[ok]) >= -1e-6)
    assert 1.0 - cdf[ok][-1] < 1e-3  # only a negligible tail is NaN
    # E[W] = integral of 1 - F; the dropped tail and the trapezoid rule cost well under 0.1 %
    assert np.trapezoid(1.0 - cdf[ok], t[ok]) == pytest.approx(float(md1_mean_wait_s(8.0, 0.1)), rel=1e-3)
