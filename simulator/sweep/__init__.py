"""Parameter sweeps: grid/zip/random points over scenario paths, replications, resumable runs on a process pool or
a Dask cluster, and a tidy DataFrame of the results.

Typical use from Python::

    spec = parse_sweep({"grid": {"devices[0].count": [10, 20]}, "replications": 3})
    tasks = plan_runs(spec, resolver)
    run_sweep(tasks, run_function, "out/sweep", backend=make_backend(workers=2))
    frame = load_results("out/sweep")
"""

from simulator.sweep.backends import (
    BACKENDS,
    Backend,
    DaskBackend,
    InlineBackend,
    Outcome,
    ProcessPoolBackend,
    RunFunction,
    execute,
    make_backend,
)
from simulator.sweep.plan import ResolvedPoint, Resolver, RunTask, plan_runs, replication_seeds, run_key
from simulator.sweep.results import flatten, load_results
from simulator.sweep.runner import SweepInterruptedError, SweepReport, run_sweep
from simulator.sweep.schema import SweepSection, parse_sweep
from simulator.sweep.spec import DistributionKind, RandomBlock, SweepDistribution, SweepSpec, grid_from_options

__all__ = [
    "BACKENDS",
    "Backend",
    "DaskBackend",
    "DistributionKind",
    "InlineBackend",
    "Outcome",
    "ProcessPoolBackend",
    "RandomBlock",
    "ResolvedPoint",
    "Resolver",
    "RunFunction",
    "RunTask",
    "SweepDistribution",
    "SweepInterruptedError",
    "SweepReport",
    "SweepSection",
    "SweepSpec",
    "execute",
    "flatten",
    "grid_from_options",
    "load_results",
    "make_backend",
    "parse_sweep",
    "plan_runs",
    "replication_seeds",
    "run_key",
    "run_sweep",
]
