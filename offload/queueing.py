"""Analytic queueing formulas: oracles for the simulator's tests and estimates for queue-aware policies.

All functions broadcast over numpy arrays. Rates are per second, times in seconds. An unstable queue
(utilisation >= 1) has infinite waiting time; the functions return ``inf`` rather than raising so that sweeps over
load can cross the knee.

Sources: L. Kleinrock, *Queueing Systems* Vol. 1 (1975) — M/M/1 (§3.2), M/M/c and Erlang's B and C (§3.5–3.6),
M/G/1 Pollaczek–Khinchine mean value (§5.6); M/G/1 processor sharing (Kleinrock Vol. 2, §4.4): the mean sojourn
time of PS is E[S]/(1-ρ) whatever the size distribution.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from offload.validate import check_array_non_negative, check_array_positive

FloatArray = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike


def _result(value: FloatArray) -> FloatArray:
    return value[()] if value.ndim == 0 else value


def utilisation(arrival_rate_per_s: ArrayLike, service_rate_per_s: ArrayLike, servers: ArrayLike = 1) -> FloatArray:
    """Offered load per server, ρ = λ / (c μ)."""
    lam = check_array_non_negative("arrival_rate_per_s", arrival_rate_per_s)
    mu = check_array_positive("service_rate_per_s", service_rate_per_s)
    c = check_array_positive("servers", servers)
    return _result(lam / (c * mu))


def mm1_mean_wait_s(arrival_rate_per_s: ArrayLike, service_rate_per_s: ArrayLike) -> FloatArray:
    """M/M/1 mean time in queue before service, Wq = ρ / (μ − λ)."""
    return mmc_mean_wait_s(arrival_rate_per_s, service_rate_per_s, 1)


def mm1_mean_sojourn_s(arrival_rate_per_s: ArrayLike, service_rate_per_s: ArrayLike) -> FloatArray:
    """M/M/1 mean time in system, W = 1 / (μ − λ)."""
    return mmc_mean_sojourn_s(arrival_rate_per_s, service_rate_per_s, 1)


def mm1_sojourn_tail(t_s: ArrayLike, arrival_rate_per_s: ArrayLike, service_rate_per_s: ArrayLike) -> FloatArray:
    """M/M/1 P(time in system > t) = exp(−(μ − λ) t); the sojourn time is exponential."""
    t = check_array_non_negative("t_s", t_s)
    lam = check_array_non_negative("arrival_rate_per_s", arrival_rate_per_s)
    mu = check_array_positive("service_rate_per_s", service_rate_per_s)
    with np.errstate(over="ignore", invalid="ignore"):
        tail = np.where(lam < mu, np.exp(-(mu - lam) * t), 1.0)
    return _result(np.asarray(tail, dtype=np.float64))


def erlang_b(servers: ArrayLike, offered_load: ArrayLike) -> FloatArray:
    """Erlang-B blocking probability of an M/M/c/c loss system with offered load A = λ/μ (erlangs).

    Uses the stable recursion B(0) = 1, B(k) = A B(k−1) / (k + A B(k−1)).
    """
    c = np.asarray(servers)
    if not np.issubdtype(c.dtype, np.integer) and not np.all(np.mod(c, 1) == 0):
        from offload.errors import ParameterError

        raise ParameterError("servers", servers, "must be a whole number")
    c = check_array_positive("servers", c).astype(np.int64)
    a = check_array_non_negative("offered_load", offered_load, allow_inf=False)
    c, a = np.broadcast_arrays(c, a)
    blocking = np.ones(a.shape, dtype=np.float64)
    for k in range(1, int(c.max(initial=1)) + 1):
        step = a * blocking / (k + a * blocking)
        blocking = np.where(k <= c, step, blocking)
    return _result(blocking)


def erlang_c(servers: ArrayLike, offered_load: ArrayLike) -> FloatArray:
    """Erlang-C probability that an arrival to an M/M/c queue waits, with A = λ/μ erlangs.

    C = B / (1 − ρ (1 − B)) with ρ = A / c; 1 when ρ >= 1.

    Examples
    --------
    >>> round(float(erlang_c(4, 3.2)), 6)
    0.596432
    """
    c = np.asarray(servers, dtype=np.float64)
    a = np.asarray(offered_load, dtype=np.float64)
    blocking = erlang_b(servers, offered_load)
    rho = a / c
    with np.errstate(divide="ignore", invalid="ignore"):
        prob = np.where(rho < 1, blocking / (1 - rho * (1 - blocking)), 1.0)
    return _result(np.asarray(prob, dtype=np.float64))


def mmc_mean_wait_s(arrival_rate_per_s: ArrayLike, service_rate_per_s: ArrayLike, servers: ArrayLike) -> FloatArray:
    """M/M/c mean time in queue, Wq = C(c, A) / (c μ − λ); ``inf`` when λ >= c μ."""
    lam = check_array_non_negative("arrival_rate_per_s", arrival_rate_per_s, allow_inf=False)
    mu = check_array_positive("service_rate_per_s", service_rate_per_s, allow_inf=False)
    c = np.asarray(servers, dtype=np.float64)
    prob = erlang_c(servers, lam / mu)
    spare = c * mu - lam
    with np.errstate(divide="ignore", invalid="ignore"):
        wait = np.where(spare > 0, prob / spare, np.inf)
    return _result(np.asarray(wait, dtype=np.float64))


def mmc_mean_sojourn_s(arrival_rate_per_s: ArrayLike, service_rate_per_s: ArrayLike, servers: ArrayLike) -> FloatArray:
    """M/M/c mean time in system, W = Wq + 1/μ."""
    mu = np.asarray(service_rate_per_s, dtype=np.float64)
    return _result(np.asarray(mmc_mean_wait_s(arrival_rate_per_s, service_rate_per_s, servers) + 1.0 / mu))


def mmc_wait_tail(
    t_s: ArrayLike, arrival_rate_per_s: ArrayLike, service_rate_per_s: ArrayLike, servers: ArrayLike
) -> FloatArray:
    """M/M/c P(wait in queue > t) = C(c, A) exp(−(c μ − λ) t)."""
    t = check_array_non_negative("t_s", t_s)
    lam = check_array_non_negative("arrival_rate_per_s", arrival_rate_per_s, allow_inf=False)
    mu = check_array_positive("service_rate_per_s", service_rate_per_s, allow_inf=False)
    c = np.asarray(servers, dtype=np.float64)
    prob = erlang_c(servers, lam / mu)
    spare = c * mu - lam
    with np.errstate(over="ignore", invalid="ignore"):
        tail = np.where(spare > 0, prob * np.exp(-spare * t), 1.0)
    return _result(np.asarray(tail, dtype=np.float64))


def mg1_mean_wait_s(
    arrival_rate_per_s: ArrayLike, mean_service_s: ArrayLike, service_scv: ArrayLike = 1.0
) -> FloatArray:
    """M/G/1 FIFO mean time in queue (Pollaczek–Khinchine): Wq = λ E[S²] / (2 (1 − ρ)).

    Parameters
    ----------
    service_scv : array_like
        Squared coefficient of variation of the service time, Var[S] / E[S]²: 0 deterministic, 1 exponential.
    """
    lam = check_array_non_negative("arrival_rate_per_s", arrival_rate_per_s, allow_inf=False)
    s = check_array_positive("mean_service_s", mean_service_s, allow_inf=False)
    scv = check_array_non_negative("service_scv", service_scv, allow_inf=False)
    rho = lam * s
    second_moment = (1.0 + scv) * s**2
    with np.errstate(divide="ignore", invalid="ignore"):
        wait = np.where(rho < 1, lam * second_moment / (2.0 * (1.0 - rho)), np.inf)
    return _result(np.asarray(wait, dtype=np.float64))


def md1_mean_wait_s(arrival_rate_per_s: ArrayLike, service_s: ArrayLike) -> FloatArray:
    """M/D/1 mean time in queue, Wq = ρ S / (2 (1 − ρ)): P-K with zero service variance."""
    return mg1_mean_wait_s(arrival_rate_per_s, service_s, 0.0)


def md1_mean_sojourn_s(arrival_rate_per_s: ArrayLike, service_s: ArrayLike) -> FloatArray:
    """M/D/1 mean time in system, Wq + S."""
    return _result(np.asarray(md1_mean_wait_s(arrival_rate_per_s, service_s) + np.asarray(service_s, float)))


def mg1_ps_mean_sojourn_s(arrival_rate_per_s: ArrayLike, mean_service_s: ArrayLike) -> FloatArray:
    """M/G/1 processor-sharing mean time in system, E[S] / (1 − ρ), insensitive to the size distribution."""
    lam = check_array_non_negative("arrival_rate_per_s", arrival_rate_per_s, allow_inf=False)
    s = check_array_positive("mean_service_s", mean_service_s, allow_inf=False)
    rho = lam * s
    with np.errstate(divide="ignore", invalid="ignore"):
        sojourn = np.where(rho < 1, s / (1.0 - rho), np.inf)
    return _result(np.asarray(sojourn, dtype=np.float64))


def mmc_sojourn_tail(
    t_s: ArrayLike, arrival_rate_per_s: ArrayLike, service_rate_per_s: ArrayLike, servers: ArrayLike
) -> FloatArray:
    """M/M/c FIFO P(time in system > t): the wait (0 with probability 1 − C, else exponential at a = c μ − λ)
    plus an exponential service at μ.

    P(T > t) = (1 − C) e^(−μt) + C (a e^(−μt) − μ e^(−at)) / (a − μ), and C (1 + μt) e^(−μt) added to the first
    term in the limit a = μ (Kleinrock Vol. 1, §3.6, with the density of a sum of two exponentials); ``1`` when
    λ >= c μ. For c = 1 it reduces to e^(−(μ − λ) t).
    """
    t = check_array_non_negative("t_s", t_s)
    lam = check_array_non_negative("arrival_rate_per_s", arrival_rate_per_s, allow_inf=False)
    mu = check_array_positive("service_rate_per_s", service_rate_per_s, allow_inf=False)
    c = np.asarray(servers, dtype=np.float64)
    prob = erlang_c(servers, lam / mu)
    spare = c * mu - lam
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        equal = np.isclose(spare, mu)
        both = np.where(equal, (1.0 + mu * t) * np.exp(-mu * t),
                        (spare * np.exp(-mu * t) - mu * np.exp(-spare * t)) / np.where(equal, 1.0, spare - mu))
        tail = np.where(spare > 0, (1.0 - prob) * np.exp(-mu * t) + prob * both, 1.0)
    return _result(np.asarray(tail, dtype=np.float64))


def md1_wait_cdf(t_s: ArrayLike, arrival_rate_per_s: float, service_s: float) -> FloatArray:
    """M/D/1 FIFO P(wait in queue <= t), Erlang's formula
    (1 − ρ) Σ_{k=0}^{⌊t/D⌋} (λ(kD − t))^k / k! e^(−λ(kD − t)) with ρ = λ D < 1.

    Source: A. K. Erlang (1909); in the form of G. J. Franx, "A simple solution for the M/D/c waiting time
    distribution", Operations Research Letters 29 (2001). The sum alternates and loses precision as λt grows: where
    the rounding error of double precision may exceed 1e-6 (beyond λt ≈ 15; at ρ = 0.8 that is t ≈ 19 D, where
    P(W > t) < 1e-3, and heavier loads stop earlier in their tail) the result is NaN; elsewhere it is clipped to
    [0, 1].
    """
    t = check_array_non_negative("t_s", t_s, allow_inf=False)
    lam = float(check_array_non_negative("arrival_rate_per_s", arrival_rate_per_s, allow_inf=False))
    d = float(check_array_positive("service_s", service_s, allow_inf=False))
    rho = lam * d
    if not rho < 1:
        return _result(np.zeros(t.shape, dtype=np.float64))
    flat = np.atleast_1d(t).ravel()
    cdf = np.empty(flat.size, dtype=np.float64)
    for i, value in enumerate(flat):
        k = np.arange(int(np.floor(value / d)) + 1, dtype=np.float64)
        x = lam * (k * d - value)  # <= 0
        log_factorial = np.cumsum(np.log(np.maximum(k, 1.0)))
        terms = np.sign(x) ** k * np.exp(k * np.log(np.maximum(np.abs(x), 1e-300)) * (k > 0) - log_factorial - x)
        error = 1e-14 * (1.0 - rho) * float(np.abs(terms).sum())
        cdf[i] = (1.0 - rho) * float(terms.sum()) if error < 1e-6 else np.nan
    return _result(np.clip(cdf, 0.0, 1.0).reshape(t.shape))
