"""Radio links against hand-computed path loss, noise, Shannon rates and SINR (independent arithmetic)."""

import math

import numpy as np
import pytest

from offload.pathloss import RadioModel, free_space_loss_db, path_loss_db, shannon_rate_bps, sinr, thermal_noise_w
from scheduler.geo import great_circle_m, local_xy_m

RADIO = RadioModel(bandwidth_hz=20e6, tx_power_w=0.2, path_loss_exponent=3.5, reference_loss_db=40.0,
                   noise_figure_db=5.0)


def loss_db(distance_m: float) -> float:
    return 40.0 + 35.0 * math.log10(distance_m)


def noise_w() -> float:
    return 1.380649e-23 * 290.0 * 20e6 * 10 ** 0.5  # k T0 B NF


def test_one_device_rate_is_shannon_on_the_path_loss():
    distance = 250.0
    signal = 0.2 * 10 ** (-loss_db(distance) / 10)
    expected = 20e6 * math.log2(1 + signal / noise_w())
    received = RADIO.received_w(np.array([[distance]]))
    value = sinr(received, [0], [1.0], [0], RADIO.noise_w)
    assert float(RADIO.rate_bps(value)[0]) == pytest.approx(expected, rel=1e-12)


def test_two_devices_on_one_channel_each_counts_the_other_exactly():
    # device 0 served by AP 0 at 100 m, device 1 served by AP 1; device 1 is 300 m from AP 0, device 0 400 m from AP 1
    distances = np.array([[100.0, 400.0], [300.0, 120.0]])
    received = RADIO.received_w(distances)
    value = sinr(received, [0, 1], [1.0, 1.0], [0, 0], RADIO.noise_w)
    p = [[0.2 * 10 ** (-loss_db(d) / 10) for d in row] for row in distances]
    assert value[0] == pytest.approx(p[0][0] / (noise_w() + p[1][0]), rel=1e-12)
    assert value[1] == pytest.approx(p[1][1] / (noise_w() + p[0][1]), rel=1e-12)
    # other channel, silent, or the same cell (time-shared): no interference
    alone = [p[0][0] / noise_w(), p[1][1] / noise_w()]
    np.testing.assert_allclose(sinr(received, [0, 1], [1.0, 1.0], [0, 1], RADIO.noise_w), alone, rtol=1e-12)
    assert sinr(received, [0, 1], [1.0, 0.0], [0, 0], RADIO.noise_w)[0] == pytest.approx(alone[0], rel=1e-12)
    assert sinr(received, [0, 0], [1.0, 1.0], [0, 0], RADIO.noise_w)[0] == pytest.approx(alone[0], rel=1e-12)


def test_activity_weights_the_interference_and_many_cells_sum():
    rng = np.random.default_rng(2)
    received = rng.uniform(1e-12, 1e-9, (6, 3))
    serving, active, channel = np.array([0, 1, 2, 0, 1, 2]), rng.random(6), np.array([0, 0, 1])
    value = sinr(received, serving, active, channel, 1e-13)
    for i in range(6):
        a = serving[i]
        others = sum(active[j] * received[j, a] for j in range(6)
                     if serving[j] != a and channel[serving[j]] == channel[a])
        assert value[i] == pytest.approx(received[i, a] / (1e-13 + others), rel=1e-10)


def test_peak_caps_the_rate_and_the_near_field_is_clamped():
    assert float(shannon_rate_bps(1e6, 1e6, 5e6)) == 5e6
    assert float(shannon_rate_bps(3.0, 1e6)) == pytest.approx(2e6)
    assert float(path_loss_db(0.1, exponent=3.0, reference_loss_db=40.0)) == 40.0
    assert float(free_space_loss_db(1000.0, 2e9)) == pytest.approx(
        20 * math.log10(4 * math.pi * 1000.0 * 2e9 / 299_792_458.0))
    assert 10 * math.log10(thermal_noise_w(1.0) * 1e3) == pytest.approx(-173.98, abs=0.01)  # -174 dBm/Hz


def test_shadowing_has_the_stated_spread_and_none_draws_nothing():
    rng = np.random.default_rng(4)
    shadowed = RadioModel(bandwidth_hz=1e6, tx_power_w=1.0, shadowing_db=8.0)
    samples = shadowed.shadowing((20000,), rng)
    assert abs(samples.mean()) < 4 * 8.0 / math.sqrt(20000)
    assert samples.std() == pytest.approx(8.0, rel=0.03)
    state = rng.bit_generator.state
    assert not RADIO.shadowing((3,), rng).any()
    assert rng.bit_generator.state == state


def test_local_plane_matches_great_circle_distances_over_a_city():
    origin = (-37.8136, 144.9631)  # Melbourne
    lat = origin[0] + np.array([0.01, -0.05, 0.08])
    lon = origin[1] + np.array([0.03, 0.07, -0.02])
    xy = local_xy_m(lat, lon, *origin)
    plane = np.hypot(xy[:, 0], xy[:, 1])
    np.testing.assert_allclose(plane, great_circle_m(origin[0], origin[1], lat, lon), rtol=1e-3)


def test_a_transfer_in_the_engine_takes_the_bits_over_the_shannon_rate():
    from offload.profiles import Device
    from simulator.mobility import Area, Trace
    from simulator.mobility.controller import Mobility
    from simulator.mobility.spec import Cell, GroupMotion
    from simulator.run import run
    from simulator.workloads import Trace as TaskTrace
    from simulator.world import AccessPoint, DeviceGroup, EdgeServer, World

    radio = RadioModel(bandwidth_hz=5e6, tx_power_w=0.2, path_loss_exponent=3.5, reference_loss_db=40.0)
    at = Trace(np.array([0.0]), np.array([0]), np.array([[300.0, 50.0]]))  # 250 m from the cell
    spec = Mobility(Area(400.0, 100.0), (Cell("a", (50.0, 50.0), radio=radio),), (GroupMotion("d", at),))
    group = DeviceGroup("d", 1, Device(speed_ops_per_s=1e9), TaskTrace((3.0,), (0,), (0.0,), (8e6,), (0.0,)), "a")
    world = World(device_groups=(group,), access_points=(AccessPoint("a", 100e6),),
                  servers=(EdgeServer("e", speed_ops_per_s=1e9, location="a"),))
    result = run(world, duration_s=20.0, seed=1, mobility=spec)
    record = result.records.iloc[0]
    signal = 0.2 * 10 ** (-loss_db(250.0) / 10)
    rate = 5e6 * math.log2(1 + signal / (1.380649e-23 * 290.0 * 5e6 * 10 ** 0.5))
    assert record["upload_end_s"] - record["upload_start_s"] == pytest.approx(8e6 / rate, rel=1e-9)
    assert result.mobility is not None
    assert result.mobility.iloc[0]["mean_uplink_bps"] == pytest.approx(rate, rel=1e-12)
