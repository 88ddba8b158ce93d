"""Pre-drawn task blocks per device, merged into one time-ordered arrival stream a window at a time.

Each device draws its arrivals and task sizes in blocks from its own stream (so every policy sees the same tasks);
a stateless policy decides a whole block at once. The :class:`Merger` interleaves the devices' blocks window by
window with one numpy sort, so the engine keeps a single pending arrival event however many devices there are.
"""

from __future__ import annotations

import bisect

import numpy as np

from offload.cost import transfer_time_s
from offload.runtime import executor_time_s
from simulator.devices import DeviceState
from simulator.network import DedicatedChannel
from simulator.policies import DecisionBatch, Policy

#: Target number of arrivals per merge window.
WINDOW_TASKS = 16384


class Block:
    """A device's run of pre-drawn tasks as Python lists (fast scalar access), with the policy's choices."""

    __slots__ = ("batch", "choice", "down_s", "inp", "out", "service_s", "times", "up_s", "work")

    def __init__(self, dev: DeviceState, times_s: np.ndarray, work: np.ndarray, inp: np.ndarray, out: np.ndarray,
                 policy: Policy, policy_rng: np.random.Generator) -> None:
        group = dev.group
        local_s = executor_time_s(group.device, work)
        self.batch = batch = DecisionBatch(group.name, group.device, dev.candidates, work, local_s, inp, out,
                                           group.deadline_s)
        self.times: list[float] = times_s.tolist()
        self.work: list[float] = work.tolist()
        self.inp: list[float] = inp.tolist()
        self.out: list[float] = out.tolist()
        up, down = dev.up, dev.down
        self.up_s = transfer_time_s(inp, up.rate_bps).tolist() if isinstance(up, DedicatedChannel) else None
        self.down_s = transfer_time_s(out, down.rate_bps).tolist() if isinstance(down, DedicatedChannel) else None
        self.choice: list[int] | None = None
        self.service_s: list[float] | None = None
        if not policy.stateful:
            choice = policy.choose(batch, None, policy_rng)
            service = local_s.copy()
            choices = choice.tolist()
            for c in set(choices):
                if c >= 0:
                    chosen = choice == c
                    service[chosen] = executor_time_s(dev.candidates[c].server, work[chosen])
            self.choice = choices
            self.service_s = service.tolist()


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


Entry = tuple[DeviceState, Block, int]


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

    def next_window(self) -> tuple[list[float], list[Entry]] | None:
        """Arrivals in the next non-empty window, or ``None`` when every device is exhausted."""
        while self.active:
            self.end_s += self.window_s
            end = self.end_s
            times: list[list[float]] = []
            entries: list[Entry] = []
            still: list[_Cursor] = []
            for cursor in self.active:
                dev, block, pos = cursor.dev, cursor.block, cursor.pos
                while True:
                    stop = bisect.bisect_left(block.times, end, pos)
                    if stop > pos:
                        times.append(block.times[pos:stop])
                        entries.extend([(dev, block, i) for i in range(pos, stop)])
                    if stop < len(block.times):
                        cursor.block, cursor.pos = block, stop
                        still.append(cursor)
                        break
                    nxt = draw_block(dev, self.policy, self.policy_rng)
                    if nxt is None:
                        break
                    block, pos = nxt, 0
            self.active = still
            if entries:
                flat = np.concatenate([np.asarray(t, dtype=np.float64) for t in times])
                order = np.argsort(flat, kind="stable")
                return flat[order].tolist(), [entries[j] for j in order.tolist()]
        return None
