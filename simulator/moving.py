"""A moving device's tasks (:mod:`simulator.mobility`): decided on the cell the device is attached to when they
arrive, at its own radio rates.

A device's cell and radio rate change only at mobility steps (attachment and rates are evaluated there), so for a
stateless policy (it observes nothing) the tasks that arrive before the next step can be decided together, as
soon as the first of them arrives (:func:`decide_ahead`): one batch per group, cell and rate, where a stateful
policy is asked task by task at arrival. An upload that starts after any interruption and ends before the next step
can be neither interrupted nor re-timed, so its time is set then too and the engine times it as a static device's.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from offload.cost import LOCAL_OPTION
from offload.formulas import compute_time_s, transfer_time_s
from offload.runtime import executor_time_s
from simulator.arrivals import DECIDE_AT_ARRIVAL, Window
from simulator.devices import DeviceState, Route
from simulator.jobs import Job
from simulator.links import Attachment, DeviceLink
from simulator.network import DedicatedChannel
from simulator.policies import DecisionBatch, Policy

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


def moving_batch(dev: DeviceState, work_ops: Sequence[float] | FloatArray, input_bits: Sequence[float] | FloatArray,
                 output_bits: Sequence[float] | FloatArray) -> DecisionBatch:
    """The batch of tasks of moving device ``dev`` (or of devices of its group on the same cell at the same radio
    rates): the candidates of the cell it is attached to now, at its own radio rates."""
    group = dev.group
    up, down = dev.up, dev.down
    assert isinstance(up, DeviceLink)
    assert isinstance(down, DeviceLink)
    candidates = dev.candidates
    if up.rates_bps is not None:  # a radio: the device's own rates, not the cell's nominal ones
        rate = up.nominal_bps()
        if down.rates_bps is None:
            candidates = tuple(c._replace(uplink_bps=rate) for c in candidates)
        else:
            down_rate = down.nominal_bps()
            candidates = tuple(c._replace(uplink_bps=rate, downlink_bps=down_rate) for c in candidates)
    work = np.asarray(work_ops, dtype=np.float64)
    return DecisionBatch(group.name, group.device, candidates, work, executor_time_s(group.device, work),
                         np.asarray(input_bits, dtype=np.float64), np.asarray(output_bits, dtype=np.float64),
                         group.deadline_s)


def route_to(dev: DeviceState, server: str) -> Route | None:
    """The route from ``dev``'s cell now to ``server`` (a name); ``None`` when its cell does not reach it."""
    hosts = [host.name for host in dev.routes.hosts]
    return dev.routes[hosts.index(server)] if server in hosts else None


def job_batch(job: Job) -> DecisionBatch:
    """The one-task batch of a moving device's task ``job``."""
    return moving_batch(job.device, [job.work_ops], [job.input_bits], [job.output_bits])


