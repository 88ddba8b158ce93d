"""The sweep directory: an append-only JSON Lines file of run records plus a small manifest.

Layout of ``DIR``:

- ``runs.jsonl``: one record per finished run, appended and fsynced as it finishes, so a crash loses at most the
  line being written (a torn last line is dropped when the store is reopened and that run is redone; a damaged
  line - blank, garbage, not a record - is skipped and reported, and every good record is kept);
- ``sweep.json``: the manifest of the latest sweep written to ``DIR`` (scenario, swept paths, planned run keys);
- ``.lock``: held while a sweep writes, so two sweeps never interleave in one directory; ``.lock.owner`` names the
  holder (host and pid), so a lock left behind by a dead sweep (its descriptor inherited by a process that outlived
  it) is recognised as stale and broken instead of blocking every rerun.

A record is ``{"key", "status": "ok"|"error", "point", "params", "replication", "seed", "result", "error",
"elapsed_s", "worker"}``; the last record of a key wins.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import psutil
from filelock import FileLock, Timeout

from offload.errors import MecsimError
from simulator.files import os_errors, write_text

logger = logging.getLogger(__name__)

RUNS_FILE = "runs.jsonl"
MANIFEST_FILE = "sweep.json"
LOCK_FILE = ".lock"
OWNER_FILE = ".lock.owner"
STATUSES = ("ok", "error")


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
        self.damaged: list[int] = []

    def __enter__(self) -> ResultStore:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._lock = _acquire(self.directory)
            path = self.directory / RUNS_FILE
            _drop_torn_tail(path)
            self.damaged = []
            self.status = {record["key"]: record["status"] for record in read_records(self.directory, self.damaged)}
            self._runs = path.open("ab")
        except OSError as error:
            self.__exit__(None, None, None)
            raise MecsimError(f"{error.filename or self.directory}: {error.strerror or error}") from None
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self._runs is not None:
            self._runs.close()
        if self._lock is not None:
            (self.directory / OWNER_FILE).unlink(missing_ok=True)
            self._lock.release()
        self._runs, self._lock = None, None

    def saved(self, keys: Iterable[str]) -> int:
        """How many of ``keys`` have a finished record on disk (read back from the file, not counted in memory)."""
        wanted = set(keys)
        return len({record["key"] for record in read_records(self.directory)} & wanted)

    def append(self, record: Mapping[str, Any]) -> None:
        """Write one record and force it to disk before returning."""
        if self._runs is None:
            raise MecsimError("ResultStore.append called outside its 'with' block")
        with os_errors(self.directory / RUNS_FILE):
            self._runs.write((json.dumps(record, sort_keys=True, allow_nan=True) + "\n").encode())
            self._runs.flush()
            os.fsync(self._runs.fileno())
        self.status[record["key"]] = record["status"]

    def write_manifest(self, manifest: Mapping[str, Any]) -> None:
        """Replace ``sweep.json`` atomically (write a temporary file, then rename)."""
        write_text(self.directory / MANIFEST_FILE, json.dumps(manifest, indent=1, sort_keys=True))


def read_records(directory: str | Path, damaged: list[int] | None = None) -> Iterator[dict[str, Any]]:
    """Yield the records of ``directory/runs.jsonl`` in file order, skipping a torn (unterminated) last line and
    every damaged line (blank, not JSON, not a record); the numbers of skipped lines are appended to ``damaged``."""
    path = Path(directory) / RUNS_FILE
    if not path.exists():
        return
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.endswith(b"\n"):
                logger.warning("%s:%d: ignoring an unfinished record (interrupted write)", path, number)
                return
            record = _parse(line)
            if record is None:
                logger.warning("%s:%d: skipping a damaged line (not a run record)", path, number)
                if damaged is not None:
                    damaged.append(number)
                continue
            yield record


def _parse(line: bytes) -> dict[str, Any] | None:
    """The record on ``line``, or None when the line is not one (blank, garbage, wrong shape)."""
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None
    if not isinstance(record, dict) or not isinstance(record.get("key"), str) or record.get("status") not in STATUSES:
        return None
    return record


def _acquire(directory: Path) -> FileLock:
    """Take the directory's lock, breaking it once if the sweep that holds it is dead.

    The OS lock dies with its descriptor, but a descriptor inherited by a forked worker that outlived its sweep keeps
    it: the owner file tells such a stale lock from a live sweep.
    """
    lock = FileLock(directory / LOCK_FILE)  # an OS lock (fcntl / msvcrt): released when every holder is gone
    if not _try_lock(lock):
        owner = _owner(directory)
        holder = "" if owner is None else f" (process {owner['pid']} on {owner['host']})"
        busy = MecsimError(f"{directory}: another sweep is writing to this directory{holder}")
        if owner is None or _alive(owner):
            raise busy
        logger.warning("%s: breaking the stale lock of dead process %d", directory, owner["pid"])
        (directory / LOCK_FILE).unlink()  # whoever inherited the old descriptor keeps the old file; we lock a new one
        lock = FileLock(directory / LOCK_FILE)
        if not _try_lock(lock):
            raise busy
    write_text(directory / OWNER_FILE, json.dumps({"host": socket.gethostname(), "pid": os.getpid()}))
    return lock


def _try_lock(lock: FileLock) -> bool:
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return False
    return True


def _owner(directory: Path) -> dict[str, Any] | None:
    """The recorded holder of the lock, or None if unknown (no owner file, unreadable, another host)."""
    try:
        owner = json.loads((directory / OWNER_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(owner, dict) or owner.get("host") != socket.gethostname() or not isinstance(owner.get("pid"),
                                                                                                   int):
        return None
    return owner


def _alive(owner: dict[str, Any]) -> bool:
    """Whether the process ``owner["pid"]`` still runs (a zombie waiting to be reaped does not)."""
    try:
        return bool(psutil.Process(owner["pid"]).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def read_manifest(directory: str | Path) -> dict[str, Any] | None:
    """The manifest of ``directory``, or None if no sweep wrote one.

    Raises
    ------
    MecsimError
        The file cannot be read or holds no manifest (it is written atomically, so only an outside edit damages it).
    """
    path = Path(directory) / MANIFEST_FILE
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_bytes())
    except OSError as error:
        raise MecsimError(f"{path}: cannot read: {error.strerror or error}") from None
    except (ValueError, RecursionError):
        manifest = None
    if not isinstance(manifest, dict):
        raise MecsimError(f"{path}: is not a sweep manifest (damaged); remove it and rerun the sweep to rewrite it")
    return manifest


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
