"""Moving devices' fast paths (:mod:`simulator.moving`, :meth:`simulator.links.DeviceLink.calm_s`): tasks decided
ahead of their arrival and transfers timed arithmetically between mobility steps give what deciding at arrival and
timing every transfer through the device's link give."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from offload.pathloss import RadioModel
from offload.profiles import Device
from simulator import moving
from simulator.links import DeviceLink
from simulator.mobility import Area, RandomWaypoint, Trace
from simulator.mobility.controller import Cell, GroupMotion, HandoverRule, Mobility, MobilityRun
from simulator.run import run
from simulator.workloads import Poisson
from simulator.workloads import Trace as TaskTrace
from simulator.world import AccessPoint, BackhaulLink, DeviceGroup, EdgeServer, TaskSizes, World

DEVICE = Device(speed_ops_per_s=1e9)
JUMP = Trace(np.array([0.0, 10.0, 10.0]), np.array([0, 0, 0]), np.array([[40.0, 50.0], [60.0, 50.0],
                                                                           [140.0, 50.0]]))


def two_cells(tasks: TaskTrace) -> World:
    group = DeviceGroup("walkers", 1, DEVICE, tasks, "a")
    aps = (AccessPoint("a", 1e6), AccessPoint("b", 2e6))
    servers = (EdgeServer("ea", speed_ops_per_s=1e9, location="a"), EdgeServer("eb", speed_ops_per_s=2e9,
                                                                                 location="b"))
    return World(device_groups=(group,), access_points=aps, servers=servers,
                 links=(BackhaulLink("a", "b", latency_s=0.01),), policies=("always_edge",))


def test_a_task_decided_ahead_of_a_handover_is_decided_again_on_the_new_cell():
    # the task at 5.3 s decides the one at 12.3 s with it (same window, no radio: nothing but a handover changes
    # its basis); the handover at 10 s reopens it: at 12.3 s it goes to cell b's server (2 G ops/s: 0.5 ms of
    # compute), its 0.1 Mbit upload at cell b's 2 Mbps
    tasks = TaskTrace((5.3, 12.3), (0, 0), (1e6, 1e6), (1e5, 1e5), (0.0, 0.0))
    spec = Mobility(Area(200.0, 100.0), (Cell("a", (50.0, 50.0)), Cell("b", (150.0, 50.0))),
                    (GroupMotion("walkers", JUMP, step_s=1.0),), HandoverRule(interruption_s=0.05))
    records = run(two_cells(tasks), duration_s=30.0, seed=1, mobility=spec).records.sort_values("created_s")
    assert records["target"].tolist() == ["ea", "eb"]
    assert records["upload_end_s"].tolist() == pytest.approx([5.4, 12.35], abs=1e-12)
    assert (records["service_end_s"] - records["service_start_s"]).tolist() == pytest.approx([1e-3, 5e-4],
                                                                                             abs=1e-12)


def busy_world(radio: RadioModel | None) -> tuple[World, Mobility]:
    """Two groups of 30 devices, random waypoint over four cells (dedicated links, 1 Mbit up, 0.2 Mbit down)."""
    sizes = TaskSizes(work_ops=2e7, input_bits=1e6, output_bits=2e5)
    groups = tuple(DeviceGroup(f"g{k}", 30, DEVICE, Poisson(0.5), "a", sizes) for k in range(2))
    names = ("a", "b", "c", "d")
    aps = tuple(AccessPoint(name, 20e6, 20e6, latency_s=0.002, shared=False) for name in names)
    servers = tuple(EdgeServer(f"e{name}", speed_ops_per_s=1e10, workers=4, location=name) for name in names)
    links = tuple(BackhaulLink(name, "core", latency_s=0.005) for name in names)
    world = World(device_groups=groups, access_points=aps, servers=servers, links=links, policies=("random",))
    cells = tuple(Cell(name, (250.0 + 500.0 * (k % 2), 250.0 + 500.0 * (k // 2)), radio=radio)
                  for k, name in enumerate(names))
    motion = tuple(GroupMotion(group.name, RandomWaypoint(5.0, 30.0), step) for group, step in zip(groups, (1.0, 0.7),
                                                                                                       strict=True))
    return world, Mobility(Area(1000.0, 1000.0), cells, motion, HandoverRule(interruption_s=0.03))


@pytest.mark.parametrize("radio", [None, RadioModel(bandwidth_hz=5e6, tx_power_w=0.2, path_loss_exponent=3.5,
                                                    reference_loss_db=40.0),
                                   RadioModel(bandwidth_hz=5e6, tx_power_w=0.2, path_loss_exponent=3.5,
                                              reference_loss_db=40.0, downlink_power_w=1.0)])
def test_arithmetic_transfers_and_decisions_ahead_match_the_event_driven_path(radio, monkeypatch):
    world, spec = busy_world(radio)
    started = [0]
    start = DeviceLink.start

    def counted(self: DeviceLink, *args: object) -> None:
        started[0] += 1
        start(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(DeviceLink, "start", counted)
    fast = run(world, duration_s=60.0, seed=3, mobility=spec)
    through_links = started[0]
    # every transfer through DeviceLink.start, as before the fast paths existed
    monkeypatch.setattr(DeviceLink, "calm_s", lambda self, bits, start_s: None)
    monkeypatch.setattr(moving, "_upload_s", lambda bits, rate_bps, start_s, devices: np.full(start_s.size, np.nan))
    slow = run(world, duration_s=60.0, seed=3, mobility=spec)
    assert through_links < 0.3 * (started[0] - through_links)  # the fast paths took most transfers
    assert fast.mobility is not None
    assert slow.mobility is not None
    assert fast.mobility["handovers"].sum() > 20
    pd.testing.assert_frame_equal(fast.mobility, slow.mobility)
    columns = ["target", "upload_start_s", "upload_end_s", "service_start_s", "download_start_s", "completed_s"]
    a = fast.records.sort_values("task_id")[["task_id", *columns]].reset_index(drop=True)
    b = slow.records.sort_values("task_id")[["task_id", *columns]].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=0.0, atol=1e-9)
    assert (a["target"] != "local").sum() > 500


def test_the_step_grid_is_the_times_the_steps_happen(monkeypatch):
    world, spec = busy_world(None)
    spec = dataclasses.replace(spec, groups=tuple(dataclasses.replace(g, step_s=s) for g, s in
                                                  zip(spec.groups, (0.1, 0.3), strict=True)))
    seen: list[float] = []
    grids = []
    start, step = MobilityRun.start, MobilityRun._step

    def record_start(self: MobilityRun) -> None:
        start(self)
        grids.append(self.attachment.steps_s(20.0))

    def record_step(self: MobilityRun, group: object) -> None:
        seen.append(self.env.now)
        step(self, group)  # type: ignore[arg-type]

    monkeypatch.setattr(MobilityRun, "start", record_start)
    monkeypatch.setattr(MobilityRun, "_step", record_step)
    run(world, duration_s=20.0, seed=1, mobility=spec)
    assert grids[0].tolist() == sorted(seen)  # exactly: the same float sums as the event queue's


def test_a_retry_after_a_handover_is_sent_from_the_current_cell():
    # one request of 20 s of work at 0 from cell a (the a-site link: 10 ms); e1 fails at 12 s and is back at 12.5 s
    # (its replica restarts at once), so the attempt fails and the retry goes 1 s later, at 13 s, when the device
    # is on cell b since the handover at 10 s: over the b-site link (50 ms), not a's
    from simulator.lifecycle import Deployment, Image, NodeCapacity, NodeEvent, Platform, Registry, Retry, Unready
    from simulator.world import Service

    image = Image("svc:v1", 8e8)
    group = DeviceGroup("walkers", 1, DEVICE, TaskTrace((0.0,), (0,), (2e10,), (0.0,), (0.0,)), "a",
                        service="svc")
    world = World(device_groups=(group,), access_points=(AccessPoint("a", 1e9), AccessPoint("b", 1e9)),
                  servers=(EdgeServer("e1", speed_ops_per_s=1e9, location="site"),),
                  links=(BackhaulLink("a", "site", latency_s=0.01), BackhaulLink("b", "site", latency_s=0.05),
                         BackhaulLink("site", "dc", 1e9)),
                  services=(Service("svc", ("e1",)),), policies=("always_edge",))
    deployment = Deployment("svc-v1", "svc", "v1", image, 1, ("e1",), unready=Unready("wait", 3.0), reschedule=False)
    platform = Platform((image,), (Registry("dc"),), (NodeCapacity("e1", 1.0, images=(image.name,)),), (deployment,),
                        failures=(NodeEvent(12.0, "e1", "fail"), NodeEvent(12.5, "e1", "recover")),
                        retries=(Retry("walkers", attempts=2, backoff_s=1.0),))
    spec = Mobility(Area(200.0, 100.0), (Cell("a", (50.0, 50.0)), Cell("b", (150.0, 50.0))),
                    (GroupMotion("walkers", JUMP, step_s=1.0),))
    record = run(world, duration_s=60.0, seed=1, platform=platform, mobility=spec).records.iloc[0]
    assert record["upload_start_s"] == 13.0
    assert record["service_start_s"] == pytest.approx(13.05, abs=1e-9)
    assert record["completed_s"] == pytest.approx(13.05 + 20.0 + 0.05, abs=1e-9)


def test_a_moving_device_pays_its_battery_for_each_upload_at_its_rate_then():
    # 2 W of transmit power, nothing else drawn: 0.1 Mbit at 1 Mbps on cell a (the task at 5.3 s) costs 0.2 J, at
    # 2 Mbps on cell b (12.3 s, after the handover at 10 s) 0.1 J; no harvest
    from simulator.battery import Battery
    from simulator.distributions import Constant

    device = Device(speed_ops_per_s=1e9, tx_power_w=2.0, idle_power_w=0.0, rx_power_w=0.0, tail_energy_j=0.0)
    world = two_cells(TaskTrace((5.3, 12.3), (0, 0), (1e6, 1e6), (1e5, 1e5), (0.0, 0.0)))
    group = dataclasses.replace(world.device_groups[0], device=device,
                                battery=Battery(capacity_j=10.0, initial_j=10.0, slot_s=1.0, harvest_j=Constant(0.0)))
    world = dataclasses.replace(world, device_groups=(group,))
    spec = Mobility(Area(200.0, 100.0), (Cell("a", (50.0, 50.0)), Cell("b", (150.0, 50.0))),
                    (GroupMotion("walkers", JUMP, step_s=1.0),), HandoverRule(interruption_s=0.05))
    result = run(world, duration_s=30.0, seed=1, mobility=spec)
    assert result.records.sort_values("created_s")["target"].tolist() == ["ea", "eb"]
    assert result.battery is not None
    assert result.battery["battery_j"].iloc[-1] == pytest.approx(10.0 - 0.2 - 0.1, abs=1e-12)
