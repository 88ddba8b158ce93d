"""Partial offloading of a divisible task: a fraction ``λ`` runs remotely while ``1 − λ`` runs locally, in parallel.

Model (Wang et al., "Mobile-Edge Computing: Partial Computation Offloading Using Dynamic Voltage Scaling",
IEEE TCOM 2016; Mach & Becvar, IEEE COMST 2017, §IV): the remote share's upload, remote compute and download scale
with ``λ``, the round trip and queueing wait are paid once when ``λ > 0``:

    local branch   T_l(λ) = (1 − λ) t_local                      (fixed speed; DVFS stretches it to the deadline)
    remote branch  T_r(λ) = λ t_remote + t_fixed · [λ > 0]        t_remote = D/B_up + C/f_edge + R/B_down
    latency        T(λ)   = max(T_l, T_r)
    energy         E(λ)   = (1 − λ) e_local + κ C³ (1 − λ)³ / T_d² + λ e_remote + e_fixed · [λ > 0]

``e_local`` is the fixed-power energy of the whole task run locally (0 when the device uses DVFS, then ``κ > 0``
prices the local share at the slowest frequency meeting the deadline ``T_d``, see :mod:`offload.dvfs`);
``e_remote`` the energy of offloading the whole task (radio, and the server's energy in the system view);
``e_fixed`` what any offload pays once (the radio tail).

Both optima are closed forms, vectorised over tasks:

- latency: the branches balance, ``λ* = (t_local − t_fixed) / (t_local + t_remote)`` clipped to [0, 1];
- energy under the deadline: ``E`` is convex on ``(0, 1]`` with stationary point
  ``1 − λ* = sqrt((e_remote − e_local) / (3 κ C³ / T_d²))``; it is clipped to the interval the deadline allows
  (``λ >= 1 − T_d / t_local`` for the local branch, ``λ <= (T_d − t_fixed) / t_remote`` for the remote one) and
  compared with ``λ = 0`` (which saves ``e_fixed``). Without DVFS ``E`` is linear and the optimum is an end point.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from offload.cost import local_arguments, local_option, remote_arguments, remote_option
from offload.decision import EnergyView, Objective, Preference
from offload.dvfs import dvfs_energy_j
from offload.errors import ParameterError
from offload.formulas import compute_energy_j, offload_system_energy_j, radio_energy_j
from offload.inputs import CostInputs

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class PartialSplit:
    """The chosen split of every task: offloaded ``fraction`` in [0, 1], its latency and energy, and whether it
    meets the deadline (an infeasible task gets the latency-optimal split)."""

    fraction: FloatArray
    latency_s: FloatArray
    energy_j: FloatArray
    feasible: BoolArray


def branch_times_s(fraction: npt.ArrayLike, local_s: npt.ArrayLike, remote_s: npt.ArrayLike,
                   fixed_s: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Duration of the local and the remote branch at a fixed device speed: ``(1 − λ) t_local`` and
    ``λ t_remote + t_fixed [λ > 0]``."""
    fraction = np.asarray(fraction, dtype=np.float64)
    local = np.multiply(np.subtract(1.0, fraction), local_s)
    remote = np.multiply(fraction, remote_s) + np.multiply(fraction > 0, fixed_s)
    return local, remote


def partial_latency_s(fraction: npt.ArrayLike, local_s: npt.ArrayLike, remote_s: npt.ArrayLike,
                      fixed_s: npt.ArrayLike = 0.0) -> FloatArray:
    """Completion time of a split: the later of the two parallel branches."""
    return np.maximum(*branch_times_s(fraction, local_s, remote_s, fixed_s))


def partial_energy_j(fraction: npt.ArrayLike, *, local_energy_j: npt.ArrayLike, remote_energy_j: npt.ArrayLike,
                     fixed_energy_j: npt.ArrayLike = 0.0, work_ops: npt.ArrayLike = 0.0,
                     kappa_j_s2: npt.ArrayLike = 0.0, deadline_s: npt.ArrayLike = np.inf,
                     local_s: npt.ArrayLike = 0.0) -> FloatArray:
    """Energy of a split (module docstring): fixed-power local share, remote share, the once-per-offload energy when
    ``λ > 0`` and, with DVFS, the local share at ``f = (1 − λ) C / max(T_d, (1 − λ) t_local)``: stretched to the
    deadline but never faster than the maximum frequency ``C / t_local``."""
    fraction = np.asarray(fraction, dtype=np.float64)
    kept = np.subtract(1.0, fraction)
    energy = (np.multiply(kept, local_energy_j) + np.multiply(fraction, remote_energy_j)
              + np.multiply(fraction > 0, fixed_energy_j))
    if not (np.asarray(kappa_j_s2) > 0).any():
        return np.asarray(energy, dtype=np.float64)
    local_ops = np.multiply(kept, work_ops)
    speed = local_ops / np.maximum(deadline_s, np.multiply(kept, local_s))  # the deadline is > 0
    return np.asarray(energy + dvfs_energy_j(local_ops, speed, kappa_j_s2), dtype=np.float64)


