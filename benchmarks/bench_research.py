"""Research models' throughput: partial offloading (three objectives) and DNN split points, one core.

Measures, in one run:
  * partial offloading of N divisible tasks (default 2 M): the latency optimum, the energy optimum under a deadline
    with a fixed-speed device and with a DVFS device (``offload.partial``), CPU time per call, against a per-task
    Python loop of the same closed forms on a subsample (its fractions are checked against the vectorised ones);
  * the best split of a 50-layer profile for P (task, uplink) pairs (default 1 M; ``offload.split.best_split``,
    latency and device-energy objectives), against a per-pair Python loop on a subsample.

Usage: python benchmarks/bench_research.py [--tasks N] [--pairs P] [--loop-tasks M] [--seed S]
"""

from __future__ import annotations

import argparse
import math
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from offload.decision import EnergyView, Objective
from offload.partial import energy_optimal_split, latency_optimal_split
from offload.split import LayerProfile, SplitLink, SplitPower, best_split, split_terms

KAPPA_J_S2 = 1e-28
POWER = SplitPower(compute_power_w=4.0, tx_power_w=1.3, rx_power_w=1.0, idle_power_w=0.3, tail_energy_j=0.5)


def cpu_seconds(run: Callable[[], Any], repeats: int = 3) -> tuple[float, Any]:
    """Best CPU time of ``repeats`` runs (fairer than wall-clock on a shared machine) and the last result."""
    best, result = math.inf, None
    for _ in range(repeats):
        start = time.process_time()
        result = run()
        best = min(best, time.process_time() - start)
    return best, result


def partial_tasks(n: int, seed: int) -> dict[str, np.ndarray]:
    """Local time 0.05-3 s, remote share 0.02-3 s, fixed 0-0.2 s, deadline 0.1-3 s, energies 0-3 J."""
    rng = np.random.default_rng(seed)
    work = rng.uniform(1e8, 3e9, n)
    return {"local_s": work / 1e9, "remote_s": rng.uniform(0.02, 3.0, n), "fixed_s": rng.uniform(0.0, 0.2, n),
            "deadline_s": rng.uniform(0.1, 3.0, n), "local_energy_j": rng.uniform(0.0, 3.0, n),
            "remote_energy_j": rng.uniform(0.0, 3.0, n), "fixed_energy_j": rng.uniform(0.0, 0.5, n),
            "work_ops": work}


def loop_latency(t: dict[str, list[float]]) -> list[float]:
    """The latency-optimal fraction and its latency and energy (as the vectorised path returns), one task at a time."""
    out = []
    for a, b, c, el, er, ef in zip(t["local_s"], t["remote_s"], t["fixed_s"], t["local_energy_j"],
                                   t["remote_energy_j"], t["fixed_energy_j"], strict=True):
        lam = min(max((a - c) / (a + b), 0.0), 1.0)
        away = lam > 0
        latency = max((1 - lam) * a, lam * b + (c if away else 0.0))
        energy = (1 - lam) * el + lam * er + (ef if away else 0.0)
        out.append((lam, latency, energy))
    return [lam for lam, _, _ in out]


def loop_energy(t: dict[str, list[float]], dvfs: bool) -> list[float]:
    """The energy-optimal fraction under the deadline, one task at a time (the module's closed form)."""
    out = []
    for a, b, c, d, el, er, ef, w in zip(t["local_s"], t["remote_s"], t["fixed_s"], t["deadline_s"],
                                         t["local_energy_j"] if not dvfs else [0.0] * len(t["local_s"]),
                                         t["remote_energy_j"], t["fixed_energy_j"], t["work_ops"], strict=True):
        cubic = KAPPA_J_S2 * w**3 / d**2 if dvfs else 0.0
        slope = er - el
        stationary = 1.0 - math.sqrt(max(slope, 0.0) / (3 * cubic)) if cubic > 0 else float(slope < 0)
        low, high = max(1 - d / a, 0.0), min((d - c) / b, 1.0)
        lam = min(max(stationary, low, 5e-324), max(high, 0.0))
        can = low <= high and high > 0
        saves = lam * slope + ef < cubic * (1 - (1 - lam) ** 3)
        local_ok = a <= d
        if local_ok and not (can and saves):
            lam = 0.0
        elif not can:
            lam = min(max((a - c) / (a + b), 0.0), 1.0)
        kept, away = 1.0 - lam, lam > 0
        local_time = max(kept * a, d) if dvfs and kept > 0 else kept * a
        latency = max(local_time, lam * b + (c if away else 0.0))
        speed = kept * w / max(d, kept * a)
        energy = kept * el + KAPPA_J_S2 * kept * w * speed**2 * dvfs + lam * er + (ef if away else 0.0)
        out.append((lam, latency, energy))
    return [lam for lam, _, _ in out]


