"""The downlink's radio model against hand-computed path loss, noise, Shannon rates and SINR (independent
arithmetic), in the pure functions, in the engine's download times, in what policies see, and in scenario files."""

import math
import re
from typing import ClassVar

import numpy as np
import pytest
from click.testing import CliRunner
from scenario_files import write_scenario

from offload.errors import ParameterError
from offload.pathloss import RadioModel, downlink_sinr
from offload.profiles import Device
from simulator.cli import main
from simulator.mobility import Area, Trace
from simulator.mobility.controller import Mobility
from simulator.mobility.radio import CellRadios
from simulator.mobility.spec import Cell, GroupMotion
from simulator.policies import Candidate, DecisionBatch
from simulator.run import run
from simulator.scenario import ScenarioError, load_scenario, simulate
from simulator.workloads import Trace as TaskTrace
from simulator.world import AccessPoint, BackhaulLink, DeviceGroup, EdgeServer, PolicySpec, World

B_HZ = 5e6
AP_W = 1.0
CELL_DOWN_BPS = 100e6


def gain(distance_m: float) -> float:
    return 10 ** (-(40.0 + 35.0 * math.log10(distance_m)) / 10)  # PL(1 m) = 40 dB, n = 3.5


def noise_w(figure_db: float) -> float:
    return 1.380649e-23 * 290.0 * B_HZ * 10 ** (figure_db / 10)  # k T0 B NF


def shannon_bps(sinr: float) -> float:
    return B_HZ * math.log2(1 + sinr)


def radio(**extra: float) -> RadioModel:
    return RadioModel(bandwidth_hz=B_HZ, tx_power_w=0.2, path_loss_exponent=3.5, reference_loss_db=40.0,
                      **{"downlink_power_w": AP_W, **extra})  # type: ignore[arg-type]


def test_one_device_one_access_point_rate_is_shannon_on_the_path_loss_at_the_device_noise_figure():
    model = radio()
    received = model.downlink_received_w(np.array([[250.0]]))
    assert float(received[0, 0]) == pytest.approx(AP_W * gain(250.0), rel=1e-12)
    value = downlink_sinr(received, [0], [1.0], [0], model.device_noise_w)
    assert float(model.downlink_rate_bps(value)[0]) == pytest.approx(
        shannon_bps(AP_W * gain(250.0) / noise_w(9.0)), rel=1e-12)  # the UE's 9 dB, not the AP's 5 dB
    # the cap binds below the Shannon rate, not above it
    assert float(radio(downlink_peak_bps=2e6).downlink_rate_bps(value)[0]) == 2e6
    assert float(radio(downlink_peak_bps=1e9).downlink_rate_bps(value)[0]) == pytest.approx(
        shannon_bps(AP_W * gain(250.0) / noise_w(9.0)), rel=1e-12)


def test_two_access_points_on_one_channel_each_device_counts_the_other_access_point_exactly():
    # device 0 served by AP 0 (100 m; AP 1 at 400 m), device 1 by AP 1 (120 m; AP 0 at 300 m); APs at 1 W and 4 W
    distances = np.array([[100.0, 400.0], [300.0, 120.0]])
    power = np.array([1.0, 4.0])
    received = power[None, :] * np.vectorize(gain)(distances)
    n = noise_w(9.0)
    value = downlink_sinr(received, [0, 1], [1.0, 1.0], [0, 0], n)
    assert value[0] == pytest.approx(1.0 * gain(100.0) / (n + 4.0 * gain(400.0)), rel=1e-12)
    assert value[1] == pytest.approx(4.0 * gain(120.0) / (n + 1.0 * gain(300.0)), rel=1e-12)
    alone = [1.0 * gain(100.0) / n, 4.0 * gain(120.0) / n]
    # another channel, or a silent access point: no interference
    np.testing.assert_allclose(downlink_sinr(received, [0, 1], [1.0, 1.0], [0, 1], n), alone, rtol=1e-12)
    assert downlink_sinr(received, [0, 1], [1.0, 0.0], [0, 0], n)[0] == pytest.approx(alone[0], rel=1e-12)
    # both devices in cell 0 (time-shared): its own transmissions never interfere, only the other cell's
    np.testing.assert_allclose(downlink_sinr(received, [0, 0], [1.0, 0.0], [0, 0], n),
                               [gain(100.0) / n, gain(300.0) / n], rtol=1e-12)
    assert downlink_sinr(received, [0, 0], [1.0, 1.0], [0, 0], n)[1] == pytest.approx(
        gain(300.0) / (n + 4.0 * gain(120.0)), rel=1e-12)


