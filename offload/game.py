"""Multi-user computation offloading game (Chen, Jiao, Li, Fu, "Efficient multi-user computation offloading for
mobile-edge cloud computing", IEEE/ACM Transactions on Networking 24(5), 2016).

N users share M orthogonal wireless channels to one base station. User n picks ``a_n = 0`` (compute locally) or a
channel ``a_n in 1..M`` (offload). Its uplink rate suffers the interference of the others on the same channel
(Sec. II-A, eq. 1)::

    r_n(a) = W log2(1 + P_n g_n / (w0 + sum_{m != n, a_m = a_n} P_m g_m))

Overheads are weighted sums of time and energy (Sec. II-B/C, eqs. 4 and 7)::

    local   Z_n = lt_n D_n / f_n + le_n p_n D_n / f_n
    offload Z_n = (lt_n + le_n P_n) B_n / r_n(a) + lt_n D_n / f_cloud + le_n L_n

with ``p_n`` the device's compute power (the paper's energy per cycle times ``f_n``) and ``L_n`` a radio tail
energy. Offloading beats local execution iff the received interference is below the threshold ``T_n`` of Lemma 2;
the game is then a potential game (Theorem 1) with

    Phi(a) = 1/2 sum_n sum_{m != n} q_n q_m [a_n = a_m > 0] + sum_n q_n T_n [a_n = 0],   q_n = P_n g_n

so every strict improvement of one user strictly lowers ``Phi``; best-response dynamics (one improver per step,
Algorithm 1) therefore reaches a pure Nash equilibrium. Decisions are integer arrays (0 = local).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from offload.errors import ParameterError
from offload.formulas import compute_energy_j, compute_time_s, shannon_rate_bps, transfer_time_s

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: A user improves only if its overhead falls by more than this relative amount (floating-point noise is no move).
IMPROVEMENT_RTOL = 1e-9
#: Best-response dynamics move a user only if its interference falls by more than this times ``|I| + w0``.
_INTERFERENCE_RTOL = 1e-12
#: Default cap on the number of decision profiles :func:`solve_exhaustive` enumerates.
MAX_PROFILES = 2_000_000

_USER_FIELDS = ("gain", "tx_power_w", "input_bits", "work_ops", "device_speed_ops_per_s", "compute_power_w",
                "time_weight", "energy_weight", "tail_energy_j")
_POSITIVE = {"gain", "tx_power_w", "input_bits", "work_ops", "device_speed_ops_per_s"}


@dataclass(frozen=True, slots=True)
class OffloadGame:
    """One instance of the game: per-user arrays (length N) and the shared radio and cloud.

    Attributes
    ----------
    gain : array
        Channel gain ``g_n`` from user n to the base station (dimensionless, > 0; see :func:`path_loss_gain`).
    tx_power_w, input_bits, work_ops, device_speed_ops_per_s : array
        Transmit power ``P_n``, task input ``B_n``, task work ``D_n`` and the device's speed ``f_n`` (all > 0).
    compute_power_w, tail_energy_j : array
        Device power while computing and radio tail energy per offload (>= 0).
    time_weight, energy_weight : array
        ``lt_n`` and ``le_n`` (>= 0): overhead = lt·time + le·energy.
    channels : int
        M, 1 <= M <= N (the model is about users contending for channels; with more channels than users there is
        nothing to contend for).
    bandwidth_hz, noise_w, cloud_speed_ops_per_s : float
        Channel bandwidth ``W``, background noise ``w0`` and cloud speed ``f_cloud`` (> 0).
    """

    gain: FloatArray
    tx_power_w: FloatArray
    input_bits: FloatArray
    work_ops: FloatArray
    device_speed_ops_per_s: FloatArray
    compute_power_w: FloatArray
    time_weight: FloatArray
    energy_weight: FloatArray
    tail_energy_j: FloatArray
    channels: int
    bandwidth_hz: float
    noise_w: float
    cloud_speed_ops_per_s: float
    received_w: FloatArray = field(init=False, repr=False)
    upload_weight: FloatArray = field(init=False, repr=False)
    offload_fixed: FloatArray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n = np.size(self.gain)
        for name in _USER_FIELDS:
            values = np.broadcast_to(np.asarray(getattr(self, name), dtype=np.float64), (n,)).copy()
            bad = ~np.isfinite(values) | ((values <= 0) if name in _POSITIVE else (values < 0))
            if bad.any():
                i = int(np.argmax(bad))
                rule = "must be finite and > 0" if name in _POSITIVE else "must be finite and >= 0"
                raise ParameterError(f"{name}[{i}]", float(values[i]), rule)
            values.setflags(write=False)
            object.__setattr__(self, name, values)
        if n == 0:
            raise ParameterError("users", 0, "the game needs at least one user")
        if not 1 <= self.channels <= n:
            raise ParameterError("channels", self.channels, f"must be between 1 and the number of users ({n}): "
                                 "the model has users contending for fewer channels than users")
        for name in ("bandwidth_hz", "noise_w", "cloud_speed_ops_per_s"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise ParameterError(name, value, "must be finite and > 0")
        derived = {  # q_n, the weight of the upload time (lt + le P) and the part of eq. 7 that is not upload
            "received_w": self.tx_power_w * self.gain,
            "upload_weight": self.time_weight + self.energy_weight * self.tx_power_w,
            "offload_fixed": self.time_weight * np.asarray(compute_time_s(self.work_ops, self.cloud_speed_ops_per_s))
            + self.energy_weight * self.tail_energy_j,
        }
        for name, values in derived.items():
            values.setflags(write=False)
            object.__setattr__(self, name, values)

    @property
    def users(self) -> int:
        """N, the number of users."""
        return int(np.size(self.gain))


def path_loss_gain(distance_m: npt.ArrayLike, exponent: float = 4.0) -> FloatArray:
    """Channel gain ``g = d^-alpha`` of a user at ``distance_m`` from the base station (Chen et al., Sec. VI)."""
    return np.power(np.asarray(distance_m, dtype=np.float64), -exponent)


def local_overhead(game: OffloadGame) -> FloatArray:
    """Each user's overhead when computing locally: ``lt D/f + le p D/f`` (eq. 4)."""
    local_s = np.asarray(compute_time_s(game.work_ops, game.device_speed_ops_per_s))
    energy_j = np.asarray(compute_energy_j(game.compute_power_w, local_s))
    return np.asarray(game.time_weight * local_s + game.energy_weight * energy_j, dtype=np.float64)


