"""Scenario files: safe YAML with line numbers, a pydantic schema in human units, ``--set`` overrides.

Public API: :func:`load_scenario`, :func:`scenario_from_dict`, :class:`Scenario`, :func:`bundled_scenarios`,
:class:`ScenarioError`, :func:`apply_overrides`, :func:`simulate` (every policy on common random numbers),
:func:`placed_world` (a scenario's placement section solved).
"""

from simulator.scenario.bundled import bundled_scenarios, resolve_scenario_path
from simulator.scenario.errors import ScenarioError, ScenarioIssue
from simulator.scenario.execute import placed_world, simulate, summary_dict
from simulator.scenario.loader import Outputs, RunSettings, Scenario, canonical_json, load_scenario, scenario_from_dict
from simulator.scenario.overrides import apply_overrides, parse_path, set_path
from simulator.world import format_path

__all__ = [
    "Outputs",
    "RunSettings",
    "Scenario",
    "ScenarioError",
    "ScenarioIssue",
    "apply_overrides",
    "bundled_scenarios",
    "canonical_json",
    "format_path",
    "load_scenario",
    "parse_path",
    "placed_world",
    "resolve_scenario_path",
    "scenario_from_dict",
    "set_path",
    "simulate",
    "summary_dict",
]
