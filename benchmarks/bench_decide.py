"""Decision throughput: 10 million tasks x 3 remote targets (plus local), weighted latency/energy objective.

Measures, in one run and on one core:
  * the fused chunked path (``offload.decide_batch``), including input validation;
  * the same with the chosen latency and energy returned, and with per-task deadlines;
  * the general path (``decide(cost_arrays(...))``, every breakdown term materialised) on 1 M tasks;
  * a straightforward per-task Python loop of the same model, timed on a subsample and extrapolated (it would take
    minutes on 10 M tasks); its choices are checked against the fused path's on that subsample.

Usage: python benchmarks/bench_decide.py [--tasks N] [--loop-tasks M] [--seed S]
"""

from __future__ import annotations

import argparse
import math
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from offload import CostInputs, EnergyView, Objective, Preference, cost_arrays, decide, decide_batch

PREFERENCE = Preference(Objective.WEIGHTED, EnergyView.DEVICE, w_latency=1.0, w_energy=0.2)
DEVICE = {"device_speed_ops_per_s": 1.5e9, "device_compute_power_w": 6.4, "idle_power_w": 0.8, "tx_power_w": 1.2,
          "rx_power_w": 0.9, "tail_energy_j": 0.05}
TARGETS = {  # edge, busy edge, cloud
    "target_names": ["edge", "edge2", "cloud"], "server_speed_ops_per_s": [2e10, 5e10, 2e11],
    "server_compute_power_w": [60.0, 120.0, 300.0], "wait_s": [0.004, 0.030, 0.0], "uplink_bps": [20e6, 20e6, 10e6],
    "downlink_bps": [100e6, 100e6, 50e6], "round_trip_s": [0.004, 0.004, 0.060]}


def make_tasks(n: int, seed: int) -> dict[str, np.ndarray]:
    """Per-task work (10 Mops-30 Gops) and input (1 kB-3 MB), log-uniform so that every option wins somewhere;
    result (0-20 kB) and deadline (0.05-5 s) uniform."""
    rng = np.random.default_rng(seed)
    return {"work_ops": np.exp(rng.uniform(np.log(1e7), np.log(3e10), n)),
            "input_bits": np.exp(rng.uniform(np.log(8e3), np.log(2.4e7), n)),
            "output_bits": rng.uniform(0.0, 1.6e5, n), "deadline_s": rng.uniform(0.05, 5.0, n)}


def loop_decide(tasks: dict[str, np.ndarray], deadlines: bool) -> list[int]:
    """The same model, one task at a time in plain Python (the baseline)."""
    d = DEVICE
    targets = list(zip(TARGETS["server_speed_ops_per_s"], TARGETS["wait_s"], TARGETS["uplink_bps"],
                       TARGETS["downlink_bps"], TARGETS["round_trip_s"], strict=True))
    w_t, w_e = PREFERENCE.w_latency, PREFERENCE.w_energy
    choices = []
    for work, data, result, deadline in zip(tasks["work_ops"].tolist(), tasks["input_bits"].tolist(),
                                            tasks["output_bits"].tolist(), tasks["deadline_s"].tolist(), strict=True):
        limit = deadline if deadlines else math.inf
        local_s = work / d["device_speed_ops_per_s"]
        options = [(local_s, w_t * local_s + w_e * d["device_compute_power_w"] * local_s)]
        for speed, wait, up, down, rtt in targets:
            upload, download = data / up, result / down
            waiting = rtt + wait + work / speed
            latency = upload + download + waiting
            energy = (d["tx_power_w"] * upload + d["rx_power_w"] * download + d["idle_power_w"] * waiting
                      + d["tail_energy_j"])
            options.append((latency, w_t * latency + w_e * energy))
        feasible = [(score, j) for j, (latency, score) in enumerate(options) if latency <= limit]
        choices.append(min(feasible)[1] if feasible else min((lat, j) for j, (lat, _) in enumerate(options))[1])
    return choices


