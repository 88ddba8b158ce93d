"""The protocol every placement solver follows and the raw output it hands back."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from scheduler.model import Model

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class SolverOutput:
    """A solver's own answer before it is evaluated: replicas (S, N), per-arc shares, and what it can prove.

    ``replicas``/``arc_share`` are None when the solver found nothing; ``bound`` is the solver's own certified lower
    bound (``-inf`` when it has none); ``optimal`` says the solver proved optimality.
    """

    replicas: IntArray | None
    arc_share: FloatArray | None
    message: str
    bound: float = -math.inf
    optimal: bool = False


class Solver(Protocol):
    """Places services for a compiled :class:`~scheduler.model.Model` within a time limit."""

    name: str

    def solve(self, model: Model, *, time_limit_s: float, rng: np.random.Generator) -> SolverOutput:
        """Return the best placement found; never raise for a feasible-but-hard input."""
        ...
