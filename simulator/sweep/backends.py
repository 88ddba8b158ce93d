"""Where the runs of a sweep execute: one small protocol, three implementations, one registry.

- ``inline``: in this process, one after another (debugging, tiny sweeps);
- ``local``: a process pool on this machine (the default), ``workers`` processes;
- ``dask``: a Dask distributed cluster at ``address`` (``tcp://host:8786``) - a ``LocalCluster``, an HPC or
  Kubernetes deployment alike.

Every backend runs the same :func:`execute` on the same tasks, so results do not depend on the backend or the
number of workers. An exception inside the run function becomes an error record (the run is finished); losing a
worker, a process or a node is *not* a finished run: the task comes back as lost and a rerun of the sweep does it.
Local workers die with the sweep that started them, however it ends (Ctrl-C, SIGTERM, SIGKILL).
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import pickle
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Generator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any, Protocol

from offload.errors import MecsimError, ParameterError
from simulator.sweep.plan import RunTask, canonical_json

logger = logging.getLogger(__name__)

RunFunction = Callable[[Mapping[str, Any], int], Mapping[str, Any]]
"""A pure function of (resolved scenario, seed) returning a small JSON-able result; must be picklable."""

DASK_ADDRESS_VARIABLE = "DASK_SCHEDULER_ADDRESS"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What came back for one task: the worker's ``record`` or, if the worker was lost, why (``lost``)."""

    task: RunTask
    record: Mapping[str, Any] | None
    lost: str | None = None


