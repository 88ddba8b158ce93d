"""Bulk transfers over the run's own backhaul links: an image pull (:mod:`simulator.lifecycle.pulls`), a session's
state copy (:mod:`simulator.mobility.migration`).

A transfer of ``bits`` travels store-and-forward along the steps of a path (:func:`simulator.devices.path_steps`),
hop by hop, exactly like a task's payload: on a link of limited bandwidth it is one more transfer on the link's
processor-sharing :class:`~simulator.network.SharedChannel` in that direction, so it shares the link fairly with the
requests and the other bulk transfers on it; the link's one-way delay follows; a link of unlimited bandwidth only
delays. On idle links a path of bandwidths ``b_i`` and one-way delays ``d_i`` takes ``Σ (bits / b_i + d_i)``.
"""

from __future__ import annotations

from collections.abc import Callable

import simpy

from simulator.devices import Step
from simulator.events import Wake


class _Walk:
    """One transfer of ``bits`` along ``steps``; ``done()`` when the last step ends."""

    __slots__ = ("bits", "done", "env", "hop", "steps")

    def __init__(self, env: simpy.Environment, steps: tuple[Step, ...], bits: float, done: Callable[[], None]) -> None:
        self.env = env
        self.steps = steps
        self.bits = bits
        self.done = done
        self.hop = 0

    def next(self, _: object = None) -> None:
        if self.hop == len(self.steps):
            self.done()
            return
        delay_s, channel = self.steps[self.hop]
        self.hop += 1
        if channel is None:
            Wake(self.env, delay_s, None, self.next)
        else:
            channel.start(self.bits, None, self.next)


def send(env: simpy.Environment, steps: tuple[Step, ...], bits: float, done: Callable[[], None]) -> None:
    """Transfer ``bits`` along ``steps`` and call ``done()`` when the last bit arrives (never synchronously, even
    without steps)."""
    Wake(env, 0.0, None, _Walk(env, steps, bits, done).next)