class Ahead:
    """Decisions taken ahead for a stateless ``policy``: the moving devices' tasks of the current window.

    A stateless policy's decision rests on the task and on the device's cell (its candidates) and radio rates; the
    cell changes only at a handover and the rates only at a step. So the first moving task of a window to arrive is
    decided together with every other moving task of the window (with a radio: those before the next step), one
    batch per group, cell and rates; a handover sends its device's tasks that have not arrived back to be decided
    (:meth:`reopen`), and they are decided again, with the others reopened, when the first of them arrives. The
    choices, compute times and the upload times no handover can reach are written into the window. A group whose
    candidates change between steps (``Attachment.ahead`` false) has each task decided alone at its arrival.
    """

    __slots__ = ("attachment", "devices", "policy", "reopened", "rng", "scanned", "window")

    def __init__(self, policy: Policy, rng: np.random.Generator, attachment: Attachment) -> None:
        self.policy = policy
        self.rng = rng
        self.attachment = attachment
        self.window: Window | None = None
        self.devices = np.empty(0, dtype=np.intp)  # the window's device column
        self.scanned = 0  # the window's tasks before it were decided, or reopened
        self.reopened: list[int] = []

    def decide(self, w: Window, k: int) -> int:
        """Decide the task ``k`` of ``w`` and those decided with it (see the class); returns the choice of ``k``."""
        where = self.attachment
        if w is not self.window:
            self.window, self.devices, self.scanned, self.reopened = w, np.array(w.device, dtype=np.intp), 0, []
        times, choices, devs = w.times, w.choice, w.dev
        if not where.ahead[where.group[self.devices[k]]]:
            rows = np.array([k])
        else:
            first = max(k, self.scanned)
            self.scanned = end = bisect.bisect_left(times, where.rates_until_s, lo=first + 1)
            # with a stateless policy only moving devices' tasks are left to decide at arrival
            fresh = first + np.flatnonzero(np.array(choices[first:end]) == DECIDE_AT_ARRIVAL)
            fresh = fresh[where.ahead[where.group[self.devices[fresh]]] | (fresh == k)]
            rows = (np.unique(np.concatenate([np.array(self.reopened, dtype=np.intp), fresh])) if self.reopened
                    else fresh)
            self.reopened = []
        device = self.devices[rows]
        rate, down = (np.zeros(rows.size) if rates is None else np.nan_to_num(rates[where.row[device]], nan=-1.0)
                      for rates in (where.rates_bps, where.down_rates_bps))
        group, cell = where.group[device], where.cell[device]
        order = np.lexsort((down, rate, cell, group))
        start_s, work, inp, out = (_gather(column, rows)[order] for column in (times, w.work, w.inp, w.out))
        rows, group, cell, rate, down = rows[order], group[order], cell[order], rate[order], down[order]
        cuts = np.flatnonzero((np.diff(group) != 0) | (np.diff(cell) != 0) | (np.diff(rate) != 0)
                              | (np.diff(down) != 0)) + 1
        bounds = [0, *(cuts.tolist()), rows.size]  # each batch is a run of the sorted rows
        firsts = [devs[j] for j in rows[bounds[:-1]].tolist()]
        picked = np.empty(rows.size, dtype=np.intp)
        compute_s = np.empty(rows.size)
        for lo, hi, dev in zip(bounds[:-1], bounds[1:], firsts, strict=True):
            batch = moving_batch(dev, work[lo:hi], inp[lo:hi], out[lo:hi])
            picked[lo:hi] = self.policy.choose(batch, None, self.rng)
            compute_s[lo:hi] = batch.local_s
        upload_s = np.full(rows.size, np.nan)
        remote = np.flatnonzero(picked != LOCAL_OPTION)
        if remote.size:
            batch_of = np.repeat(np.arange(len(firsts)), np.diff(bounds))[remote]
            which, speed, fixed, up_bps, stretch = _terms(firsts, batch_of, picked[remote])
            compute_s[remote] = compute_time_s(work[remote], speed[which], fixed[which])
            upload_s[remote] = _upload_s(inp[remote] * stretch[which], up_bps[which], start_s[remote],
                                         [devs[j] for j in rows[remote].tolist()])
        timed = np.flatnonzero(upload_s == upload_s)
        if timed.size:  # calm: no step from the upload's start to its end (a step at its start could come first)
            end_s = start_s[timed] + upload_s[timed]
            steps_s = np.append(where.steps_s(float(end_s.max())), math.inf)
            upload_s[timed[end_s >= steps_s[steps_s.searchsorted(start_s[timed], side="left")]]] = np.nan
        _write(w, rows, picked, compute_s, upload_s)
        return choices[k]

    def reopen(self, dev: DeviceState, w: Window | None, first: int) -> None:
        """``dev`` was handed over: its tasks of ``w`` decided ahead from index ``first`` on (not arrived yet) are
        to be decided again."""
        if w is None or w is not self.window or first >= self.scanned:
            return
        choices, up_s = w.choice, w.up_s
        rows = (first + np.flatnonzero(self.devices[first:self.scanned] == dev.index)).tolist()
        for j in rows:
            choices[j] = DECIDE_AT_ARRIVAL
            up_s[j] = None
        self.reopened.extend(rows)


