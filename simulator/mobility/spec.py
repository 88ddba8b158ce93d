"""What a :class:`simulator.mobility.controller.Mobility` is made of: the cells (where each access point is, how far
it reaches, its radio), the handover rule, each moving group's motion, and the protocols of the followers that
follow the devices (sessions that migrate, replicas that are re-placed). The controller of a run is
:mod:`simulator.mobility.controller`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt
import simpy

from offload.errors import ParameterError
from offload.pathloss import RadioModel
from offload.validate import check_non_negative, check_positive
from simulator.devices import Access, DeviceState
from simulator.mobility.models import MobilityModel

FloatArray = npt.NDArray[np.float64]


class FollowerRun(Protocol):
    """What follows the devices in one replication: sessions that migrate, replicas that are re-placed."""

    def start(self) -> None:
        """Begin (at time 0)."""

    def moved(self, device: DeviceState) -> None:
        """``device`` was just handed over."""

    def row(self, group: str) -> dict[str, float]:
        """What it did for device group ``group``: some of the mobility table's columns."""


class Follower(Protocol):
    """Something that follows the moving devices (:class:`~simulator.mobility.migration.Migration`,
    :class:`simulator.lifecycle.replacement.Replacement`)."""

    @property
    def policies(self) -> tuple[str, ...]:
        """The labels of the offload policies it applies to (empty: all)."""

    def anchors(self, service: str) -> bool:
        """Whether the devices of ``service`` that do not move follow it too, each at its access point."""

    def attach(self, env: simpy.Environment, access: Access, devices: Sequence[DeviceState]) -> FollowerRun:
        """Its run over the moving ``devices`` of one replication (and the anchored ones it asked for)."""


@dataclass(frozen=True, slots=True)
class Cell:
    """Where an access point is on the plane, how far it reaches and, optionally, its radio."""

    access_point: str
    position_m: tuple[float, float]
    range_m: float = math.inf
    radio: RadioModel | None = None

    def __post_init__(self) -> None:
        check_positive("range_m", self.range_m, allow_inf=True)


@dataclass(frozen=True, slots=True)
class HandoverRule:
    """How devices choose and change cells, and what a handover costs."""

    rule: Literal["nearest", "strongest"] = "nearest"
    hysteresis_db: float = 0.0
    time_to_trigger_s: float = 0.0
    interruption_s: float = 0.0
    in_flight: Literal["resume", "restart"] = "resume"

    def __post_init__(self) -> None:
        check_non_negative("hysteresis_db", self.hysteresis_db)
        check_non_negative("time_to_trigger_s", self.time_to_trigger_s)
        check_non_negative("interruption_s", self.interruption_s)
        if self.rule not in ("nearest", "strongest"):
            raise ParameterError("handover.rule", self.rule, "must be nearest or strongest")
        if self.in_flight not in ("resume", "restart"):
            raise ParameterError("handover.in_flight", self.in_flight, "must be resume or restart")


@dataclass(frozen=True, slots=True, eq=False)
class GroupMotion:
    """How the devices of group ``group`` move: a model, the step of their position updates and, optionally, their
    starting positions ``(count, 2)`` (default: uniform on the area)."""

    group: str
    model: MobilityModel
    step_s: float = 1.0
    start_m: FloatArray | None = None

    def __post_init__(self) -> None:
        check_positive("step_s", self.step_s)
