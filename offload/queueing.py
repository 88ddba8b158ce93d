"""Analytic queueing formulas: oracles for the simulator's tests and estimates for queue-aware policies.

All functions broadcast over numpy arrays. Rates are per second, times in seconds. An unstable queue
(utilisation >= 1) has infinite waiting time; the functions return ``inf`` rather than raising so that sweeps over
load can cross the knee.

Sources: L. Kleinrock, *Queueing Systems* Vol. 1 (1975) — M/M/1 (§3.2), M/M/c and Erlang's B and C (§3.5–3.6),
M/G/1 Pollaczek–Khinchine mean value (§5.6); M/G/1 processor sharing (Kleinrock Vol. 2, §4.4): the mean sojourn
time of PS is E[S]/(1-ρ) whatever the size distribution; the GI/G/c mean wait by the Allen–Cunneen approximation
(A. O. Allen, *Probability, Statistics, and Queueing Theory*, 2nd ed. 1990, §6.4), exact for M/M/c and, with one
server and Poisson arrivals, equal to Pollaczek–Khinchine; the inter-arrival SCV of a superposition of streams by
W. Whitt's QNA hybrid approximation (Bell System Technical Journal 62(9), 1983).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from offload.errors import ParameterError
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


def mmc_mean_queue_length(arrival_rate_per_s: ArrayLike, service_rate_per_s: ArrayLike, servers: ArrayLike
                           ) -> FloatArray:
    """M/M/c mean number waiting, Lq = λ Wq = C(c, A) A / (c − A) with A = λ/μ; ``inf`` when A >= c.

    Lq is convex and increasing in λ (W. K. Grassmann, "The convexity of the mean queue size of the M/M/c queue
    with respect to the traffic intensity", J. Appl. Prob. 20(4), 1983), which makes it a convex cost of load.
    """
    lam = check_array_non_negative("arrival_rate_per_s", arrival_rate_per_s, allow_inf=False)
    mu = check_array_positive("service_rate_per_s", service_rate_per_s, allow_inf=False)
    c = check_array_positive("servers", servers).astype(np.int64)
    return _result(mmc_queue_length_unchecked(lam / mu, c))


def mmc_queue_length_unchecked(offered_load: FloatArray | float, servers: npt.NDArray[np.int64] | int) -> FloatArray:
    """:func:`mmc_mean_queue_length` of ``A = λ/μ`` erlangs without input checks, for solvers' inner loops that
    call it with arrays they built themselves (Erlang B by its recursion, then C = B / (1 − ρ (1 − B))). Plain
    numbers take a float loop instead of numpy, twenty times faster for one pool (tests check both agree)."""
    if isinstance(offered_load, float | int) and isinstance(servers, int | np.integer):
        return np.float64(_mmc_queue_length_one(float(offered_load), int(servers)))  # type: ignore[return-value]
    a = np.asarray(offered_load, dtype=np.float64)
    c = np.asarray(servers)
    a, c = np.broadcast_arrays(a, c)
    blocking = np.ones(a.shape)
    for k in range(1, int(c.max(initial=1)) + 1):
        step = a * blocking / (k + a * blocking)
        blocking = np.where(k <= c, step, blocking) if k > int(c.min(initial=1)) else step
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = a / c
        waiting = blocking / (1.0 - rho * (1.0 - blocking))
        return np.asarray(np.where(a < c, waiting * a / (c - a), np.inf), dtype=np.float64)


def mmc_queue_length_slope_s(arrival_rate_per_s: ArrayLike, service_rate_per_s: ArrayLike, servers: ArrayLike
                             ) -> FloatArray:
    """dLq/dλ of the M/M/c queue (seconds), in closed form; ``inf`` when A >= c.

    With B = B(c, A) (Erlang B), dB/dA = B (c/A − 1 + B) (Kleinrock Vol. 1, §3.6), where c B / A is computed as
    c B(c−1, A) / (c + A B(c−1, A)) so that A = 0 needs no limit; C = c B / D with D = c − A + A B, and
    Lq = C A / (c − A), so dLq/dA = C' A / (c − A) + C c / (c − A)² and dLq/dλ = (dLq/dA) / μ.
    """
    lam = check_array_non_negative("arrival_rate_per_s", arrival_rate_per_s, allow_inf=False)
    mu = check_array_positive("service_rate_per_s", service_rate_per_s, allow_inf=False)
    c = np.asarray(servers, dtype=np.float64)
    a = lam / mu
    c, a, mu = np.broadcast_arrays(c, a, mu)
    b = erlang_b(c.astype(np.int64), a)
    before = np.where(c > 1, erlang_b(np.maximum(c - 1, 1).astype(np.int64), a), 1.0)
    c_b_over_a = c * before / (c + a * before)
    db = c_b_over_a - b + b * b
    d = c - a + a * b
    dd = -1.0 + b + a * db
    with np.errstate(divide="ignore", invalid="ignore"):
        erl_c = c * b / d
        dc = (c * db * d - c * b * dd) / d**2
        slope = np.where(a < c, (dc * a / (c - a) + erl_c * c / (c - a) ** 2) / mu, np.inf)
    return _result(np.asarray(slope, dtype=np.float64))


def _mmc_queue_length_one(a: float, c: int) -> float:
    if a >= c:
        return math.inf
    blocking = 1.0
    for k in range(1, c + 1):
        blocking = a * blocking / (k + a * blocking)
    return blocking / (1.0 - a / c * (1.0 - blocking)) * a / (c - a)


def gg_c_mean_wait_s(arrival_rate_per_s: ArrayLike, service_rate_per_s: ArrayLike, servers: ArrayLike,
                     arrival_scv: ArrayLike = 1.0, service_scv: ArrayLike = 1.0) -> FloatArray:
    """GI/G/c mean time in queue by Allen–Cunneen: Wq ≈ Wq(M/M/c) (c_a² + c_s²) / 2.

    Parameters
    ----------
    arrival_scv, service_scv : array_like
        Squared coefficients of variation of the inter-arrival and service times (1: Poisson / exponential,
        0: deterministic). Exact for M/M/c; for c = 1 and Poisson arrivals it is Pollaczek–Khinchine.
    """
    ca2 = check_array_non_negative("arrival_scv", arrival_scv, allow_inf=False)
    cs2 = check_array_non_negative("service_scv", service_scv, allow_inf=False)
    wait = mmc_mean_wait_s(arrival_rate_per_s, service_rate_per_s, servers)
    return _result(np.asarray(wait * (ca2 + cs2) / 2.0, dtype=np.float64))


def superposition_arrival_scv(stream_scv: ArrayLike, streams: ArrayLike, utilisation: ArrayLike) -> FloatArray:
    """Inter-arrival SCV a queue sees from ``streams`` equal independent streams, by Whitt's QNA hybrid.

    ``c² = w·c²_A + (1 − w)`` with ``w = 1 / (1 + 4 (1 − ρ)² (ν − 1))`` (Whitt, "The Queueing Network Analyzer",
    Bell System Technical Journal 62(9), 1983, eq. 29–30): ``c²_A = stream_scv`` is the asymptotic method's value
    (the index of dispersion of counts, the same for the sum as for one stream) and 1 the stationary-interval
    method's limit for many streams (the sum looks Poisson at short time scales); ``ν`` streams and a queue at
    utilisation ``ρ`` weigh them. One stream keeps its own SCV.
    """
    scv = check_array_non_negative("stream_scv", stream_scv, allow_inf=False)
    nu = check_array_positive("streams", streams, allow_inf=False)
    rho = check_array_non_negative("utilisation", utilisation, allow_inf=False)
    if np.any(nu < 1) or np.any(rho > 1):
        bad, value, rule = ("streams", float(nu.min()), "must be >= 1") if np.any(nu < 1) else (
            "utilisation", float(rho.max()), "must be <= 1")
        raise ParameterError(bad, value, rule)
    weight = 1.0 / (1.0 + 4.0 * (1.0 - rho) ** 2 * (nu - 1.0))
    return _result(np.asarray(weight * scv + (1.0 - weight), dtype=np.float64))


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
