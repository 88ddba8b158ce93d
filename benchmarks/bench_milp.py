"""The exact placement solver with HiGHS as it ran before issue 15's speed-up, and as it runs now, in one run.

The placement MILP (:mod:`scheduler.solvers.milp`) charges queueing through per-replica-count tangent tables. With
HiGHS's default settings it spent most of its time in its primal heuristics' sub-MIPs, and its absolute tolerances
(about 1e-6) stopped it short of the relative gap on totals of order 0.01, so it solved more rounds or ended without
a certificate. Now the costs reach HiGHS divided by a lower bound on the total and its heuristics are off. The
"before" column restores the two old settings by patching the module's knobs (``_NO_HEURISTICS`` emptied, the
objective scale 1) and runs the same :func:`~scheduler.solvers.milp.run_milp` (rounds of tables, routing polish).
Times are CPU seconds (steadier than wall time on a shared machine); both must reach the same objective within
their certified gaps.

    .venv/bin/python benchmarks/bench_milp.py            # six random instances and melbourne, ~1 CPU-minute
    .venv/bin/python benchmarks/bench_milp.py --quick    # two random instances
"""

from __future__ import annotations

import argparse
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

import scheduler.solvers.milp as milp_module
from scheduler.instances import random_instance
from scheduler.model import Model, compile_model
from scheduler.result import evaluate_arcs
from simulator.cli.place import load_case

#: (nodes, services, user groups, seed) of :func:`scheduler.instances.random_instance`.
INSTANCES = ((4, 12, 30, 1), (4, 12, 30, 0), (4, 12, 30, 2), (4, 12, 30, 3), (6, 8, 30, 3), (10, 6, 40, 1))


@contextmanager
def _old_settings() -> Iterator[None]:
    heuristics, scale = milp_module._NO_HEURISTICS, milp_module._objective_scale
    milp_module._NO_HEURISTICS, milp_module._objective_scale = {}, lambda model: 1.0
    try:
        yield
    finally:
        milp_module._NO_HEURISTICS, milp_module._objective_scale = heuristics, scale


def _run(model: Model) -> tuple[float, float, float, str]:
    """CPU seconds, exact total, certified relative gap and rounds of one exact solve."""
    start = time.process_time()
    outcome = milp_module.run_milp(model)
    cpu_s = time.process_time() - start
    if outcome.replicas is None or outcome.arc_share is None:
        raise SystemExit(f"no placement: {outcome.message}")
    total = evaluate_arcs(model, outcome.replicas, outcome.arc_share).total
    rounds = re.search(r"(\d+) round\(s\)", outcome.message)
    return cpu_s, total, (total - outcome.dual_bound) / total, rounds.group(1) if rounds else "?"


def main() -> None:
    """Run every instance both ways; print one line each and the ratio of the CPU totals."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="two random instances only")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    cases = [(f"{n}x{s}x{g} seed {seed}", compile_model(random_instance(np.random.default_rng(seed), n, s, g).problem))
             for n, s, g, seed in INSTANCES[:2 if args.quick else None]]
    if not args.quick:
        cases.append(("melbourne", compile_model(load_case("melbourne")[0].problem)))
    print(f"{'instance':>20} | {'before CPU-s':>12} {'rounds':>6} {'gap':>9} | {'now CPU-s':>9} {'rounds':>6} "
          f"{'gap':>9} | {'speed-up':>8}")
    before_total = now_total = 0.0
    for name, model in cases:
        with _old_settings():
            before = _run(model)
        now = _run(model)
        worst_gap = max(before[2], now[2], 1e-6)
        if abs(before[1] - now[1]) > worst_gap * max(before[1], now[1]):
            raise SystemExit(f"{name}: totals {before[1]!r} and {now[1]!r} differ by more than the gaps")
        before_total += before[0]
        now_total += now[0]
        print(f"{name:>20} | {before[0]:12.2f} {before[3]:>6} {before[2]:9.2e} | {now[0]:9.2f} {now[3]:>6} "
              f"{now[2]:9.2e} | {before[0] / now[0]:7.1f}x")
    print(f"total: {before_total:.2f} -> {now_total:.2f} CPU-s, {before_total / now_total:.1f}x")


if __name__ == "__main__":
    main()
