"""Choose where each task runs: argmin of an objective over local and remote options, subject to deadlines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

import numpy as np
import numpy.typing as npt

from offload.cost import CostArrays, task_costs
from offload.errors import ParameterError
from offload.profiles import Device, Target, Task
from offload.validate import check_non_negative

FloatArray = npt.NDArray[np.float64]


class Objective(Enum):
    """What to minimise."""

    LATENCY = "latency"
    ENERGY = "energy"
    WEIGHTED = "weighted"


class EnergyView(Enum):
    """Whose energy counts: the device's battery, or the system's (device plus edge compute, the seed's rule 2)."""

    DEVICE = "device"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Preference:
    """How to score an option.

    ``WEIGHTED`` scores ``w_latency · T + w_energy · E``; with ``normalise`` each term is divided by the local
    option's value, so the weights compare relative savings and need no unit conversion.
    """

    objective: Objective = Objective.LATENCY
    energy_view: EnergyView = EnergyView.DEVICE
    w_latency: float = 0.5
    w_energy: float = 0.5
    normalise: bool = False

    def __post_init__(self) -> None:
        check_non_negative("w_latency", self.w_latency)
        check_non_negative("w_energy", self.w_energy)
        if self.objective is Objective.WEIGHTED and self.w_latency == 0 and self.w_energy == 0:
            raise ParameterError("w_latency", 0.0, "w_latency and w_energy cannot both be 0")

    def energy_j(self, costs: CostArrays) -> FloatArray:
        """The energy array of the chosen view."""
        return costs.device_energy_j if self.energy_view is EnergyView.DEVICE else costs.system_energy_j

    def score(self, costs: CostArrays) -> FloatArray:
        """Objective value of every (task, option); lower is better."""
        if self.objective is Objective.LATENCY:
            return costs.latency_s
        energy = self.energy_j(costs)
        if self.objective is Objective.ENERGY:
            return energy
        latency = costs.latency_s
        if self.normalise:
            with np.errstate(divide="ignore", invalid="ignore"):
                latency = np.nan_to_num(latency / latency[:, :1], nan=0.0, posinf=np.inf)
                energy = np.nan_to_num(energy / energy[:, :1], nan=0.0, posinf=np.inf)
        return self.w_latency * latency + self.w_energy * energy


@dataclass(frozen=True, slots=True)
class OffloadDecision:
    """The decision for every task, with the costs it was based on.

    Attributes
    ----------
    choice : ndarray of int, shape (tasks,)
        Column of ``costs`` chosen: 0 is local.
    score : ndarray, shape (tasks, options)
        Objective value of every option (``inf`` marks none).
    meets_deadline : ndarray of bool, shape (tasks, options)
        Whether each option finishes within the task's deadline.
    deadline_missed : ndarray of bool, shape (tasks,)
        No option met the deadline; the fastest was chosen.
    """

    costs: CostArrays
    preference: Preference
    choice: npt.NDArray[np.intp]
    score: FloatArray
    meets_deadline: npt.NDArray[np.bool_]
    deadline_missed: npt.NDArray[np.bool_]

    @property
    def chosen_names(self) -> list[str]:
        """Name of the chosen option per task."""
        return [self.costs.options[i] for i in self.choice]

    @property
    def offloaded(self) -> npt.NDArray[np.bool_]:
        """True where the task leaves the device."""
        return self.choice != 0

    def chosen(self, values: FloatArray) -> FloatArray:
        """Pick each task's chosen column from a ``(tasks, options)`` array."""
        return np.take_along_axis(values, self.choice[:, None], axis=1)[:, 0]


def decide(
    costs: CostArrays, preference: Preference | None = None, deadline_s: npt.ArrayLike = np.inf
) -> OffloadDecision:
    """Pick, per task, the option with the lowest score among those meeting the deadline.

    Ties go to the lowest column, so local wins a tie (the seed rules offload only on strict improvement).
    If no option meets the deadline, the fastest option is chosen and ``deadline_missed`` is set.
    """
    preference = preference or Preference()
    score = preference.score(costs)
    deadline = np.broadcast_to(np.asarray(deadline_s, dtype=np.float64), (costs.n_tasks,))[:, None]
    meets = costs.latency_s <= deadline
    missed = np.asarray(~meets.any(axis=1), dtype=np.bool_)
    feasible_score = np.where(meets, score, np.inf)
    choice = np.argmin(feasible_score, axis=1)
    if missed.any():
        choice = np.where(missed, np.argmin(costs.latency_s, axis=1), choice)
    return OffloadDecision(costs, preference, choice, score, meets, missed)


def decide_task(
    task: Task, device: Device, targets: Sequence[Target], preference: Preference | None = None
) -> OffloadDecision:
    """Decide one task: :func:`decide` on :func:`offload.cost.task_costs` with the task's own deadline."""
    return decide(task_costs(task, device, targets), preference, task.deadline_s)


def seed_latency_rule(C: npt.ArrayLike, D: npt.ArrayLike, Pd: npt.ArrayLike, Pe: npt.ArrayLike,
                      Bc: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Rule (1) of the seed article, verbatim: offload iff ``C/Pd > C/Pe + D/Bc``."""
    C, D, Pd, Pe, Bc = (np.asarray(x, dtype=np.float64) for x in (C, D, Pd, Pe, Bc))
    return np.asarray(C / Pd > C / Pe + D / Bc)


def seed_energy_rule(C: npt.ArrayLike, D: npt.ArrayLike, Pd: npt.ArrayLike, Pe: npt.ArrayLike, Bc: npt.ArrayLike,
                     Ed: npt.ArrayLike, Ee: npt.ArrayLike, Ec: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Rule (2) of the seed article, verbatim: offload iff ``C·Ed/Pd > C·Ee/Pe + D·Ec/Bc``."""
    C, D, Pd, Pe, Bc, Ed, Ee, Ec = (np.asarray(x, dtype=np.float64) for x in (C, D, Pd, Pe, Bc, Ed, Ee, Ec))
    return np.asarray(C * Ed / Pd > C * Ee / Pe + D * Ec / Bc)
