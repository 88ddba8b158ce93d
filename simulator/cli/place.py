"""``mecsim place``: where should each service run? Solve a placement problem with one solver or compare them all.

The input is YAML, given as a path or a bundled name, and is either a placement file (see
:mod:`simulator.scenario.placement_file`, e.g. ``place-melbourne``) or a simulation scenario with a ``placement``
section (e.g. ``melbourne``): then the problem is the one ``mecsim simulate`` places
(:mod:`simulator.placement_bridge`) and the section's solver, budget and seed are the defaults. Budgets count work
(local-search evaluations, MILP nodes), so the same input and seed give the same placement on any machine;
``--time-limit`` opts the MILP into a wall-clock limit, and a MILP stopped by it says so. Every placement printed has
been re-verified by the independent checker (:mod:`scheduler.checker`). ``--simulate`` plays each placement forward
(:mod:`simulator.placement_sim`) and prints the model's mean latency next to the simulated one with its interval.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
import numpy as np

from offload.errors import MecsimError
from offload.units import Dimension, parse_quantity
from scheduler.checker import check_placement
from scheduler.model import compile_model
from scheduler.problem_io import describe, result_to_dict
from scheduler.result import PlacementResult
from scheduler.solvers import SOLVERS, Budget, certified_bound, get_solver, solve
from simulator.cli.output import check_out_dir, terminal_width
from simulator.cli.place_output import write_placement
from simulator.placement_bridge import apply_placement, placement_graph, placement_problem
from simulator.placement_sim import Comparison, problem_world
from simulator.placement_sim import compare as compare_with_simulation
from simulator.run import detect_warmup_s
from simulator.scenario import ScenarioError, ScenarioIssue, load_scenario, resolve_scenario_path
from simulator.scenario.loader import Scenario
from simulator.scenario.placement_file import PlacementCase, load_placement_file
from simulator.scenario.report import fit_table, format_gap, placement_lines
from simulator.scenario.yamlload import load_yaml

#: Solver of placement files (they name none) when ``--policy`` is not given.
DEFAULT_POLICY = "local-search"
#: Simulated time of ``--simulate`` for a placement file (it has no run section), seconds.
PLACEMENT_FILE_DURATION_S = 600.0


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


def _human(case: PlacementCase, result: PlacementResult, width: int) -> list[str]:
    return placement_lines(result_to_dict(case.problem, result), asdict(case.problem.weights), width=width)


def _is_scenario(path: Path) -> bool:
    """Whether the YAML at ``path`` is a simulation scenario (it has ``devices``) rather than a placement file."""
    try:
        data = load_yaml(path.read_text(encoding="utf-8"), str(path)).data
    except (OSError, UnicodeDecodeError):
        return False  # load_placement_file reports it
    return isinstance(data, dict) and "devices" in data


def scenario_case(scenario: Scenario) -> tuple[PlacementCase, str]:
    """The placement problem of ``scenario``'s ``placement`` section, as ``mecsim simulate`` would place it, and
    the section's solver name.

    Raises
    ------
    ScenarioError
        The scenario has no ``placement`` section.
    """
    settings = scenario.placement
    if settings is None:
        raise ScenarioError([ScenarioIssue(scenario.source, None, ("placement",),
                                           "the scenario has no placement section: nothing to place "
                                           "(add one, see scenarios/melbourne.yaml)")])
    world = scenario.world
    graph = placement_graph(world, settings)
    problem = placement_problem(world, graph, settings)
    return (PlacementCase(scenario.name, scenario.description, scenario.source, graph, problem,
                          settings.budget, settings.seed), settings.policy)


def load_case(path_or_name: str) -> tuple[PlacementCase, str, Scenario | None]:
    """A placement file or a simulation scenario with a ``placement`` section (told apart by content), the default
    solver name, and the scenario (None for a placement file)."""
    path = resolve_scenario_path(path_or_name)
    if _is_scenario(path):
        scenario = load_scenario(path)
        return (*scenario_case(scenario), scenario)
    return load_placement_file(path), DEFAULT_POLICY, None


def _simulated(case: PlacementCase, scenario: Scenario | None, results: list[PlacementResult],
               duration_s: float | None) -> list[Comparison]:
    """Each placement played forward (:mod:`simulator.placement_sim`): in the scenario's world over its run
    settings, or in the world a placement file describes over ``duration_s`` (default
    :data:`PLACEMENT_FILE_DURATION_S`, a tenth of it warm-up), with the case's seed."""
    comparisons = []
    for result in results:
        if result.placement is None:
            continue
        if scenario is not None:
            world = apply_placement(scenario.world, case.problem, result)
            duration, setting = duration_s or scenario.run.duration_s, scenario.run.warmup_s
            warmup = (detect_warmup_s(world, duration_s=duration, seed=scenario.run.seed)
                      if isinstance(setting, str) else setting)  # run.warmup: auto
        else:
            world = problem_world(case.graph, case.problem, result.placement)
            duration = duration_s or PLACEMENT_FILE_DURATION_S
            warmup = duration / 10.0
        if duration <= warmup:
            raise click.BadParameter(f"{duration:g} s: must be longer than the warm-up ({warmup:g} s)",
                                     param_hint="--duration")
        seed = case.seed if scenario is None else scenario.run.seed
        comparisons.append(compare_with_simulation(case.problem, result, world, duration_s=duration,
                                                   warmup_s=warmup, seed=seed))
    return comparisons


