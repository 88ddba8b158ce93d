"""The mobility sections of a scenario: the top-level ``area``, ``handover``, ``migration`` and ``replacement``, an
access point's
``position``, ``range`` and ``radio``, and a device group's ``mobility`` (:mod:`simulator.scenario.mobility` checks
and converts them; a service's ``state`` is in :class:`simulator.scenario.schema.ServiceSpec`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from simulator.scenario.quantities import (
    Bandwidth,
    Distance,
    Duration,
    DurationOrZero,
    Frequency,
    PositiveDataSize,
    Power,
    Strict,
    Velocity,
)

Latitude = Annotated[float, Field(ge=-90.0, le=90.0, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180.0, le=180.0, allow_inf_nan=False)]
Decibels = Annotated[float, Field(ge=0.0, le=200.0, allow_inf_nan=False)]


class AreaSpec(Strict):
    """Where devices roam: a plane of ``width`` × ``height`` (positions in metres from its south-west corner), or a
    box of latitudes and longitudes (``south``, ``west``, ``north``, ``east``; positions then in lat/lon, projected
    onto a local plane about the south-west corner, :func:`scheduler.geo.local_xy_m`)."""

    width: Distance | None = None
    height: Distance | None = None
    south: Latitude | None = None
    west: Longitude | None = None
    north: Latitude | None = None
    east: Longitude | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> AreaSpec:
        plane = (self.width, self.height)
        box = (self.south, self.west, self.north, self.east)
        if all(v is not None for v in plane) and all(v is None for v in box):
            if not (self.width and self.height):
                raise ValueError("width and height must be > 0")
            return self
        if all(v is not None for v in box) and all(v is None for v in plane):
            if not (self.north > self.south and self.east > self.west):  # type: ignore[operator]
                raise ValueError("needs north > south and east > west")
            return self
        raise ValueError("give width and height (metres), or south, west, north and east (degrees)")

    @property
    def geographic(self) -> bool:
        """Positions are latitudes and longitudes."""
        return self.south is not None


class LatLon(Strict):
    """A position in degrees."""

    lat: Latitude
    lon: Longitude


#: ``[x, y]`` in metres on a plane area, or ``{lat, lon}`` on a geographic one.
Position = Annotated[list[Annotated[float, Field(allow_inf_nan=False)]], Field(min_length=2, max_length=2)] | LatLon


class RadioSpec(Strict):
    """A cell's radio: log-distance path loss (``path_loss_exponent``, ``shadowing_db`` σ, ``reference_loss_db`` at
    1 m, default free space at 2 GHz), the access point's receiver ``noise_figure_db``, channel ``bandwidth`` in Hz,
    the devices' ``tx_power``, the uplink's ``peak`` rate cap and the co-channel ``channel`` number
    (:class:`offload.pathloss.RadioModel`). With the access point's transmit power ``downlink_power`` the downlink is
    modelled too (SINR at the device over the same path loss, interference from the other transmitting access points
    on the channel), capped by ``downlink_peak``, with the devices' receiver ``device_noise_figure_db`` (default: the
    UE's 9 dB of 3GPP TR 36.814); without it the downlink keeps the cell's rate."""

    bandwidth: Frequency
    tx_power: Power
    path_loss_exponent: Annotated[float, Field(gt=0.0, le=10.0, allow_inf_nan=False)] = 3.0
    shadowing_db: Decibels = 0.0
    reference_loss_db: Decibels | None = None
    noise_figure_db: Decibels = 5.0
    peak: Bandwidth | None = None
    channel: Annotated[int, Field(ge=0, le=10_000)] = 0
    downlink_power: Power | None = None
    downlink_peak: Bandwidth | None = None
    device_noise_figure_db: Decibels = 9.0


class HandoverSpec(Strict):
    """How devices pick cells (``rule``: ``nearest`` in range, or ``strongest`` received power beating the serving
    cell by ``hysteresis_db`` for ``time_to_trigger``), the radio ``interruption`` of a handover and what happens to
    the transfers in flight (``resume`` or ``restart``, decided again)."""

    rule: Literal["nearest", "strongest"] = "nearest"
    interruption: DurationOrZero = 0.0
    in_flight: Literal["resume", "restart"] = "resume"
    hysteresis_db: Decibels = 0.0
    time_to_trigger: DurationOrZero = 0.0


class MigrationSpec(Strict):
    """Sessions of stateful services (a service's ``state``) used by moving devices: after a handover that changes
    the nearest host, the ``policy`` (``never``, ``follow`` or ``threshold``,
    :data:`simulator.mobility.migration.MIGRATION_POLICIES`) decides whether the session migrates; a migration
    copies the state over the backhaul links, sharing them with the requests, then stops the service for
    ``downtime``. ``threshold`` migrates when the round-trip time its requests save over ``horizon`` exceeds the
    estimate of the migration's time, state / narrowest link + downtime (the run measures the actual one).
    ``policies``: the labels of the offload policies it applies to (default: all; compare strategies side by side
    in one run)."""

    policy: str
    downtime: DurationOrZero = 0.0
    horizon: Duration | None = None
    policies: list[str] | None = None


class ReplacementSpec(Strict):
    """Online re-placement of ``service``'s ``replicas`` replicas by the placement ``solver``
    (:data:`scheduler.solvers.SOLVERS`) on its users' current cells (a group that does not move counts at its
    access point), at the start, every ``every`` and/or after every
    ``handovers`` handovers of its users (omit both: placed once, a static placement); a new host pulls an ``image``
    of that size from the ``registry`` (a topology node) and boots for ``boot`` before the old hosts drain
    (:mod:`simulator.lifecycle.replacement`). ``policies``: the labels of the offload policies it applies to
    (default: all)."""

    service: str
    replicas: Annotated[int, Field(ge=1, le=100_000)] = 1
    every: Duration | None = None
    solver: str = "greedy"
    image: PositiveDataSize | None = None
    registry: str | None = None
    boot: DurationOrZero = 0.0
    policies: list[str] | None = None
    handovers: Annotated[int, Field(ge=1, le=10**9)] | None = None


#: A speed, or a range ``[min, max]``.
SpeedRange = Velocity | Annotated[list[Velocity], Field(min_length=2, max_length=2)]


class MobilitySpec(Strict):
    """How a device group moves: a ``model`` (:data:`simulator.mobility.MOBILITY_MODELS`) with its parameters,
    positions updated every ``step``.

    - ``random_waypoint``: ``speed`` (a value or ``[min, max]``), ``pause``;
    - ``random_direction``: ``speed``, ``epoch`` (mean time between turns; default: only the walls turn);
    - ``gauss_markov``: ``speed`` (mean), ``alpha`` (memory per step), ``speed_sd``, ``direction_sd`` (radians);
    - ``trace``: a CSV file ``trace`` with columns ``time, device, x, y`` (metres) or ``time, device, lat, lon``
      (``device``: index in the group; positions interpolated linearly);
    - ``static``: no parameters.

    ``start``: a CSV file in the trace format whose rows at time 0 place every device of the group at the start
    (default: uniformly on the area).
    """

    model: str
    speed: SpeedRange | None = None
    pause: DurationOrZero | None = None
    epoch: Duration | None = None
    alpha: Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)] | None = None
    speed_sd: Velocity | None = None
    direction_sd: Annotated[float, Field(ge=0.0, le=10.0, allow_inf_nan=False)] | None = None
    step: Duration = 1.0
    trace: str | None = None
    start: str | None = None


#: The parameters each model takes (besides ``step``), and those it needs.
MODEL_PARAMETERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "static": ((), ()),
    "random_waypoint": (("speed", "pause"), ("speed",)),
    "random_direction": (("speed", "epoch"), ("speed",)),
    "gauss_markov": (("speed", "alpha", "speed_sd", "direction_sd"), ("speed", "alpha")),
    "trace": (("trace",), ("trace",)),
}