def latency_optimal_fraction(local_s: npt.ArrayLike, remote_s: npt.ArrayLike,
                             fixed_s: npt.ArrayLike = 0.0) -> FloatArray:
    """The fraction that balances the branches, ``(t_local − t_fixed) / (t_local + t_remote)``, clipped to [0, 1].

    When ``t_local <= t_fixed`` no split beats running locally (``λ = 0``).
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        balanced = np.divide(np.subtract(local_s, fixed_s), np.add(local_s, remote_s))
    return np.minimum(np.fmax(balanced, 0.0), 1.0)  # fmax: 0/0 (nothing to run anywhere) stays local


def latency_optimal_split(*, local_s: npt.ArrayLike, remote_s: npt.ArrayLike, fixed_s: npt.ArrayLike = 0.0,
                          local_energy_j: npt.ArrayLike = 0.0, remote_energy_j: npt.ArrayLike = 0.0,
                          fixed_energy_j: npt.ArrayLike = 0.0,
                          deadline_s: npt.ArrayLike = np.inf) -> PartialSplit:
    """Minimise the completion time of every task (fixed device speed); energies priced at that split."""
    columns = {"local_s": local_s, "remote_s": remote_s, "fixed_s": fixed_s, "local_energy_j": local_energy_j,
               "remote_energy_j": remote_energy_j, "fixed_energy_j": fixed_energy_j, "deadline_s": deadline_s}
    return _blocked(_latency_optimal_block, {name: np.asarray(v, dtype=np.float64) for name, v in columns.items()})


def _latency_optimal_block(*, local_s: FloatArray, remote_s: FloatArray, fixed_s: FloatArray,
                           local_energy_j: FloatArray, remote_energy_j: FloatArray, fixed_energy_j: FloatArray,
                           deadline_s: FloatArray) -> PartialSplit:
    fraction = latency_optimal_fraction(local_s, remote_s, fixed_s)
    latency = partial_latency_s(fraction, local_s, remote_s, fixed_s)
    energy = partial_energy_j(fraction, local_energy_j=local_energy_j, remote_energy_j=remote_energy_j,
                              fixed_energy_j=fixed_energy_j)
    return PartialSplit(fraction, latency, energy, np.less_equal(latency, deadline_s))


def energy_optimal_split(*, local_s: npt.ArrayLike, remote_s: npt.ArrayLike, deadline_s: npt.ArrayLike,
                         fixed_s: npt.ArrayLike = 0.0, local_energy_j: npt.ArrayLike = 0.0,
                         remote_energy_j: npt.ArrayLike = 0.0, fixed_energy_j: npt.ArrayLike = 0.0,
                         work_ops: npt.ArrayLike = 0.0, kappa_j_s2: npt.ArrayLike = 0.0) -> PartialSplit:
    """Minimise energy subject to ``T(λ) <= deadline_s`` (closed form, module docstring).

    With DVFS (``kappa_j_s2 > 0``) ``local_s`` is the local time at the maximum frequency and the deadline must be
    finite. Tasks no split can finish in time get the latency-optimal split and ``feasible = False``. Long inputs are
    processed in cache-sized blocks.
    """
    columns = {"local_s": local_s, "remote_s": remote_s, "deadline_s": deadline_s, "fixed_s": fixed_s,
               "local_energy_j": local_energy_j, "remote_energy_j": remote_energy_j,
               "fixed_energy_j": fixed_energy_j, "work_ops": work_ops, "kappa_j_s2": kappa_j_s2}
    arrays = {name: np.asarray(value, dtype=np.float64) for name, value in columns.items()}
    if ((arrays["kappa_j_s2"] > 0) & ~np.isfinite(arrays["deadline_s"])).any():
        raise ParameterError("deadline_s", float("inf"), "must be finite when the device uses DVFS (kappa_j_s2 > 0): "
                                                          "without one the local share would run infinitely slowly")
    return _blocked(_energy_optimal_block, arrays)


#: tasks per block: the ~30 temporaries of a block stay in the CPU cache
_BLOCK = 16_384


def _blocked(kernel: Callable[..., PartialSplit], arrays: dict[str, FloatArray]) -> PartialSplit:
    """Run ``kernel`` on cache-sized blocks of 1-D inputs (scalars are shared) and join the results."""
    shape = np.broadcast_shapes(*(a.shape for a in arrays.values()))
    if len(shape) != 1 or shape[0] <= _BLOCK:
        return kernel(**arrays)
    parts = [kernel(**{name: a if a.ndim == 0 else a[start:start + _BLOCK] for name, a in arrays.items()})
             for start in range(0, shape[0], _BLOCK)]
    return PartialSplit(*(np.concatenate([getattr(p, f) for p in parts]) for f in PartialSplit.__slots__))


def _energy_optimal_block(*, local_s: FloatArray, remote_s: FloatArray, deadline_s: FloatArray, fixed_s: FloatArray,
                          local_energy_j: FloatArray, remote_energy_j: FloatArray, fixed_energy_j: FloatArray,
                          work_ops: FloatArray, kappa_j_s2: FloatArray) -> PartialSplit:
    dvfs = bool((kappa_j_s2 > 0).any())
    slope = remote_energy_j - local_energy_j  # dE/dλ of the linear terms
    with np.errstate(invalid="ignore", divide="ignore"):
        if dvfs:
            # energy of the whole task stretched to the deadline
            cubic = kappa_j_s2 * (work_ops * work_ops * work_ops) / (deadline_s * deadline_s)
            kept = np.sqrt(np.maximum(slope, 0.0) / (3.0 * cubic))  # 1 − λ*; inf when κ = 0 and remote costs more
            stationary = np.where(cubic > 0, 1.0 - kept, slope < 0)
        else:
            cubic = np.zeros(())
            stationary = (slope < 0).astype(np.float64)
        low = np.maximum(1.0 - deadline_s / local_s, 0.0)
        high = np.fmin((deadline_s - fixed_s) / remote_s, 1.0)  # fmin: 0/0 (no remote time, no slack) is no limit
    offloaded = np.minimum(np.maximum(stationary, np.maximum(low, _TINY)), np.maximum(high, 0.0))
    can_offload = (low <= high) & (high > 0)
    kept_off = 1.0 - offloaded
    # E(offloaded) − E(0) = λ (e_r − e_l) + e_fixed − E_cubic (1 − (1 − λ)³), negative when offloading saves
    saves = offloaded * slope + fixed_energy_j < cubic * (1.0 - kept_off * kept_off * kept_off)
    local_ok = local_s <= deadline_s
    stay = local_ok & ~(can_offload & saves)
    fallback = latency_optimal_fraction(local_s, remote_s, fixed_s)
    fraction = np.where(stay, 0.0, np.where(can_offload, offloaded, fallback))
    local, remote = branch_times_s(fraction, local_s, remote_s, fixed_s)
    if dvfs:  # a non-empty DVFS local share is stretched to the deadline
        local = np.where((kappa_j_s2 > 0) & (fraction < 1), np.maximum(local, deadline_s), local)
    energy = partial_energy_j(fraction, local_energy_j=local_energy_j, remote_energy_j=remote_energy_j,
                              fixed_energy_j=fixed_energy_j, work_ops=work_ops, kappa_j_s2=kappa_j_s2,
                              deadline_s=deadline_s, local_s=local_s)
    return PartialSplit(fraction, np.maximum(local, remote), energy, local_ok | can_offload)


_TINY = np.finfo(np.float64).tiny


def partial_from_inputs(inputs: CostInputs, preference: Preference, target: int = 0,
                        kappa_j_s2: float = 0.0) -> PartialSplit:
    """The best split of every task of ``inputs`` between the device and remote ``target`` (a column of
    :class:`offload.inputs.CostInputs`), priced with :mod:`offload.cost`'s kernels.

    The remote share scales upload, remote compute and download; the round trip and queueing wait are paid once.
    Energies: the device's compute energy locally; the radio's energy for the remote share (plus the server's in the
    system view); the radio tail once (device view). The device is busy with its share while the remote one runs, so
    no idle power is charged. ``preference.objective`` picks the optimum: latency, or energy under each task's
    deadline (weighted objectives have no split optimum here). ``kappa_j_s2 > 0`` prices the local share with DVFS
    instead of the device's compute power.
    """
    if preference.objective not in (Objective.LATENCY, Objective.ENERGY):
        raise ParameterError("objective", preference.objective.value, "partial offloading optimises latency or energy")
    n = inputs.n_tasks
    local_args = local_arguments(inputs)
    local = local_option(**local_args)
    arguments = remote_arguments(inputs, target, 0, n)
    remote = remote_option(**arguments, device_view=False, system_view=False)
    radio = radio_energy_j(arguments["tx_power_w"], remote.upload_s, arguments["rx_power_w"], remote.download_s)
    system = preference.energy_view is EnergyView.SYSTEM
    terms: dict[str, npt.ArrayLike] = {
        "local_s": np.broadcast_to(np.asarray(local.latency_s, dtype=np.float64), (n,)),  # results have n rows
        "remote_s": np.asarray(np.add(np.add(remote.upload_s, remote.compute_s), remote.download_s)),
        "fixed_s": np.add(arguments["round_trip_s"], arguments["wait_s"]),
        "local_energy_j": 0.0 if kappa_j_s2 > 0 else compute_energy_j(local_args["compute_power_w"], local.compute_s),
        "remote_energy_j": (offload_system_energy_j(radio, arguments["server_compute_power_w"], remote.compute_s)
                            if system else radio),
        "fixed_energy_j": 0.0 if system else arguments["tail_energy_j"],
        "deadline_s": inputs.task_column("deadline_s", 0, n),
    }
    if preference.objective is Objective.LATENCY:
        return latency_optimal_split(**terms)
    return energy_optimal_split(**terms, work_ops=inputs.task_column("work_ops", 0, n), kappa_j_s2=kappa_j_s2)
