"""Mobility models against their known stationary laws (independent closed forms, fixed seeds, bounds that hold for
all but a negligible share of seeds)."""

import math

import numpy as np
import pytest

from offload.errors import ParameterError
from simulator.mobility import (
    MOBILITY_MODELS,
    Area,
    GaussMarkov,
    RandomDirection,
    RandomWaypoint,
    Static,
    Trace,
    mobility_model,
    reflect,
)
from simulator.mobility.models import advance_all

SIDE_M = 1000.0
BINS = 5


def rwp_bin_probabilities(bins: int) -> np.ndarray:
    """Bin masses of Bettstetter, Resta & Santi's approximation of the random waypoint density on a square of side a
    (IEEE TMC 2(3), 2003, eq. 13): f(x, y) ≈ (36/a⁶)(x² − a²/4)(y² − a²/4) on [−a/2, a/2]². It is a product of
    g(u) = 6u(1 − u) (u = x/a + 1/2), whose CDF is 3u² − 2u³."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    cdf = 3 * edges**2 - 2 * edges**3
    marginal = np.diff(cdf)
    return np.outer(marginal, marginal)


def bin_frequencies(positions: np.ndarray, side_m: float, bins: int) -> np.ndarray:
    edges = np.linspace(0.0, side_m, bins + 1)
    counts, _, _ = np.histogram2d(positions[:, 0], positions[:, 1], bins=[edges, edges])
    return counts / counts.sum()


def total_variation(p: np.ndarray, q: np.ndarray) -> float:
    return 0.5 * float(np.abs(p - q).sum())


def snapshots(motion, rng, *, burn_in: int, every: int, count: int, dt_s: float = 1.0) -> np.ndarray:
    for _ in range(burn_in):
        motion.advance(dt_s, rng)
    taken = []
    for _ in range(count):
        for _ in range(every):
            motion.advance(dt_s, rng)
        taken.append(motion.positions_m.copy())
    return np.concatenate(taken)


@pytest.mark.parametrize("seed", [3, 11])
def test_random_waypoint_density_matches_the_closed_form_approximation_and_is_not_uniform(seed):
    # legs of ~0.52 a at ~30 m/s last ~17 s: 400 s of burn-in is ~23 legs, snapshots 60 s apart are ~3.5 legs apart
    rng = np.random.default_rng(seed)
    area = Area(SIDE_M, SIDE_M)
    motion = RandomWaypoint(20.0, 40.0).start(area.uniform(2000, rng), area, rng)
    observed = bin_frequencies(snapshots(motion, rng, burn_in=400, every=60, count=10), SIDE_M, BINS)
    approximation = rwp_bin_probabilities(BINS)
    uniform = np.full((BINS, BINS), 1.0 / BINS**2)
    # The approximation itself is off by ~0.03 in total variation on a 5x5 grid (measured with 10^5 samples);
    # sampling noise adds ~0.01 (sd 0.003). Uniform is 0.27 away from the approximation.
    assert total_variation(observed, approximation) < 0.05
    assert total_variation(observed, uniform) > 0.2
    centre, corner = observed[BINS // 2, BINS // 2], observed[0, 0]
    assert centre > 4 * corner  # peaked at the centre: the approximation gives 8.8x


def test_random_waypoint_pauses_and_speeds_are_respected():
    rng = np.random.default_rng(5)
    area = Area(100.0, 100.0)
    start = np.array([[0.0, 0.0]])
    motion = RandomWaypoint(2.0, 2.0, pause_s=7.0).start(start.copy(), area, rng)
    target = motion.target_m.copy()
    leg_s = float(np.hypot(*target[0])) / 2.0
    motion.advance(leg_s + 3.0, rng)  # arrives, then pauses 3 of its 7 s there
    np.testing.assert_allclose(motion.positions_m[0], target[0])
    assert motion.pause_left_s[0] == pytest.approx(4.0)
    motion.advance(4.0, rng)
    np.testing.assert_allclose(motion.positions_m[0], target[0])


def test_random_direction_with_reflection_stays_uniform():
    rng = np.random.default_rng(7)
    area = Area(SIDE_M, SIDE_M)
    n = 5000
    motion = RandomDirection(5.0, 15.0, epoch_s=60.0).start(area.uniform(n, rng), area, rng)
    for _ in range(600):  # ~6 wall crossings per device
        motion.advance(1.0, rng)
    observed = bin_frequencies(motion.positions_m, SIDE_M, BINS) * n
    chi2 = float(((observed - n / BINS**2) ** 2 / (n / BINS**2)).sum())
    assert chi2 < 59.7  # chi-square with 24 degrees of freedom: P(> 59.7) = 1e-4
    assert area.contains(motion.positions_m).all()


def test_random_direction_boundary_crossing_rate_matches_the_fluid_flow_formula():
    # Outward crossings of a convex cell's boundary per unit time (the handover rate out of the cell): E[v] L / (π A)
    # per device roaming an area A (fluid flow: density 1/A, outflow ρ E[v] L / π; e.g. Bettstetter, Hartenstein &
    # Pérez-Costa, Wireless Networks 10, 2004). Entries equal exits, so all crossings are twice this.
    rng = np.random.default_rng(13)
    area = Area(SIDE_M, SIDE_M)
    n, dt_s, steps = 1000, 0.2, 5000
    radius, centre = 150.0, np.array([500.0, 500.0])
    motion = RandomDirection(5.0, 15.0, epoch_s=100.0).start(area.uniform(n, rng), area, rng)
    inside = np.hypot(*(motion.positions_m - centre).T) < radius
    exits = np.zeros(n)
    for _ in range(steps):
        motion.advance(dt_s, rng)
        now = np.hypot(*(motion.positions_m - centre).T) < radius
        exits += inside & ~now
        inside = now
    rate = exits / (steps * dt_s)  # one independent estimate per device
    expected = 10.0 * 2 * math.pi * radius / (math.pi * SIDE_M**2)
    assert abs(rate.mean() - expected) < 4.5 * rate.std(ddof=1) / math.sqrt(n)


def test_gauss_markov_mean_speed_and_lag_one_autocorrelation():
    rng = np.random.default_rng(17)
    area = Area(SIDE_M, SIDE_M)
    n, steps, alpha, mean, sd = 2000, 400, 0.8, 10.0, 2.0
    motion = GaussMarkov(mean, alpha, speed_sd_mps=sd).start(area.uniform(n, rng), area, rng)
    speeds = np.empty((steps, n))
    for k in range(steps):
        motion.advance(1.0, rng)
        speeds[k] = motion.speed_mps
    # sd of the grand mean of n AR(1) series of length T: sd / sqrt(n T) * sqrt((1 + α) / (1 − α))
    se_mean = sd / math.sqrt(n * steps) * math.sqrt((1 + alpha) / (1 - alpha))
    assert abs(speeds.mean() - mean) < 5 * se_mean
    centred = speeds - mean
    lag1 = float((centred[1:] * centred[:-1]).sum() / (centred**2).sum())
    assert abs(lag1 - alpha) < 0.01  # its se is ~sqrt((1 − α²)/(n T)) ≈ 7e-4
    assert abs(speeds.std() - sd) < 0.05 * sd
    assert area.contains(motion.positions_m).all()


def test_reflection_folds_any_number_of_crossings():
    area = Area(10.0, 4.0)
    points = np.array([[12.0, -1.0], [25.0, 9.0], [3.0, 2.0]])
    flipped = reflect(points, area)
    np.testing.assert_allclose(points, [[8.0, 1.0], [5.0, 1.0], [3.0, 2.0]])
    # y = 9 in [0, 4]: 9 -> -1 -> 1, two reflections, so the velocity is not reversed
    np.testing.assert_array_equal(flipped, [[True, True], [False, False], [False, False]])


def test_trace_interpolates_holds_and_leaves_other_devices_alone():
    trace = Trace(np.array([10.0, 0.0, 5.0]), np.array([0, 0, 2]), np.array([[100.0, 0.0], [0.0, 0.0], [7.0, 7.0]]))
    rng = np.random.default_rng(0)
    area = Area(200.0, 200.0)
    start = np.array([[1.0, 1.0], [50.0, 50.0], [2.0, 2.0]])
    motion = trace.start(start, area, rng)
    np.testing.assert_allclose(motion.positions_m, [[0.0, 0.0], [50.0, 50.0], [7.0, 7.0]])
    motion.advance(2.5, rng)
    np.testing.assert_allclose(motion.positions_m[0], [25.0, 0.0])
    for _ in range(5):
        motion.advance(2.5, rng)
    np.testing.assert_allclose(motion.positions_m, [[100.0, 0.0], [50.0, 50.0], [7.0, 7.0]])


def test_trace_rejects_unknown_devices():
    trace = Trace(np.array([0.0]), np.array([3]), np.array([[0.0, 0.0]]))
    with pytest.raises(ParameterError, match=r"trace\.device=3: is not a device of the group"):
        trace.start(np.zeros((2, 2)), Area(1.0, 1.0), np.random.default_rng(0))


def test_static_devices_do_not_move_and_the_registry_names_every_model():
    rng = np.random.default_rng(0)
    start = np.array([[1.0, 2.0]])
    motion = Static().start(start.copy(), Area(5.0, 5.0), rng)
    motion.advance(100.0, rng)
    np.testing.assert_array_equal(motion.positions_m, start)
    assert set(MOBILITY_MODELS) == {"static", "random_waypoint", "random_direction", "gauss_markov", "trace"}
    assert isinstance(mobility_model("random_waypoint", speed_min_mps=1.0, speed_max_mps=2.0), RandomWaypoint)
    with pytest.raises(ParameterError, match="unknown mobility model; choose one of static, random_waypoint"):
        mobility_model("levy_walk")


@pytest.mark.parametrize(("factory", "message"), [
    (lambda: RandomWaypoint(0.0, 1.0), "speed_min_mps=0.0: must be > 0"),
    (lambda: RandomWaypoint(3.0, 1.0), "speed_max_mps=1.0: must be >= speed_min_mps"),
    (lambda: RandomDirection(1.0, -2.0), "speed_max_mps=-2.0: must be > 0"),
    (lambda: GaussMarkov(1.0, 1.5), "alpha=1.5: must be between 0 and 1"),
    (lambda: Area(0.0, 1.0), "width_m=0.0: must be > 0"),
])
def test_bad_parameters_are_named(factory, message):
    with pytest.raises(ParameterError, match=message):
        factory()


def test_advancing_groups_together_is_advancing_each_in_turn():
    # three random waypoint groups (pauses, and 40 s steps on a 100 m square: several waypoints per step) with a
    # random direction group between them: the joint pass must move every device and draw every number exactly as
    # one advance per group in the given order does
    area = Area(100.0, 100.0)
    models = (RandomWaypoint(1.0, 5.0, pause_s=3.0), RandomDirection(1.0, 4.0, epoch_s=10.0),
              RandomWaypoint(2.0, 8.0), RandomWaypoint(0.5, 1.5, pause_s=20.0))
    runs = []
    for together in (False, True):
        rng = np.random.default_rng(5)
        motions = [model.start(area.uniform(n, rng), area, rng) for model, n in zip(models, (7, 5, 9, 4), strict=True)]
        for dt_s in (1.0, 40.0, 0.3, 40.0, 7.0):
            if together:
                advance_all(motions, dt_s, rng)
            else:
                for motion in motions:
                    motion.advance(dt_s, rng)
        runs.append((np.concatenate([m.positions_m for m in motions]), rng.random()))
    (alone, next_alone), (joint, next_joint) = runs
    assert np.array_equal(alone, joint)
    assert next_alone == next_joint
