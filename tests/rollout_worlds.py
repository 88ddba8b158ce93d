"""The small world of the rollout tests: one camera group sending ``fps`` requests per second of ``work_ops`` to a
service ``svc`` on nodes e1, e2 (1 G ops/s each, instant access), both images already on both nodes, the registry
behind a link (only pulls would use it)."""

from __future__ import annotations

import math

import pandas as pd

from offload.profiles import Device
from simulator.lifecycle import Autoscaling, Deployment, Image, NodeCapacity, Platform, Registry, Unready
from simulator.lifecycle.spec import Version
from simulator.lifecycle.versions import Rollout, Strategy
from simulator.result import SimulationResult
from simulator.run import run
from simulator.workloads import PeriodicStream, Poisson
from simulator.world import AccessPoint, BackhaulLink, DeviceGroup, EdgeServer, Service, TaskSizes, World

V1 = Image("svc:v1", 8e8)
V2 = Image("svc:v2", 8e8)
SPEED_OPS_PER_S = 1e9


def world(fps: float, work_ops: float = 1e7, *, poisson: bool = False) -> World:
    """The test world (arrivals periodic, or Poisson of rate ``fps``)."""
    stream = Poisson(fps) if poisson else PeriodicStream(fps)
    group = DeviceGroup("cams", 1, Device(speed_ops_per_s=1e6), stream, "ap", TaskSizes(work_ops=work_ops),
                        service="svc")
    servers = tuple(EdgeServer(n, speed_ops_per_s=SPEED_OPS_PER_S, location="site") for n in ("e1", "e2"))
    return World(device_groups=(group,), access_points=(AccessPoint("ap", math.inf, math.inf),), servers=servers,
                 links=(BackhaulLink("ap", "site"), BackhaulLink("site", "dc", 1e8, 0.02)),
                 services=(Service("svc", ("e1", "e2")),), policies=("always_edge",))


def platform(strategy: Strategy, version: Version, *, replicas: int = 4, at_s: float = 10.0, boot_s: float = 5.0,
             workers: int = 1, autoscaling: Autoscaling | None = None, cpu: float = 4.0) -> Platform:
    """``replicas`` replicas of v1 (ready at ``boot_s``), moved to ``version`` at ``at_s`` by ``strategy``."""
    deployment = Deployment("svc-v1", "svc", "v1", V1, replicas, ("e1", "e2"), boot_s=boot_s, workers=workers,
                            unready=Unready("drop"), autoscaling=autoscaling)
    nodes = tuple(NodeCapacity(n, cpu, images=(V1.name, V2.name)) for n in ("e1", "e2"))
    return Platform((V1, V2), (Registry("dc"),), nodes, (deployment,),
                    rollouts=(Rollout("svc-v1", version, at_s, strategy),))


def simulate(world: World, platform: Platform, duration_s: float, seed: int = 1) -> SimulationResult:
    """One run with the platform (its log present)."""
    result = run(world, duration_s=duration_s, seed=seed, platform=platform)
    assert result.platform is not None
    return result


def times(result: SimulationResult, kind: str, deployment: str | None = None) -> list[float]:
    """Times of the platform's events of ``kind`` (of one deployment)."""
    assert result.platform is not None
    events = result.platform.events
    mine = events[(events["kind"] == kind) & ((events["deployment"] == deployment) if deployment else True)]
    return [float(t) for t in mine["time_s"]]


def combined(replicas: pd.DataFrame) -> list[tuple[float, int, int]]:
    """After every row of the replica series: ``(time, replicas not terminating, ready)`` over all versions."""
    last: dict[str, tuple[int, int]] = {}
    out = []
    for row in replicas.itertuples():
        last[str(row.deployment)] = (int(row.pending + row.pulling + row.starting + row.ready), int(row.ready))
        out.append((float(row.time_s), sum(a for a, _ in last.values()), sum(r for _, r in last.values())))
    return out
