"""Rate profile kinds of a scenario file (``devices[].rate_profile``): one section class per ``kind``, one registry.

A profile multiplies the group's base arrival rate over time (:mod:`simulator.rate_profiles`)::

    rate_profile: {kind: diurnal, amplitude: 0.8, peak: 19 h}          # period 24 h by default
    rate_profile:
      kind: steps
      period: 24 h                                                     # optional: repeat
      steps: [{at: 0 h, factor: 0.2}, {at: 7 h, factor: 1}, {at: 22 h, factor: 0.4}]

A kind is a :class:`RateProfileSection` with ``kind: Literal[...]`` and :meth:`build`; adding one is that class and
one entry in :data:`RATE_PROFILES`. Rules between fields (step order, the period) are checked by
:func:`profile_problems` so that each points at its own line.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import Field

from simulator.rate_profiles import DiurnalProfile, RateProfile, StepProfile
from simulator.scenario.quantities import Duration, DurationOrZero, Strict
from simulator.world import Path, Problem

Factor = Annotated[float, Field(ge=0.0, le=1e6, allow_inf_nan=False)]


class RateProfileSection(Strict, abc.ABC):
    """A ``rate_profile`` mapping of a device group; subclasses add ``kind`` and their fields."""

    @abc.abstractmethod
    def build(self) -> RateProfile:
        """The simulator's profile, in SI."""

    def problems(self, path: Path) -> Iterator[Problem]:
        """Rules between fields, with the YAML path of each offending value (none by default)."""
        return iter(())


class Step(Strict):
    """From ``at`` on, the base rate is multiplied by ``factor``."""

    at: DurationOrZero
    factor: Factor


class StepsProfile(RateProfileSection):
    """Piecewise constant factors from each step's ``at``; repeats every ``period`` when given."""

    kind: Literal["steps"]
    steps: Annotated[list[Step], Field(min_length=1)]
    period: Duration | None = None

    def build(self) -> RateProfile:
        """:class:`simulator.rate_profiles.StepProfile`."""
        return StepProfile(tuple(s.at for s in self.steps), tuple(s.factor for s in self.steps), self.period)

    def problems(self, path: Path) -> Iterator[Problem]:
        """The first step at 0, later steps later, all within the period, a load that does not stop for good."""
        steps = self.steps
        if steps[0].at != 0.0:
            yield Problem((*path, "steps", 0, "at"), steps[0].at, "the first step must start at 0 s")
        for index in range(1, len(steps)):
            if steps[index].at <= steps[index - 1].at:
                yield Problem((*path, "steps", index, "at"), steps[index].at,
                              f"must be later than the previous step ({steps[index - 1].at:g} s)")
        if self.period is not None and steps[-1].at >= self.period:
            yield Problem((*path, "steps", len(steps) - 1, "at"), steps[-1].at,
                          f"must be earlier than the period ({self.period:g} s)")
        if not any(s.factor for s in steps) or (self.period is None and steps[-1].factor == 0.0):
            yield Problem((*path, "steps"), None, "the load must not stop for good: give a factor > 0 that recurs "
                          "(with a period) or a last factor > 0")


class DiurnalSection(RateProfileSection):
    """``1 + amplitude · cos(2π (t − peak) / period)``: a daily cycle with mean 1 peaking at ``peak``."""

    kind: Literal["diurnal"]
    amplitude: Annotated[float, Field(ge=0.0, le=1.0)]
    peak: DurationOrZero = 0.0
    period: Duration = 86_400.0

    def build(self) -> RateProfile:
        """:class:`simulator.rate_profiles.DiurnalProfile`."""
        return DiurnalProfile(self.amplitude, self.peak, self.period)

    def problems(self, path: Path) -> Iterator[Problem]:
        """The peak within the period."""
        if self.peak >= self.period:
            yield Problem((*path, "peak"), self.peak, f"must be earlier than the period ({self.period:g} s)")


#: Every rate profile kind a scenario file may name, in the order error messages list them.
RATE_PROFILES: tuple[type[RateProfileSection], ...] = (StepsProfile, DiurnalSection)
