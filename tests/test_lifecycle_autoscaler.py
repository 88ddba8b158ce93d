"""The HPA rule, checked against hand computations: the rule's pieces on the Kubernetes documentation's examples,
and a whole replica trajectory on a deterministic step load, at every sync."""

from __future__ import annotations

import math

import pytest

from offload.errors import ParameterError
from offload.profiles import Device
from simulator.lifecycle import Autoscaling, Deployment, Image, NodeCapacity, Platform, Registry
from simulator.lifecycle.autoscaler import raw_recommendation, scale_limits
from simulator.rate_profiles import Modulated, StepProfile
from simulator.run import run
from simulator.workloads import PeriodicStream
from simulator.world import AccessPoint, BackhaulLink, DeviceGroup, EdgeServer, Service, TaskSizes, World

RULES = Autoscaling(1, 8, "rps", 4.0)


def test_the_raw_recommendation_is_ceil_of_ready_times_ratio_outside_the_tolerance() -> None:
    # Kubernetes' example: 200m used for a 100m target doubles the replicas; 50m halves them
    assert raw_recommendation(total=2 * 200.0, ready=2, target=100.0, current=2, tolerance=0.1) == 4
    assert raw_recommendation(total=2 * 50.0, ready=2, target=100.0, current=2, tolerance=0.1) == 1
    # within 10 %: no change, even if the ceiling would differ
    assert raw_recommendation(total=3 * 1.09, ready=3, target=1.0, current=3, tolerance=0.1) == 3
    assert raw_recommendation(total=3 * 1.11, ready=3, target=1.0, current=5, tolerance=0.1) == 4


def test_the_default_policies_double_or_add_four_and_may_remove_all() -> None:
    assert scale_limits(1, 1, RULES) == (5, 0)
    assert scale_limits(3, 3, RULES) == (7, 0)
    assert scale_limits(10, 10, RULES) == (20, 0)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"min_replicas": -1}, "min_replicas"), ({"max_replicas": 0}, "max_replicas"), ({"metric": "cpu"}, "metric"),
    ({"target": 0.0}, "target"), ({"sync_s": -1.0}, "sync_s"), ({"down_percent": 150.0}, "down_percent"),
])
def test_bad_autoscaling_is_refused_by_name(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"min_replicas": 1, "max_replicas": 8, "metric": "rps", "target": 4.0, **kwargs}
    with pytest.raises(ParameterError, match=match):
        Autoscaling(**args)  # type: ignore[arg-type]


def _hand_trajectory(times: list[float]) -> list[int]:
    """The desired count after each sync, worked out by hand from the rule (see the test's comments)."""
    desired = []
    for t in times:
        if t < 15:
            desired.append(1)
        elif t < 315:
            desired.append(3)  # 10 rps / 4 per replica: ceil(2.5) = 3 (limit 5); then 10/3/4 = 0.83: ceil(2.5) = 3
        elif t < 330:
            desired.append(7)  # 40 rps: ceil(10) = 10, limited to max(2·3, 3 + 4) = 7
        elif t < 900:
            desired.append(8)  # 10 limited to max_replicas 8; from 615 s (4 rps: 1) held by the 300 s window
        else:
            desired.append(1)  # the last 10 (at 600 s) leaves the window (600, 900]; 4 rps / 1 replica = target
    return desired


def test_the_replica_trajectory_on_a_step_load_equals_the_hand_computation_at_every_sync() -> None:
    # 10 cameras at 1 frame/s scaled by 1, then 4 from 300 s, then 0.4 from 600 s: 10, 40, 4 requests per second,
    # exactly 150, 600 and 60 in every 15 s sync window (the windows never straddle a step; the network is instant)
    profile = StepProfile((0.0, 300.0, 600.0), (1.0, 4.0, 0.4))
    group = DeviceGroup("cams", 10, Device(speed_ops_per_s=1e6), Modulated(PeriodicStream(1.0), profile), "ap",
                        TaskSizes(work_ops=1e6), service="svc")
    servers = (EdgeServer("e1", speed_ops_per_s=1e9, location="site"),
               EdgeServer("e2", speed_ops_per_s=1e9, location="site"))
    world = World(device_groups=(group,), access_points=(AccessPoint("ap", math.inf, math.inf),), servers=servers,
                  links=(BackhaulLink("ap", "site"), BackhaulLink("site", "dc", 1e9)),
                  services=(Service("svc", ("e1", "e2")),), policies=("always_edge",))
    image = Image("svc:v1", 1e9)
    deployment = Deployment("svc-v1", "svc", "v1", image, 1, ("e1", "e2"), autoscaling=RULES)
    nodes = (NodeCapacity("e1", 8.0, images=(image.name,)), NodeCapacity("e2", 8.0, images=(image.name,)))
    result = run(world, duration_s=1000.0, seed=3, platform=Platform((image,), (Registry("dc"),), nodes,
                                                                      (deployment,)))
    assert result.platform is not None
    events = result.platform.events
    changes = events[events["kind"] == "autoscale"]
    assert list(zip(changes["time_s"], changes["detail"].astype(int), strict=True)) == [
        (15.0, 3), (315.0, 7), (330.0, 8), (900.0, 1)]
    series = result.platform.replicas
    syncs = [15.0 * k for k in range(1, 67)]
    at_sync = [int(series[series["time_s"] <= t]["desired"].iloc[-1]) for t in syncs]
    assert at_sync == _hand_trajectory(syncs)
    # the boots are instant and the image is on both nodes: ready follows desired at once
    assert [int(series[series["time_s"] <= t]["ready"].iloc[-1]) for t in syncs] == at_sync
    tasks = result.policies["always_edge"].tasks
    assert tasks.dropped == 0
