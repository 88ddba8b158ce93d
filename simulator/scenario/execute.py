"""Running a scenario: every policy on common random numbers, merged into one :class:`SimulationResult`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, replace
from typing import Any

import pandas as pd

from offload.errors import MecsimError, ParameterError
from scheduler.problem_io import result_to_dict
from simulator.motion_log import MotionLog
from simulator.placement_bridge import PlacedWorld, place_world
from simulator.result import PlatformLog, SimulationResult
from simulator.run import AUTO, detect_warmup_s, run
from simulator.scenario.budget import available_memory_bytes, check_budget
from simulator.scenario.errors import ScenarioError, ScenarioIssue
from simulator.scenario.loader import Scenario
from simulator.world import PolicySpec

#: Called with (policies done, policies in total, display name of the policy now running, "" at the end).
Progress = Callable[[int, int, str], None]


def simulate(scenario: Scenario, *, seed: int | None = None, replications: int | None = None,
             duration_s: float | None = None, streaming: bool = False,
             progress: Progress | None = None) -> SimulationResult:
    """Simulate every policy of ``scenario``; arguments left ``None`` come from its ``run`` section.

    Each policy is run separately with the same seed, so all see the same arrivals and task sizes (replication
    ``r`` uses the ``r``-th child of ``SeedSequence(seed)`` for every policy) and differences are paired; the
    result is the same as one :func:`simulator.run.run` call over all policies. A scenario with a ``placement``
    section is placed once, before every policy; its summary then has a ``placement`` object
    (:func:`placement_summary`).

    Raises
    ------
    ParameterError
        ``duration_s`` not longer than the scenario's warm-up, or bad seed/replications.
    ScenarioError
        The run is over its budget (:func:`check_run_budget`), or its placement fails.
    """
    settings = scenario.run
    duration = settings.duration_s if duration_s is None else float(duration_s)
    if not isinstance(settings.warmup_s, str) and duration <= settings.warmup_s:
        raise ParameterError("duration", duration, f"must be longer than run.warmup ({settings.warmup_s:g} s); "
                                                   "change it with --set run.warmup=...")
    check_run_budget(scenario, duration_s=duration, replications=replications)
    placed = placed_world(scenario)
    world = scenario.world if placed is None else placed.world
    seed = settings.seed if seed is None else seed
    replications = settings.replications if replications is None else replications
    first = world.policies[0].display_name
    warmup_s = (detect_warmup_s(world, duration_s=duration, seed=seed, platform=scenario.platform,
                                mobility=None if scenario.mobility is None else scenario.mobility.for_policy(first))
                if settings.warmup_s == AUTO else settings.warmup_s)
    parts = []
    total = len(world.policies)
    for done, policy in enumerate(world.policies):
        if progress is not None:
            progress(done, total, policy.display_name)
        parts.append(run(world, duration_s=duration, seed=seed, replications=replications,
                         warmup_s=warmup_s, policies=[policy], streaming=streaming,
                         platform=scenario.platform,
                         mobility=None if scenario.mobility is None else scenario.mobility.for_policy(
                             policy.display_name)))
    if progress is not None:
        progress(total, total, "")
    result = _merge(parts, list(world.policies))
    result.metadata["warmup_auto"] = settings.warmup_s == AUTO
    if placed is None:
        return result
    return replace(result, placement=placement_summary(placed))


def check_run_budget(scenario: Scenario, *, duration_s: float | None = None, replications: int | None = None) -> None:
    """Refuse, before it starts, a run of ``scenario`` over its event or memory budget
    (:func:`simulator.scenario.budget.check_budget`; arguments left ``None`` come from its ``run`` section).

    Raises
    ------
    ScenarioError
        The estimate, the limit and how to raise it, at the line of the ``run`` key to change.
    """
    settings = scenario.run
    check_budget(scenario.budget, settings.duration_s if duration_s is None else duration_s,
                 settings.replications if replications is None else replications, available_memory_bytes())


def placed_world(scenario: Scenario) -> PlacedWorld | None:
    """Solve the scenario's ``placement`` section: its world placed, with the problem, the solver's result and the
    independent check (``None`` without a placement section). :func:`simulate` calls it once per run.

    Raises
    ------
    ScenarioError
        The placement is infeasible or fails the independent check, reported against the ``placement`` section.
    """
    if scenario.placement is None:
        return None
    try:
        return place_world(scenario.world, scenario.placement)
    except MecsimError as error:
        raise ScenarioError([ScenarioIssue(*scenario.placement_at, ("placement",), str(error))]) from error


def placement_summary(placed: PlacedWorld) -> dict[str, Any]:
    """The ``placement`` object of a summary: objective weights, the solver's result (replicas per service and
    server, objective terms, lower bound, gap; :func:`scheduler.problem_io.result_to_dict`) and the independent
    check."""
    return {"weights": asdict(placed.problem.weights), **result_to_dict(placed.problem, placed.result),
            "check": {"feasible": placed.check.feasible, "violations": list(placed.check.violations)}}


def _merge(parts: list[SimulationResult], policies: list[PolicySpec]) -> SimulationResult:
    """One result from per-policy results of the same world, seed and horizon."""
    if len(parts) == 1:
        return parts[0]
    names = [policy.display_name for policy in policies]
    records = pd.concat([part.records for part in parts], ignore_index=True)
    if not records.empty:
        records["policy"] = pd.Categorical(records["policy"].astype(str), categories=names)
    timeseries = pd.concat([part.timeseries for part in parts], ignore_index=True)
    summaries = {name: part.policies[name] for name, part in zip(names, parts, strict=True)}
    metadata = dict(parts[0].metadata)
    metadata["policies"] = [entry for part in parts for entry in part.metadata["policies"]]
    metadata["littles_law"] = {key: value for part in parts for key, value in part.metadata["littles_law"].items()}
    metadata["wall_s"] = sum(part.metadata["wall_s"] for part in parts)
    batteries = [part.battery for part in parts if part.battery is not None]
    battery = pd.concat(batteries, ignore_index=True) if batteries else None
    if battery is not None:
        battery["policy"] = pd.Categorical(battery["policy"].astype(str), categories=names)
    metadata["warnings"] = [warning for part in parts for warning in part.metadata["warnings"]]
    logs = [part.platform for part in parts if part.platform is not None]
    platform = PlatformLog(*(pd.concat([getattr(log, name) for log in logs], ignore_index=True)
                             for name in PlatformLog.__dataclass_fields__)) if logs else None
    motions = [part.mobility for part in parts if part.mobility is not None]
    trails = [part.motion for part in parts if part.motion is not None]
    return SimulationResult(records, timeseries, summaries, metadata, platform=platform, battery=battery,
                            mobility=pd.concat(motions, ignore_index=True) if motions else None,
                            motion=MotionLog.concat(trails) if trails else None)


def summary_dict(scenario: Scenario, result: SimulationResult) -> dict[str, Any]:
    """The ``--json`` object: the run's summary plus the scenario's name and hash."""
    return {"scenario": scenario.name, "scenario_sha256": scenario.sha256, **result.to_json_dict()}
