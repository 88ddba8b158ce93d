"""The multi-user offloading game (Chen, Jiao, Li, Fu, IEEE/ACM ToN 2016) against independent computations: the
paper's formulas written out per user in plain Python, brute-force enumeration of every decision profile, the
potential's defining property, Lemma 2's threshold and the paper's "beneficial users saturate" result."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from offload.errors import ParameterError
from offload.game import (
    OffloadGame,
    beneficial_users,
    best_response_dynamics,
    interference_threshold_w,
    is_nash,
    local_overhead,
    offload_overhead,
    overheads,
    path_loss_gain,
    potential,
    solve_exhaustive,
)


def paper_game(n: int, channels: int, seed: int = 1, data_bits: float = 5000e3 * 8) -> OffloadGame:
    """Users placed uniformly in a 50 m cell with the parameters of Chen et al., Sec. VI."""
    rng = np.random.default_rng(seed)
    return OffloadGame(gain=path_loss_gain(rng.uniform(1.0, 50.0, n)), tx_power_w=0.1, input_bits=data_bits,
                       work_ops=1000e6, device_speed_ops_per_s=rng.choice([0.5e9, 0.8e9, 1e9], n),
                       compute_power_w=0.5, time_weight=rng.choice([0.0, 0.5, 1.0], n), energy_weight=1.0,
                       tail_energy_j=0.0, channels=channels, bandwidth_hz=5e6, noise_w=1e-13,
                       cloud_speed_ops_per_s=100e9)


def direct_costs(game: OffloadGame, decision: tuple[int, ...]) -> list[float]:
    """Eqs. (1), (4) and (7) of the paper, one user at a time."""
    costs = []
    for n, channel in enumerate(decision):
        speed, work = float(game.device_speed_ops_per_s[n]), float(game.work_ops[n])
        lt, le, power = float(game.time_weight[n]), float(game.energy_weight[n]), float(game.tx_power_w[n])
        if channel == 0:
            costs.append(lt * work / speed + le * float(game.compute_power_w[n]) * work / speed)
            continue
        interference = sum(float(game.tx_power_w[m] * game.gain[m]) for m, other in enumerate(decision)
                           if m != n and other == channel)
        rate = game.bandwidth_hz * math.log2(1 + power * float(game.gain[n]) / (game.noise_w + interference))
        upload = float(game.input_bits[n]) / rate
        costs.append(lt * (upload + work / game.cloud_speed_ops_per_s) + le * (power * upload
                                                                           + float(game.tail_energy_j[n])))
    return costs


def brute_force(game: OffloadGame) -> tuple[set[tuple[int, ...]], float]:
    """Every pure equilibrium (no user gains by a unilateral switch) and the optimal total cost."""
    options = range(game.channels + 1)
    equilibria, best = set(), math.inf
    for profile in itertools.product(options, repeat=game.users):
        costs = direct_costs(game, profile)
        best = min(best, sum(costs))
        stable = all(direct_costs(game, (*profile[:n], c, *profile[n + 1:]))[n] >= costs[n] * (1 - 1e-9)
                     for n in range(game.users) for c in options)
        if stable:
            equilibria.add(profile)
    return equilibria, best


def test_overheads_match_the_papers_formulas_user_by_user() -> None:
    game = paper_game(9, 3, seed=4)
    decision = (0, 1, 1, 2, 3, 3, 3, 0, 2)
    assert overheads(game, np.array(decision)) == pytest.approx(direct_costs(game, decision), rel=1e-12)


def test_threshold_of_lemma_2_is_where_offloading_costs_as_much_as_local() -> None:
    game = paper_game(30, 3, seed=2)
    threshold = interference_threshold_w(game)
    useful = threshold > 0
    assert useful.any()
    at = offload_overhead(game, np.where(useful, threshold, 0.0))
    assert at[useful] == pytest.approx(local_overhead(game)[useful], rel=1e-9)


def test_user_who_never_gains_from_offloading_gets_the_limit_threshold() -> None:
    game = OffloadGame(gain=[1e-6, 1e-6], tx_power_w=0.1, input_bits=1e6, work_ops=1e6, device_speed_ops_per_s=1e9,
                       compute_power_w=0.5, time_weight=1.0, energy_weight=0.0, tail_energy_j=0.0, channels=1,
                       bandwidth_hz=1e6, noise_w=1e-13, cloud_speed_ops_per_s=1e3)  # cloud slower than the device
    assert interference_threshold_w(game) == pytest.approx([-1e-13, -1e-13])
    assert best_response_dynamics(game).decision.tolist() == [0, 0]


@pytest.mark.parametrize(("n", "channels", "seed"), [(5, 2, 1), (6, 2, 3), (4, 3, 5), (7, 1, 8), (5, 3, 13)])
def test_exhaustive_search_finds_exactly_the_brute_force_equilibria_and_optimum(n: int, channels: int,
                                                                              seed: int) -> None:
    game = paper_game(n, channels, seed=seed, data_bits=500e3 * 8)
    expected, optimum = brute_force(game)
    found = solve_exhaustive(game, chunk=50)  # several chunks
    assert {tuple(row) for row in found.equilibria.tolist()} == expected
    assert found.optimal_overhead == pytest.approx(optimum, rel=1e-12)
    assert sum(direct_costs(game, tuple(found.social_optimum.tolist()))) == pytest.approx(optimum, rel=1e-12)
    worst = max(sum(direct_costs(game, profile)) for profile in expected)
    assert found.price_of_anarchy == pytest.approx(worst / optimum, rel=1e-12)
    assert found.price_of_anarchy >= 1.0
    reached = best_response_dynamics(game, rng=np.random.default_rng(seed))
    assert tuple(reached.decision.tolist()) in expected


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_dynamics_reach_an_equilibrium_with_the_potential_strictly_falling(seed: int) -> None:
    game = paper_game(60, 4, seed=seed, data_bits=300e3 * 8)
    initial = np.random.default_rng(seed).integers(0, 5, 60)
    result = best_response_dynamics(game, initial, rng=np.random.default_rng(seed))
    assert result.updates > 0
    assert np.all(np.diff(result.potential) < 0)
    assert result.potential[0] == pytest.approx(potential(game, initial), rel=1e-9)
    assert result.potential[-1] == pytest.approx(potential(game, result.decision), rel=1e-9, abs=1e-18)
    assert is_nash(game, result.decision)
    costs = direct_costs(game, tuple(result.decision.tolist()))
    assert result.total_overhead == pytest.approx(sum(costs), rel=1e-12)
    for n in range(0, 60, 7):  # no unilateral switch helps, recomputed from scratch
        for c in range(5):
            moved = (*result.decision.tolist()[:n], c, *result.decision.tolist()[n + 1:])
            assert direct_costs(game, moved)[n] >= costs[n] * (1 - 1e-9)
    assert result.beneficial_users == beneficial_users(game, result.decision) == np.count_nonzero(result.decision)


def test_replaying_the_moves_each_one_helps_its_user_and_lowers_the_potential_from_scratch() -> None:
    game = paper_game(25, 3, seed=9, data_bits=200e3 * 8)
    initial = np.random.default_rng(9).integers(0, 4, 25)
    result = best_response_dynamics(game, initial, rng=np.random.default_rng(2))
    decision = initial.copy()
    for step, (user, old, new) in enumerate(result.moves.tolist()):
        assert decision[user] == old
        before = direct_costs(game, tuple(decision.tolist()))[user]
        decision[user] = new
        assert direct_costs(game, tuple(decision.tolist()))[user] < before
        options = [direct_costs(game, (*decision.tolist()[:user], c, *decision.tolist()[user + 1:]))[user]
                   for c in range(4)]
        assert options[new] == pytest.approx(min(options), rel=1e-9)  # a best response, not just an improvement
        assert result.potential[step + 1] == pytest.approx(potential(game, decision), rel=1e-9, abs=1e-20)
    assert decision.tolist() == result.decision.tolist()
    assert np.all(np.diff(result.potential) < 0)


@given(seed=st.integers(0, 10_000), n=st.integers(2, 8), channels=st.integers(1, 3), user=st.integers(0, 7),
       to=st.integers(0, 3), kb=st.sampled_from([50.0, 500.0, 5000.0]))
def test_a_unilateral_switch_changes_cost_and_potential_in_the_same_direction(
        seed: int, n: int, channels: int, user: int, to: int, kb: float) -> None:
    """Theorem 1: the game is a (weighted) potential game, so a user's gain and the potential's fall agree."""
    channels, user = min(channels, n), user % n
    game = paper_game(n, channels, seed=seed, data_bits=kb * 8e3)
    before = np.random.default_rng(seed).integers(0, channels + 1, n)
    after = before.copy()
    after[user] = to % (channels + 1)
    cost_change = overheads(game, after)[user] - overheads(game, before)[user]
    potential_change = potential(game, after) - potential(game, before)
    scale = abs(potential(game, before)) + abs(potential(game, after)) + 1e-300
    if abs(cost_change) > 1e-9 * overheads(game, before)[user] and abs(potential_change) > 1e-9 * scale:
        assert np.sign(cost_change) == np.sign(potential_change)


def test_the_deterministic_rule_is_reproducible_and_the_random_one_seeded() -> None:
    game = paper_game(40, 3, seed=6, data_bits=300e3 * 8)
    assert best_response_dynamics(game).decision.tolist() == best_response_dynamics(game).decision.tolist()
    a = best_response_dynamics(game, rng=np.random.default_rng(5))
    b = best_response_dynamics(game, rng=np.random.default_rng(5))
    assert a.decision.tolist() == b.decision.tolist()
    assert a.updates == b.updates


def test_beneficial_users_grow_then_saturate_with_the_number_of_users() -> None:
    """Chen et al., Sec. VI (Fig. 7): with M channels fixed, the number of beneficial cloud users first grows with N
    and then levels off, as interference leaves no room for more offloaders."""
    pool = paper_game(120, 3, seed=11, data_bits=500e3 * 8)

    def first(k: int) -> OffloadGame:
        return OffloadGame(**{name: getattr(pool, name)[:k] for name in (
            "gain", "tx_power_w", "input_bits", "work_ops", "device_speed_ops_per_s", "compute_power_w",
            "time_weight", "energy_weight", "tail_energy_j")}, channels=3, bandwidth_hz=pool.bandwidth_hz,
            noise_w=pool.noise_w, cloud_speed_ops_per_s=pool.cloud_speed_ops_per_s)

    counts = {k: best_response_dynamics(first(k)).beneficial_users for k in (3, 10, 30, 60, 120)}
    assert counts[3] == 3  # one user per channel: everyone who gains alone offloads
    assert counts[3] < counts[10] <= counts[30]
    assert counts[120] <= counts[30] + 3  # saturation: 4x the users, (almost) no more offloaders
    assert counts[120] < 120 // 4


@pytest.mark.parametrize(("changes", "match"), [
    ({"tx_power_w": -0.1}, r"tx_power_w\[0\]=-0.1: must be finite and > 0"),
    ({"channels": 5}, r"channels=5: must be between 1 and the number of users \(4\)"),
    ({"channels": 0}, "channels=0"),
    ({"bandwidth_hz": 0.0}, "bandwidth_hz=0.0: must be finite and > 0"),
    ({"time_weight": [1.0, -1.0, 1.0, 1.0]}, r"time_weight\[1\]=-1.0: must be finite and >= 0"),
])
def test_bad_parameters_are_named(changes: dict[str, object], match: str) -> None:
    base: dict[str, object] = {"gain": [1e-5] * 4, "tx_power_w": 0.1, "input_bits": 1e6, "work_ops": 1e9,
                               "device_speed_ops_per_s": 1e9, "compute_power_w": 0.5, "time_weight": 1.0,
                               "energy_weight": 1.0, "tail_energy_j": 0.0, "channels": 2, "bandwidth_hz": 5e6,
                               "noise_w": 1e-13, "cloud_speed_ops_per_s": 1e11}
    with pytest.raises(ParameterError, match=match):
        OffloadGame(**{**base, **changes})  # type: ignore[arg-type]


def test_exhaustive_search_refuses_huge_instances_and_bad_decisions_are_named() -> None:
    game = paper_game(30, 3)
    with pytest.raises(ParameterError, match=r"exhaustive search over 4\^30 profiles"):
        solve_exhaustive(game)
    with pytest.raises(ParameterError, match=r"must be 0 \(local\) or a channel 1\.\.3"):
        overheads(game, np.full(30, 4))
