"""The protocol every placement solver follows and the raw output it hands back."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from offload.errors import ParameterError
from scheduler.model import Model

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class SolverOutput:
    """A solver's own answer before it is evaluated: replicas (S, N), per-arc shares, and what it can prove.

    ``replicas``/``arc_share`` are None when the solver found nothing; ``bound`` is the solver's own certified lower
    bound (``-inf`` when it has none); ``optimal`` says the solver proved optimality; ``approximation_error`` bounds
    how much the solver's own objective may understate the exact one at its answer (0 when it evaluates exactly).
    """

    replicas: IntArray | None
    arc_share: FloatArray | None
    message: str
    bound: float = -math.inf
    optimal: bool = False
    approximation_error: float = 0.0


@dataclass(frozen=True, slots=True)
class Budget:
    """How much work a solver may do, counted in work rather than seconds so that the same input and seed give the
    same placement however loaded the machine is.

    Attributes
    ----------
    evaluations : int
        Trial moves of local search (each relocation, close, open, shift, swap or kick step tried counts one).
    milp_nodes : int
        Branch-and-bound nodes of HiGHS per solve (the MILP solves at most
        :data:`~scheduler.solvers.milp.ROUNDS` times as it refines its queueing tables); it stops there with its
        incumbent and dual bound.
    time_limit_s : float or None
        Opt-in wall-clock limit, honoured by the MILP only. A MILP stopped by it depends on the machine's speed and
        load, and its message says so.
    """

    evaluations: int = 50_000
    milp_nodes: int = 10_000
    time_limit_s: float | None = None

    def __post_init__(self) -> None:
        if self.evaluations < 1:
            raise ParameterError("evaluations", self.evaluations, "must be >= 1")
        if self.milp_nodes < 1:
            raise ParameterError("milp_nodes", self.milp_nodes, "must be >= 1")
        if self.time_limit_s is not None and not self.time_limit_s > 0:
            raise ParameterError("time_limit_s", self.time_limit_s, "must be > 0 s (or None: no wall-clock limit)")


class Solver(Protocol):
    """Places services for a compiled :class:`~scheduler.model.Model` within a work :class:`Budget`."""

    name: str

    def solve(self, model: Model, *, budget: Budget, rng: np.random.Generator) -> SolverOutput:
        """Return the best placement found; never raise for a feasible-but-hard input."""
        ...
