"""Value objects describing one task, the device that owns it, a link and a remote server.

All quantities are SI (ops, bits, seconds, watts, joules, metres). Either side of the comparison may be described by
speed and work (``work_ops / speed_ops_per_s``) or by a *measured* execution time (``compute_time_s``), which wins
when given: researchers often know "13 s on the Pi, 9 ms on the edge" rather than ops and speeds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from offload.errors import ParameterError
from offload.formulas import compute_time_s, propagation_delay_s, round_trip_s
from offload.validate import check_non_negative, check_positive


@dataclass(frozen=True, slots=True)
class Task:
    """One inference request.

    Attributes
    ----------
    work_ops : float
        Computation in abstract operations (cycles or FLOPs). May be 0 when both sides give measured times.
    input_bits : float
        Data sent to a remote target.
    output_bits : float
        Result returned by a remote target.
    deadline_s : float
        Latest acceptable completion time after creation; ``inf`` means none.
    """

    work_ops: float = 0.0
    input_bits: float = 0.0
    output_bits: float = 0.0
    deadline_s: float = math.inf

    def __post_init__(self) -> None:
        check_non_negative("work_ops", self.work_ops)
        check_non_negative("input_bits", self.input_bits)
        check_non_negative("output_bits", self.output_bits)
        check_positive("deadline_s", self.deadline_s, allow_inf=True)


@dataclass(frozen=True, slots=True)
class Executor:
    """Something that computes: a speed or a measured time per task, and the power it draws while busy."""

    speed_ops_per_s: float | None = None
    compute_time_s: float | None = None
    compute_power_w: float = 0.0

    def __post_init__(self) -> None:
        if self.speed_ops_per_s is None and self.compute_time_s is None:
            raise ParameterError("speed_ops_per_s", None, "give a speed or a measured compute_time_s")
        if self.speed_ops_per_s is not None:
            check_positive("speed_ops_per_s", self.speed_ops_per_s, allow_inf=True)
        if self.compute_time_s is not None:
            check_non_negative("compute_time_s", self.compute_time_s)
        check_non_negative("compute_power_w", self.compute_power_w)

    def time_terms(self) -> tuple[float, float]:
        """``(speed_ops_per_s, fixed_s)`` for :func:`offload.formulas.compute_time_s`: a measured time wins over a
        speed (it becomes ``(inf, compute_time_s)``), a speed alone is ``(speed_ops_per_s, 0)``."""
        if self.compute_time_s is not None:
            return math.inf, self.compute_time_s
        assert self.speed_ops_per_s is not None
        return self.speed_ops_per_s, 0.0

    def time_s(self, task: Task) -> float:
        """Execution time of ``task`` here: the measured time if given, else ``work_ops / speed_ops_per_s``."""
        return float(compute_time_s(task.work_ops, *self.time_terms()))


@dataclass(frozen=True, slots=True)
class Device(Executor):
    """The device that owns the task, with its radio's power draw.

    Attributes
    ----------
    idle_power_w : float
        Power while waiting for a remote result (screen/CPU idle, radio on).
    tx_power_w, rx_power_w : float
        Power while transmitting and receiving. The seed's ``Ec`` is ``tx_power_w``.
    tail_energy_j : float
        Energy the radio spends in its high-power tail after a transfer (LTE/5G RRC tail), once per offload.
    """

    idle_power_w: float = 0.0
    tx_power_w: float = 0.0
    rx_power_w: float = 0.0
    tail_energy_j: float = 0.0

    def __post_init__(self) -> None:
        Executor.__post_init__(self)
        for name in ("idle_power_w", "tx_power_w", "rx_power_w", "tail_energy_j"):
            check_non_negative(name, getattr(self, name))


@dataclass(frozen=True, slots=True)
class Server(Executor):
    """A remote executor (edge node or cloud) with the queueing wait a task expects there.

    Attributes
    ----------
    wait_s : float
        Expected time in the server's queue before service starts (e.g. from :mod:`offload.queueing`); ``inf``
        (an unstable queue) makes the server infeasible.
    """

    wait_s: float = 0.0

    def __post_init__(self) -> None:
        Executor.__post_init__(self)
        check_non_negative("wait_s", self.wait_s, allow_inf=True)


@dataclass(frozen=True, slots=True)
class Link:
    """The path between the device and a remote server.

    Attributes
    ----------
    uplink_bps, downlink_bps : float
        Throughput available to this device; ``inf`` means transfer time is negligible.
    rtt_s : float
        Round-trip time not explained by ``distance_m`` (radio access, switching, protocol handshakes).
    distance_m : float
        Fibre length one way; adds twice its :func:`offload.formulas.propagation_delay_s` to the round trip.
    """

    uplink_bps: float = math.inf
    downlink_bps: float = math.inf
    rtt_s: float = 0.0
    distance_m: float = 0.0

    def __post_init__(self) -> None:
        check_positive("uplink_bps", self.uplink_bps, allow_inf=True)
        check_positive("downlink_bps", self.downlink_bps, allow_inf=True)
        check_non_negative("rtt_s", self.rtt_s)
        check_non_negative("distance_m", self.distance_m)

    @property
    def round_trip_s(self) -> float:
        """Total round-trip delay: ``rtt_s`` plus fibre propagation both ways."""
        return float(round_trip_s(propagation_delay_s(self.distance_m), self.rtt_s))


@dataclass(frozen=True, slots=True)
class Target:
    """A remote place to run the task: a server reached over a link."""

    name: str
    server: Server
    link: Link = field(default_factory=Link)

    def __post_init__(self) -> None:
        if not self.name or self.name == "local":
            raise ParameterError("target.name", self.name, "must be a non-empty name other than 'local'")