def test_activity_weights_the_interference_and_many_access_points_sum():
    rng = np.random.default_rng(5)
    received = rng.uniform(1e-12, 1e-9, (7, 4))
    serving, active, channel = np.array([0, 1, 2, 3, 0, 2, 1]), rng.random(4), np.array([0, 0, 1, 0])
    noise = rng.uniform(1e-14, 1e-13, 7)
    value = downlink_sinr(received, serving, active, channel, noise)
    for i in range(7):
        a = serving[i]
        others = sum(active[b] * received[i, b] for b in range(4) if b != a and channel[b] == channel[a])
        assert value[i] == pytest.approx(received[i, a] / (noise[i] + others), rel=1e-10)


def test_cell_radios_count_a_cell_as_transmitting_when_one_of_its_devices_receives():
    # cells 0 and 1 on one channel (1 W and 2 W), cell 2 without a downlink model; three devices
    cells = [radio(), radio(downlink_power_w=2.0), RadioModel(bandwidth_hz=B_HZ, tx_power_w=0.2)]
    radios = CellRadios(cells, 3, np.random.default_rng(0))
    distance = np.array([[200.0, 500.0, 900.0], [600.0, 150.0, 800.0], [700.0, 300.0, 100.0]])
    serving = np.array([0, 1, 2])
    n = noise_w(9.0)
    radios.update(distance, serving, np.zeros(3), np.array([0.0, 1.0, 1.0]))  # device 1 receives: cell 1 is on
    assert radios.down_bps[0] == pytest.approx(shannon_bps(gain(200.0) / (n + 2.0 * gain(500.0))), rel=1e-12)
    assert radios.down_bps[1] == pytest.approx(shannon_bps(2.0 * gain(150.0) / n), rel=1e-12)  # cell 0 silent
    assert math.isnan(radios.down_bps[2])  # no downlink model: the cell's rate
    radios.update(distance, serving, np.zeros(3), np.array([1.0, 0.0, 0.0]))
    assert radios.down_bps[0] == pytest.approx(shannon_bps(gain(200.0) / n), rel=1e-12)
    assert radios.down_bps[1] == pytest.approx(shannon_bps(2.0 * gain(150.0) / (n + gain(600.0))), rel=1e-12)


def test_shadowing_is_one_draw_per_device_and_cell_for_both_directions():
    shadowed = radio(shadowing_db=8.0)
    radios = CellRadios([shadowed], 1, np.random.default_rng(3))
    x_db = float(np.random.default_rng(3).normal(0.0, 8.0, (1,))[0])
    radios.update(np.array([[250.0]]), np.array([0]), np.zeros(1), np.zeros(1))
    g = gain(250.0) * 10 ** (-x_db / 10)
    assert radios.up_bps[0] == pytest.approx(shannon_bps(0.2 * g / noise_w(5.0)), rel=1e-12)
    assert radios.down_bps[0] == pytest.approx(shannon_bps(AP_W * g / noise_w(9.0)), rel=1e-12)


def test_bad_parameters_are_rejected():
    with pytest.raises(ParameterError, match="downlink_power_w"):
        radio(downlink_power_w=0.0)
    with pytest.raises(ParameterError, match="downlink_peak_bps"):
        radio(downlink_peak_bps=-1.0)


