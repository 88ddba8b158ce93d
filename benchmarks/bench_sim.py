"""Simulator benchmark: scenario S100 against a minimal hand-written SimPy model, scaling and streaming memory.

S100: 100 devices, 10 edge servers (device i on edge i mod 10, one worker each), Poisson 1 task/s per device,
200 kB uploads over dedicated 100 Mbps links with 2 ms one-way delay, 500 M ops at 10 G ops/s (0.05 s),
1 Gbps / 5 ms core links, 1000 simulated seconds, always-edge.

Prints tasks per wall-second of mecsim (records, energy metering and monitors on) and of the minimal model measured
in the same run, their ratio (target >= 1.0), the rate with 10x devices and edges at the same task count relative to
S100 (target >= 0.8), the peak memory of a 1 M-task streaming run (target <= 100 MB) and the memory per task of a
run that keeps its records: peak RSS growth between 100 k and 1 M tasks, each size in a fresh process
(target <= 200 bytes per task).

Usage: ``python benchmarks/bench_sim.py [--quick] [--repeat N] [--skip-memory]`` (``--quick`` shortens every run
tenfold). Cases run round-robin and the best of ``--repeat`` runs counts, so background load hits all alike.
"""

from __future__ import annotations

import argparse
import gc
import math
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable

import numpy as np
import simpy

from simulator.builders import s100_world
from simulator.run import run
from simulator.world import World

UPLOAD_S = 200e3 * 8 / 100e6
SERVICE_S = 500e6 / 10e9
ACCESS_DELAY_S = 0.002


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


def _measure(cases: dict[str, Callable[[], tuple[int, float]]], repeat: int) -> dict[str, tuple[float, float, int,
                                                                                                 float]]:
    """Run the cases round-robin ``repeat`` times (so background load hits all alike); per case the best wall and
    CPU seconds, the tasks completed and the mean response time (s)."""
    best: dict[str, tuple[float, float, int, float]] = {}
    for _ in range(repeat):
        for name, case in cases.items():
            gc.collect()
            wall, cpu = time.perf_counter(), time.process_time()
            tasks, mean_s = case()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            old = best.get(name, (math.inf, math.inf, tasks, mean_s))
            best[name] = (min(old[0], wall), min(old[1], cpu), tasks, mean_s)
    return best


def _ours(world: World, duration_s: float) -> tuple[int, float]:
    summary = run(world, duration_s=duration_s, seed=1).policies["always_edge"]
    mean_s = summary.latency_s.mean_s
    return summary.tasks.completed, math.nan if mean_s is None else mean_s


def _status_mb(field: str) -> float:
    """A memory figure of this process from ``/proc/self/status`` (VmRSS now, VmHWM peak) in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1e3
    return float("nan")


def _memory_child(duration_s: float, traced: bool, streaming: bool) -> None:
    """Run in a fresh process: RSS growth of one run, or (``traced``) its peak traced allocations."""
    world = s100_world()
    run(world, duration_s=1.0, seed=0, streaming=streaming)  # warm imports and caches
    gc.collect()
    before = _status_mb("VmRSS")
    if traced:
        tracemalloc.start()
    result = run(world, duration_s=duration_s, seed=1, streaming=streaming)
    peak = tracemalloc.get_traced_memory()[1] / 1e6 if traced else _status_mb("VmHWM") - before
    tasks = result.policies["always_edge"].tasks.generated
    print(f"{tasks} {peak:.1f} {_status_mb('VmHWM'):.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="ten times shorter runs")
    parser.add_argument("--repeat", type=int, default=5, help="repetitions per case (best is kept)")
    parser.add_argument("--skip-memory", action="store_true", help="skip the memory runs (up to 1 M tasks each)")
    parser.add_argument("--memory-child", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--records", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        _memory_child(args.memory_child, args.traced, streaming=not args.records)
        return
    scale = 0.1 if args.quick else 1.0
    duration = 1000.0 * scale

    s100, s1000 = s100_world(), s100_world(1000, 100)
    best = _measure({"minimal": lambda: minimal_model(100, 10, duration, 1),
                     "mecsim": lambda: _ours(s100, duration),
                     "mecsim-10x": lambda: _ours(s1000, duration / 10.0)}, args.repeat)
    rate = {name: (tasks / wall, tasks / cpu) for name, (wall, cpu, tasks, _) in best.items()}
    labels = {"minimal": "S100 minimal hand-written SimPy model",
              "mecsim": "S100 mecsim (records, energy, monitors on)",
              "mecsim-10x": "S1000 mecsim (10x devices and edges, same task count)"}
    for name, (wall, _, tasks, mean_s) in best.items():
        print(f"{labels[name]:55s} {tasks:7d} tasks  {wall:5.2f} s wall  {rate[name][0]:8.0f} tasks/s "
              f"({rate[name][1]:8.0f} per CPU-s)  mean response {mean_s * 1e3:.1f} ms")
    for label, num, den, target in (("mecsim / minimal", "mecsim", "minimal", 1.0),
                                    ("S1000 / S100 (mecsim)", "mecsim-10x", "mecsim", 0.8)):
        print(f"ratio {label:24s} = {rate[num][0] / rate[den][0]:.2f} wall, {rate[num][1] / rate[den][1]:.2f} CPU"
              f"  (target >= {target})")

    if args.skip_memory:
        return
    horizon = 10_000.0 * scale
    streamed, growth_mb, hwm_mb = _child(horizon)
    traced_mb = _child(horizon, "--traced")[1]
    print(f"streaming {streamed} tasks: peak RSS growth {growth_mb:.1f} MB, peak traced allocations "
          f"{traced_mb:.1f} MB (process peak RSS {hwm_mb:.1f} MB incl. numpy/pandas/scipy)  (target <= 100 MB)")
    small, small_mb, _ = _child(horizon / 10.0, "--records")
    large, large_mb, _ = _child(horizon, "--records")
    print(f"records kept: peak RSS growth {small_mb:.1f} MB at {small} tasks, {large_mb:.1f} MB at {large} tasks: "
          f"{(large_mb - small_mb) * 1e6 / (large - small):.0f} bytes per task  (target <= 200)")


def _child(horizon_s: float, *mode: str) -> tuple[int, float, float]:
    """Tasks generated, peak memory growth (MB) and process peak RSS (MB) of one run in a fresh process."""
    child = subprocess.run([sys.executable, __file__, "--memory-child", str(horizon_s), *mode], check=True,
                           capture_output=True, text=True)
    tasks, growth_mb, hwm_mb = child.stdout.split()
    return int(tasks), float(growth_mb), float(hwm_mb)


if __name__ == "__main__":
    main()
