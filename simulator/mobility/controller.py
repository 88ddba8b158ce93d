"""Mobility in a run: one SimPy process per step size moves all the devices of the groups with that step a step at a
time, attaches each to a cell and hands devices over (one numpy pass over all of them per step); radio rates follow
from the positions, computed once per step after every group of that step moved.

Attachment (evaluated at every step of the group, all devices at once):

- ``nearest``: the nearest access point whose ``range_m`` covers the device;
- ``strongest``: the access point of the strongest received power in range (each cell's :class:`RadioModel`), but
  only when it beats the serving cell by ``hysteresis_db`` for at least ``time_to_trigger_s`` (3GPP TS 36.331
  §5.5.4.4, event A3; the trigger time is checked at the group's step).

A device out of every cell's range stays with its serving cell. A handover (``Engine.handover``) interrupts the
device's radio for ``interruption_s``; its transfers in flight resume where they were or restart, re-decided by the
policy, after it. Radio (:mod:`simulator.mobility.radio`): every moving device's uplink rate, and its downlink
rate at a cell whose radio models the downlink, is the Shannon rate of its SINR at its position, evaluated at
every step; a transfer keeps the rate it started with.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Generator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import simpy

from offload.errors import ParameterError
from simulator.devices import Access, DeviceState, GroupState
from simulator.links import Attachment, DeviceLink, alone_bps
from simulator.mobility.migration import Migration
from simulator.mobility.models import Area, Motion, advance_all
from simulator.mobility.radio import CellRadios
from simulator.mobility.spec import Cell, Follower, GroupMotion, HandoverRule
from simulator.mobility.trail import Trail
from simulator.policies import Candidate

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
#: ``handover(device, access point, interruption_s, restart)`` -> transfers it interrupted.
Handover = Callable[[DeviceState, str, float, bool], int]

#: Columns of the per-group mobility table.
MOBILITY_COLUMNS = ("group", "devices", "handovers", "handovers_per_hour", "interruption_s", "interrupted_transfers",
                    "mean_distance_m", "mean_uplink_bps", "mean_downlink_bps", "migrations", "migration_s",
                    "migration_downtime_s", "replacements", "replicas_moved", "placement_gain_s")
#: The followers' columns of a group they leave alone.
_IDLE = {"migrations": 0, "migration_s": 0.0, "migration_downtime_s": 0.0, "replacements": 0, "replicas_moved": 0,
         "placement_gain_s": 0.0}


@dataclass(frozen=True, slots=True, eq=False)
class Mobility:
    """Devices that move: the area, the cells on it, each moving group's motion, the handover rule and, optionally,
    stateful sessions that may migrate after a handover (:mod:`simulator.mobility.migration`) and the online
    re-placement of services' replicas (:mod:`simulator.lifecycle.replacement`). Pass it to
    :func:`simulator.run.run`; groups without a :class:`GroupMotion` keep their access point. Such a group whose
    service a follower re-places (:meth:`Follower.anchors`) is *anchored*: its devices stay at their access point,
    never handed over, and offload where the follower binds them from there (its table row: no handover, distance
    0 to its cell)."""

    area: Area
    cells: tuple[Cell, ...]
    groups: tuple[GroupMotion, ...]
    handover: HandoverRule = field(default_factory=HandoverRule)
    migration: Migration | None = None
    replacements: tuple[Follower, ...] = ()
    #: keep the per-step motion logs (:meth:`MobilityRun.motion`); ``False``: the mobility table only, memory
    #: that does not grow with the horizon (:func:`simulator.run.run` with ``streaming``)
    log: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "replacements", tuple(self.replacements))
        if not self.cells:
            raise ParameterError("mobility.cells", (), "needs at least one cell")
        if self.handover.rule == "strongest":
            missing = [cell.access_point for cell in self.cells if cell.radio is None]
            if missing:
                raise ParameterError("handover.rule", "strongest", f"needs a radio on every cell ({missing[0]} has "
                                     "none)")

    def for_policy(self, label: str) -> Mobility:
        """The mobility the offload policy labelled ``label`` runs with: its followers only."""
        migration = self.migration if self.migration is not None and _applies(self.migration, label) else None
        return replace(self, migration=migration,
                       replacements=tuple(f for f in self.replacements if _applies(f, label)))

    def without_logs(self) -> Mobility:
        """The same, without the per-step motion logs (:attr:`log`)."""
        return replace(self, log=False)

    def attach(self, env: simpy.Environment, groups: list[GroupState], access: Access, handover: Handover,
               rng: np.random.Generator) -> MobilityRun:
        """The controller of one replication over the engine's groups."""
        return MobilityRun(self, env, groups, access, handover, rng)


