"""Fused, chunked decisions for millions of tasks: the same kernels as the general path, one cache-sized block of
one option at a time, keeping only what the decision needs.

:func:`offload.decision.decide` on :func:`offload.cost.cost_arrays` materialises every breakdown term of every
(task, option) pair — ideal for inspection, heavy for ten million tasks. :func:`decide_batch` calls the very same
:func:`~offload.cost.local_option`, :func:`~offload.cost.remote_option`, :meth:`~offload.decision.Preference.combine`
and :func:`~offload.decision.select` on blocks of ``chunk_size`` tasks, so its choices, latencies and energies are
bit-identical to the general path (tests check this) while its working set stays in the CPU cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar, cast

import numpy as np
import numpy.typing as npt

from offload.cost import (
    LOCAL,
    LOCAL_OPTION,
    LocalArguments,
    OptionCosts,
    RemoteArguments,
    Values,
    local_arguments,
    local_option,
    remote_arguments,
    remote_option,
)
from offload.decision import EnergyView, Preference, select
from offload.errors import ParameterError
from offload.inputs import CostInputs

FloatArray = npt.NDArray[np.float64]
#: Tasks per block: 16 Ki float64 = 128 KiB per array, so a block's dozen temporaries fit in a 1-2 MiB L2 cache.
DEFAULT_CHUNK = 16384


@dataclass(frozen=True, slots=True)
class BatchDecision:
    """Decisions for many tasks without the breakdown terms.

    Attributes
    ----------
    options : tuple of str
        ``("local", *targets)``; ``choice`` indexes it.
    choice : ndarray of int8, shape (tasks,)
    latency_s, energy_j : ndarray, shape (tasks,)
        Latency and energy (in the preference's view) of the chosen option.
    deadline_missed : ndarray of bool, shape (tasks,)
        No option met the deadline; the fastest was chosen.
    option_latency_s, option_energy_j : ndarray, shape (tasks, options), or None
        Every option's latency and energy, when asked for with ``keep_options``.
    """

    options: tuple[str, ...]
    choice: npt.NDArray[np.int8]
    latency_s: FloatArray
    energy_j: FloatArray
    deadline_missed: npt.NDArray[np.bool_]
    option_latency_s: FloatArray | None = None
    option_energy_j: FloatArray | None = None

    @property
    def offloaded(self) -> npt.NDArray[np.bool_]:
        """True where the task leaves the device."""
        return np.asarray(self.choice != LOCAL_OPTION, dtype=np.bool_)


def decide_batch(inputs: CostInputs, preference: Preference | None = None, *, chunk_size: int = DEFAULT_CHUNK,
                 values: bool = True, keep_options: bool = False) -> BatchDecision:
    """Decide every task of ``inputs`` (deadlines from ``inputs.deadline_s``), block by block.

    Equal, bit for bit, to ``decide(cost_arrays(inputs), preference, inputs.deadline_s)``.

    Parameters
    ----------
    chunk_size : int
        Tasks per block.
    values : bool
        Also return the chosen option's latency and energy (otherwise those arrays are empty).
    keep_options : bool
        Also return every option's latency and energy (``tasks x options`` arrays).
    """
    if chunk_size < 1:
        raise ParameterError("chunk_size", chunk_size, "must be >= 1")
    preference = preference or Preference()
    n, width = inputs.n_tasks, inputs.n_targets + 1
    choice = np.empty(n, dtype=np.int8)  # at most 127 options; a tenth of the memory of intp
    missed = np.empty(n, dtype=np.bool_)
    latency = np.empty(n if values else 0)
    energy = np.empty(n if values else 0)
    option_latency = np.empty((n, width)) if keep_options else None
    option_energy = np.empty((n, width)) if keep_options else None
    device_view = preference.energy_view is EnergyView.DEVICE
    local_template = local_arguments(inputs, 0, n)
    remote_templates = [remote_arguments(inputs, j, 0, n) for j in range(inputs.n_targets)]
    deadline_template = inputs.task_column("deadline_s", 0, n)
    # no deadline and no infinite wait: every latency is finite and meets it, so select can skip the test
    unbounded = (float(np.min(inputs.array("deadline_s"), initial=np.inf)) == np.inf
                 and bool(np.isfinite(inputs.array("wait_s")).all()))
    with np.errstate(invalid="ignore"):  # 0 W x inf s (an unstable queue) is NaN energy on an infeasible option
        for start in range(0, n, chunk_size):
            stop = min(start + chunk_size, n)
            options = [local_option(**_rows(local_template, start, stop))]
            options += [remote_option(**_rows(template, start, stop), device_view=device_view,
                                      system_view=not device_view) for template in remote_templates]
            latencies = [o.latency_s for o in options]
            energies = [_energy(o, device_view) for o in options]
            scores = [preference.combine(lat, e, latencies[0], energies[0])
                      for lat, e in zip(latencies, energies, strict=True)]
            deadline = None if unbounded else _slice(deadline_template, start, stop)
            block_choice, block_missed, picked = select(scores, latencies, deadline, stop - start,
                                                        carry=(latencies, energies) if values else ())
            choice[start:stop] = block_choice
            missed[start:stop] = block_missed
            if values:
                latency[start:stop], energy[start:stop] = picked
            if option_latency is not None and option_energy is not None:
                for j in range(width):
                    option_latency[start:stop, j] = latencies[j]
                    option_energy[start:stop, j] = energies[j]
    return BatchDecision((LOCAL, *inputs.names), choice, latency, energy, missed, option_latency, option_energy)


Template = TypeVar("Template", LocalArguments, RemoteArguments)


def _rows(template: Template, start: int, stop: int) -> Template:
    """Rows ``start:stop`` of every per-task array in ``template``; shared scalars pass through."""
    items = cast(dict[str, Values], template).items()
    return cast(Template, {k: _slice(v, start, stop) for k, v in items})


def _slice(value: Values, start: int, stop: int) -> Values:
    return value if isinstance(value, float) else value[start:stop]


def _energy(option: OptionCosts, device_view: bool) -> Values:
    value = option.device_energy_j if device_view else option.system_energy_j
    assert value is not None
    return value
