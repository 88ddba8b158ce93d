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
# # 4. Research models: offloading games, selfish load splits, online control, partial offloading
#
# **Question.** The offload literature since 2016 builds on a handful of models beyond "all local or all remote
# for one task": many users competing for the same radio, selfish tasks sharing an edge queue, battery-powered
# devices deciding slot by slot, and tasks that can be cut in two. What do those models predict, and do we
# reproduce the published results?
#
# **Setup.** Every model is a pure function in `offload/` (numpy/scipy only), checked in the test suite against a
# closed form, a brute force or the paper's result; figures come from `simulator.plots`. Set `MECSIM_FAST=1` for
# smaller grids (the test suite does).

# %%
# %matplotlib inline
import os

import numpy as np
import pandas as pd

from offload.game import OffloadGame, best_response_dynamics, path_loss_gain, solve_exhaustive
from offload.lodco import HarvestingDevice, perturbation_j, run_lodco
from offload.wardrop import wardrop_split
from simulator.plots.research import beneficial_users_plot, lyapunov_tradeoff_plot, wardrop_plot

FAST = os.environ.get("MECSIM_FAST") == "1"
SEEDS = 2 if FAST else 10

# %% [markdown]
# ## Multi-user offloading game (Chen, Jiao, Li, Fu, IEEE/ACM ToN 2016)
#
# N users in a 50 m cell share M orthogonal 5 MHz channels (noise −100 dBm, 100 mW transmit power, path loss
# exponent 4). Each wants to run a 1000-Megacycle task (the paper's face-recognition setting, with a 100 kB input
# instead of 5000 kB so that several users can share a channel) on its 0.5–1 GHz CPU or on a 100 GHz cloud, and
# minimises its own time + energy overhead. The uplink rate of a user falls with the interference of everyone else
# on its channel, so offloading pays only while few others do. Best-response dynamics (one improving user at a
# time, the paper's Algorithm 1) reach a pure Nash equilibrium because the game has a potential that every
# improvement lowers.


# %%
def paper_game(users: int, channels: int, seed: int) -> OffloadGame:
    rng = np.random.default_rng(seed)
    return OffloadGame(gain=path_loss_gain(rng.uniform(1.0, 50.0, users)), tx_power_w=0.1, input_bits=100e3 * 8,
                       work_ops=1000e6, device_speed_ops_per_s=rng.choice([0.5e9, 0.8e9, 1e9], users),
                       compute_power_w=0.5, time_weight=1.0, energy_weight=1.0, tail_energy_j=0.0,
                       channels=channels, bandwidth_hz=5e6, noise_w=1e-13, cloud_speed_ops_per_s=100e9)


users_grid = [2, 5, 10, 20, 40] if FAST else [2, 5, 10, 15, 20, 30, 40, 50, 70, 100]
rows = []
for channels in (1, 3, 5):
    for users in users_grid:
        counts = [best_response_dynamics(paper_game(users, min(channels, users), seed)).beneficial_users
                  for seed in range(SEEDS)]
        rows.append({"channels": channels, "users": users, "beneficial_users": np.mean(counts)})
beneficial = pd.DataFrame(rows)
beneficial_users_plot(beneficial)

# %% [markdown]
# **What it shows.** As in the paper's Fig. 7, the number of *beneficial cloud users* (offloading users whose
# overhead is below local execution) first grows with N and then saturates: once a channel carries a few nearby
# transmitters, a further offloader would cost more than computing locally. More channels raise the plateau.
#
# On small instances we can enumerate every decision profile: all pure equilibria, the social optimum and the
# price of anarchy (the worst equilibrium's total overhead over the optimum's).

# %%
rows = []
for seed in range(SEEDS + 3):
    game = paper_game(7, 2, seed)
    exhaustive = solve_exhaustive(game)
    reached = best_response_dynamics(game, rng=np.random.default_rng(seed))
    rows.append({"seed": seed, "equilibria": len(exhaustive.equilibria),
                 "dynamics_total": reached.total_overhead, "optimum_total": exhaustive.optimal_overhead,
                 "price_of_anarchy": exhaustive.price_of_anarchy, "updates": reached.updates})
pd.DataFrame(rows).round(3)

# %% [markdown]
# The equilibria are close to the optimum (price of anarchy near 1, as the paper reports for its instances), and
# the dynamics converge in a handful of updates per user. `mecsim game scenarios/games/chen-small.yaml
# --exhaustive` does the same from a file.
#
# ## Selfish vs social load split: local queues and a shared edge (Wardrop)
#
# Ten devices each produce 1 task/s; a device runs tasks on its own M/M/1 queue (1.5 tasks/s) or sends them, 50 ms
# away, to one shared M/M/1 edge server. Selfish tasks (a Wardrop equilibrium) go wherever the delay is lower; the
# social optimum minimises the mean delay, equalising *marginal* delays instead. How much does selfishness cost as
# the edge gets faster?

