"""Time-varying load: a rate profile multiplies a group's base rate. The profile's integral is checked against
numerical quadrature, its inverse against the integral, and the arrivals per interval against the integrated rate
(Poisson counts: a chi-square test; a jitter-free camera stream: exact up to one frame per device)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, optimize, stats

from offload.errors import ParameterError
from simulator.rate_profiles import DiurnalProfile, Modulated, StepProfile
from simulator.run import run
from simulator.scenario import ScenarioError, load_scenario, scenario_from_dict
from simulator.workloads import ArrivalBlock, PeriodicStream, Poisson

DAY_S = 86_400.0
STEPS = StepProfile((0.0, 100.0, 250.0, 400.0), (0.5, 0.0, 3.0, 1.0), period_s=600.0)
ONCE = StepProfile((0.0, 50.0, 80.0), (2.0, 0.0, 1.0))
DIURNAL = DiurnalProfile(0.8, peak_s=19 * 3600.0)


@pytest.mark.parametrize("profile", [STEPS, ONCE, DIURNAL])
def test_the_cumulative_is_the_integral_of_the_factor(profile: StepProfile | DiurnalProfile) -> None:
    edges = [0.0, 37.0, 100.0, 333.0, 600.0, 1450.0, 5000.0, 50_000.0, 100_000.0]
    for a, b in itertools.pairwise(edges):
        breaks = np.arange(0.0, b, 50.0)  # every step start lies on a multiple of 50 s
        area, _ = integrate.quad(lambda t: float(profile.factor(np.array([t]))[0]), a, b, limit=4000,
                                 points=breaks[(breaks > a) & (breaks < b)])
        got = profile.cumulative(np.array([a, b]))
        assert got[1] - got[0] == pytest.approx(area, rel=1e-9, abs=1e-6)


@pytest.mark.parametrize("profile", [STEPS, ONCE, DIURNAL])
def test_the_inverse_maps_the_cumulative_back_to_the_earliest_time(profile: StepProfile | DiurnalProfile) -> None:
    times = np.linspace(0.0, 3 * DAY_S, 20_001)
    rising = profile.factor(times) > 0
    tau = profile.cumulative(times)
    back = profile.inverse(tau)
    assert np.all(np.diff(back) >= 0)
    np.testing.assert_allclose(profile.cumulative(back), tau, rtol=1e-12, atol=1e-7)
    np.testing.assert_allclose(back[rising], times[rising], rtol=1e-12, atol=1e-6)


@pytest.mark.parametrize("amplitude", [0.0, 0.3, 0.8, 1.0])
@pytest.mark.parametrize("peak_s", [0.0, 18 * 3600.0, DAY_S / 2, DAY_S - 1.0])
def test_the_diurnal_inverse_is_the_root_of_the_cumulative(amplitude: float, peak_s: float) -> None:
    # truth: Brent's method on Λ(t) − τ over the bracket t − aP/π ≤ Λ(t) ≤ t + aP/π, to float resolution
    profile = DiurnalProfile(amplitude, peak_s=peak_s)
    rng = np.random.default_rng(3)
    tau = np.sort(np.concatenate([rng.uniform(0.0, 3 * DAY_S, 400), rng.uniform(0.0, 10.0, 20), [0.0, DAY_S]]))
    back = profile.inverse(tau)
    slack = amplitude * DAY_S / np.pi
    for target, got in zip(tau, back, strict=True):
        if target == 0.0:
            assert got == 0.0
            continue
        root = optimize.brentq(lambda t, x=target: float(profile.cumulative(np.array([t]))[0]) - x,
                               max(target - slack, 0.0), target + slack, xtol=1e-13, rtol=1e-15)
        assert got == pytest.approx(root, rel=1e-9, abs=1e-6)
    # Λ at the returned time is τ to rounding, except where Λ is flat at t = 0 (a = 1 with the trough at 0)
    flat = amplitude == 1.0 and peak_s == DAY_S / 2
    np.testing.assert_allclose(profile.cumulative(back), tau, rtol=1e-9 if flat else 1e-13, atol=0.0)
    assert np.all(np.diff(back) >= 0)


@dataclass(frozen=True)
class _NearTies:
    """Operational times in runs a few ulps apart (two blocks), where an inverse exact only to rounding can swap
    neighbours."""

    mean_rate_per_s: float = 1.0
    arrival_scv: float = 1.0

    def blocks(self, rng: np.random.Generator, count: int, horizon_s: float) -> Iterator[ArrivalBlock]:
        x = np.sort(rng.uniform(0.0, horizon_s, 400))
        tau = np.sort(np.concatenate([x + k * np.spacing(x) for k in range(8)]))
        for part in np.array_split(tau, 2):
            yield ArrivalBlock(part, np.zeros(part.size, dtype=np.int64))


def test_arrivals_stay_in_order_through_the_inverse() -> None:
    profile = DiurnalProfile(0.8, peak_s=18 * 3600.0)
    horizon_s = 3 * DAY_S
    times = np.concatenate([b.times_s for b in Modulated(_NearTies(), profile).blocks(
        np.random.default_rng(0), 1, horizon_s)])
    tau = np.concatenate([b.times_s for b in _NearTies().blocks(
        np.random.default_rng(0), 1, float(profile.cumulative(np.array([horizon_s]))[0]))])
    assert np.all(np.diff(times) >= 0)
    np.testing.assert_allclose(times, profile.inverse(tau), rtol=1e-13, atol=0.0)


def test_a_zero_step_holds_no_arrivals_and_its_end_maps_to_the_next_rising_step() -> None:
    # ONCE: factor 2 on [0, 50), 0 on [50, 80), 1 after: Λ(50) = Λ(80) = 100
    assert ONCE.inverse(np.array([100.0]))[0] in (50.0, 80.0)
    assert ONCE.inverse(np.array([100.0 + 1e-9]))[0] == pytest.approx(80.0)
    assert ONCE.mean_factor == 1.0
    assert STEPS.mean_factor == pytest.approx((100 * 0.5 + 150 * 3.0 + 200 * 1.0) / 600.0)


def test_poisson_counts_per_interval_follow_the_integrated_rate() -> None:
    rate, count, horizon = 0.02, 50, 2 * DAY_S
    workload = Modulated(Poisson(rate), DIURNAL)
    times = np.concatenate([b.times_s for b in workload.blocks(np.random.default_rng(7), count, horizon)])
    assert np.all(np.diff(times) >= 0)
    assert times.max() < horizon
    edges = np.arange(0.0, horizon + 1.0, 3600.0)
    observed, _ = np.histogram(times, edges)
    expected = rate * count * np.diff(DIURNAL.cumulative(edges))
    chi2 = float(np.sum((observed - expected) ** 2 / expected))
    assert chi2 < stats.chi2.ppf(0.999, edges.size - 1)
    # and the load really varies: the peak hour carries far more than the trough hour
    assert observed[19] > 4 * observed[7]


def test_a_camera_stream_follows_the_steps_frame_for_frame() -> None:
    fps, count = 2.0, 3
    workload = Modulated(PeriodicStream(fps), STEPS)
    blocks = list(workload.blocks(np.random.default_rng(1), count, 1800.0))
    times = np.concatenate([b.times_s for b in blocks])
    devices = np.concatenate([b.device for b in blocks])
    edges = np.array([0.0, 100.0, 250.0, 400.0, 600.0, 700.0, 850.0, 1000.0, 1200.0])
    for d in range(count):
        observed, _ = np.histogram(times[devices == d], edges)
        expected = fps * np.diff(STEPS.cumulative(edges))
        assert np.all(np.abs(observed - expected) <= 1.0), (observed, expected)
    assert not np.any((times % 600.0 >= 100.0) & (times % 600.0 < 250.0))  # the zero step is silent


def test_mean_rate_is_the_base_rate_times_the_mean_factor() -> None:
    assert Modulated(Poisson(0.5), STEPS).mean_rate_per_s == pytest.approx(0.5 * STEPS.mean_factor)
    assert Modulated(Poisson(0.5), DIURNAL).mean_rate_per_s == 0.5


@pytest.mark.parametrize(("build", "match"), [
    (lambda: StepProfile((1.0,), (1.0,)), "first step must start at 0"),
    (lambda: StepProfile((0.0, 0.0), (1.0, 1.0)), "must increase"),
    (lambda: StepProfile((0.0, 10.0), (1.0, 0.0)), "must not stop"),
    (lambda: StepProfile((0.0, 10.0), (1.0, 1.0), period_s=10.0), "period"),
    (lambda: StepProfile((0.0,), (-1.0,)), "factors"),
    (lambda: DiurnalProfile(1.5), "amplitude"),
    (lambda: DiurnalProfile(0.5, peak_s=DAY_S), "peak_s"),
])
def test_bad_profiles_are_refused_by_name(build: object, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        build()  # type: ignore[operator]


def _scenario(profile: dict[str, object] | None, workload: dict[str, object] | None = None) -> dict[str, object]:
    group: dict[str, object] = {"name": "cams", "count": 20, "profile": {"compute_time": "13 s"},
                                "access_point": "ap", "workload": workload or {"kind": "poisson", "rate": "0.05/s"}}
    if profile is not None:
        group["rate_profile"] = profile
    return {
        "name": "p", "run": {"duration": "2 h", "seed": 4}, "services": [{"name": "s", "work": "1G"}],
        "access_points": [{"name": "ap", "uplink": "20 Mbps", "latency": "5 ms"}],
        "nodes": [{"name": "edge", "compute_time": "9 ms", "workers": 4}],
        "links": [{"between": ["ap", "edge"], "bandwidth": "1 Gbps"}],
        "devices": [group], "policies": ["always_edge"],
    }


def test_a_scenario_profile_modulates_the_simulated_arrivals() -> None:
    steps = {"kind": "steps", "period": "1 h", "steps": [{"at": "0 s", "factor": 0.5}, {"at": "30 min", "factor": 2}]}
    scenario = scenario_from_dict(_scenario(steps))
    workload = scenario.world.device_groups[0].workload
    assert isinstance(workload, Modulated)
    assert isinstance(workload.profile, StepProfile)
    assert workload.profile.starts_s == (0.0, 1800.0)
    assert workload.profile.period_s == 3600.0
    result = run(scenario.world, duration_s=7200.0, seed=4)
    records = result.records
    tasks = result.policies["always_edge"].tasks
    assert tasks.generated == tasks.completed + tasks.dropped + tasks.in_flight
    created = records["created_s"].to_numpy()
    low = np.count_nonzero(created % 3600.0 < 1800.0)
    high = created.size - low
    expected_low, expected_high = 20 * 0.05 * 0.5 * 3600.0, 20 * 0.05 * 2.0 * 3600.0
    for got, mean in ((low, expected_low), (high, expected_high)):
        assert abs(got - mean) < 4.0 * np.sqrt(mean)


def test_without_a_profile_the_workload_is_the_base_one() -> None:
    assert isinstance(scenario_from_dict(_scenario(None)).world.device_groups[0].workload, Poisson)


def test_every_profile_problem_is_reported_at_its_line(tmp_path: Path) -> None:
    text = """\
