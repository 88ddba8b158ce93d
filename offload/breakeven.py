"""Break-even analysis: the value of one parameter at which local execution and a remote target score the same.

For the latency and the un-normalised energy and weighted objectives the score difference d = remote − local is
affine in a transform ``u`` of each parameter — ``1/B`` for the uplink, ``D`` for the input size, ``C`` for the
work, ``1/Pe`` for the edge speed — so the break-even point has a closed form: with d0 = d(0) and the slope from a
second evaluation, ``u* = −d0 / slope`` (one secant step then removes the rounding of the slope). Where d is not
affine (the work under a normalised objective, whose normaliser depends on the work) a bracketing root finder
(Brent, on log x) is used. Deadlines are ignored: the break-even compares scores.

Everything is vectorised over :class:`offload.inputs.CostInputs` (tasks × targets); the scalar
:func:`break_even` is the batch call with one task and one target.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal, cast

import numpy as np
import numpy.typing as npt

from offload.cost import (
    LocalArguments,
    RemoteArguments,
    inputs_from_profiles,
    local_arguments,
    local_option,
    remote_arguments,
    remote_option,
)
from offload.decision import EnergyView, Preference
from offload.errors import ParameterError
from offload.inputs import CostInputs
from offload.profiles import Device, Target, Task

FloatArray = npt.NDArray[np.float64]


class Parameter(Enum):
    """Parameters that can be solved for; the value is the SI name."""

    UPLINK = "uplink_bps"
    INPUT = "input_bits"
    WORK = "work_ops"
    EDGE_SPEED = "edge_speed_ops_per_s"


Direction = Literal["above", "below", "always", "never"]
Method = Literal["auto", "closed-form", "root-finder"]

# whether the affine transform of each parameter is u = 1/x (else u = x)
_RECIPROCAL: dict[Parameter, bool] = {
    Parameter.UPLINK: True, Parameter.INPUT: False, Parameter.WORK: False, Parameter.EDGE_SPEED: True}
# the cost-kernel argument each parameter sets: (in local_option or None, in remote_option)
_KERNEL_KEYS: dict[Parameter, tuple[str | None, str]] = {
    Parameter.UPLINK: (None, "uplink_bps"),
    Parameter.INPUT: (None, "input_bits"),
    Parameter.WORK: ("work_ops", "work_ops"),
    Parameter.EDGE_SPEED: (None, "speed_ops_per_s"),
}
#: fields that may move with each parameter: a quantity whose default is the parameter (a downlink that defaults to
#: the uplink) must follow it in the search. Each shares the parameter's transform, so the difference stays affine.
LINKABLE: dict[Parameter, tuple[str, ...]] = {Parameter.UPLINK: ("downlink_bps",)}
_SEARCH_LOG_RANGE = (math.log(1e-30), math.log(1e30))
_DIRECTIONS = np.array(["above", "below", "always", "never"])


@dataclass(frozen=True, slots=True)
class BreakEven:
    """Where the decision between local and one target flips.

    Attributes
    ----------
    parameter : Parameter
    value : float
        The break-even value in SI units; ``nan`` when the decision never flips.
    offload_wins : {"above", "below", "always", "never"}
        Offloading scores strictly better when the parameter is above / below ``value``, or for every value.
    method : {"closed-form", "root-finder", "none"}
    """

    parameter: Parameter
    value: float
    offload_wins: Direction
    method: str


@dataclass(frozen=True, slots=True)
class BreakEvenArrays:
    """Break-even values of every (task, target): arrays of shape ``(tasks, targets)``; fields as in
    :class:`BreakEven` (``offload_wins`` and ``method`` are string arrays)."""

    parameter: Parameter
    value: FloatArray
    offload_wins: npt.NDArray[np.str_]
    method: npt.NDArray[np.str_]


def _is_affine(parameter: Parameter, preference: Preference) -> bool:
    return not (preference.normalise and parameter is Parameter.WORK)


def _check_linked(parameter: Parameter, linked: Sequence[str]) -> tuple[str, ...]:
    allowed = LINKABLE.get(parameter, ())
    for name in linked:
        if name not in allowed:
            raise ParameterError("linked", name, f"cannot follow {parameter.value}; allowed: {list(allowed)}")
    return tuple(linked)


def difference(parameter: Parameter, x: npt.ArrayLike, inputs: CostInputs, preference: Preference,
               linked: Sequence[str] = ()) -> FloatArray:
    """Score of offloading minus score of running locally, per task, with ``parameter`` (and the ``linked`` fields
    that follow it, see :data:`LINKABLE`) set to ``x`` (per task).

    ``inputs`` must have exactly one target. Uses the cost kernels directly (no breakdown arrays).
    """
    local, remote = local_arguments(inputs), remote_arguments(inputs, None)
    with np.errstate(invalid="ignore"):  # 0 W x inf s (an unstable queue) is NaN energy on an infeasible option
        remote_score, local_score = _scores(parameter, x, local, remote, inputs.n_tasks, preference,
                                            _check_linked(parameter, linked))
    return np.asarray(remote_score - local_score)


def _scores(parameter: Parameter, x: Any, local_args: LocalArguments, remote_args: RemoteArguments,
            n_tasks: int | None, preference: Preference, linked: Sequence[str]) -> tuple[Any, Any]:
    """Scores of offloading and of running locally, per task, with ``parameter`` (and ``linked``) set to ``x``.

    The arguments are those of the cost kernels for one target (task values per task, or plain floats);
    ``n_tasks=None`` is the scalar path: ``x`` and the arguments are floats and so are the scores."""
    values = x if n_tasks is None else np.broadcast_to(np.asarray(x, dtype=np.float64), (n_tasks,))
    local_key, remote_key = _KERNEL_KEYS[parameter]
    local_args, remote_args = local_args.copy(), remote_args.copy()
    if local_key is not None:
        local_args[local_key] = values  # type: ignore[literal-required]
    for key in (remote_key, *linked):
        remote_args[key] = values  # type: ignore[literal-required]
    device_view = preference.energy_view is EnergyView.DEVICE
    local = local_option(**local_args)
    remote = remote_option(**remote_args, device_view=device_view, system_view=not device_view)
    local_j = local.device_energy_j if device_view else local.system_energy_j
    remote_j = remote.device_energy_j if device_view else remote.system_energy_j
    assert local_j is not None
    assert remote_j is not None
    local_score = preference.combine(local.latency_s, local_j, local.latency_s, local_j)
    remote_score = preference.combine(remote.latency_s, remote_j, local.latency_s, local_j)  # (1 target, tasks)
    if n_tasks is None:
        return np.float64(remote_score), np.float64(local_score)
    shape = (n_tasks,)
    return (np.broadcast_to(remote_score, (1, *shape))[0].astype(np.float64),
            np.broadcast_to(local_score, shape).astype(np.float64))


#: A change in the score difference smaller than this fraction of the scores themselves is rounding, not slope.
_ROUNDING = 1e-12


def _current(parameter: Parameter, remote_args: RemoteArguments, n_tasks: int | None) -> Any:
    value = remote_args[_KERNEL_KEYS[parameter][1]]  # type: ignore[literal-required]
    if n_tasks is None:
        return np.float64(value)
    return np.broadcast_to(np.asarray(value, dtype=np.float64).reshape(-1), (n_tasks,)).copy()


def _pick(condition: Any, if_true: Any, if_false: Any) -> Any:
    """``np.where`` on arrays; on scalars (the scalar path) a plain choice, which costs nothing."""
    if isinstance(condition, np.ndarray):
        return np.where(condition, if_true, if_false)
    return if_true if condition else if_false


def _closed_form(parameter: Parameter, local_args: LocalArguments, remote_args: RemoteArguments,
                 n_tasks: int | None, preference: Preference, linked: Sequence[str]) -> tuple[Any, Any, Any]:
    """Break-even values, direction codes (0 above, 1 below, 2 always, 3 never) and slopes, per task (arrays), or
    for one task (numpy scalars) when ``n_tasks`` is ``None``: the same steps either way."""
    reciprocal = _RECIPROCAL[parameter]

    def from_u(u: Any) -> Any:
        return np.divide(1.0, u) if reciprocal else u

    def diff_and_scale(u: Any) -> tuple[Any, Any]:
        remote_score, local_score = _scores(parameter, from_u(u), local_args, remote_args, n_tasks, preference, linked)
        return remote_score - local_score, abs(remote_score) + abs(local_score)

    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        current = _current(parameter, remote_args, n_tasks)
        u1 = _pick((current > 0) & np.isfinite(current), from_u(current), 1.0)
        d0, scale0 = diff_and_scale(np.float64(0.0) if n_tasks is None else np.zeros(n_tasks))
        d1, scale1 = diff_and_scale(u1)
        # equal speeds (say) make d constant: the subtraction then leaves only rounding, which must not read as a
        # tiny slope with a spurious break-even far away
        rounding = abs(d1 - d0) <= _ROUNDING * (scale0 + scale1)
        slope = _pick(rounding, np.float64(0.0), (d1 - d0) / u1)
        u_star = -d0 / slope
        flips = np.isfinite(slope) & (slope != 0) & (u_star > 0) & np.isfinite(u_star)
        # one secant step from (0, d0) through (u*, d(u*)) removes the rounding of the first slope
        probe = _pick(flips, u_star, 1.0)
        d_star = diff_and_scale(probe)[0]
        refined = probe - d_star * probe / (d_star - d0)
        u_star = _pick(flips & np.isfinite(refined) & (refined > 0), refined, u_star)
        value = _pick(flips, from_u(_pick(flips, u_star, 1.0)), np.nan)
    sloped = np.isfinite(slope) & (slope != 0)
    code = _pick(flips, _pick((slope < 0) != reciprocal, 0, 1), _pick(_pick(sloped, slope < 0, d0 < 0), 2, 3))
    return value, code, _pick(sloped, slope, 0.0)


def _closed_form_arrays(parameter: Parameter, inputs: CostInputs, preference: Preference, linked: Sequence[str]
                        ) -> tuple[FloatArray, npt.NDArray[np.str_], npt.NDArray[np.str_]]:
    value, code, slope = _closed_form(parameter, local_arguments(inputs), remote_arguments(inputs, None),
                                      inputs.n_tasks, preference, linked)
    # string arrays are built once, by indexing
    return value, _DIRECTIONS[code], np.where(slope != 0, "closed-form", "none")


def break_even_arguments(parameter: Parameter, local_args: LocalArguments, remote_args: RemoteArguments,
                         preference: Preference, linked: Sequence[str] = ()) -> tuple[float, Direction]:
    """The scalar path: break-even value and direction for one task and one target given as cost-kernel arguments
    (plain floats, as built by :func:`offload.cost.kernel_arguments`), without building :class:`CostInputs`.

    Only for an affine difference (see :func:`break_even_batch`); the value is ``nan`` when the decision never flips.
    """
    if not _is_affine(parameter, preference):
        raise ParameterError("parameter", parameter.value, "has no closed form under a normalised objective")
    value, code, _ = _closed_form(parameter, local_args, remote_args, None, preference,
                                  _check_linked(parameter, linked))
    return float(value), cast(Direction, str(_DIRECTIONS[code]))


def _root_find(parameter: Parameter, inputs: CostInputs, preference: Preference, linked: Sequence[str]
               ) -> tuple[FloatArray, npt.NDArray[np.str_], npt.NDArray[np.str_]]:
    value = np.full(inputs.n_tasks, np.nan)
    wins = np.empty(inputs.n_tasks, dtype="<U6")
    for i in range(inputs.n_tasks):
        row = inputs.rows(i, i + 1)

        def diff_log(log_x: float, row: CostInputs = row) -> float:
            return float(difference(parameter, math.exp(log_x), row, preference, linked)[0])

        value[i], wins[i] = _bracket(diff_log)
    return value, wins, np.full(inputs.n_tasks, "root-finder")


def _bracket(diff_log: Callable[[float], float]) -> tuple[float, Direction]:
    from scipy.optimize import brentq  # imported here: scipy.optimize costs ~0.5 s at start-up, rarely needed

    lo, hi = _SEARCH_LOG_RANGE
    d_lo, d_hi = diff_log(lo), diff_log(hi)
    if not (math.isfinite(d_lo) and math.isfinite(d_hi)) or (d_lo < 0) == (d_hi < 0):
        return math.nan, "always" if d_lo < 0 else "never"
    root = brentq(diff_log, lo, hi, xtol=1e-12, rtol=1e-13)
    return math.exp(root), "above" if d_hi < 0 else "below"


def break_even_batch(parameter: Parameter, inputs: CostInputs, preference: Preference | None = None,
                     method: Method = "auto", linked: Sequence[str] = ()) -> BreakEvenArrays:
    """Break-even value of ``parameter`` for every task and target.

    ``method="auto"`` uses the closed form where the score difference is affine in the parameter and the root
    finder otherwise; forcing either is allowed (the root finder always applies; the closed form only when affine).
    ``linked`` names :class:`CostInputs` fields that default from the parameter and so move with it (see
    :data:`LINKABLE`), e.g. ``("downlink_bps",)`` when the downlink is "the same as the uplink".
    """
    preference = preference or Preference()
    linked = _check_linked(parameter, linked)
    if method == "closed-form" and not _is_affine(parameter, preference):
        raise ParameterError("method", method, f"{parameter.value} has no closed form under a normalised objective")
    use_root = method == "root-finder" or (method == "auto" and not _is_affine(parameter, preference))
    shape = (inputs.n_tasks, inputs.n_targets)
    value, wins, how = np.empty(shape), np.empty(shape, dtype="<U6"), np.empty(shape, dtype="<U11")
    for j in range(inputs.n_targets):
        one = inputs.only_target(j)
        solve = _root_find if use_root else _closed_form_arrays
        value[:, j], wins[:, j], how[:, j] = solve(parameter, one, preference, linked)
    return BreakEvenArrays(parameter, value, wins, how)


def break_even(parameter: Parameter, task: Task, device: Device, target: Target,
               preference: Preference | None = None, method: Method = "auto") -> BreakEven:
    """Solve for the value of ``parameter`` at which offloading to ``target`` and local execution tie.

    Examples
    --------
    The licence-plate demo: 13 s on the Pi, 9 ms on the edge, 300 kB over 5 Mbps with 20 ms RTT.

    >>> from offload.profiles import Device, Link, Server, Target, Task
    >>> task = Task(input_bits=2.4e6)
    >>> edge = Target("edge", Server(compute_time_s=0.009), Link(uplink_bps=5e6, rtt_s=0.02))
    >>> result = break_even(Parameter.UPLINK, task, Device(compute_time_s=13.0), edge)
    >>> round(result.value / 1e6, 3), result.offload_wins
    (0.185, 'above')
    """
    if parameter is Parameter.EDGE_SPEED and target.server.compute_time_s is not None:
        raise ParameterError("edge_speed_ops_per_s", None, "break-even edge speed needs a speed, not a measured time")
    if parameter is Parameter.WORK and device.compute_time_s is not None and target.server.compute_time_s is not None:
        raise ParameterError("work_ops", task.work_ops, "break-even work needs a speed on at least one side")
    result = break_even_batch(parameter, inputs_from_profiles(task, device, [target]), preference, method)
    wins = cast(Direction, str(result.offload_wins[0, 0]))
    return BreakEven(parameter, float(result.value[0, 0]), wins, str(result.method[0, 0]))
