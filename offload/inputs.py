"""Array inputs of the cost model: many tasks on one kind of device, each with the same set of remote targets.

:class:`CostInputs` validates and broadcasts once, so that both the general path (:func:`offload.cost.cost_arrays`)
and the fused chunked path (:func:`offload.batch.decide_batch`) can trust their arrays.

Compute time on either side is ``time_s + work_ops / speed_ops_per_s``: a *measured* time leaves the speed infinite,
a speed leaves the time zero (both together read as a fixed overhead plus work-proportional time).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from offload.errors import ParameterError

FloatArray = npt.NDArray[np.float64]

# rule per field: (strictly positive?, infinity allowed?)
_NON_NEGATIVE = (False, False)
_NON_NEGATIVE_OR_INF = (False, True)
_POSITIVE_OR_INF = (True, True)

_TASK_FIELDS: dict[str, tuple[bool, bool]] = {
    "work_ops": _NON_NEGATIVE, "input_bits": _NON_NEGATIVE, "output_bits": _NON_NEGATIVE,
    "deadline_s": _POSITIVE_OR_INF, "device_speed_ops_per_s": _POSITIVE_OR_INF, "device_time_s": _NON_NEGATIVE,
    "device_compute_power_w": _NON_NEGATIVE, "idle_power_w": _NON_NEGATIVE, "tx_power_w": _NON_NEGATIVE,
    "rx_power_w": _NON_NEGATIVE, "tail_energy_j": _NON_NEGATIVE,
}
_TARGET_FIELDS: dict[str, tuple[bool, bool]] = {
    "server_speed_ops_per_s": _POSITIVE_OR_INF, "server_time_s": _NON_NEGATIVE, "server_compute_power_w": _NON_NEGATIVE,
    "wait_s": _NON_NEGATIVE_OR_INF, "uplink_bps": _POSITIVE_OR_INF, "downlink_bps": _POSITIVE_OR_INF,
    "round_trip_s": _NON_NEGATIVE,
}


def check_array(name: str, values: npt.ArrayLike, *, positive: bool, allow_inf: bool) -> FloatArray:
    """Return ``values`` as a float array if every element obeys the rule, else raise naming the first offender.

    Two reductions decide the common (valid) case: NaN propagates through ``min``, so one comparison rejects NaN and
    out-of-range values together.
    """
    array = np.asarray(values, dtype=np.float64)
    if array.size == 0:
        return array
    if array.size <= 16:  # a handful of values (one task, a few targets): plain Python is several times faster
        items = array.ravel().tolist()
        low, high = min(items), max(items)
        if any(map(math.isnan, items)):
            low = math.nan
    else:
        low, high = float(array.min()), float(array.max())
    if (low > 0 if positive else low >= 0) and (allow_inf or math.isfinite(high)):
        return array
    bad = np.isnan(array) | ((array <= 0) if positive else (array < 0)) | (np.isinf(array) & (not allow_inf))
    position = np.flatnonzero(bad.ravel())[0]
    value = float(array.ravel()[position])
    where = f"{name}[{position}]" if array.ndim else name
    if math.isnan(value):
        raise ParameterError(where, value, "must be a number, not NaN")
    rule = "must be > 0" if positive else "must be >= 0"
    raise ParameterError(where, value, rule + ("" if allow_inf else " and finite"))


@dataclass(frozen=True, slots=True)
class CostInputs:
    """Everything the cost model needs, as arrays.

    Task and device quantities (``work_ops`` … ``tail_energy_j``) have shape ``(tasks,)`` or broadcast to it.
    Target quantities (``server_*``, ``wait_s``, link) have shape ``(targets,)`` (the same for every task) or
    ``(tasks, targets)``. After construction task arrays are 1-D and target arrays 2-D (``(1, k)`` or ``(n, k)``);
    scalars stay length-1 so that memory does not grow with the number of tasks.

    Attributes
    ----------
    work_ops, input_bits, output_bits : work (ops), data sent and result returned (bits)
    deadline_s : latest acceptable latency; ``inf`` means none
    device_speed_ops_per_s, device_time_s : local compute time is ``device_time_s + work_ops / speed``
    device_compute_power_w, idle_power_w, tx_power_w, rx_power_w : device power while computing, waiting, sending,
        receiving
    tail_energy_j : radio tail energy per offload
    server_speed_ops_per_s, server_time_s, server_compute_power_w : remote compute time (as locally) and power
    wait_s : expected queueing wait at the target; ``inf`` (unstable queue) makes the target infeasible
    uplink_bps, downlink_bps, round_trip_s : the link (round trip including propagation)
    target_names : one name per target; default ``remote0, remote1, ...``
    """

    work_ops: npt.ArrayLike = 0.0
    input_bits: npt.ArrayLike = 0.0
    output_bits: npt.ArrayLike = 0.0
    deadline_s: npt.ArrayLike = math.inf
    device_speed_ops_per_s: npt.ArrayLike = math.inf
    device_time_s: npt.ArrayLike = 0.0
    device_compute_power_w: npt.ArrayLike = 0.0
    idle_power_w: npt.ArrayLike = 0.0
    tx_power_w: npt.ArrayLike = 0.0
    rx_power_w: npt.ArrayLike = 0.0
    tail_energy_j: npt.ArrayLike = 0.0
    server_speed_ops_per_s: npt.ArrayLike = math.inf
    server_time_s: npt.ArrayLike = 0.0
    server_compute_power_w: npt.ArrayLike = 0.0
    wait_s: npt.ArrayLike = 0.0
    uplink_bps: npt.ArrayLike = math.inf
    downlink_bps: npt.ArrayLike = math.inf
    round_trip_s: npt.ArrayLike = 0.0
    target_names: Sequence[str] | None = None
    n_tasks: int = field(init=False)
    n_targets: int = field(init=False)

    def __post_init__(self) -> None:
        arrays: dict[str, FloatArray] = {}
        for name, (positive, allow_inf) in _TASK_FIELDS.items():
            array = check_array(name, getattr(self, name), positive=positive, allow_inf=allow_inf)
            if array.ndim > 1:
                raise ParameterError(name, array.shape, "must be a scalar or 1-D (one value per task)")
            arrays[name] = array.reshape(-1)
        for name, (positive, allow_inf) in _TARGET_FIELDS.items():
            array = check_array(name, getattr(self, name), positive=positive, allow_inf=allow_inf)
            if array.ndim > 2:
                raise ParameterError(name, array.shape, "must be a scalar, 1-D (per target) or 2-D (tasks x targets)")
            arrays[name] = array.reshape(1, -1) if array.ndim < 2 else array
        n_tasks = _common_length([(k, a.shape[0]) for k, a in arrays.items()])
        names_len = [("target_names", len(self.target_names))] if self.target_names is not None else []
        n_targets = _common_length([(k, arrays[k].shape[1]) for k in _TARGET_FIELDS] + names_len)
        names = tuple(self.target_names) if self.target_names is not None else tuple(
            f"remote{j}" for j in range(n_targets))
        if len(set(names)) != len(names) or any(not n or n == "local" for n in names):
            raise ParameterError("target_names", names, "must be unique non-empty names other than 'local'")
        for name, array in arrays.items():
            object.__setattr__(self, name, array)
        object.__setattr__(self, "target_names", names)
        object.__setattr__(self, "n_tasks", n_tasks)
        object.__setattr__(self, "n_targets", n_targets)

    @property
    def names(self) -> tuple[str, ...]:
        """Names of the remote targets."""
        return tuple(self.target_names or ())

    def array(self, name: str) -> FloatArray:
        """The stored (validated, reshaped) array of a field."""
        value: FloatArray = getattr(self, name)
        return value

    def task_column(self, name: str, start: int, stop: int) -> FloatArray | float:
        """Rows ``start:stop`` of a task field, or the shared scalar when it has one value for every task."""
        array = self.array(name)
        return float(array[0]) if array.shape[0] == 1 else array[start:stop]

    def target_column(self, name: str, target: int, start: int, stop: int) -> FloatArray | float:
        """Rows ``start:stop`` of target ``target``'s field, or a scalar when every task shares it."""
        array = self.array(name)
        column = array[:, target if array.shape[1] > 1 else 0]
        return float(column[0]) if column.shape[0] == 1 else column[start:stop]

    def only_target(self, target: int) -> CostInputs:
        """The same tasks with one remote target (column ``target``)."""
        if not 0 <= target < self.n_targets:
            raise ParameterError("target", target, f"must be in 0..{self.n_targets - 1}")
        return replace(self, **_target_only(self, target))

    def rows(self, start: int, stop: int) -> CostInputs:
        """The inputs of tasks ``start:stop`` (used by root finding per row)."""
        changes: dict[str, Any] = {}
        for name in _TASK_FIELDS:
            array = self.array(name)
            changes[name] = array if array.shape[0] == 1 else array[start:stop]
        for name in _TARGET_FIELDS:
            array = self.array(name)
            changes[name] = array if array.shape[0] == 1 else array[start:stop]
        return replace(self, **changes)


def _target_only(inputs: CostInputs, target: int) -> dict[str, Any]:
    changes: dict[str, Any] = {name: inputs.array(name)[:, [target if inputs.array(name).shape[1] > 1 else 0]]
                               for name in _TARGET_FIELDS}
    changes["target_names"] = (inputs.names[target],)
    return changes


def _common_length(lengths: list[tuple[str, int]]) -> int:
    sizes = {size for _, size in lengths if size != 1}
    if len(sizes) > 1:
        detail = ", ".join(f"{name}: {size}" for name, size in lengths if size != 1)
        raise ParameterError("shape", detail, "array lengths must agree (or be 1)")
    return sizes.pop() if sizes else 1