# -- in the engine ---------------------------------------------------------------------------------------------------
def two_cell_run(downlink: RadioModel, tasks: TaskTrace, *, count: int = 1,
                 at: list[tuple[float, float]] | None = None, cell_down_bps: float = CELL_DOWN_BPS,
                 policies: tuple[str | PolicySpec, ...] = ("always_edge",)):
    """Cells a at (250, 50) and b at (1250, 50) on one channel, both with ``downlink`` as their radio, devices
    standing at ``at`` (default: 250 m from a); one server at each cell."""
    positions = at or [(500.0, 50.0)]
    still = Trace(np.zeros(len(positions)), np.arange(len(positions)), np.array(positions))
    spec = Mobility(Area(2000.0, 100.0), (Cell("a", (250.0, 50.0), radio=downlink),
                                          Cell("b", (1250.0, 50.0), radio=downlink)), (GroupMotion("d", still),))
    group = DeviceGroup("d", count, Device(speed_ops_per_s=1e9), tasks, "a")
    world = World(device_groups=(group,),
                  access_points=(AccessPoint("a", 100e6, cell_down_bps), AccessPoint("b", 100e6, cell_down_bps)),
                  servers=(EdgeServer("ea", speed_ops_per_s=1e9, location="a"),
                           EdgeServer("eb", speed_ops_per_s=1e9, location="b")),
                  links=(BackhaulLink("a", "b", latency_s=0.01),), policies=policies)
    return run(world, duration_s=20.0, seed=1, mobility=spec)


def download_s(record) -> float:
    return float(record["download_end_s"] - record["download_start_s"])


def test_a_download_takes_the_bits_over_the_shannon_rate_and_the_cap_when_it_binds():
    task = TaskTrace((3.5,), (0,), (1e6,), (1e4,), (8e6,))
    rate = shannon_bps(AP_W * gain(250.0) / noise_w(9.0))
    result = two_cell_run(radio(), task)
    assert download_s(result.records.iloc[0]) == pytest.approx(8e6 / rate, rel=1e-9)
    assert result.mobility is not None
    assert result.mobility.iloc[0]["mean_downlink_bps"] == pytest.approx(rate, rel=1e-12)
    capped = two_cell_run(radio(downlink_peak_bps=2e6), task)
    assert download_s(capped.records.iloc[0]) == pytest.approx(8e6 / 2e6, rel=1e-9)


def test_another_cell_transmitting_at_the_step_lowers_the_rate_by_its_received_power_exactly():
    # device 1 stands 250 m from b and downloads 50 Mbit from t = 0.5 s (alone: ~5 s, in flight at the step at
    # t = 3 s); device 0 downloads 8 Mbit after 3.5 s, at the rate of the step at 3 s: b's power 750 m away counts
    tasks = TaskTrace((0.5, 3.5), (1, 0), (1e6, 1e6), (1e4, 1e4), (50e6, 8e6))
    result = two_cell_run(radio(), tasks, count=2, at=[(500.0, 50.0), (1000.0, 50.0)])
    records = result.records.sort_values("created_s")
    n = noise_w(9.0)
    first, second = records.iloc[0], records.iloc[1]
    assert download_s(first) == pytest.approx(50e6 / shannon_bps(gain(250.0) / n), rel=1e-9)  # nobody else on
    assert first["download_end_s"] > 4.0 > 3.0 > first["download_start_s"]
    rate = shannon_bps(gain(250.0) / (n + gain(750.0)))
    assert download_s(second) == pytest.approx(8e6 / rate, rel=1e-9)
    assert 8e6 / rate > 1.01 * 8e6 / shannon_bps(gain(250.0) / n)  # the interference is not negligible


def test_without_downlink_power_a_download_keeps_the_cells_rate():
    task = TaskTrace((3.5,), (0,), (1e6,), (1e4,), (8e6,))
    plain = RadioModel(bandwidth_hz=B_HZ, tx_power_w=0.2, path_loss_exponent=3.5, reference_loss_db=40.0)
    result = two_cell_run(plain, task)
    assert download_s(result.records.iloc[0]) == pytest.approx(8e6 / CELL_DOWN_BPS, rel=1e-12)
    assert result.mobility is not None
    assert math.isnan(result.mobility.iloc[0]["mean_downlink_bps"])
    # the uplink is modelled as before
    up = shannon_bps(0.2 * gain(250.0) / noise_w(5.0))
    record = result.records.iloc[0]
    assert record["upload_end_s"] - record["upload_start_s"] == pytest.approx(1e4 / up, rel=1e-9)


