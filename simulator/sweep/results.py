"""Load a sweep directory into one tidy pandas DataFrame: one row per (run, policy).

Columns: ``key``, ``replication``, ``seed``, ``status`` (``ok``/``error``), ``error``, one column per swept path
(named by the path, holding the resolved value - SI numbers where the scenario converts units), ``policy``, then
the metrics of that policy flattened with dots (``latency_s.p95``, ``energy_j_per_task``,
``monitor.plates.avg_qpm``). A result without a ``policies`` mapping gives one row per run with ``policy`` empty.
``DataFrame.attrs`` holds ``parameters`` and ``metrics``, the two lists of column names.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from offload.errors import MecsimError
from simulator.sweep.store import RUNS_FILE, read_manifest, read_records

RUN_COLUMNS = ("key", "replication", "seed", "status", "error")


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten nested mappings into ``{"a.b": value}``.

    Examples
    --------
    >>> flatten({"latency_s": {"mean": 0.1, "p95": 0.3}, "offload_fraction": 1.0})
    {'latency_s.mean': 0.1, 'latency_s.p95': 0.3, 'offload_fraction': 1.0}
    """
    flat: dict[str, Any] = {}
    for name, value in data.items():
        column = f"{prefix}{name}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{column}."))
        else:
            flat[column] = value
    return flat


def load_results(directory: str | Path, *, include_failed: bool = True, all_runs: bool = False) -> pd.DataFrame:
    """Read ``directory`` (written by :func:`simulator.sweep.run_sweep`) into a tidy DataFrame.

    Parameters
    ----------
    directory : str or Path
        The sweep directory.
    include_failed : bool
        Keep runs whose run function raised (one row each, metrics empty, ``error`` set).
    all_runs : bool
        Also keep records of earlier sweeps in the same directory that the latest sweep did not plan.

    Raises
    ------
    MecsimError
        ``directory`` holds no sweep.
    """
    directory = Path(directory)
    manifest = read_manifest(directory)
    if manifest is None and not (directory / RUNS_FILE).exists():
        raise MecsimError(f"{directory}: not a sweep directory (no {RUNS_FILE})")
    latest = {record["key"]: record for record in read_records(directory)}
    order = {key: index for index, key in enumerate((manifest or {}).get("runs", latest))}
    keys = sorted((key for key in latest if all_runs or key in order), key=lambda key: (order.get(key, math.inf), key))
    parameters = list((manifest or {}).get("parameters", []))
    for key in keys:
        parameters.extend(path for path in latest[key].get("params", {}) if path not in parameters)
    rows: list[dict[str, Any]] = []
    metrics: dict[str, None] = {}
    for key in keys:
        record = latest[key]
        if record["status"] != "ok" and not include_failed:
            continue
        base = {column: record.get(column) for column in RUN_COLUMNS}
        base.update({path: record.get("params", {}).get(path) for path in parameters})
        for policy, values in _per_policy(record.get("result") or {}):
            flat = flatten(values)
            metrics.update(dict.fromkeys(flat))
            rows.append({**base, "policy": policy, **flat})
    columns = [*RUN_COLUMNS, *parameters, "policy", *metrics]
    frame = pd.DataFrame(rows, columns=columns)
    frame.attrs["parameters"] = parameters
    frame.attrs["metrics"] = list(metrics)
    return frame


def _per_policy(result: Mapping[str, Any]) -> list[tuple[str | None, Mapping[str, Any]]]:
    policies = result.get("policies")
    if isinstance(policies, Mapping) and policies:
        return [(str(name), values if isinstance(values, Mapping) else {"value": values})
                for name, values in policies.items()]
    return [(None, result)]
