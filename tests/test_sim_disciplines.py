"""Server disciplines against queueing theory computed here: Cobham's formula for non-preemptive priority, the
preemptive-resume formula, M/M/c/K blocking, M/M/1 with exponential reneging (from its birth-death chain) and the
insensitivity of processor sharing. Seeded independent replications; theory must lie in the 95 % Student-t interval
of the replication values widened by 1.5 (about 99.6 % coverage), and the interval must be tight."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from test_sim_queueing import _assert_within_ci

from simulator.builders import REFERENCE_DEVICE
from simulator.distributions import Constant, Distribution, Exponential
from simulator.families import Scaled, hyperexponential
from simulator.run import run
from simulator.workloads import Poisson
from simulator.world import AccessPoint, DeviceGroup, EdgeServer, TaskSizes, World

SPEED_OPS_PER_S = 1e9
WARMUP_S = 100.0


def _world(classes: list[tuple[float, Distribution, int]], *, workers: int = 1, discipline: str = "fifo",
           queue_capacity: int | None = None, patience: Distribution | None = None) -> World:
    """One server fed by one Poisson group per class: (rate /s, service time s, priority)."""
    groups = tuple(DeviceGroup(f"class{k}", 1, REFERENCE_DEVICE, Poisson(rate), "ap",
                               TaskSizes(work_ops=Scaled(service, SPEED_OPS_PER_S)), priority=priority)
                   for k, (rate, service, priority) in enumerate(classes))
    server = EdgeServer("server", speed_ops_per_s=SPEED_OPS_PER_S, workers=workers, location="ap",
                        discipline=discipline, queue_capacity=queue_capacity, patience=patience)  # type: ignore[arg-type]
    return World(device_groups=groups, access_points=(AccessPoint("ap", math.inf, math.inf),), servers=(server,))


def _records(world: World, duration_s: float, replications: int, seed: int) -> pd.DataFrame:
    records = run(world, duration_s=duration_s, warmup_s=WARMUP_S, seed=seed, replications=replications,
                  policies=["always_edge"]).records
    return records[(records["created_s"] >= WARMUP_S) & ~records["in_flight"]]


def _class_sojourn(records: pd.DataFrame, k: int) -> list[float]:
    mine = records[records["device"].astype(str).str.startswith(f"class{k}/") & ~records["dropped"]]
    return [float(rep["latency_s"].mean()) for _, rep in mine.groupby("replication")]


MU = 10.0
RATES = (3.0, 4.0)  # class 0 (served first), class 1: ρ = 0.7


def cobham_sojourn_s(k: int) -> float:
    """Non-preemptive priority M/G/1: ``T_k = W0 / ((1 − σ_{k−1})(1 − σ_k)) + E[S]``, ``W0 = Σ λ_i E[S_i²] / 2``
    (Cobham 1954; Kleinrock, *Queueing Systems II*, eq. 3.30)."""
    mean, second = 1.0 / MU, 2.0 / MU**2
    w0 = sum(rate * second / 2.0 for rate in RATES)
    sigma = np.cumsum([rate * mean for rate in RATES])
    before = sigma[k - 1] if k else 0.0
    return w0 / ((1.0 - before) * (1.0 - sigma[k])) + mean


def preemptive_resume_sojourn_s(k: int) -> float:
    """Preemptive-resume priority M/G/1: ``T_k = E[S_k] / (1 − σ_{k−1}) + R_k / ((1 − σ_{k−1})(1 − σ_k))``,
    ``R_k = Σ_{i<=k} λ_i E[S_i²] / 2`` (Kleinrock, *Queueing Systems II*, eq. 3.65)."""
    mean, second = 1.0 / MU, 2.0 / MU**2
    sigma = np.cumsum([rate * mean for rate in RATES])
    before = sigma[k - 1] if k else 0.0
    residual = sum(rate * second / 2.0 for rate in RATES[:k + 1])
    return mean / (1.0 - before) + residual / ((1.0 - before) * (1.0 - sigma[k]))


@pytest.mark.slow
@pytest.mark.parametrize(("discipline", "formula"), [("priority", cobham_sojourn_s),
                                                      ("preemptive", preemptive_resume_sojourn_s)])
def test_two_priority_classes_match_their_formula(discipline: str, formula: object) -> None:
    world = _world([(RATES[0], Exponential(1.0 / MU), 0), (RATES[1], Exponential(1.0 / MU), 1)],
                   discipline=discipline)
    records = _records(world, 2100.0, 10, seed=21)
    for k in (0, 1):
        _assert_within_ci(_class_sojourn(records, k), formula(k), 0.06)  # type: ignore[operator]


def mmck_blocking(rate_per_s: float, service_rate_per_s: float, c: int, k: int) -> float:
    """M/M/c/K: probability that an arrival finds ``K`` in system (PASTA), from the birth-death chain's
    stationary law ``p_n ∝ a^n / n!`` (n <= c), ``a^n / (c! c^(n−c))`` (n > c)."""
    a = rate_per_s / service_rate_per_s
    weights = [a**n / math.factorial(n) if n <= c else a**n / (math.factorial(c) * c ** (n - c))
               for n in range(k + 1)]
    return weights[k] / sum(weights)


@pytest.mark.slow
def test_mmck_blocking_probability() -> None:
    world = _world([(30.0, Exponential(0.1), 0)], workers=3, queue_capacity=2)  # K = 5, a = 3
    records = _records(world, 1100.0, 10, seed=4)
    blocked = [float((rep["drop_reason"] == "server_queue_full").mean()) for _, rep in records.groupby("replication")]
    _assert_within_ci(blocked, mmck_blocking(30.0, 10.0, 3, 5), 0.05)


def mm1_reneging_abandon_probability(rate_per_s: float, service_rate_per_s: float, patience_rate_per_s: float
                                     ) -> float:
    """M/M/1+M: the chain with birth rate ``λ`` and death rate ``μ + (n − 1) θ`` in state ``n >= 1``; an arrival
    abandons at rate ``θ`` per waiting task, so ``P(abandon) = θ E[N_q] / λ`` (truncated where ``p_n`` < 1e-18)."""
    p = [1.0]
    n = 1
    while p[-1] > 1e-18 * sum(p) or n < 10:
        p.append(p[-1] * rate_per_s / (service_rate_per_s + (n - 1) * patience_rate_per_s))
        n += 1
    probabilities = np.asarray(p) / sum(p)
    queued = np.maximum(np.arange(probabilities.size) - 1, 0)
    return float(patience_rate_per_s * np.dot(queued, probabilities) / rate_per_s)


@pytest.mark.slow
def test_mm1_with_exponential_reneging() -> None:
    world = _world([(10.0, Exponential(0.1), 0)], patience=Exponential(0.5))  # ρ = 1, θ = 2/s
    records = _records(world, 1100.0, 10, seed=8)
    reneged = [float((rep["drop_reason"] == "reneged").mean()) for _, rep in records.groupby("replication")]
    _assert_within_ci(reneged, mm1_reneging_abandon_probability(10.0, 10.0, 2.0), 0.06)


@pytest.mark.slow
@pytest.mark.parametrize(("service", "max_relative_width"), [
    (Exponential(0.1), 0.06), (Constant(0.1), 0.06), (hyperexponential((0.05, 0.55), (0.9, 0.1)), 0.1)],
    ids=["exponential", "deterministic", "hyperexponential"])
def test_processor_sharing_is_insensitive_to_the_service_law(service: Distribution, max_relative_width: float
                                                             ) -> None:
    world = _world([(7.0, service, 0)], workers=1, discipline="ps")
    records = _records(world, 2100.0, 10, seed=13)
    # E[S] / (1 − ρ) whatever the service law (its variance only widens the interval)
    _assert_within_ci(_class_sojourn(records, 0), 0.1 / (1.0 - 0.7), max_relative_width)


@pytest.mark.parametrize("discipline", ["priority", "preemptive", "ps"])
def test_every_task_is_accounted_for_under_each_discipline(discipline: str) -> None:
    world = _world([(3.0, Exponential(0.1), 1), (4.0, Exponential(0.1), 0)], discipline=discipline,
                   workers=2, queue_capacity=3, patience=None if discipline == "ps" else Exponential(0.2))
    result = run(world, duration_s=200.0, seed=2, policies=["always_edge"])
    tasks = result.policies["always_edge"].tasks
    assert tasks.generated == tasks.completed + tasks.dropped + tasks.in_flight
    served = result.records[~result.records["dropped"] & ~result.records["in_flight"]]
    assert (served["service_end_s"] >= served["service_start_s"]).all()
    assert (served["service_start_s"] >= served["queue_entry_s"]).all()
