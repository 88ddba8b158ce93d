"""The shared formulas against hand calculations, and every caller against them."""

import math

import numpy as np
import pytest

from offload import Device, Link, Server, Target, Task, task_costs
from offload.formulas import (
    FIBER_DELAY_S_PER_M,
    compute_energy_j,
    compute_time_s,
    device_energy_j,
    offload_device_energy_j,
    offload_system_energy_j,
    propagation_delay_s,
    radio_energy_j,
    round_trip_s,
    transfer_time_s,
)
from offload.runtime import executor_time_s, executors_time_s
from scheduler.geo import fibre_delay_s
from simulator.energy import meter
from simulator.world import BackhaulLink


def test_compute_time_is_work_over_speed_plus_a_fixed_time() -> None:
    assert compute_time_s(3e9, 1.5e9) == pytest.approx(2.0)
    assert compute_time_s(3e9, 1.5e9, 0.25) == pytest.approx(2.25)
    assert compute_time_s(3e9, math.inf, 0.25) == 0.25  # a measured time: the work does not matter
    np.testing.assert_allclose(compute_time_s(np.array([1e9, 4e9]), np.array([2e9, 2e9])), [0.5, 2.0])


def test_executors_time_a_task_by_measured_time_or_by_speed() -> None:
    measured, rated = Server(compute_time_s=0.009), Server(speed_ops_per_s=4e9)
    assert measured.time_s(Task(work_ops=8e9)) == 0.009
    assert rated.time_s(Task(work_ops=8e9)) == pytest.approx(2.0)
    assert measured.time_terms() == (math.inf, 0.009)
    assert rated.time_terms() == (4e9, 0.0)
    np.testing.assert_allclose(executor_time_s(measured, [1e9, 2e9]), [0.009, 0.009])
    np.testing.assert_allclose(executor_time_s(rated, [1e9, 2e9]), [0.25, 0.5])
    np.testing.assert_allclose(executors_time_s([measured, rated], np.array([[1e9], [2e9]])),
                               [[0.009, 0.25], [0.009, 0.5]])


def test_transfer_time_is_bits_over_rate() -> None:
    assert transfer_time_s(8e6, 4e6) == pytest.approx(2.0)
    assert transfer_time_s(8e6, math.inf) == 0.0


def test_fibre_propagation_is_about_4_9_microseconds_per_km_everywhere() -> None:
    assert propagation_delay_s(1000.0) == pytest.approx(4.9e-6)
    assert pytest.approx(FIBER_DELAY_S_PER_M, rel=1e-3) == 1.47 / 299_792_458.0  # refractive index / c
    # every caller uses the one formula, bit for bit
    assert float(fibre_delay_s(250e3, 0.001)) == 0.001 + 250e3 * FIBER_DELAY_S_PER_M
    assert BackhaulLink("a", "b", latency_s=0.001, distance_m=250e3).one_way_s == 0.001 + 250e3 * FIBER_DELAY_S_PER_M
    assert Link(rtt_s=0.02, distance_m=250e3).round_trip_s == 0.02 + 2.0 * 250e3 * FIBER_DELAY_S_PER_M


def test_round_trip_of_a_symmetric_path_is_twice_one_way_plus_extra() -> None:
    assert round_trip_s(0.005) == pytest.approx(0.010)
    assert round_trip_s(0.005, 0.020) == pytest.approx(0.030)
    assert round_trip_s(propagation_delay_s(1000e3)) == pytest.approx(2 * 4.9e-3)


def test_energy_terms_by_hand() -> None:
    assert compute_energy_j(2.0, 3.0) == pytest.approx(6.0)
    radio = radio_energy_j(1.5, 2.0, 0.5, 4.0)  # 1.5 W x 2 s + 0.5 W x 4 s
    assert radio == pytest.approx(5.0)
    assert offload_device_energy_j(radio, 0.25, 8.0, 0.7) == pytest.approx(5.0 + 2.0 + 0.7)
    assert offload_system_energy_j(radio, 40.0, 0.5) == pytest.approx(5.0 + 20.0)


def test_device_energy_of_realised_stages_by_hand() -> None:
    energy = device_energy_j(
        local=np.array([True, False]), compute_s=np.array([3.0, 0.0]), upload_s=np.array([0.0, 2.0]),
        download_s=np.array([0.0, 4.0]), away_s=np.array([0.0, 8.0]), compute_power_w=np.array([2.0, 2.0]),
        tx_power_w=np.array([1.5, 1.5]), rx_power_w=np.array([0.5, 0.5]), idle_power_w=np.array([0.25, 0.25]),
        tail_energy_j=np.array([0.7, 0.7]))
    np.testing.assert_allclose(energy.compute_j, [6.0, 0.0])
    np.testing.assert_allclose(energy.tx_j, [0.0, 3.0])
    np.testing.assert_allclose(energy.rx_j, [0.0, 2.0])
    np.testing.assert_allclose(energy.idle_j, [0.0, 2.0])
    np.testing.assert_allclose(energy.tail_j, [0.0, 0.7])
    np.testing.assert_allclose(energy.total_j, [6.0, 7.7])


def test_the_meter_charges_a_realised_offload_like_the_cost_model_predicts_it() -> None:
    """An offload whose stages took exactly the predicted durations costs the predicted device energy."""
    device = Device(compute_time_s=2.0, compute_power_w=3.0, tx_power_w=1.2, rx_power_w=0.8, idle_power_w=0.3,
                    tail_energy_j=0.5)
    target = Target("edge", Server(compute_time_s=0.25, wait_s=0.125), Link(uplink_bps=8e6, downlink_bps=2e6,
                                                                          rtt_s=0.0625))
    task = Task(input_bits=4e6, output_bits=1e6)
    costs = task_costs(task, device, [target])
    up, down = 0.5, 0.5  # 4 Mb at 8 Mbps, 1 Mb at 2 Mbps
    half_rtt = 0.0625 / 2
    upload_end = 1.0 + up
    queue_entry = upload_end + half_rtt
    service_start = queue_entry + 0.125
    service_end = service_start + 0.25
    download_start = service_end + half_rtt

    def column(*values: float) -> np.ndarray:
        return np.array(values, dtype=np.float64)

    nan = math.nan
    times = {"upload_start_s": column(nan, 1.0), "upload_end_s": column(nan, upload_end),
             "queue_entry_s": column(0.0, queue_entry), "service_start_s": column(0.0, service_start),
             "service_end_s": column(2.0, service_end), "download_start_s": column(nan, download_start),
             "download_end_s": column(nan, download_start + down)}
    powers = {"compute_power_w": column(3.0, 3.0), "tx_power_w": column(1.2, 1.2), "rx_power_w": column(0.8, 0.8),
              "idle_power_w": column(0.3, 0.3), "tail_energy_j": column(0.5, 0.5)}
    energy = meter(times, np.array([True, False]), powers)
    np.testing.assert_allclose(energy["energy_j"], costs.device_energy_j[0], rtol=1e-12)
    terms = sum(energy[name] for name in ("energy_compute_j", "energy_tx_j", "energy_rx_j", "energy_idle_j",
                                          "energy_tail_j"))
    np.testing.assert_allclose(terms, energy["energy_j"], rtol=1e-12)
