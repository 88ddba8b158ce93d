"""Writing a placement to a directory (``mecsim place --out DIR``).

Layout::

    DIR/assignment.parquet   one row per (solver, group, service, node) with the share and request rate (or .csv)
    DIR/replicas.parquet     one row per (solver, service, node) with the replica count and request rate (or .csv)
    DIR/summary.json         the object ``mecsim place --json --assignment`` prints
    DIR/figures/             the placement map of each solver (and the solver comparison with --compare)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from scheduler.result import PlacementResult
from simulator.cli.output import dumps_json, write_table
from simulator.files import make_folder, write_text
from simulator.scenario.placement_file import PlacementCase


def assignment_frame(entries: Sequence[Mapping[str, Any]], case: PlacementCase) -> pd.DataFrame:
    """One row per (solver, group, service, node): the share of the group's requests the node serves and that
    rate in requests per second (from ``result_to_dict(..., assignment=True)`` entries)."""
    problem = case.problem
    services = [s.name for s in problem.services]
    rows = [{"solver": entry["solver"], **row,
             "rate_per_s": float(problem.rate_per_s[problem.group_names.index(row["group"]),
                                                    services.index(row["service"])]) * row["share"]}
            for entry in entries for row in entry.get("assignment", [])]
    return pd.DataFrame(rows, columns=["solver", "group", "service", "node", "share", "rate_per_s"])


def replicas_frame(entries: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per (solver, service, node hosting it): replicas and the requests per second they serve."""
    rows = [{"solver": entry["solver"], "service": service["service"], "node": node,
             "replicas": values["replicas"], "rate_per_s": values["rate_per_s"]}
            for entry in entries for service in entry["services"] for node, values in service["nodes"].items()]
    return pd.DataFrame(rows, columns=["solver", "service", "node", "replicas", "rate_per_s"])


def write_placement(out_dir: Path, case: PlacementCase, results: Sequence[PlacementResult],
                    summary: Mapping[str, Any], *, compare: bool) -> list[Path]:
    """Write the tables, the summary and the figures of a ``mecsim place`` run into ``out_dir`` (created if
    missing; each file replaced atomically, other files kept)."""
    from simulator.plots import FigureOptions, figure_style, placement_map, solver_comparison
    from simulator.plots._style import save_figure

    entries = summary["results"]
    make_folder(out_dir)
    written = [write_table(assignment_frame(entries, case), out_dir, "assignment"),
               write_table(replicas_frame(entries), out_dir, "replicas"),
               write_text(out_dir / "summary.json", dumps_json(summary) + "\n")]
    options, figures = FigureOptions(), out_dir / "figures"
    with figure_style(options.style):
        for result in results:
            if result.placement is not None:
                figure = placement_map(case.graph, case.problem, result.placement,
                                       title=f"{case.name}: {result.solver}")
                written.append(save_figure(figure, figures, f"placement_map_{result.solver}", options))
        if compare:
            table = pd.DataFrame([{"solver": r.solver, "total": r.objective.total, "lower_bound": r.lower_bound,
                                   "runtime_s": r.runtime_s} for r in results if r.objective is not None])
            if not table.empty:
                written.append(save_figure(solver_comparison(table), figures, "solver_comparison", options))
    return written
