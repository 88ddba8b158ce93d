"""A PettingZoo parallel environment: the offload decisions of a scenario, each device group (or device) an agent.

Decisions happen one at a time in simulated time, so at each step exactly one agent acts: the owner of the task
that has just arrived. Its observation describes that task (:mod:`simulator.rl.observation`, with its own group's
candidate slots, so no action is ever invalid) and ``infos[agent]["acting"]`` is ``True``; every other agent
observes zeros (field ``deciding`` 0) and its action is not used. Each agent's reward is minus the realised cost of
its own tasks that finished since the previous step (:mod:`simulator.rl.reward`), so credit goes to the agent whose
tasks paid it. All agents terminate together at the horizon. Seeds as in :class:`simulator.rl.env.OffloadEnv`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from offload.errors import ParameterError
from simulator.rl.observation import LARGEST, Float32Array, Observer, size
from simulator.rl.setup import build
from simulator.scenario import Scenario
from simulator.world import World

_SEED_SPAN = 2**63 - 1


def _owners(agents: str) -> Callable[[World], list[int]]:
    """The agent of each device: its group's index, or its own."""

    def owners(world: World) -> list[int]:
        if agents == "group":
            return [k for k, g in enumerate(world.device_groups) for _ in range(g.count)]
        return list(range(world.n_devices))

    return owners


class OffloadParallelEnv(ParallelEnv[str, Float32Array, np.int64]):  # type: ignore[misc]  # untyped base
    """Offload decisions with one agent per device group (``agents="group"``) or per device (``"device"``).

    Other parameters as :class:`simulator.rl.env.OffloadEnv`; ``records`` defaults to off here.
    """

    metadata = {"name": "mecsim_offload_v0", "render_modes": []}  # noqa: RUF012 - PettingZoo's attribute

    def __init__(self, scenario: str | Path | Scenario | World = "license-plate", overrides: Sequence[str] = (), *,
                 agents: Literal["group", "device"] = "group", duration_s: float | None = None,
                 objective: str = "latency", w_latency: float = 0.5, w_energy: float = 0.5,
                 drop_cost: float = 10.0, records: bool = False) -> None:
        if agents not in ("group", "device"):
            raise ParameterError("agents", agents, "must be 'group' or 'device'")
        setup = build(scenario, overrides, duration_s=duration_s, objective=objective, w_latency=w_latency,
                      w_energy=w_energy, drop_cost=drop_cost, records=records, agents=_owners(agents))
        groups = setup.world.device_groups
        names = ([g.name for g in groups] if agents == "group" else
                 [f"{g.name}/{i}" for g in groups for i in range(g.count)])
        owners = setup.costs.agent_of_device
        self.session = setup.session
        self.costs = setup.costs
        self.duration_s = setup.duration_s
        self.possible_agents = names
        self.agents: list[str] = []
        self._owner = owners
        self._group_of_device = [k for k, g in enumerate(groups) for _ in range(g.count)]
        candidates = self.session.candidates()
        deadlines = [g.deadline_s for g in groups]
        group_of_agent = [self._group_of_device[owners.index(a)] for a in range(len(names))]
        slots = [len(candidates[g]) for g in group_of_agent]
        observers = {k: Observer(candidates, deadlines, k, self.duration_s) for k in set(slots)}
        self._observer_of_group = [observers.get(len(found)) for found in candidates]
        self._empty = {name: np.zeros(size(k), dtype=np.float32) for name, k in zip(names, slots, strict=True)}
        self._observation_spaces = {name: spaces.Box(0.0, LARGEST, shape=(size(k),), dtype=np.float32)
                                    for name, k in zip(names, slots, strict=True)}
        self._action_spaces = {name: spaces.Discrete(k + 1) for name, k in zip(names, slots, strict=True)}
        self._rng = np.random.default_rng()

    def observation_space(self, agent: str) -> spaces.Space[Any]:
        """The agent's ``Box`` (its group's candidate slots)."""
        return self._observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space[Any]:
        """``Discrete(1 + its group's candidates)``: 0 on the device, ``j + 1`` on candidate ``j``."""
        return self._action_spaces[agent]

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[dict[str, Float32Array], dict[str, dict[str, Any]]]:
        """Start an episode (``seed`` as in ``mecsim simulate --seed``; without one, drawn from the env's RNG)."""
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        episode_seed = seed if seed is not None else int(self._rng.integers(_SEED_SPAN))
        self.costs.reset()
        self.agents = list(self.possible_agents)
        if not self.session.start(episode_seed):
            self.costs.add_in_flight(self.session.close(), self.duration_s)
            self.costs.take()
        obs, infos = self._observe()
        return obs, infos

    def step(self, actions: dict[str, Any]) -> tuple[dict[str, Float32Array], dict[str, float], dict[str, bool],
                                                     dict[str, bool], dict[str, dict[str, Any]]]:
        """The acting agent's action decides its task; the run goes on to the next decision or the horizon."""
        if not self.agents:
            raise ParameterError("step", None, "the episode has ended: call reset()")
        acting = self.possible_agents[self._owner[self.session.pending.job.device_index]]
        waiting = self.session.answer(int(actions[acting]))
        if not waiting:
            self.costs.add_in_flight(self.session.close(), self.duration_s)
        owed = self.costs.take()
        rewards = {name: -cost for name, cost in zip(self.possible_agents, owed, strict=True)}
        obs, infos = self._observe() if waiting else ({a: self._empty[a].copy() for a in self.agents},
                                                      {a: {"acting": False} for a in self.agents})
        done = dict.fromkeys(self.agents, not waiting)
        truncated = dict.fromkeys(self.agents, False)
        if not waiting:
            self.agents = []
        return obs, rewards, done, truncated, infos

    def _observe(self) -> tuple[dict[str, Float32Array], dict[str, dict[str, Any]]]:
        obs = {a: self._empty[a].copy() for a in self.agents}
        infos: dict[str, dict[str, Any]] = {a: {"acting": False} for a in self.agents}
        engine = self.session.engine
        if engine is None or engine.pending is None or self.session.output is not None:
            return obs, infos
        pending = engine.pending
        acting = self.possible_agents[self._owner[pending.job.device_index]]
        group = self._group_of_device[pending.job.device_index]
        observer = self._observer_of_group[group]
        assert observer is not None
        obs[acting] = observer.observe(group, pending, engine.env.now)
        infos[acting] = {"acting": True}
        return obs, infos
