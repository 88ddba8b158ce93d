"""Pre-drawn task blocks per device group, merged into one time-ordered arrival stream a window at a time.

Each group draws the arrivals and task sizes of its devices in blocks from its own stream (so every policy sees the
same tasks); a stateless policy decides a whole block at once. The :class:`Merger` interleaves the groups' blocks
window by window with one numpy sort, so the engine keeps a single pending arrival event however many devices
there are.
"""

from __future__ import annotations

import numpy as np

from offload.cost import LOCAL_OPTION
from offload.formulas import transfer_time_s
from offload.runtime import executor_time_s
from simulator.devices import DeviceState, GroupState, Route
from simulator.network import DedicatedChannel
from simulator.policies import DecisionBatch, Policy
from simulator.workloads import ArrivalBlock

#: Target number of arrivals per merge window.
WINDOW_TASKS = 16384
#: ``choice`` of a task that a stateful policy decides at its arrival.
DECIDE_AT_ARRIVAL = -2
#: Columns of a block and of a merged window, in time order.
COLUMNS = ("times", "dev", "device", "expire", "work", "inp", "out", "service_s", "choice", "route", "up_s",
           "down_s", "row")


class Block:
    """A group's run of pre-drawn tasks as numpy columns, with the policy's choices and compute times.

    ``dev`` holds each task's :class:`~simulator.devices.DeviceState` and ``device`` its global index;
    ``up_s``/``down_s`` are the radio transfer times on a dedicated link (``None`` on a shared channel, which
    times the transfer itself); ``choice`` is :data:`DECIDE_AT_ARRIVAL` for a stateful policy (then
    ``service_s`` is NaN);
    ``route`` holds the chosen :class:`~simulator.devices.Route` (``None`` for local or undecided tasks);
    ``row`` is the task's index here (for decisions at arrival); ``pick`` is the server each task goes to if it is
    offloaded when the group has routes (else ``None``).
    """

    __slots__ = ("_remote_s", "batch", "pick", *COLUMNS)

    def __init__(self, state: GroupState, arrivals: ArrivalBlock, work: np.ndarray, inp: np.ndarray,
                 out: np.ndarray, policy: Policy, policy_rng: np.random.Generator) -> None:
        group = state.group
        n = arrivals.times_s.size
        local_s = executor_time_s(group.device, work)
        self.batch = batch = DecisionBatch(group.name, group.device, state.candidates, work, local_s, inp, out,
                                           group.deadline_s)
        self.times = arrivals.times_s
        self.dev = state.devices[arrivals.device]
        self.device = state.first_index + arrivals.device
        self.expire = np.full(n, state.expire_after_s)
        self.work = work
        self.inp = inp
        self.out = out
        up, down = state.up, state.down
        moving = state.mobile  # each device's own link times its transfers
        self.up_s = (transfer_time_s(inp, up.rate_bps) if isinstance(up, DedicatedChannel) and not moving
                     else _timed_by_channel(n))
        self.down_s = (transfer_time_s(out, down.rate_bps) if isinstance(down, DedicatedChannel) and not moving
                       else _timed_by_channel(n))
        self.route = np.full(n, None, dtype=object)
        self.row = np.arange(n)
        self.pick = state.draw_routes(n)
        self._remote_s: np.ndarray | None = None
        if policy.stateful or moving:
            self.choice = np.full(n, DECIDE_AT_ARRIVAL, dtype=np.intp)
            self.service_s = np.full(n, np.nan)
            return
        self.choice = choice = policy.choose(batch, None, policy_rng)
        if self.pick is not None:
            self.choice = choice = np.where(choice != LOCAL_OPTION, self.pick + 1, choice)
        self.service_s = service = local_s.copy()
        for c in set(choice.tolist()):
            if c != LOCAL_OPTION:
                chosen = choice == c
                service[chosen] = executor_time_s(state.candidates[c - 1].server, work[chosen])
                self.route[chosen] = state.routes[c - 1]


    def remote_s(self) -> np.ndarray:
        """Compute time of every task on every candidate, ``(tasks, candidates)``: computed once per block, for
        the decisions taken task by task at arrival."""
        if self._remote_s is None:
            self._remote_s = self.batch.remote_s()
        return self._remote_s


