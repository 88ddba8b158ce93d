"""The Gymnasium and PettingZoo views of a run: API checks, seeding, rewards against the records, and baseline agents
through the environment against ``mecsim simulate`` with the same seed."""

from __future__ import annotations

import math

import gymnasium
import numpy as np
import pandas as pd
import pytest
import yaml
from gymnasium.utils.env_checker import check_env
from pettingzoo.test import parallel_api_test

import simulator.rl
from simulator.rl.agents import PolicyAgent, play
from simulator.rl.env import OffloadEnv
from simulator.rl.observation import field_names
from simulator.rl.parallel import OffloadParallelEnv
from simulator.scenario import resolve_scenario_path, scenario_from_dict, simulate

SHORT = ["run.duration=12s", "run.warmup=2s", "run.replications=1"]


def _plates(policies: list[dict[str, object]], groups: int = 8, duration: str = "12 s") -> dict[str, object]:
    """The bundled licence-plate scenario, ``groups`` camera groups, a short horizon and ``policies``."""
    data = yaml.safe_load(resolve_scenario_path("license-plate").read_text(encoding="utf-8"))
    data["run"] = {**data["run"], "duration": duration, "warmup": "2 s", "replications": 1}
    data["devices"] = data["devices"][:groups]
    data["policies"] = policies
    return data


def _records(records: pd.DataFrame) -> pd.DataFrame:
    rows = records.drop(columns="policy").reset_index(drop=True)
    return rows.astype({c: str for c in rows.columns if isinstance(rows[c].dtype, pd.CategoricalDtype)})


def test_make_registers_and_check_env_passes() -> None:
    assert simulator.rl.ENV_ID in gymnasium.registry
    env = gymnasium.make("mecsim/Offload-v0", scenario="license-plate", overrides=SHORT)
    check_env(env.unwrapped, skip_render_check=True)
    assert env.observation_space.shape == (8 + 6 * 2,)
    assert env.action_space.n == 3  # local, the edge, the cloud
    assert env.unwrapped.observation_names == field_names(2)


def test_the_observation_is_the_task_and_what_its_device_sees() -> None:
    env = OffloadEnv("license-plate", SHORT)
    obs, info = env.reset(seed=3)
    seen = dict(zip(env.observation_names, obs.tolist(), strict=True))
    batch, observed = env.decision()
    assert seen["deciding"] == 1.0
    assert seen["local_s"] == pytest.approx(13.0)  # the Pi's measured 13 s per image
    assert seen["input_bits"] == pytest.approx(300e3 * 8)
    assert seen["output_bits"] == pytest.approx(1e3 * 8)
    assert seen["deadline_s"] == pytest.approx(1.0)
    assert [seen["remote_s[0]"], seen["remote_s[1]"]] == pytest.approx([0.009, 0.009])
    # 20 ms to the edge, 30 ms more each way to the cloud
    assert [seen["round_trip_s[0]"], seen["round_trip_s[1]"]] == pytest.approx([0.020, 0.080])
    assert seen["uplink_bps[0]"] == pytest.approx(float(observed.uplink_bps[0]))
    assert [seen["in_system[0]"], seen["in_system[1]"]] == observed.in_system.tolist()
    assert batch.candidates[0].name == "edge"
    assert info["action_mask"].tolist() == [1, 1, 1]


def test_reset_with_a_seed_reproduces_the_trajectory() -> None:
    env = OffloadEnv("license-plate", SHORT)

    def trajectory(seed: int) -> list[tuple[list[float], float]]:
        obs, _ = env.reset(seed=seed)
        rng = np.random.default_rng(5)
        steps, done = [], False
        while not done:
            obs, reward, done, _, _ = env.step(int(rng.integers(3)))
            steps.append((obs.tolist(), reward))
        return steps

    first = trajectory(11)
    assert trajectory(11) == first
    assert trajectory(12) != first


def test_unseeded_resets_follow_the_first_seed() -> None:
    a, b = OffloadEnv("license-plate", SHORT), OffloadEnv("license-plate", SHORT)
    a.reset(seed=4)
    b.reset(seed=4)
    assert a.reset()[0].tolist() == b.reset()[0].tolist()


@pytest.mark.parametrize(("policy", "params", "groups"), [
    ("always_edge", {}, 8),
    ("queue_aware", {}, 8),
    ("random", {"p": 0.5}, 1),  # random draws its coins per block and group in simulate: one group, same order
])
def test_baseline_agents_through_the_env_equal_simulate(policy: str, params: dict[str, object], groups: int) -> None:
    scenario = scenario_from_dict(_plates([{"name": policy, "params": params}], groups))
    expected = simulate(scenario, seed=7)
    env = OffloadEnv(scenario)
    play(env, PolicyAgent(policy, params), seed=7)
    pd.testing.assert_frame_equal(_records(env.records()), _records(expected.records))
    assert env.summary() == expected.policies[policy]


