"""Engine routing by shares: offloaded tasks of a group with ``routes`` reach each server with its share.

Truth: each offloaded task picks server k independently with probability p_k, so the count at k is binomial;
counts must fall within 4 standard deviations. The pick comes from a stream of its own, so every policy that
offloads a task sends it to the same server (common random numbers).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from offload.errors import ParameterError
from offload.profiles import Device
from simulator.run import run
from simulator.workloads import Poisson
from simulator.world import AccessPoint, BackhaulLink, DeviceGroup, EdgeServer, TaskSizes, World

SHARES = (("e1", 0.2), ("e2", 0.5), ("e3", 0.3))


def _world(routes: tuple[tuple[str, float], ...] = SHARES, policies: tuple[str, ...] = ("always_edge",)) -> World:
    servers = (EdgeServer("e1", speed_ops_per_s=1e10, workers=4, location="ap"),
               EdgeServer("e2", speed_ops_per_s=1e10, workers=4, location="sw"),
               EdgeServer("e3", speed_ops_per_s=1e10, workers=4, location="sw"),
               EdgeServer("e4", speed_ops_per_s=1e10, workers=4, location="ap"))
    group = DeviceGroup("cams", 20, Device(speed_ops_per_s=1e9), Poisson(1.0), "ap", TaskSizes(1e8, 1e4, 1e3),
                        routes=routes)
    return World((group,), (AccessPoint("ap", uplink_bps=1e9, shared=False),), servers,
                 (BackhaulLink("ap", "sw", latency_s=1e-3),), policies=policies)


def test_offloaded_tasks_follow_the_shares_within_binomial_bounds() -> None:
    records = run(_world(), duration_s=300.0, seed=5).records
    n = len(records)
    assert n > 4000
    counts = records["target"].astype(str).value_counts()
    assert "e4" not in counts  # a server outside the routes gets nothing, though it is the nearest
    for server, p in SHARES:
        assert abs(counts[server] - n * p) <= 4 * math.sqrt(n * p * (1 - p)), (server, counts[server], n * p)


def test_every_policy_sends_an_offloaded_task_to_the_same_server() -> None:
    records = run(_world(policies=("always_edge", "queue_aware", "latency_rule", "always_local")),
                  duration_s=60.0, seed=2).records
    by_policy = {p: g.sort_values("task_id")["target"].astype(str).to_numpy()
                 for p, g in records.groupby("policy", observed=True)}
    np.testing.assert_array_equal(by_policy["always_edge"], by_policy["queue_aware"])
    np.testing.assert_array_equal(by_policy["always_edge"], by_policy["latency_rule"])
    assert set(by_policy["always_local"]) == {"local"}


def test_a_zero_share_server_is_never_used() -> None:
    records = run(_world((("e1", 0.0), ("e2", 1.0))), duration_s=30.0, seed=1).records
    assert set(records["target"].astype(str)) == {"e2"}


@pytest.mark.parametrize(("routes", "match"), [
    ((("e1", 0.5), ("e2", 0.4)), "sum to 1"),
    ((("e1", -0.5), ("e2", 1.5)), "must be >= 0"),
    ((("e1", 0.5), ("e1", 0.5)), "one per server"),
    ((("nowhere", 1.0),), "'nowhere'.*not a reachable server"),
])
def test_bad_routes_are_rejected(routes: tuple[tuple[str, float], ...], match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        _world(routes)
