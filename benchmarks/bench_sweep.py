"""Sweep benchmark: parallel speed-up and per-run overhead of the sweep machinery.

- Speed-up: 40 runs of about one second each, on a local pool of 1 worker (the baseline, measured in the same
  invocation) and of 2 workers; once with a pure CPU-bound loop, once with real simulations (the mm1 scenario, its
  horizon calibrated to one second). Target (issue 7): >= 1.8x. Other load on the machine lowers it: the load
  average is printed.
- Overhead per run: a trivial run function through the whole path (plan, submit, execute, append + fsync the
  record, progress accounting), for each backend. Target: < 50 ms per run.
- Planning cost per run of a real scenario sweep (apply the point, re-validate, hash).

    .venv/bin/python benchmarks/bench_sweep.py           # about 3 minutes on 2 cores
    .venv/bin/python benchmarks/bench_sweep.py --quick   # smaller sizes, a smoke test
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from simulator.sweep import (
    DaskBackend,
    InlineBackend,
    ProcessPoolBackend,
    ResolvedPoint,
    SweepSpec,
    grid_from_options,
    plan_runs,
    run_sweep,
)
from simulator.sweep.backends import Backend
from simulator.sweep.scenarios import load_sweep, run_scenario

SPEEDUP_TARGET = 2 * 0.9
OVERHEAD_TARGET_S = 0.050


def busy_run(scenario: Mapping[str, Any], seed: int) -> dict[str, Any]:
    """CPU-bound work of a fixed number of iterations (deterministic, about ``run_s`` seconds)."""
    value = seed % 1_000_003
    for step in range(scenario["iterations"]):
        value = (value * 31 + step) % 1_000_003
    return {"policies": {"busy": {"value": value}}}


def trivial_run(scenario: Mapping[str, Any], seed: int) -> dict[str, Any]:
    """No work at all: what remains is the sweep machinery."""
    return {"policies": {"trivial": {"value": scenario["index"] + seed % 7}}}


def calibrate(run_s: float) -> int:
    """Iterations of :func:`busy_run` that take about ``run_s`` seconds on this machine."""
    iterations = 200_000
    busy_run({"iterations": iterations}, 1)  # warm up
    while True:
        start = time.perf_counter()
        busy_run({"iterations": iterations}, 1)
        elapsed_s = time.perf_counter() - start
        if elapsed_s > 0.5:
            return int(iterations * run_s / elapsed_s)
        iterations *= 2


def toy_tasks(runs: int, **fields: Any) -> list:
    spec = SweepSpec(grid=(("index", tuple(range(runs))),), replications=1)
    return plan_runs(spec, lambda point: ResolvedPoint({**fields, **point}, 0, 1, point))


def timed(tasks: list, fn: Any, backend: Backend) -> float:
    """Wall-clock seconds to run ``tasks`` into a fresh directory."""
    with tempfile.TemporaryDirectory() as directory:
        start = time.perf_counter()
        report = run_sweep(tasks, fn, Path(directory), backend=backend, progress=False)
        elapsed_s = time.perf_counter() - start
    if report.computed != len(tasks) or report.failed or report.lost:
        raise RuntimeError(f"benchmark sweep did not complete cleanly: {report}")
    return elapsed_s


def scenario_tasks(runs: int, run_s: float) -> list:
    """``runs`` replications of the mm1 scenario with a horizon that simulates in about ``run_s`` seconds."""
    probe_s = 400.0
    probe = load_sweep("mm1", overrides=[f"run.duration={probe_s:g}s", "run.warmup=10s"], replications=1).tasks()[0]
    run_scenario(probe.scenario, probe.seed)  # warm up: imports and first-call costs are not per run in a sweep
    start = time.perf_counter()
    run_scenario(probe.scenario, probe.seed)
    duration_s = probe_s * run_s / (time.perf_counter() - start)
    return load_sweep("mm1", overrides=[f"run.duration={duration_s:.0f}s", "run.warmup=10s"],
                      replications=runs).tasks()


def _busy_task(iterations: int) -> dict[str, Any]:
    return busy_run({"iterations": iterations}, 1)


def ceiling(run_s: float) -> float:
    """Speed-up a bare ``multiprocessing`` pool of 2 gets over one process right now (4 busy loops): the most the
    machine allows at this moment, whatever else is running on it."""
    iterations = calibrate(run_s / 4)
    start = time.perf_counter()
    for _ in range(4):
        _busy_task(iterations)
    serial_s = time.perf_counter() - start
    with multiprocessing.Pool(2) as pool:
        start = time.perf_counter()
        pool.map(_busy_task, [iterations] * 4)
        parallel_s = time.perf_counter() - start
    return serial_s / parallel_s


def wait_until_quiet(max_wait_s: float) -> None:
    """Wait (up to ``max_wait_s``) for the 1-minute load average to drop below 0.5."""
    deadline = time.monotonic() + max_wait_s
    while os.getloadavg()[0] >= 0.5 and time.monotonic() < deadline:
        time.sleep(5)


def speedup(runs: int, run_s: float, *, real: bool) -> bool:
    if real:
        tasks, fn, what = scenario_tasks(runs, run_s), run_scenario, "simulations of mm1"
    else:
        iterations = calibrate(run_s)
        tasks, fn, what = toy_tasks(runs, iterations=iterations), busy_run, "CPU-bound loops"
    print(f"\n== speed-up: {runs} {what} of ~{run_s:g} s each; "
          f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    before = ceiling(run_s)
    one_s = timed(tasks, fn, ProcessPoolBackend(1))
    two_s = timed(tasks, fn, ProcessPoolBackend(2))
    after = ceiling(run_s)
    ratio = one_s / two_s
    print(f"local pool, 1 worker : {one_s:7.2f} s  (baseline; {one_s / runs:.2f} s per run)")
    print(f"local pool, 2 workers: {two_s:7.2f} s  speed-up {ratio:.2f}x  (target >= {SPEEDUP_TARGET:.1f}x) "
          f"{'PASS' if ratio >= SPEEDUP_TARGET else 'FAIL'}")
    print(f"bare multiprocessing pool of 2 right before/after: {before:.2f}x / {after:.2f}x "
          "(below ~1.9x means other load was sharing the CPUs)")
    return ratio >= SPEEDUP_TARGET


def overhead(runs: int) -> bool:
    from distributed import LocalCluster

    tasks = toy_tasks(runs)
    print(f"\n== overhead per run: {runs} trivial runs (record appended and fsynced each)")
    ok = True
    backends: list[tuple[str, Backend]] = [("inline", InlineBackend()), ("local pool, 1 worker", ProcessPoolBackend(1)),
                                           ("local pool, 2 workers", ProcessPoolBackend(2))]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        backends.append(("dask LocalCluster, 2 procs", DaskBackend(cluster.scheduler_address)))
        for name, backend in backends:
            per_run_s = timed(tasks, trivial_run, backend) / runs
            passed = per_run_s < OVERHEAD_TARGET_S
            ok &= passed
            print(f"{name:28s}: {per_run_s * 1e3:7.2f} ms/run  (target < {OVERHEAD_TARGET_S * 1e3:.0f} ms) "
                  f"{'PASS' if passed else 'FAIL'}")
    return ok


def planning(points: int) -> None:
    rates = ",".join(f"{4 + 4 * i / points:.4f}/s" for i in range(points))
    start = time.perf_counter()
    sweep = load_sweep("mm1", grid=grid_from_options([f"devices[0].workload.rate={rates}"]), replications=1)
    tasks = sweep.tasks()
    per_run_s = (time.perf_counter() - start) / len(tasks)
    print(f"\n== planning a scenario sweep: {len(tasks)} points of mm1: {per_run_s * 1e3:.2f} ms/run "
          "(apply point, re-validate, hash)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="12 runs of 0.3 s and 100 trivial runs")
    parser.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                        help="before each speed-up measurement wait up to this long for the load average < 0.5")
    args = parser.parse_args()
    runs, run_s, trivial = (12, 0.3, 100) if args.quick else (40, 1.0, 400)
    results = []
    for real in (False, True):
        wait_until_quiet(args.wait_quiet)
        results.append(speedup(runs, run_s, real=real))
    results.append(overhead(trivial))
    planning(50 if args.quick else 200)
    print("\nall targets met" if all(results) else "\nSOME TARGETS MISSED")


if __name__ == "__main__":
    main()
