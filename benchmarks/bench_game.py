"""Best-response dynamics of the multi-user offloading game (Chen et al., IEEE/ACM ToN 2016) on N = 1,000 users and
M = 10 channels, in one run and on one core:

  * ``offload.game.best_response_dynamics``: per-channel received power kept up to date (only the two channels a
    move touches are re-summed), best responses in ``O(N + M)`` per update from the two least loaded channels;
  * the baseline: the same dynamics recomputing every user's interference on every channel from the paper's sum
    over the other users at every update (``O(N^2 M)`` per update, as a matrix product).

Both pick the same improver (lowest index), so they must reach the same equilibrium in the same number of updates;
the script checks it. Reported: CPU seconds, updates, and the ratio.

Usage: OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 python benchmarks/bench_game.py [--users N] [--channels M] [--seed S]
(one BLAS thread keeps the baseline's matrix product on one core; with more threads the ratio only grows).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from offload.game import OffloadGame, best_response_dynamics, interference_threshold_w, path_loss_gain


def make_game(users: int, channels: int, seed: int) -> OffloadGame:
    """Chen et al.'s Sec. VI setting (50 m cell, 5 MHz channels, -100 dBm, 100 mW, 1000 Megacycles) with a 100 kB
    task, so that a good share of the users offload."""
    rng = np.random.default_rng(seed)
    return OffloadGame(gain=path_loss_gain(rng.uniform(1.0, 50.0, users)), tx_power_w=0.1, input_bits=100e3 * 8,
                       work_ops=1000e6, device_speed_ops_per_s=rng.choice([0.5e9, 0.8e9, 1e9], users),
                       compute_power_w=0.5, time_weight=1.0, energy_weight=1.0, tail_energy_j=0.0,
                       channels=channels, bandwidth_hz=5e6, noise_w=1e-13, cloud_speed_ops_per_s=100e9)


def recompute_dynamics(game: OffloadGame, initial: np.ndarray) -> tuple[np.ndarray, int]:
    """The baseline: every update recomputes ``sum_{m != n, a_m = c} P_m g_m`` for every user n and channel c, then
    takes the same best responses (lowest interference, local worth its threshold ``T_n``) with the same rule."""
    choice = initial.copy()
    others = np.where(np.eye(game.users, dtype=bool), 0.0, game.received_w[None, :])
    threshold = interference_threshold_w(game)
    channels = np.arange(1, game.channels + 1)
    users = np.arange(game.users)
    updates = 0
    while True:
        seen = others @ (choice[:, None] == channels).astype(np.float64)
        value = np.concatenate([threshold[:, None], seen], axis=1)
        current = value[users, choice]
        movers = np.flatnonzero(value.min(axis=1) < current - 1e-12 * (np.abs(current) + game.noise_w))
        if not movers.size:
            return choice, updates
        choice[movers[0]] = int(np.argmin(value[movers[0]]))
        updates += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--channels", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    game = make_game(args.users, args.channels, args.seed)
    starts = {"all local": np.zeros(args.users, dtype=np.int64),
              "random": np.random.default_rng(args.seed).integers(0, args.channels + 1, args.users)}
    print(f"offloading game: {args.users} users, {args.channels} channels (CPU seconds, one core)")
    for label, initial in starts.items():
        t0 = time.process_time()
        result = best_response_dynamics(game, initial)
        fast_s = time.process_time() - t0
        t0 = time.process_time()
        decision, updates = recompute_dynamics(game, initial)
        slow_s = time.process_time() - t0
        assert updates == result.updates, "trajectories differ"
        assert np.array_equal(decision, result.decision), "equilibria differ"
        print(f"  start {label:<9}: {result.updates:5d} updates, {result.beneficial_users:4d} offloading | "
              f"incremental {fast_s:7.3f} s ({1e6 * fast_s / max(result.updates, 1):6.0f} us/update) | "
              f"recompute {slow_s:7.3f} s | ratio {slow_s / fast_s:5.1f}x")


if __name__ == "__main__":
    main()
