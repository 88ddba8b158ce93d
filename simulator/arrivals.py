"""Pre-drawn task blocks per device, merged into one time-ordered arrival stream a window at a time.

Each device draws its arrivals and task sizes in blocks from its own stream (so every policy sees the same tasks);
a stateless policy decides a whole block at once. The :class:`Merger` interleaves the devices' blocks window by
window with one numpy sort, so the engine keeps a single pending arrival event however many devices there are.
"""

from __future__ import annotations

import numpy as np

from offload.cost import transfer_time_s
from offload.runtime import executor_time_s
from simulator.devices import DeviceState, Route
from simulator.network import DedicatedChannel
from simulator.policies import DecisionBatch, Policy

#: Target number of arrivals per merge window.
WINDOW_TASKS = 16384
#: ``choice`` of a task that a stateful policy decides at its arrival.
DECIDE_AT_ARRIVAL = -2
#: Columns of a block and of a merged window, in time order.
COLUMNS = ("times", "work", "inp", "out", "service_s", "choice", "route", "up_s", "down_s", "device", "expire")


class Block:
    """A device's run of pre-drawn tasks as numpy columns, with the policy's choices and compute times.

    ``up_s``/``down_s`` are the radio transfer times on a dedicated link (NaN on a shared channel, timed by the
    channel); ``choice`` is :data:`DECIDE_AT_ARRIVAL` for a stateful policy (then ``service_s`` is NaN);
    ``route`` holds the chosen :class:`~simulator.devices.Route` (``None`` for local or undecided tasks).
    """

    __slots__ = ("batch", *COLUMNS)

    def __init__(self, dev: DeviceState, times_s: np.ndarray, work: np.ndarray, inp: np.ndarray, out: np.ndarray,
                 policy: Policy, policy_rng: np.random.Generator) -> None:
        group = dev.group
        n = times_s.size
        local_s = executor_time_s(group.device, work)
        self.batch = batch = DecisionBatch(group.name, group.device, dev.candidates, work, local_s, inp, out,
                                           group.deadline_s)
        self.times = times_s
        self.device = np.full(n, dev.index, dtype=np.int64)
        self.expire = np.full(n, dev.expire_after_s)
        self.work = work
        self.inp = inp
        self.out = out
        up, down = dev.up, dev.down
        self.up_s = transfer_time_s(inp, up.rate_bps) if isinstance(up, DedicatedChannel) else np.full(n, np.nan)
        self.down_s = (transfer_time_s(out, down.rate_bps) if isinstance(down, DedicatedChannel)
                       else np.full(n, np.nan))
        self.route = np.full(n, None, dtype=object)
        if policy.stateful:
            self.choice = np.full(n, DECIDE_AT_ARRIVAL, dtype=np.intp)
            self.service_s = np.full(n, np.nan)
            return
        self.choice = choice = policy.choose(batch, None, policy_rng)
        self.service_s = service = local_s.copy()
        for c in set(choice.tolist()):
            if c >= 0:
                chosen = choice == c
                service[chosen] = executor_time_s(dev.candidates[c].server, work[chosen])
                self.route[chosen] = dev.routes[c]


def draw_block(dev: DeviceState, policy: Policy, policy_rng: np.random.Generator) -> Block | None:
    """The device's next block (sizes from the trace or drawn from the group's distributions), or ``None``."""
    arrivals = next(dev.blocks, None)
    if arrivals is None:
        return None
    if arrivals.work_ops is not None and arrivals.input_bits is not None and arrivals.output_bits is not None:
        work, inp, out = arrivals.work_ops, arrivals.input_bits, arrivals.output_bits
    else:
        work, inp, out = dev.group.task.sample(dev.rng, arrivals.times_s.size)
    return Block(dev, arrivals.times_s, work, inp, out, policy, policy_rng)


class Window:
    """Arrivals of all devices in one time window, sorted, as Python lists read sequentially by the engine.

    ``blocks`` and ``rows`` locate each task in its device's block (for decisions at arrival).
    """

    __slots__ = ("blocks", "devs", "rows", *COLUMNS)

    times: list[float]
    work: list[float]
    inp: list[float]
    out: list[float]
    service_s: list[float]
    choice: list[int]
    route: list[Route | None]
    up_s: list[float]
    down_s: list[float]
    device: list[int]
    expire: list[float]

    def __init__(self, segments: list[tuple[DeviceState, Block, int, int]]) -> None:
        columns = {name: np.concatenate([getattr(b, name)[lo:hi] for _, b, lo, hi in segments])
                   for name in COLUMNS}
        order = np.argsort(columns["times"], kind="stable")
        for name in COLUMNS:
            setattr(self, name, columns[name][order].tolist())
        index = order.tolist()
        devs = [dev for dev, _, lo, hi in segments for _ in range(hi - lo)]
        self.devs: list[DeviceState] = [devs[j] for j in index]
        blocks = [block for _, block, lo, hi in segments for _ in range(hi - lo)]
        rows = [i for _, _, lo, hi in segments for i in range(lo, hi)]
        self.blocks: list[Block] = [blocks[j] for j in index]
        self.rows: list[int] = [rows[j] for j in index]


class _Cursor:
    """Where the merge stands in one device's current block."""

    __slots__ = ("block", "dev", "pos")

    def __init__(self, dev: DeviceState, block: Block) -> None:
        self.dev = dev
        self.block = block
        self.pos = 0


class Merger:
    """Yields the next window of arrivals of all devices in time order (ties by device order)."""

    def __init__(self, devices: list[DeviceState], policy: Policy, policy_rng: np.random.Generator,
                 horizon_s: float) -> None:
        self.policy = policy
        self.policy_rng = policy_rng
        self.horizon_s = horizon_s
        rate = sum(dev.group.workload.mean_rate_per_s for dev in devices)
        self.window_s = horizon_s if rate <= 0 else min(horizon_s, max(WINDOW_TASKS / rate, 1e-9))
        self.end_s = 0.0
        self.active: list[_Cursor] = []
        for dev in devices:
            block = draw_block(dev, policy, policy_rng)
            if block is not None:
                self.active.append(_Cursor(dev, block))

    def next_window(self) -> Window | None:
        """Arrivals in the next non-empty window, or ``None`` when every device is exhausted."""
        while self.active:
            self.end_s += self.window_s
            end = self.end_s
            segments: list[tuple[DeviceState, Block, int, int]] = []
            still: list[_Cursor] = []
            for cursor in self.active:
                dev, block, pos = cursor.dev, cursor.block, cursor.pos
                while True:
                    stop = int(block.times.searchsorted(end, side="left"))
                    if stop > pos:
                        segments.append((dev, block, pos, stop))
                    if stop < block.times.size:
                        cursor.block, cursor.pos = block, stop
                        still.append(cursor)
                        break
                    nxt = draw_block(dev, self.policy, self.policy_rng)
                    if nxt is None:
                        break
                    block, pos = nxt, 0
            self.active = still
            if segments:
                return Window(segments)
        return None
