"""Killed sweeps resume: workers die with their parent, SIGTERM acts like Ctrl-C, stale locks and damaged lines do
not block a rerun, nothing is lost or duplicated.

The tests that kill real processes control the run with files: a run blocks until the test says so, and the test
waits for files the runs write; no outcome depends on how fast the machine is.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import psutil
import pytest
from click.testing import CliRunner
from test_sweep_run import SPEC, resolve, toy_run

from offload.errors import MecsimError
from simulator.cli import main
from simulator.sweep import InlineBackend, SweepInterruptedError, plan_runs, run_sweep
from simulator.sweep.store import LOCK_FILE, OWNER_FILE, RUNS_FILE, ResultStore, read_records

#: Upper bound on waiting for an event the test caused; reached only if the code under test is broken.
PATIENCE_S = 120.0
FAST_RUNS = 4

SCRIPT = textwrap.dedent("""
    import json, os, sys, time
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    from test_sweep_run import SPEC, resolve, toy_run
    from simulator.sweep import ProcessPoolBackend, SweepInterruptedError, plan_runs, run_sweep

    CONTROL = Path(sys.argv[2])
    FAST = {{(json.dumps(task.scenario, sort_keys=True), task.seed) for task in plan_runs(SPEC, resolve)[:{fast}]}}

    def controlled_run(scenario, seed):
        # the first runs finish at once; the others announce themselves and block until the test releases them
        if (json.dumps(scenario, sort_keys=True), seed) not in FAST:
            (CONTROL / f"blocked-{{os.getpid()}}").touch()
            while not (CONTROL / "release").exists():
                time.sleep(0.01)
        return toy_run(scenario, seed)

    if __name__ == "__main__":
        print(os.getpid(), flush=True)
        try:
            run_sweep(plan_runs(SPEC, resolve), controlled_run, sys.argv[1], backend=ProcessPoolBackend(2),
                      progress=False)
        except SweepInterruptedError as error:
            print("saved", error.saved, flush=True)
            sys.exit(130)
