"""``mecsim split``: JSON keys and values against the split model, the table, the figure, every error rule."""

import json

import numpy as np
import pytest
from click.testing import CliRunner, Result

from offload.radio import radio_profile
from offload.split import SplitLink, SplitPower, split_costs
from simulator.cli import main
from simulator.dnn.profile import layer_profile, read_profile

ALEXNET = ["alexnet", "--device-speed", "10GFLOPS", "--edge-speed", "10TFLOPS", "--uplink", "8Mbps", "--rtt", "20ms"]


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["split", *args])


def test_json_agrees_with_the_split_model():
    result = run(*ALEXNET, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    layers = layer_profile(read_profile("alexnet"), device_speed_ops_per_s=1e10, edge_speed_ops_per_s=1e13)
    costs = split_costs(layers, SplitLink(8e6, 8e6, 0.02))
    best = int(np.argmin(costs.latency_s[:, 0]))
    assert report["best"]["after"] == costs.after[best]
    assert report["best"]["latency_s"] == costs.latency_s[best, 0]
    assert report["best"]["energy_j"] == 0.0
    assert [s["after"] for s in report["splits"]] == list(costs.after)
    assert report["splits"][0]["after"] == "input"
    assert report["splits"][-1]["after"] == "fc8"


def test_table_marks_the_best_split():
    result = run(*ALEXNET)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["split", "after", "latency", "device", "energy"]
    assert sum("<- best" in line for line in lines) == 1
    assert lines[-1].startswith("best (latency): after ")


def test_energy_objective_with_an_lte_radio():
    result = run(*ALEXNET, "--objective", "energy", "--device-power", "3W", "--radio", "lte", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    lte = radio_profile("lte")
    layers = layer_profile(read_profile("alexnet"), device_speed_ops_per_s=1e10, edge_speed_ops_per_s=1e13)
    power = SplitPower(3.0, float(lte.tx_power_w(8e6)), float(lte.rx_power_w(8e6)), 0.0, lte.tail_energy_j)
    costs = split_costs(layers, SplitLink(8e6, 8e6, 0.02 + lte.promotion_s), power)
    best = int(np.argmin(costs.device_energy_j[:, 0]))
    assert report["best"]["after"] == costs.after[best]
    assert report["best"]["energy_j"] == pytest.approx(costs.device_energy_j[best, 0], rel=1e-12)


def test_measured_times_from_a_yaml_profile(tmp_path):
    profile = tmp_path / "net.yaml"
    profile.write_text("layers:\n  - {layer: input, output_bytes: 100000}\n"
                       "  - {layer: a, output_bytes: 1000, device_time_s: 0.5, edge_time_s: 0.01}\n"
                       "  - {layer: b, output_bytes: 10, device_time_s: 0.5, edge_time_s: 0.01}\n")
    result = run(str(profile), "--uplink", "1Mbps", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    # after a: 0.5 s + 8000 bit / 1 Mbps + 0.01 s + 80 bit / 1 Mbps
    assert report["splits"][1]["latency_s"] == pytest.approx(0.5 + 0.008 + 0.01 + 0.00008)
    assert report["best"]["after"] == "a"


def test_plot_is_written_and_not_overwritten(tmp_path):
    figure = tmp_path / "split.png"
    args = [*ALEXNET, "--plot", str(figure), "--plot-uplinks", "1Mbps,100Mbps"]
    assert run(*args).exit_code == 0
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    again = run(*args)
    assert again.exit_code == 2
    assert "exists; add --force" in again.output


@pytest.mark.parametrize(("args", "message"), [
    (["alexnet", "--device-speed", "10GFLOPS", "--edge-speed", "1TFLOPS", "--uplink", "0Mbps"],
     "--uplink='0Mbps': must be > 0"),
    ([*ALEXNET, "--device-power", "-3W"], "--device-power='-3W': must be >= 0"),
    ([*ALEXNET, "--load", "0.5"], "--load='0.5': must be >= 1"),
    ([*ALEXNET, "--objective", "energy"], "needs --device-power and --radio-power"),
    ([*ALEXNET, "--radio", "lte", "--radio-power", "1W"], "replaces --radio-power"),
    (["alexnet", "--edge-speed", "1TFLOPS", "--uplink", "1Mbps"], "--device-speed: needed"),
    (["nosuchnet", "--uplink", "1Mbps"], "no such file and not a bundled profile (alexnet, vgg16"),
    ([*ALEXNET, "--device-memory", "fast"], "--device-memory"),
])
def test_bad_options_exit_2_with_one_line(args, message):
    result = run(*args)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert message in lines[0]


@pytest.mark.parametrize(("text", "message"), [
    ("layer,output_bytes,ops,flops\ninput,10,,\na,5,1e6,3\n", ":2: flops: unknown column; known columns: layer"),
    ("layer,output_bytes,ops\ninput,10,\n", ": the profile has no layers after 'input'"),
    ("layer,output_bytes,ops\n", ": layer: the first row must be 'input'"),
    ("layer,output_bytes,ops\na,10,5\n", ":2: layer: the first row must be 'input'"),
    ("layer,output_bytes,ops\ninput,10,\na,x,5\n", ":3: output_bytes='x': must be a number"),
    ("layer,output_bytes,ops\ninput,10,\na,10,-5\n", ":3: ops='-5': must be >= 0 and finite"),
    ("layer,output_bytes,ops\ninput,10,\na,10,5\na,10,5\n", ":4: layer='a': must be a unique"),
    ("layer,output_bytes,ops\ninput,10,\na,10,5\nb,10,\n", ":4: ops: is empty here but given on other layers"),
    ("layer,output_bytes,device_time_s,edge_time_s\ninput,10,,\na,10,1,1\n",
     "--device-speed: the profile has measured device_time_s"),
])
def test_bad_profiles_exit_2_naming_file_and_line(tmp_path, text, message):
    path = tmp_path / "p.csv"
    path.write_text(text)
    result = run(str(path), "--device-speed", "1GFLOPS", "--edge-speed", "1TFLOPS", "--uplink", "1Mbps")
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"mecsim: error: {path}")
    assert message in lines[0]


def test_yaml_profile_errors(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("layers: 3\n")
    result = run(str(path), "--uplink", "1Mbps")
    assert result.exit_code == 2
    assert f"{path}:1: layers: must be a list of rows" in result.output
