"""Deployments and the replica life cycle on deterministic worlds, each against a hand computation: a pull takes
size / bandwidth + path delay, two pulls on one link share it, a cached image costs no pull, the image cache evicts
the least recently used image, requests wait for the first ready replica up to their timeout (or are dropped), and
a scaled-down replica drains its requests before it goes."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from offload.errors import ParameterError
from offload.profiles import Device
from simulator.lifecycle import (
    Deployment,
    Image,
    ImageCache,
    NodeCapacity,
    Platform,
    Registry,
    ScaleEvent,
    Unready,
)
from simulator.result import SimulationResult
from simulator.run import run
from simulator.workloads import PeriodicStream
from simulator.world import AccessPoint, BackhaulLink, Cloud, DeviceGroup, EdgeServer, Service, TaskSizes, World

LINK_BPS = 100e6
LINK_S = 0.02
MB_BITS = 8e6
DEVICE = Device(speed_ops_per_s=1e6)


def _world(services: tuple[str, ...] = ("svc",), *, fps: float = 0.0, work_ops: float = 1e6, input_bits: float = 0.0,
           cloud: bool = False) -> World:
    """Devices at ``ap``; servers e1, e2 at ``site`` (instant access); the registry's node ``dc`` behind one link
    of LINK_BPS and LINK_S. Each service has one camera group (``fps`` frames per second, none when 0)."""
    groups = tuple(DeviceGroup(f"cams-{s}", 1, DEVICE, PeriodicStream(fps or 1e-6), "ap",
                               TaskSizes(work_ops=work_ops, input_bits=input_bits), service=s) for s in services)
    servers = (EdgeServer("e1", speed_ops_per_s=1e9, location="site"),
               EdgeServer("e2", speed_ops_per_s=1e9, location="site"),
               *((Cloud("cloud", speed_ops_per_s=1e10, location="dc"),) if cloud else ()))
    return World(device_groups=groups, access_points=(AccessPoint("ap", math.inf, math.inf),), servers=servers,
                 links=(BackhaulLink("ap", "site"), BackhaulLink("site", "dc", LINK_BPS, LINK_S)),
                 services=tuple(Service(s, ("e1", "e2")) for s in services), policies=("always_edge",))


def _platform(*deployments: Deployment, nodes: tuple[NodeCapacity, ...] | None = None,
              events: tuple[ScaleEvent, ...] = (), mirrors: tuple[Registry, ...] = ()) -> Platform:
    images = tuple({d.image.name: d.image for d in deployments}.values())
    return Platform(images, (Registry("dc"), *mirrors), nodes or (NodeCapacity("e1", 4.0), NodeCapacity("e2", 4.0)),
                    deployments, events)


def _deployment(service: str = "svc", *, size_mb: float = 100.0, replicas: int = 1, nodes: tuple[str, ...] = ("e1",),
                boot_s: float = 5.0, unready: Unready | None = None, cpu: float = 1.0) -> Deployment:
    return Deployment(f"{service}-v1", service, "v1", Image(f"{service}:v1", size_mb * MB_BITS), replicas, nodes,
                      cpu=cpu, boot_s=boot_s, unready=unready or Unready())


def _run(world: World, platform: Platform, duration_s: float = 60.0) -> SimulationResult:
    result = run(world, duration_s=duration_s, seed=1, platform=platform)
    assert result.platform is not None
    return result


def _times(result: SimulationResult, kind: str, deployment: str | None = None) -> list[float]:
    assert result.platform is not None
    events = result.platform.events
    mine = events[(events["kind"] == kind) & ((events["deployment"] == deployment) if deployment else True)]
    return mine["time_s"].tolist()


def test_one_pull_takes_size_over_bandwidth_plus_path_delay() -> None:
    result = _run(_world(), _platform(_deployment(size_mb=100.0, boot_s=5.0)))
    pull_s = 100 * MB_BITS / LINK_BPS + LINK_S
    assert _times(result, "pull_start") == [0.0]
    assert _times(result, "pull_end") == [pytest.approx(pull_s, rel=1e-12)]
    assert _times(result, "ready") == [pytest.approx(pull_s + 5.0, rel=1e-12)]


def test_two_concurrent_pulls_on_one_link_each_take_twice_as_long() -> None:
    world = _world(("a", "b"))
    platform = _platform(_deployment("a", nodes=("e1",)), _deployment("b", nodes=("e2",)))
    result = _run(world, platform)
    both = 2 * 100 * MB_BITS / LINK_BPS + LINK_S
    assert _times(result, "pull_end") == [pytest.approx(both, rel=1e-12)] * 2


def test_a_cached_image_costs_no_pull_and_a_mirror_is_nearer() -> None:
    nodes = (NodeCapacity("e1", 4.0, images=("svc:v1",)), NodeCapacity("e2", 4.0))
    result = _run(_world(), _platform(_deployment(boot_s=5.0), nodes=nodes))
    assert _times(result, "pull_start") == []
    assert _times(result, "ready") == [5.0]
    # a mirror at the site itself: the pull crosses no link at all
    mirror = Registry("site", ("svc:v1",))
    result = _run(_world(), _platform(_deployment(boot_s=5.0), mirrors=(mirror,)))
    assert _times(result, "pull_end") == [0.0]


def test_the_image_cache_evicts_the_least_recently_used_image() -> None:
    cache = ImageCache(10 * MB_BITS)
    a, b, c, d = (Image(name, size * MB_BITS) for name, size in (("a", 4), ("b", 4), ("c", 4), ("d", 8)))
    script = [(cache.store, a, ()), (cache.store, b, ()), (cache.use, a, True), (cache.store, c, ("b",)),
              (cache.use, b, False), (cache.store, d, ("a", "c")), (cache.store, Image("huge", 11 * MB_BITS), ())]
    for step, image, expected in script:
        assert step(image) == expected, (step.__name__, image.name)
    assert cache.names == ("d",)
    assert cache.used_bits == 8 * MB_BITS


def test_pulling_onto_a_full_disk_evicts_and_logs_it() -> None:
    nodes = (NodeCapacity("e1", 4.0, disk_bits=150 * MB_BITS, images=("old:v1",)), NodeCapacity("e2", 4.0))
    deployment = _deployment(size_mb=100.0)
    platform = Platform((deployment.image, Image("old:v1", 100 * MB_BITS)), (Registry("dc"),), nodes, (deployment,))
    result = _run(_world(), platform)
    assert result.platform is not None
    evicted = result.platform.events[result.platform.events["kind"] == "evict"]
    assert evicted[["node", "detail"]].to_numpy().tolist() == [["e1", "old:v1"]]


def _arrivals(result: SimulationResult) -> pd.DataFrame:
    records = result.records
    return records.sort_values("created_s")


@pytest.mark.parametrize("action", ["wait", "drop"])
def test_requests_before_the_first_ready_replica_wait_up_to_their_timeout_or_drop(action: str) -> None:
    timeout_s = 3.0
    deployment = _deployment(unready=Unready(action, timeout_s), boot_s=10.0)  # type: ignore[arg-type]
    result = _run(_world(fps=1.0), _platform(deployment), duration_s=40.0)
    ready_s = _times(result, "ready")[0]
    records = _arrivals(result)
    arrived = records["queue_entry_s"].to_numpy()
    dropped = records["drop_reason"].astype(str).to_numpy() == "no_ready_replica"
    if action == "drop":
        assert np.array_equal(dropped, arrived < ready_s)
    else:
        assert np.array_equal(dropped, arrived + timeout_s < ready_s)
        waited = ~dropped & (arrived < ready_s)
        assert waited.any()
        # one worker serves the waiting requests in arrival order, 1 ms each (1e6 ops at 1 GHz)
        starts = records["service_start_s"].to_numpy()[waited]
        np.testing.assert_allclose(starts, ready_s + 1e-3 * np.arange(starts.size), rtol=1e-12)
    assert np.all(records["service_start_s"].to_numpy()[arrived > ready_s] == arrived[arrived > ready_s])
    tasks = result.policies["always_edge"].tasks
    assert tasks.generated == tasks.completed + tasks.dropped + tasks.in_flight
    summary = result.to_json_dict()["policies"]["always_edge"]
    assert summary["dropped_by_reason"] == ({"no_ready_replica": int(dropped.sum())} if dropped.any() else {})
    assert {"time_s", "kind", "service"} <= summary["events"][0].keys()


def test_without_a_ready_replica_requests_go_on_to_the_cloud_and_reply_from_there() -> None:
    deployment = _deployment(unready=Unready("cloud"), boot_s=10.0)
    result = _run(_world(fps=1.0, input_bits=8e5, cloud=True), _platform(deployment), duration_s=40.0)
    ready_s = _times(result, "ready")[0]
    records = _arrivals(result)
    early = records["created_s"].to_numpy() < ready_s
    assert early.sum() > 10
    assert set(records["target"].astype(str)[early]) == {"cloud"}
    assert set(records["target"].astype(str)[~early]) == {"e1"}
    # 0.1 MB over 100 Mbps to the cloud, 20 ms there and back, 1e6 ops at 10 G ops/s; nothing is dropped
    expected_s = 8e5 / LINK_BPS + 2 * LINK_S + 1e6 / 1e10
    np.testing.assert_allclose(records["latency_s"].to_numpy()[early], expected_s, rtol=1e-9)
    assert not records["dropped"].any()


def test_a_scaled_down_replica_drains_its_requests_then_goes() -> None:
    # one request every 2 s taking 1.5 s (work 1.5e9 ops at 1 GHz): busy on [2k + φ, 2k + φ + 1.5)
    deployment = _deployment(boot_s=0.0, unready=Unready("drop"))
    world = _world(fps=0.5, work_ops=1.5e9)
    cached = (NodeCapacity("e1", 4.0, images=("svc:v1",)), NodeCapacity("e2", 4.0))
    result = _run(world, _platform(deployment, nodes=cached, events=(ScaleEvent(30.0, "svc-v1", 0),)),
                  duration_s=60.0)
    records = _arrivals(result)
    started = records["service_start_s"].to_numpy()
    ended = records["service_end_s"].to_numpy()
    running = (started < 30.0) & (ended > 30.0)
    assert running.sum() == 1  # the seed's phase puts a request in service at 30 s
    assert _times(result, "terminating") == [30.0]
    assert _times(result, "terminated") == [pytest.approx(ended[running][0])]
    after = records["queue_entry_s"].to_numpy() > 30.0
    assert set(records["drop_reason"].astype(str)[after]) == {"no_ready_replica"}
    assert not records["dropped"].to_numpy()[~after].any()  # ready at 0: the image was there, the boot instant


def test_a_replica_that_fits_nowhere_stays_pending_until_cores_free_up() -> None:
    nodes = (NodeCapacity("e1", 1.0), NodeCapacity("e2", 1.0))
    first = _deployment("a", nodes=("e1",), boot_s=0.0)
    second = _deployment("b", nodes=("e1",), boot_s=0.0)
    events = (ScaleEvent(20.0, "a-v1", 0),)
    result = _run(_world(("a", "b")), _platform(first, second, nodes=nodes, events=events))
    assert _times(result, "pending", "b-v1") == [0.0]
    assert _times(result, "ready", "a-v1") == [pytest.approx(100 * MB_BITS / LINK_BPS + LINK_S)]
    # a's replica goes at 20 s (nothing to drain: no requests), b's takes its core and finds the image cached? no:
    # it is another image, so it pulls from 20 s on
    assert _times(result, "pull_start", "b-v1") == [20.0]
    assert _times(result, "ready", "b-v1") == [pytest.approx(20.0 + 100 * MB_BITS / LINK_BPS + LINK_S)]
    assert result.platform is not None
    series = result.platform.replicas
    last_b = series[series["deployment"] == "b-v1"].iloc[-1]
    assert (last_b["ready"], last_b["pending"], last_b["desired"]) == (1, 0, 1)


def test_placement_spreads_by_free_cores_and_prefers_a_cached_image() -> None:
    nodes = (NodeCapacity("e1", 4.0), NodeCapacity("e2", 4.0, images=("svc:v1",)))
    result = _run(_world(), _platform(_deployment(replicas=3, nodes=("e1", "e2")), nodes=nodes))
    assert result.platform is not None
    ready = result.platform.events[result.platform.events["kind"] == "ready"]
    # spread first, then locality: e2 (cached, boots at once), e1 (no replica yet), e2 (a tie on spread, cached)
    assert ready["node"].tolist() == ["e2", "e2", "e1"]
    assert ready["time_s"].tolist() == [5.0, 5.0, pytest.approx(100 * MB_BITS / LINK_BPS + LINK_S + 5.0)]


def test_a_domain_node_must_be_a_reachable_server() -> None:
    platform = _platform(_deployment(nodes=("e1", "nowhere")),
                         nodes=(NodeCapacity("e1", 1.0), NodeCapacity("nowhere", 1.0)))
    with pytest.raises(ParameterError, match="reachable from the central registry"):
        run(_world(), duration_s=10.0, seed=1, platform=platform)


def test_without_a_platform_the_result_has_no_platform_log() -> None:
    assert run(_world(fps=1.0), duration_s=10.0, seed=1).platform is None
