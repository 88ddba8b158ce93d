"""Pure, vectorised decision math: what does each way of running a task cost, and which is best?

No I/O, no simulation: numpy and scipy only. See :mod:`offload.cost` for the model and its sources.
"""

from offload.breakeven import BreakEven, Parameter, break_even
from offload.cost import LOCAL, CostArrays, evaluate_costs, task_costs, transfer_time_s
from offload.decision import (
    EnergyView,
    Objective,
    OffloadDecision,
    Preference,
    decide,
    decide_task,
    seed_energy_rule,
    seed_latency_rule,
)
from offload.errors import InfeasibleError, MecsimError, ParameterError, UnitError
from offload.profiles import FIBER_DELAY_S_PER_M, Device, Executor, Link, Server, Target, Task
from offload.units import Dimension, format_quantity, parse_quantity

__all__ = [
    "FIBER_DELAY_S_PER_M",
    "LOCAL",
    "BreakEven",
    "CostArrays",
    "Device",
    "Dimension",
    "EnergyView",
    "Executor",
    "InfeasibleError",
    "Link",
    "MecsimError",
    "Objective",
    "OffloadDecision",
    "Parameter",
    "ParameterError",
    "Preference",
    "Server",
    "Target",
    "Task",
    "UnitError",
    "break_even",
    "decide",
    "decide_task",
    "evaluate_costs",
    "format_quantity",
    "parse_quantity",
    "seed_energy_rule",
    "seed_latency_rule",
    "task_costs",
    "transfer_time_s",
]
