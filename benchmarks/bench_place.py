"""Placement benchmark: heuristics and bounds against HiGHS on random instances from :mod:`scheduler.instances`.

Sizes (candidate nodes x services x user groups): 50x20x200, where HiGHS runs to proven optimality, and
200x50x2000, where HiGHS gets ``--milp-time`` seconds (300 by default, the MILP's opt-in wall-clock limit; on the
small size ``--small-milp-time`` sets one, none by default). Every placement goes through the independent checker.
The heuristics and bounds stop on work budgets (local-search evaluations, Lagrangian iterations; the LP relaxation
at optimality), so their placements and bounds are the same on every run; only their times depend on the machine.
The heuristics' gaps are certified by the better of the Lagrangian and the LP-relaxation bounds, and the best
heuristic's time includes computing both. Targets (issues 5 and 10): on the small size the best heuristic within
1 % of the optimum and >= 10x faster; on the large size, local search (20,000 evaluations) plus the bounds give a
better placement than HiGHS's after 300 s, with a certified lower bound.

    .venv/bin/python benchmarks/bench_place.py                  # both sizes (about 10-20 minutes on 2 cores)
    .venv/bin/python benchmarks/bench_place.py --only small     # 50x20x200 only
    .venv/bin/python benchmarks/bench_place.py --quick          # smoke test in a few seconds
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from scheduler.checker import check_placement
from scheduler.instances import Instance, random_instance
from scheduler.model import Model, compile_model
from scheduler.result import PlacementResult
from scheduler.solvers import Budget, lagrangian_bound, lp_lower_bound, solve

HEURISTICS = ("nearest", "least-loaded", "filter-score", "greedy", "local-search")


def _timed(function, *args, **kwargs):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - start


def _verified(instance: Instance, result: PlacementResult) -> PlacementResult:
    if result.placement is None or result.objective is None:
        return result
    report = check_placement(instance.graph, instance.problem, result.placement)
    if not report.feasible or abs(report.terms.total - result.objective.total) > 1e-6 * abs(report.terms.total):
        raise SystemExit(f"checker rejects {result.solver}: {report.violations[:3]}")
    return result


def _bounds(model: Model, upper: float, iterations: int) -> tuple[float, str, float]:
    """The better of the Lagrangian and the LP-relaxation bounds, which one it is, and the time of both."""
    lagr, lagr_time = _timed(lagrangian_bound, model, upper, iterations=iterations)
    lp, lp_time = _timed(lp_lower_bound, model)
    print(f"bounds: Lagrangian {lagr:.6g} in {lagr_time:.2f} s; LP relaxation {lp:.6g} in {lp_time:.2f} s "
          f"(Lagrangian/LP = {lagr / lp:.4f})")
    return max(lagr, lp), "Lagrangian" if lagr >= lp else "LP relaxation", lagr_time + lp_time


def run_size(nodes: int, services: int, groups: int, *, seed: int, evaluations: int, iterations: int,
             milp_s: float | None) -> None:
    """Solve one instance with every solver and print a table plus the target verdicts."""
    instance = random_instance(np.random.default_rng(seed), nodes, services, groups)
    model = compile_model(instance.problem)
    print(f"\n== {nodes} nodes x {services} services x {groups} groups (seed {seed}): "
          f"{len(model.demand_rate)} demands, {len(model.arc_node)} arcs")
    budget = Budget(evaluations=evaluations)
    results = {name: _verified(instance, solve(model, name, budget=budget, lower_bound=-np.inf,
                                                rng=np.random.default_rng(seed))) for name in HEURISTICS}
    best = min((r for r in results.values() if r.objective), key=lambda r: r.objective.total)  # type: ignore
    assert best.objective is not None
    bound, bound_name, bound_s = _bounds(model, best.objective.total, iterations)
    milp_budget = Budget(milp_nodes=10**9, time_limit_s=milp_s)  # proven optimal, or cut by the opt-in clock
    milp = _verified(instance, solve(model, "milp", budget=milp_budget, lower_bound=bound))
    results["milp"] = milp
    reference = milp.objective.total if milp.objective else float("nan")
    print(f"{'solver':14} {'total':>12} {'vs milp':>9} {'gap to bound':>13} {'time s':>9} {'speed-up':>9}")
    for name, r in results.items():
        total = r.objective.total if r.objective else float("nan")
        gap = 100 * (total - max(bound, milp.lower_bound)) / total
        print(f"{name:14} {total:12.6g} {100 * (total / reference - 1):8.3f}% {gap:12.3f}% "
              f"{r.runtime_s:9.2f} {milp.runtime_s / r.runtime_s:8.1f}x")
    print(f"milp: {milp.message}; HiGHS dual bound {milp.lower_bound:.6g}")
    print(f"{best.solver}: {best.message}")
    print(f"best heuristic: {best.solver}, {100 * (best.objective.total / reference - 1):+.3f}% vs milp, "
          f"{best.runtime_s:.2f} s + both bounds {bound_s:.2f} s = {best.runtime_s + bound_s:.2f} s "
          f"({milp.runtime_s / (best.runtime_s + bound_s):.1f}x faster than milp's {milp.runtime_s:.1f} s); "
          f"certified gap {100 * (best.objective.total - bound) / best.objective.total:.3f}% "
          f"(by the {bound_name} bound {bound:.6g})")


def main() -> None:
    """Parse arguments and run the sizes."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes and short limits (smoke test)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", choices=("small", "large"), help="run one size only")
    parser.add_argument("--milp-time", type=float, default=300.0,
                        help="HiGHS's opt-in wall-clock limit on the large size, seconds")
    parser.add_argument("--small-milp-time", type=float, default=None,
                        help="HiGHS's opt-in wall-clock limit on the small size, seconds (default: none)")
    args = parser.parse_args()
    for name in ("milp_time", "small_milp_time"):
        value = getattr(args, name)
        if value is not None and not value > 0:
            parser.error(f"--{name.replace('_', '-')}={value:g}: must be > 0 s")
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    if args.quick:
        run_size(20, 8, 60, seed=args.seed, evaluations=1_000, iterations=100, milp_s=args.small_milp_time)
        return
    if args.only in (None, "small"):
        run_size(50, 20, 200, seed=args.seed, evaluations=5_000, iterations=300, milp_s=args.small_milp_time)
    if args.only in (None, "large"):
        run_size(200, 50, 2000, seed=args.seed, evaluations=20_000, iterations=300, milp_s=args.milp_time)


if __name__ == "__main__":
    main()
