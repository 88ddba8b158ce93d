"""A replica's resources and speed, against hand computations: GPU and memory requests filter nodes (a replica that
fits nowhere stays pending with the reason), and a request is timed on the node of the replica that serves it, at
that node's speed times the spec's speed share, and recorded with that node as its target."""

from __future__ import annotations

import math

import numpy as np
import pytest

from offload.errors import ParameterError
from offload.profiles import Device
from simulator.lifecycle import Deployment, Image, NodeCapacity, Platform, Registry
from simulator.result import SimulationResult
from simulator.run import run
from simulator.workloads import PeriodicStream
from simulator.world import AccessPoint, BackhaulLink, DeviceGroup, EdgeServer, Service, TaskSizes, World

IMAGE = Image("svc:v1", 8e8)
GB_BITS = 8e9


def _world(fps: float, work_ops: float, speeds: tuple[float, float] = (1e9, 1e9)) -> World:
    group = DeviceGroup("cams", 1, Device(speed_ops_per_s=1e6), PeriodicStream(fps), "ap", TaskSizes(work_ops=work_ops),
                        service="svc")
    servers = tuple(EdgeServer(n, speed_ops_per_s=s, location="site")
                    for n, s in zip(("e1", "e2"), speeds, strict=True))
    return World(device_groups=(group,), access_points=(AccessPoint("ap", math.inf, math.inf),), servers=servers,
                 links=(BackhaulLink("ap", "site"), BackhaulLink("site", "dc", 1e9)),
                 services=(Service("svc", ("e1", "e2")),), policies=("always_edge",))


def _run(world: World, deployment: Deployment, nodes: tuple[NodeCapacity, ...], duration_s: float = 30.0
         ) -> SimulationResult:
    result = run(world, duration_s=duration_s, seed=3,
                 platform=Platform((IMAGE,), (Registry("dc"),), nodes, (deployment,)))
    assert result.platform is not None
    return result


def test_a_request_is_timed_on_the_node_of_the_replica_serving_it() -> None:
    # e1 runs 1 G ops/s, e2 2 G ops/s, each replica gets half: a request of 0.75 G ops takes 1.5 s on e1, 0.75 s on
    # e2. One request a second; the first goes to the oldest replica (e1, placed first), the next finds e1 busy and
    # takes e2 (free again after 0.75 s), the one after finds both free (e1 since 1.5 s) and takes e1 again: the
    # replicas alternate
    deployment = Deployment("svc-v1", "svc", "v1", IMAGE, 2, ("e1", "e2"), speed_share=0.5)
    nodes = tuple(NodeCapacity(n, 4.0, images=(IMAGE.name,)) for n in ("e1", "e2"))
    result = _run(_world(1.0, 0.75e9, (1e9, 2e9)), deployment, nodes)
    records = result.records.sort_values("created_s")
    served = records[~records["dropped"] & records["service_end_s"].notna()]
    assert len(served) > 20
    targets = served["target"].astype(str).to_numpy()
    assert targets.tolist() == ["e1", "e2"] * (len(served) // 2) + ["e1"] * (len(served) % 2)
    took = (served["service_end_s"] - served["service_start_s"]).to_numpy()
    expected = np.where(targets == "e1", 0.75e9 / (1e9 * 0.5), 0.75e9 / (2e9 * 0.5))
    np.testing.assert_allclose(took, expected, rtol=1e-12)
    np.testing.assert_allclose(served["service_start_s"], served["queue_entry_s"], rtol=0, atol=0)


def test_a_replica_that_fits_no_gpu_or_memory_stays_pending_with_the_reason() -> None:
    nodes = (NodeCapacity("e1", 4.0, gpu=1, images=(IMAGE.name,)), NodeCapacity("e2", 4.0))
    deployment = Deployment("svc-v1", "svc", "v1", IMAGE, 2, ("e1", "e2"), gpu=1)
    result = _run(_world(1e-6, 1e6), deployment, nodes)
    assert result.platform is not None
    events = result.platform.events
    assert events[events["kind"] == "ready"]["node"].tolist() == ["e1"]
    assert events[events["kind"] == "pending"]["detail"].tolist() == ["0/2 nodes fit: 2 insufficient gpu"]
    assert result.platform.replicas.iloc[-1][["ready", "pending"]].tolist() == [1, 1]
    # memory: 3 GB a replica on a 4 GB node, cpu to spare; a second node down to 1 core
    nodes = (NodeCapacity("e1", 4.0, memory_bits=4 * GB_BITS), NodeCapacity("e2", 0.5))
    deployment = Deployment("svc-v1", "svc", "v1", IMAGE, 2, ("e1", "e2"), memory_bits=3 * GB_BITS)
    result = _run(_world(1e-6, 1e6), deployment, nodes)
    assert result.platform is not None
    pending = result.platform.events[result.platform.events["kind"] == "pending"]
    assert pending["detail"].tolist() == ["0/2 nodes fit: 1 insufficient memory, 1 insufficient cpu"]


@pytest.mark.parametrize(("field", "value", "rule"), [("gpu", -1, ">= 0"), ("memory_bits", -1.0, ">= 0"),
                                                       ("speed_share", 0.0, "(0, 1]"), ("speed_share", 1.5, "(0, 1]")])
def test_bad_requests_are_refused(field: str, value: float, rule: str) -> None:
    with pytest.raises(ParameterError) as caught:
        Deployment("svc-v1", "svc", "v1", IMAGE, 1, ("e1",), **{field: value})  # type: ignore[arg-type]
    assert field in str(caught.value)
    assert rule in str(caught.value)
