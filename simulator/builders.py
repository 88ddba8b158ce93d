"""Ready-made worlds for tests, benchmarks and examples: single queues with known theory and the S100 benchmark."""

from __future__ import annotations

import math

from offload.profiles import Device
from simulator.distributions import Constant, Distribution, Exponential
from simulator.families import Scaled
from simulator.workloads import Poisson
from simulator.world import (
    AccessPoint,
    BackhaulLink,
    DeviceGroup,
    EdgeServer,
    PolicySpec,
    TaskSizes,
    World,
    as_policy_spec,
)

#: Speed used by the queue worlds: work in ops equals service time in ns.
_QUEUE_SPEED_OPS_PER_S = 1e9
#: A device that is slow enough never to be chosen by a latency policy and draws some power in every state.
REFERENCE_DEVICE = Device(speed_ops_per_s=1e9, compute_power_w=2.0, idle_power_w=0.3, tx_power_w=1.3,
                          rx_power_w=1.0, tail_energy_j=0.0)


def queue_world(arrival_rate_per_s: float, service_s: Distribution, workers: int = 1, *, sources: int = 1,
                policies: tuple[PolicySpec | str, ...] = ("always_edge",)) -> World:
    """One server with ``workers`` fed by ``sources`` Poisson devices of total rate ``arrival_rate_per_s``.

    The network is instantaneous (infinite bandwidth, zero delay), so time in system is queue wait plus the service
    time drawn from ``service_s`` (seconds).
    """
    work = _scaled(service_s, _QUEUE_SPEED_OPS_PER_S)
    group = DeviceGroup("sources", sources, REFERENCE_DEVICE, Poisson(arrival_rate_per_s / sources), "ap",
                        TaskSizes(work_ops=work))
    server = EdgeServer("server", speed_ops_per_s=_QUEUE_SPEED_OPS_PER_S, workers=workers, location="ap")
    return World(device_groups=(group,), access_points=(AccessPoint("ap", math.inf, math.inf),),
                 servers=(server,), policies=tuple(as_policy_spec(p) for p in policies))


def mm1_world(arrival_rate_per_s: float = 8.0, service_rate_per_s: float = 10.0) -> World:
    """M/M/1: Poisson arrivals, exponential service of rate ``service_rate_per_s``."""
    return queue_world(arrival_rate_per_s, Exponential(1.0 / service_rate_per_s))


def mmc_world(arrival_rate_per_s: float = 32.0, service_rate_per_s: float = 10.0, workers: int = 4) -> World:
    """M/M/c with ``workers`` servers of rate ``service_rate_per_s`` each."""
    return queue_world(arrival_rate_per_s, Exponential(1.0 / service_rate_per_s), workers)


def md1_world(arrival_rate_per_s: float = 8.0, service_s: float = 0.1) -> World:
    """M/D/1: Poisson arrivals, constant service time."""
    return queue_world(arrival_rate_per_s, Constant(service_s))


def ps_uplink_world(arrival_rate_per_s: float, input_bits: Distribution, uplink_bps: float, *,
                    sources: int = 1) -> World:
    """M/G/1-PS: Poisson uploads of size ``input_bits`` sharing one access point uplink; the server is instant."""
    group = DeviceGroup("sources", sources, REFERENCE_DEVICE, Poisson(arrival_rate_per_s / sources), "ap",
                        TaskSizes(input_bits=input_bits))
    server = EdgeServer("server", compute_time_s=0.0, workers=1_000_000, location="ap")
    return World(device_groups=(group,), access_points=(AccessPoint("ap", uplink_bps, math.inf),),
                 servers=(server,))


def s100_world(n_devices: int = 100, n_edges: int = 10, *, rate_per_s: float = 1.0,
               policies: tuple[PolicySpec | str, ...] = ("always_edge",)) -> World:
    """The S100 benchmark scenario.

    ``n_devices`` devices, device i attached to edge ``i mod n_edges`` through a dedicated 100 Mbps link with 2 ms
    one-way delay; edges (one worker, 10 G ops/s) joined to a core router by 1 Gbps, 5 ms links; every device sends
    Poisson(``rate_per_s``) tasks of 200 kB and 500 M ops (0.05 s of service).
    """
    groups = []
    for edge in range(n_edges):
        count = len(range(edge, n_devices, n_edges))
        if count:
            groups.append(DeviceGroup(f"dev{edge}", count, REFERENCE_DEVICE, Poisson(rate_per_s), f"ap{edge}",
                                      TaskSizes(work_ops=500e6, input_bits=200e3 * 8, output_bits=0.0)))
    aps = tuple(AccessPoint(f"ap{e}", 100e6, 100e6, latency_s=0.002, shared=False) for e in range(n_edges))
    edges = tuple(EdgeServer(f"edge{e}", speed_ops_per_s=10e9, workers=1, compute_power_w=50.0, location=f"ap{e}")
                  for e in range(n_edges))
    core = tuple(BackhaulLink(f"ap{e}", "core", 1e9, 0.005) for e in range(n_edges))
    return World(device_groups=tuple(groups), access_points=aps, servers=edges, links=core,
                 policies=tuple(as_policy_spec(p) for p in policies))


def _scaled(dist: Distribution, factor: float) -> Distribution:
    """``dist`` with its unit changed by ``factor`` (seconds → ops at a given speed)."""
    if isinstance(dist, Constant):
        return Constant(dist.value * factor)
    if isinstance(dist, Exponential):
        return Exponential(dist.mean_value * factor)
    return Scaled(dist, factor)
