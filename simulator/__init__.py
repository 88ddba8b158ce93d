"""SimPy discrete-event simulation of devices, shared links and edge servers; scenarios, CLI and plots.

The public names below are loaded on first use (``from simulator import World, mm1_world``), so importing a
sub-package (``simulator.decide_api`` for ``mecsim decide``) does not pay for SimPy and pandas. A World runs with
:func:`simulator.run.run` (the module of the same name hides it here). Sub-packages with public names of their own:
:mod:`simulator.scenario` (scenario files), :mod:`simulator.sweep`, :mod:`simulator.plots`, :mod:`simulator.serve`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from simulator.version import mecsim_version

if TYPE_CHECKING:
    from simulator.builders import md1_world, mm1_world, mmc_world, queue_world, s100_world
    from simulator.distributions import Constant, Distribution, Empirical, Exponential, LogNormal, Uniform
    from simulator.plugins import make_policy
    from simulator.policies import POLICIES, Policy
    from simulator.result import LatencySummary, MonitorSummary, PolicySummary, SimulationResult, TaskCounts
    from simulator.workloads import OnOff, PeriodicStream, Poisson, Trace, Workload, load_trace_csv
    from simulator.world import (
        AccessPoint,
        BackhaulLink,
        Batching,
        Cloud,
        DeviceGroup,
        EdgeServer,
        PolicySpec,
        Service,
        TaskSizes,
        ThroughputTable,
        World,
        WorldError,
    )

__version__ = mecsim_version()

#: Public name -> the module that defines it.
_HOMES: dict[str, str] = {
    **dict.fromkeys(("AccessPoint", "BackhaulLink", "Batching", "Cloud", "DeviceGroup", "EdgeServer", "PolicySpec",
                     "Service", "TaskSizes", "ThroughputTable", "World", "WorldError"), "simulator.world"),
    **dict.fromkeys(("LatencySummary", "MonitorSummary", "PolicySummary", "SimulationResult", "TaskCounts"),
                    "simulator.result"),
    **dict.fromkeys(("Constant", "Distribution", "Empirical", "Exponential", "LogNormal", "Uniform"),
                    "simulator.distributions"),
    **dict.fromkeys(("OnOff", "PeriodicStream", "Poisson", "Trace", "Workload", "load_trace_csv"),
                    "simulator.workloads"),
    **dict.fromkeys(("POLICIES", "Policy"), "simulator.policies"),
    "make_policy": "simulator.plugins",
    **dict.fromkeys(("md1_world", "mm1_world", "mmc_world", "queue_world", "s100_world"), "simulator.builders"),
}

__all__ = [
    "POLICIES",
    "AccessPoint",
    "BackhaulLink",
    "Batching",
    "Cloud",
    "Constant",
    "DeviceGroup",
    "Distribution",
    "EdgeServer",
    "Empirical",
    "Exponential",
    "LatencySummary",
    "LogNormal",
    "MonitorSummary",
    "OnOff",
    "PeriodicStream",
    "Poisson",
    "Policy",
    "PolicySpec",
    "PolicySummary",
    "Service",
    "SimulationResult",
    "TaskCounts",
    "TaskSizes",
    "ThroughputTable",
    "Trace",
    "Uniform",
    "Workload",
    "World",
    "WorldError",
    "__version__",
    "load_trace_csv",
    "make_policy",
    "md1_world",
    "mm1_world",
    "mmc_world",
    "queue_world",
    "s100_world",
]


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'simulator' has no attribute {name!r}")
