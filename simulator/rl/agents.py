"""Baseline agents: built-in policies acting through :class:`simulator.rl.env.OffloadEnv`, one decision per step.

:class:`PolicyAgent` hands a built-in policy what the engine would hand it (:meth:`OffloadEnv.decision`: the task's
one-row batch, and the observation for a stateful policy) and the episode's policy stream
(:attr:`OffloadEnv.policy_rng`). An always-edge or queue-aware agent then reproduces ``mecsim simulate`` with the
same seed exactly. A stateless policy with random draws (``random``) draws them task by task, in arrival order,
where ``simulate`` draws them block by block for each device group: the same draws with one device group, the same
distribution with several.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simulator.plugins import make_policy
from simulator.policies import Policy
from simulator.rl.env import OffloadEnv
from simulator.world import PolicySpec


class PolicyAgent:
    """A registered policy (built-in or plugin) as an agent: ``act(env)`` is the action it takes now."""

    def __init__(self, name: str, params: Mapping[str, Any] | None = None) -> None:
        self.spec = PolicySpec(name, dict(params or {}))
        self.policy: Policy = make_policy(self.spec)

    def act(self, env: OffloadEnv) -> int:
        """The option the policy chooses for the task waiting in ``env``."""
        batch, observed = env.decision()
        return int(self.policy.choose(batch, observed if self.policy.stateful else None, env.policy_rng)[0])


def play(env: OffloadEnv, agent: PolicyAgent, seed: int) -> float:
    """One episode of ``agent`` from ``reset(seed=seed)``; its return (sum of rewards)."""
    env.reset(seed=seed)
    total = 0.0
    done = False
    while not done:
        _, reward, done, _, _ = env.step(agent.act(env))
        total += reward
    return total
