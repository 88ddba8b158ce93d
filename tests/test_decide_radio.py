"""``mecsim decide --radio``: a cellular or Wi-Fi radio profile (Huang et al., MobiSys 2012) prices the offload with
power linear in throughput plus the promotion and tail states, checked against hand computation from the paper's
numbers in mW and ms."""

import csv
import io
import json

import pytest
from click.testing import CliRunner, Result

from simulator.cli import main

#: Huang et al. Tables 3 and 4 as printed: alpha_u, alpha_d (mW/Mbps), beta (mW); promotion (ms, mW); tail (ms, mW)
PAPER = {"lte": (438.39, 51.97, 1288.04, 260.1, 1210.7, 11576.0, 1060.0),
         "3g": (868.98, 122.12, 817.88, 582.1, 659.4, 8088.2, 803.9),
         "wifi": (283.17, 137.01, 132.86, 79.1, 124.4, 238.1, 119.3)}
TASK = ["--device-time", "1s", "--edge-time", "10ms", "--data", "1MB", "--uplink", "5Mbps", "--result", "50kB",
        "--downlink", "20Mbps", "--rtt", "20ms", "--device-power", "2W", "--idle-power", "0.5W", "--json"]


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["decide", *args])


@pytest.mark.parametrize("radio", sorted(PAPER))
def test_offload_energy_is_tail_plus_promotion_plus_throughput_power(radio):
    alpha_u, alpha_d, beta, pro_ms, pro_mw, tail_ms, tail_mw = PAPER[radio]
    result = run(*TASK, "--radio", radio)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    upload_s, download_s = 8e6 / 5e6, 4e5 / 20e6
    round_trip_s = 0.020 + pro_ms / 1000
    tx_w, rx_w = (alpha_u * 5 + beta) / 1000, (alpha_d * 20 + beta) / 1000
    extra_j = (pro_mw * pro_ms + tail_mw * tail_ms) / 1e6
    idle_j = 0.5 * (round_trip_s + 0.010)
    expected = tx_w * upload_s + rx_w * download_s + idle_j + extra_j
    assert report["offload"]["energy_j"] == pytest.approx(expected, rel=1e-9)
    assert report["offload"]["latency_s"] == pytest.approx(upload_s + round_trip_s + 0.010 + download_s, rel=1e-12)
    assert report["offload"]["breakdown"]["round_trip_s"] == pytest.approx(round_trip_s, rel=1e-12)
    assert report["local"]["energy_j"] == pytest.approx(2.0)


def test_lte_tail_makes_a_small_offload_cost_more_than_wifi():
    # a 10 kB task: transfers are short, so LTE's 11.6 s tail at ~1 W dominates (Huang et al., Sec. 5)
    small = ["--device-time", "200ms", "--edge-time", "5ms", "--data", "10kB", "--uplink", "5Mbps",
             "--device-power", "2W", "--objective", "energy", "--json"]
    lte = json.loads(run(*small, "--radio", "lte").output)
    wifi = json.loads(run(*small, "--radio", "wifi").output)
    assert lte["decision"] == "local"
    assert wifi["decision"] == "offload"
    assert lte["offload"]["energy_j"] > 12.0 > 0.1 > wifi["offload"]["energy_j"]


@pytest.mark.parametrize(("extra", "message"), [
    (["--radio", "lte", "--radio-power", "1W"], "--radio='lte': replaces --radio-power; give one or the other"),
    (["--radio", "3g", "--tail-energy", "1J", "--rx-power", "1W"], "replaces --rx-power, --tail-energy"),
    (["--radio", "5g"], "Invalid value for '--radio'"),
])
def test_radio_errors(extra, message):
    result = run(*TASK, *extra)
    assert result.exit_code == 2
    assert message in result.output


def test_batch_rows_take_the_radio_at_their_own_uplink(tmp_path):
    table = tmp_path / "tasks.csv"
    table.write_text("uplink\n5Mbps\n20Mbps\n")
    result = run("--batch", str(table), "--device-time", "1s", "--edge-time", "10ms", "--data", "1MB",
                 "--device-power", "2W", "--objective", "energy", "--radio", "lte")
    assert result.exit_code == 0, result.output
    energies = [float(row["offload_energy_j"]) for row in csv.DictReader(io.StringIO(result.output))]
    alpha_u, _, beta, pro_ms, pro_mw, tail_ms, tail_mw = PAPER["lte"]
    extra_j = (pro_mw * pro_ms + tail_mw * tail_ms) / 1e6
    for energy, mbps in zip(energies, (5, 20), strict=True):
        assert energy == pytest.approx((alpha_u * mbps + beta) / 1000 * 8 / mbps + extra_j, rel=1e-9)