def _task_costs(records: pd.DataFrame, end_s: float, drop_cost: float) -> tuple[float, float]:
    """Total latency (completed: to the result; in flight: to the horizon; dropped: ``drop_cost`` each) and energy
    of all tasks, recomputed from the records."""
    dropped = records["dropped"].to_numpy()
    done = records["completed_s"].notna().to_numpy() & ~dropped
    latency = (records["completed_s"] - records["created_s"]).to_numpy()[done].sum()
    latency += (end_s - records["created_s"].to_numpy()[~done & ~dropped]).sum() + drop_cost * dropped.sum()
    return float(latency), float(records["energy_j"].to_numpy()[~dropped].sum())


@pytest.mark.parametrize(("objective", "w_latency", "w_energy"), [("latency", 0.5, 0.5), ("weighted", 2.0, 0.25),
                                                                  ("energy", 0.5, 0.5)])
def test_the_return_is_minus_the_total_realised_cost(objective: str, w_latency: float, w_energy: float) -> None:
    env = OffloadEnv("license-plate", SHORT, objective=objective, w_latency=w_latency, w_energy=w_energy,
                     drop_cost=3.0)
    rng = np.random.default_rng(1)
    env.reset(seed=2)
    total, done, rewards = 0.0, False, []
    while not done:
        _, reward, done, _, _ = env.step(int(rng.integers(3)))
        rewards.append(reward)
        total += reward
    latency, energy = _task_costs(env.records(), 12.0, 3.0)
    dropped = int(env.records()["dropped"].sum())
    expected = {"latency": latency,
                "weighted": w_latency * latency + w_energy * energy - (w_latency - 1) * 3.0 * dropped,
                "energy": energy + 3.0 * dropped}[objective]
    assert -total == pytest.approx(expected, rel=1e-9)
    assert all(r <= 0 for r in rewards)
    assert rewards[0] == 0.0  # nothing has finished before the first decision is carried out


def test_a_world_built_in_code_and_sync_vector_env() -> None:
    from simulator.builders import s100_world

    env = OffloadEnv(s100_world(20, 2), duration_s=5.0, records=False)
    assert env.action_space.n == 3
    vector = gymnasium.vector.SyncVectorEnv([lambda: OffloadEnv("license-plate", SHORT, records=False)] * 2)
    obs, _ = vector.reset(seed=[1, 2])
    assert obs.shape == (2, 20)
    assert not np.array_equal(obs[0], obs[1])
    for _ in range(50):
        obs, rewards, _done, _, _ = vector.step(np.array([1, 0]))
        assert obs.shape == (2, 20)
        assert rewards.shape == (2,)


def test_step_after_the_end_asks_for_a_reset() -> None:
    env = OffloadEnv("license-plate", ["run.duration=3s", "run.warmup=1s"], records=False)
    env.reset(seed=0)
    done = False
    while not done:
        obs, _, done, _, _ = env.step(1)
    assert obs.tolist() == [0.0] * 20
    with pytest.raises(gymnasium.error.ResetNeeded):
        env.step(1)


@pytest.mark.parametrize("agents", ["group", "device"])
def test_the_parallel_env_passes_pettingzoo_api_test(agents: str) -> None:
    overrides = ["run.duration=4s", "run.warmup=1s", "devices[cameras1].count=3"]
    env = OffloadParallelEnv("license-plate", overrides, agents=agents)  # type: ignore[arg-type]
    parallel_api_test(env, num_cycles=100_000)
    assert len(env.possible_agents) == (8 if agents == "group" else 3 + 7 * 25)


def test_parallel_rewards_go_to_the_owner_and_sum_to_the_single_agent_return() -> None:
    parallel = OffloadParallelEnv("license-plate", SHORT)
    single = OffloadEnv("license-plate", SHORT, records=False)
    obs, infos = parallel.reset(seed=9)
    single.reset(seed=9)
    per_agent = dict.fromkeys(parallel.possible_agents, 0.0)
    total, done = 0.0, False
    while parallel.agents:
        acting = [a for a, info in infos.items() if info["acting"]]
        assert len(acting) == 1
        assert obs[acting[0]][0] == 1.0
        assert all(obs[a][0] == 0.0 for a in obs if a != acting[0])
        obs, rewards, _, _, infos = parallel.step(dict.fromkeys(parallel.agents, 2) | {acting[0]: 1})
        _, reward, done, _, _ = single.step(1)
        for agent, value in rewards.items():
            per_agent[agent] += value
        assert sum(rewards.values()) == pytest.approx(reward, abs=1e-9)
        total += reward
    assert done
    assert sum(per_agent.values()) == pytest.approx(total)
    assert all(value < 0 for value in per_agent.values())  # every group had tasks


def test_bad_arguments_are_errors_naming_them() -> None:
    from offload.errors import ParameterError
    from simulator.builders import s100_world

    with pytest.raises(ParameterError, match="objective='speed': must be one of latency, energy, weighted"):
        OffloadEnv("license-plate", SHORT, objective="speed")
    with pytest.raises(ParameterError, match="duration_s: is required with a World"):
        OffloadEnv(s100_world(10, 1))
    with pytest.raises(ParameterError, match="agents='cell': must be 'group' or 'device'"):
        OffloadParallelEnv("license-plate", SHORT, agents="cell")  # type: ignore[arg-type]
    assert math.isfinite(OffloadEnv("license-plate", SHORT).duration_s)
