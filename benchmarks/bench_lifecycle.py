"""Lifecycle benchmark: the cost of the platform machinery (:mod:`simulator.lifecycle`) on the S100 scenario.

Four cases on the same arrivals, measured round-robin in one run (best of ``--repeat``), as tasks per CPU-second of
this process (the machine is shared, so wall time says more about the neighbours than about the code):

- ``s100``: S100 as it is (no platform);
- ``idle``: S100 with a platform present but idle (a deployment of a service no device calls; target >= 0.95x);
- ``deployed``: S100's service deployed as 10 replicas over the 10 edges behind one endpoint (images pre-distributed,
  so every request goes through the controller's router; target >= 0.7x, the controllers must not be per-task
  overhead);
- ``license-plate-day``: the bundled scenario on a window of its day (``LICENSE_PLATE_DAY``: the first hour, the
  canary moved to 10 min so that the traffic split, both versions' pools, the analysis and the promotion all run in
  it; HPA, diurnal rate profile), against S100 in the same run (target >= 0.7x).
- ``retrying``: ``deployed`` with every device group retrying (3 attempts, a 10 s timeout that never fires) and the
  edges forming one peer group: the retry bookkeeping on every request, no failure to retry.

Usage: ``python benchmarks/bench_lifecycle.py [--quick] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import time

from simulator.builders import s100_world
from simulator.lifecycle import Deployment, Image, NodeCapacity, Platform, Registry, Retry
from simulator.run import run
from simulator.scenario import load_scenario
from simulator.world import Service, World

IMAGE = Image("model:v1", 4e9)
#: The window of license-plate-day measured (seconds of its day; ten times shorter with --quick).
LICENSE_PLATE_DAY_S = 3600.0


def _platform(world: World, service: str, nodes: tuple[str, ...], *, retrying: bool = False) -> Platform:
    capacities = tuple(NodeCapacity(s.name, 4.0, images=(IMAGE.name,)) for s in world.servers)
    deployment = Deployment(f"{service}-v1", service, "v1", IMAGE, len(nodes), nodes)
    retries = tuple(Retry(g.name, 3, 0.1, timeout_s=10.0) for g in world.device_groups) if retrying else ()
    return Platform((IMAGE,), (Registry("core"),), capacities, (deployment,), retries=retries,
                    peers=(nodes,) if retrying else ())


def cases(duration_s: float, day_s: float) -> dict[str, tuple[World, Platform | None, float]]:
    """The worlds, their platforms and horizons (s): ``duration_s`` for S100's, ``day_s`` for the day's window."""
    base = s100_world()
    edges = tuple(s.name for s in base.servers)
    idle_world = dataclasses.replace(base, services=(*base.services, Service("idle", ("edge0",))))
    day = load_scenario("license-plate-day", (f"run.duration={day_s}s", f"deployments[0].rollout.at={day_s / 6}s",
                                              "run.warmup=0s", "run.sample_interval=30s"))
    return {"s100": (base, None, duration_s),
            "idle": (idle_world, _platform(idle_world, "idle", ("edge0",)), duration_s),
            "deployed": (base, _platform(base, "default", edges), duration_s),
            "retrying": (base, _platform(base, "default", edges, retrying=True), duration_s),
            "license-plate-day": (day.world, day.platform, day_s)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="ten times shorter runs")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions per case (best is kept)")
    args = parser.parse_args()
    duration_s = 100.0 if args.quick else 1000.0
    best: dict[str, tuple[float, int]] = {}
    day_s = LICENSE_PLATE_DAY_S / (10.0 if args.quick else 1.0)
    for _ in range(args.repeat):
        for name, (world, platform, horizon_s) in cases(duration_s, day_s).items():
            gc.collect()
            cpu = time.process_time()
            result = run(world, duration_s=horizon_s, seed=1, platform=platform)
            tasks = next(iter(result.policies.values())).tasks
            cpu = time.process_time() - cpu
            if name not in best or cpu < best[name][0]:
                best[name] = (cpu, tasks.generated)
    rate = {name: tasks / cpu for name, (cpu, tasks) in best.items()}
    for name, value in rate.items():
        print(f"{name:17s} {best[name][1]:8d} tasks  {value:10.0f} tasks/CPU-s  {value / rate['s100']:.2f}x S100")


if __name__ == "__main__":
    main()