def execute(fn: RunFunction, task: RunTask) -> dict[str, Any]:
    """Run one task (in a worker) and return its outcome fields: status, result, error, elapsed_s, worker."""
    start_s = time.perf_counter()
    record: dict[str, Any] = {"status": "ok", "result": None, "error": None}
    try:
        result = dict(fn(task.scenario, task.seed))
        canonical_json(result)  # reject what the dataset could not store before claiming success
        record["result"] = result
    except Exception as error:  # a failing run is recorded, not fatal: that is the contract of a sweep
        record.update(status="error", error=f"{type(error).__name__}: {error}",
                      traceback="".join(traceback.format_exception(error, limit=-8)))
    record["elapsed_s"] = time.perf_counter() - start_s
    record["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    return record


def die_with_parent() -> None:
    """Worker initializer: end this process as soon as the process that started it is gone.

    On Linux the kernel sends SIGKILL on the parent's death (``PR_SET_PDEATHSIG``); everywhere a daemon thread waits
    on the parent's sentinel (:func:`multiprocessing.parent_process`) and exits when it closes. SIGTERM gets its
    default action back, so terminating a worker ends it even if the parent turned SIGTERM into Ctrl-C.
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    parent = multiprocessing.parent_process()
    if parent is None:
        return
    if sys.platform == "linux":
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if not parent.is_alive():  # it died before the line above took effect
        os._exit(1)
    threading.Thread(target=_exit_after, args=(parent,), name="mecsim-parent-watch", daemon=True).start()


def _exit_after(parent: multiprocessing.process.BaseProcess) -> None:
    parent.join()
    os._exit(1)


class Backend(Protocol):
    """Runs tasks somewhere and yields an :class:`Outcome` for each as soon as it finishes (any order)."""

    def map_unordered(self, fn: RunFunction, tasks: Sequence[RunTask]) -> Generator[Outcome, None, None]:
        """Yield one outcome per task; closing the iterator early cancels what has not started."""
        ...


@dataclass(frozen=True, slots=True)
class InlineBackend:
    """Runs every task in the calling process, in order."""

    def map_unordered(self, fn: RunFunction, tasks: Sequence[RunTask]) -> Generator[Outcome, None, None]:
        """See :class:`Backend`."""
        for task in tasks:
            yield Outcome(task, execute(fn, task))


@dataclass(frozen=True, slots=True)
class ProcessPoolBackend:
    """A pool of ``workers`` local processes (default: one per CPU)."""

    workers: int = 0
    start_method: str | None = None

    def __post_init__(self) -> None:
        if self.workers < 0:
            raise ParameterError("workers", self.workers, "must be >= 1 (0 means one per CPU)")

    def map_unordered(self, fn: RunFunction, tasks: Sequence[RunTask]) -> Generator[Outcome, None, None]:
        """See :class:`Backend`."""
        if not tasks:
            return
        try:
            pickle.dumps(fn)
        except (pickle.PicklingError, AttributeError, TypeError) as error:
            raise ParameterError("run function", getattr(fn, "__qualname__", fn),
                                 f"must be picklable to run in worker processes (a module-level function): {error}"
                                 ) from None
        workers = min(self.workers or os.cpu_count() or 1, len(tasks))
        executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(self.start_method),
                                       initializer=die_with_parent)
        finished = False
        try:
            pending: dict[Future[dict[str, Any]], RunTask] = {executor.submit(execute, fn, task): task
                                                              for task in tasks}
            for future in as_completed(pending):
                task = pending.pop(future)
                try:
                    yield Outcome(task, future.result())
                except Exception as error:  # the process died (BrokenProcessPool): lost, not failed
                    yield Outcome(task, None, f"{type(error).__name__}: {error}")
            finished = True
        finally:
            if not finished:  # interrupted or closed early: the runs in flight are lost either way, stop them now
                for process in list(executor._processes.values()):
                    process.terminate()
            executor.shutdown(wait=finished, cancel_futures=True)


@dataclass(frozen=True, slots=True)
class DaskBackend:
    """A Dask distributed cluster reached at ``address``; each run is one Dask task keyed by its run key."""

    address: str
    connect_timeout_s: float = 30.0

    def map_unordered(self, fn: RunFunction, tasks: Sequence[RunTask]) -> Generator[Outcome, None, None]:
        """See :class:`Backend`."""
        try:
            from distributed import Client
            from distributed import as_completed as dask_as_completed
        except ImportError:
            raise MecsimError("the Dask backend needs dask[distributed]: pip install 'mecsim[dask]'") from None
        if not tasks:
            return
        try:
            client = Client(self.address, set_as_default=False, timeout=math.ceil(self.connect_timeout_s))
        except (OSError, TimeoutError) as error:
            raise MecsimError(f"cannot reach the Dask scheduler at {self.address}: {error}") from None
        finished = False
        futures = []
        try:
            futures = [client.submit(execute, fn, task, key=f"mecsim-run-{task.key}") for task in tasks]
            by_key = {future.key: task for future, task in zip(futures, tasks, strict=True)}
            for future in dask_as_completed(futures, loop=client.loop):
                task = by_key[future.key]
                try:
                    yield Outcome(task, future.result())
                except Exception as error:  # KilledWorker and friends: the run did not finish
                    yield Outcome(task, None, f"{type(error).__name__}: {error}")
                future.release()
            finished = True
        finally:
            if not finished:
                client.cancel(futures)
            client.close()


BACKENDS: dict[str, Callable[..., Backend]] = {
    "inline": InlineBackend,
    "local": ProcessPoolBackend,
    "dask": DaskBackend,
}


def make_backend(name: str | None = None, *, workers: int = 0, address: str | None = None) -> Backend:
    """Build a backend by name; with no name, Dask if ``address`` (or ``DASK_SCHEDULER_ADDRESS``) is set, else local.

    Raises
    ------
    ParameterError
        Unknown name (the message lists the valid ones) or Dask without an address.
    """
    address = address or os.environ.get(DASK_ADDRESS_VARIABLE) or None
    if name is None:
        name = "dask" if address else "local"
    if name not in BACKENDS:
        raise ParameterError("backend", name, f"unknown; valid backends: {', '.join(sorted(BACKENDS))}")
    if name == "dask":
        if not address:
            raise ParameterError("backend", name, f"needs a scheduler address (--scheduler or {DASK_ADDRESS_VARIABLE})")
        return DaskBackend(address)
    if name == "local":
        return ProcessPoolBackend(workers)
    return InlineBackend()
