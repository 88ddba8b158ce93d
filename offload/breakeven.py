"""Break-even analysis: the value of one parameter at which local execution and a remote target score the same.

For the latency and the un-normalised energy and weighted objectives the score difference (remote − local) is
affine in a transform ``u`` of each parameter — ``1/B`` for the uplink, ``D`` for the input size, ``C`` for the
work, ``1/Pe`` for the edge speed — so the break-even point has a closed form from two evaluations. Otherwise
(e.g. normalised objectives, whose normaliser depends on the work) a bracketing root finder (Brent) is used.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum
from typing import Literal

from scipy.optimize import brentq

from offload.cost import task_costs
from offload.decision import Preference
from offload.errors import ParameterError
from offload.profiles import Device, Target, Task


class Parameter(Enum):
    """Parameters that can be solved for; the value is the SI name."""

    UPLINK = "uplink_bps"
    INPUT = "input_bits"
    WORK = "work_ops"
    EDGE_SPEED = "edge_speed_ops_per_s"


Direction = Literal["above", "below", "always", "never"]


@dataclass(frozen=True, slots=True)
class BreakEven:
    """Where the decision between local and one target flips.

    Attributes
    ----------
    parameter : Parameter
    value : float
        The break-even value in SI units; ``nan`` when the decision never flips.
    offload_wins : {"above", "below", "always", "never"}
        Offloading scores strictly better when the parameter is above / below ``value``, or for every value.
    method : {"closed-form", "root-finder", "none"}
    """

    parameter: Parameter
    value: float
    offload_wins: Direction
    method: str


def _with_value(parameter: Parameter, x: float, task: Task, device: Device, target: Target
                ) -> tuple[Task, Device, Target]:
    if parameter is Parameter.UPLINK:
        return task, device, replace(target, link=replace(target.link, uplink_bps=x))
    if parameter is Parameter.INPUT:
        return replace(task, input_bits=x), device, target
    if parameter is Parameter.WORK:
        if device.compute_time_s is not None or target.server.compute_time_s is not None:
            raise ParameterError("work_ops", task.work_ops, "break-even work needs speeds, not measured times")
        return replace(task, work_ops=x), device, target
    if target.server.compute_time_s is not None or target.server.speed_ops_per_s is None:
        raise ParameterError("edge_speed_ops_per_s", None, "break-even edge speed needs work and speeds")
    return task, device, replace(target, server=replace(target.server, speed_ops_per_s=x))


def score_difference(parameter: Parameter, x: float, task: Task, device: Device, target: Target,
                     preference: Preference) -> float:
    """Score of offloading to ``target`` minus score of running locally, with ``parameter`` set to ``x``."""
    task_x, device_x, target_x = _with_value(parameter, x, task, device, target)
    score = preference.score(task_costs(task_x, device_x, [target_x]))
    return float(score[0, 1] - score[0, 0])


# u(x) for the affine transforms and its inverse
_TRANSFORM: dict[Parameter, tuple[Callable[[float], float], Callable[[float], float]]] = {
    Parameter.UPLINK: (lambda x: 1.0 / x, lambda u: 1.0 / u if u > 0 else math.inf),
    Parameter.INPUT: (lambda x: x, lambda u: u),
    Parameter.WORK: (lambda x: x, lambda u: u),
    Parameter.EDGE_SPEED: (lambda x: 1.0 / x, lambda u: 1.0 / u if u > 0 else math.inf),
}


def _is_affine(parameter: Parameter, preference: Preference) -> bool:
    return not preference.normalise or parameter in (Parameter.UPLINK, Parameter.INPUT, Parameter.EDGE_SPEED)


def break_even(parameter: Parameter, task: Task, device: Device, target: Target,
               preference: Preference | None = None) -> BreakEven:
    """Solve for the value of ``parameter`` at which offloading to ``target`` and local execution tie.

    Examples
    --------
    The licence-plate demo: 13 s on the Pi, 9 ms on the edge, 300 kB over 5 Mbps with 20 ms RTT.

    >>> from offload.profiles import Device, Link, Server, Target, Task
    >>> task = Task(input_bits=2.4e6)
    >>> edge = Target("edge", Server(compute_time_s=0.009), Link(uplink_bps=5e6, rtt_s=0.02))
    >>> result = break_even(Parameter.UPLINK, task, Device(compute_time_s=13.0), edge)
    >>> round(result.value / 1e6, 3), result.offload_wins
    (0.185, 'above')
    """
    preference = preference or Preference()
    if _is_affine(parameter, preference):
        return _closed_form(parameter, task, device, target, preference)
    return _root_find(parameter, task, device, target, preference)


def _closed_form(parameter: Parameter, task: Task, device: Device, target: Target,
                 preference: Preference) -> BreakEven:
    to_u, from_u = _TRANSFORM[parameter]
    current = {Parameter.UPLINK: target.link.uplink_bps, Parameter.INPUT: task.input_bits,
               Parameter.WORK: task.work_ops,
               Parameter.EDGE_SPEED: target.server.speed_ops_per_s or 1.0}[parameter]
    u1 = to_u(current) if 0 < current < math.inf and to_u(current) > 0 else 1.0

    def diff(u: float) -> float:
        return score_difference(parameter, from_u(u), task, device, target, preference)

    d0, d1 = diff(0.0), diff(u1)
    slope = (d1 - d0) / u1
    if slope == 0 or not math.isfinite(slope):
        wins: Direction = "always" if d0 < 0 else "never"
        return BreakEven(parameter, math.nan, wins, "none")
    u_star = -d0 / slope
    # Offload wins where d(u) < 0. Express the direction in x, not u (u = 1/x flips it).
    increasing_u_helps = slope < 0
    flips = parameter in (Parameter.UPLINK, Parameter.EDGE_SPEED)
    if u_star <= 0:
        wins = "always" if (d0 < 0 or (d0 == 0 and increasing_u_helps)) else "never"
        return BreakEven(parameter, math.nan, wins, "closed-form")
    above = increasing_u_helps != flips
    return BreakEven(parameter, from_u(u_star), "above" if above else "below", "closed-form")


def _root_find(parameter: Parameter, task: Task, device: Device, target: Target,
               preference: Preference) -> BreakEven:
    def diff_log(log_x: float) -> float:
        return score_difference(parameter, math.exp(log_x), task, device, target, preference)

    lo, hi = math.log(1e-30), math.log(1e30)
    d_lo, d_hi = diff_log(lo), diff_log(hi)
    if not (math.isfinite(d_lo) and math.isfinite(d_hi)) or (d_lo < 0) == (d_hi < 0):
        return BreakEven(parameter, math.nan, "always" if d_lo < 0 else "never", "root-finder")
    root = brentq(diff_log, lo, hi, xtol=1e-12, rtol=1e-12)
    return BreakEven(parameter, math.exp(root), "above" if d_hi < 0 else "below", "root-finder")
