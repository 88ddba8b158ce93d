"""``mecsim/Offload-v0``: a Gymnasium environment where each offload decision of a scenario is one step.

One step decides one task: the observation describes it and what its device observes
(:mod:`simulator.rl.observation`, a fixed-size ``Box``), the action is where it runs (``Discrete(K + 1)``: 0 on the
device, ``j + 1`` on candidate server ``j``, nearest first, ``K`` the most candidates any device group has), and the
reward is minus the realised cost of the tasks that finished since the previous decision (:mod:`simulator.rl.reward`).
An episode is the scenario's horizon (``run.duration``, or ``duration_s``); it terminates when no decision is left
before the horizon, and the last reward also charges the tasks still in flight. ``reset(seed=s)`` runs the episode
``mecsim simulate --seed s --replications 1`` runs, so the same seed gives the same trajectory.

An action naming a slot beyond the deciding group's candidates runs the task on the device (``info["action_mask"]``
marks the valid actions; it is all ones when every group reaches ``K`` servers).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import numpy.typing as npt
from gymnasium import spaces

from offload.cost import LOCAL_OPTION
from simulator.policies import DecisionBatch, Observation
from simulator.rl.observation import LARGEST, Float32Array, Observer, field_names, size
from simulator.rl.setup import build
from simulator.scenario import Scenario
from simulator.world import World

#: Maximum episode seed drawn for an unseeded reset (SeedSequence takes any non-negative integer).
_SEED_SPAN = 2**63 - 1


class OffloadEnv(gymnasium.Env[Float32Array, np.int64]):
    """Offload decisions of a scenario, one per step.

    Parameters
    ----------
    scenario : str, Path, Scenario or World
        A bundled scenario name (``license-plate``), a scenario file, a loaded :class:`Scenario`, or a
        :class:`simulator.world.World` built in code (then give ``duration_s``).
    overrides : sequence of str
        ``--set`` style changes applied when loading (``devices[0].count=50``).
    duration_s : float, optional
        Episode horizon (s); default the scenario's ``run.duration``.
    objective, w_latency, w_energy : str, float, float
        The cost to minimise, as :class:`offload.Preference` scores it: ``latency`` (default), ``energy`` (device
        battery) or ``weighted`` (``w_latency`` per second plus ``w_energy`` per joule).
    drop_cost : float
        Cost of a dropped task (default 10: ten seconds under the latency objective).
    records : bool
        Keep each episode's per-task records (:meth:`records`, :meth:`summary`).
    """

    metadata = {"render_modes": []}  # noqa: RUF012 - gymnasium's Env declares it a plain attribute

    def __init__(self, scenario: str | Path | Scenario | World = "license-plate", overrides: Sequence[str] = (), *,
                 duration_s: float | None = None, objective: str = "latency", w_latency: float = 0.5,
                 w_energy: float = 0.5, drop_cost: float = 10.0, records: bool = True) -> None:
        setup = build(scenario, overrides, duration_s=duration_s, objective=objective, w_latency=w_latency,
                      w_energy=w_energy, drop_cost=drop_cost, records=records)
        self.world = setup.world
        self.session = setup.session
        self.costs = setup.costs
        self.duration_s = setup.duration_s
        self.candidates = self.session.candidates()
        slots = max((len(found) for found in self.candidates), default=0)
        self.observer = Observer(self.candidates, [g.deadline_s for g in self.world.device_groups], slots,
                                 self.duration_s)
        #: Name of each observation entry (see :mod:`simulator.rl.observation`).
        self.observation_names = field_names(slots)
        self.observation_space = spaces.Box(0.0, LARGEST, shape=(size(slots),), dtype=np.float32)
        self.action_space = spaces.Discrete(slots + 1)
        self._group_of_device = [g for g, group in enumerate(self.world.device_groups) for _ in range(group.count)]
        self._masks = []
        for found in self.candidates:
            mask = np.zeros(slots + 1, dtype=np.int8)
            mask[:len(found) + 1] = 1
            self._masks.append(mask)
        self._done = True

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[Float32Array, dict[str, Any]]:
        """Start an episode: ``seed`` as in ``mecsim simulate --seed``; without one, drawn from the env's RNG."""
        super().reset(seed=seed)
        episode_seed = seed if seed is not None else int(self.np_random.integers(_SEED_SPAN))
        self.costs.reset()
        waiting = self.session.start(episode_seed)
        self._done = not waiting
        if self._done:
            self.costs.add_in_flight(self.session.close(), self.duration_s)
            self.costs.take()
            return self.observer.empty(), {"action_mask": np.zeros(self.observer.slots + 1, dtype=np.int8)}
        return self._observe()

    def step(self, action: int | np.integer[Any]) -> tuple[Float32Array, float, bool, bool, dict[str, Any]]:
        """Decide the waiting task and run until the next decision (or the end of the episode)."""
        if self._done:
            raise gymnasium.error.ResetNeeded("the episode has ended: call reset()")
        choice = int(action)
        group = self._group_of_device[self.session.pending.job.device_index]
        if choice > len(self.candidates[group]):
            choice = LOCAL_OPTION
        waiting = self.session.answer(choice)
        if not waiting:
            self._done = True
            self.costs.add_in_flight(self.session.close(), self.duration_s)
            reward = -self.costs.take()[0]
            return self.observer.empty(), reward, True, False, {}
        reward = -self.costs.take()[0]
        obs, info = self._observe()
        return obs, reward, False, False, info

    def _observe(self) -> tuple[Float32Array, dict[str, Any]]:
        pending = self.session.pending
        group = self._group_of_device[pending.job.device_index]
        obs = self.observer.observe(group, pending, self.session.running.env.now)
        return obs, {"action_mask": self._masks[group].copy()}

    # -- what a built-in policy would be given, for baseline agents ------------------------------------------------
    def decision(self) -> tuple[DecisionBatch, Observation]:
        """The waiting task as the engine gives it to a stateful policy: its one-task batch and observation."""
        return self.session.running.observe(self.session.pending)

    @property
    def policy_rng(self) -> np.random.Generator:
        """The episode's policy stream: the generator ``mecsim simulate`` hands its policy in the same episode."""
        return self.session.running.policy_rng

    # -- results ------------------------------------------------------------------------------------------------------
    def summary(self) -> Any:
        """The ended episode's :class:`simulator.result.PolicySummary` (as ``mecsim simulate`` gives one run)."""
        return self.session.summary()

    def records(self) -> Any:
        """The ended episode's per-task records (a DataFrame; policy ``agent``)."""
        return self.session.records()

    def action_masks(self) -> npt.NDArray[np.int8]:
        """Valid actions for the waiting task (1: valid)."""
        return self._masks[self._group_of_device[self.session.pending.job.device_index]].copy()
