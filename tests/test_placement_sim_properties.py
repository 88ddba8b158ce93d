"""Hypothesis: on random worlds, every solver's placement (verified by the independent checker inside
:func:`place_world`) turns into a consistent world: one worker per replica, node capacities respected, hosts are
exactly the servers with replicas, routes sum to 1 and only reach hosts, and no replica is loaded beyond the cap.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from offload.profiles import Device
from scheduler.solvers import SOLVERS
from simulator.placement_bridge import NodeOffer, PlacementSettings, ReplicaSpec, place_world, placed_server_name
from simulator.workloads import Poisson
from simulator.world import AccessPoint, BackhaulLink, Cloud, DeviceGroup, EdgeServer, TaskSizes, World


@st.composite
def worlds(draw: st.DrawFn) -> World:
    n_aps = draw(st.integers(1, 3))
    aps = tuple(AccessPoint(f"ap{i}", uplink_bps=draw(st.sampled_from([1e8, 1e9])), latency_s=2e-3, shared=False)
                for i in range(n_aps))
    servers = [EdgeServer(f"e{k}", speed_ops_per_s=draw(st.sampled_from([5e9, 1e10, 2e10])),
                          workers=draw(st.integers(1, 4)), location=f"ap{draw(st.integers(0, n_aps - 1))}")
               for k in range(draw(st.integers(1, 4)))]
    servers.append(Cloud("cloud", speed_ops_per_s=1e10, workers=500))
    links = tuple(BackhaulLink(f"ap{i}", "core", latency_s=1e-3, distance_m=draw(st.floats(0, 50e3)))
                  for i in range(n_aps))
    links += (BackhaulLink("core", "cloud", latency_s=5e-3, distance_m=700e3),)
    sizes = TaskSizes(draw(st.sampled_from([2e8, 1e9])), 1e5, 1e3)  # a service's sizes, as in scenario files
    groups = tuple(DeviceGroup(f"g{j}", draw(st.integers(1, 40)), Device(speed_ops_per_s=1e9),
                               Poisson(draw(st.sampled_from([0.1, 0.5, 1.0]))), f"ap{draw(st.integers(0, n_aps - 1))}",
                               sizes)
                   for j in range(draw(st.integers(1, 4))))
    return World(groups, aps, tuple(servers), links)


@pytest.mark.parametrize("policy", list(SOLVERS))
@given(world=worlds(), cap=st.sampled_from([0.5, 0.8]))
def test_every_solver_gives_a_consistent_placed_world(policy: str, world: World, cap: float) -> None:
    settings = PlacementSettings(policy, target_utilisation=cap,
                                 services={"default": ReplicaSpec(min_replicas=1)},
                                 nodes={"cloud": NodeOffer(cpu_cores=200.0)})
    placed = place_world(world, settings)
    assert placed.check.feasible
    new = placed.world
    workers: dict[str, int] = {}
    for server in new.servers:
        node, _, service = server.name.rpartition("/")
        assert service == "default"
        original = next(s for s in world.servers if s.name == node)
        assert server.node == original.node
        workers[node] = workers.get(node, 0) + server.workers
    for node, count in workers.items():
        limit = 200 if node == "cloud" else next(s.workers for s in world.servers if s.name == node)
        assert count <= limit  # one core per replica, default cores = the node's workers
    hosts = set(new.service("default").hosts)
    assert hosts == {s.name for s in new.servers}
    load: dict[str, float] = {}
    for group in new.device_groups:
        assert math.isclose(sum(share for _, share in group.routes), 1.0, rel_tol=1e-9)
        for server, share in group.routes:
            assert server in hosts
            load[server] = load.get(server, 0.0) + group.count * group.workload.mean_rate_per_s * share * \
                group.task.work_ops.mean  # type: ignore[union-attr]
    for server in new.servers:
        capacity = cap * server.workers * (server.speed_ops_per_s or 0.0)
        assert load.get(server.name, 0.0) <= capacity * (1 + 1e-6)
    assert (placed_server_name("cloud", "default") in hosts) == ("cloud" in workers)
