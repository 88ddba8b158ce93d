"""Drive a sweep: skip what the directory already holds, run the rest on a backend, append each record as it lands.

Interrupting (Ctrl-C, SIGTERM, a killed process, a crashed node) loses at most the runs in flight; running the same
sweep again into the same directory does only what is missing.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from offload.errors import MecsimError
from simulator.sweep.backends import Backend, ProcessPoolBackend, RunFunction
from simulator.sweep.plan import RunTask
from simulator.sweep.store import MANIFEST_FILE, ResultStore, read_manifest
from simulator.version import mecsim_version

logger = logging.getLogger(__name__)


class SweepInterruptedError(MecsimError):
    """The sweep was stopped (Ctrl-C or SIGTERM) after ``saved`` of ``planned`` runs were safely recorded."""

    def __init__(self, directory: Path, saved: int, planned: int) -> None:
        self.directory, self.saved, self.planned = directory, saved, planned
        super().__init__(f"interrupted: {saved} of {planned} runs saved in {directory}; "
                         "run the same sweep again to resume")


@dataclass(frozen=True, slots=True)
class SweepReport:
    """What one call of :func:`run_sweep` did.

    Parameters
    ----------
    directory : Path
        The sweep directory.
    planned : int
        Runs in the sweep.
    reused : int
        Runs already in the directory, not recomputed.
    computed : int
        Runs finished by this call (including failed ones).
    failed : int
        Runs finished by this call whose run function raised (recorded with their error).
    lost : int
        Runs whose worker died; not recorded, a rerun does them.
    elapsed_s : float
        Wall-clock time of the call.
    damaged : tuple of int
        Line numbers of ``runs.jsonl`` that held no record (blank, garbage) and were skipped.
    """

    directory: Path
    planned: int
    reused: int
    computed: int
    failed: int
    lost: int
    elapsed_s: float
    damaged: tuple[int, ...] = ()


def run_sweep(tasks: Sequence[RunTask], fn: RunFunction, directory: str | Path, *, backend: Backend | None = None,
              retry_failed: bool = False, progress: bool | None = None,
              manifest: Mapping[str, Any] | None = None) -> SweepReport:
    """Run every task not yet recorded in ``directory`` and append its record as soon as it finishes.

    Parameters
    ----------
    tasks : sequence of RunTask
        From :func:`simulator.sweep.plan_runs`.
    fn : callable
        ``fn(scenario, seed) -> mapping``, pure and picklable (a module-level function).
    directory : str or Path
        The dataset directory; created if missing, resumed if it holds records.
    backend : Backend, optional
        Default: a local process pool with one worker per CPU.
    retry_failed : bool
        Also redo runs recorded with an error (by default a recorded failure counts as done).
    progress : bool or None
        Progress bar on stderr; None shows it only on a terminal.
    manifest : mapping, optional
        Extra fields for ``sweep.json`` (scenario source, sweep settings).

    Raises
    ------
    SweepInterruptedError
        On Ctrl-C or SIGTERM, after everything finished so far is on disk; ``saved`` is read back from the file.
    """
    start_s = time.perf_counter()
    backend = backend or ProcessPoolBackend()
    directory = Path(directory)
    store = ResultStore(directory)
    try:
        with _terminate_as_interrupt(), store:
            report = _run(tasks, fn, store, backend, retry_failed=retry_failed, progress=progress, manifest=manifest)
    except KeyboardInterrupt:
        raise SweepInterruptedError(directory, store.saved(task.key for task in tasks), len(tasks)) from None
    return SweepReport(directory, len(tasks), *report, time.perf_counter() - start_s, tuple(store.damaged))


def _run(tasks: Sequence[RunTask], fn: RunFunction, store: ResultStore, backend: Backend, *, retry_failed: bool,
         progress: bool | None, manifest: Mapping[str, Any] | None) -> tuple[int, int, int, int]:
    """The body of :func:`run_sweep` inside the open store: (reused, computed, failed, lost)."""
    parameters = list(dict.fromkeys(path for task in tasks for path in task.point))
    _check_same_scenario(store.directory, manifest)
    store.write_manifest({**(manifest or {}), "version": mecsim_version(), "parameters": parameters,
                          "runs": [task.key for task in tasks]})
    done = {"ok", "error"} - ({"error"} if retry_failed else set())
    todo = [task for task in tasks if store.status.get(task.key) not in done]
    reused = len(tasks) - len(todo)
    computed = failed = lost = 0
    bar = tqdm(total=len(tasks), initial=reused, unit="run", desc="sweep", dynamic_ncols=True, smoothing=0.1,
               disable=None if progress is None else not progress)
    try:
        with closing(backend.map_unordered(fn, todo)) as outcomes:
            for outcome in outcomes:
                if outcome.record is None:
                    lost += 1
                    logger.warning("run %s lost (%s); rerun the sweep to do it", outcome.task.key[:12],
                                   outcome.lost)
                else:
                    store.append(_record(outcome.task, outcome.record))
                    computed += 1
                    failed += outcome.record["status"] == "error"
                bar.update(1)
    finally:
        bar.close()
    return reused, computed, failed, lost


def _check_same_scenario(directory: Path, manifest: Mapping[str, Any] | None) -> None:
    """Refuse to mix a sweep of another scenario into ``directory``: the ``base_sha256`` of the manifests differ (the
    scenario names, where an older manifest has no base)."""
    previous = read_manifest(directory)
    if previous is None or manifest is None:
        return
    field = "base_sha256" if "base_sha256" in previous and "base_sha256" in manifest else "name"
    if previous.get(field) == manifest.get(field):
        return
    name, before = manifest.get("name"), previous.get("name")
    what = (f"of another scenario ({before!r}, not {name!r})" if before != name else
            f"of {name!r} with other settings (the scenario file or its --set values differ from {MANIFEST_FILE}'s)")
    raise MecsimError(f"{directory}: holds a sweep {what}; write this sweep to another --out folder, or remove "
                      f"{directory} to start over")


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM (``kill``, a batch scheduler's stop) raises KeyboardInterrupt like Ctrl-C does."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set signal handlers
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _record(task: RunTask, outcome: Mapping[str, Any]) -> dict[str, Any]:
    return {"key": task.key, "point": dict(task.point), "params": dict(task.params),
            "replication": task.replication, "seed": task.seed, **outcome}
