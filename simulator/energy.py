"""Device energy of finished tasks from their realised stage durations (:func:`offload.formulas.device_energy_j`,
the device view of :mod:`offload.cost` applied to measured times), vectorised over a chunk of records.

A dropped or unfinished task is charged for the stages it completed only.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from offload.formulas import device_energy_j

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Record column of each energy term → the device power (or tail energy) it charges.
POWER_TERMS = {
    "energy_compute_j": "compute_power_w",
    "energy_tx_j": "tx_power_w",
    "energy_rx_j": "rx_power_w",
    "energy_idle_j": "idle_power_w",
    "energy_tail_j": "tail_energy_j",
}


def _span(end: FloatArray, start: FloatArray) -> FloatArray:
    return np.nan_to_num(end - start, nan=0.0)


def meter(times: dict[str, FloatArray], local: BoolArray, powers: dict[str, FloatArray], *,
          earlier_tx_s: FloatArray | float = 0.0, earlier_wait_s: FloatArray | float = 0.0) -> dict[str, FloatArray]:
    """Energy (J) per task and its breakdown.

    Parameters
    ----------
    times : dict of arrays
        Record columns ``upload_start_s``, ``upload_end_s``, ``queue_entry_s``, ``service_start_s``,
        ``service_end_s``, ``download_start_s``, ``download_end_s`` (NaN for a stage that did not happen).
    local : bool array
        Tasks executed on the device.
    powers : dict of arrays
        Per task: the device's :data:`POWER_TERMS` values.
    earlier_tx_s, earlier_wait_s : arrays or float
        Per task: the time its device sent and waited (idle) on the task's earlier attempts, when it was retried
        (:mod:`simulator.lifecycle.retry`); added to its recorded attempt's upload and away times.

    Returns
    -------
    dict
        ``energy_j`` and the five ``energy_*_j`` terms.
    """
    compute = _span(times["service_end_s"], times["service_start_s"])
    wait = _span(times["service_start_s"], times["queue_entry_s"])
    remote_compute = np.where(local, 0.0, compute)
    away = times["download_start_s"] - times["upload_end_s"]
    network = np.maximum(np.where(np.isnan(away), 0.0, away - wait - compute), 0.0)
    energy = device_energy_j(
        local=local, compute_s=np.where(local, compute, 0.0),
        upload_s=_span(times["upload_end_s"], times["upload_start_s"]) + earlier_tx_s,
        download_s=_span(times["download_end_s"], times["download_start_s"]),
        away_s=network + wait + remote_compute + earlier_wait_s, **powers)
    return {"energy_j": energy.total_j, "energy_compute_j": energy.compute_j, "energy_tx_j": energy.tx_j,
            "energy_rx_j": energy.rx_j, "energy_idle_j": energy.idle_j, "energy_tail_j": energy.tail_j}