name: p
run: {duration: 1 h}
services: [{name: s, work: 1G}]
access_points: [{name: ap, uplink: 20 Mbps}]
nodes: [{name: edge, compute_time: 9 ms}]
links: [{between: [ap, edge]}]
devices:
  - name: a
    profile: {compute_time: 13 s}
    access_point: ap
    workload: {kind: poisson, rate: 0.1/s}
    rate_profile:
      kind: steps
      period: 1 h
      steps:
        - {at: 10 s, factor: 1}
        - {at: 5 s, factor: 2}
        - {at: 2 h, factor: -1}
  - name: b
    profile: {compute_time: 13 s}
    access_point: ap
    workload: {kind: poisson, rate: 0.1/s}
    rate_profile: {kind: diurnal, amplitude: 0.5, peak: 30 h}
  - name: c
    profile: {compute_time: 13 s}
    access_point: ap
    workload: {kind: poisson, rate: 0.1/s}
    rate_profile: {kind: weekly}
policies: [always_edge]
"""
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert "p.yaml:18: devices[0].rate_profile.steps[2].factor: -1" in message
    assert "p.yaml:28: devices[2].rate_profile" in message
    assert "steps" in message
    assert "diurnal" in message
    # pydantic stops at the schema: the step order and the peak are checked once the schema holds
    fixed = text.replace("{at: 2 h, factor: -1}", "{at: 2 h, factor: 1}").replace("kind: weekly", "kind: diurnal, "
                                                                                    "amplitude: 0.1")
    path.write_text(fixed)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert "p.yaml:16: devices[0].rate_profile.steps[0].at: 10.0: the first step must start at 0 s" in message
    assert "p.yaml:17: devices[0].rate_profile.steps[1].at: 5.0: must be later than the previous step" in message
    assert "p.yaml:18: devices[0].rate_profile.steps[2].at: 7200.0: must be earlier than the period" in message
    assert "p.yaml:23: devices[1].rate_profile.peak: 108000.0: must be earlier than the period" in message


def test_a_trace_cannot_take_a_rate_profile(tmp_path: Path) -> None:
    trace = tmp_path / "t.csv"
    trace.write_text("timestamp_s,device,work_ops,input_bits,output_bits\n1,0,1e9,1e3,1e3\n")
    data = _scenario({"kind": "diurnal", "amplitude": 0.5}, {"kind": "trace", "file": str(trace)})
    with pytest.raises(ScenarioError, match=r"devices\[0\]\.rate_profile: a trace replays"):
        scenario_from_dict(data)
