"""Sweeps over scenario files: each point is applied like ``--set`` to the validated scenario, re-validated, and run
with the simulator.

The run's resolved scenario drops the ``sweep`` section and sets ``run.replications`` to 1 (each run is one
replication with its own seed), so a run's key does not change when the sweep is extended or given more
replications: everything already computed is reused.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.scenario import (
    Scenario,
    ScenarioError,
    ScenarioIssue,
    load_scenario,
    parse_path,
    resolve_scenario_path,
    scenario_from_dict,
    set_path,
)
from simulator.scenario.yamlload import load_yaml
from simulator.sweep.plan import ResolvedPoint, RunTask, canonical_json, plan_runs
from simulator.sweep.schema import parse_sweep
from simulator.sweep.spec import SweepSpec

#: At most this many point errors are listed (a broken axis would otherwise repeat its error at every point).
MAX_ISSUES = 20


@dataclass(frozen=True, slots=True)
class ScenarioSweep:
    """A validated base scenario and the sweep to run over it.

    Parameters
    ----------
    scenario : Scenario
        The base scenario (after ``--set`` overrides).
    spec : SweepSpec
        The points and replications.
    """

    scenario: Scenario
    spec: SweepSpec
    _cache: dict[str, ResolvedPoint] = field(default_factory=dict, init=False, repr=False, compare=False)

    def resolve(self, point: Mapping[str, Any]) -> ResolvedPoint:
        """Apply ``point`` to the base scenario and validate it.

        Raises
        ------
        ScenarioError
            The point makes the scenario invalid; the source names the point.
        """
        cache_key = canonical_json(point)
        if cache_key in self._cache:
            return self._cache[cache_key]
        data = copy.deepcopy(self.scenario.resolved)
        data.pop("sweep", None)
        located = {path: set_path(data, parse_path(path), value) for path, value in point.items()}
        text = ", ".join(f"{path}={value}" for path, value in point.items())
        scenario = scenario_from_dict(data, source=f"{self.scenario.source} [sweep point {text}]")
        resolved = copy.deepcopy(scenario.resolved)
        resolved["run"]["replications"] = 1
        params = {path: _value_at(scenario.resolved, where, point[path]) for path, where in located.items()}
        found = ResolvedPoint(resolved, scenario.run.seed, scenario.run.replications, params)
        self._cache[cache_key] = found
        return found

    def tasks(self, replications: int | None = None) -> list[RunTask]:
        """Every run of the sweep; all invalid points are reported at once.

        Raises
        ------
        ScenarioError
            Listing the problems of (up to ``MAX_ISSUES``) invalid points.
        """
        issues: list[ScenarioIssue] = []
        for point in self.spec.points():
            try:
                self.resolve(point)
            except ScenarioError as error:
                issues.extend(error.issues)
        if issues:
            raise ScenarioError(issues[:MAX_ISSUES])
        return plan_runs(self.spec, self.resolve, replications=replications)

    def manifest(self) -> dict[str, Any]:
        """Fields describing the sweep for ``sweep.json``, with the base scenario as resolved (after ``--set``, in
        SI numbers) so that a point's scenario can be rebuilt from the directory alone (``mecsim plot`` draws the
        queueing theory of textbook scenarios from it)."""
        return {"scenario": self.scenario.source, "name": self.scenario.name,
                "scenario_sha256": self.scenario.sha256, "sweep": self.spec.describe(),
                "resolved": self.scenario.resolved}


def load_sweep(path_or_name: str | Path, *, overrides: Sequence[str] = (),
               grid: Sequence[tuple[str, Sequence[Any]]] = (), zip_axes: Sequence[tuple[str, Sequence[Any]]] = (),
               replications: int | None = None) -> ScenarioSweep:
    """Load a scenario file (or bundled name) and its ``sweep:`` section, plus axes from the command line.

    ``grid`` axes are added to the file's grid (a path given in both takes the command line's values);
    ``zip_axes`` given on the command line replace the file's zip block; ``replications`` replaces the
    section's.

    Raises
    ------
    ScenarioError
        The scenario or its sweep section is invalid (``file:line:`` messages).
    """
    scenario = load_scenario(path_or_name, overrides)
    path = resolve_scenario_path(path_or_name)
    loaded = load_yaml(path.read_text(encoding="utf-8"), scenario.source)
    spec = parse_sweep(scenario.resolved.get("sweep"), source=scenario.source, line_of=loaded.line_of)
    return ScenarioSweep(scenario, spec.with_axes(grid=grid, zip_axes=zip_axes, replications=replications))


def run_scenario(scenario: Mapping[str, Any], seed: int) -> dict[str, Any]:
    """The sweep's run function: simulate one replication of ``scenario`` with ``seed``; return the summary."""
    from simulator.scenario.execute import simulate

    result = simulate(scenario_from_dict(dict(scenario), source="<sweep run>"), seed=seed, replications=1)
    return result.to_json_dict()


def _value_at(data: Any, where: Sequence[str | int], written: Any) -> Any:
    for part in where:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return written
    return data if isinstance(data, int | float | str | bool) else written
