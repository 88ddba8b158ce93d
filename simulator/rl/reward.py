"""The reward: the realised cost of finished tasks under :class:`offload.Preference`, credited at completion.

A task's cost is ``Preference.combine(latency_s, energy_j)`` of what it really cost (un-normalised: with
``weighted``, ``w_latency`` is score per second and ``w_energy`` score per joule, as in :mod:`offload.decision`):
its latency from creation to result, and the device energy of the stages it went through
(:func:`simulator.energy.meter`, the records' ``energy_j``). A dropped task costs ``drop_cost``; a task still in flight
at the horizon is charged its latency so far and the energy of its stages so far.

Costs are credited when a task finishes, at the next decision of the agent that owns it (or at the episode's end):
the realised cost carries the queueing and contention that decisions cause together, which an expected cost at
decision time (the offload model's prediction, all that queue-aware already uses) would not, and the episode's
return is then minus the total cost of its tasks.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from offload.decision import Objective, Preference
from offload.validate import check_non_negative
from simulator.energy import meter
from simulator.jobs import Job
from simulator.metrics import Layout

FloatArray = npt.NDArray[np.float64]
_STAGES = ("upload_start_s", "upload_end_s", "queue_entry_s", "service_start_s", "service_end_s",
           "download_start_s", "download_end_s")


class CostMeter:
    """Costs owed to each agent since the last :meth:`take` (``agent_of_device[i]``: the agent of device ``i``)."""

    def __init__(self, preference: Preference, layout: Layout, agent_of_device: list[int], n_agents: int,
                 drop_cost: float) -> None:
        self.preference = preference
        self.layout = layout
        self.agent_of_device = agent_of_device
        self.drop_cost = check_non_negative("drop_cost", drop_cost)
        self.latency_only = preference.objective is Objective.LATENCY
        self.owed = [0.0] * n_agents
        self.finished: list[tuple[Job, float]] = []

    def reset(self) -> None:
        """Nothing owed (a new episode)."""
        self.owed = [0.0] * len(self.owed)
        self.finished = []

    def add(self, job: Job) -> None:
        """A finished task (completed or dropped)."""
        if job.drop_code:
            self.owed[self.agent_of_device[job.device_index]] += self.drop_cost
        elif self.latency_only:
            self.owed[self.agent_of_device[job.device_index]] += job.completed_s - job.created_s
        else:
            self.finished.append((job, job.completed_s))

    def add_in_flight(self, jobs: list[Job], end_s: float) -> None:
        """Tasks cut at the horizon ``end_s``: their latency so far and the energy of their stages so far."""
        if self.latency_only:
            for job in jobs:
                self.owed[self.agent_of_device[job.device_index]] += end_s - job.created_s
        else:
            self.finished.extend((job, end_s) for job in jobs)

    def take(self) -> list[float]:
        """What each agent is owed (cost, >= 0) since the last call; resets the account."""
        if self.finished:
            self._meter(self.finished)
            self.finished = []
        owed, self.owed = self.owed, [0.0] * len(self.owed)
        return owed

    def _meter(self, finished: list[tuple[Job, float]]) -> None:
        jobs = [job for job, _ in finished]
        device = np.fromiter((job.device_index for job in jobs), dtype=np.intp, count=len(jobs))
        group = self.layout.device_group[device]
        times = {name: np.fromiter((getattr(job, name) for job in jobs), dtype=np.float64, count=len(jobs))
                 for name in _STAGES}
        local = np.fromiter((job.target_code == 0 for job in jobs), dtype=np.bool_, count=len(jobs))
        powers = {key: values[group] for key, values in self.layout.group_powers.items()}
        earlier = {name: np.fromiter((getattr(job, name) for job in jobs), dtype=np.float64, count=len(jobs))
                   for name in ("earlier_tx_s", "earlier_wait_s")}
        energy_j = meter(times, local, powers, **earlier)["energy_j"]
        latency_s = np.fromiter((end - job.created_s for job, end in finished), dtype=np.float64, count=len(jobs))
        cost = np.asarray(self.preference.combine(latency_s, energy_j, latency_s, energy_j), dtype=np.float64)
        owed = np.zeros(len(self.owed))
        np.add.at(owed, np.asarray([self.agent_of_device[d] for d in device.tolist()], dtype=np.intp), cost)
        self.owed = [a + float(b) for a, b in zip(self.owed, owed, strict=True)]