# %%
rows = []
for edge_rate in np.linspace(10.2, 20.0, 8 if FAST else 30):
    split = wardrop_split(1.0, 1.5, float(edge_rate), 10, 0.05)
    rows.append({"edge service rate [tasks/s]": edge_rate, "selfish_s": split.selfish.mean_delay_s,
                 "social_s": split.social.mean_delay_s, "price_of_anarchy": split.price_of_anarchy,
                 "selfish_edge_fraction": split.selfish.edge_fraction,
                 "social_edge_fraction": split.social.edge_fraction})
wardrop = pd.DataFrame(rows)
wardrop_plot(wardrop, load_column="edge service rate [tasks/s]")

# %% [markdown]
# **What it shows.** When the edge is barely faster than needed, selfish tasks all pile onto it (each sees a shorter
# delay than at home) and congest it; the optimum keeps part of the load local. The gap is largest when the edge is
# just able to take everything, and vanishes as the edge becomes fast enough that sending everything is optimal.
#
# ## Online control of an energy-harvesting device (LODCO; Mao, Zhang, Letaief, IEEE JSAC 2016)
#
# A device powered by a small harvester gets a 737.5 k-cycle task with probability 0.6 in every 2 ms slot. It can run
# it at any DVFS frequency up to 1.5 GHz, offload it over a Rayleigh-fading 1 MHz channel at any power up to 1 W, or
# drop it at a 2 ms penalty. LODCO decides slot by slot from what it sees now (battery, channel, harvest): it
# minimises `V·cost − (B − θ)·energy`, with a closed-form frequency and a one-dimensional root for the power. The
# knob V trades cost against the battery the controller keeps (θ grows with V); runs start at that operating
# point so that short runs show the steady state.

# %%
device = HarvestingDevice()  # the paper's Sec. VI parameters
slots = 1500 if FAST else 20_000
rows = []
for v in [1e-6, 1e-5, 1e-4, 1e-3] if FAST else [1e-6, 3e-6, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3]:
    run = run_lodco(device, v, slots, np.random.default_rng(1), initial_battery_j=perturbation_j(device, v))
    rows.append({"V": v, "cost": run.average_cost_s * 1e3, "battery_j": run.average_battery_j,
                 "drop_ratio": run.drop_ratio})
lodco = pd.DataFrame(rows)
figure = lyapunov_tradeoff_plot(lodco)
figure.axes[0].set_ylabel("average cost per slot [ms]", color="tab:blue")
figure

# %% [markdown]
# **What it shows.** The cost falls quickly towards its floor (about 0.18 ms per slot here, almost no drops) as
# V grows — the O(1/V) gap of the paper's Theorem 2 — while the battery level the controller holds grows
# linearly with V. A small V keeps little energy in reserve and pays with dropped tasks.
#
# ## Partial offloading, DNN split points and DVFS
#
# A task need not go entirely one way: a divisible task can run a fraction λ remotely while the rest runs locally,
# a deep network can be cut after any layer (Neurosurgeon, Kang et al., ASPLOS 2017), and the device can scale its
# clock (DVFS, energy κ·C·f² against time C/f). This section compares these finer-grained decisions with the
# all-or-nothing choice of notebook 1.

# %%
from offload.dvfs import dvfs_energy_j, dvfs_optimal_speed_ops_per_s
from offload.partial import energy_optimal_split, latency_optimal_split, partial_latency_s
from offload.split import SplitLink, best_split, split_costs
from simulator.dnn.profile import layer_profile, read_profile
from simulator.plots.split import split_latency_plot

# %% [markdown]
# ### Partial offloading (Wang et al., IEEE TCOM 2016)
#
# A 2-Gcycle task with a 200 kB input: 2 s on the device's 1 GHz CPU, 0.1 s on a 20 GHz edge, 20 ms round trip.
# Sending a fraction λ costs λ of the upload and of the remote compute; the two shares run in parallel. The latency
# optimum balances the two branches, `λ* = (t_local − t_fixed) / (t_local + t_remote)`; we check it against a
# 2001-point grid. The energy optimum under a 1 s deadline uses a DVFS device (`E = κ C f²`, κ = 1e-27, so the
# whole task costs 2 J at 1 GHz): its local share runs at the slowest clock that meets the deadline, and the optimum
# `1 − λ* = sqrt((e_remote − e_local) / (3 κ C³ / T²))` is clipped to the fractions the deadline allows.

