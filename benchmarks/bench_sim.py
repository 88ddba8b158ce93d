"""Simulator benchmark: scenario S100 against a minimal hand-written SimPy model, scaling and streaming memory.

S100: 100 devices, 10 edge servers (device i on edge i mod 10, one worker each), Poisson 1 task/s per device,
200 kB uploads over dedicated 100 Mbps links with 2 ms one-way delay, 500 M ops at 10 G ops/s (0.05 s),
1 Gbps / 5 ms core links, 1000 simulated seconds, always-edge.

Prints tasks per wall-second of mecsim (records, energy metering and monitors on) and of the minimal model measured
in the same run, their ratio (target >= 1.0), the rate with 10x devices and edges at the same task count relative to
S100 (target >= 0.8) and the peak memory of a 1 M-task streaming run (target <= 100 MB).

Usage: ``python benchmarks/bench_sim.py [--quick]`` (``--quick`` shortens every run tenfold).
"""

from __future__ import annotations

import argparse
import gc
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import simpy

from simulator.builders import s100_world
from simulator.run import run

UPLOAD_S = 200e3 * 8 / 100e6
SERVICE_S = 500e6 / 10e9
ACCESS_DELAY_S = 0.002
T = TypeVar("T")


def minimal_model(n_devices: int, n_edges: int, duration_s: float, seed: int) -> tuple[int, float]:
    """The S100 scenario written the way one would by hand in SimPy: a process per device and per task.

    Returns the number of completed tasks and their mean response time (s).
    """
    env = simpy.Environment()
    rng = np.random.default_rng(seed)
    edges = [simpy.Resource(env, capacity=1) for _ in range(n_edges)]
    done = [0, 0.0]

    def task(edge: simpy.Resource) -> simpy.events.ProcessGenerator:
        start = env.now
        yield env.timeout(UPLOAD_S + ACCESS_DELAY_S)
        with edge.request() as request:
            yield request
            yield env.timeout(SERVICE_S)
        yield env.timeout(ACCESS_DELAY_S)
        done[0] += 1
        done[1] += env.now - start

    def device(index: int) -> simpy.events.ProcessGenerator:
        edge = edges[index % n_edges]
        while True:
            yield env.timeout(rng.exponential(1.0))
            env.process(task(edge))

    for i in range(n_devices):
        env.process(device(i))
    env.run(until=duration_s)
    return int(done[0]), float(done[1] / max(done[0], 1))


def _timed(fn: Callable[[], T], repeat: int = 3) -> tuple[float, T]:
    """Best wall time of ``repeat`` calls (the least disturbed by other load) and the last value."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - start)
    return best, value


def _status_mb(field: str) -> float:
    """A memory figure of this process from ``/proc/self/status`` (VmRSS now, VmHWM peak) in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1e3
    return float("nan")


def _streaming_child(duration_s: float, traced: bool) -> None:
    """Run in a fresh process: RSS growth of one streaming run, or (``traced``) its peak traced allocations."""
    world = s100_world()
    run(world, duration_s=1.0, seed=0, streaming=True)  # warm imports and caches
    gc.collect()
    before = _status_mb("VmRSS")
    if traced:
        tracemalloc.start()
    result = run(world, duration_s=duration_s, seed=1, streaming=True)
    peak = tracemalloc.get_traced_memory()[1] / 1e6 if traced else _status_mb("VmHWM") - before
    tasks = result.summary["policies"]["always_edge"]["tasks"]["generated"]
    print(f"{tasks} {peak:.1f} {_status_mb('VmHWM'):.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="ten times shorter runs")
    parser.add_argument("--skip-memory", action="store_true", help="skip the 1 M-task streaming memory run")
    parser.add_argument("--streaming-child", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.streaming_child:
        _streaming_child(args.streaming_child, args.traced)
        return
    scale = 0.1 if args.quick else 1.0
    duration = 1000.0 * scale

    world = s100_world()
    t_min, (n_min, mean_min) = _timed(lambda: minimal_model(100, 10, duration, 1))
    t_ours, result = _timed(lambda: run(world, duration_s=duration, seed=1))
    summary = result.summary["policies"]["always_edge"]
    n_ours = summary["tasks"]["completed"]
    rate_min, rate_ours = n_min / t_min, n_ours / t_ours
    print(f"S100 minimal SimPy model : {n_min:8d} tasks in {t_min:6.2f} s = {rate_min:9.0f} tasks/s "
          f"(mean response {mean_min * 1e3:.1f} ms)")
    print(f"S100 mecsim (records+energy+monitors): {n_ours:8d} tasks in {t_ours:6.2f} s = {rate_ours:9.0f} "
          f"tasks/s (mean response {summary['latency_s']['mean'] * 1e3:.1f} ms)")
    print(f"ratio mecsim / minimal = {rate_ours / rate_min:.2f}  (target >= 1.0)")

    big = s100_world(1000, 100)
    t_big, result_big = _timed(lambda: run(big, duration_s=duration / 10.0, seed=1))
    n_big = result_big.summary["policies"]["always_edge"]["tasks"]["completed"]
    rate_big = n_big / t_big
    print(f"S1000 (10x devices and edges, same task count): {n_big} tasks in {t_big:.2f} s = {rate_big:.0f} "
          f"tasks/s; ratio to S100 = {rate_big / rate_ours:.2f}  (target >= 0.8)")

    if args.skip_memory:
        return
    horizon = 10_000.0 * scale
    figures = {}
    for mode in ([], ["--traced"]):
        child = subprocess.run([sys.executable, __file__, "--streaming-child", str(horizon), *mode], check=True,
                               capture_output=True, text=True)
        figures[bool(mode)] = child.stdout.split()
    tasks, growth_mb, hwm_mb = figures[False]
    print(f"streaming {int(tasks)} tasks: peak RSS growth {growth_mb} MB, peak traced allocations "
          f"{figures[True][1]} MB (process peak RSS {hwm_mb} MB incl. numpy/pandas/scipy)  (target <= 100 MB)")


if __name__ == "__main__":
    main()
