"""Battery devices in the simulator: trajectories against hand computation, and the ``lyapunov`` policy (LODCO,
Mao, Zhang, Letaief, IEEE JSAC 2016) against :mod:`offload.lodco` replayed independently on the same inputs."""

import math

import numpy as np
import pytest

from offload.lodco import HarvestingDevice, Mode, perturbation_j, run_lodco, slot_choice
from offload.profiles import Device
from simulator.battery import Battery
from simulator.distributions import Constant, Uniform
from simulator.run import run
from simulator.workloads import PeriodicStream, Trace
from simulator.world import AccessPoint, DeviceGroup, EdgeServer, PolicySpec, TaskSizes, World

SLOT_S = 2e-3


def _world(workload, device, battery, *, deadline_s=math.inf, work=1e6, inp=1000.0, policy="always_local"):
    group = DeviceGroup("sensor", 1, device, workload, "ap", TaskSizes(work_ops=work, input_bits=inp),
                        deadline_s=deadline_s, battery=battery)
    return World(device_groups=(group,), access_points=(AccessPoint("ap", 1e7, 1e7, shared=False),),
                 servers=(EdgeServer("edge", compute_time_s=0.0, location="ap"),),  # LODCO: remote execution is free
                 policies=(PolicySpec(policy) if isinstance(policy, str) else policy,))


def test_always_local_battery_trajectory_and_battery_drops_by_hand():
    # 1 W while computing 1e6 ops at 1e9 ops/s: 1 mJ per task; harvest 0.4 mJ per 10 ms slot, credited at its end
    device = Device(speed_ops_per_s=1e9, compute_power_w=1.0)
    times = tuple(0.005 + 0.010 * k for k in range(12))
    trace = Trace(times, (0,) * 12, (1e6,) * 12, (0.0,) * 12, (0.0,) * 12)
    battery = Battery(capacity_j=2.5e-3, initial_j=2e-3, slot_s=0.010, harvest_j=Constant(0.4e-3))
    result = run(_world(trace, device, battery), duration_s=0.12, seed=0)
    level, ran, expected = 2e-3, [], []
    for _ in times:  # one task in the middle of each slot
        paid = level >= 1e-3
        ran.append(paid)
        level = min(2.5e-3, level - (1e-3 if paid else 0.0) + 0.4e-3)
    records = result.records.sort_values("created_s")
    assert list(~records["dropped"]) == ran
    assert set(records.loc[records["dropped"], "drop_reason"]) == {"battery_empty"}
    assert ran[:3] == [True, True, False]
    # samples at the end of each 10 ms slot see the level after its harvest credit
    series = result.battery.sort_values("time_s")
    level = 2e-3
    for paid in ran:
        level = min(2.5e-3, level - (1e-3 if paid else 0.0) + 0.4e-3)
        expected.append(level)
    sampled = series.set_index("time_s")["battery_j"]
    for k in range(10):  # the sampler wakes every horizon/200 = 0.6 ms; read the sample just after slot k ends
        after = sampled[sampled.index >= 0.010 * (k + 1) + 1e-9].iloc[0]
        assert after == pytest.approx(expected[k], abs=1e-15)
    assert result.policies["always_local"].battery_j == pytest.approx(series["battery_j"].mean(), rel=1e-12)


def test_the_battery_never_exceeds_capacity_nor_goes_negative():
    device = Device(speed_ops_per_s=1e9, compute_power_w=1.0)
    battery = Battery(capacity_j=5e-3, initial_j=0.0, slot_s=0.01, harvest_j=Uniform(0.0, 2e-3))
    result = run(_world(PeriodicStream(30.0, work_fraction=0.5), device, battery), duration_s=5.0, seed=3)
    levels = result.battery["battery_j"]
    assert levels.min() >= 0.0
    assert levels.max() <= 5e-3
    assert levels.max() == pytest.approx(5e-3)  # it does fill up


def _lodco_world(v, workload, *, fading="none", initial_j=0.0, harvest=None, work=737.5e3, inp=1000.0):
    device = Device(speed_ops_per_s=1.5e9)
    battery = Battery(capacity_j=1.0, initial_j=initial_j, slot_s=SLOT_S, harvest_j=harvest or Constant(24e-6))
    policy = PolicySpec("lyapunov", {"v": v, "fading": fading})
    return _world(workload, device, battery, deadline_s=SLOT_S, work=work, inp=inp, policy=policy)


