"""Vectorised cost of every way to run each task: local execution (column 0) and each remote target.

The formulas live in two kernels, :func:`local_option` and :func:`remote_option`, that broadcast over whatever
arrays they get: the general path (:func:`cost_arrays`) hands them whole ``(tasks, targets)`` arrays and keeps every
breakdown term, the fused path (:mod:`offload.batch`) hands them one cache-sized block of one target at a time.
Both therefore produce bit-identical numbers. The scalar path, :func:`task_costs`, is the batch path with one task.

Latency (per option)
    local   T_l = t_local
    remote  T_r = D / B_up + R / B_down + (RTT + W_queue + t_remote)
Energy, two views (per option)
    device  E_l = P_compute t_local;  E_r = P_tx D/B_up + P_rx R/B_down + P_idle (RTT + W + t_remote) + E_tail
    system  E_l = P_compute t_local;  E_r = P_tx D/B_up + P_rx R/B_down + P_server t_remote

With RTT = W = R = 0 the latency and system-energy rules reduce exactly to rules (1) and (2) of the seed article
(Zhang et al., "An edge-AI deployment platform", IEEE EDGE 2020): ``C/Pd > C/Pe + D/Bc`` and
``C·Ed/Pd > C·Ee/Pe + D·Ec/Bc``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple, TypedDict, cast

import numpy as np
import numpy.typing as npt

from offload.errors import ParameterError
from offload.formulas import (
    compute_energy_j,
    compute_time_s,
    offload_device_energy_j,
    offload_system_energy_j,
    radio_energy_j,
    transfer_time_s,
)
from offload.inputs import CostInputs
from offload.profiles import Device, Target, Task

FloatArray = npt.NDArray[np.float64]
Values = FloatArray | float
#: Local execution: its option name, and its option index (column of :class:`CostArrays`, value of a decision's
#: ``choice``; remote target ``j`` of ``n`` is option ``j + 1``). The simulator uses the same index for its
#: policies' choices and its records' target codes.
LOCAL = "local"
LOCAL_OPTION = 0


@dataclass(frozen=True, slots=True)
class CostArrays:
    """Costs of every (task, option) pair. Column 0 is local execution; column ``j >= 1`` is ``options[j]``.

    Every array has shape ``(tasks, options)``. The breakdown terms of the local column are zero except
    ``compute_s``; ``latency_s`` is the sum of the five terms.
    """

    options: tuple[str, ...]
    upload_s: FloatArray
    round_trip_s: FloatArray
    wait_s: FloatArray
    compute_s: FloatArray
    download_s: FloatArray
    latency_s: FloatArray
    device_energy_j: FloatArray
    system_energy_j: FloatArray

    @property
    def n_tasks(self) -> int:
        """Number of tasks (rows)."""
        return int(self.latency_s.shape[0])


class OptionCosts(NamedTuple):
    """Costs of one option (local or one remote target) for a block of tasks; unrequested views are ``None``."""

    compute_s: Values
    upload_s: Values
    download_s: Values
    latency_s: Values
    device_energy_j: Values | None
    system_energy_j: Values | None


class RemoteArguments(TypedDict):
    """Keyword arguments of :func:`remote_option` that describe the tasks and the target (not the views)."""

    work_ops: Values
    input_bits: Values
    output_bits: Values
    speed_ops_per_s: Values
    time_s: Values
    uplink_bps: Values
    downlink_bps: Values
    round_trip_s: Values
    wait_s: Values
    tx_power_w: Values
    rx_power_w: Values
    idle_power_w: Values
    tail_energy_j: Values
    server_compute_power_w: Values


class LocalArguments(TypedDict):
    """Keyword arguments of :func:`local_option`."""

    work_ops: Values
    speed_ops_per_s: Values
    time_s: Values
    compute_power_w: Values


def local_option(work_ops: Values, speed_ops_per_s: Values, time_s: Values, compute_power_w: Values) -> OptionCosts:
    """Local execution: ``t = time_s + work_ops / speed``; energy ``P_compute t`` in both views."""
    compute = compute_time_s(work_ops, speed_ops_per_s, time_s)
    energy = compute_energy_j(compute_power_w, compute)
    return OptionCosts(compute, 0.0, 0.0, compute, energy, energy)


def remote_option(
    *,
    work_ops: Values,
    input_bits: Values,
    output_bits: Values,
    speed_ops_per_s: Values,
    time_s: Values,
    uplink_bps: Values,
    downlink_bps: Values,
    round_trip_s: Values,
    wait_s: Values,
    tx_power_w: Values,
    rx_power_w: Values,
    idle_power_w: Values,
    tail_energy_j: Values,
    server_compute_power_w: Values,
    device_view: bool = True,
    system_view: bool = True,
) -> OptionCosts:
    """Offloading to one target: latency and the requested energy views (formulas in the module docstring)."""
    compute = compute_time_s(work_ops, speed_ops_per_s, time_s)
    upload = transfer_time_s(input_bits, uplink_bps)
    download = transfer_time_s(output_bits, downlink_bps)
    waiting = np.add(np.add(round_trip_s, wait_s), compute)
    latency = upload + download + waiting
    device = system = None
    if device_view or system_view:
        radio = radio_energy_j(tx_power_w, upload, rx_power_w, download)
        if device_view:
            device = offload_device_energy_j(radio, idle_power_w, waiting, tail_energy_j)
        if system_view:
            system = offload_system_energy_j(radio, server_compute_power_w, compute)
    return OptionCosts(compute, upload, download, latency, device, system)


#: cost-kernel argument -> CostInputs field, for local_option and for the task and target parts of remote_option
_LOCAL_FIELDS = {"work_ops": "work_ops", "speed_ops_per_s": "device_speed_ops_per_s", "time_s": "device_time_s",
                 "compute_power_w": "device_compute_power_w"}
_REMOTE_TASK_FIELDS = {name: name for name in (
    "work_ops", "input_bits", "output_bits", "tx_power_w", "rx_power_w", "idle_power_w", "tail_energy_j")}
_REMOTE_TARGET_FIELDS = {"speed_ops_per_s": "server_speed_ops_per_s", "time_s": "server_time_s",
                         "uplink_bps": "uplink_bps", "downlink_bps": "downlink_bps", "round_trip_s": "round_trip_s",
                         "wait_s": "wait_s", "server_compute_power_w": "server_compute_power_w"}


def remote_arguments(inputs: CostInputs, column: int | None, start: int = 0, stop: int = 0) -> RemoteArguments:
    """Keyword arguments of :func:`remote_option` for target ``column`` and rows ``start:stop``, or (``None``) for
    every task and target at once laid out ``(targets, tasks)``: task fields 1-D, target fields ``(k, 1)`` or
    ``(k, n)``, so that numpy's inner loops run along the (long) task axis. Shared values come as plain floats."""
    n = inputs.n_tasks

    def task(name: str) -> Values:
        return inputs.task_column(name, 0, n) if column is None else inputs.task_column(name, start, stop)

    def target(name: str) -> Values:
        if column is not None:
            return inputs.target_column(name, column, start, stop)
        array = inputs.array(name)
        if array.shape[0] > 1:
            return array.T
        return float(array[0, 0]) if (array == array[0, 0]).all() else array.reshape(-1, 1)

    return cast(RemoteArguments, {key: task(name) for key, name in _REMOTE_TASK_FIELDS.items()}
                | {key: target(name) for key, name in _REMOTE_TARGET_FIELDS.items()})