def offload_overhead(game: OffloadGame, interference_w: npt.ArrayLike) -> FloatArray:
    """Each user's overhead when offloading under ``interference_w`` (shape ``(N,)`` or ``(N, k)``; eq. 7)."""
    interference = np.asarray(interference_w, dtype=np.float64)
    column = (slice(None),) + (None,) * (interference.ndim - 1)
    rate_bps = shannon_rate_bps(game.bandwidth_hz, game.received_w[column], game.noise_w, interference)
    upload_s = transfer_time_s(game.input_bits[column], rate_bps)
    return np.asarray(game.upload_weight[column] * upload_s + game.offload_fixed[column])


def interference_threshold_w(game: OffloadGame) -> FloatArray:
    """``T_n`` of Lemma 2: offloading beats local execution iff the received interference is below it.

    ``T_n = q_n / (2^((lt + le P) B / (W (Z_local - lt D/f_cloud - le L))) - 1) - w0``; a user whose local overhead
    does not exceed the fixed part of offloading never benefits (``T_n = -w0``, the limit of the formula).
    """
    margin = local_overhead(game) - game.offload_fixed
    with np.errstate(divide="ignore", over="ignore"):
        exponent = np.where(margin > 0, game.upload_weight * game.input_bits
                            / (game.bandwidth_hz * np.where(margin > 0, margin, 1.0)), np.inf)
        return np.asarray(game.received_w / np.expm1(exponent * np.log(2.0)) - game.noise_w)


