"""Each workload's ``arrival_scv`` against the index of dispersion of counts measured on its own arrivals.

Truth: Var N(t) / E N(t) over many long windows of a long sample path (the asymptotic index of dispersion), and for
a trace the SCV of its gaps computed here by hand.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulator.families import Geometric, erlang
from simulator.rate_profiles import Modulated, StepProfile
from simulator.workloads import OnOff, PeriodicStream, Poisson, Renewal, Trace, Workload


def _dispersion(workload: Workload, *, devices: int, horizon_s: float, window_s: float) -> float:
    rng = np.random.default_rng(11)
    times = np.concatenate([block.times_s for block in workload.blocks(rng, devices, horizon_s)])
    counts = np.bincount((times // window_s).astype(np.int64), minlength=int(horizon_s // window_s))
    counts = counts[: int(horizon_s // window_s)]
    return float(counts.var() / counts.mean())


@pytest.mark.parametrize(("workload", "window_s", "tolerance"), [
    (Poisson(2.0), 20.0, 0.08),
    (PeriodicStream(1.0, jitter_s=0.05, work_fraction=0.5), 20.0, 0.06),
    (PeriodicStream(2.0, work_fraction=0.9), 20.0, 0.04),
    (OnOff(rate_on_per_s=10.0, mean_on_s=1.0, mean_off_s=2.0), 200.0, 0.15),
    (Renewal(erlang(4, 0.5)), 20.0, 0.06),
    (Renewal(erlang(2, 1.0), batch=Geometric(2.0)), 40.0, 0.1),
])
def test_arrival_scv_is_the_index_of_dispersion_of_long_windows(workload: Workload, window_s: float,
                                                                tolerance: float) -> None:
    measured = _dispersion(workload, devices=4, horizon_s=40_000.0, window_s=window_s)
    assert measured == pytest.approx(workload.arrival_scv, rel=tolerance, abs=0.02)


def test_onoff_dispersion_in_closed_form() -> None:
    # symmetric MMPP with λ_off = 0: I = 1 + 2 r² λ² / (4 r² · λ r) = 1 + λ / (2 r)
    assert OnOff(rate_on_per_s=6.0, mean_on_s=0.5, mean_off_s=0.5).arrival_scv == pytest.approx(1 + 6.0 / 4.0)


def test_trace_scv_is_the_scv_of_each_devices_gaps() -> None:
    trace = Trace((0.0, 1.0, 3.0, 0.5, 2.5, 4.5), (0, 0, 0, 1, 1, 1), (1.0,) * 6, (0.0,) * 6, (0.0,) * 6)
    gaps = np.array([1.0, 2.0, 2.0, 2.0])
    assert trace.arrival_scv == pytest.approx(gaps.var() / gaps.mean() ** 2)


def test_a_rate_profile_keeps_the_base_variability() -> None:
    base = PeriodicStream(1.0, work_fraction=0.25)
    assert Modulated(base, StepProfile((0.0, 50.0), (1.0, 2.0), period_s=100.0)).arrival_scv == base.arrival_scv
