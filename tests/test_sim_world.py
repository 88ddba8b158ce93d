"""World construction, size distributions, workloads and routing: checked against their definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from offload.errors import MecsimError, ParameterError
from offload.profiles import Device
from offload.runtime import backlog_wait_s, fair_share_bps, load_from_in_system, table_rate_bps
from simulator.builders import REFERENCE_DEVICE, mm1_world, s100_world
from simulator.distributions import Constant, Empirical, Exponential, LogNormal, Uniform
from simulator.plugins import make_policy
from simulator.policies import POLICIES
from simulator.topology import shortest_paths
from simulator.workloads import OnOff, PeriodicStream, Poisson, Trace, load_trace_csv
from simulator.world import (
    AccessPoint,
    BackhaulLink,
    Batching,
    Cloud,
    DeviceGroup,
    EdgeServer,
    PolicySpec,
    Service,
    TaskSizes,
    ThroughputTable,
    World,
    WorldError,
    world_problems,
)


def _group(**kw: object) -> DeviceGroup:
    args: dict[str, object] = {"name": "g", "count": 2, "device": REFERENCE_DEVICE, "workload": Poisson(1.0),
                               "access_point": "ap"}
    args.update(kw)
    return DeviceGroup(**args)  # type: ignore[arg-type]


def _world(**kw: object) -> World:
    args: dict[str, object] = {"device_groups": [_group()], "access_points": [AccessPoint("ap", 1e7)],
                               "servers": [EdgeServer("e", speed_ops_per_s=1e9, location="ap")]}
    args.update(kw)
    return World(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "dist", [Constant(3.0), Exponential(2.0), Uniform(1.0, 5.0), LogNormal(2.0, 1.5),
             Empirical((1.0, 2.0, 10.0), (0.5, 0.3, 0.2)), Empirical((4.0, 8.0))])
def test_distribution_sample_moments_match_analytic(dist: object) -> None:
    sample = dist.sample(np.random.default_rng(7), 400_000)  # type: ignore[attr-defined]
    mean, var = dist.mean, dist.variance  # type: ignore[attr-defined]
    assert abs(sample.mean() - mean) <= 5 * math.sqrt(var / sample.size) + 1e-12
    if var > 0:
        assert sample.var() == pytest.approx(var, rel=0.1)


def test_distribution_errors_name_the_parameter() -> None:
    with pytest.raises(ParameterError, match=r"high=1\.0: must be >= low"):
        Uniform(2.0, 1.0)
    with pytest.raises(ParameterError, match="mean_value=-1"):
        Exponential(-1.0)
    with pytest.raises(ParameterError, match="weights"):
        Empirical((1.0,), (1.0, 2.0))
    with pytest.raises(ParameterError, match="work_ops"):
        TaskSizes(work_ops="big")  # type: ignore[arg-type]


@pytest.mark.parametrize("workload", [Poisson(5.0), PeriodicStream(10.0, 0.02, 0.3), OnOff(20.0, 0.5, 1.5, 1.0)])
@pytest.mark.parametrize("count", [1, 7])
def test_workload_long_run_rate_per_device(workload: object, count: int) -> None:
    horizon = 4000.0 / count
    rng = np.random.default_rng(3)
    blocks = list(workload.blocks(rng, count, horizon))  # type: ignore[attr-defined]
    times = np.concatenate([b.times_s for b in blocks])
    device = np.concatenate([b.device for b in blocks])
    assert np.all(np.diff(times) >= 0)
    assert times.min() >= 0
    assert times.max() < horizon
    rate = workload.mean_rate_per_s  # type: ignore[attr-defined]
    assert times.size / (horizon * count) == pytest.approx(rate, rel=0.05)
    per_device = np.bincount(device, minlength=count) / horizon
    assert per_device == pytest.approx(np.full(count, rate), rel=0.25)


def test_periodic_stream_without_jitter_is_exactly_periodic() -> None:
    blocks = list(PeriodicStream(4.0).blocks(np.random.default_rng(0), 3, 10.0))
    times = np.concatenate([b.times_s for b in blocks])
    device = np.concatenate([b.device for b in blocks])
    for d in range(3):
        assert np.allclose(np.diff(times[device == d]), 0.25)
        assert (device == d).sum() == 40
    with pytest.raises(ParameterError, match=r"jitter_s.*frame period"):
        PeriodicStream(10.0, jitter_s=0.2)


def test_trace_replay_and_csv(tmp_path: object) -> None:
    path = tmp_path / "trace.csv"  # type: ignore[operator]
    path.write_text("timestamp_s,device,work_ops,input_bits,output_bits\n2.0,1,5,6,7\n0.5,0,1,2,3\n1.0,1,8,9,10\n")
    trace = load_trace_csv(path)
    (block,) = list(trace.blocks(np.random.default_rng(0), 2, 100.0))
    assert block.times_s.tolist() == [0.5, 1.0, 2.0]
    assert block.device.tolist() == [0, 1, 1]
    assert block.work_ops is not None
    assert block.work_ops.tolist() == [1.0, 8.0, 5.0]
    with pytest.raises(ParameterError, match="device index below count"):
        DeviceGroup("g", 1, REFERENCE_DEVICE, trace, "ap")
    bad = tmp_path / "bad.csv"  # type: ignore[operator]
    bad.write_text("timestamp_s,device,work_ops,input_bits,output_bits\n1.0,0,x,1,1\n")
    with pytest.raises(ParameterError, match=r"bad.csv:2: work_ops"):
        load_trace_csv(bad)
    missing = tmp_path / "missing.csv"  # type: ignore[operator]
    missing.write_text("timestamp_s,device\n1.0,0\n")
    with pytest.raises(ParameterError, match="missing trace column"):
        load_trace_csv(missing)
    with pytest.raises(ParameterError, match="one entry per timestamp"):
        Trace((1.0,), (0,), (1.0,), (1.0,), ())


def test_world_rejects_bad_references_naming_them() -> None:
    with pytest.raises(ParameterError, match=r"device_groups\[0\].access_point.*undefined access point"):
        _world(device_groups=[_group(access_point="nowhere")])
    with pytest.raises(ParameterError, match=r"device_groups\[0\].service.*undefined service"):
        _world(device_groups=[_group(service="ocr")])
    with pytest.raises(ParameterError, match=r"services\[0\].hosts.*undefined node"):
        _world(services=[Service("default", hosts=("ghost",))])
    with pytest.raises(ParameterError, match="duplicate name"):
        _world(device_groups=[_group(), _group()])
    with pytest.raises(ParameterError, match="cannot reach any node hosting"):
        _world(servers=[EdgeServer("e", speed_ops_per_s=1e9, location="elsewhere")])
    with pytest.raises(ParameterError, match="count=0"):
        _group(count=0)
    with pytest.raises(ParameterError, match="workers=0"):
        EdgeServer("e", speed_ops_per_s=1.0, workers=0)
    with pytest.raises(ParameterError, match="speed_ops_per_s"):
        EdgeServer("e")
    with pytest.raises(ParameterError, match="max_batch"):
        Batching(0, 0.1, 0.1)
    with pytest.raises(ParameterError, match=r"link\.b"):
        BackhaulLink("a", "a")
    with pytest.raises(ParameterError, match="clients"):
        ThroughputTable((2, 1), (1.0, 2.0))


def test_cloud_is_a_many_worker_server_and_routes_take_the_fastest_path() -> None:
    cloud = Cloud("dc", speed_ops_per_s=1e11)
    assert cloud.tier == "cloud"
    assert cloud.workers == 1000
    world = _world(servers=[EdgeServer("e", speed_ops_per_s=1e9, location="ap"), cloud],
                   links=[BackhaulLink("ap", "r", 1e9, 0.01), BackhaulLink("r", "dc", 1e9, 0.02),
                          BackhaulLink("ap", "dc", 1e9, 0.05)])
    delays = world.delays_s()["ap"]
    assert delays["dc"] == pytest.approx(0.03)
    assert [s.name for s in world.reachable_hosts(world.device_groups[0], world.delays_s())] == ["e", "dc"]
    _, paths = shortest_paths(["ap"], [("ap", "r", 0.01), ("r", "dc", 0.02), ("ap", "dc", 0.05)])
    assert paths["ap"]["dc"] == [(0, True), (1, True)]


def test_routes_take_the_faster_parallel_link_and_record_direction() -> None:
    # two parallel links ap-r (0.03 s listed first, then 0.01 s) and a tie r-dc (both 0.02 s): fastest, then first
    edges = [("ap", "r", 0.03), ("r", "ap", 0.01), ("dc", "r", 0.02), ("r", "dc", 0.02)]
    delays, paths = shortest_paths(["ap", "lonely"], edges)
    assert delays["ap"]["dc"] == pytest.approx(0.03)
    assert paths["ap"]["dc"] == [(1, False), (2, False)]  # link 1 is written r->ap, link 2 dc->r
    assert delays["lonely"] == {"lonely": 0.0}
    assert paths["lonely"] == {"lonely": []}


def test_link_delay_includes_fibre_propagation() -> None:
    assert BackhaulLink("a", "b", latency_s=0.001, distance_m=100e3).one_way_s == pytest.approx(0.001 + 100e3 * 4.9e-9)


def test_policy_registry_errors() -> None:
    with pytest.raises(MecsimError, match="unknown policy 'fastest'; valid policies: always_cloud"):
        make_policy(PolicySpec("fastest"))
    with pytest.raises(ParameterError, match="p=2"):
        make_policy(PolicySpec("random", {"p": 2.0}))
    with pytest.raises(ParameterError, match="policy 'random' params"):
        make_policy(PolicySpec("random", {"q": 0.5}))
    with pytest.raises(ParameterError, match="objective"):
        make_policy(PolicySpec("queue_aware", {"objective": "speed"}))
    with pytest.raises(ParameterError, match="wait_model='guess': must be one of backlog, queueing"):
        make_policy(PolicySpec("queue_aware", {"wait_model": "guess"}))
    assert {"always_local", "always_edge", "always_cloud", "latency_rule", "energy_rule", "queue_aware",
            "random"} <= set(POLICIES)


def test_runtime_helpers_match_their_definitions() -> None:
    assert fair_share_bps(10e6, 4) == pytest.approx(2.5e6)
    assert fair_share_bps(10e6, 0) == pytest.approx(10e6)
    table = ((1, 2, 3, 5, 10, 20), (88e6, 45e6, 30e6, 25e6, 16e6, 10e6))
    assert table_rate_bps(*table, 2) == pytest.approx(45e6)
    assert table_rate_bps(*table, 4) == pytest.approx(27.5e6)
    assert table_rate_bps(*table, 40) == pytest.approx(20 * 10e6 / 40)
    assert backlog_wait_s(5, 2, 0.1) == pytest.approx(4 * 0.1 / 2)
    assert backlog_wait_s(1, 2, 0.1) == 0.0
    # inverting the M/M/1 mean number in system N = rho / (1 - rho)
    rho = load_from_in_system(4.0, 1)
    assert rho / (1 - rho) == pytest.approx(4.0)
    assert load_from_in_system(0.0, 3) == 0.0


def test_builders_produce_valid_worlds() -> None:
    world = s100_world()
    assert world.n_devices == 100
    assert len(world.servers) == 10
    assert mm1_world().device_groups[0].workload.mean_rate_per_s == 8.0
    assert isinstance(REFERENCE_DEVICE, Device)


def test_world_reports_every_cross_reference_problem_at_once_with_its_path() -> None:
    with pytest.raises(WorldError) as caught:
        _world(device_groups=[_group(access_point="apx", service="ocr"), _group()],
               services=[Service("default", hosts=("ghost",))])
    problems = caught.value.problems
    assert [(p.path, p.value) for p in problems] == [
        (("device_groups", 1, "name"), "g"), (("device_groups", 0, "access_point"), "apx"),
        (("device_groups", 0, "service"), "ocr"), (("services", 0, "hosts", 0), "ghost")]
    assert "did you mean 'ap'?" in problems[1].rule
    assert str(caught.value).splitlines()[3] == "services[0].hosts[0]: 'ghost': undefined node (defined: e)"
    assert list(world_problems(_world())) == []
