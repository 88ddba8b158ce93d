"""``mecsim decide``: the worked example, JSON keys, every error rule, batch CSV, and the installed script."""

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner, Result

from simulator.cli import main

PLATE = ["--device-time", "13s", "--edge-time", "9ms", "--data", "300kB", "--uplink", "5Mbps", "--rtt", "20ms"]
SEED = ["--C", "16.8G", "--Pd", "1.5GHz", "--Pe", "20GHz", "--D", "300kB", "--Bc", "5Mbps", "--Ed", "6.4W",
        "--Ee", "100W", "--Ec", "1.2W", "--energy-view", "system"]


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["decide", *args])


def test_licence_plate_table():
    result = run(*PLATE)
    assert result.exit_code == 0, result.output
    assert "509 ms" in result.output
    assert "decision: OFFLOAD (12.49 s less latency, 25.5x faster; objective latency)" in result.output
    assert "break-even uplink: 185 kbps (offloading wins above it)" in result.output


def test_licence_plate_json():
    result = run(*PLATE, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["decision"] == "offload"
    assert report["local"]["latency_s"] == 13.0
    assert report["offload"]["latency_s"] == pytest.approx(0.509, abs=1e-12)
    assert report["offload"]["breakdown"] == pytest.approx(
        {"upload_s": 0.48, "round_trip_s": 0.02, "wait_s": 0.0, "compute_s": 0.009, "download_s": 0.0})
    assert report["break_even"]["uplink_bps"] / 1e6 == pytest.approx(0.185, abs=5e-4)
    assert report["local"]["energy_j"] is None
    assert report["offload"]["energy_j"] is None


def test_seed_aliases_and_system_energy():
    # C=16.8e9 ops: local 11.2 s x 6.4 W = 71.68 J; edge 0.84 s x 100 W = 84 J + radio 0.48 s x 1.2 W = 0.576 J
    result = run(*SEED, "--objective", "energy", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["local"]["energy_j"] == pytest.approx(71.68)
    assert report["offload"]["energy_j"] == pytest.approx(84.576)
    assert report["decision"] == "local"
    assert json.loads(run(*SEED, "--json").output)["decision"] == "offload"  # latency: 11.2 s vs 1.32 s


def test_break_even_uplink_moves_the_defaulted_downlink():
    # the downlink defaults to the uplink, so both move: 1 s = 10 ms + 100 ms + (8e6 + 32e6 bits) / B
    args = ["--device-time", "1s", "--edge-time", "100ms", "--data", "1MB", "--uplink", "10Mbps", "--result", "4MB",
            "--rtt", "10ms"]
    report = json.loads(run(*args, "--json").output)
    assert report["break_even"]["uplink_bps"] == pytest.approx((8e6 + 32e6) / (1 - 0.11), rel=1e-12)
    assert report["break_even"]["offload_wins"] == "above"
    assert "break-even uplink: 44.94 Mbps" in run(*args).output
    # a given downlink stays fixed: 1 s = 0.11 s + 32e6 / 100e6 s + 8e6 / B
    fixed = json.loads(run(*args, "--downlink", "100Mbps", "--json").output)
    assert fixed["break_even"]["uplink_bps"] == pytest.approx(8e6 / (1 - 0.11 - 0.32), rel=1e-12)


def test_every_power_is_accepted_and_both_views_are_shown():
    # device view: local 13 s x 5 W; offload 0.48 s x 1 W radio + 0.029 s x 0.5 W idle; system: + 9 ms x 50 W edge
    powers = ["--Ed", "5W", "--Ec", "1W", "--Ee", "50W", "--idle-power", "0.5W"]
    report = json.loads(run(*PLATE, *powers, "--json").output)
    assert report["offload"]["energy_j"] == pytest.approx(0.48 + 0.029 * 0.5)
    assert report["energies"]["device"] == pytest.approx({"local_j": 65.0, "offload_j": 0.48 + 0.029 * 0.5})
    assert report["energies"]["system"] == pytest.approx({"local_j": 65.0, "offload_j": 0.48 + 0.009 * 50})
    assert report["unused"] == ["edge-power"]
    system = json.loads(run(*PLATE, *powers, "--energy-view", "system", "--json").output)
    assert system["offload"]["energy_j"] == pytest.approx(0.48 + 0.009 * 50)
    assert system["energies"] == report["energies"]
    assert system["unused"] == ["idle-power"]
    table = run(*PLATE, *powers).output
    assert "system energy" in table
    assert "note: the device energy view does not use --edge-power" in table
    alone = json.loads(run(*PLATE, "--Ed", "5W", "--Ec", "1W", "--json").output)
    assert (alone["energies"]["system"], alone["unused"]) == (None, [])


def test_weighted_normalised_and_deadline():
    result = run(*SEED, "--objective", "weighted", "--w-latency", "1", "--w-energy", "1", "--normalise", "--json",
                 "--deadline", "1s")
    report = json.loads(result.output)
    # neither meets 1 s: the fastest (offload, 1.32 s) is chosen and the miss flagged
    assert (report["decision"], report["deadline_missed"]) == ("offload", True)
    table = run(*SEED, "--deadline", "1s").output
    assert "warning: no option meets the deadline" in table


@pytest.mark.parametrize(("args", "message"), [
    (["--device-time", "13s", "--edge-time", "9ms", "--data", "300kB", "--uplink", "-5Mbps"],
     "--uplink='-5Mbps': must be > 0 and finite"),
    (["--device-time", "13s", "--edge-time", "9ms", "--data", "300kB", "--uplink", "0"], "--uplink='0': must be > 0"),
    (["--device-time", "nan", "--edge-time", "9ms", "--data", "1", "--uplink", "1"],
     "--device-time='nan': must be a number, not NaN"),
    (["--device-time", "13 parsecs", "--edge-time", "9ms", "--data", "1", "--uplink", "1"],
     "--device-time='13 parsecs': unknown unit 'parsecs'"),
    (["--device-time", "13s", "--edge-time", "9ms", "--data", "300kB"], "--uplink: missing required value"),
    (["--edge-time", "9ms", "--data", "1", "--uplink", "1"], "--device-time: missing: give --device-time"),
    (["--compute", "1G", *PLATE], "--compute: is only used with --device-speed or --edge-speed"),
    (["--device-speed", "1GHz", "--edge-time", "9ms", "--data", "1", "--uplink", "1"],
     "--compute: missing: --device-speed needs the work per task"),
    (["--device-speed", "1GHz", *PLATE], "--device-time: give --device-time or --device-speed, not both"),
    ([*PLATE, "--downlink", "10Mbps"], "--downlink: needs --result"),
    ([*PLATE, "--objective", "energy"], "--device-power: missing: energies"),
    ([*PLATE, "--Ed", "5W"], "--radio-power: missing: energies"),
    ([*PLATE, "--Ed", "5W", "--Ec", "1W", "--energy-view", "system"], "--edge-power: missing: energies"),
    ([*PLATE, "--w-latency", "2"], "--w-latency: applies to --objective weighted only"),
    ([*SEED, "--objective", "weighted", "--w-latency", "0", "--w-energy", "0"], "cannot both be 0"),
    ([*SEED, "--objective", "weighted", "--w-energy", "-1"], "--w-energy=-1.0: must be >= 0"),
    ([*PLATE, "--deadline", "0s"], "--deadline='0s': must be > 0"),
    ([*PLATE, "--out", "x.csv"], "--out='x.csv': needs --batch"),
    ([*PLATE, "--force"], "--force=True: needs --out"),
])
def test_bad_input_exits_2_with_one_line_naming_the_option(args, message):
    result = run(*args)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("mecsim: error: ")
    assert message in lines[0]


@pytest.mark.parametrize("where", ["command", "group"])
def test_debug_shows_the_traceback(where):
    args = [*PLATE[:-4], "--uplink", "-1"]
    argv = ["decide", *args, "--debug"] if where == "command" else ["--debug", "decide", *args]
    result = CliRunner().invoke(main, argv)
    assert result.exit_code != 2
    assert type(result.exception).__name__ == "ParameterError"


def _plate_rows(tmp_path: Path) -> Path:
    path = tmp_path / "tasks.csv"
    path.write_text("data,uplink,rtt\n300kB,5Mbps,20ms\n300kB,0.1Mbps,20ms\n2400000,10000000,0.02\n")
    return path


def test_batch_rows_equal_single_decisions(tmp_path):
    path = _plate_rows(tmp_path)
    result = run("--batch", str(path), "--device-time", "13s", "--edge-time", "9ms")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(io.StringIO(result.output))
    assert table["decision"].tolist() == ["offload", "local", "offload"]
    for i, (data, uplink) in enumerate((("300kB", "5Mbps"), ("300kB", "0.1Mbps"), ("2400000", "10000000"))):
        single = json.loads(run("--device-time", "13s", "--edge-time", "9ms", "--data", data, "--uplink", uplink,
                                "--rtt", "20ms", "--json").output)
        assert table["offload_latency_s"][i] == single["offload"]["latency_s"]
        assert table["local_latency_s"][i] == single["local"]["latency_s"]
        assert table["break_even_uplink_bps"][i] == pytest.approx(single["break_even"]["uplink_bps"], rel=1e-12)
    assert table["break_even_uplink_bps"][0] == pytest.approx(185028.14, rel=1e-6)


def test_batch_out_never_overwrites_without_force(tmp_path):
    path, out = _plate_rows(tmp_path), tmp_path / "decisions.csv"
    args = ["--batch", str(path), "--device-time", "13s", "--edge-time", "9ms", "--out", str(out)]
    assert run(*args).exit_code == 0
    first = out.read_text()
    assert first.startswith('"decision"')
    out.write_text("precious")
    result = run(*args)
    assert result.exit_code == 2
    assert "exists; add --force to overwrite it" in result.output
    assert out.read_text() == "precious"
    assert run(*args, "--force").exit_code == 0
    assert out.read_text() == first


def test_batch_energy_and_deadline_columns(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("compute,data,deadline\n16.8G,300kB,2s\n1G,300kB,0.6s\n1G,300kB,0.5s\n")
    result = run("--batch", str(path), "--Pd", "1.5GHz", "--Pe", "20GHz", "--Bc", "5Mbps", "--Ed", "6.4W",
                 "--Ec", "1.2W")
    table = pd.read_csv(io.StringIO(result.output))
    assert list(table.columns) == ["decision", "local_latency_s", "offload_latency_s", "local_energy_j",
                                   "offload_energy_j", "deadline_missed", "break_even_uplink_bps", "offload_wins"]
    assert table["local_energy_j"][0] == pytest.approx(71.68)
    assert table["deadline_missed"].tolist() == [False, False, True]  # 0.667 s local, 0.53 s offload


@pytest.mark.parametrize(("content", "extra", "message"), [
    ("data,uplink\n300kB,5Mbps\n300kB,-1\n", [], "--uplink (column 'uplink'), line 3=-1.0: must be > 0"),
    ("data,uplink\n300kB,5Mbps\n300kB,\n", [], "--uplink (column 'uplink'), line 3: missing value"),
    ("data,uplink\n300kB,5Mbps\n3 furlongs,5Mbps\n", [], "--data (column 'data'), line 3='3 furlongs': unknown unit"),
    ("data,uplink\n300kB,5Mbps\nlots,5Mbps\n", [], "line 3='lots': expected a number"),
    ("data,uplink,colour\n1,1,red\n", [], "--batch column 'colour'"),
    ("data,uplink\n1,1\n", ["--uplink", "5Mbps"], "--uplink='5Mbps': is also a column of"),
    ("data,uplink\n", [], "has no data rows"),
])
def test_batch_errors_name_the_column_and_line(tmp_path, content, extra, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    result = run("--batch", str(path), "--device-time", "13s", "--edge-time", "9ms", *extra)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_batch_empty_optional_cells_take_their_defaults(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("data,uplink,rtt,deadline,distance\n300kB,5Mbps,20ms,,\n300kB,5Mbps,,100ms,\n")
    result = run("--batch", str(path), "--device-time", "13s", "--edge-time", "9ms")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(io.StringIO(result.output))
    assert table["offload_latency_s"].tolist() == pytest.approx([0.509, 0.489])
    # no deadline on row 1; 100 ms on row 2, missed by both options (the fastest, offload, is chosen)
    assert table["deadline_missed"].tolist() == [False, True]
    assert table["decision"].tolist() == ["offload", "offload"]


def test_batch_with_json_is_rejected(tmp_path):
    result = run("--batch", str(_plate_rows(tmp_path)), "--device-time", "13s", "--edge-time", "9ms", "--json")
    assert result.exit_code == 2
    assert "--json=True: cannot be combined with --batch" in result.output


def test_batch_handles_many_rows_quickly_enough_to_test(tmp_path):
    rng = np.random.default_rng(3)
    n = 20_000
    frame = pd.DataFrame({"compute": rng.uniform(1e8, 1e10, n), "data": [f"{v:.1f}kB" for v in rng.uniform(1, 900, n)],
                          "uplink": rng.uniform(1e5, 1e8, n)})
    path = tmp_path / "many.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out.csv"
    result = run("--batch", str(path), "--Pd", "1.5GHz", "--Pe", "40GHz", "--rtt", "10ms", "--out", str(out))
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    local = frame["compute"] / 1.5e9
    data_bits = frame["data"].str.removesuffix("kB").astype(float) * 8e3
    offload = data_bits / frame["uplink"] + 0.01 + frame["compute"] / 40e9
    np.testing.assert_allclose(table["local_latency_s"], local, rtol=1e-14)
    np.testing.assert_allclose(table["offload_latency_s"], offload, rtol=1e-12)
    np.testing.assert_array_equal(table["decision"] == "offload", offload < local)


def test_installed_mecsim_script(tmp_path):
    script = shutil.which("mecsim", path=str(Path(sys.executable).parent))
    assert script is not None
    ok = subprocess.run([script, "decide", *PLATE, "--json"], capture_output=True, text=True, cwd=tmp_path,
                        timeout=120, check=False)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["offload"]["latency_s"] == pytest.approx(0.509)
    bad = subprocess.run([script, "decide", "--uplink", "fast"], capture_output=True, text=True, cwd=tmp_path,
                         timeout=120, check=False)
    assert bad.returncode == 2
    expected = ("mecsim: error: --uplink='fast': expected a number with an optional unit: "
                "a bandwidth such as 20Mbps, 1Gbps or 5MB/s")
    assert bad.stderr.strip().splitlines() == [expected]


def test_batch_break_even_moves_the_defaulted_downlink(tmp_path):
    path = tmp_path / "tasks.csv"
    path.write_text("data,result,downlink\n1MB,4MB,\n1MB,4MB,100Mbps\n")
    result = run("--batch", str(path), "--device-time", "1s", "--edge-time", "100ms", "--uplink", "10Mbps",
                 "--rtt", "10ms")
    assert result.exit_code == 2  # an empty downlink cell is an error: the downlink has no "none"
    path.write_text("data,result\n1MB,4MB\n2MB,4MB\n")
    result = run("--batch", str(path), "--device-time", "1s", "--edge-time", "100ms", "--uplink", "10Mbps",
                 "--rtt", "10ms")
    table = pd.read_csv(io.StringIO(result.output))
    expected = [(8e6 + 32e6) / (1 - 0.11), (16e6 + 32e6) / (1 - 0.11)]
    assert table["break_even_uplink_bps"].to_numpy() == pytest.approx(expected, rel=1e-12)


SPLIT = ["--device-time", "1s", "--edge-time", "100ms", "--data", "1MB", "--uplink", "10Mbps", "--rtt", "10ms"]


def test_partial_latency_split_balances_the_two_branches():
    # device branch (1 − λ)·1 s; edge branch λ·(0.8 s upload + 0.1 s compute) + 10 ms round trip: equal at
    # λ = (1 − 0.01) / (1 + 0.9)
    report = json.loads(run(*SPLIT, "--partial", "--json").output)
    fraction = 0.99 / 1.9
    assert report["partial"]["fraction"] == pytest.approx(fraction, rel=1e-12)
    assert report["partial"]["latency_s"] == pytest.approx(1 - fraction, rel=1e-12)
    assert report["partial"]["energy_j"] is None
    assert report["partial"]["feasible"] is True
    assert "partial" not in json.loads(run(*SPLIT, "--json").output)
    table = run(*SPLIT, "--partial").output
    assert "offload 52.1% of the work" in table


def test_partial_energy_under_a_deadline_is_the_cheapest_feasible_split():
    # energy(λ) = 2 W·(1 − λ)·1 s + 1 W·λ·0.8 s falls with λ; the deadline caps the edge branch:
    # 0.9·λ + 0.01 ≤ 0.5 s  →  λ = 0.49/0.9; the device branch 1 − λ must fit too: λ ≥ 0.5 — infeasible, so the
    # latency-optimal split is used; with a 0.6 s deadline both fit and λ = 0.59/0.9 is the cheapest
    power = ["--device-power", "2W", "--radio-power", "1W", "--objective", "energy"]
    ok = json.loads(run(*SPLIT, *power, "--deadline", "600ms", "--partial", "--json").output)["partial"]
    fraction = 0.59 / 0.9
    assert ok["feasible"] is True
    assert ok["fraction"] == pytest.approx(fraction, rel=1e-9)
    assert ok["energy_j"] == pytest.approx(2 * (1 - fraction) + 0.8 * fraction, rel=1e-9)
    late = json.loads(run(*SPLIT, *power, "--deadline", "450ms", "--partial", "--json").output)["partial"]
    assert late["feasible"] is False
    assert late["fraction"] == pytest.approx(0.99 / 1.9, rel=1e-12)


@pytest.mark.parametrize(("args", "message"), [
    (["--partial", "--objective", "weighted", "--device-power", "2W", "--radio-power", "1W"],
     "--partial=True: partial offloading optimises --objective latency or energy, not weighted"),
])
def test_partial_errors(args, message):
    result = run(*SPLIT, *args)
    assert result.exit_code == 2
    assert message in result.output


def test_partial_is_refused_with_batch(tmp_path):
    result = run("--batch", str(_plate_rows(tmp_path)), "--partial")
    assert result.exit_code == 2
    assert "--partial" in result.output
