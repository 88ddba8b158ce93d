"""A plugin offload policy for mecsim, complete: offload to the server with the shortest backlog while it is short.

Name it in a scenario by import path (this folder must be on the import path, e.g. ``PYTHONPATH=examples``)::

    policies:
      - class: "least_backlog:LeastBacklog"
        params: {max_backlog: 4}
        label: least-backlog

    PYTHONPATH=examples mecsim simulate examples/least_backlog.yaml

or, from an installed package, by an entry point in the group ``mecsim.policies``::

    [project.entry-points."mecsim.policies"]
    least_backlog = "least_backlog:LeastBacklog"

A policy is a class with a ``stateful`` class attribute and a ``choose(batch, observed, rng)`` method returning,
for each task of ``batch``, an option: 0 runs it on the device, ``j + 1`` sends it to ``batch.candidates[j]``
(reachable servers hosting its service, nearest first). With ``stateful = True`` mecsim asks once per task, at its
arrival, and passes an ``Observation`` (per candidate: ``uplink_bps``, ``downlink_bps`` a new transfer would get now,
``in_system`` tasks waiting or in service); with ``False`` it asks once per block of tasks with ``observed=None``.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import numpy.typing as npt

from simulator.policies import DecisionBatch, Observation


class LeastBacklog:
    """Offload each task to the candidate with the fewest tasks in system, unless even that one has
    ``max_backlog`` or more; then run it on the device."""

    stateful: ClassVar[bool] = True

    def __init__(self, max_backlog: int = 4) -> None:
        if max_backlog < 1:
            raise ValueError(f"max_backlog={max_backlog!r}: must be >= 1")
        self.max_backlog = max_backlog

    def choose(self, batch: DecisionBatch, observed: Observation | None,
               rng: np.random.Generator) -> npt.NDArray[np.intp]:
        """0 (local) or 1 + the index of the least-loaded candidate, for every task of the batch."""
        n = batch.work_ops.shape[0]
        if observed is None or not batch.candidates:
            return np.zeros(n, dtype=np.intp)
        best = int(np.argmin(observed.in_system))
        option = best + 1 if observed.in_system[best] < self.max_backlog else 0
        return np.full(n, option, dtype=np.intp)
