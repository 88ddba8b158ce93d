"""``mecsim simulate``, ``validate`` and ``scenarios`` through the click entry point."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from offload import queueing
from simulator.cli import main
from simulator.scenario import load_scenario

SHORT = ["--duration", "400s", "--replications", "2", "--quiet"]


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_scenarios_lists_every_bundled_one() -> None:
    code, out, _ = _invoke("scenarios")
    assert code == 0
    names = [line.split()[0] for line in out.splitlines()]
    assert {"license-plate", "mm1", "mmc", "md1", "s100"} <= set(names)
    assert "M/M/1" in out


def test_validate_ok() -> None:
    code, out, _ = _invoke("validate", "license-plate")
    assert code == 0
    assert "ok: license-plate" in out
    assert "200 device(s)" in out


def test_validate_prints_every_issue_on_its_own_line_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nrun: {duration: -1 s, seeed: 1}\nservices: []\n", encoding="utf-8")
    code, out, err = _invoke("validate", str(path))
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) >= 4  # run.duration, run.seeed, services, devices (the other sections have defaults)
    assert all(line.startswith(f"mecsim: error: {path}:") for line in lines)
    assert f'{path}:2: run.duration: "-1 s": must be > 0' in err
    assert "run.seeed: 1: unknown key; did you mean 'seed'?" in err
    assert "Traceback" not in err


def test_unknown_scenario_name_exits_2_with_a_suggestion() -> None:
    code, _, err = _invoke("simulate", "licence-plate", "--quiet")
    assert code == 2
    assert "did you mean 'license-plate'?" in err


def test_bad_override_and_bad_duration_exit_2() -> None:
    code, _, err = _invoke("simulate", "mm1", "--set", "run.duration=-5s", "--quiet")
    assert code == 2
    assert 'mecsim: error: --set: run.duration: "-5s": must be > 0' in err
    code, _, err = _invoke("simulate", "mm1", "--duration", "5 parsecs", "--quiet")
    assert code == 2
    assert "unknown unit 'parsecs'" in err
    code, _, err = _invoke("simulate", "mm1", "--duration", "10s", "--quiet")  # mm1 warms up for 50 s
    assert code == 2
    assert "must be longer than run.warmup" in err


def test_simulate_json_has_the_documented_shape_and_theory() -> None:
    code, out, _ = _invoke("simulate", "mm1", "--json", "--seed", "7", *SHORT)
    assert code == 0
    summary = json.loads(out)
    assert summary["seed"] == 7
    assert summary["scenario_sha256"] == load_scenario("mm1").sha256
    assert summary["version"]
    assert "placement" not in summary  # mm1 has no placement section
    edge = summary["policies"]["edge"]
    assert set(edge["latency_s"]) == {"mean", "p50", "p95", "p99"}
    for key in ("energy_j_per_task", "offload_fraction", "deadline_miss_rate", "utilisation", "monitor"):
        assert key in edge
    assert set(edge["monitor"]["job"]) == {"avg_qpm", "avg_req_time_s", "counter"}
    assert edge["latency_s"]["p50"] == pytest.approx(math.log(2) / 2.0, rel=0.15)  # exponential(μ-λ) median
    assert edge["utilisation"]["server"] == pytest.approx(0.8, abs=0.04)
    assert summary["policies"]["edge"]["latency_s"]["mean"] == pytest.approx(
        float(queueing.mm1_mean_sojourn_s(8.0, 10.0)), rel=0.15)


def test_same_seed_same_output_and_set_changes_the_hash() -> None:
    first = _invoke("simulate", "md1", "--json", *SHORT)[1]
    assert _invoke("simulate", "md1", "--json", *SHORT)[1] == first
    other = json.loads(_invoke("simulate", "md1", "--json", "--set", "devices[0].workload.rate=4/s", *SHORT)[1])
    assert other["scenario_sha256"] != json.loads(first)["scenario_sha256"]
    assert other["policies"]["edge"]["utilisation"]["server"] == pytest.approx(0.4, abs=0.06)


def test_table_output_names_every_policy_and_the_monitor() -> None:
    code, out, _ = _invoke("simulate", "license-plate", "--duration", "12s", "--replications", "1", "--quiet")
    assert code == 0
    for text in ("local", "edge", "queue-aware", "mean latency", "p99 latency", "energy/task", "dropped",
                 "deadline miss", "avg QPM", "avg request time", "calls", "plates"):
        assert text in out


def test_dropped_column_is_the_share_of_generated_tasks_dropped() -> None:
    args = ("license-plate", "--duration", "30s", "--replications", "1", "--quiet")
    summary = json.loads(_invoke("simulate", *args, "--json")[1])
    tasks = summary["policies"]["local"]["tasks"]
    assert tasks["dropped"] > 0  # a Pi takes 13 s per frame and keeps at most 2 waiting: most frames are skipped
    row = next(line for line in _invoke("simulate", *args)[1].splitlines() if line.startswith("local "))
    assert f"{100.0 * tasks['dropped'] / tasks['generated']:.1f}%" in row.split()


def test_out_dir_is_written_and_never_overwritten_without_force(tmp_path: Path) -> None:
    out = tmp_path / "run"
    code, _, err = _invoke("simulate", "mm1", "--out", str(out), "--json", *SHORT)
    assert code == 0, err
    assert (out / "records.parquet").is_file() or (out / "records.csv").is_file()
    assert (out / "timeseries.parquet").is_file() or (out / "timeseries.csv").is_file()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["scenario_sha256"] == load_scenario("mm1").sha256
    figures = sorted((out / "figures").iterdir())
    assert figures
    assert all(p.suffix == ".png" and p.stat().st_size > 0 for p in figures)
    resolved = yaml.safe_load((out / "scenario.yaml").read_text())
    assert load_scenario(out / "scenario.yaml").sha256 == summary["scenario_sha256"]
    assert resolved["name"] == "mm1"
    code, _, err = _invoke("simulate", "mm1", "--out", str(out), *SHORT)
    assert code == 2
    assert "already exists; use --force" in err
    code, _, _ = _invoke("simulate", "mm1", "--out", str(out), "--force", *SHORT)
    assert code == 0


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--debug", "validate", "nonexistent-scenario"])
    assert result.exit_code != 0
    assert result.exception is not None
    assert not isinstance(result.exception, SystemExit)


def test_csv_fallback_and_outputs_section(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("simulator.cli.output.parquet_available", lambda: False)
    out = tmp_path / "csv"
    code, _, err = _invoke("simulate", "md1", "--out", str(out), *SHORT)
    assert code == 0, err
    assert (out / "records.csv").is_file()
    assert not (out / "records.parquet").exists()
    bare = tmp_path / "bare"
    code, _, err = _invoke("simulate", "md1", "--out", str(bare), "--set", "outputs.records=false",
                           "--set", "outputs.timeseries=false", *SHORT)
    assert code == 0, err
    assert sorted(p.name for p in bare.iterdir()) == ["scenario.yaml", "summary.json"]


def test_figures_without_records_are_refused_not_skipped(tmp_path: Path) -> None:
    """Figures are drawn from the records: asking for both figures and no records is an error at validate time,
    not an empty figures folder after the run."""
    scenario = tmp_path / "s.yaml"
    scenario.write_text("services: [{work: 2G}]\ndevices: [{profile: {speed: 1 GHz}, workload: 1/s}]\n"
                        "nodes: [{speed: 40 GHz}]\noutputs:\n  records: false\n  figures: true\n")
    for command in ("validate", "simulate"):
        code, _, err = _invoke(command, str(scenario), *(["--quiet"] if command == "simulate" else []))
        assert code == 2
        assert re.search(r"s\.yaml:6: outputs\.figures: true: figures are drawn from the records", err), err



def test_melbourne_prints_its_placement_and_without_it_none() -> None:
    args = ["simulate", "melbourne", "--duration", "30s", "--replications", "1", "--quiet",
            "--set", "placement.policy=greedy", "--set", "policies=[always_edge]"]
    code, out, _ = _invoke(*args)
    assert code == 0
    assert out.index("placement (replicas placed before simulating):") < out.index("\npolicy ")
    assert "solver greedy: feasible" in out
    code, out, _ = _invoke(*args[:-4], "--set", "placement=null", "--set", "policies=[always_edge]")
    assert code == 0
    assert "placement" not in out


def _mm1_with_sweep(tmp_path: Path, sweep: str) -> Path:
    text = (Path(__file__).parent.parent / "scenarios" / "mm1.yaml").read_text(encoding="utf-8")
    path = tmp_path / "mm1-sweep.yaml"
    path.write_text(text.rstrip() + "\n" + sweep, encoding="utf-8")
    return path


def test_validate_checks_the_sweep_section_and_counts_its_runs(tmp_path: Path) -> None:
    good = _mm1_with_sweep(tmp_path, "sweep:\n  grid:\n    devices[0].workload.rate: [4/s, 6/s, 7/s]\n"
                                     "  replications: 2\n")
    code, out, _ = _invoke("validate", str(good))
    assert code == 0
    assert "sweep of 6 run(s)" in out  # 3 grid points x 2 replications
    bad = _mm1_with_sweep(tmp_path, "sweep:\n  grid:\n    devices[0].workload.rate: [4/s]\n  replicatons: 2\n")
    code, _, err = _invoke("validate", str(bad))
    assert code == 2
    assert re.search(r"mm1-sweep\.yaml:\d+: sweep\.replicatons: unknown key; did you mean 'replications'\?", err)


def test_single_camera_variant_really_has_one_camera() -> None:
    summary = json.loads(_invoke("simulate", "license-plate-single", "--duration", "20s", "--replications", "1",
                                 "--json")[1])
    # one camera at 1 frame/s, half of the frames with a plate: about 10 tasks in 20 s, not the 200 cameras' 2,000
    for stats in summary["policies"].values():
        assert 5 <= stats["tasks"]["generated"] <= 15
    many = json.loads(_invoke("simulate", "license-plate", "--duration", "20s", "--replications", "1",
                              "--set", "devices[0].count=1", "--json")[1])
    assert many["policies"]["edge"]["tasks"]["generated"] > 100 * summary["policies"]["edge"]["tasks"]["generated"]


def test_table_shows_unfinished_share_totals_and_honest_footnote() -> None:
    args = ("mm1", "--duration", "60s", "--set", "run.warmup=5s", "--quiet")
    for replications in ("1", "2"):
        summary = json.loads(_invoke("simulate", *args, "--replications", replications, "--json")[1])
        out = _invoke("simulate", *args, "--replications", replications)[1]
        tasks = summary["policies"]["edge"]["tasks"]
        assert tasks["in_flight"] > 0  # rho = 0.8: some requests are still queued when the run ends
        lines = out.splitlines()
        header = next(line for line in lines if line.startswith("policy "))
        assert "unfinished" in header.split()
        row = next(line for line in lines if line.startswith("edge "))
        assert f"{100.0 * tasks['in_flight'] / tasks['generated']:.1f}%" in row.split()
        assert summary["policies"]["edge"]["energy_j_per_task"] is None  # mm1's source declares no power
        assert "J" not in row.split()
        assert "counts are totals over all replications" in out
        if replications == "1":
            assert "mean of" not in out
            assert "the one replication's mean" in out
        else:
            assert "mean of 2 replications" in out


def test_tables_fit_the_terminal_width_with_many_servers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Six edge servers: the utilisation column summarises (mean, busiest) and a block lists the servers."""
    scenario = yaml.safe_load((Path(__file__).parent.parent / "scenarios" / "mm1.yaml").read_text())
    scenario["nodes"] = [{"name": f"server{i}", "speed": "10G", "workers": 1, "location": "ap"} for i in range(6)]
    scenario["run"] = {"duration": "20 s", "seed": 1}
    path = tmp_path / "six.yaml"
    path.write_text(yaml.safe_dump(scenario))
    import simulator.cli.simulate

    monkeypatch.setattr(simulator.cli.simulate, "terminal_width", lambda: 72)  # a 72-column terminal
    result = CliRunner().invoke(main, ["simulate", str(path), "--quiet"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 72
    summary = json.loads(CliRunner().invoke(main, ["simulate", str(path), "--quiet", "--json"]).stdout)
    utilisation = summary["policies"]["edge"]["utilisation"]
    busiest = max(utilisation, key=utilisation.get)
    row = next(line for line in lines if line.startswith("edge ") and "mean " in line)
    mean = sum(utilisation.values()) / len(utilisation)
    assert f"mean {100 * mean:.1f}%, max {100 * utilisation[busiest]:.1f}% {busiest}" in row
    block = lines[lines.index(next(line for line in lines if line.startswith("utilisation "))):]
    assert [line.split()[0] for line in block[1:7]] == sorted(utilisation, key=lambda s: (-utilisation[s], s))


def test_fit_table_continues_columns_that_do_not_fit_in_a_block_below() -> None:
    from simulator.scenario.report import fit_table

    rows = [["policy", "aaaa", "bbbb", "cccc"], ["edge", "1", "2", "3"]]
    assert fit_table(rows, 80) == ["policy  aaaa  bbbb  cccc", "edge       1     2     3"]
    assert fit_table(rows, 20) == ["policy  aaaa  bbbb", "edge       1     2", "", "policy  cccc",
                                   "edge       3"]
