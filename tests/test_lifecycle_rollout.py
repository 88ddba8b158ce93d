"""The rolling upgrade against hand computations: the Kubernetes arithmetic of one pass, an exact timeline on a
deterministic example, the bounds ``ready >= R - maxUnavailable`` and ``replicas <= R + maxSurge`` after every
change, a faster version's service time and a bad version's failed requests."""

from __future__ import annotations

import numpy as np
import pytest
from rollout_worlds import V2, combined, platform, simulate, times, world

from offload.errors import ParameterError
from simulator.lifecycle.spec import Version
from simulator.lifecycle.upgrade import Amount, RollingUpdate, rolling_targets

SURGE_1_UNAVAILABLE_1 = RollingUpdate(Amount(1), Amount(1))


def test_one_pass_follows_the_deployment_controller() -> None:
    # 4 replicas, surge 1, unavailable 1, all old ready: the new version may add one (5 = R + surge) ...
    assert rolling_targets(4, 1, 1, old=4, new=0, ready_old=4, ready_new=0) == (3, 1)
    # ... and the old one lose one: 5 - 3 (min available) - 1 (new not ready) = 1
    assert rolling_targets(4, 1, 1, old=3, new=1, ready_old=3, ready_new=0) == (3, 2)
    assert rolling_targets(4, 1, 1, old=3, new=2, ready_old=3, ready_new=0) == (3, 2)
    # not-ready old replicas go first, and are not bounded by the available count
    assert rolling_targets(4, 1, 0, old=4, new=1, ready_old=2, ready_new=1) == (3, 1)
    # surge 0: nothing new until an old replica goes
    assert rolling_targets(4, 0, 1, old=4, new=0, ready_old=4, ready_new=0) == (3, 0)


@pytest.mark.parametrize(("surge", "unavailable", "replicas", "bounds"), [
    (Amount(25, percent=True), Amount(25, percent=True), 4, (1, 1)),
    (Amount(25, percent=True), Amount(25, percent=True), 10, (3, 2)),  # surge rounds up, unavailable down
    (Amount(10, percent=True), Amount(10, percent=True), 3, (1, 0)),
    (Amount(0), Amount(10, percent=True), 3, (0, 1)),  # both 0: unavailable 1
])
def test_percentages_round_as_kubernetes_does(surge: Amount, unavailable: Amount, replicas: int,
                                              bounds: tuple[int, int]) -> None:
    assert RollingUpdate(surge, unavailable).bounds(replicas) == bounds


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"max_surge": Amount(0), "max_unavailable": Amount(0)}, "max_unavailable"),
])
def test_bad_bounds_are_refused_by_name(kwargs: dict[str, Amount], match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        RollingUpdate(**kwargs)
    with pytest.raises(ParameterError, match="percent"):
        Amount(120, percent=True)
    with pytest.raises(ParameterError, match="count"):
        Amount(1.5)


def test_the_upgrade_follows_the_hand_timeline() -> None:
    # R = 4, surge 1, unavailable 1, boot 5 s, images cached, no traffic (a draining replica goes at once).
    # 10 s: v2 +1 (total 5), v1 -1 (5 - 3 - 1 = 1), v2 +1 (total 4 < 5) -> v1 3, v2 2 starting
    # 15 s: each v2 ready lets one v1 go (ready 4 > 3) and one more v2 start -> v1 1, v2 4 (two starting)
    # 20 s: the first of those ready lets the last v1 go; the second completes the upgrade
    result = simulate(world(1e-6), platform(SURGE_1_UNAVAILABLE_1, Version("v2", V2)), 40.0)
    assert times(result, "ready", "svc-v2") == [15.0, 15.0, 20.0, 20.0]
    assert times(result, "terminating", "svc-v1") == [10.0, 15.0, 15.0, 20.0]
    assert times(result, "starting", "svc-v2") == [10.0, 10.0, 15.0, 15.0]
    assert times(result, "rollout_start") == [10.0]
    assert times(result, "rollout_complete") == [20.0]


def test_surge_only_replaces_one_at_a_time() -> None:
    # surge 1, unavailable 0: a v2 starts, is ready 5 s later, then a v1 goes and the next v2 starts
    result = simulate(world(1e-6), platform(RollingUpdate(Amount(1), Amount(0)), Version("v2", V2)), 60.0)
    assert times(result, "ready", "svc-v2") == [15.0, 20.0, 25.0, 30.0]
    assert times(result, "terminating", "svc-v1") == [15.0, 20.0, 25.0, 30.0]
    assert times(result, "rollout_complete") == [30.0]


@pytest.mark.parametrize(("replicas", "surge", "unavailable"), [
    (4, Amount(1), Amount(1)), (4, Amount(1), Amount(0)), (4, Amount(0), Amount(1)), (5, Amount(2), Amount(2)),
    (6, Amount(25, percent=True), Amount(25, percent=True)), (3, Amount(100, percent=True), Amount(0)),
])
def test_every_change_keeps_within_the_bounds_and_nothing_is_lost(replicas: int, surge: Amount,
                                                                   unavailable: Amount) -> None:
    rules = RollingUpdate(surge, unavailable)
    max_surge, max_unavailable = rules.bounds(replicas)
    # requests of 0.2 s every 0.25 s keep replicas busy, so draining takes time and requests run through the change
    result = simulate(world(4.0, 2e8), platform(rules, Version("v2", V2), replicas=replicas), 60.0)
    assert result.platform is not None
    after = [(t, total, ready) for t, total, ready in combined(result.platform.replicas) if t >= 10.0]
    assert after
    assert all(total <= replicas + max_surge for _, total, _ in after)
    assert all(ready >= replicas - max_unavailable for _, _, ready in after)
    assert len(times(result, "rollout_complete")) == 1
    records = result.records
    # only the requests before the first replica was ready (5 s) are dropped (no_ready_replica: drop)
    np.testing.assert_array_equal(records["dropped"], records["created_s"] < 5.0)


def test_a_faster_version_serves_in_its_share_of_the_time_and_a_bad_one_fails_requests() -> None:
    # 1e7 ops at 1e9 ops/s: 10 ms on v1, 10 ms / 2.5 = 4 ms on v2
    fast = simulate(world(5.0), platform(SURGE_1_UNAVAILABLE_1, Version("v2", V2, speedup=2.5)), 60.0)
    records = fast.records
    after = records[records["service_start_s"] > 25.0]
    before = records[records["service_start_s"] < 10.0]
    np.testing.assert_allclose(after["service_end_s"] - after["service_start_s"], 0.004, rtol=1e-9)
    np.testing.assert_allclose(before["service_end_s"] - before["service_start_s"], 0.01, rtol=1e-9)
    bad = simulate(world(5.0), platform(SURGE_1_UNAVAILABLE_1, Version("v2", V2, error_probability=1.0)), 60.0)
    records = bad.records
    failed = (records["drop_reason"].astype(str) == "version_error").to_numpy()
    started = records["service_start_s"].to_numpy()
    # v1 serves alone until the first v2 is ready (15 s), v2 alone from the end of the upgrade (20 s)
    assert not failed[started < 15.0].any()
    assert failed[started >= 20.0].all()
    summary = bad.to_json_dict()["policies"]["always_edge"]
    assert summary["dropped_by_reason"] == {"version_error": int(failed.sum()),
                                            "no_ready_replica": int((records["created_s"] < 5.0).sum())}
