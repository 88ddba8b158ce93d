"""From a YAML file (or a dict) and ``--set`` overrides to a validated, hashed :class:`Scenario` holding its World.

A scenario is converted once, here: the schema object lives only inside :func:`_validate`; what leaves is the
simulator's :class:`~simulator.world.World`, the run settings and, for a ``placement`` section, the placement
settings (checked, not solved: :func:`simulator.scenario.execute.placed_world` solves them once per simulation).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from offload.errors import MecsimError
from simulator.lifecycle import Platform
from simulator.mobility import Mobility
from simulator.placement_bridge import PlacementSettings, check_placeable
from simulator.scenario.budget import Budget
from simulator.scenario.bundled import resolve_scenario_path
from simulator.scenario.checks import check_references, tier_problems
from simulator.scenario.convert import placement_settings, world_from_spec
from simulator.scenario.errors import ScenarioError, ScenarioIssue, YamlPath
from simulator.scenario.mobility import mobility_from_spec
from simulator.scenario.overrides import SOURCE as OVERRIDE_SOURCE
from simulator.scenario.overrides import apply_overrides
from simulator.scenario.platform import platform_from_spec
from simulator.scenario.schema import NAME_PATTERN, ScenarioSpec
from simulator.scenario.yamlload import LoadedYaml, load_yaml, read_text
from simulator.world import Problem, World, WorldError

_PLACEMENT_RULE = ("this is a placement problem (topology/users, no devices): run it with `mecsim place`; "
                   "a simulation scenario needs services and devices (`mecsim init` writes one)")
_MAPPING_RULE = "a scenario must be a mapping with at least services and devices (`mecsim init` writes one)"


@dataclass(frozen=True, slots=True)
class RunSettings:
    """The ``run`` section in SI: horizon, discarded warm-up, base seed and number of replications."""

    duration_s: float
    warmup_s: float | Literal["auto"]
    seed: int
    replications: int


@dataclass(frozen=True, slots=True)
class Outputs:
    """The ``outputs`` section: what ``--out`` writes besides ``summary.json`` and ``scenario.yaml``."""

    records: bool = True
    timeseries: bool = True
    figures: bool = True


@dataclass(frozen=True, slots=True)
class Scenario:
    """A validated scenario.

    Attributes
    ----------
    name, description : str
        From the file.
    resolved : dict
        Plain JSON-able data after overrides, in canonical form (SI numbers, defaults filled in); loading it again
        with :func:`scenario_from_dict` gives the same scenario and the same ``sha256``.
    sha256 : str
        Hash of ``resolved`` as canonical JSON (sorted keys): the identity of the experiment.
    run : RunSettings
        Horizon, warm-up, seed and replications.
    world : World
        What is simulated, with the offload policies to compare in file order (before placement: with a
        ``placement`` section the simulated world is the placed one, :func:`simulator.scenario.placed_world`).
    placement : PlacementSettings or None
        The ``placement`` section in SI, checked (:func:`simulator.placement_bridge.check_placeable`) but not
        solved.
    outputs : Outputs
        What ``--out`` writes.
    source : str
        Where it came from (a path, ``<dict>``).
    budget : Budget
        What its runs will cost, for :func:`simulator.scenario.budget.check_budget`.
    placement_at : (str, int or None)
        Source and line of the ``placement`` section, for the problems of solving it.
    platform : Platform or None
        The deployments and their controllers (``deployments`` section), passed to every run.
    mobility : Mobility or None
        Devices that move (``area``, ``handover``, devices' ``mobility``), passed to every run.
    """

    name: str
    description: str
    resolved: dict[str, Any]
    sha256: str
    run: RunSettings
    world: World
    placement: PlacementSettings | None
    outputs: Outputs
    source: str
    budget: Budget
    placement_at: tuple[str, int | None] = ("<dict>", None)
    platform: Platform | None = None
    mobility: Mobility | None = None

    @property
    def policy_names(self) -> tuple[str, ...]:
        """Display name of each policy (its ``label``, else its registry ``name``)."""
        return tuple(policy.display_name for policy in self.world.policies)


def canonical_json(data: Any) -> str:
    """Canonical JSON text: sorted keys, no spaces; the input of :attr:`Scenario.sha256`."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


#: World field names that the scenario file calls differently.
_YAML_SECTION = {"device_groups": "devices", "servers": "nodes"}


def _yaml_path(path: YamlPath) -> YamlPath:
    """The YAML path of a value at ``path`` inside the World built from the file."""
    if path and isinstance(path[0], str):
        return (_YAML_SECTION.get(path[0], path[0]), *path[1:])
    return path


def _validate(data: Any, source: str, loaded: LoadedYaml | None, touched: Sequence[YamlPath]) -> Scenario:
    from simulator.scenario.validation import issues_from_error

    def locate(path: YamlPath) -> tuple[str, int | None]:
        if any(path[:len(prefix)] == prefix for prefix in touched):
            return OVERRIDE_SOURCE, None
        return source, loaded.line_of(path) if loaded is not None else None

    if not isinstance(data, dict):
        line = loaded.line_of(()) if loaded is not None else None
        raise ScenarioError([ScenarioIssue(source, line, (), _MAPPING_RULE)])
    if "devices" not in data and {"topology", "users"} & data.keys():
        line = loaded.line_of(()) if loaded is not None else None
        raise ScenarioError([ScenarioIssue(source, line, (), _PLACEMENT_RULE)])
    try:
        spec = ScenarioSpec.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(issues_from_error(error, data, ScenarioSpec, locate)) from None
    problems = check_references(spec)
    built: World | None = None
    try:
        world = built = world_from_spec(spec, source)
    except WorldError as error:
        found = {problem.path for problem in problems}  # a reference already reported breaks the World there too
        problems += [Problem(_yaml_path(p.path), p.value, p.rule) for p in error.problems
                     if _yaml_path(p.path) not in found]
    else:
        if not problems:  # the policies were instantiated without error
            problems += tier_problems(world)
    mobility, found_mobility = mobility_from_spec(spec, Path(source).parent if Path(source).is_file() else Path.cwd(),
                                                  built)
    problems += found_mobility
    if problems:
        raise ScenarioError([ScenarioIssue(*locate(p.path), p.path, p.rule, *(() if p.value is None else (p.value,)))
                             for p in problems])
    placement = None if spec.placement is None else placement_settings(spec.placement)
    if placement is not None:
        try:
            check_placeable(world, placement)
        except MecsimError as error:
            raise ScenarioError([ScenarioIssue(*locate(("placement",)), ("placement",), str(error))]) from None
    resolved = spec.model_dump(mode="json", exclude_none=True)
    budget = Budget(sum(group.count * group.workload.mean_rate_per_s for group in world.device_groups),
                    len(world.policies), spec.run.sample_interval, spec.run.max_events, spec.run.max_memory,
                    {key: locate(("run", key)) for key in ("duration", "sample_interval", "max_events", "max_memory")},
                    _steps_per_s(world, mobility))
    return Scenario(
        name=spec.name, description=spec.description, resolved=resolved,
        sha256=hashlib.sha256(canonical_json(resolved).encode()).hexdigest(),
        run=RunSettings(spec.run.duration, spec.run.warmup, spec.run.seed, spec.run.replications),
        world=world,
        placement=placement, placement_at=locate(("placement",)),
        outputs=Outputs(spec.outputs.records, spec.outputs.timeseries, spec.outputs.figures), source=source,
        budget=budget, platform=platform_from_spec(spec), mobility=mobility,
    )


def _steps_per_s(world: World, mobility: Mobility | None) -> float:
    """Mobility steps of all moving devices per second: ``count / step`` summed over the moving groups."""
    if mobility is None:
        return 0.0
    counts = {group.name: group.count for group in world.device_groups}
    return sum(counts.get(motion.group, 0) / motion.step_s for motion in mobility.groups)


def scenario_from_dict(data: dict[str, Any], source: str = "<dict>", overrides: Sequence[str] = ()) -> Scenario:
    """Validate a scenario given as plain data (SI numbers or unit strings), after ``overrides``.

    Raises
    ------
    ScenarioError
        Every problem found, each naming its YAML path (no line numbers: there is no file).
    """
    data, touched = apply_overrides(data, overrides)
    return _validate(data, source, None, touched)


def _display_path(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it (shorter messages), else as given."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_scenario(path_or_name: str | Path, overrides: Sequence[str] = ()) -> Scenario:
    """Load a scenario file, or a bundled scenario by name, and apply ``--set`` overrides.

    Parameters
    ----------
    path_or_name : str or Path
        ``scenarios/city.yaml``, or a bundled name such as ``license-plate``
        (see :func:`simulator.scenario.bundled.resolve_scenario_path`).
    overrides : sequence of str
        ``path=value`` items, e.g. ``run.duration=600s``, ``devices[0].count=50``.

    Raises
    ------
    ScenarioError
        Every problem found, one per line, as ``file:line: path: value: rule``.
    """
    path = resolve_scenario_path(path_or_name)
    source = _display_path(path)
    loaded = load_yaml(read_text(path, source), source)
    if loaded.data is None:
        raise ScenarioError([ScenarioIssue(source, 1, (), "the file is empty; " + _MAPPING_RULE)])
    data = loaded.data
    if isinstance(data, dict) and "name" not in data and re.match(NAME_PATTERN, path.stem):
        data = {"name": path.stem, **data}  # a file without a name is called after itself
    data, touched = apply_overrides(data, overrides)
    return _validate(data, source, loaded, touched)