def channel_load_w(game: OffloadGame, decision: npt.ArrayLike) -> FloatArray:
    """Total received power on each channel, index ``c`` for channel ``c`` (index 0, local, is unused and 0)."""
    choice = _checked_decision(game, decision)
    load: FloatArray = np.bincount(choice, weights=game.received_w, minlength=game.channels + 1).astype(np.float64)
    load[0] = 0.0
    return load


def interference_w(game: OffloadGame, decision: npt.ArrayLike) -> FloatArray:
    """Interference each user receives on its own channel (0 for local users)."""
    choice = _checked_decision(game, decision)
    load = channel_load_w(game, choice)
    return np.where(choice > 0, load[choice] - game.received_w, 0.0)


def overheads(game: OffloadGame, decision: npt.ArrayLike) -> FloatArray:
    """Each user's overhead ``Z_n(a)`` under ``decision``."""
    choice = _checked_decision(game, decision)
    return np.where(choice > 0, offload_overhead(game, interference_w(game, choice)), local_overhead(game))


def potential(game: OffloadGame, decision: npt.ArrayLike) -> float:
    """The potential ``Phi(a)`` of Theorem 1, computed from scratch."""
    choice = _checked_decision(game, decision)
    q = game.received_w
    load = channel_load_w(game, choice)
    pairs = 0.5 * float(np.sum(np.where(choice > 0, q * (load[choice] - q), 0.0)))
    return pairs + float(np.sum(np.where(choice == 0, q * interference_threshold_w(game), 0.0)))


def beneficial_users(game: OffloadGame, decision: npt.ArrayLike) -> int:
    """Number of beneficial cloud users (Definition 3): offloading users whose overhead does not exceed local."""
    choice = _checked_decision(game, decision)
    costs = overheads(game, choice)
    return int(np.count_nonzero((choice > 0) & (costs <= local_overhead(game))))


def deviation_overheads(game: OffloadGame, decision: npt.ArrayLike) -> FloatArray:
    """Shape ``(N, M + 1)``: user n's overhead if it alone switched to option ``c`` (column 0 local)."""
    choice = _checked_decision(game, decision)
    return _deviation_table(game, choice, channel_load_w(game, choice), local_overhead(game)).T


def is_nash(game: OffloadGame, decision: npt.ArrayLike) -> bool:
    """Whether no user can lower its overhead (by more than :data:`IMPROVEMENT_RTOL`) by switching alone."""
    choice = _checked_decision(game, decision)
    table = _deviation_table(game, choice, channel_load_w(game, choice), local_overhead(game))
    return not _improvers(table, choice).size


@dataclass(frozen=True, slots=True)
class GameResult:
    """Outcome of best-response dynamics.

    Attributes
    ----------
    decision : int array (N,)
        The pure Nash equilibrium reached (0 = local, c = channel c).
    updates : int
        Number of decision updates (one user per update).
    moves : int array (updates, 3)
        Each update as ``(user, from, to)``, in order.
    potential : float array (updates + 1,)
        ``Phi`` before the first update and after each one (strictly decreasing).
    overhead : float array (N,)
        Each user's overhead at the equilibrium; ``total_overhead`` is their sum.
    beneficial_users : int
        Users offloading at the equilibrium (all beneficial, as it is an equilibrium).
    """

    decision: IntArray
    updates: int
    moves: IntArray
    potential: FloatArray
    overhead: FloatArray
    total_overhead: float
    beneficial_users: int