def _applies(follower: Follower, label: str) -> bool:
    return not follower.policies or label in follower.policies


def _moving_state(name: str, groups: list[GroupState]) -> GroupState:
    """The run-time state of the moving group ``name``."""
    by_name = {state.group.name: state for state in groups}
    state = by_name.get(name)
    if state is None:
        raise ParameterError("mobility.groups", name, f"is not a device group of the world ({', '.join(by_name)})")
    if state.group.routes:
        raise ParameterError("mobility.groups", name, "a group with fixed routes cannot move (not supported yet)")
    return state


class _Moving:
    """One moving group at run time: its devices are rows ``rows`` of the controller's arrays."""

    __slots__ = ("devices", "distance_sum_m", "down_links", "handovers", "interrupted", "links", "motion", "names",
                 "number", "rate_count", "rate_sum_bps", "rows", "samples", "spec", "state")

    def __init__(self, spec: GroupMotion, state: GroupState, motion: Motion, rows: slice, number: int) -> None:
        self.spec = spec
        self.number = number
        self.state = state
        self.motion = motion
        self.rows = rows
        self.devices: list[DeviceState] = list(state.devices)
        self.names = np.array([device.name for device in self.devices], dtype=object)
        self.links: list[DeviceLink] = []
        self.down_links: list[DeviceLink] = []
        self.handovers = 0
        self.interrupted = 0
        self.distance_sum_m = 0.0
        self.samples = 0
        #: sums and counts of the known radio rates at the steps: uplink, downlink
        self.rate_sum_bps = [0.0, 0.0]
        self.rate_count = [0, 0]


class _Cohort:
    """The moving groups that share a step size: moved, attached and recorded together, by one process and one
    numpy pass over all their devices per step (a world of many groups pays per step, not per group and step).
    Its devices, in the groups' order, are the controller's rows ``rows``; the group of each is ``owner[i]``
    (a position in ``groups``), its global device index ``index[i]``; a group's devices are ``spans[k]`` of them."""

    __slots__ = ("devices", "groups", "index", "motions", "numbers", "owner", "rows", "spans", "step_s")

    def __init__(self, step_s: float, groups: list[_Moving]) -> None:
        self.step_s = step_s
        self.groups = groups
        self.motions = [group.motion for group in groups]
        self.numbers = np.array([group.number for group in groups], dtype=np.intp)
        self.rows = np.concatenate([np.arange(g.rows.start, g.rows.stop, dtype=np.intp) for g in groups])
        self.index = np.concatenate([np.arange(g.state.first_index, g.state.first_index + len(g.devices),
                                               dtype=np.intp) for g in groups])
        self.devices = [device for group in groups for device in group.devices]
        self.owner = np.repeat(np.arange(len(groups), dtype=np.intp), [len(g.devices) for g in groups])
        bounds = np.cumsum([0, *(len(g.devices) for g in groups)]).tolist()
        self.spans = [slice(lo, hi) for lo, hi in itertools.pairwise(bounds)]


