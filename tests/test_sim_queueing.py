"""The simulator against queueing theory (oracle: :mod:`offload.queueing`), within confidence intervals.

Each check runs seeded independent replications and asserts that theory lies within the 95 % Student-t interval
of the replication means, widened by a factor of 1.5 (about 99.6 % coverage) so that a fixed seed is not a
5 % coin flip; the interval itself must also be tight, so a wrong model cannot hide behind noise.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from offload.queueing import (
    erlang_c,
    md1_mean_sojourn_s,
    mg1_ps_mean_sojourn_s,
    mm1_mean_sojourn_s,
    mm1_sojourn_tail,
    mmc_mean_wait_s,
)
from simulator.builders import md1_world, mm1_world, mmc_world, ps_uplink_world, s100_world
from simulator.distributions import Constant, Exponential, LogNormal
from simulator.result import SimulationResult
from simulator.run import run
from simulator.summary import t_half_width

WIDEN = 1.5


def _per_replication(result: SimulationResult, warmup_s: float, statistic: str) -> list[float]:
    r = result.records
    done = r[(r["created_s"] >= warmup_s) & ~r["in_flight"] & ~r["dropped"]]
    values = []
    for _, rep in done.groupby("replication"):
        if statistic == "sojourn":
            values.append(float(rep["latency_s"].mean()))
        elif statistic == "wait":
            values.append(float((rep["service_start_s"] - rep["queue_entry_s"]).mean()))
        elif statistic == "waited":
            values.append(float((rep["service_start_s"] > rep["queue_entry_s"]).mean()))
        elif statistic == "upload":
            values.append(float((rep["upload_end_s"] - rep["upload_start_s"]).mean()))
        elif statistic == "tail1":
            values.append(float((rep["latency_s"] > 1.0).mean()))
    return values


def _assert_within_ci(values: list[float], theory: float, max_relative_width: float) -> None:
    half = t_half_width(values)
    assert half is not None
    mean = float(np.mean(values))
    assert abs(mean - theory) <= WIDEN * half, f"theory {theory:.6f} outside {mean:.6f} ± {WIDEN * half:.6f}"
    assert half <= max_relative_width * theory, f"interval ±{half:.4g} too wide for {theory:.4g}"


def _assert_little(result: SimulationResult) -> None:
    for policy in result.metadata["littles_law"].values():
        for check in policy.values():
            assert check["L"] == pytest.approx(check["lambda_W"], rel=0.02)


@pytest.mark.slow
def test_mm1_mean_sojourn_and_tail() -> None:
    result = run(mm1_world(8.0, 10.0), duration_s=2500.0, warmup_s=100.0, seed=101, replications=8)
    _assert_within_ci(_per_replication(result, 100.0, "sojourn"), float(mm1_mean_sojourn_s(8.0, 10.0)), 0.05)
    assert float(mm1_mean_sojourn_s(8.0, 10.0)) == pytest.approx(0.5)
    tail = float(mm1_sojourn_tail(1.0, 8.0, 10.0))
    assert tail == pytest.approx(math.exp(-2.0))
    _assert_within_ci(_per_replication(result, 100.0, "tail1"), tail, 0.15)
    summary = result.summary["policies"]["always_edge"]
    assert summary["utilisation"]["server"] == pytest.approx(0.8, abs=0.01)
    _assert_little(result)


@pytest.mark.slow
def test_mmc_erlang_c_and_mean_wait() -> None:
    result = run(mmc_world(32.0, 10.0, 4), duration_s=800.0, warmup_s=50.0, seed=202, replications=8)
    assert float(erlang_c(4, 3.2)) == pytest.approx(0.596432, abs=1e-6)
    _assert_within_ci(_per_replication(result, 50.0, "waited"), float(erlang_c(4, 3.2)), 0.03)
    wait = float(mmc_mean_wait_s(32.0, 10.0, 4))
    assert wait == pytest.approx(0.074554, abs=1e-6)
    _assert_within_ci(_per_replication(result, 50.0, "wait"), wait, 0.12)
    _assert_little(result)


@pytest.mark.slow
def test_md1_mean_sojourn() -> None:
    result = run(md1_world(8.0, 0.1), duration_s=2500.0, warmup_s=100.0, seed=303, replications=8)
    theory = float(md1_mean_sojourn_s(8.0, 0.1))
    assert theory == pytest.approx(0.3)
    _assert_within_ci(_per_replication(result, 100.0, "sojourn"), theory, 0.04)
    _assert_little(result)


@pytest.mark.slow
@pytest.mark.parametrize("sizes", [Exponential(1e6), Constant(1e6), LogNormal(1e6, 2.0)],
                         ids=lambda d: type(d).__name__)
def test_shared_uplink_is_mg1_processor_sharing(sizes: object) -> None:
    # 8 uploads/s of mean 1 Mbit on 10 Mbps: E[S] = 0.1 s, rho = 0.8, E[T] = 0.5 s whatever the size distribution
    world = ps_uplink_world(8.0, sizes, 10e6, sources=4)  # type: ignore[arg-type]
    result = run(world, duration_s=2500.0, warmup_s=100.0, seed=404, replications=8)
    theory = float(mg1_ps_mean_sojourn_s(8.0, 0.1))
    assert theory == pytest.approx(0.5)
    width = 0.15 if isinstance(sizes, LogNormal) else 0.1
    _assert_within_ci(_per_replication(result, 100.0, "upload"), theory, width)


def test_s100_response_time_and_littles_law() -> None:
    # always-edge S100: 16 ms upload + 2 ms each way + M/D/1 at rho = 0.5 (0.05 + 0.025 s) = 0.095 s
    result = run(s100_world(), duration_s=300.0, warmup_s=20.0, seed=7, replications=2, streaming=True)
    theory = 200e3 * 8 / 100e6 + 2 * 0.002 + float(md1_mean_sojourn_s(10.0, 0.05))
    summary = result.summary["policies"]["always_edge"]
    assert summary["latency_s"]["mean"] == pytest.approx(theory, rel=0.03)
    for server, utilisation in summary["utilisation"].items():
        assert utilisation == pytest.approx(0.5, abs=0.05), server
    _assert_little(result)
