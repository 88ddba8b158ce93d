"""A moving device's radio link: its own view of the cell it is attached to, which a handover switches.

A :class:`DeviceLink` stands where a device's channel stands (``start``, ``rate_if_joined_bps``), so the engine
times transfers through it unchanged. It adds what mobility needs:

- its device's own radio rate ``rates_bps[index]`` (a shared array the mobility controller updates each step, one
  per direction; NaN: the cell's nominal rate). A transfer of ``b`` bits is given to the cell's channel as
  ``b · alone / rate`` bits, ``alone`` being the rate of one transfer alone in the cell, so the transfer alone takes
  ``b / rate`` and ``n`` concurrent transfers share the cell's time exactly as before (the capacity split is the
  channel's); a transfer keeps the rate of its start;
- the transfers in flight, so that a handover can withdraw them (:meth:`interrupt`) with the bits they had left;
- an interruption: a transfer started before ``blocked_until_s`` waits until then;
- an :class:`Attachment`'s time of the next mobility step, before which neither a handover nor a rate change can
  happen (both happen only at steps). A transfer on a dedicated link that starts unblocked and ends before it can
  be neither interrupted nor re-timed, so the engine times it arithmetically (:meth:`DeviceLink.calm_s`), as it
  does a static device's, instead of registering it in flight.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import simpy

from simulator.events import Wake
from simulator.network import Channel, DedicatedChannel

Callback = Callable[[Any], None]


def alone_bps(channel: Channel) -> float:
    """The rate of one transfer alone on ``channel``."""
    return channel.rate_bps if isinstance(channel, DedicatedChannel) else channel.rate_bps(1)


class Attachment:
    """Where the moving devices are, kept by the mobility controller and read by the engine.

    Per device (its global index): its moving group (-1: it does not move), serving cell and row in ``rates_bps`` and
    ``down_rates_bps`` (the uplink and downlink radio rates, ``None`` without a model of that direction). Per moving
    group: the time of its next step ``next_s`` and its step ``step_s`` (its steps after the next are ``next_s +
    step_s``, then that ``+ step_s``, and so on, the very sums the event queue makes), and whether its tasks may be
    decided ahead (``ahead``: false when something else than a step changes its devices' candidates: a migration, a
    re-placement). ``until_s``: the next step of any group, before which no cell or radio rate changes (both change only
    at steps); ``rates_until_s``: the next step that changes radio rates (``until_s`` with a radio, else never). Both
    times are 0 until the controller starts."""

    __slots__ = ("ahead", "cell", "down_rates_bps", "group", "next_s", "rates_bps", "rates_until_s", "row", "step_s",
                 "until_s")

    def __init__(self, devices: int, groups: int) -> None:
        self.until_s = self.rates_until_s = 0.0
        self.group = np.full(devices, -1, dtype=np.intp)
        self.cell = np.full(devices, -1, dtype=np.intp)
        self.row = np.zeros(devices, dtype=np.intp)
        self.rates_bps: npt.NDArray[np.float64] | None = None
        self.down_rates_bps: npt.NDArray[np.float64] | None = None
        self.next_s = np.full(groups, math.inf)
        self.step_s = np.full(groups, math.inf)
        self.ahead = np.ones(groups, dtype=np.bool_)

    def steps_s(self, until_s: float) -> npt.NDArray[np.float64]:
        """The steps of every group from the next on, up to ``until_s``, in time order."""
        steps: list[float] = []
        for next_s, step_s in zip(self.next_s.tolist(), self.step_s.tolist(), strict=True):
            while next_s <= until_s:
                steps.append(next_s)
                next_s += step_s
        return np.sort(np.array(steps))


class DeviceLink:
    """One direction of one device's radio link (see the module docstring)."""

    __slots__ = ("_token", "attachment", "blocked_until_s", "channel", "env", "flights", "index", "rates_bps")

    def __init__(self, env: simpy.Environment, channel: Channel, rates_bps: npt.NDArray[np.float64] | None = None,
                 index: int = 0, attachment: Attachment | None = None) -> None:
        self.env = env
        self.channel = channel
        self.rates_bps = rates_bps
        self.index = index
        self.attachment = attachment
        self.blocked_until_s = 0.0
        #: job -> (token, callback, channel bits per bit, bits given to the channel, start time)
        self.flights: dict[Any, tuple[int, Callback, float, float, float]] = {}
        self._token = 0

    def nominal_bps(self) -> float:
        """This device's rate alone in its cell: its radio rate, else the cell's."""
        rate = math.nan if self.rates_bps is None else float(self.rates_bps[self.index])
        return alone_bps(self.channel) if math.isnan(rate) else rate

    def stretch(self) -> float:
        """Bits given to the channel per bit of the device."""
        rate = self.nominal_bps()
        alone = alone_bps(self.channel)
        return 1.0 if rate == alone or math.isinf(alone) else alone / rate

    def rate_if_joined_bps(self) -> float:
        """The rate a new transfer of this device would get now."""
        return self.channel.rate_if_joined_bps() / self.stretch()

    def calm_s(self, bits: float, start_s: float) -> float | None:
        """The duration of a transfer of ``bits`` starting at ``start_s`` (now, or later but before the next step)
        if nothing can touch it: a dedicated link, not blocked then, the transfer over before the next mobility
        step; else ``None`` (time it with :meth:`start`). The duration is the one :meth:`start` would time."""
        channel = self.channel
        attachment = self.attachment
        if attachment is None or start_s < self.blocked_until_s or channel.__class__ is not DedicatedChannel:
            return None
        # without a radio the stretch is 1 (skipped: a task's two transfers are the engine's hot path)
        duration = channel.duration_s(bits if self.rates_bps is None else bits * self.stretch())
        return duration if start_s + duration < attachment.until_s else None

    def start(self, bits: float, job: Any, callback: Callback) -> None:
        """Transfer ``bits`` for ``job`` (after the interruption, if one is on) and call ``callback(job)``."""
        wait = self.blocked_until_s - self.env.now
        if wait > 0:
            Wake(self.env, wait, None, lambda _: self.start(bits, job, callback))
            return
        stretch = self.stretch()
        self._token += 1
        token = self._token
        self.flights[job] = (token, callback, stretch, bits * stretch, self.env.now)
        channel = self.channel
        if isinstance(channel, DedicatedChannel):  # one timer, as the channel itself would set
            Wake(self.env, channel.duration_s(bits * stretch), None, lambda _: self._delivered(job, token))
        else:
            channel.start(bits * stretch, job, lambda done: self._delivered(done, token))

    def _delivered(self, job: Any, token: int) -> None:
        flight = self.flights.get(job)
        if flight is None or flight[0] != token:
            return  # withdrawn by a handover (a dedicated link's timer still fires)
        del self.flights[job]
        flight[1](job)

    def interrupt(self) -> list[tuple[Any, float, Callback]]:
        """Withdraw every transfer in flight: ``(job, bits left of the device's, its callback)`` each."""
        now = self.env.now
        withdrawn = []
        for job, (_, callback, stretch, given, started) in self.flights.items():
            channel = self.channel
            if isinstance(channel, DedicatedChannel):
                sent = (now - started) * channel.rate_bps if now > started else 0.0
                left = max(given - sent, 0.0)
            else:
                left = channel.cancel(job)
            withdrawn.append((job, left / stretch, callback))
        self.flights.clear()
        return withdrawn