class MobilityRun:
    """The mobility controller of one replication."""

    def __init__(self, spec: Mobility, env: simpy.Environment, groups: list[GroupState], access: Access,
                 handover: Handover, rng: np.random.Generator) -> None:
        self.spec = spec
        self.env = env
        self.access = access
        self.handover = handover
        self.rng = rng
        followers: list[Follower] = [] if spec.migration is None else [spec.migration]
        followers += spec.replacements
        moves = {motion.group for motion in spec.groups}
        #: the groups that stay at their access points and follow a follower (:class:`Mobility`)
        self.anchored = [state for state in groups if state.group.name not in moves
                         and any(follower.anchors(state.group.service) for follower in followers)]
        #: where each device is attached, shared with the engine and every moving or anchored device's links
        self.attachment = Attachment(sum(state.group.count for state in groups),
                                     len(spec.groups) + len(self.anchored))
        cells = spec.cells
        self.cell_xy = np.array([cell.position_m for cell in cells], dtype=np.float64)
        self.range_m = np.array([cell.range_m for cell in cells])
        self.bounded = bool(np.isfinite(self.range_m).any())  # some cell's range is finite
        self.names = [cell.access_point for cell in cells]
        at = {cell.access_point: cell.position_m for cell in cells}
        #: each server on a cell's node: the cell's position
        self.replica_xy = {server.name: at[server.node] for server in access.world.servers if server.node in at}
        self._by_cell: dict[int, FloatArray] = {}
        self.radio = any(cell.radio is not None for cell in cells)
        states = [_moving_state(motion_spec.group, groups) for motion_spec in spec.groups]
        first = sum(state.group.count for state in states)
        self.n_devices = first
        #: per moving device (its row): position, serving cell, the cell it would hand over to and since when
        self.positions_m = np.zeros((first, 2))
        self.serving = np.zeros(first, dtype=np.intp)
        self.candidate = np.full(first, -1, dtype=np.intp)
        self.since_s = np.zeros(first)
        self.moving: list[_Moving] = []
        first = 0
        for motion_spec, state in zip(spec.groups, states, strict=True):
            rows = slice(first, first + state.group.count)
            self.positions_m[rows] = (spec.area.uniform(state.group.count, rng) if motion_spec.start_m is None
                                      else motion_spec.start_m)
            # the model moves its group's rows of the shared array in place
            motion = motion_spec.model.start(self.positions_m[rows], spec.area, rng)
            self.moving.append(_Moving(motion_spec, state, motion, rows, len(self.moving)))
            first = rows.stop
        steps: dict[float, list[_Moving]] = {}
        for group in self.moving:
            steps.setdefault(group.spec.step_s, []).append(group)
        self.cohorts = [_Cohort(step_s, members) for step_s, members in steps.items()]
        self.trail = Trail(pd.DataFrame({"access_point": self.names, "x_m": self.cell_xy[:, 0],
                                         "y_m": self.cell_xy[:, 1], "range_m": self.range_m}),
                           [(group.spec.group, group.names) for group in self.moving]) if spec.log else None
        self.radios = CellRadios([cell.radio for cell in cells], first, rng)
        for cell in cells:
            if cell.radio is not None and cell.radio.downlink_power_w is not None \
                    and math.isinf(alone_bps(access.radios[cell.access_point][1])):
                raise ParameterError(f"cell {cell.access_point}: radio.downlink_power_w", cell.radio.downlink_power_w,
                                     "needs a finite downlink_bps at the access point (the capacity its downloads "
                                     "share)")
        self._attach_at_start()
        self._anchor()
        devices = [device for group in self.moving for device in group.devices]
        self.followers = [follower.attach(env, access, devices + [device for state in self.anchored
                                                                   if follower.anchors(state.group.service)
                                                                   for device in state.devices])
                          for follower in followers]

    # -- attachment ---------------------------------------------------------------------------------------------
    def _distance_m(self, positions_m: FloatArray) -> FloatArray:
        """Distance of every device to every cell, ``(devices, cells)``."""
        offset = positions_m[:, None, :] - self.cell_xy[None, :, :]
        return np.asarray(np.hypot(offset[..., 0], offset[..., 1]), dtype=np.float64)

    def _scores(self, rows: slice | IntArray) -> tuple[FloatArray, FloatArray]:
        """Per device of ``rows`` and cell: the attachment score (-inf out of range) and the distance."""
        distance = self._distance_m(self.positions_m[rows])
        if self.spec.handover.rule == "nearest":
            score = -distance
        else:
            with np.errstate(divide="ignore"):
                score = 10.0 * np.log10(self.radios.received_w(distance, rows))
        return (np.where(distance <= self.range_m, score, -np.inf) if self.bounded else score), distance

    def _attach_at_start(self) -> None:
        cells = self.spec.cells
        names = [cell.access_point for cell in cells]
        for group in self.moving:
            score, _ = self._scores(group.rows)
            best = score.argmax(axis=1)
            covered = np.isfinite(score[np.arange(best.size), best])
            home = names.index(group.state.group.access_point) if group.state.group.access_point in names else 0
            serving = self.serving[group.rows]
            serving[:] = np.where(covered, best, home)
            for i, device in enumerate(group.devices):
                up = DeviceLink(self.env, group.state.up, self.radios.up_bps if self.radio else None,
                                group.rows.start + i, self.attachment)
                down = DeviceLink(self.env, group.state.down, self.radios.down_bps if self.radios.downlink else None,
                                  group.rows.start + i, self.attachment)
                device.up, device.down = up, down
                group.links.append(up)
                group.down_links.append(down)
                self.access.rebind(device, names[serving[i]])
            group.state.mobile = True
            devices = slice(group.state.first_index, group.state.first_index + len(group.devices))
            self.attachment.group[devices] = group.number
            self.attachment.next_s[group.number] = self.attachment.step_s[group.number] = group.spec.step_s
            # a session's migration or a re-placement changes candidates between steps: decided at arrival only
            migration = self.spec.migration
            self.attachment.ahead[group.number] = not self.spec.replacements and (
                migration is None or migration.state_bits.get(group.state.group.service, 0.0) <= 0.0)
            self.attachment.cell[devices] = serving
            self.attachment.row[devices] = np.arange(group.rows.start, group.rows.stop)
        self.attachment.rates_bps = self.radios.up_bps if self.radio else None
        self.attachment.down_rates_bps = self.radios.down_bps if self.radios.downlink else None
        self.links = [link for group in self.moving for link in group.links]
        self.down_links = [link for group in self.moving for link in group.down_links]
        self._update_rates()

    def _anchor(self) -> None:
        """Give every anchored device its own links on its access point's channels, as a moving device has, so
        that its tasks are decided at arrival on the candidates its followers give it (never handed over, no
        steps)."""
        for number, state in enumerate(self.anchored, start=len(self.moving)):
            if state.group.routes:
                raise ParameterError("mobility", state.group.name, "a group with fixed routes cannot follow a "
                                     "re-placed service (not supported yet)")
            for device in state.devices:
                device.up = DeviceLink(self.env, state.up, attachment=self.attachment)
                device.down = DeviceLink(self.env, state.down, attachment=self.attachment)
            state.mobile = True
            devices = slice(state.first_index, state.first_index + len(state.devices))
            self.attachment.group[devices] = number
            self.attachment.ahead[number] = False
            home = state.group.access_point
            self.attachment.cell[devices] = self.names.index(home) if home in self.names else -1

    def start(self) -> None:
        """One process per step size (:class:`_Cohort`)."""
        for cohort in self.cohorts:
            self.env.process(self._walk(cohort))
        for follower in self.followers:
            follower.start()
        self._steady()

    def _walk(self, cohort: _Cohort) -> Generator[simpy.Event, Any, None]:
        step = cohort.step_s
        while True:
            yield self.env.timeout(step)
            before_m = self.positions_m[cohort.rows]
            advance_all(cohort.motions, step, self.rng)
            self._step(cohort)
            after_m = self.positions_m[cohort.rows]
            if self.trail is not None:
                self.trail.record(cohort.rows, cohort.spans, self.env.now, before_m, after_m, step,
                                  *self._replicas(cohort))
            self.attachment.next_s[cohort.numbers] = self.env.now + step  # the time of the timeout below
            self._steady()

    def _replicas(self, cohort: _Cohort) -> tuple[FloatArray, FloatArray]:
        """Where each device's serving replica is (its cell's position, NaN off the map) and the round trip to it
        (:mod:`simulator.mobility.trail`): from its cell's candidates, the same for every device of a cell unless a
        follower binds devices to hosts of their own."""
        def replica(candidates: tuple[Candidate, ...]) -> tuple[float, float, float]:
            if not candidates:
                return math.nan, math.nan, math.nan
            return (*self.replica_xy.get(candidates[0].name, (math.nan, math.nan)), candidates[0].round_trip_s)

        serving = self.serving[cohort.rows]
        rows = np.empty((serving.size, 3))
        for group, span in zip(cohort.groups, cohort.spans, strict=True):
            if self.attachment.ahead[group.number]:
                if group.number not in self._by_cell:
                    service = group.state.group.service
                    self._by_cell[group.number] = np.array([replica(self.access.table(name, service)[1])
                                                            for name in self.names], dtype=np.float64)
                rows[span] = self._by_cell[group.number][serving[span]]
            else:
                rows[span] = np.array([replica(device.candidates) for device in group.devices], dtype=np.float64)
        return rows[:, :2], rows[:, 2]

    def _steady(self) -> None:
        """Until when the attachment holds: the next step of any group."""
        attachment = self.attachment
        attachment.until_s = float(attachment.next_s.min(initial=math.inf))
        attachment.rates_until_s = attachment.until_s if self.radio else math.inf

    def _step(self, cohort: _Cohort) -> None:
        """Attach every device of ``cohort`` where it now is: hand over those due, in the groups' order."""
        rule = self.spec.handover
        now = self.env.now
        at = cohort.rows
        score, distance = self._scores(at)
        rows = np.arange(score.shape[0])
        best = score.argmax(axis=1)
        serving, candidate = self.serving[at], self.candidate[at]
        margin = rule.hysteresis_db if rule.rule == "strongest" else 0.0
        better = score[rows, best] > score[rows, serving] + margin
        want = better & (best != serving)
        fresh = want & (best != candidate)
        candidate = np.where(want, best, -1)
        since_s = self.since_s[at] = np.where(fresh, now, self.since_s[at])
        due = np.flatnonzero(want & (now - since_s >= rule.time_to_trigger_s - 1e-9))
        names = self.names
        cells = self.attachment.cell
        groups = cohort.groups
        restart = rule.in_flight == "restart"
        for i, index, row, cell in zip(due.tolist(), cohort.index[due].tolist(), at[due].tolist(),
                                       best[due].tolist(), strict=True):
            serving[i] = self.serving[row] = cells[index] = cell
            candidate[i] = -1
        if due.size and self.radio and rule.interruption_s == 0.0:
            self._update_rates()  # transfers that resume at once go at their new cell's rate
        for i, owner, cell in zip(due.tolist(), cohort.owner[due].tolist(), best[due].tolist(), strict=True):
            group = groups[owner]
            group.handovers += 1
            group.interrupted += self.handover(cohort.devices[i], names[cell], rule.interruption_s, restart)
            for follower in self.followers:
                follower.moved(cohort.devices[i])
        self.candidate[at] = candidate
        distance = distance[rows, serving]
        for group, span in zip(groups, cohort.spans, strict=True):
            group.distance_sum_m += float(distance[span].sum())
            group.samples += span.stop - span.start
        if self.radio:
            self._update_rates()
            for k, all_bps in enumerate((self.radios.up_bps, self.radios.down_bps)):
                rates = all_bps[at]
                for group, span in zip(groups, cohort.spans, strict=True):
                    known = ~np.isnan(rates[span])
                    group.rate_sum_bps[k] += float(rates[span][known].sum())
                    group.rate_count[k] += int(known.sum())

    # -- radio --------------------------------------------------------------------------------------------------
    def _update_rates(self) -> None:
        """Every moving device's radio rates at its serving cell (:meth:`CellRadios.update`)."""
        if not self.radio:
            return
        sending = _in_flight(self.links)
        receiving = _in_flight(self.down_links) if self.radios.downlink else np.zeros(self.n_devices)
        self.radios.update(self._distance_m(self.positions_m), self.serving, sending, receiving)

    # -- results ------------------------------------------------------------------------------------------------
    def motion(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame] | None:
        """The distance series, the tracks, the speed log and the cells (:meth:`Trail.frames`); ``None`` without
        logs (:attr:`Mobility.log`)."""
        return None if self.trail is None else self.trail.frames()

    def table(self, duration_s: float) -> pd.DataFrame:
        """One row per moving group (:data:`MOBILITY_COLUMNS`): ``handovers_per_hour`` per device, ``interruption_s``
        in total, distance and radio uplink and downlink rates averaged over the devices at every step (a rate: at
        cells with its model), the sessions' ``migrations`` with their total time and downtime (s), and the
        re-placements of its service."""
        rows = []
        for group in self.moving:
            n = len(group.devices)
            rows.append({
                "group": group.spec.group, "devices": n, "handovers": group.handovers,
                "handovers_per_hour": group.handovers / n / duration_s * 3600.0,
                "interruption_s": group.handovers * self.spec.handover.interruption_s,
                "interrupted_transfers": group.interrupted,
                "mean_distance_m": _mean(group.distance_sum_m, group.samples),
                "mean_uplink_bps": _mean(group.rate_sum_bps[0], group.rate_count[0]),
                "mean_downlink_bps": _mean(group.rate_sum_bps[1], group.rate_count[1]),
                **_IDLE, **{key: value for follower in self.followers
                            for key, value in follower.row(group.spec.group).items()}})
        return pd.DataFrame(rows, columns=list(MOBILITY_COLUMNS))


def _mean(total: float, count: int) -> float:
    return total / count if count else math.nan


def _in_flight(links: list[DeviceLink]) -> FloatArray:
    """1 for each link with a transfer in flight, else 0."""
    return np.fromiter((1.0 if link.flights else 0.0 for link in links), dtype=np.float64, count=len(links))
