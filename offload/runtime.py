"""Run-time estimates a device can make from what it observes, and execution times of arrays of tasks.

Used by the simulator's queue-aware policy and its engine; pure numpy like the rest of :mod:`offload`.

Sources: fair (egalitarian processor-sharing) share of a channel, Kleinrock Vol. 2 §4.4; the expected FIFO wait of
an arrival that finds ``n`` tasks at ``c`` busy workers with exponential services of mean ``s`` is
``(n − c + 1)⁺ · s / c`` (Kleinrock Vol. 1 §3.5, conditional form of the M/M/c waiting time).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from offload.formulas import compute_time_s
from offload.profiles import Executor
from offload.validate import check_array_non_negative, check_array_positive

FloatArray = npt.NDArray[np.float64]


def fair_share_bps(capacity_bps: npt.ArrayLike, active: npt.ArrayLike) -> FloatArray:
    """Rate each of ``active`` concurrent transfers gets on a fairly shared channel: ``C / max(active, 1)``."""
    capacity = check_array_positive("capacity_bps", capacity_bps)
    n = check_array_non_negative("active", active)
    return np.asarray(capacity / np.maximum(n, 1.0), dtype=np.float64)


def table_rate_bps(clients: Sequence[int], per_client_bps: Sequence[float], active: npt.ArrayLike) -> FloatArray:
    """Per-client rate from a measured throughput-vs-clients table.

    Linear interpolation between the measured points; fewer clients than the first point get the first rate;
    beyond the last point the aggregate ``clients[-1] · per_client_bps[-1]`` is shared fairly.
    """
    n = np.maximum(check_array_non_negative("active", active), 1.0)
    x = np.asarray(clients, dtype=np.float64)
    y = np.asarray(per_client_bps, dtype=np.float64)
    inside = np.interp(n, x, y)
    beyond = x[-1] * y[-1] / n
    return np.asarray(np.where(n > x[-1], beyond, inside), dtype=np.float64)


def backlog_wait_s(in_system: npt.ArrayLike, workers: npt.ArrayLike, mean_service_s: npt.ArrayLike) -> FloatArray:
    """Expected FIFO wait of a new arrival that finds ``in_system`` tasks at ``workers`` workers.

    ``(in_system − workers + 1)⁺ · mean_service_s / workers``: the arrival waits for that many departures, which
    happen at rate ``workers / mean_service_s`` while every worker is busy.
    """
    n = check_array_non_negative("in_system", in_system)
    c = check_array_positive("workers", workers)
    s = check_array_non_negative("mean_service_s", mean_service_s)
    return np.asarray(np.maximum(n - c + 1.0, 0.0) * s / c, dtype=np.float64)


def load_from_in_system(in_system: npt.ArrayLike, workers: npt.ArrayLike) -> FloatArray:
    """Per-worker load a queue would have if ``in_system`` were its mean number of tasks.

    Inverts the M/M/1 mean ``N = ρ / (1 − ρ)`` per worker: ``ρ = n / (1 + n)`` with ``n = in_system / workers``
    (exact for one worker, an approximation for several). Always below 1.
    """
    n = check_array_non_negative("in_system", in_system) / check_array_positive("workers", workers)
    return np.asarray(n / (1.0 + n), dtype=np.float64)


def executor_time_s(executor: Executor, work_ops: npt.ArrayLike) -> FloatArray:
    """Vectorised :meth:`offload.profiles.Executor.time_s`: the measured time if given, else work over speed."""
    work = np.asarray(work_ops, dtype=np.float64)
    time = compute_time_s(work, *executor.time_terms())
    if isinstance(time, np.ndarray) and time.shape == work.shape:
        return time
    return np.full(work.shape, time, dtype=np.float64)


def executors_time_s(executors: Sequence[Executor], work_ops: npt.ArrayLike) -> FloatArray:
    """Execution time of every task (rows of ``work_ops``, shape ``(tasks, 1)``) on every executor (columns):
    :func:`executor_time_s` for several executors at once."""
    terms = [e.time_terms() for e in executors]
    speed = np.array([s for s, _ in terms], dtype=np.float64)
    fixed = np.array([f for _, f in terms], dtype=np.float64)
    return np.asarray(compute_time_s(np.asarray(work_ops, dtype=np.float64), speed, fixed), dtype=np.float64)


def batch_time_s(t0_s: float, per_item_s: float, batch_size: npt.ArrayLike) -> FloatArray:
    """Service time of a batch of ``batch_size`` tasks: ``t0_s + per_item_s · batch_size``."""
    return np.asarray(t0_s + per_item_s * np.asarray(batch_size, dtype=np.float64), dtype=np.float64)