def local_arguments(inputs: CostInputs, start: int = 0, stop: int | None = None) -> LocalArguments:
    """Keyword arguments of :func:`local_option` for rows ``start:stop`` (default all); shared values as floats."""
    stop = inputs.n_tasks if stop is None else stop
    return cast(LocalArguments, {key: inputs.task_column(name, start, stop) for key, name in _LOCAL_FIELDS.items()})


def kernel_arguments(fields: Mapping[str, float]) -> tuple[LocalArguments, RemoteArguments]:
    """Keyword arguments of :func:`local_option` and :func:`remote_option` for one task and one target whose values
    are given by :class:`offload.inputs.CostInputs` field name (every field, as plain floats).

    The scalar path: no arrays, no validation (the caller has checked each value against the same rules).
    """
    local = cast(LocalArguments, {key: fields[name] for key, name in _LOCAL_FIELDS.items()})
    names = _REMOTE_TASK_FIELDS | _REMOTE_TARGET_FIELDS
    remote = cast(RemoteArguments, {key: fields[name] for key, name in names.items()})
    return local, remote


def cost_arrays(inputs: CostInputs) -> CostArrays:
    """The general path: every cost and breakdown term of every (task, option), shape ``(tasks, 1 + targets)``.

    The arrays are column-major, so each option's column is contiguous.
    """
    n, k = inputs.n_tasks, inputs.n_targets
    with np.errstate(invalid="ignore"):  # 0 W x inf s (an unstable queue) is NaN energy on an infeasible option
        local = local_option(**local_arguments(inputs))
        remote = remote_option(**remote_arguments(inputs, None))

    def stack(local_value: Values | None, remote_value: Values | None) -> FloatArray:
        out = np.empty((1 + k, n))  # filled by option rows, returned transposed: column-major (tasks, options)
        out[0] = local_value
        out[1:] = remote_value  # (k, n), (k, 1) or a scalar: assignment broadcasts
        return out.T

    def target(name: str) -> FloatArray:
        return inputs.array(name).T

    return CostArrays(
        options=(LOCAL, *inputs.names),
        upload_s=stack(0.0, remote.upload_s),
        round_trip_s=stack(0.0, target("round_trip_s")),
        wait_s=stack(0.0, target("wait_s")),
        compute_s=stack(local.compute_s, remote.compute_s),
        download_s=stack(0.0, remote.download_s),
        latency_s=stack(local.latency_s, remote.latency_s),
        device_energy_j=stack(local.device_energy_j, remote.device_energy_j),
        system_energy_j=stack(local.system_energy_j, remote.system_energy_j),
    )


