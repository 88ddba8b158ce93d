"""Queueing formulas against independent closed forms and against each other (hypothesis)."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from offload import queueing as q
from offload.errors import ParameterError

servers = st.integers(1, 30)
load = st.floats(0.0, 40.0)
rate = st.floats(0.1, 100.0)
utilisation = st.floats(0.0, 0.98)


def erlang_b_direct(c: int, a: float) -> float:
    """B(c, A) = (A^c / c!) / sum_k A^k / k!, summed in floating point from the definition."""
    terms = [a**k / math.factorial(k) for k in range(c + 1)]
    return terms[-1] / sum(terms)


@given(servers, load)
def test_erlang_b_recursion_equals_the_definition(c, a):
    assert q.erlang_b(c, a) == pytest.approx(erlang_b_direct(c, a), rel=1e-9, abs=1e-300)


@given(servers, utilisation)
def test_erlang_c_equals_its_definition(c, rho):
    # C(c, A) = (A^c/c! * c/(c-A)) / (sum_{k<c} A^k/k! + A^c/c! * c/(c-A))
    a = rho * c
    top = a**c / math.factorial(c) * c / (c - a)
    expected = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    assert q.erlang_c(c, a) == pytest.approx(expected, rel=1e-9, abs=1e-300)


@given(rate, utilisation)
def test_single_server_special_cases_agree(mu, rho):
    lam = rho * mu
    mm1_wait = rho / (mu - lam)
    assert q.mm1_mean_wait_s(lam, mu) == pytest.approx(mm1_wait)
    assert q.mmc_mean_wait_s(lam, mu, 1) == pytest.approx(mm1_wait)
    # P-K: exponential service (scv 1) is M/M/1; deterministic service (scv 0) waits half as long
    assert q.mg1_mean_wait_s(lam, 1 / mu, 1.0) == pytest.approx(mm1_wait)
    assert q.md1_mean_wait_s(lam, 1 / mu) == pytest.approx(mm1_wait / 2)
    # processor sharing has the M/M/1 mean sojourn whatever the size distribution
    assert q.mg1_ps_mean_sojourn_s(lam, 1 / mu) == pytest.approx(1 / (mu - lam))
    # the sojourn tail integrates to the mean sojourn time
    t = np.linspace(0, 60 / (mu - lam), 200_001)
    tail = q.mm1_sojourn_tail(t, lam, mu)
    assert float(np.sum((tail[1:] + tail[:-1]) / 2 * np.diff(t))) == pytest.approx(1 / (mu - lam), rel=1e-4)


@given(servers, rate, st.floats(0.0, 0.9), st.floats(0.01, 0.08))
def test_waiting_grows_with_load(c, mu, rho, step):
    lam = rho * c * mu
    more = (rho + step) * c * mu
    assert q.mmc_mean_wait_s(more, mu, c) >= q.mmc_mean_wait_s(lam, mu, c)
    assert q.erlang_c(c, more / mu) >= q.erlang_c(c, lam / mu) - 1e-15


@given(servers, rate, utilisation, st.floats(0.0, 5.0))
def test_mmc_wait_tail_starts_at_erlang_c_and_decays(c, mu, rho, t):
    lam = rho * c * mu
    assert q.mmc_wait_tail(0.0, lam, mu, c) == pytest.approx(q.erlang_c(c, lam / mu))
    assert q.mmc_wait_tail(t, lam, mu, c) <= q.mmc_wait_tail(0.0, lam, mu, c) + 1e-15


def test_vectorised_over_arrays():
    lam = np.array([1.0, 5.0, 9.0, 10.0])
    np.testing.assert_allclose(q.mm1_mean_sojourn_s(lam, 10.0), [1 / 9, 1 / 5, 1.0, math.inf])
    assert q.utilisation(lam, 10.0, 2).tolist() == [0.05, 0.25, 0.45, 0.5]


@given(servers, rate, utilisation)
def test_mmc_queue_length_is_lambda_times_wait_and_its_slope_matches_a_difference(c, mu, rho):
    lam = rho * c * mu
    assert q.mmc_mean_queue_length(lam, mu, c) == pytest.approx(lam * q.mmc_mean_wait_s(lam, mu, c), rel=1e-9,
                                                                abs=1e-300)
    h = 1e-6 * c * mu
    lo, hi = max(lam - h, 0.0), lam + h
    difference = (q.mmc_mean_queue_length(hi, mu, c) - q.mmc_mean_queue_length(lo, mu, c)) / (hi - lo)
    assert q.mmc_queue_length_slope_s(lam, mu, c) == pytest.approx(difference, rel=1e-4, abs=1e-5 / mu)


def test_mm1_queue_length_slope_in_closed_form():
    # Lq = ρ²/(1 − ρ) with ρ = λ/μ, so dLq/dλ = ρ (2 − ρ) / ((1 − ρ)² μ)
    lam, mu = 3.0, 5.0
    rho = lam / mu
    assert q.mmc_queue_length_slope_s(lam, mu, 1) == pytest.approx(rho * (2 - rho) / ((1 - rho) ** 2 * mu))
    assert q.mmc_queue_length_slope_s(0.0, mu, 3) == 0.0
    assert math.isinf(q.mmc_queue_length_slope_s(5.0, mu, 1))


@given(rate, utilisation, st.floats(0.0, 4.0))
def test_gg1_with_poisson_arrivals_is_pollaczek_khinchine(mu, rho, scv):
    lam = rho * mu
    assert q.gg_c_mean_wait_s(lam, mu, 1, 1.0, scv) == pytest.approx(q.mg1_mean_wait_s(lam, 1 / mu, scv))
    assert q.gg_c_mean_wait_s(lam, mu, 4, 1.0, 1.0) == pytest.approx(q.mmc_mean_wait_s(lam, mu, 4))


@given(servers, utilisation)
def test_the_unchecked_queue_length_is_the_same_on_one_number_and_on_arrays(c, rho):
    a = rho * c
    one = q.mmc_queue_length_unchecked(a, c)
    batch = q.mmc_queue_length_unchecked(np.array([a, a]), np.array([c, c]))
    assert one == pytest.approx(batch[0], rel=1e-12, abs=1e-300)
    assert one == pytest.approx(q.mmc_mean_queue_length(a, 1.0, c), rel=1e-12, abs=1e-300)


def test_superposition_scv_by_hand_and_its_limits():
    # Whitt (1983) eq. 29-30 by hand: c_A^2 = 0.5, nu = 4, rho = 0.7: w = 1 / (1 + 4 * 0.09 * 3) = 1 / 2.08.
    w = 1.0 / 2.08
    assert q.superposition_arrival_scv(0.5, 4, 0.7) == pytest.approx(w * 0.5 + (1.0 - w), rel=1e-12)
    # One stream keeps its own SCV; heavy traffic is the asymptotic method's; many streams look Poisson.
    assert q.superposition_arrival_scv([0.0, 0.5, 2.5], 1, 0.3) == pytest.approx([0.0, 0.5, 2.5])
    assert q.superposition_arrival_scv(2.5, 50, 1.0) == pytest.approx(2.5)
    assert q.superposition_arrival_scv([0.0, 2.5], 1e9, 0.5) == pytest.approx([1.0, 1.0], abs=1e-8)


@pytest.mark.parametrize(("args", "name"), [((0.5, 0.5, 0.7), "streams"), ((0.5, 4, 1.2), "utilisation"),
                                            ((-0.1, 4, 0.5), "stream_scv")])
def test_superposition_scv_rejects_bad_arguments(args, name):
    with pytest.raises(ParameterError, match=name):
        q.superposition_arrival_scv(*args)
