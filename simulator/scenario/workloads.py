"""Workload kinds of a scenario file (``devices[].workload``): one section class per ``kind``, one registry.

A kind is a :class:`WorkloadSection` subclass with a ``kind: Literal["name"]`` tag, its fields in the file's
units (quantity types of :mod:`simulator.scenario.quantities`, converted to SI when read) and :meth:`build`, which
returns the simulator's arrival process of one device (a :class:`simulator.workloads.Workload`). Adding a kind is
that class plus one entry in :data:`WORKLOADS`: the schema's ``workload`` field is the union of the registry
(told apart by ``kind``), the conversion calls :meth:`build`, and error messages list the registered kinds.
"""

from __future__ import annotations

import abc
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from offload.errors import ParameterError
from simulator.distributions import as_distribution
from simulator.scenario.distributions import BatchSize, TimeDistribution, build
from simulator.scenario.quantities import Duration, DurationOrZero, Rate, RateOrZero, Strict
from simulator.workloads import OnOff, PeriodicStream, Poisson, Renewal, Workload, load_trace_csv


class WorkloadSection(Strict, abc.ABC):
    """A ``workload`` mapping of a device group; subclasses add ``kind`` and their fields."""

    @abc.abstractmethod
    def build(self, base_dir: Path) -> Workload:
        """The arrival process of one device; files are relative to ``base_dir`` (the scenario's directory)."""


class PoissonWorkload(WorkloadSection):
    """Poisson arrivals at ``rate`` per device."""

    kind: Literal["poisson"]
    rate: Rate

    def build(self, base_dir: Path) -> Workload:
        """:class:`simulator.workloads.Poisson`."""
        return Poisson(self.rate)


class PeriodicWorkload(WorkloadSection):
    """A camera stream: ``fps`` frames per second, jitter on each frame time, a fraction of frames carries work."""

    kind: Literal["periodic"]
    fps: Rate
    jitter: DurationOrZero = 0.0
    fraction: Annotated[float, Field(ge=0.0, le=1.0)] = 1.0

    def build(self, base_dir: Path) -> Workload:
        """:class:`simulator.workloads.PeriodicStream`."""
        return PeriodicStream(self.fps, jitter_s=self.jitter, work_fraction=self.fraction)


class OnOffWorkload(WorkloadSection):
    """Bursty arrivals (a two-state MMPP): Poisson at ``rate_on`` during on-periods, ``rate_off`` otherwise."""

    kind: Literal["onoff"]
    rate_on: Rate
    rate_off: RateOrZero = 0.0
    mean_on: Duration
    mean_off: Duration

    def build(self, base_dir: Path) -> Workload:
        """:class:`simulator.workloads.OnOff`."""
        return OnOff(self.rate_on, self.mean_on, self.mean_off, rate_off_per_s=self.rate_off)


class RenewalWorkload(WorkloadSection):
    """A renewal process per device: i.i.d. ``interarrival`` times (a duration or a distribution of durations),
    each arrival bringing ``batch`` tasks (a whole number or a distribution of whole numbers; default 1)."""

    kind: Literal["renewal"]
    interarrival: TimeDistribution
    batch: BatchSize | None = None

    def build(self, base_dir: Path) -> Workload:
        """:class:`simulator.workloads.Renewal`."""
        return Renewal(as_distribution("interarrival", build(self.interarrival)),
                       None if self.batch is None else as_distribution("batch", build(self.batch)))

    @model_validator(mode="after")
    def _buildable(self) -> RenewalWorkload:
        try:
            self.build(Path())
        except ParameterError as error:
            raise ValueError(f"{error.name}: {error.rule}") from None
        return self


class TraceWorkload(WorkloadSection):
    """Replay of a CSV trace (``timestamp_s,device,work_ops,input_bits,output_bits``), relative to the file."""

    kind: Literal["trace"]
    file: Annotated[str, Field(min_length=1)]

    def build(self, base_dir: Path) -> Workload:
        """:func:`simulator.workloads.load_trace_csv` of the file."""
        path = Path(self.file)
        return load_trace_csv(path if path.is_absolute() else base_dir / path)


#: Every workload kind a scenario file may name, in the order error messages list them.
WORKLOADS: tuple[type[WorkloadSection], ...] = (PoissonWorkload, PeriodicWorkload, OnOffWorkload, RenewalWorkload,
                                                TraceWorkload)