def test_a_downlink_model_needs_a_finite_cell_downlink():
    with pytest.raises(ParameterError, match="finite downlink_bps"):
        two_cell_run(radio(), TaskTrace((3.5,), (0,), (1e6,), (1e4,), (8e6,)), cell_down_bps=math.inf)


class Watching:
    """A stateful policy that keeps what it is shown and offloads to the first candidate."""

    stateful = True
    seen: ClassVar[list[tuple[float, float, float, float]]] = []

    def choose(self, batch: DecisionBatch, observed, rng) -> np.ndarray:
        first: Candidate = batch.candidates[0]
        Watching.seen.append((first.uplink_bps, first.downlink_bps, float(observed.uplink_bps[0]),
                              float(observed.downlink_bps[0])))
        return np.ones(batch.work_ops.size, dtype=np.intp)


def test_policies_see_the_modelled_downlink_at_the_device_position():
    Watching.seen = []
    two_cell_run(radio(), TaskTrace((3.5,), (0,), (1e6,), (1e4,), (8e6,)),
                 policies=(PolicySpec("test_mobility_downlink:Watching"),))
    up = shannon_bps(0.2 * gain(250.0) / noise_w(5.0))
    down = shannon_bps(AP_W * gain(250.0) / noise_w(9.0))
    ((batch_up, batch_down, seen_up, seen_down),) = Watching.seen
    assert (batch_up, batch_down) == (pytest.approx(up, rel=1e-12), pytest.approx(down, rel=1e-12))
    assert (seen_up, seen_down) == (pytest.approx(up, rel=1e-12), pytest.approx(down, rel=1e-12))


# -- in scenario files -----------------------------------------------------------------------------------------------
SCENARIO = """\
name: downlink
run: {duration: 20 s, seed: 3}
area: {width: 2 km, height: 100 m}
services: [{name: detect, work: 1M, input: 10 kbit, output: 8 Mbit, hosts: [ea]}]
access_points:
  - name: a
    uplink: 100 Mbps
    downlink: 100 Mbps
    shared: false
    position: [250, 50]
    radio: {bandwidth: 5 MHz, tx_power: 200 mW, path_loss_exponent: 3.5, reference_loss_db: 40,
            downlink_power: 1 W}
nodes: [{name: ea, speed: 1 GHz, location: a}]
devices:
  - {name: d, count: 1, access_point: a, profile: {speed: 1 GHz}, workload: 1/s,
     mobility: {model: trace, trace: at.csv}}
policies: [always_edge]
"""


def scenario_path(tmp_path, text: str = SCENARIO):
    (tmp_path / "at.csv").write_text("time,device,x,y\n0,0,500,50\n", encoding="utf-8")
    return write_scenario(tmp_path, text)


def test_a_scenario_with_downlink_power_downloads_at_the_modelled_rate(tmp_path):
    scenario = load_scenario(scenario_path(tmp_path))
    assert scenario.mobility is not None
    model = scenario.mobility.cells[0].radio
    assert model is not None
    assert (model.downlink_power_w, model.downlink_peak_bps, model.device_noise_figure_db) == (1.0, math.inf, 9.0)
    records = simulate(scenario).records.dropna(subset=["download_end_s"])
    assert len(records) > 10
    rate = shannon_bps(AP_W * gain(250.0) / noise_w(9.0))
    np.testing.assert_allclose(records["download_end_s"] - records["download_start_s"], 8e6 / rate, rtol=1e-9)
    keyed = load_scenario(scenario_path(tmp_path, SCENARIO.replace(
        "downlink_power: 1 W}", "downlink_power: 1 W, downlink_peak: 2 Mbps, device_noise_figure_db: 7}")))
    assert keyed.mobility is not None
    model = keyed.mobility.cells[0].radio
    assert model is not None
    assert (model.downlink_peak_bps, model.device_noise_figure_db) == (2e6, 7.0)


