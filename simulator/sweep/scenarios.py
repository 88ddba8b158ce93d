"""Sweeps over scenario files: each point is applied like ``--set`` to the validated scenario, re-validated, and run
with the simulator.

The run's resolved scenario drops the ``sweep`` section and sets ``run.replications`` to 1 (each run is one
replication with its own seed), so a run's key does not change when the sweep is extended or given more
replications: everything already computed is reused.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
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
from simulator.scenario.execute import check_run_budget
from simulator.scenario.yamlload import load_yaml, read_text
from simulator.sweep.plan import ResolvedPoint, RunTask, canonical_json, plan_runs
from simulator.sweep.schema import LineOf, parse_sweep
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
    line_of : callable, optional
        YAML path -> line in the scenario file, to locate a point's problems at its values in the ``sweep:``
        section.
    """

    scenario: Scenario
    spec: SweepSpec
    line_of: LineOf | None = None
    _cache: dict[str, ResolvedPoint] = field(default_factory=dict, init=False, repr=False, compare=False)

    def resolve(self, point: Mapping[str, Any]) -> ResolvedPoint:
        """Apply ``point`` to the base scenario, validate it and check one run's budget (each run of a sweep is one
        replication).

        Raises
        ------
        ScenarioError
            The point makes the scenario invalid or its run too big: each problem at the line of the swept value it
            concerns (the point's first value when it concerns none), the point named after the rule.
        """
        cache_key = canonical_json(point)
        if cache_key in self._cache:
            return self._cache[cache_key]
        data = copy.deepcopy(self.scenario.resolved)
        data.pop("sweep", None)
        located = {path: set_path(data, parse_path(path), value) for path, value in point.items()}
        try:
            scenario = scenario_from_dict(data, source=self.scenario.source)
            check_run_budget(scenario, replications=1)
        except ScenarioError as error:
            raise ScenarioError([self._at_point(issue, point, located) for issue in error.issues]) from None
        resolved = copy.deepcopy(scenario.resolved)
        resolved["run"]["replications"] = 1
        params = {path: _value_at(scenario.resolved, where, point[path]) for path, where in located.items()}
        found = ResolvedPoint(resolved, scenario.run.seed, scenario.run.replications, params)
        self._cache[cache_key] = found
        return found

    def _at_point(self, issue: ScenarioIssue, point: Mapping[str, Any],
                  located: Mapping[str, tuple[str | int, ...]]) -> ScenarioIssue:
        """``issue`` of the scenario at ``point``, moved to the swept value it concerns (the point's first when it
        concerns none) and naming the point."""
        if not point:
            return issue
        concerned = [path for path, where in located.items()
                     if issue.path[:len(where)] == where or where[:len(issue.path)] == issue.path]
        axis = (concerned or list(point))[0]
        text = ", ".join(f"{path}={value}" for path, value in point.items())
        line = self._line(axis, point[axis])
        if line is None:  # an axis given by --grid/--zip
            return replace(issue, source=f"{self.scenario.source} [sweep point {text}]", line=None)
        return replace(issue, line=line, rule=f"{issue.rule} (at sweep point {text})")

    def _line(self, axis: str, value: Any) -> int | None:
        """Line of ``value`` of the swept ``axis`` in the ``sweep:`` section (None: not there)."""
        written = self.scenario.resolved.get("sweep") or {}
        if self.line_of is None:
            return None
        for section in ("grid", "zip"):
            values = (written.get(section) or {}).get(axis)
            if values is not None:
                index = (values.index(value),) if isinstance(values, list) and value in values else ()
                return self.line_of(("sweep", section, axis, *index))
        if axis in ((written.get("random") or {}).get("params") or {}):
            return self.line_of(("sweep", "random", "params", axis))
        return None

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
        """Fields describing the sweep for ``sweep.json``; ``base_sha256`` identifies the scenario swept over;
        ``resolved`` is the base scenario (after ``--set``, SI numbers), from which ``mecsim plot`` rebuilds each
        point to draw the queueing theory of textbook scenarios."""
        return {"scenario": self.scenario.source, "name": self.scenario.name,
                "scenario_sha256": self.scenario.sha256, "base_sha256": self.base_sha256(),
                "sweep": self.spec.describe(), "resolved": self.scenario.resolved}

    def base_sha256(self) -> str:
        """SHA-256 of what every run of the sweep shares: the scenario without its ``sweep`` section, its
        replication count and the swept values. Sweeps with the same base may share a directory (one extends or
        resumes the other); a different base is another scenario's sweep."""
        data = copy.deepcopy(self.scenario.resolved)
        data.pop("sweep", None)
        data["run"].pop("replications", None)
        for path in self.spec.paths:
            set_path(data, parse_path(path), "<swept>")
        return hashlib.sha256(canonical_json(data).encode()).hexdigest()


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
    loaded = load_yaml(read_text(path, scenario.source), scenario.source)
    spec = parse_sweep(scenario.resolved.get("sweep"), source=scenario.source, line_of=loaded.line_of)
    return ScenarioSweep(scenario, spec.with_axes(grid=grid, zip_axes=zip_axes, replications=replications),
                         loaded.line_of)


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
