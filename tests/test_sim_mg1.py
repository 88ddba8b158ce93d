"""M/G/1 FIFO against Pollaczek–Khinchine, computed here from the service law's first two moments:
``W = λ E[S²] / (2 (1 − ρ))`` (Kleinrock, *Queueing Systems I*, 1975, eq. 5.105), for Erlang-k, hyperexponential
and deterministic service. Seeded independent replications; theory must lie in the 95 % Student-t interval of the
replication means widened by 1.5 (about 99.6 % coverage), and the interval must be tight."""

from __future__ import annotations

import pytest

from simulator.builders import queue_world
from simulator.distributions import Constant, Distribution
from simulator.families import erlang, hyperexponential
from simulator.run import run

ARRIVAL_RATE_PER_S = 6.0
WARMUP_S = 100.0


def pollaczek_khinchine_sojourn_s(rate_per_s: float, mean_s: float, second_moment_s2: float) -> float:
    """Mean time in system of M/G/1 FIFO."""
    rho = rate_per_s * mean_s
    return rate_per_s * second_moment_s2 / (2.0 * (1.0 - rho)) + mean_s


SERVICE: dict[str, tuple[Distribution, float]] = {  # law, E[S²] by hand
    "erlang-3": (erlang(3, 0.1), 0.1**2 * (1.0 + 1.0 / 3.0)),
    "hyperexponential": (hyperexponential((0.05, 0.55), (0.9, 0.1)), 0.9 * 2 * 0.05**2 + 0.1 * 2 * 0.55**2),
    "deterministic": (Constant(0.1), 0.1**2),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SERVICE))
def test_mg1_mean_sojourn_is_pollaczek_khinchine(name: str) -> None:
    law, second = SERVICE[name]
    result = run(queue_world(ARRIVAL_RATE_PER_S, law), duration_s=2500.0, warmup_s=WARMUP_S, seed=5,
                 replications=10, streaming=True)
    theory = pollaczek_khinchine_sojourn_s(ARRIVAL_RATE_PER_S, law.mean, second)
    summary = result.policies["always_edge"]
    mean, half = summary.latency_s.mean_s, summary.latency_ci95_s.mean_s
    assert mean is not None
    assert half is not None
    assert abs(mean - theory) <= 1.5 * half, f"theory {theory:.5f} outside {mean:.5f} ± {1.5 * half:.5f}"
    assert half <= 0.08 * theory
