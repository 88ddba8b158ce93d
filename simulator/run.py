"""Run a world: every policy × every replication on common random numbers, collected into one result.

Replication ``r`` of every policy uses the ``r``-th child of ``np.random.SeedSequence(seed).spawn(replications)``;
that child spawns one stream per device group (arrivals and task sizes of its devices), then one for the policy
and one for the servers (patience times), so all policies see the same arrivals and sizes and their differences
are paired.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from offload.cost import LOCAL
from offload.errors import ParameterError
from offload.validate import check_non_negative, check_positive
from simulator.energy import POWER_TERMS
from simulator.engine import Engine
from simulator.jobs import EngineOutput, Mobility, Platform, Samples
from simulator.metrics import Layout, RecordLabel, RecordSink, record_store
from simulator.motion_log import MotionLog
from simulator.output_analysis import BASE_BINS, mser_truncation
from simulator.plugins import make_policy
from simulator.records import ColumnStore
from simulator.result import (
    BATTERY_COLUMNS,
    RECORD_COLUMNS,
    TIMESERIES_COLUMNS,
    PlatformLog,
    PolicySummary,
    SimulationResult,
)
from simulator.summary import combine, json_safe, replication_stats
from simulator.version import mecsim_version
from simulator.world import PolicySpec, World, as_policy_spec

logger = logging.getLogger(__name__)
#: ``warmup_s`` asking for automatic warm-up detection.
AUTO = "auto"


def layout_of(world: World) -> Layout:
    """What the record sink needs to know about the devices: group, service, deadline and powers of each."""
    services = [s.name for s in world.services]
    group_of = np.repeat(np.arange(len(world.device_groups)), [g.count for g in world.device_groups])
    service_of_group = np.array([services.index(g.service) for g in world.device_groups], dtype=np.intp)
    powers = {
        "compute_power_w": [g.device.compute_power_w for g in world.device_groups],
        "tx_power_w": [g.device.tx_power_w for g in world.device_groups],
        "rx_power_w": [g.device.rx_power_w for g in world.device_groups],
        "idle_power_w": [g.device.idle_power_w for g in world.device_groups],
        "tail_energy_j": [g.device.tail_energy_j for g in world.device_groups],
    }
    assert set(powers) == set(POWER_TERMS.values())
    return Layout(group_of.astype(np.intp), service_of_group[group_of],
                  np.array([g.deadline_s for g in world.device_groups], dtype=np.float64),
                  {k: np.asarray(v, dtype=np.float64) for k, v in powers.items()}, len(services),
                  len(world.servers))


def _check(duration_s: float, seed: int, replications: int, warmup_s: float) -> None:
    check_positive("duration_s", duration_s)
    check_non_negative("warmup_s", warmup_s)
    if warmup_s >= duration_s:
        raise ParameterError("warmup_s", warmup_s, f"must be < duration_s ({duration_s})")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ParameterError("seed", seed, "must be a whole number >= 0")
    if isinstance(replications, bool) or not isinstance(replications, int | np.integer) or replications < 1:
        raise ParameterError("replications", replications, "must be a whole number >= 1")


def _categorical(codes: Any, names: list[str]) -> Any:
    return pd.Categorical.from_codes(np.asarray(codes, dtype=np.int64), categories=pd.Index(names))


def store_of(world: World, policies: list[str]) -> ColumnStore:
    """An empty record store for ``policies`` run on ``world``."""
    return record_store(policies, [f"{g.name}/{i}" for g in world.device_groups for i in range(g.count)],
                        [s.name for s in world.services],
                        [LOCAL, *(s.name for s in world.servers)])  # target code: LOCAL_OPTION (0), server k is k + 1


def _long_form(samples: Samples, policy: str, replication: int, key: str, names: tuple[str, ...],
               values: dict[str, npt.NDArray[Any]]) -> pd.DataFrame:
    """Sampled ``(samples, len(names))`` arrays of one replication in long form: one row per sample and name."""
    n, k = samples.times_s.size, len(names)
    return pd.DataFrame({
        "policy": [policy] * (n * k),
        "replication": np.full(n * k, replication, dtype=np.int64),
        "time_s": np.repeat(samples.times_s, k),
        key: _categorical(np.tile(np.arange(k), n), list(names)),
        **{column: array.reshape(-1) for column, array in values.items()},
    })


def _series(samples: Samples, policy: str, replication: int) -> pd.DataFrame:
    """The time series of one replication in long form (:data:`TIMESERIES_COLUMNS`)."""
    return _long_form(samples, policy, replication, "server", samples.servers,
                      {"utilisation": samples.utilisation, "queue_length": samples.queue_length}
                      )[list(TIMESERIES_COLUMNS)]


def _battery_series(samples: Samples, policy: str, replication: int) -> pd.DataFrame:
    """The battery levels of one replication in long form (:data:`BATTERY_COLUMNS`)."""
    return _long_form(samples, policy, replication, "device", samples.devices,
                      {"battery_j": samples.battery_j})[list(BATTERY_COLUMNS)]


def _replicate(world: World, spec: PolicySpec, child: np.random.SeedSequence, sink: RecordSink, duration_s: float,
               warmup_s: float, platform: Platform | None, mobility: Mobility | None = None) -> EngineOutput:
    """One replication of one policy from the replication's seed ``child``: one stream per device group, then the
    policy's and the servers'."""
    streams = child.spawn(len(world.device_groups))
    policy_seed, server_seed = child.spawn(2)
    engine = Engine(world, make_policy(spec), streams, policy_seed, sink, duration_s=duration_s, warmup_s=warmup_s,
                    server_seed=server_seed, platform=platform, mobility=mobility)
    if engine.planner is not None and any(g.mobile and g.group.battery is not None for g in engine.groups):
        raise ParameterError(f"policies[{spec.display_name}]", spec.name, "plans each task's DVFS frequency or "
                             "transmit power: a moving device with a battery needs another policy (not supported yet)")
    return engine.run()


def detect_warmup_s(world: World, *, duration_s: float, seed: int, policy: PolicySpec | str | None = None,
                    platform: Platform | None = None, mobility: Mobility | None = None) -> float:
    """The warm-up MSER detects in a pilot run of replication 0 of ``policy`` (default: the world's first) without
    warm-up (records not kept), on its bins' edges."""
    spec = as_policy_spec(policy if policy is not None else world.policies[0])
    sink = RecordSink(layout_of(world), warmup_s=0.0, duration_s=duration_s, records=None)
    quiet = None if mobility is None else mobility.without_logs()  # nor the motion logs
    _replicate(world, spec, np.random.SeedSequence(int(seed)).spawn(1)[0], sink, duration_s, 0.0, platform, quiet)
    return mser_truncation(sink.stats.run_sum_s, sink.stats.run_count) * duration_s / BASE_BINS


def run(world: World, *, duration_s: float, seed: int, replications: int = 1,
        warmup_s: float | Literal["auto"] = 0.0, policies: Sequence[PolicySpec | str] | None = None,
        streaming: bool = False, platform: Platform | None = None, mobility: Mobility | None = None
        ) -> SimulationResult:
    """Simulate ``world`` for ``duration_s`` seconds (the first ``warmup_s`` not measured).

    Parameters
    ----------
    policies : sequence of str or PolicySpec, optional
        Policies to compare (registry names or specs); default ``world.policies``.
    warmup_s : float or "auto"
        Seconds at the start not measured; ``"auto"``: what MSER detects in a pilot run (replication 0 of the
        first policy, no warm-up), reported in ``metadata["warmup_s"]``.
    streaming : bool
        Keep summaries only, not the per-task records nor the moving devices' per-step logs (the mobility table
        stays; ``result.motion`` is ``None``): memory does not grow with the horizon.
    platform : Platform, optional
        Deployments and their controllers (:class:`simulator.lifecycle.Platform`); the result then carries their
        events, replica time series and drops by reason (:class:`~simulator.result.PlatformLog`).
    mobility : Mobility, optional
        Devices that move, attach to cells and hand over (:class:`simulator.mobility.Mobility`); the result then
        carries a per-group mobility table (:attr:`~simulator.result.SimulationResult.mobility`).

    Raises
    ------
    ParameterError, MecsimError
        Bad arguments, unknown policies or parameters.

    Examples
    --------
    >>> from simulator.builders import mm1_world
    >>> result = run(mm1_world(8.0, 10.0), duration_s=300.0, seed=1, policies=["always_edge", "always_local"])
    >>> list(result.policies)
    ['always_edge', 'always_local']
    >>> tasks = result.policies["always_edge"].tasks
    >>> tasks.generated == tasks.completed + tasks.dropped + tasks.in_flight
    True
    """
    auto = warmup_s == AUTO
    _check(duration_s, seed, replications, 0.0 if auto else float(warmup_s))
    specs = tuple(as_policy_spec(p) for p in (world.policies if policies is None else policies))
    if not specs:
        raise ParameterError("policies", policies, "needs at least one policy")
    names = [s.display_name for s in specs]
    if len(set(names)) != len(names):
        raise ParameterError("policies", names, "duplicate policy name; give each a distinct label")
    for spec in specs:
        make_policy(spec)
    layout = layout_of(world)
    services = [s.name for s in world.services]
    started = time.perf_counter()
    if auto:
        warmup_s = detect_warmup_s(world, duration_s=duration_s, seed=seed, policy=specs[0], platform=platform,
                                   mobility=mobility)
        logger.info("MSER warm-up of %s, replication 0: %g s", specs[0].display_name, warmup_s)
    warmup_s = float(warmup_s)
    window_s = duration_s - warmup_s
    store = None if streaming else store_of(world, names)
    if streaming and mobility is not None:
        mobility = mobility.without_logs()  # the mobility table only: no per-step motion logs either
    series: list[pd.DataFrame] = []
    batteries: list[pd.DataFrame] = []
    logs: list[tuple[pd.DataFrame, ...]] = []
    motions: list[pd.DataFrame] = []
    trails: list[tuple[pd.DataFrame, ...]] = []
    summary_policies: dict[str, PolicySummary] = {}
    little: dict[str, Any] = {}
    warnings: list[str] = []
    for code, spec in enumerate(specs):
        children = np.random.SeedSequence(int(seed)).spawn(int(replications))
        reps = []
        for r, child in enumerate(children):
            label = None if store is None else RecordLabel(store, code, r, len(store))
            sink = RecordSink(layout, warmup_s=warmup_s, duration_s=duration_s, records=label)
            output = _replicate(world, spec, child, sink, duration_s, warmup_s, platform, mobility)
            if output.platform is not None:
                logs.append(_platform_tables(output, spec.display_name, r))
            if output.mobility is not None:
                motions.append(_labelled(output.mobility, spec.display_name, r))
            if output.motion is not None:
                trails.append(tuple(_label_motion(frame, names, spec.display_name, r) for frame in output.motion))
            reps.append(replication_stats(output, window_s=window_s, services=services, warmup_s=warmup_s))
            series.append(_series(output.samples, spec.display_name, r))
            batteries.append(_battery_series(output.samples, spec.display_name, r))
            logger.debug("policy %s replication %d: %d tasks", spec.display_name, r, output.generated)
        summary_policies[spec.display_name], little[spec.display_name], found = combine(reps, spec.display_name)
        warnings.extend(found)
    for warning in warnings:
        logger.warning("%s", warning)
    records = pd.DataFrame({c: [] for c in RECORD_COLUMNS}) if store is None else store.to_frame()
    timeseries = pd.concat(series, ignore_index=True)
    timeseries["policy"] = pd.Categorical(timeseries["policy"].astype(str), categories=names)
    metadata = json_safe({
        "seed": int(seed), "version": mecsim_version(), "duration_s": float(duration_s), "warmup_s": float(warmup_s),
        "replications": int(replications), "streaming": streaming,
        "policies": [{"name": s.name, "label": s.display_name, "params": dict(s.params)} for s in specs],
        "world_sha256": hashlib.sha256(repr(world).encode()).hexdigest(), "n_devices": world.n_devices,
        "littles_law": little, "wall_s": time.perf_counter() - started, "warmup_auto": auto, "warnings": warnings,
    })
    battery = None
    if any(group.battery is not None for group in world.device_groups):
        battery = pd.concat(batteries, ignore_index=True)
        battery["policy"] = pd.Categorical(battery["policy"].astype(str), categories=names)
    log = None if platform is None else PlatformLog(*(pd.concat(parts, ignore_index=True) for parts in zip(*logs,
                                                                                                      strict=True)))
    return SimulationResult(records, timeseries, summary_policies, metadata, platform=log, battery=battery,
                            mobility=pd.concat(motions, ignore_index=True) if motions else None,
                            motion=_motion_log(trails) if trails else None)


def _motion_log(trails: list[tuple[pd.DataFrame, ...]]) -> MotionLog:
    """The replications' distance series, tracks and speed logs, and the cells."""
    series, tracks, speeds = (frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
                              for frames in list(zip(*trails, strict=True))[:3])  # one run's: no copy
    return MotionLog(series, tracks, speeds, trails[0][3].drop(columns=["policy", "replication"]))


def _label_motion(frame: pd.DataFrame, policies: list[str], policy: str, replication: int) -> pd.DataFrame:
    """A fresh motion table of one replication with ``policy`` (categorical over the run's ``policies``) and
    ``replication`` (32 bits) columns in front, in place: a long speed log pays 5 bytes per row for them, not 16."""
    rows = len(frame)
    frame.insert(0, "replication", np.full(rows, replication, dtype=np.int32))
    frame.insert(0, "policy", pd.Series(pd.Categorical.from_codes(
        np.full(rows, policies.index(policy), dtype=np.int16), dtype=pd.CategoricalDtype(policies)), index=frame.index))
    return frame


def _platform_tables(output: EngineOutput, policy: str, replication: int) -> tuple[pd.DataFrame, ...]:
    """The platform's tables of one replication, labelled, in :class:`PlatformLog`'s order: events, replica
    series, drops by reason, counters, traffic series, version monitor."""
    assert output.platform is not None
    events, replicas, counts, traffic, versions = output.platform
    drops = pd.DataFrame({"reason": [reason.value for reason in output.dropped_by_reason],
                          "count": list(output.dropped_by_reason.values())})
    return tuple(_labelled(frame, policy, replication)
                 for frame in (events, replicas, drops, counts, traffic, versions))


def _labelled(frame: pd.DataFrame, policy: str, replication: int) -> pd.DataFrame:
    """``frame`` with ``policy`` and ``replication`` columns in front."""
    labelled = frame.copy()
    labelled.insert(0, "replication", replication)
    labelled.insert(0, "policy", policy)
    return labelled


__all__ = ["detect_warmup_s", "run"]
