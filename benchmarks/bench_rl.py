"""RL environment benchmark: environment steps per second on S100 against the simulator's own tasks per second.

S100 (``simulator.builders.s100_world``: 100 devices, 10 one-worker edges, Poisson 1 task/s each) over the same
horizon, measured round-robin in the same run (best of ``--repeat``):

- ``simulate``: ``simulator.run.run`` with the built-in always-edge policy (decided per block of tasks);
- ``env``: ``mecsim/Offload-v0`` (through ``gymnasium.make``) with a trivial agent that always sends the task to
  its nearest edge (action 1), so both runs simulate the same tasks; one step per task;
- for context, ``simulate`` with queue-aware (a stateful policy: one decision per task at its arrival, as in the env),
  over a tenth of the horizon (it is slow: it prices every option with the full cost model per task).

Prints tasks or steps per wall second and per CPU second, and the ratio env / simulate (target >= 0.3).

Usage: ``python benchmarks/bench_rl.py [--duration 200] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable

import gymnasium

import simulator.rl
from simulator.builders import s100_world
from simulator.run import run


def simulate(policy: str, duration_s: float) -> int:
    """Tasks simulated by ``mecsim``'s own run of S100 with ``policy``."""
    result = run(s100_world(), duration_s=duration_s, seed=1, policies=[policy])
    return result.policies[policy].tasks.generated


def env_steps(duration_s: float) -> int:
    """Steps of one episode of S100 with the agent that always picks the nearest edge."""
    env = gymnasium.make(simulator.rl.ENV_ID, scenario=s100_world(), duration_s=duration_s)
    env.reset(seed=1)
    steps, done = 0, False
    step = env.step
    while not done:
        _, _, done, _, _ = step(1)
        steps += 1
    return steps


def measure(cases: dict[str, Callable[[], int]], repeat: int) -> dict[str, tuple[float, float, int]]:
    """Best wall and CPU seconds of each case over ``repeat`` round-robin runs, and its count."""
    best: dict[str, tuple[float, float, int]] = {}
    for _ in range(repeat):
        for name, case in cases.items():
            gc.collect()
            wall, cpu = time.perf_counter(), time.process_time()
            count = case()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            old = best.get(name)
            best[name] = (min(wall, old[0]) if old else wall, min(cpu, old[1]) if old else cpu, count)
    return best


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=200.0, help="simulated seconds per run (default 200)")
    parser.add_argument("--repeat", type=int, default=3, help="round-robin repetitions, best counts (default 3)")
    args = parser.parse_args()
    cases = {
        "simulate, always-edge (built-in)": lambda: simulate("always_edge", args.duration),
        "env, trivial agent (nearest edge)": lambda: env_steps(args.duration),
        "simulate, queue-aware (per-task decisions)": lambda: simulate("queue_aware", args.duration / 10),
    }
    best = measure(cases, args.repeat)
    rates = {}
    print(f"S100, {args.duration:g} s simulated, best of {args.repeat}")
    for name, (wall, cpu, count) in best.items():
        rates[name] = (count / wall, count / cpu)
        print(f"  {name:44s} {count:8d} in {wall:6.2f} s wall: {count / wall:9,.0f}/s wall, {count / cpu:9,.0f}/s CPU")
    sim, env = rates["simulate, always-edge (built-in)"], rates["env, trivial agent (nearest edge)"]
    print(f"env steps/s / simulate tasks/s: {env[0] / sim[0]:.2f} wall, {env[1] / sim[1]:.2f} CPU (target >= 0.3)")


if __name__ == "__main__":
    main()
