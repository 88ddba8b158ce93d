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
# # 6. Users who move: should the service follow them?
#
# **Question.** Pedestrians and drivers in Melbourne's CBD run an AR assistant that sends a frame a second to the
# edge. As they walk and drive, their phones hand over from cell to cell, and a replica placed near them a minute
# ago is now a few hops away. Is it worth moving the service with them — migrating each user's session to the new
# cell's MEC server (follow-me), or periodically re-placing a few shared replicas on where the users are now — and
# when does a migration pay for the copy and the downtime it costs?
#
# **Setup.** The bundled `melbourne-mobile` scenario: the 40 EUA base-station sites of the CBD (Lai et al., ICSOC
# 2018), each with a one-worker MEC server, 60 pedestrians (1.0–1.6 m/s) and 30 vehicles (18–40 km/h) moving by
# random waypoint from shipped user locations, attaching to the nearest site (a 30 ms interruption per handover).
# The AR session holds 50 MB of state; a live migration copies it over the backhaul and stops for 0.5 s. Three
# strategies run on the same trajectories and frames (paired): `static` (5 replicas placed once), `follow-me`
# (one session per user, migrating after every handover) and `re-placed` (5 replicas re-placed every minute,
# make-before-break). Set `MECSIM_FAST=1` for shorter runs (the test suite does).

# %%
# %matplotlib inline
import os

import pandas as pd

from simulator.plots import latency_vs_load, trajectories
from simulator.scenario import load_scenario, simulate

FAST = os.environ.get("MECSIM_FAST") == "1"
# The bundled run lasts 10 minutes and detects its warm-up (MSER: 150 s while the users spread from their starts).
# The 13 runs here share one fixed warm-up, so that their latencies are measured over the same window.
DURATION, WARMUP = ("90 s", "20 s") if FAST else ("10 min", "150 s")

scenario = load_scenario("melbourne-mobile", [f"run.duration={DURATION}", f"run.warmup={WARMUP}"])
result = simulate(scenario)

# %% [markdown]
# ## Three strategies side by side
#
# Latency of a frame (upload, queue and compute at the serving replica, answer back), and what each strategy did:
# handovers per device-hour (the same for all three: the trajectories are shared), session migrations with the
# seconds they took, and re-placements with the replicas moved.

# %%
latency = pd.DataFrame([{"policy": name, "mean_ms": 1e3 * summary.latency_s.mean_s,
                         "p95_ms": 1e3 * summary.latency_s.p95_s, "deadline_miss_rate": summary.deadline_miss_rate}
                        for name, summary in result.policies.items()]).set_index("policy")
moves = (result.mobility.groupby("policy", sort=False)
         .agg(handovers_per_hour=("handovers_per_hour", "mean"), migrations=("migrations", "sum"),
              migration_s=("migration_s", "sum"), replicas_moved=("replicas_moved", "max")))
# sessions migrate per group (summed); re-placements move the service's replicas, which every group's row repeats
latency.join(moves).round(3)

# %% [markdown]
# **What it shows — read with care.** `follow-me` is much faster than `static`, but most of that gap is not
# mobility: follow-me gives each of the 90 users a session on the MEC server of its own cell, spreading the load
# over all 40 one-worker servers, while `static` and `re-placed` share 5 replicas, where frames queue. Re-placing
# those 5 replicas every minute on where the users are now helps by a few milliseconds only: they stay 5. To
# isolate what following is worth, run follow-me's sessions with migration `never` (each session stays at the
# user's first cell):

# %%
FOLLOW_ONLY = ["policies=[{name: always_edge, label: follow-me}]", "replacements=[]", f"run.duration={DURATION}",
               f"run.warmup={WARMUP}"]


def follow_me(*overrides: str) -> dict[str, float]:
    """Mean and p95 latency (ms) and migrations of the follow-me sessions under ``overrides``."""
    run = simulate(load_scenario("melbourne-mobile", [*FOLLOW_ONLY, *overrides]))
    summary = run.policies["follow-me"]
    return {"migrations": int(run.mobility["migrations"].sum()), "mean_latency_ms": 1e3 * summary.latency_s.mean_s,
            "p95_latency_ms": 1e3 * summary.latency_s.p95_s}


never = follow_me("migration.policy=never")
pd.DataFrame({"never migrate": never, "follow every handover": follow_me()}).T.round(2)

