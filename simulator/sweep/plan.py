"""Turn a sweep into the list of runs to do: one :class:`RunTask` per (point, replication), keyed by content.

A run is a pure function of (resolved scenario, seed); its key is the SHA-256 of both, so the same run always
gets the same key whatever sweep it belongs to, and a resumed or extended sweep finds what it already has.
Replication ``r`` of every point uses the same seed (common random numbers across points, so differences between
points are paired); the seeds come from ``np.random.SeedSequence(run.seed).spawn(replications)``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from offload.errors import ParameterError
from simulator.sweep.spec import SweepSpec

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ResolvedPoint:
    """A scenario with one sweep point applied, as the resolver returns it.

    Parameters
    ----------
    scenario : Mapping
        The resolved scenario (plain JSON-able data), independent of the sweep settings.
    base_seed : int
        The scenario's ``run.seed``; replication seeds are spawned from it.
    replications : int
        The scenario's ``run.replications`` (used when the sweep does not say).
    params : Mapping
        Swept path -> resolved value (the SI number where the scenario converts units), for tables and plots.
    """

    scenario: Mapping[str, Any]
    base_seed: int
    replications: int
    params: Mapping[str, Any]


Resolver = Callable[[Mapping[str, Any]], ResolvedPoint]
"""Applies one sweep point (``{path: value}``) to the base scenario and resolves it."""


@dataclass(frozen=True, slots=True)
class RunTask:
    """One run of a sweep.

    Parameters
    ----------
    key : str
        SHA-256 (hex) of the resolved scenario and the seed.
    point : Mapping
        Swept path -> value as written in the sweep.
    params : Mapping
        Swept path -> value as resolved (SI number where the scenario converts units), for tables and plots.
    replication : int
        Index of the replication, 0-based.
    seed : int
        The run's seed.
    scenario : Mapping
        The resolved scenario the run function receives.
    """

    key: str
    point: Mapping[str, Any]
    params: Mapping[str, Any]
    replication: int
    seed: int
    scenario: Mapping[str, Any]


def canonical_json(data: Any) -> str:
    """Deterministic compact JSON (sorted keys; NaN and infinities as in Python's json); ``TypeError`` if not JSON."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def run_key(scenario: Mapping[str, Any], seed: int) -> str:
    """SHA-256 hex digest identifying the run of ``scenario`` with ``seed``."""
    return hashlib.sha256(canonical_json({"scenario": scenario, "seed": int(seed)}).encode()).hexdigest()


def replication_seeds(base_seed: int, replications: int) -> list[int]:
    """Independent 63-bit seeds, one per replication, spawned from ``base_seed`` with ``SeedSequence``."""
    if replications < 1:
        raise ParameterError("replications", replications, "must be >= 1")
    children = np.random.SeedSequence(base_seed).spawn(replications)
    return [int(child.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for child in children]


def plan_runs(spec: SweepSpec, resolve: Resolver, *, replications: int | None = None) -> list[RunTask]:
    """List the runs of ``spec``: every point resolved, times its replications, in sweep order.

    ``replications`` overrides the spec's, which overrides the scenario's. A point that resolves to the same run as
    an earlier one (a repeated value, a repeated random choice) is planned once; the duplicate is logged.
    """
    tasks: list[RunTask] = []
    seen: dict[str, Mapping[str, Any]] = {}
    for point in spec.points():
        resolved = resolve(point)
        count = replications or spec.replications or resolved.replications
        for replication, seed in enumerate(replication_seeds(resolved.base_seed, count)):
            key = run_key(resolved.scenario, seed)
            if key in seen:
                logger.warning("sweep point %s repeats point %s; it is run once", point, seen[key])
                continue
            seen[key] = point
            tasks.append(RunTask(key, point, resolved.params, replication, seed, resolved.scenario))
    return tasks

