"""Hypothesis properties of the engine, and processor sharing against an independent step-by-step checker."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from offload.profiles import Device
from simulator.builders import REFERENCE_DEVICE
from simulator.distributions import Exponential, Uniform
from simulator.run import run
from simulator.workloads import Poisson, Trace
from simulator.world import (
    AccessPoint,
    BackhaulLink,
    Batching,
    Cloud,
    DeviceGroup,
    EdgeServer,
    PolicySpec,
    TaskSizes,
    World,
)

STAGES = ["created_s", "upload_start_s", "upload_end_s", "queue_entry_s", "service_start_s", "service_end_s",
          "download_start_s", "download_end_s"]

def ps_reference(starts: list[float], sizes: list[float], capacity: float) -> list[float]:
    """Finish times under egalitarian processor sharing, by advancing from event to event with remaining sizes.

    Independent of the engine's virtual-clock method: at each step every active job is served at
    ``capacity / n`` until the next arrival or the next completion.
    """
    order = sorted(range(len(starts)), key=lambda i: starts[i])
    remaining: dict[int, float] = {}
    finish = [math.nan] * len(starts)
    now, k = 0.0, 0
    while k < len(order) or remaining:
        next_arrival = starts[order[k]] if k < len(order) else math.inf
        if remaining:
            rate = capacity / len(remaining)
            job = min(remaining, key=lambda j: remaining[j])
            next_done = now + remaining[job] / rate
        else:
            next_done = math.inf
        t = min(next_arrival, next_done)
        if remaining:
            for j in remaining:
                remaining[j] -= (t - now) * capacity / len(remaining)
        now = t
        if next_done <= next_arrival:
            for j in [j for j, left in remaining.items() if left <= 1e-9 * max(1.0, sizes[j])]:
                finish[j] = now
                del remaining[j]
        else:
            remaining[order[k]] = sizes[order[k]]
            k += 1
    return finish

@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(0.0, 2.0), st.floats(1e4, 2e6)), min_size=1, max_size=25))
def test_shared_uplink_matches_independent_processor_sharing(jobs: list[tuple[float, float]]) -> None:
    starts = [round(s, 3) for s, _ in jobs]
    sizes = [b for _, b in jobs]
    n = len(jobs)
    trace = Trace(tuple(starts), tuple(range(n)), (0.0,) * n, tuple(sizes), (0.0,) * n)
    group = DeviceGroup("d", n, REFERENCE_DEVICE, trace, "ap")
    world = World(device_groups=(group,), access_points=(AccessPoint("ap", 4e6, math.inf),),
                  servers=(EdgeServer("e", compute_time_s=0.0, workers=100, location="ap"),))
    records = run(world, duration_s=100.0, seed=0).records.sort_values("device", key=lambda d: d.cat.codes)
    expected = ps_reference(starts, sizes, 4e6)
    np.testing.assert_allclose(records["upload_end_s"].to_numpy(), expected, rtol=1e-9, atol=1e-9)

@settings(max_examples=25, deadline=None)
@given(rate=st.floats(0.5, 30.0), workers=st.integers(1, 4), mean_work=st.floats(1e7, 5e8),
       uplink=st.sampled_from([1e6, 2e7, math.inf]), shared=st.booleans(), capacity=st.sampled_from([None, 0, 3]),
       batch=st.booleans(), policy=st.sampled_from(["always_edge", "always_local", "queue_aware", "random",
                                                     "latency_rule", "always_cloud"]),
       seed=st.integers(0, 2**16), warmup=st.sampled_from([0.0, 5.0]))
def test_every_run_conserves_tasks_and_orders_stages(rate: float, workers: int, mean_work: float, uplink: float,
                                                     shared: bool, capacity: int | None, batch: bool, policy: str,
                                                     seed: int, warmup: float) -> None:
    device = Device(speed_ops_per_s=2e9, compute_power_w=3.0, idle_power_w=0.4, tx_power_w=1.2, rx_power_w=0.9,
                    tail_energy_j=0.1)
    group = DeviceGroup("d", 3, device, Poisson(rate), "ap",
                        TaskSizes(Exponential(mean_work), Uniform(1e4, 5e5), 2e4), deadline_s=0.5,
                        local_queue_capacity=capacity, drop_expired=capacity == 3)
    edge = EdgeServer("e", speed_ops_per_s=4e9, workers=workers, location="ap", queue_capacity=capacity,
                      batching=Batching(3, 0.01, 0.02) if batch else None)
    world = World(device_groups=(group,), access_points=(AccessPoint("ap", uplink, 5e7, 0.002, shared=shared),),
                  servers=(edge, Cloud("dc", speed_ops_per_s=2e10)), links=(BackhaulLink("ap", "dc", 1e8, 0.02),))
    result = run(world, duration_s=30.0, seed=seed, warmup_s=warmup, policies=[policy])
    r = result.records
    tasks = result.summary["policies"][policy]["tasks"]
    assert tasks["generated"] == len(r) == tasks["completed"] + tasks["dropped"] + tasks["in_flight"]
    assert int(r["dropped"].sum()) == tasks["dropped"]
    assert int(r["in_flight"].sum()) == tasks["in_flight"]
    times = r[STAGES].to_numpy()
    for a, b in zip(range(len(STAGES) - 1), range(1, len(STAGES)), strict=True):
        ok = np.isnan(times[:, a]) | np.isnan(times[:, b]) | (times[:, a] <= times[:, b] + 1e-9)
        assert ok.all(), (STAGES[a], STAGES[b])
    done = r[~r["dropped"] & ~r["in_flight"]]
    np.testing.assert_allclose(done["latency_s"], done["completed_s"] - done["created_s"], atol=1e-12)
    assert (done["completed_s"] <= 30.0 + 1e-9).all()
    assert (r["energy_j"] >= -1e-12).all()
    summary = result.summary["policies"][policy]
    # the offload fraction recomputed from the records: measured tasks (created after the warm-up) that finished,
    # completed or dropped, and the share of them sent off the device
    finished = r[(r["created_s"] >= warmup) & ~r["in_flight"]]
    if len(finished) == 0:
        assert summary["offload_fraction"] is None
    else:
        expected = float((finished["target"] != "local").mean())
        assert summary["offload_fraction"] == pytest.approx(expected, abs=1e-12)
    for value in summary["utilisation"].values():
        assert 0.0 <= value <= 1.0 + 1e-9

@pytest.mark.parametrize("wait_model", ["backlog", "queueing"])
def test_queue_aware_balances_an_overloaded_edge(wait_model: str) -> None:
    # ten devices at 1 task/s; the edge needs 0.1 s per task (rho = 1 if everything goes there), the device 0.15 s
    device = Device(speed_ops_per_s=1e9, compute_power_w=2.0)
    group = DeviceGroup("d", 10, device, Poisson(1.0), "ap", TaskSizes(work_ops=1.5e8))
    world = World(device_groups=(group,), access_points=(AccessPoint("ap", math.inf),),
                  servers=(EdgeServer("e", speed_ops_per_s=1.5e9, location="ap"),))
    aware_spec = PolicySpec("queue_aware", {"wait_model": wait_model})
    s = run(world, duration_s=600.0, warmup_s=50.0, seed=9,
            policies=["always_local", "always_edge", aware_spec]).summary["policies"]
    aware = s["queue_aware"]
    assert 0.2 < aware["offload_fraction"] < 0.9
    assert aware["latency_s"]["mean"] < s["always_local"]["latency_s"]["mean"]
    assert aware["latency_s"]["mean"] < s["always_edge"]["latency_s"]["mean"]

@pytest.mark.parametrize("view", ["system", "device"])
def test_energy_rule_picks_the_cheaper_side(view: str) -> None:
    # local: 2 W x 1 s = 2 J; remote: 1 W x 0.1 s upload, then the edge's 30 W x 0.1 s (system view) or the
    # device idling at 0.1 W for 0.1 s (device view)
    device = Device(speed_ops_per_s=1e9, compute_power_w=2.0, idle_power_w=0.1, tx_power_w=1.0)
    group = DeviceGroup("d", 1, device, Poisson(1.0), "ap", TaskSizes(work_ops=1e9, input_bits=1e6))
    edge = EdgeServer("e", speed_ops_per_s=1e10, compute_power_w=30.0, location="ap")
    world = World(device_groups=(group,), access_points=(AccessPoint("ap", 1e7, shared=False),), servers=(edge,))
    s = run(world, duration_s=30.0, seed=1, policies=[PolicySpec("energy_rule", {"view": view})])
    # system view: 0.1 + 3.0 = 3.1 J > 2 J -> local; device view: 0.1 + 0.01 = 0.11 J < 2 J -> edge
    assert s.summary["policies"]["energy_rule"]["offload_fraction"] == (0.0 if view == "system" else 1.0)
