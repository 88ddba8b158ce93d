# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 5. A learned offloading policy: tabular Q-learning through `mecsim/Offload-v0`
#
# **Question.** Can a small learned agent, trained in mecsim's simulator, match the hand-written queue-aware policy
# when the load on a shared edge changes over time, and how far is it from always sending frames to the edge?
#
# **Setup.** The licence-plate street (eight 5G CPEs, 25 Pi cameras each, one edge node at 9 ms per image, a cloud
# 30 ms further away) with a *rush hour*: each camera's rate of frames with a plate rises from 0.2/s to 0.8/s and
# falls back over the episode, so the edge (111 images/s) is comfortable at the start and end and overloaded in the
# middle. Arrivals come from trace files drawn here (a non-homogeneous Poisson process per camera, by thinning), one
# trace per seed. Each decision is a step of `mecsim/Offload-v0`; the reward is minus the realised cost
# (latency in seconds plus 0.05 per joule of camera energy) of the tasks that finished since the previous decision.
# The agent is tabular Q-learning on a discretised observation: the edge's backlog and the camera's uplink share.
# Set `MECSIM_FAST=1` for fewer and shorter episodes (the test suite does).

# %%
# %matplotlib inline
import os
import tempfile
from pathlib import Path

import gymnasium
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import yaml
from scipy import stats

import simulator.rl
from simulator.rl.agents import PolicyAgent
from simulator.scenario import resolve_scenario_path, scenario_from_dict

FAST = os.environ.get("MECSIM_FAST") == "1"
DURATION_S = 20.0 if FAST else 60.0
TRAIN_EPISODES = 3 if FAST else 40
TEST_SEEDS = [101, 102] if FAST else [101, 102, 103, 104, 105, 106]
REWARD = {"objective": "weighted", "w_latency": 1.0, "w_energy": 0.05}
BASE_RATE, PEAK_RATE = 0.2, 0.8  # frames with a plate per camera per second

base = yaml.safe_load(resolve_scenario_path("license-plate").read_text())
traces = Path(tempfile.mkdtemp(prefix="mecsim-rush-hour-"))


def rush_hour_trace(path: Path, cameras: int, seed: int) -> None:
    """Arrivals of ``cameras`` cameras whose rate follows 0.2 + 0.6 sin²(π t / T) per second (thinning)."""
    rng = np.random.default_rng(seed)
    rows = []
    for camera in range(cameras):
        times = np.sort(rng.uniform(0.0, DURATION_S, rng.poisson(PEAK_RATE * DURATION_S)))
        rate = BASE_RATE + (PEAK_RATE - BASE_RATE) * np.sin(np.pi * times / DURATION_S) ** 2
        kept = times[rng.random(times.size) < rate / PEAK_RATE]
        rows.append(pd.DataFrame({"timestamp_s": kept, "device": camera, "work_ops": 0.0,
                                  "input_bits": 300e3 * 8, "output_bits": 1e3 * 8}))
    pd.concat(rows).sort_values("timestamp_s").to_csv(path, index=False)


def rush_hour_env(seed: int, **reward) -> gymnasium.Env:
    """The street with a rush hour drawn from ``seed`` (one trace per CPE's cameras)."""
    data = dict(base, run={**base["run"], "duration": f"{DURATION_S} s", "warmup": "1 s", "replications": 1})
    groups = []
    for k, group in enumerate(base["devices"]):
        path = traces / f"rush-{seed}-{k}.csv"
        rush_hour_trace(path, group["count"], seed * 100 + k)
        groups.append(dict(group, workload={"kind": "trace", "file": str(path)}))
    data["devices"] = groups
    scenario = scenario_from_dict(data, source=f"rush hour {seed}")
    return gymnasium.make(simulator.rl.ENV_ID, scenario=scenario, **(reward or REWARD))


env = rush_hour_env(1)
names = env.unwrapped.observation_names
print(f"{env.observation_space.shape[0]} observed values, actions: {env.action_space}")
print("a first observation:", dict(zip(names, env.reset(seed=1)[0].round(4).tolist())))

# %% [markdown]
# **Discretisation.** The agent sees two numbers: the edge's backlog (`in_system[0]`, tasks waiting or in service)
# in bins 0, 1, 2, 3–4, 5–7, 8–12, 13–20, 21+, and the rate a new upload would get on the camera's CPE
# (`uplink_bps[0]`) in three bins. Action 0 runs on the Pi (13 s), 1 on the edge, 2 on the cloud.

# %%
BACKLOG = np.array([1, 2, 3, 5, 8, 13, 21])
UPLINK_BPS = np.array([10e6, 30e6])
BACKLOG_AT, UPLINK_AT = names.index("in_system[0]"), names.index("uplink_bps[0]")


def state(obs: np.ndarray) -> tuple[int, int]:
    return int(np.searchsorted(BACKLOG, obs[BACKLOG_AT], side="right")), \
        int(np.searchsorted(UPLINK_BPS, obs[UPLINK_AT], side="right"))


