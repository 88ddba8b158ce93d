"""DNN split points (Neurosurgeon): the model against a brute-force loop, its published qualitative result, the
bundled profiles against the papers' multiply-accumulate and parameter counts, the roofline."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from offload.decision import EnergyView, Objective
from offload.errors import ParameterError
from offload.split import (
    LayerProfile,
    SplitLink,
    SplitPower,
    best_split,
    profile_from_layers,
    roofline_time_s,
    split_costs,
)
from simulator.dnn.profile import layer_profile, read_profile
from simulator.dnn.zoo import DATA_DIR, NETWORKS, write_profiles

# (MACs, parameters) as published: Sze et al., Proc. IEEE 2017, Table II (AlexNet 724M / 61M, VGG-16 15.5G / 138M);
# He et al., CVPR 2016, Table 1 (ResNet-18 1.8e9 multiply-adds) with 11.7M parameters (torchvision's count);
# Sandler et al., CVPR 2018, Table 4 (MobileNetV2 300M multiply-adds, 3.4M parameters).
PUBLISHED = {"alexnet": (724e6, 61e6), "vgg16": (15.5e9, 138e6), "resnet18": (1.8e9, 11.7e6),
             "mobilenetv2": (300e6, 3.4e6)}


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_bundled_totals_match_published_counts(name):
    layers = NETWORKS[name]()
    macs, params = PUBLISHED[name]
    assert sum(layer.macs for layer in layers) == pytest.approx(macs, rel=0.01)
    # MobileNetV2's paper rounds 3.47M (with batch norm, as counted here) down to 3.4M
    assert sum(layer.params for layer in layers) == pytest.approx(params, rel=0.035)


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_shipped_profiles_are_what_the_script_writes(tmp_path, name):
    write_profiles(tmp_path)
    assert (tmp_path / f"{name}.csv").read_text() == (DATA_DIR / f"{name}.csv").read_text()


def test_known_shapes():
    # AlexNet: conv1 55×55×96 float32, pool5 6×6×256; 227×227×3 bytes of input
    alexnet = {layer.name: layer for layer in NETWORKS["alexnet"]()}
    assert alexnet["input"].row()["output_bytes"] == 227 * 227 * 3
    assert alexnet["conv1"].row()["output_bytes"] == 55 * 55 * 96 * 4
    assert alexnet["pool5"].output_elements == 6 * 6 * 256
    assert alexnet["fc6"].macs == 9216 * 4096


def _profile(device, edge, outputs, input_bits):
    return profile_from_layers([f"l{i}" for i in range(len(device))], input_bits=input_bits,
                               output_bits=outputs, device_time_s=device, edge_time_s=edge)


def _brute_force(device, edge, outputs, input_bits, up, down, rtt, load, power):
    """Each split's latency and energies by plain loops, straight from the model's definition."""
    rows = []
    n = len(device)
    for k in range(n + 1):
        local_s = sum(device[:k])
        if k == n:
            rows.append((local_s, power.compute_power_w * local_s, power.compute_power_w * local_s))
            continue
        sent = input_bits if k == 0 else outputs[k - 1]
        upload, download, edge_s = sent / up, outputs[-1] / down, sum(edge[k:])
        latency = local_s + upload + rtt + load * edge_s + download
        radio = power.tx_power_w * upload + power.rx_power_w * download
        device_j = (power.compute_power_w * local_s + radio + power.idle_power_w * (rtt + load * edge_s)
                    + power.tail_energy_j)
        system_j = power.compute_power_w * local_s + radio + power.server_compute_power_w * edge_s
        rows.append((latency, device_j, system_j))
    return np.array(rows)


layer_lists = st.integers(1, 8).flatmap(lambda n: st.tuples(
    st.lists(st.floats(0, 1), min_size=n, max_size=n), st.lists(st.floats(0, 0.1), min_size=n, max_size=n),
    st.lists(st.floats(0, 1e7), min_size=n, max_size=n)))


@given(layers=layer_lists, input_bits=st.floats(0, 1e7), up=st.floats(1e4, 1e9), down=st.floats(1e4, 1e9),
       rtt=st.floats(0, 0.2), load=st.floats(1, 4))
def test_costs_match_brute_force_and_best_is_the_argmin(layers, input_bits, up, down, rtt, load):
    device, edge, outputs = layers
    power = SplitPower(5.0, 1.2, 0.9, 0.4, 0.3, 60.0)
    costs = split_costs(_profile(device, edge, outputs, input_bits), SplitLink(up, down, rtt, load), power)
    expected = _brute_force(device, edge, outputs, input_bits, up, down, rtt, load, power)
    np.testing.assert_allclose(costs.latency_s[:, 0], expected[:, 0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(costs.device_energy_j[:, 0], expected[:, 1], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(costs.system_energy_j[:, 0], expected[:, 2], rtol=1e-12, atol=1e-15)
    for objective, view in ((Objective.LATENCY, EnergyView.DEVICE), (Objective.ENERGY, EnergyView.DEVICE),
                            (Objective.ENERGY, EnergyView.SYSTEM)):
        best = best_split(_profile(device, edge, outputs, input_bits), SplitLink(up, down, rtt, load), power,
                          objective=objective, view=view)
        table = costs.objective(objective, view)[:, 0]
        assert best.index[0] == int(np.argmin(table))
        assert best.value[0] == table.min()


@given(layers=layer_lists, input_bits=st.floats(0, 1e7), slow=st.floats(1e4, 1e8), factor=st.floats(1, 1e3),
       rtt=st.floats(0, 0.2))
def test_more_bandwidth_never_hurts_and_never_moves_the_cut_to_sending_less(layers, input_bits, slow, factor, rtt):
    # Every split's latency is non-increasing in bandwidth; and the best split's traffic (bits up + down) is
    # non-decreasing (an exchange argument: latency is a + bits / B per split)
    device, edge, outputs = layers
    profile = _profile(device, edge, outputs, input_bits)
    links = SplitLink(np.array([slow, slow * factor]), np.array([slow, slow * factor]), rtt)
    costs = split_costs(profile, links)
    assert (costs.latency_s[:, 1] <= costs.latency_s[:, 0]).all()
    sent = np.concatenate(([input_bits], outputs[:-1])) + outputs[-1]
    traffic = np.append(sent, 0.0)
    best = best_split(profile, links).index
    assert traffic[best[1]] >= traffic[best[0]]


@given(layers=layer_lists, input_bits=st.floats(0, 1e7))
def test_free_network_extremes(layers, input_bits):
    # With an infinitely fast network and no round trip, an edge at least as fast on every layer takes everything
    # (split after input); an edge slower on every layer takes nothing (all local)
    device, edge, outputs = layers
    free = SplitLink(math.inf, math.inf, 0.0)
    faster = _profile(device, np.minimum(edge, device), outputs, input_bits)
    latency = split_costs(faster, free).latency_s[:, 0]  # (sums in different orders may differ by rounding)
    assert latency[0] <= best_split(faster, free).value[0] * (1 + 1e-12)
    slower = _profile(device, np.array(device) + np.array(edge) + 1e-3, outputs, input_bits)
    best = best_split(slower, free)
    assert best.index[0] == len(device)


@pytest.mark.parametrize("name", ["alexnet", "vgg16", "resnet18", "mobilenetv2"])
def test_neurosurgeon_best_split_moves_towards_the_input_as_bandwidth_grows(name):
    # Kang et al., ASPLOS 2017, Fig. 7-9: as the uplink improves, the best split moves from all-local to earlier
    # layers and finally to full offload (here a 10 GFLOPS device CPU, a 10 TFLOPS edge, 10 ms RTT)
    layers = layer_profile(read_profile(name), device_speed_ops_per_s=1e10, edge_speed_ops_per_s=1e13)
    uplinks = np.geomspace(1e4, 1e10, 400)
    best = best_split(layers, SplitLink(uplinks, uplinks, 0.01)).index
    assert best[0] == len(layers.names)  # 10 kbps: all local
    assert best[-1] == 0  # 10 Gbps: full offload
    assert (np.diff(best) <= 0).all()


def test_roofline_and_memory_bound_fully_connected_layers():
    assert roofline_time_s(2e9, 8e9, 1e9, 4e9) == 2.0  # compute-bound: 2 s vs 2 s -> max
    assert roofline_time_s(1e9, 8e10, 1e9, 8e9) == 10.0  # memory-bound
    table = read_profile("alexnet")
    ops, memory = table.columns["ops"], table.columns["memory_bytes"] * 8
    names = list(table.names)
    # a phone: 100 GFLOPS, 10 GB/s; fc6 streams 151 MB of weights: memory-bound; conv2 is compute-bound
    compute_s, memory_s = ops / 1e11, memory / 8e10
    assert memory_s[names.index("fc6")] > 10 * compute_s[names.index("fc6")]
    assert compute_s[names.index("conv2")] > memory_s[names.index("conv2")]


def test_energy_views_on_a_two_layer_example():
    # l0: 1 s device, 0.1 s edge; l1: 1 s device, 0.1 s edge; input 8 Mbit, l0 out 1 Mbit, result 0.1 Mbit; 1 Mbps
    profile = _profile([1.0, 1.0], [0.1, 0.1], [1e6, 1e5], 8e6)
    power = SplitPower(compute_power_w=2.0, tx_power_w=1.0, rx_power_w=0.5, idle_power_w=0.1, tail_energy_j=0.2,
                       server_compute_power_w=50.0)
    costs = split_costs(profile, SplitLink(1e6, 1e6, 0.05, 2.0), power)
    # after l0: 1 s local + 1 s upload + 0.05 RTT + 2 x 0.1 s edge + 0.1 s download
    assert costs.latency_s[1, 0] == pytest.approx(2.35)
    assert costs.device_energy_j[1, 0] == pytest.approx(2.0 + 1.0 + 0.05 + 0.1 * 0.25 + 0.2)
    assert costs.system_energy_j[1, 0] == pytest.approx(2.0 + 1.0 + 0.05 + 50 * 0.1)
    assert costs.latency_s[2, 0] == costs.device_energy_j[2, 0] / 2.0 == 2.0
    assert costs.after == ("input", "l0", "l1")


def test_profile_and_link_rules():
    with pytest.raises(ParameterError, match="at least one layer"):
        LayerProfile((), 1.0, np.array([]), np.array([]), np.array([]))
    with pytest.raises(ParameterError, match=r"device_time_s=-1\.0: must be >= 0"):
        _profile([-1.0], [0.1], [1.0], 1.0)
    with pytest.raises(ParameterError, match=r"uplink_bps=0\.0: must be > 0"):
        SplitLink(0.0)
    with pytest.raises(ParameterError, match="must be >= 1"):
        SplitLink(1e6, server_load=0.5)
    with pytest.raises(ParameterError, match="latency or energy"):
        best_split(_profile([1.0], [0.1], [1.0], 1.0), SplitLink(1e6), objective=Objective.WEIGHTED)


def test_best_split_over_many_pairs_equals_the_table_argmin():
    # more pairs than one cache block: every block must agree with the full table
    rng = np.random.default_rng(3)
    profile = _profile(rng.uniform(0, 0.05, 6), rng.uniform(0, 0.005, 6), rng.uniform(1e3, 1e7, 6), 1.2e6)
    uplinks = np.exp(rng.uniform(np.log(1e5), np.log(1e9), 70_000))
    link = SplitLink(uplinks, uplinks, 0.01, rng.uniform(1, 3, 70_000))
    power = SplitPower(4.0, 1.3, 1.0, 0.3, 0.5)
    costs = split_costs(profile, link, power)
    for objective in (Objective.LATENCY, Objective.ENERGY):
        best = best_split(profile, link, power, objective=objective)
        table = costs.objective(objective, EnergyView.DEVICE)
        assert np.array_equal(best.index, np.argmin(table, axis=0))
        assert np.array_equal(best.value, table.min(axis=0))
