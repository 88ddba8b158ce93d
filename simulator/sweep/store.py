"""The sweep directory: an append-only JSON Lines file of run records plus a small manifest.

Layout of ``DIR``:

- ``runs.jsonl``: one record per finished run, appended and fsynced as it finishes, so a crash loses at most the
  line being written (a torn last line is dropped when the store is reopened and that run is redone);
- ``sweep.json``: the manifest of the latest sweep written to ``DIR`` (scenario, swept paths, planned run keys);
- ``.lock``: held while a sweep writes, so two sweeps never interleave in one directory.

A record is ``{"key", "status": "ok"|"error", "point", "params", "replication", "seed", "result", "error",
"elapsed_s", "worker"}``; the last record of a key wins.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from filelock import FileLock, Timeout

from offload.errors import MecsimError

logger = logging.getLogger(__name__)

RUNS_FILE = "runs.jsonl"
MANIFEST_FILE = "sweep.json"
LOCK_FILE = ".lock"


class ResultStore:
    """Crash-safe appender for the records of one sweep directory; use as a context manager.

    Parameters
    ----------
    directory : str or Path
        Created if missing.
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self._lock: FileLock | None = None
        self._runs: IO[bytes] | None = None
        self.status: dict[str, str] = {}

    def __enter__(self) -> ResultStore:
        self.directory.mkdir(parents=True, exist_ok=True)
        lock = FileLock(self.directory / LOCK_FILE)  # an OS lock (fcntl / msvcrt): released if the process dies
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise MecsimError(f"{self.directory}: another sweep is writing to this directory") from None
        self._lock = lock
        path = self.directory / RUNS_FILE
        _drop_torn_tail(path)
        self.status = {record["key"]: record["status"] for record in read_records(self.directory)}
        self._runs = path.open("ab")
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self._runs is not None:
            self._runs.close()
        if self._lock is not None:
            self._lock.release()
        self._runs, self._lock = None, None

    def append(self, record: Mapping[str, Any]) -> None:
        """Write one record and force it to disk before returning."""
        if self._runs is None:
            raise MecsimError("ResultStore.append called outside its 'with' block")
        self._runs.write((json.dumps(record, sort_keys=True, allow_nan=True) + "\n").encode())
        self._runs.flush()
        os.fsync(self._runs.fileno())
        self.status[record["key"]] = record["status"]

    def write_manifest(self, manifest: Mapping[str, Any]) -> None:
        """Replace ``sweep.json`` atomically (write a temporary file, then rename)."""
        path = self.directory / MANIFEST_FILE
        temporary = path.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(manifest, indent=1, sort_keys=True))
        os.replace(temporary, path)


def read_records(directory: str | Path) -> Iterator[dict[str, Any]]:
    """Yield the records of ``directory/runs.jsonl`` in file order, skipping a torn (unterminated) last line."""
    path = Path(directory) / RUNS_FILE
    if not path.exists():
        return
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.endswith(b"\n"):
                logger.warning("%s:%d: ignoring an unfinished record (interrupted write)", path, number)
                return
            yield json.loads(line)


def read_manifest(directory: str | Path) -> dict[str, Any] | None:
    """The manifest of ``directory``, or None if no sweep wrote one."""
    path = Path(directory) / MANIFEST_FILE
    return json.loads(path.read_text()) if path.exists() else None


def _drop_torn_tail(path: Path) -> None:
    """Truncate a partial last line left by a crash mid-write so appends start on a fresh line."""
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb+") as handle:
        data = handle.read()
        if data.endswith(b"\n"):
            return
        keep = data.rfind(b"\n") + 1
        logger.warning("%s: dropping an unfinished last record (%d bytes); that run is redone", path,
                       len(data) - keep)
        handle.truncate(keep)