# %%
work_ops, input_bits, kappa_j_s2, deadline_s = 2e9, 200e3 * 8, 1e-27, 1.0
uplinks_bps = np.geomspace(1e6, 100e6, 6 if FAST else 12)
local_s = work_ops / 1e9
remote_s = input_bits / uplinks_bps + work_ops / 20e9
fixed_s = 0.02
radio_j = 1.0 * input_bits / uplinks_bps  # 1 W radio while sending the whole input
fastest = latency_optimal_split(local_s=local_s, remote_s=remote_s, fixed_s=fixed_s)
grid = np.linspace(0.0, 1.0, 2001)
grid_best = [grid[np.argmin(partial_latency_s(grid, local_s, r, fixed_s))] for r in remote_s]
frugal = energy_optimal_split(local_s=local_s, remote_s=remote_s, fixed_s=fixed_s, deadline_s=deadline_s,
                              remote_energy_j=radio_j, fixed_energy_j=0.1, work_ops=work_ops, kappa_j_s2=kappa_j_s2)
pd.DataFrame({"uplink [Mbps]": uplinks_bps / 1e6, "latency-optimal λ": fastest.fraction,
              "grid λ": grid_best, "latency [s]": fastest.latency_s, "energy-optimal λ (T ≤ 1 s)": frugal.fraction,
              "energy [J]": frugal.energy_j, "feasible": frugal.feasible,
              "all local [s]": local_s, "all offloaded [s]": remote_s + fixed_s}).round(4)

# %% [markdown]
# **What it shows.** Even on a 1 Mbps uplink, where sending everything would take 1.7 s, half the task is worth
# sending: the latency-optimal split balances the branches, and λ grows towards 1 with the uplink (the grid agrees
# to its step). Neither extreme meets the 1 s deadline on the slowest uplinks, the split does. The energy optimum
# sends more than the latency optimum: the local share, stretched to the deadline by DVFS, costs energy in the cube
# of its size, so trimming it pays until the radio's (linear) cost per unit catches up.
#
# ### DVFS: the slowest clock that meets the deadline
#
# `E = κ C f²` grows with the clock and `T = C / f` shrinks, so the energy-optimal frequency is `C / T`, clipped to
# the device's range (here 0.2–2 GHz).

# %%
deadlines_s = np.array([0.8, 1.0, 2.0, 5.0, 20.0])
speed, meets = dvfs_optimal_speed_ops_per_s(work_ops, deadlines_s, 2e9, 0.2e9)
pd.DataFrame({"deadline [s]": deadlines_s, "clock [GHz]": speed / 1e9, "meets deadline": meets,
              "energy [J]": dvfs_energy_j(work_ops, speed, kappa_j_s2),
              "at 2 GHz [J]": dvfs_energy_j(work_ops, 2e9, kappa_j_s2)}).round(3)

# %% [markdown]
# ### Where to cut a DNN (Neurosurgeon, Kang et al., ASPLOS 2017)
#
# AlexNet's per-layer profile is derived from its published layer shapes (`simulator/dnn/zoo.py`; 724 M
# multiply-accumulates in total, as published). Layer times come from a roofline, `max(ops / peak, bytes / memory
# bandwidth)`, on a low-end device (10 GFLOPS, 1 GB/s: its fully connected layers, which stream about 230 MB of weights,
# are memory-bound) and a 10 TFLOPS edge GPU, 20 ms round trip. The classic figure: latency of each split point, one line per uplink
# (★ the best). Early convolutions produce tensors larger than the input, so cutting there never pays; the
# paper's finding is that the best split moves from all-local to full offload as bandwidth grows.

# %%
alexnet = layer_profile(read_profile("alexnet"), device_speed_ops_per_s=10e9, edge_speed_ops_per_s=10e12,
                        device_memory_bps=8e9)
figure_uplinks = np.array([1e6, 8e6, 50e6, 500e6])
table = split_costs(alexnet, SplitLink(figure_uplinks, figure_uplinks, 0.02))
split_latency_plot(table.after, table.latency_s, figure_uplinks.tolist(), title="AlexNet: latency per split point")

# %%
sweep_bps = np.geomspace(1e5, 1e9, 9 if FAST else 25)
best = best_split(alexnet, SplitLink(sweep_bps, sweep_bps, 0.02))
moves = pd.DataFrame({"uplink [Mbps]": sweep_bps / 1e6, "best split after": np.array(best.after)[best.index],
                      "latency [ms]": best.value * 1e3})
assert (np.diff(best.index) <= 0).all()  # the best split only moves towards the input as the uplink grows
moves.round(2)

# %% [markdown]
# **What it shows.** Below ~2 Mbps AlexNet runs entirely on the device; around 2–8 Mbps the best cut is after
# `pool5`: the device runs the convolutions and sends a 36 kB tensor, leaving the memory-bound fully connected
# layers to the edge; above ~10 Mbps sending the 154 kB input wins. The best split moves monotonically towards the
# input as bandwidth grows, as Neurosurgeon reports.