def test_lyapunov_choices_and_battery_equal_lodco_replayed_by_hand():
    v, slots = 1e-5, 600
    sizes = np.random.default_rng(11)
    work = sizes.uniform(2e5, 2.5e6, slots)
    bits = sizes.uniform(200.0, 6000.0, slots)
    times = tuple(SLOT_S * (k + 0.5) for k in range(slots))
    trace = Trace(times, (0,) * slots, tuple(work), tuple(bits), (0.0,) * slots)
    # theta is computed from the group's mean task: give it the trace's means
    world = _lodco_world(v, trace, initial_j=3e-3, work=float(work.mean()), inp=float(bits.mean()))
    result = run(world, duration_s=(slots + 1) * SLOT_S, seed=5)
    records = result.records.sort_values("created_s").reset_index(drop=True)
    model = HarvestingDevice(deadline_s=SLOT_S, slot_s=SLOT_S)
    theta = perturbation_j(HarvestingDevice(work_ops=work.mean(), input_bits=bits.mean(), deadline_s=SLOT_S,
                                            slot_s=SLOT_S), v)
    level = 3e-3
    modes, durations, starts, energies = [], [], [], []
    for k in range(slots):  # slot k: harvest decided at its start, its task pays, the harvest arrives at its end
        harvest = 24e-6 if level <= theta else 0.0
        task = HarvestingDevice(work_ops=work[k], input_bits=bits[k], deadline_s=SLOT_S, slot_s=SLOT_S)
        choice = slot_choice(task, v, level - theta, level, model.mean_gain)
        modes.append(choice.mode)
        durations.append(choice.delay_s)
        starts.append(level)
        energies.append(choice.energy_j)
        level = min(1.0, level - choice.energy_j + harvest)
    local = (records["target"] == "local").to_numpy()
    dropped = (records["drop_reason"] == "policy_drop").to_numpy()
    assert list(np.where(dropped, Mode.DROP, np.where(local, Mode.LOCAL, Mode.OFFLOAD))) == modes
    assert set(modes) == {Mode.LOCAL, Mode.OFFLOAD, Mode.DROP}
    ran = ~dropped
    simulated = np.where(local, records["service_end_s"] - records["service_start_s"],
                         records["upload_end_s"] - records["upload_start_s"])
    np.testing.assert_allclose(simulated[ran], np.asarray(durations)[ran], rtol=1e-9)
    # the records meter the planned DVFS power kappa f^3 or transmit power p: kappa W f^2 and p L / r(p)
    np.testing.assert_allclose(records["energy_j"][ran], np.asarray(energies)[ran], rtol=1e-9)
    for time_s, sampled in zip(result.battery["time_s"], result.battery["battery_j"], strict=True):
        k = math.floor(time_s / SLOT_S)  # in slot k: its start level, less its task if it already arrived
        if k >= slots:
            continue
        expected = starts[k] - (energies[k] if SLOT_S * (k + 0.5) < time_s else 0.0)
        assert sampled == pytest.approx(expected, rel=1e-9, abs=1e-15)


@pytest.mark.slow
def test_v_trades_cost_for_battery_as_in_lodco():
    # Mao et al. 2016, Sec. V-VI: the average cost falls towards its optimum as O(1/V) while the battery LODCO keeps
    # grows as O(V) (it stays near theta = E_max + V phi / E_min). Each run starts at theta (no charging transient)
    # and is compared with offload.lodco.run_lodco, the pure slotted-time function, on its own random stream.
    model = HarvestingDevice(deadline_s=SLOT_S, slot_s=SLOT_S)
    slots = 20_000
    costs, levels, pure_costs, thetas = [], [], [], []
    for v in (1e-5, 1e-4, 1e-3):
        theta = perturbation_j(model, v)
        world = _lodco_world(v, PeriodicStream(1.0 / SLOT_S, work_fraction=0.6), fading="rayleigh",
                             initial_j=theta, harvest=Uniform(0.0, 48e-6))
        result = run(world, duration_s=slots * SLOT_S, seed=2016)
        records = result.records
        cost = (records["latency_s"].where(~records["dropped"], model.drop_penalty_s)).sum() / slots
        pure = run_lodco(model, v, slots, np.random.default_rng(2016), initial_battery_j=theta)
        costs.append(cost)
        pure_costs.append(pure.average_cost_s)
        levels.append(result.battery["battery_j"].mean())
        thetas.append(theta)
        assert result.battery["battery_j"].max() <= theta + 48e-6 + 1e-12  # LODCO's bound B <= theta + E_H^max
    np.testing.assert_allclose(costs, pure_costs, rtol=0.05)
    assert costs[0] > costs[1] > costs[2]
    assert costs[0] - costs[1] > costs[1] - costs[2]  # diminishing returns: the O(1/V) gap closes
    for level, theta in zip(levels, thetas, strict=True):
        assert 0.5 * theta < level <= theta + 48e-6
    assert levels[2] / levels[0] > 20  # battery grows about linearly in V (theta grows 100x here)
