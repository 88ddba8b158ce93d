"""``mecsim place``: where should each service run? Solve a placement file with one solver or compare them all.

The file is YAML (see :mod:`simulator.placement_file`), given as a path or a bundled name (``place-melbourne``).
Every placement printed has been re-verified by the independent checker (:mod:`scheduler.checker`).
"""

from __future__ import annotations

import json
import math

import click
import numpy as np

from offload.errors import MecsimError
from offload.units import Dimension, parse_quantity
from scheduler.checker import check_placement
from scheduler.model import compile_model
from scheduler.problem_io import describe, replica_rows, result_to_dict
from scheduler.result import PlacementResult
from scheduler.solvers import SOLVERS, certified_bound, get_solver, solve
from simulator.placement_file import PlacementCase, load_placement_file


class CheckFailedError(MecsimError):
    """A solver returned a placement the independent checker rejects (a bug, reported rather than printed)."""


def _checked(case: PlacementCase, result: PlacementResult) -> PlacementResult:
    if result.placement is None or result.objective is None:
        return result
    report = check_placement(case.graph, case.problem, result.placement)
    agree = math.isclose(report.terms.total, result.objective.total, rel_tol=1e-6, abs_tol=1e-12)
    if not report.feasible or not agree:
        raise CheckFailedError(f"{result.solver}: checker rejects the placement: "
                               f"{'; '.join(report.violations[:3]) or 'objective disagrees'}")
    return result


def _human(case: PlacementCase, result: PlacementResult) -> list[str]:
    problem, w = case.problem, case.problem.weights
    lines = [f"policy {result.solver}: {result.status.value} — {result.message} ({result.runtime_s:.2f} s)"]
    for row in replica_rows(problem, result):
        where = ", ".join(f"{node} x{v['replicas']} ({v['rate_per_s']:.3g} req/s)" for node, v in row["nodes"].items())
        lines.append(f"  {row['service']:<22} {row['replicas']:>3} replicas  {where or '-'}")
    terms = result.objective
    if terms is not None:
        lines.append(f"objective {terms.total:.6g} = {w.latency:g} x mean latency {terms.mean_latency_s * 1e3:.4g} ms"
                     f" + {w.compute:g} x compute {terms.compute_cost_per_s * 3600:.4g}/h"
                     f" + {w.traffic:g} x traffic {terms.traffic_cost_per_s * 3600:.4g}/h")
    lines.append(f"lower bound {result.lower_bound:.6g}, gap {_percent(result.gap)}; checked: feasible")
    return lines


def _percent(gap: float) -> str:
    """A gap as a percentage; below 1e-7 (solver tolerance) it is shown as 0."""
    if not math.isfinite(gap):
        return "unknown"
    return "0%" if gap < 1e-9 else f"{100 * gap:.3g}%"


def _compare_table(results: list[PlacementResult]) -> list[str]:
    header = (f"{'solver':<14} {'status':<9} {'total':>11} {'latency ms':>11} {'compute/h':>10} {'traffic/h':>10} "
              f"{'gap':>8} {'time s':>8}")
    lines = [header]
    for r in results:
        t = r.objective
        if t is None:
            lines.append(f"{r.solver:<14} {r.status.value:<9} {'-':>11}  {r.message}")
            continue
        lines.append(f"{r.solver:<14} {r.status.value:<9} {t.total:11.6g} {t.mean_latency_s * 1e3:11.4g} "
                     f"{t.compute_cost_per_s * 3600:10.4g} {t.traffic_cost_per_s * 3600:10.4g} "
                     f"{_percent(r.gap):>8} {r.runtime_s:8.2f}")
    return lines


@click.command("place")
@click.argument("problem_file", metavar="FILE|NAME")
@click.option("--policy", default="local-search", show_default=True,
              help=f"Placement solver: {', '.join(SOLVERS)}.")
@click.option("--compare", is_flag=True, help="Run every solver side by side (one certified lower bound for all).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.option("--assignment", is_flag=True, help="With --json: include every (group, service, node, share).")
@click.option("--time-limit", default=None, help="Budget per solver, e.g. 30s (default: the file's solver.time_limit).")
@click.option("--seed", type=int, default=None, help="Seed of randomised solvers (default: the file's solver.seed).")
def command(problem_file: str, policy: str, compare: bool, as_json: bool, assignment: bool, time_limit: str | None,
            seed: int | None) -> None:
    """Place services for the problem in FILE (or bundled NAME) and print replicas, objective terms, bound and gap."""
    case = load_placement_file(problem_file)
    limit = case.time_limit_s if time_limit is None else parse_quantity(time_limit, Dimension.SECONDS, "--time-limit")
    if not limit > 0:
        raise click.BadParameter(f"{time_limit!r}: must be > 0", param_hint="--time-limit")
    names = list(SOLVERS) if compare else [get_solver(policy).name]
    model = compile_model(case.problem)
    bound = certified_bound(model, time_limit_s=limit)
    results = [_checked(case, solve(model, name, time_limit_s=limit, lower_bound=bound,
                                    rng=np.random.default_rng(case.seed if seed is None else seed)))
               for name in names]
    if as_json:
        click.echo(json.dumps({"name": case.name, "source": case.source, "lower_bound": bound,
                               "results": [result_to_dict(case.problem, r, assignment) for r in results]},
                              indent=2))
        return
    click.echo(describe(case.problem, [case.name]))
    if compare:
        click.echo("\n".join(_compare_table(results)))
        best = min((r for r in results if r.objective), key=lambda r: r.objective.total if r.objective else 0.0)
        click.echo("")
        click.echo("\n".join(_human(case, best)))
    else:
        click.echo("\n".join(_human(case, results[0])))
