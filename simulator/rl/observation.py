"""The observation vector: the task waiting for its decision and what its device observes, as one float32 array.

The fields, in order (``K`` candidate slots; a group with fewer candidates leaves the rest 0):

========================  =============================================================================
field                     meaning
========================  =============================================================================
``deciding``              1 when a task waits for this decision; 0 in a terminal observation and, in the
                          multi-agent environment, for an agent with nothing to decide at this step
``elapsed``               simulated time over the episode's horizon, in [0, 1]
``group``                 index of the task's device group in the scenario (0-based)
``work_ops``              the task's work (ops)
``local_s``               its compute time on the device (s)
``input_bits``            data it uploads if offloaded (bits)
``output_bits``           result it downloads (bits)
``deadline_s``            the service's deadline (s; 0 when it has none)
``valid[j]``              1 if candidate slot ``j`` holds a server for this group
``remote_s[j]``           the task's compute time on candidate ``j`` (s)
``round_trip_s[j]``       nominal round trip to candidate ``j`` (s)
``uplink_bps[j]``         rate a new upload on the device's access point would get now (bit/s; an
                          unlimited link shows float32's largest value)
``downlink_bps[j]``       rate a new download would get now (bit/s)
``in_system[j]``          tasks waiting or in service at candidate ``j`` now
========================  =============================================================================

Candidates are the servers hosting the task's service that the device reaches, nearest first (the order of
:attr:`simulator.policies.DecisionBatch.candidates`); action ``j + 1`` sends the task to candidate ``j``, action 0
runs it on the device. These are the quantities a built-in policy sees (a :class:`~simulator.policies.DecisionBatch`
row and an :class:`~simulator.policies.Observation`), nothing more.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from simulator.jobs import Pending
from simulator.policies import Candidate

Float32Array = npt.NDArray[np.float32]
#: Upper bound of every entry: float32's largest value (an unlimited rate is observed as this).
LARGEST = float(np.finfo(np.float32).max)

#: Per-decision fields before the candidate slots.
TASK_FIELDS = ("deciding", "elapsed", "group", "work_ops", "local_s", "input_bits", "output_bits", "deadline_s")
#: Per-candidate fields, each a block of ``K`` slots.
CANDIDATE_FIELDS = ("valid", "remote_s", "round_trip_s", "uplink_bps", "downlink_bps", "in_system")


def field_names(slots: int) -> list[str]:
    """Name of every entry of an observation with ``slots`` candidate slots."""
    return [*TASK_FIELDS, *(f"{name}[{j}]" for name in CANDIDATE_FIELDS for j in range(slots))]


def size(slots: int) -> int:
    """Length of an observation with ``slots`` candidate slots."""
    return len(TASK_FIELDS) + len(CANDIDATE_FIELDS) * slots


class Observer:
    """Builds observations with ``slots`` candidate slots for tasks of the groups whose candidates are given."""

    def __init__(self, candidates: list[tuple[Candidate, ...]], deadlines_s: list[float], slots: int,
                 horizon_s: float) -> None:
        self.slots = slots
        self.horizon_s = horizon_s
        base = len(TASK_FIELDS)
        self.remote_at = base + slots
        self.rates_at = base + 3 * slots
        self.in_system_at = base + 5 * slots
        self.templates: list[Float32Array | None] = []  # None: a group with more candidates than slots
        for g, (found, deadline_s) in enumerate(zip(candidates, deadlines_s, strict=True)):
            if len(found) > slots:
                self.templates.append(None)
                continue
            template = np.zeros(size(slots), dtype=np.float32)
            template[0] = 1.0
            template[2] = g
            template[7] = deadline_s if math.isfinite(deadline_s) else 0.0
            template[base:base + len(found)] = 1.0
            template[base + 2 * slots:base + 2 * slots + len(found)] = [c.round_trip_s for c in found]
            self.templates.append(template)

    def empty(self) -> Float32Array:
        """The observation of no decision (all zero)."""
        return np.zeros(size(self.slots), dtype=np.float32)

    def observe(self, group: int, pending: Pending, now_s: float) -> Float32Array:
        """The observation of the task ``pending`` of group ``group`` at time ``now_s``."""
        job, block, row = pending.job, pending.block, pending.row
        remote = block.remote_s()[row]
        k = remote.shape[0]
        template = self.templates[group]
        assert template is not None, "a group with more candidates than slots"
        obs = template.copy()
        obs[1:7] = (now_s / self.horizon_s, group, job.work_ops, block.batch.local_s[row], job.input_bits,
                    job.output_bits)
        at = self.remote_at
        obs[at:at + k] = remote
        at = self.rates_at
        device = job.device
        obs[at:at + k] = min(device.up.rate_if_joined_bps(), LARGEST)
        obs[at + self.slots:at + self.slots + k] = min(device.down.rate_if_joined_bps(), LARGEST)
        at = self.in_system_at
        obs[at:at + k] = [pool.in_system for pool in device.routes.pools]
        return obs
