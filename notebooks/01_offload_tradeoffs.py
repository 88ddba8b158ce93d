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
# # 1. Offload trade-offs: when should a roadside camera send its frame to the edge?
#
# **Question.** A Raspberry Pi 4 camera needs 13 s to read a licence plate; an edge node needs 9 ms. When is
# shipping a 300 kB frame over the uplink worth it — for latency, for the camera's battery, for the energy of the
# whole system — and how do those answers move with the uplink, the frame size and the work per frame?
#
# **Setup.** Everything here is the closed-form cost model of `offload/` (no simulation): first the two rules of
# the seed article, then the full model (round trip, result download, idle power while waiting, two energy views),
# decision-region maps with break-even curves, and finally a weight sweep that traces a latency–energy Pareto front.
# Set `MECSIM_FAST=1` to run on coarse grids (the test suite does).

# %%
# %matplotlib inline
import os

import numpy as np
import pandas as pd

from offload import (
    Device,
    EnergyView,
    Link,
    Objective,
    Parameter,
    Preference,
    Server,
    Target,
    Task,
    decide,
    evaluate_costs,
    seed_energy_rule,
    seed_latency_rule,
    task_costs,
)
from matplotlib.figure import Figure

from simulator.plots import break_even_curve, decision_grid, decision_region_map, pareto_front, pareto_plot

FAST = os.environ.get("MECSIM_FAST") == "1"
GRID = 14 if FAST else 80  # points per axis of the decision maps
POPULATION = 300 if FAST else 20_000  # tasks in the weight sweep
WEIGHTS = 6 if FAST else 41

# %% [markdown]
# ## The seed's rules
#
# The seed article offloads when it is faster, `C/Pd > C/Pe + D/Bc` (rule 1), and when it saves energy,
# `C·Ed/Pd > C·Ee/Pe + D·Ec/Bc` (rule 2). With the demo's numbers (13 s on the Pi, 9 ms on the edge, 300 kB at
# 5 Mbit/s) rule 1 is a landslide. The full model adds a 20 ms round trip and a small result download; the offload
# latency becomes the 0.509 s that the decide command reports.

# %%
licence_plate = Task(input_bits=300e3 * 8, output_bits=2e3 * 8)
pi = Device(compute_time_s=13.0, compute_power_w=6.4, idle_power_w=2.7, tx_power_w=3.6, rx_power_w=3.2)
edge = Target("edge", Server(compute_time_s=0.009, compute_power_w=300.0),
              Link(uplink_bps=5e6, downlink_bps=20e6, rtt_s=0.02))

costs = task_costs(licence_plate, pi, [edge])
pd.DataFrame({
    "upload [s]": costs.upload_s[0], "round trip [s]": costs.round_trip_s[0], "compute [s]": costs.compute_s[0],
    "download [s]": costs.download_s[0], "latency [s]": costs.latency_s[0],
    "device energy [J]": costs.device_energy_j[0], "system energy [J]": costs.system_energy_j[0],
}, index=costs.options).round(4)

# %% [markdown]
# The seed rules are exact special cases of the full model: with no round trip, no result, no queueing and the
# system energy view, the decisions coincide on every one of a few thousand random tasks.

# %%
rng = np.random.default_rng(2020)
n = 2_000
C = rng.lognormal(np.log(1e10), 2.0, n)
D = rng.lognormal(np.log(2.4e6), 1.5, n)
Pd, Pe = rng.uniform(5e8, 3e9, n), rng.uniform(1e10, 5e12, n)
Bc = rng.lognormal(np.log(5e6), 1.5, n)
Ed, Ee, Ec = rng.uniform(2, 10, n), rng.uniform(50, 500, n), rng.uniform(0.5, 5, n)
seed_costs = evaluate_costs(local_compute_s=C / Pd, input_bits=D, output_bits=0.0, remote_compute_s=(C / Pe)[:, None],
                            uplink_bps=Bc[:, None], device_compute_power_w=Ed, tx_power_w=Ec,
                            server_compute_power_w=Ee[:, None])