def _timed_by_channel(n: int) -> np.ndarray:
    """``n`` transfer times left to a shared channel."""
    return np.full(n, None, dtype=object)


def draw_block(state: GroupState, policy: Policy, policy_rng: np.random.Generator) -> Block | None:
    """The group's next block (sizes from the trace or drawn from the group's distributions), or ``None``."""
    arrivals = next(state.blocks, None)
    if arrivals is None:
        return None
    if arrivals.work_ops is not None and arrivals.input_bits is not None and arrivals.output_bits is not None:
        work, inp, out = arrivals.work_ops, arrivals.input_bits, arrivals.output_bits
    else:
        work, inp, out = state.group.task.sample(state.rng, arrivals.times_s.size)
    return Block(state, arrivals, work, inp, out, policy, policy_rng)


class Window:
    """Arrivals of all groups in one time window, sorted, as Python lists read sequentially by the engine;
    ``block`` is each task's :class:`Block` (no block refers to itself, so blocks are freed by reference counting
    as soon as the window is done)."""

    __slots__ = ("block", *COLUMNS)

    times: list[float]
    dev: list[DeviceState]
    device: list[int]
    expire: list[float]
    work: list[float]
    inp: list[float]
    out: list[float]
    service_s: list[float]
    choice: list[int]
    route: list[Route | None]
    up_s: list[float | None]
    down_s: list[float | None]
    block: list[Block]
    row: list[int]

    def __init__(self, segments: list[tuple[Block, int, int]]) -> None:
        columns = {name: np.concatenate([getattr(b, name)[lo:hi] for b, lo, hi in segments]) for name in COLUMNS}
        owners = np.empty(len(segments), dtype=object)
        owners[:] = [b for b, _, _ in segments]
        columns["block"] = np.repeat(owners, [hi - lo for _, lo, hi in segments])
        order = np.argsort(columns["times"], kind="stable")
        for name, column in columns.items():
            setattr(self, name, column[order].tolist())


class _Cursor:
    """Where the merge stands in one group's current block."""

    __slots__ = ("block", "pos", "state")

    def __init__(self, state: GroupState, block: Block) -> None:
        self.state = state
        self.block = block
        self.pos = 0


class Merger:
    """Yields the next window of arrivals of all groups in time order (ties by group order)."""

    def __init__(self, groups: list[GroupState], policy: Policy, policy_rng: np.random.Generator,
                 horizon_s: float) -> None:
        self.policy = policy
        self.policy_rng = policy_rng
        self.horizon_s = horizon_s
        rate = sum(g.group.count * g.group.workload.mean_rate_per_s for g in groups)
        self.window_s = horizon_s if rate <= 0 else min(horizon_s, max(WINDOW_TASKS / rate, 1e-9))
        self.end_s = 0.0
        self.active: list[_Cursor] = []
        for state in groups:
            block = draw_block(state, policy, policy_rng)
            if block is not None:
                self.active.append(_Cursor(state, block))

    def next_window(self) -> Window | None:
        """Arrivals in the next non-empty window, or ``None`` when every group is exhausted."""
        while self.active:
            self.end_s += self.window_s
            end = self.end_s
            segments: list[tuple[Block, int, int]] = []
            still: list[_Cursor] = []
            for cursor in self.active:
                block, pos = cursor.block, cursor.pos
                while True:
                    stop = int(block.times.searchsorted(end, side="left"))
                    if stop > pos:
                        segments.append((block, pos, stop))
                    if stop < block.times.size:
                        cursor.block, cursor.pos = block, stop
                        still.append(cursor)
                        break
                    nxt = draw_block(cursor.state, self.policy, self.policy_rng)
                    if nxt is None:
                        break
                    block, pos = nxt, 0
            self.active = still
            if segments:
                return Window(segments)
        return None
