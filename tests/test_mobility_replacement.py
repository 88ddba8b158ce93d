"""Online re-placement on a deterministic trace: the one user crosses from cell a to cell b at t = 5 s; the
re-placement due at 10 s moves the service's one replica from ea to eb, whose node pulls the image from the
registry behind cell b and boots before ea drains. Every time below is worked out by hand."""

import numpy as np
import pytest

from offload.errors import ParameterError
from offload.profiles import Device
from simulator.lifecycle.replacement import Replacement
from simulator.mobility import Area, Trace
from simulator.mobility.controller import Mobility
from simulator.mobility.spec import Cell, GroupMotion
from simulator.run import run
from simulator.workloads import Trace as TaskTrace
from simulator.world import AccessPoint, BackhaulLink, DeviceGroup, EdgeServer, TaskSizes, World

UPLINK_BPS = 1e6  # a dedicated radio link: the requests either side of the switch do not share it
IMAGE_BITS = 16e6
REGISTRY_BPS = 8e6
REGISTRY_S = 0.01  # one way, registry to b
AB_S = 0.005  # one way between the cells
BOOT_S = 0.5
#: the pull from the registry (store and forward over its one link), then the boot
READY_S = 10.0 + IMAGE_BITS / REGISTRY_BPS + REGISTRY_S + BOOT_S
JUMP = Trace(np.array([0.0, 5.0, 5.0]), np.array([0, 0, 0]), np.array([[40.0, 50.0], [60.0, 50.0], [140.0, 50.0]]))


def world(times: tuple[float, ...]) -> World:
    n = len(times)
    tasks = TaskTrace(times, (0,) * n, (1e6,) * n, (1e5,) * n, (0.0,) * n)
    group = DeviceGroup("walkers", 1, Device(speed_ops_per_s=1e6), tasks, "a", task=TaskSizes(1e6, 1e5, 0.0))
    servers = (EdgeServer("ea", speed_ops_per_s=1e9, location="a"),
               EdgeServer("eb", speed_ops_per_s=1e9, location="b"))
    links = (BackhaulLink("a", "b", latency_s=AB_S),
             BackhaulLink("reg", "b", bandwidth_bps=REGISTRY_BPS, latency_s=REGISTRY_S))
    return World(device_groups=(group,), access_points=(AccessPoint("a", UPLINK_BPS, shared=False),
                                                             AccessPoint("b", UPLINK_BPS, shared=False)),
                 servers=servers, links=links, policies=("always_edge",))


def simulate(times: tuple[float, ...], replacement: Replacement) -> tuple[list[dict[str, object]], dict[str, object]]:
    spec = Mobility(Area(200.0, 100.0), (Cell("a", (50.0, 50.0)), Cell("b", (150.0, 50.0))),
                    (GroupMotion("walkers", JUMP, step_s=1.0),), replacements=(replacement,))
    result = run(world(times), duration_s=30.0, seed=1, mobility=spec)
    assert result.mobility is not None
    return result.records.sort_values("created_s").to_dict("records"), result.mobility.iloc[0].to_dict()


def test_one_replacement_pulls_boots_then_drains_the_old_host():
    rows, table = simulate((1.0, 11.0, READY_S - 1e-6, READY_S + 1e-6, 25.0),
                           Replacement("default", 1, every_s=10.0, image_bits=IMAGE_BITS, registry="reg",
                                       boot_s=BOOT_S))
    assert pytest.approx(12.51) == READY_S
    assert [row["target"] for row in rows] == ["ea", "ea", "ea", "eb", "eb"]
    # a request sent just before the switch is served at the draining host and completes: none is lost
    last_old = rows[2]
    assert last_old["completed_s"] == pytest.approx(READY_S - 1e-6 + 1e5 / UPLINK_BPS + 2 * AB_S + 1e-3)
    assert rows[3]["completed_s"] == pytest.approx(READY_S + 1e-6 + 1e5 / UPLINK_BPS + 1e-3)
    assert (table["replacements"], table["replicas_moved"]) == (1, 1)
    # the placement model's gain for the user in cell b: the a-b round trip saved
    assert table["placement_gain_s"] == pytest.approx(2 * AB_S, rel=1e-6)


def test_a_host_that_has_the_image_only_boots():
    rows, table = simulate((10.0 + BOOT_S - 1e-6, 10.0 + BOOT_S + 1e-6),
                           Replacement("default", 1, every_s=10.0, boot_s=BOOT_S))
    assert [row["target"] for row in rows] == ["ea", "eb"]
    assert table["replacements"] == 1