# %% [markdown]
# Sessions that never move are no slower than sessions that follow their users. In the CBD every site is at most
# two backhaul hops (through the metro data centre, 10 Gbit/s links) from any other, so a session left behind
# costs each frame a millisecond or two, while each migration stops the session for 0.5 s and the frames sent
# meanwhile wait. Following pays only when a migration is cheap — a shorter downtime — or staying behind is
# expensive (a slower, longer backhaul):

# %%
downtimes_ms = [0, 100, 250, 500]
cost = pd.DataFrame([{"downtime_ms": ms, "policy": "follow", **follow_me(f"migration.downtime={ms}ms")}
                     for ms in downtimes_ms]
                    + [{"downtime_ms": ms, "policy": "never", **never} for ms in downtimes_ms])
latency_vs_load(cost, load_column="downtime_ms", value_column="mean_latency_ms",
                load_label="migration downtime [ms]", value_label="mean latency [ms]", log_y=False,
                title="Follow-me against its migration downtime")

# %% [markdown]
# ## Where the users go

# %%
trajectories(result.motion.tracks, result.motion.cells)

# %% [markdown]
# Pedestrians (short tracks) stay within a cell or two over the run; vehicles cross the CBD and hand over every
# few tens of seconds. Latency against speed shows who pays for following: under follow-me, the faster a user, the
# more handovers, the more often its session is migrating and its frames wait out the downtime. Under the shared
# replicas, speed matters little next to the queueing at the five replicas.

# %%
by_speed = result.latency_by_speed().assign(
    speed_mps=lambda t: (t["speed_lo_mps"] + t["speed_hi_mps"]) / 2,
    label=lambda t: t["policy"].astype(str) + " / " + t["group"].astype(str))
latency_vs_load(by_speed, load_column="speed_mps", value_column="mean_latency_s", policy_column="label",
                load_label="device speed [m/s]", value_label="mean latency [s]", log_y=False,
                title="Mean latency against speed")

# %% [markdown]
# ## When does a migration pay?
#
# The `threshold` policy migrates a session only when the latency it expects to save over a horizon `H`, at the
# user's request rate λ, exceeds the migration's cost: `λ · H · (RTT_old − RTT_new) > state / bandwidth + downtime`.
# Here λ = 1 frame/s and the cost is 50 MB over a 10 Gbit/s backhaul plus 0.5 s, that is 0.54 s, while a handover
# to a neighbouring cell leaves the session one or two backhaul hops away: a round trip longer by about a
# millisecond. So migrating pays only for horizons of several hundred seconds and more. We sweep `H` on the
# follow-me sessions alone:

# %%
cost_s = 50e6 * 8 / 10e9 + 0.5
horizons_s = [30, 150, 300, 1000, 3000]
rows = [{"migration": "never", "horizon_s": None, **never}]
rows += [{"migration": f"threshold {h} s", "horizon_s": h,
          **follow_me("migration.policy=threshold", f"migration.horizon={h}s")} for h in horizons_s]
sweep = pd.DataFrame(rows).set_index("migration")
print(f"migration cost {cost_s:.2f} s: break-even horizon {cost_s / 1e-3:.0f} s for a 1 ms gain at 1 frame/s")
sweep.round(2)

# %%
curve = sweep.dropna(subset=["horizon_s"]).assign(policy="threshold")
figure = latency_vs_load(curve.reset_index(), load_column="horizon_s", value_column="mean_latency_ms",
                         markers={"break-even for a 1 ms gain": cost_s / 1e-3}, load_label="horizon H [s]",
                         value_label="mean latency [ms]", log_y=False,
                         title="Threshold migration: latency against horizon")
figure.axes[0].set_xscale("log")
figure

# %% [markdown]
# **What it shows.** Below the break-even the policy finds no migration worth 0.54 s and behaves like `never` —
# here the best choice. Past it, migrations switch on and latency rises towards `follow`. The horizon to use is how
# long a user will stay near the new cell: a pedestrian crosses a 200 m cell at 1.3 m/s in about 150 s, a vehicle
# in about 30 s, both well below the break-even, so the threshold rule with `H` set to the expected dwell time
# correctly declines to migrate in this city. With a slower or longer backhaul (a regional network, a session
# left behind costing tens of milliseconds per frame) the same rule migrates, and following pays (Machen et al.,
# "Live Service Migration in Mobile Edge Clouds", IEEE Wireless Communications 25(1), 2018; T. Taleb and A. Ksentini,
# "Follow Me Cloud: Interworking Federated Clouds and Distributed Mobile Networks", IEEE Network 27(5), 2013).
