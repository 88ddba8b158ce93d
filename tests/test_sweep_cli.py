"""``mecsim sweep`` on real scenarios: M/M/1 latency against theory, resume, the sweep section, errors, Dask."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from simulator.cli import main
from simulator.sweep import load_results
from simulator.sweep.store import read_records

MM1 = Path(__file__).parent.parent / "scenarios" / "mm1.yaml"
SHORT = ["--set", "run.duration=300s", "--set", "run.warmup=20s"]


def sweep(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["sweep", *args])
    return result.exit_code, result.stdout, result.stderr


def test_mm1_sweep_matches_queueing_theory_and_resumes(tmp_path):
    out = tmp_path / "out"
    args = ["mm1", "--grid", "devices[0].workload.rate=4/s,7/s", *SHORT, "--replications", "3",
            "--out", str(out), "--workers", "2", "--quiet"]
    code, stdout, stderr = sweep(*args)
    assert code == 0, stderr
    assert "6 runs (2 points): 0 already done, 6 run (0 failed)" in stdout
    frame = load_results(out)
    assert frame.attrs["parameters"] == ["devices[0].workload.rate"]
    assert set(frame["devices[0].workload.rate"]) == {4.0, 7.0}  # resolved to SI, not "4/s"
    for rate, group in frame.groupby("devices[0].workload.rate"):
        theory_s = 1.0 / (10.0 - rate)  # M/M/1 mean time in system, mu = 10/s
        assert len(group) == 3
        # 3 x 280 s of an M/M/1 queue: relative error of the mean well under 25 % even at rho = 0.7
        assert group["latency_s.mean"].mean() == pytest.approx(theory_s, rel=0.25)
        assert group["utilisation.server"].mean() == pytest.approx(rate / 10.0, abs=0.05)
    table = stdout.split("mean over replications:\n")[1].splitlines()
    assert table[0].split()[:3] == ["devices[0].workload.rate", "policy", "runs"]
    for line, (rate, group) in zip(table[1:3], frame.groupby("devices[0].workload.rate", sort=False), strict=True):
        cells = line.split()  # the point, the policy, the runs, then the means over replications
        assert (float(cells[0]), cells[1], int(cells[2])) == (rate, "edge", 3)
        assert float(cells[3]) == pytest.approx(group["latency_s.mean"].mean(), rel=1e-3)
    code, stdout, _ = sweep(*args)
    assert code == 0
    assert "6 already done, 0 run" in stdout
    assert len(list(read_records(out))) == 6


def scenario_with_sweep(tmp_path: Path, section: str) -> Path:
    path = tmp_path / "swept.yaml"
    path.write_text(MM1.read_text() + section)
    return path


def test_sweep_section_in_the_scenario_file_with_cli_axes(tmp_path):
    path = scenario_with_sweep(tmp_path, "sweep:\n  grid:\n    devices[0].workload.rate: [2/s, 4/s, 6/s]\n"
                                         "  replications: 2\n")
    code, stdout, _ = sweep(str(path), "--dry-run", "--out", str(tmp_path / "o"))
    assert code == 0
    assert stdout.startswith("6 runs (3 points)")
    code, stdout, _ = sweep(str(path), "--dry-run", "--grid", "nodes[server].workers=1,2", "--replications", "1")
    assert stdout.startswith("6 runs (6 points)")
    assert "devices[0].workload.rate=2/s, nodes[server].workers=2" in stdout


def test_a_bad_sweep_section_reports_file_and_line(tmp_path):
    path = scenario_with_sweep(tmp_path, "sweep:\n  grid:\n    devices[0].count: []\n  replicatoins: 2\n")
    code, _, stderr = sweep(str(path), "--dry-run")
    assert code == 2
    lines = len(MM1.read_text().splitlines())
    assert f"swept.yaml:{lines + 3}: sweep.grid.devices[0].count: List should have at least 1 item" in stderr
    assert f"swept.yaml:{lines + 4}: sweep.replicatoins: unknown key; did you mean 'replications'?" in stderr
    assert "Traceback" not in stderr


def test_invalid_points_are_all_reported_before_running(tmp_path):
    code, _, stderr = sweep("mm1", "--grid", "devices[0].count=0,1", "--grid", "devices[0].workload.rate=-1/s,2/s",
                            "--out", str(tmp_path / "o"))
    assert code == 2
    assert stderr.count("must be") == 4  # (0, -1) twice, (0, 2) and (1, -1): every problem of every point
    assert "[sweep point devices[0].count=0, devices[0].workload.rate=2/s]: devices[0].count: 0: must be >= 1" in stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(("option", "message"), [
    (["--grid", "devices[0].count"], "--grid='devices[0].count': expected path=v1,v2"),
    (["--grid", "devices[0]..count=1"], "not a scenario path"),
    (["--zip", "devices[0].count=1,2", "--zip", "run.seed=1"], "all lists must have the same length"),
    (["--grid", "devices[0].cuont=1"], "unknown key"),
])
def test_bad_options_exit_2_with_one_message(option, message):
    code, _, stderr = sweep("mm1", "--dry-run", *option)
    assert code == 2
    assert message in stderr
    assert "Traceback" not in stderr


def test_dask_scheduler_gives_the_same_results_as_the_local_pool(tmp_path, monkeypatch):
    from distributed import LocalCluster

    args = ["mm1", "--grid", "devices[0].workload.rate=5/s,8/s", "--set", "run.duration=100s",
            "--set", "run.warmup=10s", "--replications", "1", "--quiet"]
    assert sweep(*args, "--out", str(tmp_path / "local"), "--workers", "2")[0] == 0
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", cluster.scheduler_address)
        code, _, stderr = sweep(*args, "--out", str(tmp_path / "dask"))
    assert code == 0, stderr
    local = {record["key"]: record["result"] for record in read_records(tmp_path / "local")}
    dask = {record["key"]: record["result"] for record in read_records(tmp_path / "dask")}
    assert local == dask
    assert len(local) == 2


def test_workers_with_a_scheduler_is_an_error_not_ignored():
    code, _, stderr = sweep("mm1", "--workers", "3", "--scheduler", "tcp://127.0.0.1:1")
    assert code == 2
    assert "--workers=3: sizes the local pool; with --scheduler tcp://127.0.0.1:1" in stderr


TINY = ["--set", "run.duration=20s", "--set", "run.warmup=0s", "--replications", "1", "--workers", "1", "--quiet"]


def _files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()}


def test_a_sweep_refuses_a_simulate_output_folder(tmp_path):
    out = tmp_path / "run"
    assert CliRunner().invoke(main, ["simulate", "mm1", *TINY[:4], "--quiet", "--out", str(out)]).exit_code == 0
    before = _files(out)
    code, _, stderr = sweep("mm1", "--grid", "devices[0].workload.rate=4/s", *TINY, "--out", str(out))
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"mecsim: error: --out='{out}': holds the outputs of `mecsim simulate` (records.")
    assert lines[0].endswith("); give the sweep a folder of its own")
    assert _files(out) == before


@pytest.mark.parametrize(("other", "said"), [
    (["md1", "--grid", "devices[0].workload.rate=4/s"], "holds a sweep of another scenario ('mm1', not 'md1')"),
    (["mm1", "--grid", "devices[0].workload.rate=4/s", "--set", "nodes[server].workers=2"],
     "holds a sweep of 'mm1' with other settings"),
])
def test_a_sweep_of_another_scenario_is_not_mixed_into_a_sweep_folder(tmp_path, other, said):
    out = tmp_path / "sweep"
    code, _, stderr = sweep("mm1", "--grid", "devices[0].workload.rate=4/s", *TINY, "--out", str(out))
    assert code == 0, stderr
    before = _files(out)
    code, _, stderr = sweep(*other, *TINY, "--out", str(out))
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1
    assert said in lines[0]
    assert lines[0].endswith(f"write this sweep to another --out folder, or remove {out} to start over")
    assert _files(out) == before  # neither sweep.json nor runs.jsonl touched


def test_extending_a_sweep_of_the_same_scenario_reuses_the_folder(tmp_path):
    out = tmp_path / "sweep"
    assert sweep("mm1", "--grid", "devices[0].workload.rate=4/s", *TINY, "--out", str(out))[0] == 0
    code, stdout, stderr = sweep("mm1", "--grid", "devices[0].workload.rate=4/s,6/s", *TINY, "--out", str(out))
    assert code == 0, stderr
    assert "2 runs (2 points): 1 already done, 1 run" in stdout
