"""What the worker processes of one ``mecsim serve --workers N`` share: a folder with every worker's counters and one
ordered log of observations.

uvicorn's workers are separate processes, each answering the requests the kernel hands it. So that ``/monitor``,
``/metrics`` and ``/state`` describe the service rather than whichever worker answers, and so that a measurement
reported to one worker steers the decisions of all:

* each worker keeps its counters in its own file-backed array (:func:`counter_array`); a report sums the arrays of
  every worker that has served (a worker's counts stay after it exits, as served requests do);
* ``/observe`` appends its parsed measurements to one log (:class:`ObservationLog`) in a single ``write`` under an
  exclusive lock; every worker folds new log lines into its estimates, in log order, before it uses them, so all
  workers hold the same estimates.

The ``serve`` command creates the folder, names it in :data:`SHARED_VARIABLE` and removes it when the service stops.
One worker needs none of this and keeps everything in memory.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

SHARED_VARIABLE = "MECSIM_SERVE_SHARED"
STARTED_FILE = "started"
LOG_FILE = "observations.log"
COUNTERS = "counters-*.bin"


def create(folder: Path) -> None:
    """Prepare ``folder`` (created by the caller) for a service starting now."""
    (folder / STARTED_FILE).write_text(repr(time.monotonic()))
    (folder / LOG_FILE).touch()


def started_s(folder: Path) -> float:
    """When the service started (``time.monotonic`` seconds, shared by every process of the machine)."""
    return float((folder / STARTED_FILE).read_text())


def counter_array(folder: Path, size: int) -> npt.NDArray[np.int64]:
    """This process's counters: ``size`` int64 zeros in a file of the folder, mapped into memory."""
    path = folder / COUNTERS.replace("*", str(os.getpid()))
    return np.lib.format.open_memmap(path, mode="w+", dtype=np.int64, shape=(size,))


def all_counters(folder: Path, size: int) -> npt.NDArray[np.int64]:
    """The element-wise sum of every worker's counters."""
    total = np.zeros(size, dtype=np.int64)
    for path in folder.glob(COUNTERS):
        total += np.load(path, mmap_mode="r")
    return total


class ObservationLog:
    """An append-only log of observations ``(key, quantity, value, time_s)`` shared by the workers, one JSON array
    per line; :meth:`read_new` returns the complete lines not yet read by this process."""

    def __init__(self, folder: Path) -> None:
        self.fd = os.open(folder / LOG_FILE, os.O_RDWR | os.O_APPEND)
        self.offset = 0

    def append(self, entries: list[tuple[str, str, float, float]]) -> None:
        """Add ``entries`` in one write, after every entry already logged."""
        data = b"".join(orjson.dumps(entry) + b"\n" for entry in entries)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        try:
            os.write(self.fd, data)
        finally:
            fcntl.flock(self.fd, fcntl.LOCK_UN)

    def read_new(self) -> list[Any]:
        """The entries logged since the last call (only whole lines: a line being written waits for the next)."""
        size = os.fstat(self.fd).st_size
        if size == self.offset:
            return []
        data = os.pread(self.fd, size - self.offset, self.offset)
        complete = data.rfind(b"\n") + 1
        self.offset += complete
        return [orjson.loads(line) for line in data[:complete].splitlines()]