def test_a_handover_can_trigger_the_replacement():
    # re-placed at the user's handover at 5 s instead of at a period: ready 2.01 s + 0.5 s later
    ready_s = 5.0 + IMAGE_BITS / REGISTRY_BPS + REGISTRY_S + BOOT_S
    rows, table = simulate((ready_s - 1e-6, ready_s + 1e-6),
                           Replacement("default", 1, image_bits=IMAGE_BITS, registry="reg", boot_s=BOOT_S,
                                       handovers=1))
    assert [row["target"] for row in rows] == ["ea", "eb"]
    assert table["replacements"] == 1


def test_a_static_placement_never_moves():
    rows, table = simulate((1.0, 11.0, 25.0), Replacement("default", 1))
    assert [row["target"] for row in rows] == ["ea", "ea", "ea"]
    assert (table["replacements"], table["replicas_moved"], table["placement_gain_s"]) == (0, 0, 0.0)


def test_bad_replacements_are_named():
    with pytest.raises(ParameterError, match="unknown placement solver; choose one of"):
        Replacement("default", solver="simplex")
    with pytest.raises(ParameterError, match=r"replacement\.replicas"):
        Replacement("default", 0)
    with pytest.raises(ParameterError, match=r"replacement\.handovers"):
        Replacement("default", handovers=0)
    with pytest.raises(ParameterError, match="an image needs a registry"):
        Replacement("default", image_bits=1e6)


BC_S = 0.007  # one way between cells b and c (a - b is AB_S)
#: four walkers, all in cell a until 5 s, in cell c from then on
CROSSING = Trace(np.repeat([0.0, 5.0, 5.0], 4), np.tile(np.arange(4), 3),
                 np.repeat([[40.0, 50.0], [60.0, 50.0], [240.0, 50.0]], 4, axis=0))


def line_world(sitter_times: tuple[float, ...], routes: tuple[tuple[str, float], ...] = ()) -> World:
    """Cells a - b - c in a line, a server at each; four walkers (two tasks of device 0: 0.32 tasks/s in all) and
    one sitter that stays at b (its tasks: 2 over 11 s, 0.18/s)."""
    def group(name: str, count: int, times: tuple[float, ...], cell: str) -> DeviceGroup:
        n = len(times)
        tasks = TaskTrace(times, (0,) * n, (1e6,) * n, (1e5,) * n, (0.0,) * n)
        return DeviceGroup(name, count, Device(speed_ops_per_s=1e6), tasks, cell, task=TaskSizes(1e6, 1e5, 0.0),
                           routes=routes if name == "sitters" else ())
    servers = tuple(EdgeServer(f"e{cell}", speed_ops_per_s=1e9, location=cell) for cell in "abc")
    links = (BackhaulLink("a", "b", latency_s=AB_S), BackhaulLink("b", "c", latency_s=BC_S))
    return World(device_groups=(group("walkers", 4, (1.5, 25.0), "a"), group("sitters", 1, sitter_times, "b")),
                 access_points=tuple(AccessPoint(cell, UPLINK_BPS, shared=False) for cell in "abc"),
                 servers=servers, links=links, policies=("always_edge",))


def line_mobility() -> Mobility:
    cells = (Cell("a", (50.0, 50.0)), Cell("b", (150.0, 50.0)), Cell("c", (250.0, 50.0)))
    return Mobility(Area(300.0, 100.0), cells, (GroupMotion("walkers", CROSSING, step_s=1.0),),
                    replacements=(Replacement("default", 1, every_s=10.0, boot_s=BOOT_S),))


def test_a_group_that_stays_follows_the_replica_from_its_access_point():
    # the replica goes where the rate is: at a for the walkers' 0.32/s (the sitter at b pays the a - b round trip),
    # then, the walkers in c, at c from 10 + 0.5 s; the sitter's tasks go to the one host from b, both times
    result = run(line_world((1.0, 11.0)), duration_s=30.0, seed=1, mobility=line_mobility())
    sitter = result.records[result.records["device"].str.startswith("sitters")].sort_values("created_s")
    assert list(sitter["target"]) == ["ea", "ec"]
    assert list(sitter["completed_s"]) == pytest.approx([1.0 + 1e5 / UPLINK_BPS + 2 * AB_S + 1e-3,
                                                         11.0 + 1e5 / UPLINK_BPS + 2 * BC_S + 1e-3], rel=1e-12)
    assert result.mobility is not None
    assert list(result.mobility["group"]) == ["walkers"]  # the table lists the groups that move
    assert result.mobility.iloc[0]["replacements"] == 1


def test_a_group_that_stays_with_fixed_routes_cannot_follow_a_replaced_service():
    with pytest.raises(ParameterError, match="a group with fixed routes cannot follow a re-placed service"):
        run(line_world((1.0,), routes=(("eb", 1.0),)), duration_s=30.0, seed=1, mobility=line_mobility())
