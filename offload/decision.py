"""Choose where each task runs: argmin of an objective over local and remote options, subject to deadlines."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from offload.arith import add, multiply
from offload.cost import LOCAL_OPTION, CostArrays, task_costs
from offload.errors import ParameterError
from offload.profiles import Device, Target, Task
from offload.validate import check_non_negative

if TYPE_CHECKING:
    import pandas as pd

FloatArray = npt.NDArray[np.float64]
Values = FloatArray | float
#: Deadlines are clipped to the largest float so that an infinite latency (an unstable queue) never meets one.
_LATEST_S = float(np.finfo(np.float64).max)


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

    ``WEIGHTED`` scores ``w_latency · T + w_energy · E``. Un-normalised, that adds seconds to joules: the weights
    carry units (score per second, score per joule), so ``w_latency = 1, w_energy = 1`` trades one second for one
    joule, and re-expressing time in other units must rescale ``w_latency``. With ``normalise`` each term is
    divided by the local option's value, so the weights compare relative savings and are unit-free.
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
        energy = self.energy_j(costs)
        return np.asarray(self.combine(costs.latency_s, energy, costs.latency_s[:, :1], energy[:, :1]))

    def combine(self, latency_s: Values, energy_j: Values, local_latency_s: Values, local_energy_j: Values) -> Values:
        """Score from latency and energy (elementwise; the local values are the normalisers)."""
        if self.objective is Objective.LATENCY:
            return latency_s
        if self.objective is Objective.ENERGY:
            return energy_j
        if self.normalise:
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                latency_s = np.nan_to_num(np.divide(latency_s, local_latency_s), nan=0.0, posinf=np.inf)
                energy_j = np.nan_to_num(np.divide(energy_j, local_energy_j), nan=0.0, posinf=np.inf)
                score = self._weighted(latency_s, energy_j)
            # keep scores finite (a ratio to a zero local value is huge, not infinite): inf marks "late" in select
            return np.minimum(score, _LATEST_S)
        return self._weighted(latency_s, energy_j)

    def _weighted(self, latency_s: Values, energy_j: Values) -> Values:
        # a zero weight drops its term (so 0 x inf is 0, not NaN); a unit weight skips its (exact) multiplication
        if self.w_energy == 0:
            return multiply(self.w_latency, latency_s)
        if self.w_latency == 0:
            return multiply(self.w_energy, energy_j)
        latency_term = latency_s if self.w_latency == 1 else multiply(self.w_latency, latency_s)
        energy_term = energy_j if self.w_energy == 1 else multiply(self.w_energy, energy_j)
        return add(latency_term, energy_term)


def select(scores: Sequence[Values], latencies_s: Sequence[Values], deadline_s: Values | None, n_tasks: int,
           carry: Sequence[Sequence[Values]] = ()
           ) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.bool_], list[FloatArray]]:
    """Per task, the option with the lowest score among those whose latency meets the deadline.

    Ties go to the lowest index (local first: the seed rules offload only on strict improvement); NaN scores never
    win. Where no option meets the deadline the fastest is chosen and the task is flagged. Scores of options that
    meet the deadline must be finite (:meth:`Preference.combine` guarantees it for validated inputs).

    Parameters
    ----------
    scores, latencies_s : sequence of arrays (or scalars), one per option, each broadcastable to ``(tasks,)``
    deadline_s : array or scalar, or None
        ``None`` promises that there is no deadline and every latency is finite, which skips the deadline test.
    carry : sequence of per-option value sequences
        Values to pick along with the choice (e.g. every option's energy), without a second pass.

    Returns
    -------
    choice : ndarray of int8, shape (tasks,)
    missed : ndarray of bool, shape (tasks,)
    chosen : list of ndarray, one per ``carry`` entry: the chosen option's value per task
    """
    if len(scores) > 127:
        raise ParameterError("options", len(scores), "at most 127 options (local plus 126 targets)")
    limit = None if deadline_s is None else np.minimum(deadline_s, _LATEST_S)
    best = np.full(n_tasks, np.inf)
    choice = np.zeros(n_tasks, dtype=np.int8)
    better = np.empty(n_tasks, dtype=np.bool_)
    mask = np.empty(n_tasks, dtype=np.int8)
    flip = np.empty(n_tasks, dtype=np.int8)
    with np.errstate(invalid="ignore"):
        for j in range(len(scores)):  # forwards with a strict <, so the lowest index wins a tie
            # a late option's candidate is fmax(score, (T - limit) * inf) = inf; on time (T - limit) * inf is -inf or
            # NaN, which fmax ignores. Pure arithmetic: masked selections with random masks are several times slower.
            candidate = scores[j] if limit is None else np.fmax(
                scores[j], np.multiply(np.subtract(latencies_s[j], limit), np.inf))
            np.less(candidate, best, out=better)
            np.fmin(best, candidate, out=best)
            if j:  # choice = better ? j : choice, as int8 bit operations
                np.negative(better.view(np.int8), out=mask)  # 0 or -1 (all bits set)
                np.bitwise_and(np.bitwise_xor(choice, np.int8(j), out=flip), mask, out=flip)
                np.bitwise_xor(choice, flip, out=choice)
    missed = best == np.inf
    if missed.any():
        rows = np.flatnonzero(missed)
        fastest = np.zeros(rows.size, dtype=np.int8)
        fastest_s = _rows(latencies_s[0], rows, n_tasks)
        for j in range(1, len(latencies_s)):
            latency = _rows(latencies_s[j], rows, n_tasks)
            faster = latency < fastest_s
            fastest[faster] = j
            fastest_s[faster] = latency[faster]
        choice[rows] = fastest
    if not carry:
        return choice, missed, []
    # gather from the (options, tasks) block: flat index choice * tasks + task
    flat = choice.astype(np.intp) * n_tasks + np.arange(n_tasks)
    chosen = [np.stack([np.broadcast_to(v, (n_tasks,)) for v in values]).ravel().take(flat) for values in carry]
    return choice, missed, chosen


def select_one(scores: Sequence[float], latencies_s: Sequence[float], deadline_s: float) -> tuple[int, bool]:
    """:func:`select` for one task whose option scores and latencies are plain floats (the scalar path of a single
    decision, without building arrays): the option chosen and whether no option met the deadline."""
    limit = min(deadline_s, _LATEST_S)
    best, choice = math.inf, 0
    for j, (score, latency) in enumerate(zip(scores, latencies_s, strict=True)):
        if latency <= limit and score < best:  # strict: the lowest index wins a tie; NaN never wins
            best, choice = score, j
    if best < math.inf:
        return choice, False
    fastest = min(range(len(latencies_s)), key=lambda j: (latencies_s[j], j))
    return fastest, True


def meets_deadline(latency_s: Values, deadline_s: Values) -> npt.NDArray[np.bool_] | np.bool_:
    """Whether a latency is within the deadline; an infinite latency (an unstable queue) never is (plain floats give
    a plain bool)."""
    if isinstance(latency_s, float) and isinstance(deadline_s, float):
        return latency_s <= min(deadline_s, _LATEST_S)  # type: ignore[return-value]
    return np.less_equal(latency_s, np.minimum(deadline_s, _LATEST_S))


def _rows(values: Values, rows: npt.NDArray[np.intp], n_tasks: int) -> FloatArray:
    return np.array(np.broadcast_to(np.asarray(values, dtype=np.float64), (n_tasks,))[rows])


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
        return np.asarray(self.choice != LOCAL_OPTION, dtype=np.bool_)

    def chosen(self, values: FloatArray) -> FloatArray:
        """Pick each task's chosen column from a ``(tasks, options)`` array."""
        return np.take_along_axis(values, self.choice[:, None], axis=1)[:, 0]

    def to_frame(self) -> pd.DataFrame:
        """One row per task × option (tidy): ``task, option, chosen``, the latency breakdown (s), both energies (J),
        ``score`` and ``meets_deadline``. The chosen rows are the decisions: ``frame[frame.chosen]``.

        Examples
        --------
        >>> from offload import Device, Link, Server, Target, Task
        >>> edge = Target("edge", Server(compute_time_s=0.009), Link(uplink_bps=5e6, rtt_s=0.02))
        >>> frame = decide_task(Task(input_bits=2.4e6), Device(compute_time_s=13.0), [edge]).to_frame()
        >>> frame.loc[frame.chosen, ["option", "latency_s"]].to_dict("records")
        [{'option': 'edge', 'latency_s': 0.509}]
        """
        import pandas as pd  # only here: deciding needs numpy alone

        costs = self.costs
        n, width = costs.latency_s.shape
        columns: dict[str, object] = {
            "task": np.repeat(np.arange(n), width),
            "option": np.tile(np.asarray(costs.options, dtype=object), n),
            "chosen": (self.choice[:, None] == np.arange(width)[None, :]).ravel(),
        }
        for name in ("upload_s", "round_trip_s", "wait_s", "compute_s", "download_s", "latency_s",
                     "device_energy_j", "system_energy_j"):
            columns[name] = np.asarray(getattr(costs, name), dtype=np.float64).ravel()
        columns["score"] = self.score.ravel()
        columns["meets_deadline"] = self.meets_deadline.ravel()
        return pd.DataFrame(columns)


def decide(
    costs: CostArrays, preference: Preference | None = None, deadline_s: npt.ArrayLike = np.inf
) -> OffloadDecision:
    """Pick, per task, the option with the lowest score among those meeting the deadline.

    Ties go to the lowest column, so local wins a tie (the seed rules offload only on strict improvement).
    If no option meets the deadline, the fastest option is chosen and ``deadline_missed`` is set. An option with
    infinite latency (an unstable queue) never meets a deadline, even an infinite one.
    """
    preference = preference or Preference()
    score = preference.score(costs)
    n, width = costs.latency_s.shape
    deadline = np.broadcast_to(np.asarray(deadline_s, dtype=np.float64), (n,))
    with np.errstate(invalid="ignore"):
        choice, missed, _ = select([score[:, j] for j in range(width)],
                                   [costs.latency_s[:, j] for j in range(width)], deadline, n)
    meets = np.asarray(meets_deadline(costs.latency_s, deadline[:, None]))
    return OffloadDecision(costs, preference, choice.astype(np.intp), score, meets, missed)


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
