"""Placement model against the simulator (issue 15): per solver, the predicted mean latency next to the simulated
one with its 95 % interval, on the bundled ``melbourne`` scenario and the ``place-small`` placement file.

Targets: every prediction within 10 % of its simulation, and the MILP's placement simulating no worse than any
heuristic's (its objective with the simulated latency at most a heuristic's plus the latency weight times both
half-widths). Solvers use the default budgets (work counts, so placements are the same on every machine); the
simulations use the scenario's run settings (``place-small``: 1,200 s, 100 s warm-up, seed 5). Times are printed
as ratios to the greedy solver's time measured in the same run.

    .venv/bin/python benchmarks/bench_place_sim.py
    .venv/bin/python benchmarks/bench_place_sim.py --quick    # local search with 2,000 evaluations
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from scheduler.model import compile_model
from scheduler.solvers import SOLVERS, Budget, solve
from simulator.cli.place import load_case
from simulator.placement_bridge import apply_placement
from simulator.placement_sim import Comparison, compare, problem_world


def run_case(name: str, evaluations: int) -> bool:
    """Solve and simulate every solver on ``name``; print the table; return whether both targets hold."""
    case, _, scenario = load_case(name)
    model = compile_model(case.problem)
    rows: list[tuple[Comparison, float]] = []
    for policy in SOLVERS:
        start = time.perf_counter()
        result = solve(model, policy, budget=Budget(evaluations=evaluations), rng=np.random.default_rng(0),
                       lower_bound=-np.inf)
        solve_s = time.perf_counter() - start
        assert result.placement is not None, result.message
        if scenario is None:
            world = problem_world(case.graph, case.problem, result.placement)
            rows.append((compare(case.problem, result, world, duration_s=1200.0, warmup_s=100.0, seed=5), solve_s))
        else:
            world = apply_placement(scenario.world, case.problem, result)
            rows.append((compare(case.problem, result, world, duration_s=scenario.run.duration_s,
                                 warmup_s=scenario.run.warmup_s, seed=scenario.run.seed), solve_s))
    greedy_s = next(s for c, s in rows if c.solver == "greedy")
    print(f"\n== {name}")
    print(f"{'solver':14} {'predicted ms':>12} {'simulated ms':>13} {'± 95 %':>8} {'error':>8} {'total(model)':>13} "
          f"{'total(sim)':>11} {'solve/greedy':>13}")
    for c, s in rows:
        print(f"{c.solver:14} {c.predicted_latency_s * 1e3:12.2f} {c.simulated_latency_s * 1e3:13.2f} "
              f"{(c.ci95_s or 0) * 1e3:8.2f} {c.relative_error * 100:7.2f}% {c.predicted_total:13.6g} "
              f"{c.simulated_total:11.6g} {s / greedy_s:12.1f}x")
    weight = case.problem.weights.latency
    milp = next(c for c, _ in rows if c.solver == "milp")
    accurate = all(abs(c.relative_error) <= 0.10 for c, _ in rows)
    best = all(milp.simulated_total <= c.simulated_total + weight * ((milp.ci95_s or 0) + (c.ci95_s or 0))
               for c, _ in rows)
    print(f"targets: predictions within 10 % {'yes' if accurate else 'NO'}; "
          f"MILP simulates no worse than every heuristic {'yes' if best else 'NO'}")
    return accurate and best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="local search with 2,000 evaluations")
    args = parser.parse_args()
    evaluations = 2_000 if args.quick else Budget().evaluations
    ok = [run_case(name, evaluations) for name in ("melbourne", "place-small")]
    raise SystemExit(0 if all(ok) else 1)


if __name__ == "__main__":
    main()