def best_response_dynamics(game: OffloadGame, initial: npt.ArrayLike | None = None, *,
                           rng: np.random.Generator | None = None, max_updates: int | None = None) -> GameResult:
    """Algorithm 1 of Chen et al.: while some user can improve, one of them switches to its best response.

    With ``rng`` the updating user is drawn uniformly among the improvers (the paper's contention); without it, the
    lowest-indexed improver moves (deterministic). By Lemma 2 a user's overhead orders its options exactly as the
    interference it would receive does, with local execution worth its threshold ``T_n``; so best responses are
    found in interference space from the per-channel received power, which a move changes on two channels only
    (re-summed exactly, so no rounding drift accumulates). An update costs ``O(N + M)``; recomputing every rate
    costs ``O(N^2 M)`` interference sums. A move counts as an improvement when it lowers the user's interference
    by more than ``1e-12 (|I| + w0)``; each move's potential change ``q_n (I_new - I_old)`` is checked negative.

    Raises
    ------
    ParameterError
        A bad ``initial`` decision or ``max_updates`` reached before an equilibrium.
    ArithmeticError
        The potential failed to decrease (would mean a broken invariant, never bad input).
    """
    choice = np.zeros(game.users, dtype=np.int64) if initial is None else _checked_decision(game, initial).copy()
    limit = max_updates if max_updates is not None else 50 * game.users * (game.channels + 1)
    q = game.received_w
    threshold = interference_threshold_w(game)
    load = channel_load_w(game, choice)
    trace = [potential(game, choice)]
    moves: list[tuple[int, int, int]] = []
    for _ in range(limit + 1):
        current, best, least_loaded = _best_responses(game, choice, load, threshold)
        movers = np.flatnonzero(best < current - _INTERFERENCE_RTOL * (np.abs(current) + game.noise_w))
        if not movers.size:
            break
        if len(moves) == limit:
            raise ParameterError("max_updates", limit, "reached before a Nash equilibrium")
        n = int(movers[0] if rng is None else rng.choice(movers))
        old = int(choice[n])
        new = _best_option(old, float(best[n]), float(threshold[n]), least_loaded)
        step = float(q[n] * (best[n] - current[n]))
        if not step < 0:
            raise ArithmeticError(f"potential did not decrease when user {n} moved {old}->{new} (step {step})")
        choice[n] = new
        for channel in (old, new):  # only these two channels' received power changes
            if channel:
                load[channel] = float(q[choice == channel].sum())
        trace.append(trace[-1] + step)
        moves.append((n, old, new))
    costs = overheads(game, choice)
    return GameResult(choice, len(moves), np.asarray(moves, dtype=np.int64).reshape(-1, 3), np.asarray(trace),
                      costs, float(costs.sum()), int(np.count_nonzero(choice)))


@dataclass(frozen=True, slots=True)
class ExhaustiveResult:
    """Every pure Nash equilibrium and the social optimum, by enumerating all ``(M + 1)^N`` decision profiles.

    ``equilibria`` has one row per equilibrium (lexicographic order) and ``equilibrium_overhead`` their total
    overheads; ``price_of_anarchy`` is the worst equilibrium's total over the optimum's (Chen et al., Sec. V).
    """

    equilibria: IntArray
    equilibrium_overhead: FloatArray
    social_optimum: IntArray
    optimal_overhead: float
    price_of_anarchy: float


