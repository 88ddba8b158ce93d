"""Data for decision-region maps: the winning option on a grid over two parameters, and break-even curves.

These helpers only *call* :mod:`offload` (one :func:`offload.decide_task` per grid cell, one
:func:`offload.break_even` per curve point); the plot functions then draw the result without recomputing it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from offload import Device, Parameter, Preference, Target, Task, break_even, decide_task
from offload.errors import ParameterError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


@dataclass(frozen=True, slots=True)
class DecisionGrid:
    """The winning option at every point of a grid over two parameters.

    Attributes
    ----------
    x_parameter, y_parameter : Parameter
    x_values, y_values : ndarray
        Grid coordinates in SI units (see :class:`offload.Parameter` for each unit).
    options : tuple of str
        Option names, ``options[0] == "local"``.
    winner : ndarray of int, shape (len(y_values), len(x_values))
        Index into ``options`` of the chosen option.
    deadline_missed : ndarray of bool, same shape
        No option met the task's deadline; the fastest was chosen.
    """

    x_parameter: Parameter
    x_values: FloatArray
    y_parameter: Parameter
    y_values: FloatArray
    options: tuple[str, ...]
    winner: IntArray
    deadline_missed: npt.NDArray[np.bool_]

    def share(self, option: str) -> float:
        """Fraction of grid cells won by ``option``."""
        return float(np.mean(self.winner == self.options.index(option)))


def with_parameter(parameter: Parameter, value: float, task: Task, device: Device, targets: Sequence[Target],
                   applies_to: str | None = None) -> tuple[Task, Device, tuple[Target, ...]]:
    """Copies of the inputs with ``parameter`` set to ``value`` (SI) on the task, or on the targets named.

    ``applies_to`` names the target whose uplink or edge speed changes; ``None`` changes every target.
    """
    if parameter is Parameter.INPUT:
        return replace(task, input_bits=value), device, tuple(targets)
    if parameter is Parameter.WORK:
        return replace(task, work_ops=value), device, tuple(targets)
    names = [t.name for t in targets]
    if applies_to is not None and applies_to not in names:
        raise ParameterError("applies_to", applies_to, f"must name a target: {', '.join(names)}")
    changed = []
    for target in targets:
        if applies_to is not None and target.name != applies_to:
            changed.append(target)
        elif parameter is Parameter.UPLINK:
            changed.append(replace(target, link=replace(target.link, uplink_bps=value)))
        else:
            if target.server.compute_time_s is not None:
                raise ParameterError("edge_speed_ops_per_s", value,
                                     f"target {target.name!r} gives a measured time, not a speed")
            changed.append(replace(target, server=replace(target.server, speed_ops_per_s=value)))
    return task, device, tuple(changed)


def decision_grid(task: Task, device: Device, targets: Sequence[Target], *, x_parameter: Parameter,
                  x_values: npt.ArrayLike, y_parameter: Parameter, y_values: npt.ArrayLike,
                  preference: Preference | None = None, applies_to: str | None = None) -> DecisionGrid:
    """Decide the task at every (x, y) grid point, the rest of the inputs held fixed.

    Parameters
    ----------
    x_parameter, y_parameter : Parameter
        Two different parameters to vary; values in SI units.
    applies_to : str, optional
        Target whose uplink / edge speed is varied (default every target).
    """
    if x_parameter is y_parameter:
        raise ParameterError("y_parameter", y_parameter.value, "must differ from x_parameter")
    xs = np.asarray(x_values, dtype=np.float64)
    ys = np.asarray(y_values, dtype=np.float64)
    winner = np.zeros((ys.size, xs.size), dtype=np.intp)
    missed = np.zeros((ys.size, xs.size), dtype=np.bool_)
    options: tuple[str, ...] = ()
    for i, y in enumerate(ys):
        task_y, device_y, targets_y = with_parameter(y_parameter, float(y), task, device, targets, applies_to)
        for j, x in enumerate(xs):
            cell = with_parameter(x_parameter, float(x), task_y, device_y, targets_y, applies_to)
            decision = decide_task(*cell, preference)
            winner[i, j] = decision.choice[0]
            missed[i, j] = decision.deadline_missed[0]
            options = decision.costs.options
    return DecisionGrid(x_parameter, xs, y_parameter, ys, options, winner, missed)


def break_even_curve(task: Task, device: Device, target: Target, *, x_parameter: Parameter, y_parameter: Parameter,
                     y_values: npt.ArrayLike, preference: Preference | None = None) -> FloatArray:
    """For each y, the x at which offloading to ``target`` ties local execution (``nan`` where it never flips)."""
    ys = np.asarray(y_values, dtype=np.float64)
    curve = np.empty(ys.size)
    for i, y in enumerate(ys):
        task_y, device_y, (target_y,) = with_parameter(y_parameter, float(y), task, device, [target])
        curve[i] = break_even(x_parameter, task_y, device_y, target_y, preference).value
    return curve
