"""Transfers over the access network and backhaul: dedicated links and fairly shared (processor-sharing) channels.

A :class:`SharedChannel` is egalitarian processor sharing, simulated event by event without time slicing: a virtual
clock ``V`` counts the bits each active transfer has received so far and advances at the per-client rate
``r(n)``; a transfer of ``b`` bits that starts when the clock reads ``V0`` ends when it reads ``V0 + b``. Only the
next completion is scheduled; an arrival or departure re-schedules it (superseded timeouts are ignored), so each
transfer costs O(log n) work and two events.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from typing import Any

import simpy

from offload.formulas import transfer_time_s
from offload.runtime import fair_share_bps, table_rate_bps
from simulator.events import Wake
from simulator.world import ThroughputTable

Callback = Callable[[Any], None]
#: Relative tolerance when deciding which transfers finish at the same virtual time.
_EPS = 1e-12


class DedicatedChannel:
    """A link of fixed rate per user: a transfer of ``b`` bits takes ``b / rate`` seconds regardless of others."""

    __slots__ = ("env", "rate_bps")

    shared = False

    def __init__(self, env: simpy.Environment, rate_bps: float) -> None:
        self.env = env
        self.rate_bps = rate_bps

    def duration_s(self, bits: float) -> float:
        """Transfer time of ``bits`` (0 for 0 bits or an infinite rate)."""
        return float(transfer_time_s(bits, self.rate_bps)) if bits and self.rate_bps != math.inf else 0.0

    def start(self, bits: float, job: Any, callback: Callback) -> None:
        """Deliver ``bits`` and call ``callback(job)`` when done."""
        Wake(self.env, self.duration_s(bits), job, lambda event: callback(event.value))

    def rate_if_joined_bps(self) -> float:
        """Rate a new transfer would get now."""
        return self.rate_bps


class SharedChannel:
    """Capacity shared fairly among concurrent transfers, with an optional measured per-client rate table."""

    __slots__ = ("_heap", "_last_s", "_pending", "_rates", "_seq", "_virtual", "active",
                 "capacity_bps", "env", "table")

    shared = True

    def __init__(self, env: simpy.Environment, capacity_bps: float, table: ThroughputTable | None = None) -> None:
        self.env = env
        self.capacity_bps = capacity_bps
        self.table = table
        self.active = 0
        self._virtual = 0.0
        self._last_s = 0.0
        self._heap: list[tuple[float, int, Any, Callback]] = []
        self._seq = 0
        self._pending: simpy.Event | None = None
        self._rates: list[float] = [0.0]

    def rate_bps(self, active: int) -> float:
        """Per-client rate with ``active`` transfers (cached per count)."""
        rates = self._rates
        while len(rates) <= active:
            n = len(rates)
            if self.table is not None:
                rates.append(float(table_rate_bps(self.table.clients, self.table.per_client_bps, n)))
            else:
                rates.append(float(fair_share_bps(self.capacity_bps, n)))
        return rates[active]

    def rate_if_joined_bps(self) -> float:
        """Rate a new transfer would get if it started now."""
        return self.rate_bps(self.active + 1)

    def _advance(self) -> None:
        now = self.env.now
        if self.active:
            self._virtual += (now - self._last_s) * self.rate_bps(self.active)
        self._last_s = now

    def start(self, bits: float, job: Any, callback: Callback) -> None:
        """Begin a transfer of ``bits``; ``callback(job)`` runs when its last bit is delivered."""
        if bits <= 0 or (self.capacity_bps == math.inf and self.table is None):
            callback(job)
            return
        self._advance()
        heapq.heappush(self._heap, (self._virtual + bits, self._seq, job, callback))
        self._seq += 1
        self.active += 1
        self._schedule()

    def cancel(self, job: Any) -> float:
        """Withdraw ``job``'s transfer (its callback never runs); returns the bits it had left (0: not here)."""
        self._advance()
        for index, (finish, _, other, _) in enumerate(self._heap):
            if other is job:
                last = self._heap.pop()
                if index < len(self._heap):
                    self._heap[index] = last
                    heapq.heapify(self._heap)
                self.active -= 1
                self._schedule()
                return max(finish - self._virtual, 0.0)
        return 0.0

    def _schedule(self) -> None:
        if not self._heap:
            self._pending = None
            return
        delay = max((self._heap[0][0] - self._virtual) / self.rate_bps(self.active), 0.0)
        self._pending = Wake(self.env, delay, None, self._complete)

    def _complete(self, event: simpy.Event) -> None:
        if event is not self._pending:
            return  # superseded by a later arrival or departure
        self._advance()
        heap = self._heap
        limit = self._virtual * (1.0 + _EPS) + _EPS
        finished = []
        while heap and heap[0][0] <= limit:
            _, _, job, callback = heapq.heappop(heap)
            finished.append((job, callback))
        if not finished:  # rounding left the head a hair short: deliver it now
            _, _, job, callback = heapq.heappop(heap)
            finished.append((job, callback))
        self.active -= len(finished)
        self._schedule()
        for job, callback in finished:
            callback(job)


Channel = DedicatedChannel | SharedChannel


def make_channel(env: simpy.Environment, rate_bps: float, *, shared: bool,
                 table: ThroughputTable | None = None) -> Channel:
    """A shared channel, or a dedicated one when ``shared`` is false (a table implies sharing)."""
    if shared or table is not None:
        return SharedChannel(env, rate_bps, table)
    return DedicatedChannel(env, rate_bps)