def best_of(repeats: int, run: Callable[[], Any]) -> tuple[float, float, Any]:
    """Best wall-clock time of ``repeats`` runs, the CPU time of that run (fairer on a shared machine), the result."""
    best, best_cpu, result = math.inf, math.inf, None
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        result = run()
        elapsed = time.perf_counter() - start
        if elapsed < best:
            best, best_cpu = elapsed, time.process_time() - cpu
    return best, best_cpu, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000_000)
    parser.add_argument("--loop-tasks", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    # one core: numpy's element-wise ufuncs are single-threaded (no BLAS here), so the process uses one core; it is
    # not pinned, so that the scheduler may move it off a core other processes are busy on
    n, options = args.tasks, len(TARGETS["target_names"]) + 1
    tasks = make_tasks(n, args.seed)
    no_deadline = {k: v for k, v in tasks.items() if k != "deadline_s"}

    def fused(values: bool = False, deadlines: bool = False) -> Any:
        inputs = CostInputs(**(tasks if deadlines else no_deadline), **DEVICE, **TARGETS)
        return decide_batch(inputs, PREFERENCE, values=values)

    print(f"bench_decide: {n:,} tasks x {options - 1} targets (+ local), weighted objective, one core "
          f"(load average {os.getloadavg()[0]:.1f}; on a shared machine the CPU-time rate is the fairer figure)")
    fused_s, fused_cpu, decision = best_of(3, fused)
    values_s, values_cpu, _ = best_of(3, lambda: fused(values=True))
    deadline_s, deadline_cpu, with_deadlines = best_of(3, lambda: fused(deadlines=True))
    general_n = min(n, 1_000_000)
    general_inputs = CostInputs(**{k: v[:general_n] for k, v in no_deadline.items()}, **DEVICE, **TARGETS)
    general_s, general_cpu, general = best_of(2, lambda: decide(cost_arrays(general_inputs), PREFERENCE))
    assert np.array_equal(general.choice, decision.choice[:general_n])

    m = min(args.loop_tasks, n)
    sample = {k: v[:m] for k, v in tasks.items()}
    loop_s, loop_cpu, loop_choice = best_of(1, lambda: loop_decide(sample, deadlines=False))
    loop_deadline_s, _, loop_deadline_choice = best_of(1, lambda: loop_decide(sample, deadlines=True))
    assert np.array_equal(loop_choice, decision.choice[:m]), "loop and fused path disagree"
    assert np.array_equal(loop_deadline_choice, with_deadlines.choice[:m]), "loop and fused path disagree"
    loop_rate, loop_deadline_rate = m / loop_s, m / loop_deadline_s

    def line(label: str, seconds: float, cpu: float, tasks_done: int, baseline: float | None = None) -> None:
        rate = tasks_done / seconds
        ratio = f" {rate / baseline:6.1f}x the loop" if baseline else ""
        print(f"  {label:<42}{seconds:7.3f} s {rate / 1e6:7.2f} M decisions/s "
              f"({rate * options / 1e6:5.1f} M task-options/s; {tasks_done / cpu / 1e6:6.2f} M/s per CPU s){ratio}")

    line("fused path (choice + deadline flag)", fused_s, fused_cpu, n, loop_rate)
    line("fused path + chosen latency and energy", values_s, values_cpu, n, loop_rate)
    line("fused path with per-task deadlines", deadline_s, deadline_cpu, n, loop_deadline_rate)
    line(f"general path (breakdowns), {general_n:,} tasks", general_s, general_cpu, general_n, loop_rate)
    line(f"per-task Python loop, {m:,} tasks", loop_s, loop_cpu, m)
    print(f"  (the loop is timed on the first {m:,} tasks and extrapolated: {n / loop_rate:.0f} s for {n:,}; "
          "its choices equal the fused path's on that subsample)")
    print(f"  offloaded share {np.mean(decision.offloaded):.3f}; per option "
          f"{np.bincount(decision.choice, minlength=options).tolist()}; "
          f"deadline missed {np.mean(with_deadlines.deadline_missed):.3f} with deadlines")
    for clock, fused_time, loop_time in (("wall-clock", fused_s, loop_s), ("CPU-time", fused_cpu, loop_cpu)):
        rate, ratio = n / fused_time, (n / fused_time) / (m / loop_time)
        verdict = "met" if rate >= 30e6 and ratio >= 20 else "NOT met"
        print(f"  target >= 30 M decisions/s and >= 20x the loop ({clock}): {rate / 1e6:.1f} M/s, {ratio:.0f}x: "
              f"{verdict}")


if __name__ == "__main__":
    main()
