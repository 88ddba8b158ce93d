"""Placement benchmark: heuristics against HiGHS on random instances from :mod:`scheduler.instances`.

Sizes (candidate nodes x services x user groups): 50x20x200, where HiGHS is run to proven optimality, and
200x50x2000, where HiGHS gets ``--milp-time`` seconds (300 by default). Every solution goes through the independent
checker. Targets (issue 5): on the small size the best heuristic within 1 % of the optimum and >= 10x faster; on
the large size, within 10 s, a better solution than HiGHS's after 300 s, with a certified (LP) lower bound.

    .venv/bin/python benchmarks/bench_place.py            # full sizes (about 10 minutes on 2 cores)
    .venv/bin/python benchmarks/bench_place.py --quick    # smoke test in well under a minute
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from scheduler.checker import check_placement
from scheduler.instances import random_instance
from scheduler.model import compile_model
from scheduler.result import PlacementResult
from scheduler.solvers import lp_lower_bound, solve

HEURISTICS = ("nearest", "least-loaded", "greedy", "local-search")


def run_size(nodes: int, services: int, groups: int, *, seed: int, heuristic_s: float, milp_s: float) -> None:
    """Solve one instance with every solver and print a table plus the target verdicts."""
    instance = random_instance(np.random.default_rng(seed), nodes, services, groups)
    model = compile_model(instance.problem)
    print(f"\n== {nodes} nodes x {services} services x {groups} groups (seed {seed}): "
          f"{len(model.demand_rate)} demands, {len(model.arc_node)} arcs")
    start = time.perf_counter()
    bound = lp_lower_bound(model, time_limit_s=max(milp_s, 60.0))
    bound_s = time.perf_counter() - start
    print(f"LP-relaxation lower bound {bound:.6g} in {bound_s:.2f} s")
    results: dict[str, PlacementResult] = {}
    for name in (*HEURISTICS, "milp"):
        limit = milp_s if name == "milp" else heuristic_s
        result = solve(model, name, time_limit_s=limit, lower_bound=bound, rng=np.random.default_rng(seed))
        results[name] = result
        if result.placement is not None:
            report = check_placement(instance.graph, instance.problem, result.placement)
            assert result.objective is not None
            agree = abs(report.terms.total - result.objective.total) <= 1e-6 * abs(report.terms.total)
            if not (report.feasible and agree):
                raise SystemExit(f"checker rejects {name}: {report.violations[:3]} (agree={agree})")
    milp = results["milp"]
    reference = milp.objective.total if milp.objective else float("nan")
    print(f"{'solver':14} {'total':>12} {'vs milp':>9} {'gap (bound)':>12} {'time s':>9} {'speed-up':>9}")
    for name, r in results.items():
        total = r.objective.total if r.objective else float("nan")
        print(f"{name:14} {total:12.6g} {100 * (total / reference - 1):8.3f}% {100 * r.gap:11.3f}% "
              f"{r.runtime_s:9.2f} {milp.runtime_s / r.runtime_s:8.1f}x")
    print(f"milp: {milp.message}; dual bound {milp.lower_bound:.6g}")
    best = min((r for n, r in results.items() if n in HEURISTICS and r.objective),
               key=lambda r: r.objective.total if r.objective else np.inf)
    assert best.objective is not None
    print(f"best heuristic: {best.solver}, {100 * (best.objective.total / reference - 1):+.3f}% vs milp, "
          f"{milp.runtime_s / best.runtime_s:.1f}x faster than milp; certified gap {100 * best.gap:.3f}% "
          f"(LP bound took {bound_s:.2f} s)")


def main() -> None:
    """Parse arguments and run the sizes."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes and short limits (smoke test)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--milp-time", type=float, default=300.0, help="HiGHS budget on the large size, seconds")
    args = parser.parse_args()
    if args.quick:
        run_size(20, 8, 60, seed=args.seed, heuristic_s=2.0, milp_s=30.0)
        return
    run_size(50, 20, 200, seed=args.seed, heuristic_s=10.0, milp_s=600.0)
    run_size(200, 50, 2000, seed=args.seed, heuristic_s=10.0, milp_s=args.milp_time)


if __name__ == "__main__":
    main()
