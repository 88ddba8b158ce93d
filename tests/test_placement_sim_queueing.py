"""End to end against Erlang C: a placed world is a set of M/M/c queues, so the simulated mean latency must match.

Poisson arrivals split by independent route draws stay Poisson; each placed server ``node/service`` has one
exponential worker per replica, so it is M/M/c with the load the placement sends it. The expected mean latency is
Σ_servers share · (fixed network delay + upload + M/M/c sojourn), with the sojourn from
:func:`offload.queueing.mmc_mean_sojourn_s` (Kleinrock Vol. 1, §3.5) and everything else from the world itself.
"""

from __future__ import annotations

import pytest

from offload.profiles import Device
from offload.queueing import mmc_mean_sojourn_s
from simulator.distributions import Exponential
from simulator.placement_bridge import PlacementSettings, ReplicaSpec, place_world
from simulator.run import run
from simulator.workloads import Poisson
from simulator.world import AccessPoint, BackhaulLink, DeviceGroup, EdgeServer, TaskSizes, World

INPUT_BITS = 1e5


def _world() -> World:
    ap = AccessPoint("ap", uplink_bps=1e9, latency_s=2e-3, shared=False)
    servers = (EdgeServer("near", speed_ops_per_s=1e10, workers=4, location="ap"),
               EdgeServer("far", speed_ops_per_s=1e10, workers=12, location="sw"))
    group = DeviceGroup("cams", 60, Device(speed_ops_per_s=1e8), Poisson(1.0), "ap",
                        TaskSizes(Exponential(1e9), INPUT_BITS, 0.0))
    return World((group,), (ap,), servers, (BackhaulLink("ap", "sw", latency_s=5e-3),))


def test_placed_mean_latency_matches_erlang_c() -> None:
    world = _world()
    placed = place_world(world, PlacementSettings("milp", target_utilisation=0.5,
                                                  services={"default": ReplicaSpec(max_replicas=16)}))
    new = placed.world
    (group,) = new.device_groups
    rate = group.count * group.workload.mean_rate_per_s
    ap = new.access_points[0]
    delays = new.delays_s()[ap.name]
    expected = 0.0
    for name, share in group.routes:
        server = next(s for s in new.servers if s.name == name)
        mu = server.speed_ops_per_s / 1e9  # type: ignore[operator]
        sojourn = float(mmc_mean_sojourn_s(rate * share, mu, server.workers))
        network = 2 * (ap.latency_s + delays[server.node]) + INPUT_BITS / ap.uplink_bps
        expected += share * (network + sojourn)
    assert len(group.routes) == 2  # the near server alone cannot carry 60 req/s at utilisation 0.5
    summary = run(new, duration_s=1200.0, warmup_s=100.0, seed=21, policies=["always_edge"]).summary
    assert summary["policies"]["always_edge"]["latency_s"]["mean"] == pytest.approx(expected, rel=0.03)