def _simulation_table(comparisons: list[Comparison]) -> list[str]:
    header = (f"{'solver':<14} {'predicted ms':>12} {'simulated ms':>13} {'± 95 % ms':>10} {'error':>8} "
              f"{'total (model)':>14} {'total (sim)':>12}")
    lines = [header]
    for c in comparisons:
        ci = "-" if c.ci95_s is None else f"{c.ci95_s * 1e3:.3g}"
        lines.append(f"{c.solver:<14} {c.predicted_latency_s * 1e3:12.4g} {c.simulated_latency_s * 1e3:13.4g} "
                     f"{ci:>10} {c.relative_error * 100:7.2f}% {c.predicted_total:14.6g} {c.simulated_total:12.6g}")
    return lines


def _compare_table(results: list[PlacementResult]) -> list[list[str]]:
    rows = [["solver", "status", "total", "latency ms", "compute/h", "traffic/h", "gap", "time s"]]
    for r in results:
        t = r.objective
        if t is None:
            rows.append([r.solver, r.status.value, "-", "-", "-", "-", "-", f"{r.runtime_s:.2f}"])
            continue
        rows.append([r.solver, r.status.value, f"{t.total:.6g}", f"{t.mean_latency_s * 1e3:.4g}",
                     f"{t.compute_cost_per_s * 3600:.4g}", f"{t.traffic_cost_per_s * 3600:.4g}", format_gap(r.gap),
                     f"{r.runtime_s:.2f}"])
    return rows


@click.command("place")
@click.argument("problem_file", metavar="FILE|NAME")
@click.option("--policy", default=None,
              help=f"Placement solver: {', '.join(SOLVERS)} (default: a scenario's placement.policy, "
                   f"else {DEFAULT_POLICY}).")
