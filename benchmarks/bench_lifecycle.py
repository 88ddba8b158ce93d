"""Lifecycle benchmark: the cost of the platform machinery (:mod:`simulator.lifecycle`) on the S100 scenario.

Four cases on the same arrivals, measured round-robin in one run (best of ``--repeat``), as tasks per CPU-second of
this process (the machine is shared, so wall time says more about the neighbours than about the code):

- ``s100``: S100 as it is (no platform);
- ``idle``: S100 with a platform present but idle (a deployment of a service no device calls; target >= 0.95x);
- ``deployed``: S100's service deployed as 10 replicas over the 10 edges behind one endpoint (images pre-distributed,
  so every request goes through the controller's router; target >= 0.7x, the controllers must not be per-task
  overhead);
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
from simulator.world import Service, World

IMAGE = Image("model:v1", 4e9)


def _platform(world: World, service: str, nodes: tuple[str, ...], *, retrying: bool = False) -> Platform:
    capacities = tuple(NodeCapacity(s.name, 4.0, images=(IMAGE.name,)) for s in world.servers)
    deployment = Deployment(f"{service}-v1", service, "v1", IMAGE, len(nodes), nodes)
    retries = tuple(Retry(g.name, 3, 0.1, timeout_s=10.0) for g in world.device_groups) if retrying else ()
    return Platform((IMAGE,), (Registry("core"),), capacities, (deployment,), retries=retries,
                    peers=(nodes,) if retrying else ())


def cases() -> dict[str, tuple[World, Platform | None]]:
    """The worlds and their platforms."""
    base = s100_world()
    edges = tuple(s.name for s in base.servers)
    idle_world = dataclasses.replace(base, services=(*base.services, Service("idle", ("edge0",))))
    return {"s100": (base, None), "idle": (idle_world, _platform(idle_world, "idle", ("edge0",))),
            "deployed": (base, _platform(base, "default", edges)),
            "retrying": (base, _platform(base, "default", edges, retrying=True))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="ten times shorter runs")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions per case (best is kept)")
    args = parser.parse_args()
    duration_s = 100.0 if args.quick else 1000.0
    best: dict[str, tuple[float, int]] = {}
    for _ in range(args.repeat):
        for name, (world, platform) in cases().items():
            gc.collect()
            cpu = time.process_time()
            tasks = run(world, duration_s=duration_s, seed=1, platform=platform).policies["always_edge"].tasks
            cpu = time.process_time() - cpu
            if name not in best or cpu < best[name][0]:
                best[name] = (cpu, tasks.generated)
    rate = {name: tasks / cpu for name, (cpu, tasks) in best.items()}
    for name, value in rate.items():
        print(f"{name:9s} {best[name][1]:8d} tasks  {value:10.0f} tasks/CPU-s  {value / rate['s100']:.2f}x S100")


if __name__ == "__main__":
    main()
