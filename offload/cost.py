"""Vectorised cost of every way to run each task: local execution (column 0) and each remote target.

Every function broadcasts over numpy arrays shaped ``(tasks,)`` for task/device quantities and ``(tasks, targets)``
(or ``(targets,)``) for target quantities. The scalar path, :func:`task_costs`, is the batch path with one task.

Latency (per option)
    local   T_l = t_local
    remote  T_r = D / B_up + RTT + W_queue + t_remote + R / B_down
Energy, two views (per option)
    device  E_l = P_compute t_local;  E_r = P_tx D/B_up + P_rx R/B_down + P_idle (RTT + W + t_remote) + E_tail
    system  E_l = P_compute t_local;  E_r = P_tx D/B_up + P_rx R/B_down + P_server t_remote

With RTT = W = R = 0 the latency and system-energy rules reduce exactly to rules (1) and (2) of the seed article
(Zhang et al., "An edge-AI deployment platform", IEEE EDGE 2020): ``C/Pd > C/Pe + D/Bc`` and
``C·Ed/Pd > C·Ee/Pe + D·Ec/Bc``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from offload.errors import ParameterError
from offload.profiles import Device, Target, Task

FloatArray = npt.NDArray[np.float64]
LOCAL = "local"


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


def transfer_time_s(bits: npt.ArrayLike, rate_bps: npt.ArrayLike) -> FloatArray:
    """Time to move ``bits`` at ``rate_bps``; zero bits take zero time even at an infinite rate."""
    bits_a = np.asarray(bits, dtype=np.float64)
    rate_a = np.asarray(rate_bps, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(bits_a == 0, 0.0, bits_a / rate_a)


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
    server_power_w: npt.ArrayLike = 0.0,
    target_names: Sequence[str] | None = None,
) -> CostArrays:
    """Price local execution and every remote target for every task.

    Parameters
    ----------
    local_compute_s, input_bits, output_bits : array_like, shape (tasks,)
        Local execution time, data sent, result returned.
    remote_compute_s, uplink_bps, downlink_bps, round_trip_s, wait_s, server_power_w : array_like
        Per target, shape ``(targets,)`` or ``(tasks, targets)``.
    device_compute_power_w, idle_power_w, tx_power_w, rx_power_w, tail_energy_j : array_like, shape (tasks,)
        The device's power draw in each state and its radio tail energy per offload.
    target_names : sequence of str, optional
        Names of the remote targets; default ``remote0, remote1, ...``.

    Returns
    -------
    CostArrays
        Shape ``(tasks, 1 + targets)``; column 0 is local.
    """
    local = np.atleast_1d(np.asarray(local_compute_s, dtype=np.float64))
    column = local[:, None]

    def per_task(value: npt.ArrayLike) -> FloatArray:
        return np.broadcast_to(np.asarray(value, dtype=np.float64), local.shape)[:, None]

    def per_target(value: npt.ArrayLike) -> FloatArray:
        array = np.asarray(value, dtype=np.float64)
        return array[None, :] if array.ndim == 1 else np.atleast_2d(array)

    remote = per_target(remote_compute_s)
    n_targets = int(np.broadcast_shapes(remote.shape, per_target(uplink_bps).shape, (1, 1))[1])
    names = tuple(target_names) if target_names is not None else tuple(f"remote{j}" for j in range(n_targets))
    if len(names) != n_targets:
        raise ParameterError("target_names", names, f"needs one name per target ({n_targets})")
    shape = (local.shape[0], n_targets)

    upload = np.broadcast_to(transfer_time_s(per_task(input_bits), per_target(uplink_bps)), shape)
    download = np.broadcast_to(transfer_time_s(per_task(output_bits), per_target(downlink_bps)), shape)
    rtt = np.broadcast_to(per_target(round_trip_s), shape)
    wait = np.broadcast_to(per_target(wait_s), shape)
    remote = np.broadcast_to(remote, shape)
    waiting = rtt + wait + remote
    latency_remote = upload + download + waiting
    radio_j = per_task(tx_power_w) * upload + per_task(rx_power_w) * download
    device_remote = radio_j + per_task(idle_power_w) * waiting + per_task(tail_energy_j)
    system_remote = radio_j + per_target(server_power_w) * remote
    local_energy = per_task(device_compute_power_w) * column

    zeros = np.zeros_like(column)
    return CostArrays(
        options=(LOCAL, *names),
        upload_s=np.hstack([zeros, upload]),
        round_trip_s=np.hstack([zeros, rtt]),
        wait_s=np.hstack([zeros, wait]),
        compute_s=np.hstack([column, remote]),
        download_s=np.hstack([zeros, download]),
        latency_s=np.hstack([column, latency_remote]),
        device_energy_j=np.hstack([local_energy, device_remote]),
        system_energy_j=np.hstack([local_energy, system_remote]),
    )


def task_costs(task: Task, device: Device, targets: Sequence[Target]) -> CostArrays:
    """Costs of one task on its device and on each target: :func:`evaluate_costs` with one row."""
    if not targets:
        raise ParameterError("targets", targets, "needs at least one remote target")
    return evaluate_costs(
        local_compute_s=[device.time_s(task)],
        input_bits=[task.input_bits],
        output_bits=[task.output_bits],
        remote_compute_s=[t.server.time_s(task) for t in targets],
        uplink_bps=[t.link.uplink_bps for t in targets],
        downlink_bps=[t.link.downlink_bps for t in targets],
        round_trip_s=[t.link.round_trip_s for t in targets],
        wait_s=[t.server.wait_s for t in targets],
        device_compute_power_w=device.compute_power_w,
        idle_power_w=device.idle_power_w,
        tx_power_w=device.tx_power_w,
        rx_power_w=device.rx_power_w,
        tail_energy_j=device.tail_energy_j,
        server_power_w=[t.server.compute_power_w for t in targets],
        target_names=[t.name for t in targets],
    )
