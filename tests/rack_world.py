"""The small world of the image tests: two racks (nodes e1, e2, 1 G ops/s each) behind a site switch, the central
registry's site ``dc`` across a WAN link; one camera whose only request comes after every horizon, so replicas pull
and boot but never serve."""

from __future__ import annotations

import math

from offload.profiles import Device
from simulator.workloads import Trace
from simulator.world import AccessPoint, BackhaulLink, DeviceGroup, EdgeServer, Service, TaskSizes, World

SIZE_BITS = 8e8
RACK_BPS, RACK_DELAY_S, WAN_BPS, WAN_DELAY_S = 1e9, 1e-3, 1e8, 0.01


def rack_world() -> World:
    """See the module docstring."""
    trace = Trace((1000.0,), (0,), (1e9,), (0.0,), (0.0,))  # after the horizon: the replicas do not serve
    group = DeviceGroup("cams", 1, Device(speed_ops_per_s=1e6), trace, "ap", TaskSizes(work_ops=1e9), service="svc")
    servers = (EdgeServer("e1", speed_ops_per_s=1e9, location="rack1"),
               EdgeServer("e2", speed_ops_per_s=1e9, location="rack2"))
    links = (BackhaulLink("ap", "site"), BackhaulLink("rack1", "site", RACK_BPS, RACK_DELAY_S),
             BackhaulLink("rack2", "site", RACK_BPS, RACK_DELAY_S), BackhaulLink("site", "dc", WAN_BPS, WAN_DELAY_S))
    return World(device_groups=(group,), access_points=(AccessPoint("ap", math.inf, math.inf),), servers=servers,
                 links=links, services=(Service("svc", ("e1", "e2")),), policies=("always_edge",))