def evaluate_costs(
    *,
    local_compute_s: npt.ArrayLike,
    input_bits: npt.ArrayLike,
    output_bits: npt.ArrayLike,
    remote_compute_s: npt.ArrayLike,
    uplink_bps: npt.ArrayLike,
    downlink_bps: npt.ArrayLike = np.inf,
    round_trip_s: npt.ArrayLike = 0.0,
    wait_s: npt.ArrayLike = 0.0,
    device_compute_power_w: npt.ArrayLike = 0.0,
    idle_power_w: npt.ArrayLike = 0.0,
    tx_power_w: npt.ArrayLike = 0.0,
    rx_power_w: npt.ArrayLike = 0.0,
    tail_energy_j: npt.ArrayLike = 0.0,
    server_compute_power_w: npt.ArrayLike = 0.0,
    target_names: Sequence[str] | None = None,
) -> CostArrays:
    """Price local execution and every remote target for every task, from measured compute times.

    Parameters
    ----------
    local_compute_s, input_bits, output_bits : array_like, shape (tasks,)
        Local execution time, data sent, result returned.
    remote_compute_s, uplink_bps, downlink_bps, round_trip_s, wait_s, server_compute_power_w : array_like
        Per target, shape ``(targets,)`` or ``(tasks, targets)``.
    device_compute_power_w, idle_power_w, tx_power_w, rx_power_w, tail_energy_j : array_like, shape (tasks,)
        The device's power draw in each state and its radio tail energy per offload.
    target_names : sequence of str, optional
        Names of the remote targets; default ``remote0, remote1, ...``.

    Returns
    -------
    CostArrays
        Shape ``(tasks, 1 + targets)``; column 0 is local. See :class:`offload.inputs.CostInputs` for work/speeds.
    """
    return cost_arrays(CostInputs(
        input_bits=input_bits, output_bits=output_bits, device_time_s=local_compute_s,
        server_time_s=remote_compute_s, uplink_bps=uplink_bps, downlink_bps=downlink_bps,
        round_trip_s=round_trip_s, wait_s=wait_s, device_compute_power_w=device_compute_power_w,
        idle_power_w=idle_power_w, tx_power_w=tx_power_w, rx_power_w=rx_power_w, tail_energy_j=tail_energy_j,
        server_compute_power_w=server_compute_power_w,
        target_names=target_names,
    ))


def inputs_from_profiles(task: Task, device: Device, targets: Sequence[Target]) -> CostInputs:
    """One task, its device and its targets as a one-row :class:`CostInputs`."""
    if not targets:
        raise ParameterError("targets", targets, "needs at least one remote target")
    device_speed, device_time = device.time_terms()
    servers = [t.server.time_terms() for t in targets]
    return CostInputs(
        work_ops=[task.work_ops], input_bits=[task.input_bits], output_bits=[task.output_bits],
        deadline_s=[task.deadline_s], device_speed_ops_per_s=device_speed, device_time_s=device_time,
        device_compute_power_w=device.compute_power_w, idle_power_w=device.idle_power_w, tx_power_w=device.tx_power_w,
        rx_power_w=device.rx_power_w, tail_energy_j=device.tail_energy_j,
        server_speed_ops_per_s=[s for s, _ in servers], server_time_s=[t for _, t in servers],
        server_compute_power_w=[t.server.compute_power_w for t in targets], wait_s=[t.server.wait_s for t in targets],
        uplink_bps=[t.link.uplink_bps for t in targets], downlink_bps=[t.link.downlink_bps for t in targets],
        round_trip_s=[t.link.round_trip_s for t in targets], target_names=[t.name for t in targets],
    )


def task_costs(task: Task, device: Device, targets: Sequence[Target]) -> CostArrays:
    """Costs of one task on its device and on each target: :func:`cost_arrays` with one row."""
    return cost_arrays(inputs_from_profiles(task, device, targets))