def split_profile(layers: int, seed: int) -> LayerProfile:
    """A synthetic chain network: activations shrinking from 1.5 MB, device 1-20 ms and edge 20x faster per layer."""
    rng = np.random.default_rng(seed)
    outputs = np.sort(rng.uniform(1e3, 1.2e7, layers))[::-1]
    device = rng.uniform(1e-3, 2e-2, layers)
    return LayerProfile(tuple(f"layer{i}" for i in range(layers)), 1.2e6, outputs, device, device / 20)


def loop_split(profile: LayerProfile, uplinks: list[float], loads: list[float]) -> list[int]:
    """The latency-best split, one pair at a time."""
    terms = split_terms(profile)
    rows = list(zip(terms.device_s.tolist(), terms.edge_s.tolist(), terms.upload_bits.tolist(),
                    terms.download_bits.tolist(), terms.offloaded.tolist(), strict=True))
    best = []
    for up, load in zip(uplinks, loads, strict=True):
        values = [dev + sent / up + flag * 0.01 + load * edge + back / up for dev, edge, sent, back, flag in rows]
        best.append(values.index(min(values)))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=2_000_000)
    parser.add_argument("--pairs", type=int, default=1_000_000)
    parser.add_argument("--layers", type=int, default=50)
    parser.add_argument("--loop-tasks", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    n, m = args.tasks, min(args.loop_tasks, args.tasks)
    print(f"bench_research: one core, CPU time (load average {os.getloadavg()[0]:.1f})")
    tasks = partial_tasks(n, args.seed)
    sample = {k: v[:m].tolist() for k, v in tasks.items()}
    fixed_args = {k: v for k, v in tasks.items() if k != "work_ops"}
    dvfs_args = {**tasks, "local_energy_j": 0.0, "kappa_j_s2": KAPPA_J_S2}
    latency_keys = ("local_s", "remote_s", "fixed_s", "local_energy_j", "remote_energy_j", "fixed_energy_j",
                    "deadline_s")
    cases = (
        ("partial, latency optimum", lambda: latency_optimal_split(**{k: tasks[k] for k in latency_keys}),
         lambda: loop_latency(sample)),
        ("partial, energy under deadline", lambda: energy_optimal_split(**fixed_args),
         lambda: loop_energy(sample, dvfs=False)),
        ("partial, energy under deadline, DVFS", lambda: energy_optimal_split(**dvfs_args),
         lambda: loop_energy(sample, dvfs=True)),
    )
    for label, vectorised, loop in cases:
        seconds, result = cpu_seconds(vectorised)
        loop_seconds, loop_result = cpu_seconds(loop, repeats=1)
        np.testing.assert_allclose(result.fraction[:m], loop_result, rtol=1e-9, atol=1e-12)
        rate, loop_rate = n / seconds, m / loop_seconds
        verdict = "met" if rate >= 10e6 and rate / loop_rate >= 20 else "NOT met"
        print(f"  {label:<38} {n:,} tasks {seconds:6.3f} s  {rate / 1e6:6.2f} M tasks/s; loop {loop_rate / 1e6:5.2f} "
              f"M/s; {rate / loop_rate:5.1f}x  (>= 10 M/s and >= 20x: {verdict})")

    pairs, layers = args.pairs, args.layers
    profile = split_profile(layers, args.seed)
    rng = np.random.default_rng(args.seed + 1)
    uplinks = np.exp(rng.uniform(np.log(1e5), np.log(1e9), pairs))
    loads = rng.uniform(1.0, 3.0, pairs)
    link = SplitLink(uplinks, uplinks, 0.01, loads)
    for objective in (Objective.LATENCY, Objective.ENERGY):
        seconds, best = cpu_seconds(lambda o=objective: best_split(profile, link, POWER, objective=o,
                                                                   view=EnergyView.DEVICE), repeats=2)
        print(f"  split, {layers} layers x {pairs:,} pairs, {objective.value:<8} {seconds:6.3f} s "
              f"({pairs * (layers + 1) / seconds / 1e6:6.1f} M split-costs/s); best split spans "
              f"{int(best.index.min())}..{int(best.index.max())}")
        if objective is Objective.LATENCY:
            k = min(m, pairs, 20_000)
            loop_seconds, loop_best = cpu_seconds(lambda k=k: loop_split(profile, uplinks[:k].tolist(),
                                                                         loads[:k].tolist()), repeats=1)
            assert loop_best == best.index[:k].tolist(), "loop and vectorised split disagree"
            loop_rate = k / loop_seconds
            print(f"    per-pair Python loop: {loop_rate / 1e3:.1f} k pairs/s, extrapolated {pairs / loop_rate:.0f} s "
                  f"for {pairs:,}; vectorised {pairs / seconds / loop_rate:.0f}x")


if __name__ == "__main__":
    main()
