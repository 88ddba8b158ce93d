"""Running sweeps: every backend gives the same records, failures are recorded, interrupted sweeps resume exactly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from offload.errors import MecsimError, ParameterError
from simulator.scenario import parse_path, set_path
from simulator.sweep import (
    DaskBackend,
    InlineBackend,
    ProcessPoolBackend,
    ResolvedPoint,
    SweepInterruptedError,
    SweepSpec,
    load_results,
    make_backend,
    plan_runs,
    run_sweep,
)
from simulator.sweep.store import ResultStore, read_records

BASE = {"run": {"seed": 11, "replications": 2}, "devices": [{"count": 3}], "rate_per_s": 2.0,
        "policies": ["local", "edge"], "fail_above": 1e9}


def toy_run(scenario, seed):
    """A cheap pure run: per policy, the mean of ``count`` exponential samples at ``rate_per_s``."""
    count = scenario["devices"][0]["count"]
    if count > scenario["fail_above"]:
        raise ValueError(f"count {count} too large")
    rng = np.random.default_rng(seed)
    samples = rng.exponential(1.0 / scenario["rate_per_s"], size=count)
    return {"policies": {name: {"latency_s": {"mean": float(samples.mean() * (k + 1))}, "tasks": count}
                         for k, name in enumerate(scenario["policies"])}}


def resolve(point, base=BASE):
    data = json.loads(json.dumps(base))
    for path, value in point.items():
        set_path(data, parse_path(path), value)
    return ResolvedPoint(data, data["run"]["seed"], data["run"]["replications"], point)


SPEC = SweepSpec(grid=(("devices[0].count", (1, 2, 4)), ("rate_per_s", (0.5, 2.0))), replications=2)


def results_by_key(directory):
    return {record["key"]: (record["status"], record["result"]) for record in read_records(directory)}


def test_records_match_a_direct_call_of_the_run_function(tmp_path):
    tasks = plan_runs(SPEC, resolve)
    report = run_sweep(tasks, toy_run, tmp_path, backend=InlineBackend(), progress=False)
    assert (report.planned, report.reused, report.computed, report.failed, report.lost) == (12, 0, 12, 0, 0)
    records = {record["key"]: record for record in read_records(tmp_path)}
    for task in tasks:
        record = records[task.key]
        assert record["result"] == toy_run(task.scenario, task.seed)
        assert record["point"] == task.point
        assert (record["seed"], record["replication"]) == (task.seed, task.replication)


def test_every_backend_and_worker_count_gives_identical_results(tmp_path):
    from distributed import LocalCluster

    tasks = plan_runs(SPEC, resolve)
    run_sweep(tasks, toy_run, tmp_path / "inline", backend=InlineBackend(), progress=False)
    expected = results_by_key(tmp_path / "inline")
    for workers in (1, 2):
        run_sweep(tasks, toy_run, tmp_path / f"pool{workers}", backend=ProcessPoolBackend(workers), progress=False)
        assert results_by_key(tmp_path / f"pool{workers}") == expected
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        report = run_sweep(tasks, toy_run, tmp_path / "dask", backend=DaskBackend(cluster.scheduler_address),
                           progress=False)
        workers_used = {record["worker"] for record in read_records(tmp_path / "dask")}
    assert report.computed == len(tasks)
    assert results_by_key(tmp_path / "dask") == expected
    assert len(workers_used) == 1  # processes=False: both Dask workers live in this process
    frames = [load_results(tmp_path / name).drop(columns=["key"]) for name in ("inline", "pool2", "dask")]
    pd.testing.assert_frame_equal(frames[0], frames[1])
    pd.testing.assert_frame_equal(frames[0], frames[2])


def test_failing_run_is_recorded_not_fatal_and_retried_on_request(tmp_path):
    base = {**BASE, "fail_above": 2}
    tasks = plan_runs(SPEC, lambda point: resolve(point, base))
    report = run_sweep(tasks, toy_run, tmp_path, backend=InlineBackend(), progress=False)
    assert (report.computed, report.failed) == (12, 4)  # count 4 fails at both rates, 2 replications
    failures = [record for record in read_records(tmp_path) if record["status"] == "error"]
    assert {record["point"]["devices[0].count"] for record in failures} == {4}
    assert all(record["error"] == "ValueError: count 4 too large" for record in failures)
    assert all("toy_run" in record["traceback"] for record in failures)
    again = run_sweep(tasks, toy_run, tmp_path, backend=InlineBackend(), progress=False)
    assert (again.reused, again.computed) == (12, 0)  # a recorded failure is a finished run
    retried = run_sweep(tasks, toy_run, tmp_path, backend=InlineBackend(), progress=False, retry_failed=True)
    assert (retried.reused, retried.computed, retried.failed) == (8, 4, 4)


class InterruptAfter:
    """A run function that behaves like Ctrl-C arriving during call number ``limit + 1``."""

    def __init__(self, limit):
        self.limit, self.calls = limit, 0

    def __call__(self, scenario, seed):
        self.calls += 1
        if self.calls > self.limit:
            raise KeyboardInterrupt
        return toy_run(scenario, seed)


def test_interrupted_sweep_resumes_without_loss_or_recomputation(tmp_path):
    tasks = plan_runs(SPEC, resolve)
    with pytest.raises(SweepInterruptedError, match=r"interrupted: 5 of 12 runs saved in .*run the same sweep again"):
        run_sweep(tasks, InterruptAfter(5), tmp_path, backend=InlineBackend(), progress=False)
    assert len(list(read_records(tmp_path))) == 5
    counting = InterruptAfter(limit=10**9)
    report = run_sweep(tasks, counting, tmp_path, backend=InlineBackend(), progress=False)
    assert (report.reused, report.computed, counting.calls) == (5, 7, 7)
    keys = [record["key"] for record in read_records(tmp_path)]
    assert sorted(keys) == sorted(task.key for task in tasks)  # each run exactly once: nothing lost, nothing redone
    reference = tmp_path / "reference"
    run_sweep(tasks, toy_run, reference, backend=InlineBackend(), progress=False)
    assert results_by_key(tmp_path) == results_by_key(reference)


def test_a_torn_last_record_is_dropped_and_redone(tmp_path):
    tasks = plan_runs(SPEC, resolve)
    run_sweep(tasks[:3], toy_run, tmp_path, backend=InlineBackend(), progress=False)
    with (tmp_path / "runs.jsonl").open("ab") as handle:
        handle.write(b'{"key": "abc", "status": "o')  # a crash in the middle of a write
    assert len(list(read_records(tmp_path))) == 3
    report = run_sweep(tasks, toy_run, tmp_path, backend=InlineBackend(), progress=False)
    assert (report.reused, report.computed) == (3, 9)
    assert len(list(read_records(tmp_path))) == 12


def die_on_count_four(scenario, seed):
    if scenario["devices"][0]["count"] == 4:
        os._exit(3)  # the worker process dies without a word, as under the OOM killer
    return toy_run(scenario, seed)


def test_a_killed_worker_loses_runs_that_a_rerun_completes(tmp_path):
    tasks = plan_runs(SweepSpec(grid=(("devices[0].count", (1, 2, 4)),), replications=1), resolve)
    report = run_sweep(tasks, die_on_count_four, tmp_path, backend=ProcessPoolBackend(1), progress=False)
    assert report.lost >= 1
    assert report.computed + report.lost == 3
    saved = {record["key"] for record in read_records(tmp_path)}
    assert all(record["status"] == "ok" for record in read_records(tmp_path))
    final = run_sweep(tasks, toy_run, tmp_path, backend=ProcessPoolBackend(1), progress=False)
    assert (final.reused, final.computed) == (len(saved), 3 - len(saved))
    assert sorted(record["key"] for record in read_records(tmp_path)) == sorted(task.key for task in tasks)


SIGINT_SCRIPT = textwrap.dedent("""
    import signal, sys, time
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    from test_sweep_run import SPEC, resolve, toy_run
    from simulator.sweep import ProcessPoolBackend, SweepInterruptedError, plan_runs, run_sweep

    GATE = Path(sys.argv[2])

    def gated_run(scenario, seed):
        # the four count-1 runs come first in plan order and finish at once; every later run waits for the test's
        # gate file (created only after the interrupt), so Ctrl-C always lands mid-sweep, however loaded the machine
        if scenario["devices"][0]["count"] > 1:
            while not GATE.exists():
                time.sleep(0.01)
        return toy_run(scenario, seed)

    if __name__ == "__main__":
        # Ctrl-C as a terminal's foreground job has it. A test run started as a background job of a script
        # (`pytest ... &`) has SIGINT ignored (POSIX), an ignored signal stays ignored across exec, and a Python
        # started so never raises KeyboardInterrupt: the sweep would finish all runs and exit 0
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            run_sweep(plan_runs(SPEC, resolve), gated_run, sys.argv[1], backend=ProcessPoolBackend(2),
                      progress=False)
        except SweepInterruptedError as error:
            print(error.saved, flush=True)
            sys.exit(130)