latency_agrees = decide(seed_costs, Preference(Objective.LATENCY)).offloaded == seed_latency_rule(C, D, Pd, Pe, Bc)
energy_agrees = (decide(seed_costs, Preference(Objective.ENERGY, EnergyView.SYSTEM)).offloaded
                 == seed_energy_rule(C, D, Pd, Pe, Bc, Ed, Ee, Ec))
print(f"rule (1) agrees on {latency_agrees.mean():.1%} of tasks, rule (2) on {energy_agrees.mean():.1%}")

# %% [markdown]
# ## Decision regions for the licence-plate task
#
# Holding everything else at the demo's values, we vary the uplink and the frame size and colour each point by the
# option with the lowest latency. The solid line is the latency break-even uplink for each frame size; the dashed
# and dotted lines are the break-even points of the two energy views. The star is the demo.

# %%
uplink_bps = np.geomspace(1e4, 1e8, GRID)
input_bits = np.geomspace(8e3, 8e8, GRID)  # 1 kB .. 100 MB
latency_grid = decision_grid(licence_plate, pi, [edge], x_parameter=Parameter.UPLINK, x_values=uplink_bps,
                             y_parameter=Parameter.INPUT, y_values=input_bits)
views = {
    "latency": Preference(Objective.LATENCY),
    "device energy": Preference(Objective.ENERGY, EnergyView.DEVICE),
    "system energy": Preference(Objective.ENERGY, EnergyView.SYSTEM),
}
curves = {
    label: break_even_curve(licence_plate, pi, edge, x_parameter=Parameter.UPLINK, y_parameter=Parameter.INPUT,
                            y_values=input_bits, preference=preference)
    for label, preference in views.items()
}
figure = decision_region_map(latency_grid, curves, title="Licence plate: fastest option")
figure.axes[0].plot(5, 300, marker="*", color="black", markersize=14, linestyle="none")
figure

# %% [markdown]
# **What it shows.** Offloading wins everywhere to the right of a straight line of slope one: the break-even
# uplink is proportional to the frame size, `B* = D / (t_local − RTT − t_edge)`. For a 300 kB frame it is about
# 0.19 Mbit/s — 26 times below the demo's 5 Mbit/s — so real-time plate reading on the Pi alone is hopeless while a
# modest uplink makes it easy. The two energy break-even lines (almost on top of each other: the thin dotted
# system-energy line runs inside the dashed device-energy one) sit just left of the
# latency line — offloading saves energy at even lower uplinks — because the Pi burns 6.4 W for 13 s (83 J) per
# frame, far more than the radio or the edge spend.

# %% [markdown]
# ## Device versus system energy: two views that disagree
#
# Rule (2) of the seed charges the edge's compute energy (a system view); a battery-powered device only pays for
# its radio and for idling while it waits. With work in abstract operations (the Pi at 1.5 G ops/s, an edge
# server drawing 300 W) we map work × edge speed under each view.

# %%
pi_speed = Device(speed_ops_per_s=1.5e9, compute_power_w=6.4, idle_power_w=2.7, tx_power_w=3.6, rx_power_w=3.2)
plate_ops = Task(work_ops=13.0 * 1.5e9, input_bits=300e3 * 8, output_bits=2e3 * 8)
edge_speed = Target("edge", Server(speed_ops_per_s=1.5e9 * 1444, compute_power_w=300.0),
                    Link(uplink_bps=5e6, downlink_bps=20e6, rtt_s=0.02))
edge_speeds = np.geomspace(1e8, 1e13, GRID)
works = np.geomspace(1e7, 1e12, GRID)
figure = Figure(figsize=(12.0, 4.8), layout="constrained")
axes = figure.subplots(1, 2)
energy_grids = {}
for ax, label in zip(axes, ("device energy", "system energy"), strict=True):
    energy_grids[label] = decision_grid(plate_ops, pi_speed, [edge_speed], x_parameter=Parameter.EDGE_SPEED,
                                        x_values=edge_speeds, y_parameter=Parameter.WORK, y_values=works,
                                        preference=views[label])
    both = {
        other: break_even_curve(plate_ops, pi_speed, edge_speed, x_parameter=Parameter.EDGE_SPEED,
                                y_parameter=Parameter.WORK, y_values=works, preference=views[other])
        for other in ("device energy", "system energy")
    }
    decision_region_map(energy_grids[label], both, title=f"lowest {label}", ax=ax)
