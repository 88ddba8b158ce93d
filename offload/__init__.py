"""Pure, vectorised decision math: what does each way of running a task cost, and which is best?

No I/O, no simulation: numpy and scipy only. See :mod:`offload.cost` for the model and its sources.

- one task: ``decide_task(task, device, targets, preference)`` (value objects from :mod:`offload.profiles`);
- many tasks: ``decide(cost_arrays(CostInputs(...)), preference)`` keeps every breakdown term, and
  ``decide_batch(CostInputs(...), preference)`` is the fused, chunked path for millions of tasks (bit-identical);
- where the decision flips: ``break_even`` / ``break_even_batch``; queueing estimates: :mod:`offload.queueing`.
"""

from offload.batch import BatchDecision, decide_batch
from offload.breakeven import BreakEven, BreakEvenArrays, Parameter, break_even, break_even_batch
from offload.cost import (
    LOCAL,
    LOCAL_OPTION,
    CostArrays,
    cost_arrays,
    evaluate_costs,
    inputs_from_profiles,
    task_costs,
)
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
from offload.formulas import FIBER_DELAY_S_PER_M, compute_time_s, transfer_time_s
from offload.inputs import CostInputs
from offload.profiles import Device, Executor, Link, Server, Target, Task
from offload.units import Dimension, format_quantity, parse_quantity

__all__ = [
    "FIBER_DELAY_S_PER_M",
    "LOCAL",
    "LOCAL_OPTION",
    "BatchDecision",
    "BreakEven",
    "BreakEvenArrays",
    "CostArrays",
    "CostInputs",
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
    "break_even_batch",
    "compute_time_s",
    "cost_arrays",
    "decide",
    "decide_batch",
    "decide_task",
    "evaluate_costs",
    "format_quantity",
    "inputs_from_profiles",
    "parse_quantity",
    "seed_energy_rule",
    "seed_latency_rule",
    "task_costs",
    "transfer_time_s",
]