def _gather(column: list[float], rows: IntArray) -> FloatArray:
    """``column`` at the ascending ``rows``: a slice when they are a run of the window (every task moving)."""
    lo, hi = int(rows[0]), int(rows[-1]) + 1
    if hi - lo == rows.size:
        return np.array(column[lo:hi], dtype=np.float64)
    return np.array([column[j] for j in rows.tolist()], dtype=np.float64)


def _write(w: Window, rows: IntArray, picked: IntArray, compute_s: FloatArray, upload_s: FloatArray) -> None:
    """Write the choices, compute times and calm upload times (NaN: none) of the tasks ``rows`` into ``w``."""
    lo, hi = int(rows.min()), int(rows.max()) + 1
    if hi - lo == rows.size:  # a run of the window (every task moving): whole slices at once
        at = rows - lo
        choice, service = np.empty(rows.size, dtype=np.intp), np.empty(rows.size)
        choice[at], service[at] = picked, compute_s
        w.choice[lo:hi], w.service_s[lo:hi] = choice.tolist(), service.tolist()
    else:
        choices, services = w.choice, w.service_s
        for j, c, time_s in zip(rows.tolist(), picked.tolist(), compute_s.tolist(), strict=True):
            choices[j] = c
            services[j] = time_s
    calm = np.flatnonzero(upload_s == upload_s)
    up_s = w.up_s
    for j, upload in zip(rows[calm].tolist(), upload_s[calm].tolist(), strict=True):
        up_s[j] = upload


def _terms(firsts: list[DeviceState], batch_of: IntArray, picked: IntArray
           ) -> tuple[IntArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """For offloaded tasks decided in the batches of ``firsts`` (a device each, whose cell and radio rate are the
    batch's), task ``i`` in batch ``batch_of[i]`` on candidate ``picked[i]``: ``which[i]``, the task's distinct
    (batch, candidate) pair, and per pair the server's :meth:`~offload.profiles.Executor.time_terms`, the cell's
    dedicated rate (NaN: a shared cell) and the bits given to the channel per bit (:meth:`DeviceLink.stretch`).
    Evaluated once per pair, used for all the tasks with arrays: the same values, element by element."""
    base = int(picked.max()) + 1
    pairs, which = np.unique(batch_of * base + picked, return_inverse=True)
    speed, fixed, rate, stretch = (np.empty(pairs.size) for _ in range(4))
    for p, (b, c) in enumerate(zip(*np.divmod(pairs, base), strict=True)):
        dev = firsts[int(b)]
        speed[p], fixed[p] = dev.candidates[int(c) - 1].server.time_terms()
        up = dev.up
        assert isinstance(up, DeviceLink)
        channel = up.channel
        rate[p] = channel.rate_bps if isinstance(channel, DedicatedChannel) else math.nan
        stretch[p] = 1.0 if up.rates_bps is None else up.stretch()
    return which, speed, fixed, rate, stretch


def _upload_s(bits: FloatArray, rate_bps: FloatArray, start_s: FloatArray, devices: list[DeviceState]) -> FloatArray:
    """The upload times of ``bits`` (given to the channel) at dedicated rates ``rate_bps`` (NaN: a shared cell) of
    tasks of ``devices`` starting at ``start_s`` that no interruption holds back (the time :meth:`DeviceLink.start`
    would give them), else NaN."""
    upload_s = np.asarray(transfer_time_s(bits, rate_bps), dtype=np.float64)
    blocked_s = np.array([d.up.blocked_until_s for d in devices])  # type: ignore[union-attr]
    return np.where(start_s >= blocked_s, upload_s, np.nan)