def solve_exhaustive(game: OffloadGame, max_profiles: int = MAX_PROFILES, chunk: int = 20_000) -> ExhaustiveResult:
    """Enumerate all decision profiles, in chunks, to find every pure equilibrium and the social optimum.

    Raises
    ------
    ParameterError
        ``(M + 1)^N`` exceeds ``max_profiles``.
    """
    n, options = game.users, game.channels + 1
    total = options**n
    if total > max_profiles:
        raise ParameterError("users", n, f"exhaustive search over {options}^{n} profiles exceeds {max_profiles:,}; "
                             "use fewer users or channels")
    local = local_overhead(game)
    equilibria: list[IntArray] = []
    equilibrium_costs: list[FloatArray] = []
    best_cost, best_profile = np.inf, np.zeros(n, dtype=np.int64)
    for start in range(0, total, chunk):
        index = np.arange(start, min(start + chunk, total), dtype=np.int64)
        profiles = (index[:, None] // options ** np.arange(n - 1, -1, -1)) % options  # row-major digits
        load = np.stack([profiles == c for c in range(options)], axis=1).astype(np.float64) @ game.received_w
        load[:, 0] = 0.0
        own = np.where(profiles > 0, np.take_along_axis(load, profiles, axis=1) - game.received_w, 0.0)
        costs = np.where(profiles > 0, offload_overhead(game, own.T).T, local)
        totals = costs.sum(axis=1)
        k = int(np.argmin(totals))
        if totals[k] < best_cost:
            best_cost, best_profile = float(totals[k]), profiles[k].copy()
        # moving to channel c: the others already there (the user leaves its own channel)
        moved = load[:, None, 1:] - game.received_w[None, :, None] * (profiles[:, :, None] == np.arange(1, options))
        best_move = np.minimum(local, offload_overhead(game, moved.transpose(1, 0, 2)).min(axis=2).T)
        stable = ~np.any(best_move < costs - IMPROVEMENT_RTOL * np.abs(costs), axis=1)
        equilibria.append(profiles[stable])
        equilibrium_costs.append(totals[stable])
    found = np.concatenate(equilibria)
    found_costs = np.concatenate(equilibrium_costs)
    return ExhaustiveResult(found, found_costs, best_profile, best_cost, float(found_costs.max() / best_cost))


def _checked_decision(game: OffloadGame, decision: npt.ArrayLike) -> IntArray:
    choice = np.asarray(decision)
    if choice.shape != (game.users,) or not np.issubdtype(choice.dtype, np.integer):
        raise ParameterError("decision", choice.shape, f"must be {game.users} integers (0 = local, 1..M = channel)")
    if choice.size and (choice.min() < 0 or choice.max() > game.channels):
        raise ParameterError("decision", int(choice.max() if choice.max() > game.channels else choice.min()),
                             f"must be 0 (local) or a channel 1..{game.channels}")
    return choice.astype(np.int64, copy=False)


def _deviation_table(game: OffloadGame, choice: IntArray, load: FloatArray, local: FloatArray) -> FloatArray:
    """Shape ``(M + 1, N)``, option-major so that a channel's row is contiguous and the minimum over options is an
    element-wise minimum of rows."""
    table = np.empty((game.channels + 1, game.users))
    table[0] = local
    for channel in range(1, game.channels + 1):
        table[channel] = _channel_row(game, choice == channel, load[channel])
    return table


def _channel_row(game: OffloadGame, on: BoolArray, load_w: float) -> FloatArray:
    """Every user's overhead on a channel with received power ``load_w``; the users ``on`` it do not hear
    themselves."""
    return offload_overhead(game, np.where(on, load_w - game.received_w, load_w))


def _best_responses(game: OffloadGame, choice: IntArray, load: FloatArray,
                    threshold: FloatArray) -> tuple[FloatArray, FloatArray, tuple[int, int]]:
    """Per user, in interference space: the value of its current option and of its best other option; and the
    two least loaded channels (the second is 0 when M = 1).

    Local is worth ``T_n``; a channel the user is not on is worth that channel's received power, so the best other
    channel is the least loaded one, or the second least loaded for a user already on the least loaded one.
    """
    ranked = np.argsort(load[1:], kind="stable") + 1
    first, second = int(ranked[0]), int(ranked[1]) if game.channels > 1 else 0
    on = choice > 0
    current = np.where(on, load[choice] - game.received_w, threshold)
    other = np.where(choice == first, load[second] if second else np.inf, load[first])
    return current, np.where(on, np.minimum(threshold, other), other), (first, second)


def _best_option(choice: int, value: float, threshold: float, least_loaded: tuple[int, int]) -> int:
    """The option worth ``value`` for a user on ``choice``: local (preferred on a tie) or a least loaded channel."""
    if choice and threshold <= value:
        return 0
    first, second = least_loaded
    return second if choice == first else first


def _improvers(table: FloatArray, choice: IntArray) -> IntArray:
    current = table[choice, np.arange(choice.size)]
    return np.flatnonzero(table.min(axis=0) < current - IMPROVEMENT_RTOL * np.abs(current))