""")


def _wait_for(condition, what):
    deadline = time.monotonic() + PATIENCE_S
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


def _start_blocked_sweep(tmp_path):
    """A sweep subprocess whose FAST_RUNS first runs are on disk and whose two workers are blocked in a run."""
    script, out, control = tmp_path / "sweep_script.py", tmp_path / "out", tmp_path / "control"
    control.mkdir()
    script.write_text(SCRIPT.format(tests=str(Path(__file__).parent), fast=FAST_RUNS))
    repo = str(Path(__file__).parent.parent)
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [repo, os.environ.get("PYTHONPATH")]))}
    process = subprocess.Popen([sys.executable, str(script), str(out), str(control)], stdout=subprocess.PIPE,
                               text=True, start_new_session=True, env=environment)
    def ready():
        assert process.poll() is None, "the sweep ended before its workers blocked"
        return len(list(read_records(out))) == FAST_RUNS and len(list(control.glob("blocked-*"))) == 2

    _wait_for(ready, "the fast runs to be saved and both workers to block")
    workers = [int(path.name.split("-")[1]) for path in control.glob("blocked-*")]
    assert {child.pid for child in psutil.Process(process.pid).children(recursive=True)} >= set(workers)
    return process, out, control, workers


def _gone(pid):
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _resume_completes_exactly_once(out, control):
    (control / "release").touch()
    tasks = plan_runs(SPEC, resolve)
    report = run_sweep(tasks, toy_run, out, backend=InlineBackend(), progress=False)
    assert (report.reused, report.computed) == (FAST_RUNS, len(tasks) - FAST_RUNS)
    keys = Counter(record["key"] for record in read_records(out))
    assert keys == Counter(task.key for task in tasks)  # every run exactly once: nothing lost, nothing duplicated


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_killed_sweep_leaves_no_orphan_and_resumes(tmp_path, signum):
    process, out, control, workers = _start_blocked_sweep(tmp_path)
    try:
        os.kill(process.pid, signum)  # the main process only, as `kill PID` does; not the process group
        stdout, _ = process.communicate(timeout=PATIENCE_S)
        _wait_for(lambda: all(_gone(pid) for pid in workers), "the workers to die with their parent")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        for pid in workers:
            if not _gone(pid):
                os.kill(pid, signal.SIGKILL)
    if signum == signal.SIGTERM:  # handled like Ctrl-C: a clean exit that reports what is on disk
        assert process.returncode == 130
        assert stdout.split()[-2:] == ["saved", str(FAST_RUNS)]
    else:
        assert process.returncode == -signal.SIGKILL
    _resume_completes_exactly_once(out, control)


def test_a_lock_held_by_a_dead_sweep_is_stale(tmp_path):
    # a process that is certainly dead: started, finished and reaped
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    orphan = tmp_path / LOCK_FILE
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys
        from filelock import FileLock
        lock = FileLock({str(orphan)!r})
        lock.acquire(timeout=0)
        print("locked", flush=True)
        sys.stdin.read()
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"  # like a worker that inherited the dead sweep's lock
        (tmp_path / OWNER_FILE).write_text(json.dumps({"host": socket.gethostname(), "pid": int(dead.stdout)}))
        with ResultStore(tmp_path) as store:
            assert store.status == {}
        with ResultStore(tmp_path), pytest.raises(MecsimError, match=rf"process {os.getpid()} on"):
            ResultStore(tmp_path).__enter__()  # a live holder is never broken
    finally:
        holder.communicate("")


DAMAGE = {
    "blank line": b"\n",
    "garbage line": b"this is not json\n",
    "json but not a record": b'{"key": 3, "status": "ok"}\n',
    "latin-1 byte": b'{"key": "\xe9"}\n',
    "deep nesting": b"[" * 100_000 + b"\n",
}


@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
def test_damaged_lines_are_skipped_reported_and_every_good_record_kept(tmp_path, damage):
    tasks = plan_runs(SPEC, resolve)
    run_sweep(tasks[:3], toy_run, tmp_path, backend=InlineBackend(), progress=False)
    runs = tmp_path / RUNS_FILE
    lines = runs.read_bytes().splitlines(keepends=True)
    runs.write_bytes(lines[0] + damage + b"".join(lines[1:]) + damage)
    report = run_sweep(tasks, toy_run, tmp_path, backend=InlineBackend(), progress=False)
    assert (report.reused, report.computed, report.damaged) == (3, 9, (2, 5))
    assert Counter(record["key"] for record in read_records(tmp_path)) == Counter(task.key for task in tasks)


def test_the_cli_reports_damaged_lines_and_resumes(tmp_path):
    out = tmp_path / "out"
    arguments = ["sweep", "mm1", "--set", "run.duration=20s", "--set", "run.warmup=0s", "--grid", "run.seed=1,2",
                 "--replications", "1", "--workers", "1", "--out", str(out), "--quiet"]
    first = CliRunner().invoke(main, arguments)
    assert first.exit_code == 0, first.output
    with (out / RUNS_FILE).open("ab") as handle:
        handle.write(b"\n{garbage}\n")
    again = CliRunner().invoke(main, arguments)
    assert again.exit_code == 0, again.output
    assert "skipped 2 damaged line(s) (line 3, 4); every good record was kept" in again.output
    assert "2 already done, 0 run" in again.output


def test_the_saved_count_is_read_from_the_store(tmp_path):
    tasks = plan_runs(SPEC, resolve)

    class InterruptBetweenAppendAndCount:
        """Ctrl-C arriving just after the fifth record reached the file."""

        def __init__(self):
            self.calls = 0

        def __call__(self, scenario, seed):
            self.calls += 1
            if self.calls > 5:
                assert len(list(read_records(tmp_path))) == 5
                raise KeyboardInterrupt
            return toy_run(scenario, seed)

    with pytest.raises(SweepInterruptedError) as caught:
        run_sweep(tasks, InterruptBetweenAppendAndCount(), tmp_path, backend=InlineBackend(), progress=False)
    assert caught.value.saved == len(list(read_records(tmp_path))) == 5