@click.option("--compare", is_flag=True, help="Run every solver side by side (one certified lower bound for all).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.option("--assignment", is_flag=True, help="With --json: include every (group, service, node, share).")
@click.option("--evaluations", type=click.IntRange(min=1), default=None,
              help="Local search's budget of trial moves (default: solver.evaluations, or placement.evaluations).")
@click.option("--milp-nodes", type=click.IntRange(min=1), default=None,
              help="The MILP's budget of branch-and-bound nodes (default: solver.milp_nodes, or "
                   "placement.milp_nodes).")
@click.option("--time-limit", default=None,
              help="Opt-in wall-clock limit for the MILP only, e.g. 30s: its result then depends on the machine "
                   "(default: solver.time_limit, or placement.time_limit; none).")
@click.option("--seed", type=click.IntRange(min=0), default=None,
              help="Seed of randomised solvers (default: solver.seed, or placement.seed).")
@click.option("--simulate", is_flag=True,
              help="Also simulate each placement (always_edge) and print the predicted mean latency next to the "
                   "simulated one with its 95 % interval.")
@click.option("--duration", default=None,
              help="With --simulate: simulated time, e.g. 600s (default: the scenario's run.duration, or "
                   f"{PLACEMENT_FILE_DURATION_S:g} s for a placement file).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path),
              help="Write the assignment and replicas (Parquet, else CSV), summary.json and the figures here.")
@click.option("--force", is_flag=True, help="Overwrite the output files of an existing --out directory.")
def command(problem_file: str, policy: str | None, compare: bool, as_json: bool, assignment: bool,
            evaluations: int | None, milp_nodes: int | None, time_limit: str | None, seed: int | None,
            simulate: bool, duration: str | None, out_dir: Path | None, force: bool) -> None:
    """Place services for the problem in FILE (or bundled NAME) and print replicas, objective terms, bound and gap.

    FILE is a placement file or a simulation scenario with a placement section. With --out DIR the placement is
    also written to DIR (assignment and replicas tables, summary.json, placement map per solver, and the solver
    comparison with --compare).
    """
    case, default_policy, scenario = load_case(problem_file)
    if out_dir is not None:
        check_out_dir(out_dir, force=force)
    limit = case.budget.time_limit_s
    if time_limit is not None:
        limit = parse_quantity(time_limit, Dimension.SECONDS, "--time-limit")
        if not limit > 0:
            raise click.BadParameter(f"{time_limit!r}: must be > 0", param_hint="--time-limit")
    budget = Budget(evaluations or case.budget.evaluations, milp_nodes or case.budget.milp_nodes, limit)
    names = list(SOLVERS) if compare else [get_solver(policy or default_policy).name]
    model = compile_model(case.problem)
    bound = certified_bound(model)
    results = [_checked(case, solve(model, name, budget=budget, lower_bound=bound,
                                    rng=np.random.default_rng(case.seed if seed is None else seed)))
               for name in names]
    duration_s = None if duration is None else parse_quantity(duration, Dimension.SECONDS, "--duration")
    comparisons = _simulated(case, scenario, results, duration_s) if simulate else None
    written = [] if out_dir is None else write_placement(
        out_dir, case, results, _summary(case, bound, results, True, comparisons), compare=compare)
    if as_json:
        click.echo(json.dumps(_summary(case, bound, results, assignment, comparisons), indent=2))
        return
    width = terminal_width()
    click.echo(describe(case.problem, [case.name]))
    if compare:
        click.echo("\n".join(fit_table(_compare_table(results), width)))
        for failed in (r for r in results if r.objective is None):
            click.echo(f"{failed.solver}: {failed.message}")
        best = min((r for r in results if r.objective), key=lambda r: r.objective.total if r.objective else 0.0)
        click.echo("")
        click.echo("\n".join(_human(case, best, width)))
    else:
        click.echo("\n".join(_human(case, results[0], width)))
    if simulate:
        click.echo("")
        click.echo("\n".join(_simulation_table(comparisons or [])))
    if out_dir is not None:
        click.echo(f"\nwrote {out_dir}/ ({len(written)} files)")


def _summary(case: PlacementCase, bound: float, results: list[PlacementResult], assignment: bool,
             comparisons: list[Comparison] | None) -> dict[str, Any]:
    """The object ``--json`` prints (and ``--out DIR/summary.json`` holds, with every assignment); with
    ``--simulate`` it adds the simulated comparison."""
    document: dict[str, Any] = {
        "name": case.name, "source": case.source, "weights": asdict(case.problem.weights), "lower_bound": bound,
        "results": [result_to_dict(case.problem, r, assignment) for r in results]}
    if comparisons is not None:
        document["simulated"] = [{**asdict(c), "relative_error": c.relative_error} for c in comparisons]
    return document
