"""Reinforcement learning over mecsim: each offload decision of a scenario is an environment step.

Importing this package registers the Gymnasium environment ``mecsim/Offload-v0``
(:class:`simulator.rl.env.OffloadEnv`)::

    import gymnasium
    import simulator.rl  # registers mecsim/Offload-v0

    env = gymnasium.make("mecsim/Offload-v0", scenario="license-plate")
    obs, info = env.reset(seed=2020)

The multi-agent view is :class:`simulator.rl.parallel.OffloadParallelEnv` (PettingZoo, one agent per device group
or per device); baseline agents are in :mod:`simulator.rl.agents`. Needs the ``rl`` extra (gymnasium, pettingzoo).
"""

from gymnasium.envs.registration import register, registry

ENV_ID = "mecsim/Offload-v0"

if ENV_ID not in registry:
    register(id=ENV_ID, entry_point="simulator.rl.env:OffloadEnv")

__all__ = ["ENV_ID"]