@pytest.mark.parametrize(("old", "new", "message"), [
    ("downlink_power: 1 W", "downlink_power: 0 W", "access_points[0].radio.downlink_power: 0.0: must be > 0"),
    ("downlink_power: 1 W", "downlink_peak: 2 Mbps", ("access_points[0].radio.downlink_peak: 2000000.0: only with "
                                                     "downlink_power")),
    ("downlink_power: 1 W", "device_noise_figure_db: 7", ("radio.device_noise_figure_db: 7.0: only with "
                                                         "downlink_power")),
    ("    downlink: 100 Mbps\n", "", "access_points[0].radio.downlink_power: 1.0: needs the access point's downlink"),
    ("downlink_power: 1 W", "downlink_power: loud", "access_points[0].radio.downlink_power"),
])
def test_bad_downlink_input_is_one_file_line_error_in_validate_and_simulate(tmp_path, old, new, message):
    assert old in SCENARIO
    text = SCENARIO.replace(old, new)
    key = re.search(r"radio\.(\w+)", message).group(1)  # type: ignore[union-attr]
    line = 1 + text[:text.index(f"{key}:")].count("\n")  # the key's own line
    path = scenario_path(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    found = str(info.value).splitlines()
    assert any(message in text for text in found), found
    assert all(re.match(r"^\S*\.yaml:\d+: ", text) for text in found), found
    assert any(f".yaml:{line}: " in text for text in found if message in text), found
    for command in ("validate", "simulate"):
        result = CliRunner().invoke(main, [command, str(path)])
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output


def test_a_transfer_resumed_at_a_handover_without_interruption_goes_at_the_new_cells_rate():
    # the device stands 10 m from cell a until t = 10 s, then 10 m from cell b (twice a's bandwidth); its download
    # (and, in the second run, its upload) is in flight at the handover and resumes at once on cell b, at b's rate
    from simulator.mobility.spec import HandoverRule

    wide = RadioModel(bandwidth_hz=2 * B_HZ, tx_power_w=0.2, path_loss_exponent=3.5, reference_loss_db=40.0,
                      downlink_power_w=AP_W)
    cells = (Cell("a", (50.0, 50.0), radio=radio()), Cell("b", (150.0, 50.0), radio=wide))
    jump = Trace(np.array([0.0, 10.0, 10.0]), np.zeros(3, dtype=np.intp), np.array([[40.0, 50.0], [40.0, 50.0],
                                                                                     [160.0, 50.0]]))
    spec = Mobility(Area(200.0, 100.0), cells, (GroupMotion("d", jump),), HandoverRule(interruption_s=0.0))
    aps = (AccessPoint("a", 100e6, CELL_DOWN_BPS, shared=False), AccessPoint("b", 100e6, CELL_DOWN_BPS, shared=False))
    servers = (EdgeServer("ea", speed_ops_per_s=1e9, location="a"), EdgeServer("eb", speed_ops_per_s=1e9,
                                                                                 location="b"))

    def record(tasks: TaskTrace):
        world = World(device_groups=(DeviceGroup("d", 1, Device(speed_ops_per_s=1e9), tasks, "a"),),
                      access_points=aps, servers=servers, links=(BackhaulLink("a", "b", latency_s=0.01),),
                      policies=("always_edge",))
        return run(world, duration_s=30.0, seed=1, mobility=spec).records.iloc[0]

    g = gain(10.0)
    down_a, down_b = shannon_bps(g / noise_w(9.0)), 2 * B_HZ * math.log2(1 + g / (2 * noise_w(9.0)))
    done = record(TaskTrace((9.0,), (0,), (1e6,), (1e3,), (1e9,)))
    start = float(done["download_start_s"])
    assert start < 10.0
    assert done["download_end_s"] == pytest.approx(10.0 + (1e9 - (10.0 - start) * down_a) / down_b, rel=1e-9)
    up_a, up_b = shannon_bps(0.2 * g / noise_w(5.0)), 2 * B_HZ * math.log2(1 + 0.2 * g / (2 * noise_w(5.0)))
    done = record(TaskTrace((9.0,), (0,), (1e6,), (1e9,), (1e3,)))
    assert done["upload_end_s"] == pytest.approx(10.0 + (1e9 - 1.0 * up_a) / up_b, rel=1e-9)
