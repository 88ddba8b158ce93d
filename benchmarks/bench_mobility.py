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
  steps) and of the whole mobility steps (positions, attachment, handovers) as a share of the run (target < 20 %).

Usage: ``python benchmarks/bench_mobility.py [--quick] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import logging
import time
from collections.abc import Callable
from typing import Any

from offload.pathloss import RadioModel
from simulator.builders import s100_world
from simulator.mobility import Area, Cell, GroupMotion, HandoverRule, Mobility, RandomWaypoint
from simulator.mobility import controller as mobility_controller
from simulator.mobility import models as mobility_models
from simulator.run import run
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
    advance = mobility_models._Waypoints.advance
    step = mobility_controller.MobilityRun._step
    mobility_models._Waypoints.advance = positions.wrap(advance)  # type: ignore[method-assign]
    mobility_controller.MobilityRun._step = steps.wrap(step)  # type: ignore[method-assign]
    try:
        best = None
        for _ in range(repeat):
            positions.cpu_s = steps.cpu_s = 0.0
            cpu, tasks = measure(world, spec, duration_s)
            if best is None or cpu < best[0]:
                best = (cpu, tasks, positions.cpu_s, steps.cpu_s)
    finally:
        mobility_models._Waypoints.advance = advance  # type: ignore[method-assign]
        mobility_controller.MobilityRun._step = step  # type: ignore[method-assign]
    assert best is not None
    cpu, tasks, moved, stepped = best
    print(f"share  10,000 devices, {tasks} tasks, {cpu:.2f} CPU-s: position updates {moved / cpu:.1%}, "
          f"whole mobility steps (positions, attachment, handovers) {stepped / cpu:.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="ten times shorter runs")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions per case (best is kept)")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # short runs: the precision warnings are not what is measured
    duration_s = 30.0 if args.quick else 300.0
    rate(duration_s, args.repeat)
    share(duration_s, args.repeat)


if __name__ == "__main__":
    main()
