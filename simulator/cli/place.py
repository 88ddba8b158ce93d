"""``mecsim place``: where should each service run? Solve a placement problem with one solver or compare them all.

The input is YAML, given as a path or a bundled name, and is either a placement file (see
:mod:`simulator.scenario.placement_file`, e.g. ``place-melbourne``) or a simulation scenario with a ``placement``
section (e.g. ``melbourne``): then the problem is the one ``mecsim simulate`` places
(:mod:`simulator.placement_bridge`) and the section's solver, budget and seed are the defaults. Budgets count work
(local-search evaluations, MILP nodes), so the same input and seed give the same placement on any machine;
``--time-limit`` opts the MILP into a wall-clock limit, and a MILP stopped by it says so. Every placement printed has
been re-verified by the independent checker (:mod:`scheduler.checker`).
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
from simulator.cli.output import prepare_out_dir, terminal_width
from simulator.cli.place_output import PLACE_OUTPUT_NAMES, write_placement
from simulator.placement_bridge import placement_graph, placement_problem
from simulator.scenario import ScenarioError, ScenarioIssue, load_scenario, resolve_scenario_path
from simulator.scenario.loader import Scenario
from simulator.scenario.placement_file import PlacementCase, load_placement_file
from simulator.scenario.report import fit_table, format_gap, placement_lines
from simulator.scenario.yamlload import load_yaml

#: Solver of placement files (they name none) when ``--policy`` is not given.
DEFAULT_POLICY = "local-search"


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


def load_case(path_or_name: str) -> tuple[PlacementCase, str]:
    """A placement file or a simulation scenario with a ``placement`` section (told apart by content), and the
    default solver name."""
    path = resolve_scenario_path(path_or_name)
    if _is_scenario(path):
        return scenario_case(load_scenario(path))
    return load_placement_file(path), DEFAULT_POLICY


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
@click.option("--out", "out_dir", type=click.Path(path_type=Path),
              help="Write the assignment and replicas (Parquet, else CSV), summary.json and the figures here.")
@click.option("--force", is_flag=True, help="Overwrite the output files of an existing --out directory.")
def command(problem_file: str, policy: str | None, compare: bool, as_json: bool, assignment: bool,
            evaluations: int | None, milp_nodes: int | None, time_limit: str | None, seed: int | None,
            out_dir: Path | None, force: bool) -> None:
    """Place services for the problem in FILE (or bundled NAME) and print replicas, objective terms, bound and gap.

    FILE is a placement file or a simulation scenario with a placement section. With --out DIR the placement is
    also written to DIR (assignment and replicas tables, summary.json, placement map per solver, and the solver
    comparison with --compare).
    """
    case, default_policy = load_case(problem_file)
    if out_dir is not None:
        out_dir = prepare_out_dir(out_dir, force=force, names=PLACE_OUTPUT_NAMES)
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
    written = [] if out_dir is None else write_placement(out_dir, case, results, _summary(case, bound, results, True),
                                                         compare=compare)
    if as_json:
        click.echo(json.dumps(_summary(case, bound, results, assignment), indent=2))
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
    if out_dir is not None:
        click.echo(f"\nwrote {out_dir}/ ({len(written)} files)")


def _summary(case: PlacementCase, bound: float, results: list[PlacementResult], assignment: bool) -> dict[str, Any]:
    """The object ``--json`` prints (and ``--out DIR/summary.json`` holds, with every assignment)."""
    return {"name": case.name, "source": case.source, "weights": asdict(case.problem.weights), "lower_bound": bound,
            "results": [result_to_dict(case.problem, r, assignment) for r in results]}