def train(episodes: int, alpha: float = 0.1, gamma: float = 0.95, epsilon: float = 0.1, seed: int = 0):
    """Tabular Q-learning, epsilon-greedy, one trace per episode; returns the table and each episode's return."""
    rng = np.random.default_rng(seed)
    q = np.zeros((BACKLOG.size + 1, UPLINK_BPS.size + 1, env.action_space.n))
    q[:, :, 0] = -20.0  # a pessimistic start for the Pi's 13 s (it is explored anyway)
    returns = []
    for episode in range(episodes):
        train_env = rush_hour_env(episode + 1)
        obs, _ = train_env.reset(seed=episode)
        s, total, done = state(obs), 0.0, False
        while not done:
            a = int(rng.integers(q.shape[2])) if rng.random() < epsilon else int(np.argmax(q[s]))
            obs, reward, done, _, _ = train_env.step(a)
            s2 = state(obs)
            target = reward + (0.0 if done else gamma * q[s2].max())
            q[s][a] += alpha * (target - q[s][a])
            s, total = s2, total + reward
        returns.append(total)
    return q, returns


q, returns = train(TRAIN_EPISODES)
print("learned action per backlog bin (rows) and uplink bin (columns):")
print(pd.DataFrame(q.argmax(axis=2), index=["0", "1", "2", "3-4", "5-7", "8-12", "13-20", "21+"],
                   columns=["<10 Mbps", "10-30 Mbps", ">=30 Mbps"]))

# %% [markdown]
# **Evaluation.** The greedy learned policy, always-edge and queue-aware (the built-in policy acting through the
# environment, `PolicyAgent`) on the same unseen rush hours; mean latency and energy per plate read with 95 %
# Student-t intervals over the test traces.

# %%
def evaluate(act, seed: int) -> dict[str, float]:
    test_env = rush_hour_env(seed)
    obs, _ = test_env.reset(seed=seed)
    done = False
    while not done:
        obs, _, done, _, _ = test_env.step(act(obs, test_env.unwrapped))
    summary = test_env.unwrapped.summary()
    return {"latency_s": summary.latency_s.mean_s, "energy_j": summary.energy_j_per_task,
            "offload": summary.offload_fraction}


edge_agent, queue_agent = PolicyAgent("always_edge"), PolicyAgent("queue_aware")
agents = {
    "learned (Q)": lambda obs, e: int(np.argmax(q[state(obs)])),
    "always-edge": lambda obs, e: edge_agent.act(e),
    "queue-aware": lambda obs, e: queue_agent.act(e),
}
rows = [{"policy": name, "seed": seed, **evaluate(act, seed)} for name, act in agents.items() for seed in TEST_SEEDS]
results = pd.DataFrame(rows)


def mean_ci(values: pd.Series) -> tuple[float, float]:
    half = stats.t.ppf(0.975, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size)
    return float(values.mean()), float(half)


table = pd.DataFrame({name: {f"{metric} (mean ± 95 % CI)": "{:.3g} ± {:.2g}".format(*mean_ci(group[metric]))
                             for metric in ("latency_s", "energy_j")}
                      for name, group in results.groupby("policy", sort=False)}).T
table

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
axes[0].plot(np.arange(1, len(returns) + 1), returns, marker="o")
axes[0].set_xlabel("training episode")
axes[0].set_ylabel("return (minus total cost)")
axes[0].set_title("Q-learning")
for ax, metric, label in ((axes[1], "latency_s", "mean latency [s]"), (axes[2], "energy_j", "energy per read [J]")):
    stats_ = [mean_ci(group[metric]) for _, group in results.groupby("policy", sort=False)]
    ax.bar(list(agents), [m for m, _ in stats_], yerr=[h for _, h in stats_], capsize=6,
           color=["tab:green", "tab:blue", "tab:orange"])
    ax.set_ylabel(label)
    ax.set_title(f"{label.split(' [')[0]} over {len(TEST_SEEDS)} rush hours (95 % CI)")
fig.tight_layout()

# %% [markdown]
# **What it shows.** Always-edge queues at the edge through the peak of the rush hour, so its mean latency is
# dominated by the overloaded middle of the episode. Queue-aware predicts each option's latency from the backlog it
# observes and sends frames to the cloud when the edge's queue would cost more than the 60 ms detour. The Q-learning
# agent sees only two binned numbers and learns from delayed, aggregated rewards (the realised cost of whichever
# tasks finished since its previous decision); the table of its greedy actions shows what it has learned so far —
# the edge at an empty backlog, the cloud more often as the backlog grows. In the fast run of the test suite (three
# short training episodes, two test traces) it already beats always-edge, but not queue-aware, and its intervals
# are wide; the full mode trains 40 one-minute rush hours and tests on six. Energy per read follows latency: the Pi
# idles while it waits for the answer, and a frame it reads itself costs 83 J.
