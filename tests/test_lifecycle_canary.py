"""The canary release: its timeline by hand (steps, weights once the new replicas are ready, promotion), the traffic
share each version gets against the binomial interval of its weight, a hold while the analysis is inconclusive, the
autoscaler counting each request once, and — over replications — the rollback of a bad version within the analysis
window and no rollback of a good one."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rollout_worlds import V2, platform, simulate, times, world

from offload.errors import ParameterError
from simulator.lifecycle import Autoscaling
from simulator.lifecycle.rollout import Analysis, Canary, Step
from simulator.lifecycle.router import VersionStats, quantile
from simulator.lifecycle.spec import Version
from simulator.result import SimulationResult

FAST = Version("v2", V2, speedup=2.0)
STEPS = (Step(weight=20), Step(pause_s=60.0), Step(weight=50), Step(pause_s=60.0))
SLO = Analysis(window_s=60.0, p95_s=0.1, error_rate=0.01, interval_s=10.0)


def _events(result: SimulationResult, kind: str) -> list[tuple[float, str]]:
    assert result.platform is not None
    events = result.platform.events
    mine = events[events["kind"] == kind]
    return [(float(t), str(d)) for t, d in zip(mine["time_s"], mine["detail"], strict=True)]


def test_the_canary_follows_its_steps_and_is_promoted() -> None:
    # R = 4, boot 5 s, images cached: 10 s start, one new replica (ceil(20 % of 4)) ready at 15 s takes 20 %;
    # pause to 75 s; two replicas for 50 %, the second ready at 80 s; pause to 140 s; promotion: four replicas,
    # ready at 145 s, take everything and the old version goes
    result = simulate(world(20.0), platform(Canary(STEPS, SLO), FAST), 200.0)
    assert _events(result, "weight") == [(15.0, "20"), (80.0, "50"), (145.0, "100")]
    assert times(result, "step") == [10.0, 15.0, 75.0, 80.0]
    assert times(result, "terminating", "svc-v1") == [145.0] * 4
    assert times(result, "rollout_complete") == [145.0]
    assert times(result, "rollback") == []
    records = result.records
    # every request after the promotion is served by v2, in half v1's time (1e7 ops at 1e9 ops/s: 5 ms)
    late = records[records["service_start_s"] > 145.0]
    np.testing.assert_allclose(late["service_end_s"] - late["service_start_s"], 0.005, rtol=1e-9)
    assert not records["dropped"].to_numpy()[records["created_s"].to_numpy() >= 5.0].any()


@pytest.mark.parametrize("weight", [10, 50, 90])
def test_each_version_gets_its_weight_of_the_traffic(weight: int) -> None:
    canary = Canary((Step(weight=weight), Step(pause_s=1e6)))
    result = simulate(world(50.0, poisson=True), platform(canary, FAST), 400.0)
    records = result.records
    after = records[records["queue_entry_s"] > 15.0]
    service_s = (after["service_end_s"] - after["service_start_s"]).to_numpy()
    on_v2 = np.isclose(service_s, 0.005, rtol=1e-9)
    assert (on_v2 | np.isclose(service_s, 0.01, rtol=1e-9)).all()
    n, share = on_v2.size, weight / 100
    # 99.9 % binomial interval (normal approximation, n ~ 19000)
    assert abs(on_v2.mean() - share) <= 3.29 * math.sqrt(share * (1 - share) / n)


def test_a_bad_version_is_rolled_back_and_no_request_reaches_it_after() -> None:
    bad = Version("v2", V2, error_probability=1.0)
    result = simulate(world(20.0, poisson=True), platform(Canary(STEPS, SLO), bad), 200.0)
    (rolled_s, why), = _events(result, "rollback")
    assert why.startswith("error rate 1 > 0.01")
    assert rolled_s - 15.0 <= SLO.window_s
    assert times(result, "rollout_complete") == []
    assert times(result, "terminated", "svc-v2")[0] >= rolled_s
    records = result.records
    failed = (records["drop_reason"].astype(str) == "version_error").to_numpy()
    assert failed.sum() >= SLO.min_requests
    assert (records["queue_entry_s"].to_numpy()[failed] < rolled_s).all()


def test_a_pause_holds_while_the_analysis_is_inconclusive() -> None:
    starved = Analysis(window_s=60.0, p95_s=0.1, error_rate=0.01, interval_s=10.0, min_requests=10**6)
    result = simulate(world(20.0), platform(Canary(STEPS, starved), FAST), 200.0)
    assert _events(result, "weight") == [(15.0, "20")]
    assert _events(result, "pause") == [(75.0, "analysis inconclusive")]
    assert times(result, "rollback") == times(result, "rollout_complete") == []


def test_the_autoscaler_counts_each_request_once_during_a_canary() -> None:
    # 20 requests/s for a target of 4 per replica: 5 replicas at every sync; counting only the stable version's
    # 80 % would give 4, counting a request twice 6 or more (no scale-down window: any miscount shows at once)
    rules = Autoscaling(1, 10, "rps", 4.0, down_window_s=0.0)
    canary = Canary((Step(weight=20), Step(pause_s=1e6)))
    result = simulate(world(20.0), platform(canary, FAST, autoscaling=rules), 200.0)
    assert _events(result, "autoscale") == [(15.0, "5")]


@pytest.mark.parametrize(("make", "match"), [
    (lambda: Canary(()), "steps"), (lambda: Step(), "step"), (lambda: Step(weight=120), "weight"),
    (lambda: Step(pause_s=-1.0), "pause_s"), (lambda: Analysis(window_s=0.0), "window_s"),
    (lambda: Analysis(window_s=60.0, error_rate=2.0), "error_rate"),
])
def test_bad_canaries_are_refused_by_name(make: object, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        make()  # type: ignore[operator]


def _rollback_after_traffic_s(version: Version, seed: int) -> float:
    result = simulate(world(20.0, poisson=True), platform(Canary(STEPS, SLO), version), 200.0, seed=seed)
    rollbacks = times(result, "rollback")
    return rollbacks[0] - times(result, "weight")[0] if rollbacks else math.inf


@pytest.mark.slow
def test_over_replications_a_bad_version_is_always_rolled_back_and_a_good_one_never() -> None:
    replications = 30
    bad = [_rollback_after_traffic_s(Version("v2", V2, error_probability=0.05), seed) for seed in range(replications)]
    good = [_rollback_after_traffic_s(FAST, seed) for seed in range(replications)]
    assert max(bad) <= SLO.window_s  # every bad release is caught within one analysis window of its first traffic
    false_rollbacks = sum(math.isfinite(t) for t in good) / replications
    assert false_rollbacks == 0.0


def test_the_version_monitor_and_traffic_series_agree_with_the_records() -> None:
    result = simulate(world(20.0, poisson=True), platform(Canary(STEPS, SLO), FAST), 200.0)
    assert result.platform is not None
    records = result.records
    served = records[~records["dropped"] & records["completed_s"].notna()]
    on_v2 = np.isclose(served["service_end_s"] - served["service_start_s"], 0.005, rtol=1e-9)
    at_router_s = (served["service_end_s"] - served["queue_entry_s"]).to_numpy()
    monitor = {row["version"]: row for row in result.to_json_dict()["policies"]["always_edge"]["version_monitor"]}
    for version, mine in (("v1", ~on_v2), ("v2", on_v2)):
        assert monitor[version]["calls"] == mine.sum()
        assert monitor[version]["avg_qpm"] == pytest.approx(mine.sum() / (200.0 / 60.0), rel=1e-12)
        assert monitor[version]["avg_req_time_s"] == pytest.approx(at_router_s[mine].mean(), rel=1e-9)
    traffic = result.platform.traffic
    v2 = traffic[traffic["version"] == "v2"].set_index("time_s")
    # sampled every analysis interval (10 s) from the rollout's start: the weights of the hand timeline
    assert [v2.loc[t, "weight"] for t in (20.0, 90.0, 150.0)] == [20, 50, 100]
    assert v2.loc[150.0, "ready"] == 4
    v1 = traffic[traffic["version"] == "v1"].set_index("time_s")
    assert [v1.loc[t, "weight"] for t in (20.0, 150.0)] == [80, 0]
    # load: requests started per second over the interval; v1 alone before the canary gets traffic
    started = records["service_start_s"].to_numpy()
    assert v1.loc[10.0, "load_rps"] == np.count_nonzero(started <= 10.0) / 10.0
    assert v2.loc[150.0, "load_rps"] > 0.0


@given(st.lists(st.floats(0.0, 10.0, allow_subnormal=False), min_size=1, max_size=300),
       st.sampled_from([0.0, 0.5, 0.95, 0.99, 1.0]))
def test_the_window_quantile_is_numpys_to_the_bit(values: list[float], q: float) -> None:
    data = np.array(values)
    assert quantile(data.copy(), q) == np.quantile(data, q)


def test_a_window_summarises_the_requests_ended_since_its_start() -> None:
    # truth: the columns filtered by hand and numpy's percentile
    rng = np.random.default_rng(2)
    stats = VersionStats()
    end_s = np.sort(rng.uniform(0.0, 100.0, 500))
    request_s = rng.exponential(0.05, 500)
    failed = rng.random(500) < 0.1
    for end, request, fail in zip(end_s.tolist(), request_s.tolist(), failed.tolist(), strict=True):
        stats.end_s.append(end)
        stats.request_s.append(request)
        stats.failed.append(fail)
    for start in (-1.0, 0.0, 37.5, end_s[250], 99.0, 200.0):
        inside = end_s >= start
        n, p95_s, errors = stats.window(start)
        assert n == inside.sum()
        if n:
            assert p95_s == np.percentile(request_s[inside], 95)
            assert errors == failed[inside].mean()
            assert stats.window(start) == (n, p95_s, errors)  # asked again: the same answer
        else:
            assert math.isnan(p95_s)
            assert math.isnan(errors)
        got_s, got_failed = stats.since(start)
        np.testing.assert_array_equal(got_s, request_s[inside])
        np.testing.assert_array_equal(got_failed, failed[inside])