disagree = np.mean(energy_grids["device energy"].winner != energy_grids["system energy"].winner)
print(f"the two views disagree on {disagree:.0%} of the map")
figure

# %% [markdown]
# **What it shows.** The device view offloads as soon as the edge is roughly as fast as the Pi (the radio and the
# idle wait are cheap next to 6.4 W of compute); the system view offloads only when the edge is about
# `300 W / 6.4 W ≈ 47` times faster than the Pi, because every second of edge compute costs 300 W. Between the two
# vertical break-even lines lies a wide band where a battery-minded device offloads and the operator's energy bill
# rises. Tiny tasks (bottom) stay local in both views: the fixed transfer energy dominates.

# %% [markdown]
# ## Weighting latency against energy: a Pareto front
#
# A lighter plate detector runs in 0.4 s on the Pi. Now the trade-off is real: over a 5 Mbit/s uplink the edge is
# *slower* (0.51 s) but costs the camera less energy (1.8 J against 2.6 J). The camera's uplink varies as it
# serves a busy road (log-normal around 5 Mbit/s). For each weight `w_latency` (and `w_energy = 1 − w_latency`,
# both normalised by the local values) we decide every frame and record the mean latency and device energy.

# %%
rng = np.random.default_rng(7)
uplinks = rng.lognormal(np.log(5e6), 0.8, POPULATION)
light = evaluate_costs(local_compute_s=np.full(POPULATION, 0.4), input_bits=2.4e6, output_bits=1.6e4,
                       remote_compute_s=[0.009], uplink_bps=uplinks[:, None], downlink_bps=[20e6],
                       round_trip_s=[0.02], device_compute_power_w=6.4, idle_power_w=2.7, tx_power_w=3.6,
                       rx_power_w=3.2, server_compute_power_w=[300.0], target_names=["edge"])
rows = []
for w in np.linspace(0.0, 1.0, WEIGHTS):
    preference = Preference(Objective.WEIGHTED, EnergyView.DEVICE, w_latency=w, w_energy=1.0 - w, normalise=True)
    decision = decide(light, preference)
    rows.append({"w_latency": round(float(w), 3), "latency_s": decision.chosen(light.latency_s).mean(),
                 "energy_j": decision.chosen(light.device_energy_j).mean(),
                 "offloaded": decision.offloaded.mean()})
sweep = pd.DataFrame(rows)
print(sweep.iloc[[0, -1]].to_string(index=False))
figure = pareto_plot(sweep, x_column="latency_s", y_column="energy_j", label_column="w_latency",
                     x_label="mean latency per frame [s]", y_label="mean device energy per frame [J]",
                     title="Light detector: latency–energy front (labels: w_latency)")
print(f"{pareto_front(sweep[['latency_s', 'energy_j']].to_numpy()).sum()} of {len(sweep)} weights on the front")
figure

# %% [markdown]
# **What it shows.** Pure latency (`w_latency = 1`) offloads only the frames whose uplink is fast enough to
# beat 0.4 s (a bit over a third); pure energy offloads every frame whose upload costs less than the 2.6 J of local
# compute (about two thirds). In between, the weight decides frame by frame using the current uplink, so the mixed
# policies trace a smooth front — roughly 10 % of latency traded for 10 % of battery — instead of jumping between
# the two extremes: a designer picks the battery life they need and reads off the latency it costs.
#
# ## Take-aways
# 1. For the real licence-plate model the question is settled by three orders of magnitude: offload whenever the
#    uplink exceeds ~0.19 Mbit/s.
# 2. Whose energy counts changes the answer over a wide range of edge speeds; state the view.
# 3. When local and edge are close, the weighted, normalised objective turns the choice into a tunable front.
# Queueing at a shared edge — ignored here — is the subject of notebook 2.