""")


def test_ctrl_c_on_a_process_pool_sweep_keeps_every_finished_run(tmp_path):
    script = tmp_path / "sweep_script.py"
    script.write_text(SIGINT_SCRIPT.format(tests=str(Path(__file__).parent)))
    out, gate = tmp_path / "out", tmp_path / "gate"
    repo = str(Path(__file__).parent.parent)
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [repo, os.environ.get("PYTHONPATH")]))}
    process = subprocess.Popen([sys.executable, str(script), str(out), str(gate)], stdout=subprocess.PIPE, text=True,
                               start_new_session=True, env=environment)
    try:
        # a condition, not a duration: wait until the four ungated runs are on disk (the rest wait for the gate)
        while len(list(read_records(out))) < 4:
            assert process.poll() is None, "the sweep ended before it was interrupted"
            time.sleep(0.01)
        os.killpg(process.pid, signal.SIGINT)  # like Ctrl-C in a terminal: the whole process group
    finally:
        gate.touch()  # the interrupt is pending in the parent already; now the workers may finish and exit
    stdout, _ = process.communicate(timeout=120)
    assert process.returncode == 130
    saved = len(list(read_records(out)))
    assert saved == 4
    assert int(stdout.split()[-1]) == saved
    tasks = plan_runs(SPEC, resolve)
    report = run_sweep(tasks, toy_run, out, backend=InlineBackend(), progress=False)
    assert (report.reused, report.computed) == (saved, 12 - saved)
    keys = [record["key"] for record in read_records(out)]
    assert sorted(keys) == sorted(task.key for task in tasks)


def test_load_results_is_tidy(tmp_path):
    base = {**BASE, "fail_above": 2}
    tasks = plan_runs(SPEC, lambda point: resolve(point, base))
    run_sweep(tasks, toy_run, tmp_path, backend=InlineBackend(), progress=False)
    frame = load_results(tmp_path)
    assert frame.attrs["parameters"] == ["devices[0].count", "rate_per_s"]
    assert frame.attrs["metrics"] == ["latency_s.mean", "tasks"]
    ok = frame[frame["status"] == "ok"]
    assert len(ok) == 8 * 2  # one row per (run, policy)
    assert set(ok["policy"]) == {"local", "edge"}
    assert len(frame[frame["status"] == "error"]) == 4
    assert frame.loc[frame["status"] == "error", "latency_s.mean"].isna().all()
    assert len(load_results(tmp_path, include_failed=False)) == 16
    row = ok.iloc[0]
    task = next(task for task in tasks if task.key == row["key"])
    expected = toy_run(task.scenario, task.seed)["policies"][row["policy"]]["latency_s"]["mean"]
    assert row["latency_s.mean"] == expected
    assert list(frame["key"].drop_duplicates()) == [task.key for task in tasks]  # sweep order


def test_load_results_follows_the_latest_sweep_unless_asked(tmp_path):
    run_sweep(plan_runs(SPEC, resolve), toy_run, tmp_path, backend=InlineBackend(), progress=False)
    narrow = plan_runs(SweepSpec(grid=(("devices[0].count", (1,)),), replications=1), resolve)
    report = run_sweep(narrow, toy_run, tmp_path, backend=InlineBackend(), progress=False)
    assert (report.reused, report.computed) == (1, 0)  # the same run as replication 0 of (count=1, rate=2.0)
    assert load_results(tmp_path)["key"].nunique() == 1
    assert load_results(tmp_path, all_runs=True)["key"].nunique() == 12


def test_store_refuses_a_second_writer_and_load_refuses_a_non_sweep(tmp_path):
    with ResultStore(tmp_path), pytest.raises(MecsimError, match="another sweep is writing"):
        ResultStore(tmp_path).__enter__()
    with pytest.raises(MecsimError, match="not a sweep directory"):
        load_results(tmp_path / "nothing")


def test_make_backend_chooses_by_options(monkeypatch):
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    assert make_backend(workers=3) == ProcessPoolBackend(3)
    assert make_backend(address="tcp://h:8786") == DaskBackend("tcp://h:8786")
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://env:8786")
    assert make_backend() == DaskBackend("tcp://env:8786")
    assert make_backend("inline") == InlineBackend()
    with pytest.raises(ParameterError, match="unknown; valid backends: dask, inline, local"):
        make_backend("slurm")
    with pytest.raises(MecsimError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:1"):
        list(DaskBackend("tcp://127.0.0.1:1", connect_timeout_s=1).map_unordered(toy_run, plan_runs(SPEC, resolve)))


def test_an_unpicklable_run_function_is_refused_before_anything_runs(tmp_path):
    with pytest.raises(ParameterError, match="must be picklable to run in worker processes"):
        run_sweep(plan_runs(SPEC, resolve), lambda scenario, seed: {}, tmp_path, backend=ProcessPoolBackend(1),
                  progress=False)
    assert list(read_records(tmp_path)) == []
