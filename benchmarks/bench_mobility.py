"""Mobility benchmark: what moving devices cost (:mod:`simulator.mobility`), on S100-like worlds.

Two measurements, each against a baseline measured in the same run (CPU time of this process, best of
``--repeat``, cases round-robin: the machine is shared, so wall time says more about the neighbours):

- ``rate``: 1,000 devices (S100 scaled: 10 cells of 100 devices at 1 task/s, 10 workers per edge), every
  group moving by random waypoint (1-15 m/s, no pause) on a 2 km × 1 km plane with the cells on a 5 × 2 grid,
  positions updated every 1 s, nearest cell in range, handovers with a 20 ms interruption; tasks per CPU-second
  against the same world with mobility off (target >= 0.7x); then the same moving world with a radio on every cell
  (20 MHz, path loss exponent 3.5, 200 mW devices, one channel: the uplink modelled), and with the access points'
  20 W downlink modelled too (:mod:`simulator.mobility.radio`), the latter also as a ratio to the uplink radio alone;
- ``share``: 10,000 devices at 0.1 task/s each: the CPU time of the position updates (the models' vectorised
  steps, ``models.advance_all``) and of the whole mobility steps (positions, attachment, handovers) as a share of
  the run (target < 20 %).

With ``--memory``, instead: the peak memory growth per moving device and mobility step (the motion logs a run keeps:
speeds, tracks, distance series), the constant ``MOTION_BYTES_PER_STEP`` of the run budget
(:mod:`simulator.scenario.budget`). The world of ``rate`` at 0.01 task/s per device runs 600 s and 6,000 s (``--quick``:
300 s and 3,000 s), each in a fresh process; the difference of their peak RSS growths, less their tasks' records
(``RECORD_BYTES_PER_TASK`` each), over the difference of their steps.

Usage: ``python benchmarks/bench_mobility.py [--quick] [--repeat N] [--memory]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import logging
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from bench_sim import _status_mb  # the other benchmark's reading of /proc/self/status

from offload.pathloss import RadioModel
from simulator.builders import s100_world
from simulator.mobility import Area, Cell, GroupMotion, HandoverRule, Mobility, RandomWaypoint
from simulator.mobility import controller as mobility_controller
from simulator.mobility import models as mobility_models
from simulator.run import run
from simulator.scenario.budget import RECORD_BYTES_PER_TASK
from simulator.world import World

AREA = Area(2000.0, 1000.0)
UPLINK_RADIO = RadioModel(bandwidth_hz=20e6, tx_power_w=0.2, path_loss_exponent=3.5)
BOTH_RADIOS = dataclasses.replace(UPLINK_RADIO, downlink_power_w=20.0)


def mobility_of(world: World, radio: RadioModel | None = None) -> Mobility:
    """Every group of ``world`` moving; its ten access points on a 5 × 2 grid of 400 m × 500 m cells, each with
    ``radio``."""
    cells = tuple(Cell(ap.name, (200.0 + 400.0 * (k % 5), 250.0 + 500.0 * (k // 5)), radio=radio)
                  for k, ap in enumerate(world.access_points))
    groups = tuple(GroupMotion(group.name, RandomWaypoint(1.0, 15.0), 1.0) for group in world.device_groups)
    return Mobility(AREA, cells, groups, HandoverRule(interruption_s=0.02))


class Timer:
    """CPU time spent inside wrapped methods."""

    def __init__(self) -> None:
        self.cpu_s = 0.0

    def wrap(self, method: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.process_time()
            try:
                return method(*args, **kwargs)
            finally:
                self.cpu_s += time.process_time() - start
        return timed


def measure(world: World, mobility: Mobility | None, duration_s: float) -> tuple[float, int]:
    """CPU seconds and tasks of one run."""
    gc.collect()
    cpu = time.process_time()
    tasks = run(world, duration_s=duration_s, seed=1, mobility=mobility).policies["always_edge"].tasks
    return time.process_time() - cpu, tasks.generated


def world_of(n_devices: int, rate_per_s: float) -> World:
    """S100 scaled to ``n_devices``, each edge with 10 workers (utilisation ~0.5 at 1 task/s per 10 devices)."""
    world = s100_world(n_devices, rate_per_s=rate_per_s)
    return dataclasses.replace(world, servers=tuple(dataclasses.replace(s, workers=10) for s in world.servers))


def rate(duration_s: float, repeat: int) -> None:
    world = world_of(1000, 1.0)
    cases = (("static", None), ("moving", mobility_of(world)), ("uplink radio", mobility_of(world, UPLINK_RADIO)),
             ("both radios", mobility_of(world, BOTH_RADIOS)))
    best: dict[str, tuple[float, int]] = {}
    for _ in range(repeat):
        for name, mobility in cases:
            cpu, tasks = measure(world, mobility, duration_s)
            if name not in best or cpu < best[name][0]:
                best[name] = (cpu, tasks)
    speed = {name: tasks / cpu for name, (cpu, tasks) in best.items()}
    for name, value in speed.items():
        print(f"rate   {name:12s} {best[name][1]:9d} tasks  {value:10.0f} tasks/CPU-s  "
              f"{value / speed['static']:.2f}x mobility off"
              + (f", {value / speed['uplink radio']:.2f}x the uplink radio alone" if name == "both radios" else ""))


def share(duration_s: float, repeat: int) -> None:
    world = world_of(10_000, 0.1)
    spec = mobility_of(world)
    positions, steps = Timer(), Timer()
    advance = mobility_models.advance_all
    step = mobility_controller.MobilityRun._step
    vars(mobility_controller)["advance_all"] = positions.wrap(advance)  # the name the controller calls
    mobility_controller.MobilityRun._step = steps.wrap(step)  # type: ignore[method-assign]
    try:
        best = None
        for _ in range(repeat):
            positions.cpu_s = steps.cpu_s = 0.0
            cpu, tasks = measure(world, spec, duration_s)
            if best is None or cpu < best[0]:
                best = (cpu, tasks, positions.cpu_s, steps.cpu_s)
    finally:
        vars(mobility_controller)["advance_all"] = advance
        mobility_controller.MobilityRun._step = step  # type: ignore[method-assign]
    assert best is not None
    cpu, tasks, moved, stepped = best
    print(f"share  10,000 devices, {tasks} tasks, {cpu:.2f} CPU-s: position updates {moved / cpu:.1%}, "
          f"whole mobility steps (positions, attachment, handovers) {stepped / cpu:.1%}")


def _memory_child(duration_s: float) -> None:
    """In a fresh process: tasks, device steps and peak RSS growth (bytes) of one run kept in memory."""
    world = world_of(1000, 0.01)
    spec = mobility_of(world)
    run(world, duration_s=2.0, seed=0, mobility=spec)  # warm imports and caches
    gc.collect()
    before_mb = _status_mb("VmRSS")
    result = run(world, duration_s=duration_s, seed=1, mobility=spec)
    grown_mb = _status_mb("VmHWM") - before_mb
    steps = sum(group.count for group in world.device_groups) * int(duration_s)
    print(result.policies["always_edge"].tasks.generated, steps, grown_mb * 1e6)


def memory(duration_s: float) -> None:
    found = []
    for horizon_s in (duration_s, 10.0 * duration_s):
        child = subprocess.run([sys.executable, __file__, "--memory-child", str(horizon_s)], check=True,
                               capture_output=True, text=True)
        tasks, steps, grown = child.stdout.split()
        found.append((int(tasks), int(steps), float(grown)))
    (tasks_a, steps_a, grown_a), (tasks_b, steps_b, grown_b) = found
    per_step = (grown_b - grown_a - (tasks_b - tasks_a) * RECORD_BYTES_PER_TASK) / (steps_b - steps_a)
    print(f"memory peak RSS growth {grown_a / 1e6:.1f} MB at {steps_a} device steps ({tasks_a} tasks), "
          f"{grown_b / 1e6:.1f} MB at {steps_b} ({tasks_b} tasks): {per_step:.0f} bytes per device step "
          f"(after {RECORD_BYTES_PER_TASK} B per task)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="ten times shorter runs")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions per case (best is kept)")
    parser.add_argument("--memory", action="store_true", help="measure the motion logs' memory per device step")
    parser.add_argument("--memory-child", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # short runs: the precision warnings are not what is measured
    if args.memory_child:
        _memory_child(args.memory_child)
        return
    if args.memory:
        memory(300.0 if args.quick else 600.0)
        return
    duration_s = 30.0 if args.quick else 300.0
    rate(duration_s, args.repeat)
    share(duration_s, args.repeat)


if __name__ == "__main__":
    main()
