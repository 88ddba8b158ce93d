"""The run budget: a run that would not finish or would exhaust memory is refused before it starts, with the numbers.

Expected work is counted in events: every task that arrives (each device group's ``count × mean rate`` over the
whole horizon, warm-up included), every time-series sample and every mobility step of a moving device (a moving
group's ``count × horizon / step``), for each replication of each policy. It must not exceed ``run.max_events``
(default :data:`DEFAULT_MAX_EVENTS`, about a quarter of an hour at the simulator's ~100,000 tasks/s). A run keeps
its records in memory, :data:`RECORD_BYTES_PER_TASK` bytes per task, and its motion logs (every moving device's
speed at every step, the tracks, the distance series), :data:`MOTION_BYTES_PER_STEP` bytes per device and step
(both measured, the README's performance section); together they must fit in ``run.max_memory`` if given, else in
the memory the system reports available.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from simulator.sampler import DEFAULT_SAMPLES
from simulator.scenario.errors import ScenarioError, ScenarioIssue

#: Events a run may process unless ``run.max_events`` says otherwise.
DEFAULT_MAX_EVENTS = 100_000_000
#: Peak memory growth per task of a run that keeps its records (measured by ``benchmarks/bench_sim.py``).
RECORD_BYTES_PER_TASK = 184
#: Peak memory growth per moving device and mobility step of a run (its motion logs; measured by
#: ``benchmarks/bench_mobility.py --memory``).
MOTION_BYTES_PER_STEP = 35


@dataclass(frozen=True, slots=True)
class Budget:
    """What a scenario's runs will cost, before horizon and replications are known.

    Attributes
    ----------
    tasks_per_s : float
        Mean arrival rate of all devices together, in one replication under one policy.
    policies : int
        Number of policies, each run separately.
    sample_interval_s : float or None
        The time-series period (``None``: horizon / 200).
    max_events : int or None
        ``run.max_events`` (``None``: :data:`DEFAULT_MAX_EVENTS`).
    max_memory_bits : float or None
        ``run.max_memory`` (``None``: the memory available when the run is checked).
    where : mapping
        ``(source, line)`` of the run keys ``duration``, ``sample_interval``, ``max_events`` and ``max_memory``.
    steps_per_s : float
        Mobility steps of all moving devices together per second, ``Σ count / step`` over the moving groups, in one
        replication under one policy.
    """

    tasks_per_s: float
    policies: int
    sample_interval_s: float | None
    max_events: int | None
    max_memory_bits: float | None
    where: Mapping[str, tuple[str, int | None]]
    steps_per_s: float = 0.0


def expected_tasks(budget: Budget, duration_s: float, replications: int) -> float:
    """Tasks arriving over ``replications`` runs of ``duration_s`` under every policy."""
    return budget.tasks_per_s * duration_s * replications * budget.policies


def expected_samples(budget: Budget, duration_s: float, replications: int) -> float:
    """Time-series samples over ``replications`` runs of ``duration_s`` under every policy."""
    per_run = DEFAULT_SAMPLES if budget.sample_interval_s is None else duration_s / budget.sample_interval_s
    return per_run * replications * budget.policies


def expected_steps(budget: Budget, duration_s: float, replications: int) -> float:
    """Mobility steps of moving devices over ``replications`` runs of ``duration_s`` under every policy."""
    return budget.steps_per_s * duration_s * replications * budget.policies


def available_memory_bytes(meminfo: Path = Path("/proc/meminfo")) -> int | None:
    """``MemAvailable`` of the system in bytes, ``None`` where the system does not report it."""
    try:
        for line in meminfo.read_text(encoding="ascii").splitlines():
            key, _, value = line.partition(":")
            if key == "MemAvailable":
                return int(value.split()[0]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def check_budget(budget: Budget, duration_s: float, replications: int, available_bytes: int | None) -> None:
    """Refuse a run over its event limit or its memory limit.

    Raises
    ------
    ScenarioError
        One issue naming the key's file and line, the estimate, the limit and how to raise it.
    """
    tasks = expected_tasks(budget, duration_s, replications)
    samples = expected_samples(budget, duration_s, replications)
    steps = expected_steps(budget, duration_s, replications)
    times = (f"{duration_s:g} s × {replications} replication(s) × "
             f"{budget.policies} polic{'y' if budget.policies == 1 else 'ies'}")
    runs = f"{budget.tasks_per_s:.4g} tasks/s × {times}"
    moves = f"{budget.steps_per_s:.4g} device steps/s × {times}"
    limit = DEFAULT_MAX_EVENTS if budget.max_events is None else budget.max_events
    events = tasks + samples + steps
    if events > limit:
        key = "max_events" if budget.max_events is not None else "sample_interval" if samples > tasks + steps \
            else "duration"
        stepped = f", + {steps:.3g} mobility steps = {moves}" if steps else ""
        rule = (f"the run would process about {events:.3g} events ({tasks:.3g} tasks = {runs}, "
                f"+ {samples:.3g} time-series samples{stepped}), over the limit of {limit:.3g} (run.max_events); "
                f"shorten it or raise the limit, e.g. --set run.max_events={_above(events)}")
        raise ScenarioError([ScenarioIssue(*budget.where[key], ("run", key), rule)])
    memory_bytes = tasks * RECORD_BYTES_PER_TASK + steps * MOTION_BYTES_PER_STEP
    if budget.max_memory_bits is not None:
        limit_bytes, key, named = budget.max_memory_bits / 8, "max_memory", "run.max_memory"
    elif available_bytes is not None:
        limit_bytes, key, named = float(available_bytes), "duration", "memory available"
    else:
        return
    if memory_bytes > limit_bytes:
        logged = (f", and motion logs {steps * MOTION_BYTES_PER_STEP / 1e9:.3g} GB: {steps:.3g} mobility steps = "
                  f"{moves}, × {MOTION_BYTES_PER_STEP} B" if steps else "")
        rule = (f"the run would keep about {memory_bytes / 1e9:.3g} GB in memory (records "
                f"{tasks * RECORD_BYTES_PER_TASK / 1e9:.3g} GB: {tasks:.3g} tasks = {runs}, "
                f"× {RECORD_BYTES_PER_TASK} B{logged}), over the {limit_bytes / 1e9:.3g} GB of {named}; shorten it "
                f"or set the limit, e.g. --set run.max_memory={_above(memory_bytes / 1e9)}GB")
        raise ScenarioError([ScenarioIssue(*budget.where[key], ("run", key), rule)])


def _above(value: float) -> str:
    """A round number (one significant digit, rounded up) at least ``value``: the limit to suggest."""
    whole = max(1, math.ceil(value))
    unit = 10 ** (len(str(whole)) - 1)
    return str(-(-whole // unit) * unit)
