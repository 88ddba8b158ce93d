"""Device energy of finished tasks, charged exactly as :func:`offload.evaluate_costs` defines it.

The realised stage durations of each task (upload, network, queue wait, remote compute, download, or local
compute) are fed back into the cost model, vectorised over a chunk of records: the device energy of the option the
task took is its energy. The model is linear in the powers, so each term (compute, transmit, receive, idle while
waiting, radio tail) is the same call with only that power non-zero; the terms sum to the total.
A dropped or unfinished task is charged for the stages it completed only.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from offload.cost import evaluate_costs

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

POWER_TERMS = {
    "energy_compute_j": "device_compute_power_w",
    "energy_tx_j": "tx_power_w",
    "energy_rx_j": "rx_power_w",
    "energy_idle_j": "idle_power_w",
    "energy_tail_j": "tail_energy_j",
}


def _rate_bps(bits: FloatArray, duration_s: FloatArray) -> FloatArray:
    """The effective rate that makes the cost model's transfer time equal the realised one."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(duration_s > 0, bits / duration_s, np.inf)


def _span(end: FloatArray, start: FloatArray) -> FloatArray:
    return np.nan_to_num(end - start, nan=0.0)


def meter(times: dict[str, FloatArray], local: BoolArray, powers: dict[str, FloatArray]) -> dict[str, FloatArray]:
    """Energy (J) per task and its breakdown.

    Parameters
    ----------
    times : dict of arrays
        Record columns ``upload_start_s``, ``upload_end_s``, ``queue_entry_s``, ``service_start_s``,
        ``service_end_s``, ``download_start_s``, ``download_end_s``, ``input_bits``, ``output_bits`` (NaN for a
        stage that did not happen).
    local : bool array
        Tasks executed on the device.
    powers : dict of arrays
        Per task: the :data:`POWER_TERMS` parameters of :func:`offload.evaluate_costs`.

    Returns
    -------
    dict
        ``energy_j`` and the five ``energy_*_j`` terms.
    """
    compute = _span(times["service_end_s"], times["service_start_s"])
    upload = _span(times["upload_end_s"], times["upload_start_s"])
    download = _span(times["download_end_s"], times["download_start_s"])
    wait = _span(times["service_start_s"], times["queue_entry_s"])
    away = times["download_start_s"] - times["upload_end_s"]
    network = np.where(np.isnan(away), 0.0, away - wait - compute)
    network = np.maximum(network, 0.0)
    local_compute = np.where(local, compute, 0.0)
    remote_compute = np.where(local, 0.0, compute)
    zero = np.zeros_like(compute)

    def device_energy(**power: FloatArray) -> FloatArray:
        costs = evaluate_costs(
            local_compute_s=local_compute, input_bits=times["input_bits"], output_bits=times["output_bits"],
            remote_compute_s=remote_compute[:, None], uplink_bps=_rate_bps(times["input_bits"], upload)[:, None],
            downlink_bps=_rate_bps(times["output_bits"], download)[:, None], round_trip_s=network[:, None],
            wait_s=wait[:, None], device_compute_power_w=power.get("device_compute_power_w", zero),
            idle_power_w=power.get("idle_power_w", zero), tx_power_w=power.get("tx_power_w", zero),
            rx_power_w=power.get("rx_power_w", zero), tail_energy_j=power.get("tail_energy_j", zero))
        chosen = np.where(local, costs.device_energy_j[:, 0], costs.device_energy_j[:, 1])
        return np.asarray(chosen, dtype=np.float64)

    result = {"energy_j": device_energy(**powers)}
    for column, name in POWER_TERMS.items():
        result[column] = device_energy(**{name: powers[name]})
    return result
