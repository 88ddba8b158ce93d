"""The SimPy engine: one (world, policy, replication) played forward in time.

Event-driven without per-task processes: arrivals, transfers and services are SimPy timeouts whose callbacks move a
:class:`Job` to its next stage, which keeps a task to three or four events. Deterministic stretches of a path
(dedicated links and fixed delays) are one timeout; shared channels are processor-sharing
(:mod:`simulator.network`); queues are worker pools (:mod:`simulator.servers`).
"""

from __future__ import annotations

import copy

import numpy as np
import simpy

from offload.cost import LOCAL_OPTION
from offload.errors import MecsimError
from offload.formulas import compute_time_s
from offload.runtime import executor_time_s
from simulator.arrivals import DECIDE_AT_ARRIVAL, Merger, Window
from simulator.battery import BatteryState
from simulator.devices import (
    DeviceState,
    Route,
    build_devices,
    forward_route,
    link_channels,
    observation,
)
from simulator.disciplines import make_pool
from simulator.events import Wake
from simulator.jobs import NAN, EngineOutput, Job, Mobility, Pending, Platform, PoolSnapshot
from simulator.links import DeviceLink
from simulator.metrics import RecordSink
from simulator.moving import Ahead, job_batch, route_to
from simulator.policies import DROP_OPTION, DecisionBatch, Observation, Planner, Policy
from simulator.result import DropReason
from simulator.sampler import DEFAULT_SAMPLES, Sampler
from simulator.world import World

#: Record code of each drop reason (its position in :class:`DropReason`; 0: not dropped).
DROP_CODES = {reason: code for code, reason in enumerate(DropReason)}


class ConservationError(MecsimError):
    """Tasks were lost: generated != completed + dropped + in flight."""


class Engine:
    """Builds the state of one replication and runs it to ``duration_s``."""

    def __init__(self, world: World, policy: Policy, streams: list[np.random.SeedSequence],
                 policy_seed: np.random.SeedSequence, sink: RecordSink, *, duration_s: float,
                 warmup_s: float, server_seed: np.random.SeedSequence, platform: Platform | None = None,
                 mobility: Mobility | None = None) -> None:
        """``server_seed``: the stream of the servers' patience times (reneging)."""
        self.env = env = simpy.Environment()
        self.world = world
        self.policy = policy
        self.policy_rng = np.random.default_rng(policy_seed)
        self.sink = sink
        self.duration_s = duration_s
        self.warmup_s = warmup_s
        self.generated = 0
        self.live: dict[int, Job] = {}
        server_rng = np.random.default_rng(server_seed)
        self.pools = [make_pool(env, s, server_rng, on_served=self._served_remote, on_dropped=self._drop)
                      for s in world.servers]
        self.drops = [0] * len(DropReason)
        self.channels = channels = link_channels(world, env)
        self._forwards: dict[tuple[str, int, str], Route] = {}
        self.platform = None if platform is None else platform.attach(
            world, env, channels, on_served=self._served_remote, on_dropped=self._drop, forward=self._forward,
            resend=self.resend, give_up=self.give_up, rng=np.random.default_rng(policy_seed.spawn(1)[0]))
        self._sent = None if self.platform is None else self.platform.sent
        self.planner = policy if isinstance(policy, Planner) else None
        self.groups, self.access = build_devices(world, env, self.pools, streams, duration_s, channels=channels,
                                    on_served=self._finish, on_dropped=self._drop,
                                    service_pools=None if self.platform is None else self.platform.pools,
                                    harvest_threshold_j=None if self.planner is None else
                                    self.planner.harvest_threshold_j)
        self.sampler = Sampler(env, self.pools, [(d.name, d.battery) for g in self.groups for d in g.devices
                                                 if d.battery is not None], duration_s)
        self._arrive_cb = self._arrive
        self.mobility = None if mobility is None else mobility.attach(
            env, self.groups, self.access, self.handover, np.random.default_rng(policy_seed.spawn(1)[0]))
        self._ahead = None if self.mobility is None else Ahead(policy, self.policy_rng, self.mobility.attachment)

    # -- arrivals and decisions -------------------------------------------------------------------------------
    def start(self) -> None:
        """Schedule the first arrival, the warm-up reset and the time-series sampler."""
        env = self.env
        self._merger = Merger(self.groups, self.policy, self.policy_rng, self.duration_s)
        self._times: list[float] = []
        self._window: Window | None = None
        self._k = 0
        self._schedule_arrival(0.0)
        if self.platform is not None:
            self.platform.start()
        if self.mobility is not None:
            self.mobility.start()
        if self.warmup_s > 0:
            Wake(env, self.warmup_s, None, self._end_warmup)
        self.sampler.start(self.world.sample_interval_s or self.duration_s / DEFAULT_SAMPLES)

    def _schedule_arrival(self, now: float) -> None:
        if self._k >= len(self._times):
            window = self._merger.next_window()
            if window is None:
                return
            self._window, self._times, self._k = window, window.times, 0
        Wake(self.env, self._times[self._k] - now, None, self._arrive_cb)

    def _end_warmup(self, event: simpy.Event) -> None:
        for pool in self.pools:
            pool.touch()
            pool.reset_stats()

    def observe(self, pending: Pending) -> tuple[DecisionBatch, Observation]:
        """What a stateful policy is given for the task ``pending``: its one-task batch and what its device
        observes now (per candidate: the rates a new transfer would get on its access point, the tasks in system
        at the server)."""
        dev = pending.job.device
        observed = observation(dev)
        if isinstance(dev.up, DeviceLink):
            return job_batch(pending.job), observed
        return pending.block.batch.row(pending.row), observed

    def _ask(self, pending: Pending) -> None:
        """A task waits for a stateful policy's decision: here the policy answers at once (the RL environment's
        engine keeps the question for its agent instead)."""
        batch, observed = self.observe(pending)
        self.decide(pending, int(self.policy.choose(batch, observed, self.policy_rng)[0]))

    def decide(self, pending: Pending, choice: int) -> None:
        """Carry out the decision ``choice`` for the task ``pending`` and schedule the next arrival."""
        job, block, i = pending.job, pending.block, pending.row
        dev = job.device
        if isinstance(dev.up, DeviceLink):
            self._carry_out(job, choice)
            self._schedule_arrival(self.env.now)
            return
        if choice != LOCAL_OPTION and block.pick is not None:
            choice = int(block.pick[i]) + 1
        if choice == LOCAL_OPTION:
            job.service_s = float(block.batch.local_s[i])
            dev.cpu.arrive(job)
        else:
            job.service_s = float(block.remote_s()[i, choice - 1])
            self._offload(job, dev, dev.routes[choice - 1], pending.up_s, pending.down_s)
        self._schedule_arrival(self.env.now)

    def _arrive(self, event: simpy.Event) -> None:
        w = self._window
        assert w is not None
        k = self._k
        self._k = k + 1
        dev = w.dev[k]
        now = self.env.now
        job = Job(self.generated, dev, w.device[k], w.expire[k], now, w.work[k], w.inp[k], w.out[k])
        self.generated += 1
        self.live[job.task_id] = job
        route = w.route[k]
        if dev.battery is not None:
            self._arrive_powered(job, dev, dev.battery, w, k)
        elif route is not None:
            job.service_s = w.service_s[k]
            self._offload(job, dev, route, w.up_s[k], w.down_s[k])
        else:
            choice = w.choice[k]
            if choice == DECIDE_AT_ARRIVAL:
                if self.policy.stateful or not isinstance(dev.up, DeviceLink):
                    self._ask(Pending(job, w.block[k], w.row[k], w.up_s[k], w.down_s[k]))
                    return
                assert self._ahead is not None
                choice = self._ahead.decide(w, k)
            job.service_s = w.service_s[k]
            if choice == LOCAL_OPTION:
                dev.cpu.arrive(job)
            else:
                self._offload(job, dev, dev.routes[choice - 1], w.up_s[k], w.down_s[k])
        self._schedule_arrival(now)

    def _arrive_powered(self, job: Job, dev: DeviceState, battery: BatteryState, w: Window, k: int) -> None:
        """A task of a battery device: decided (a :class:`Planner` also sets its compute or upload time), paid for
        from the battery when it starts (device energy of the chosen option, :mod:`offload.cost`, or the plan's),
        or dropped when the battery cannot pay or the planner drops it."""
        now = self.env.now
        block, row = w.block[k], w.row[k]
        moving = isinstance(dev.up, DeviceLink)  # then priced and decided on its cell and at its rate now
        one = job_batch(job) if moving else block.batch.row(row)
        upload = w.up_s[k]
        if self.planner is not None:
            plan = self.planner.plan(one, battery.level_at(now), self.policy_rng)
            if plan.option == DROP_OPTION:
                self._drop(job, DropReason.POLICY_DROP)
                return
            choice, energy_j, upload = plan.option, plan.energy_j, plan.upload_s
            if choice == LOCAL_OPTION:
                job.compute_power_w = plan.power_w
            else:
                job.tx_power_w = plan.power_w
            if choice != LOCAL_OPTION and block.pick is not None:
                choice = int(block.pick[row]) + 1
            job.service_s = plan.compute_s if choice == LOCAL_OPTION else float(block.remote_s()[row, choice - 1])
        else:
            choice = w.choice[k]
            if choice == DECIDE_AT_ARRIVAL and moving and self._ahead is not None and not self.policy.stateful:
                choice, upload = self._ahead.decide(w, k), w.up_s[k]
            if choice == DECIDE_AT_ARRIVAL:
                batch, observed = self.observe(Pending(job, block, row, upload, w.down_s[k]))
                choice = int(self.policy.choose(batch, observed, self.policy_rng)[0])
                if choice != LOCAL_OPTION and block.pick is not None:
                    choice = int(block.pick[row]) + 1
                job.service_s = float(batch.local_s[0] if choice == LOCAL_OPTION
                                      else (batch.remote_s()[0] if moving else block.remote_s()[row])[choice - 1])
            else:
                job.service_s = w.service_s[k]
            energy_j = float(one.nominal_costs().device_energy_j[0, choice])
        if not battery.pay(now, energy_j):
            self._drop(job, DropReason.BATTERY_EMPTY)
        elif choice == LOCAL_OPTION:
            dev.cpu.arrive(job)
        else:
            self._offload(job, dev, dev.routes[choice - 1], upload, w.down_s[k])

    # -- moving devices -----------------------------------------------------------------------------------------
    def _carry_out(self, job: Job, choice: int) -> None:
        """Run a moving device's task where ``choice`` says, on the cell it is attached to now."""
        dev = job.device
        if choice == LOCAL_OPTION:
            job.service_s = float(compute_time_s(job.work_ops, *dev.group.device.time_terms()))
            job.target_code = LOCAL_OPTION
            dev.cpu.arrive(job)
        else:
            job.service_s = float(compute_time_s(job.work_ops, *dev.candidates[choice - 1].server.time_terms()))
            self._offload(job, dev, dev.routes[choice - 1], None, None)

    def handover(self, dev: DeviceState, access_point: str, interruption_s: float, restart: bool) -> int:
        """Move ``dev`` to ``access_point`` now: its radio is down for ``interruption_s``; each upload in flight then
        resumes with the bits it had left towards the same server (when the new cell reaches it), or restarts and
        is decided again by the policy on the new link; downloads resume or restart on the new cell. Returns the
        number of transfers interrupted."""
        up, down = dev.up, dev.down
        assert isinstance(up, DeviceLink)
        assert isinstance(down, DeviceLink)
        uploads, downloads = up.interrupt(), down.interrupt()
        self.access.rebind(dev, access_point)
        if self._ahead is not None:
            self._ahead.reopen(dev, self._window, self._k)
        up.blocked_until_s = down.blocked_until_s = self.env.now + interruption_s
        for job, left, callback in uploads:
            route = None if restart else route_to(dev, job.route.server.name)
            if route is not None:
                job.route = route
                up.start(left, job, callback)
            else:
                Wake(self.env, interruption_s, job, self._decide_again)
        for job, left, callback in downloads:
            down.start(job.output_bits if restart else left, job, callback)
        return len(uploads) + len(downloads)

    def _decide_again(self, event: simpy.Event) -> None:
        """A task whose upload a handover interrupted (or whose retry's server its cell no longer reaches), decided
        again on the device's new link."""
        job: Job = event.value  # type: ignore[assignment]
        job.upload_start_s = NAN
        self._carry_out(job, int(self.policy.choose(job_batch(job), observation(job.device), self.policy_rng)[0]))

    # -- the remote path ------------------------------------------------------------------------------------
    def _offload(self, job: Job, dev: DeviceState, route: Route, upload: float | None,
                 download: float | None) -> None:
        """Send ``job`` along ``route``; ``upload``/``download`` are dedicated-link times (``None``: a shared channel
        times the transfer)."""
        job.route = route
        job.target_code = route.target_code
        job.download_s = download
        sent = self._sent
        if sent is not None:
            job.sent = (route, upload, download, job.service_s)
            sent(job)
        now = self.env.now
        job.upload_start_s = now
        if upload is None:
            up = dev.up
            if isinstance(up, DeviceLink) and route.up_fixed_s is not None:
                upload = up.calm_s(job.input_bits, now)  # a moving device's upload no handover can reach
            if upload is None:
                up.start(job.input_bits, job, self._uploaded)
                return
        job.upload_end_s = now + upload
        if route.up_fixed_s is not None:
            Wake(self.env, upload + route.up_fixed_s, job, route.pool.arrive_event)
        else:
            Wake(self.env, upload, job, self._walk_event)

    def _forward(self, job: Job, server: int) -> None:
        """Pass ``job`` on from its route's server to server ``server``; it is timed there and replies from there."""
        route = job.route
        key = (route.server.node, server, job.device.group.access_point)
        if key not in self._forwards:
            self._forwards[key] = forward_route(self.world, self.channels, self.pools, *key)
        job.route = route = self._forwards[key]
        job.target_code = route.target_code
        job.service_s = float(executor_time_s(route.server.profile, job.work_ops))
        job.download_s = None
        job.hop = 0
        self._walk(job)

    def _uploaded(self, job: Job) -> None:
        job.upload_end_s = self.env.now
        self._walk(job)

    def _walk_event(self, event: simpy.Event) -> None:
        self._walk(event.value)  # type: ignore[arg-type]

    def _walk(self, job: Job) -> None:
        """Advance ``job`` one step along its route (up to the server, or, once served, back to the device)."""
        down = job.returning
        steps = job.route.down_steps if down else job.route.up_steps
        if job.hop < len(steps):
            delay, channel = steps[job.hop]
            job.hop += 1
            if channel is None:
                Wake(self.env, delay, job, self._walk_event)
            else:
                channel.start(job.output_bits if down else job.input_bits, job, self._walk)
            return
        job.hop = 0
        if down:
            job.download_start_s = now = self.env.now
            link = job.device.down
            if isinstance(link, DeviceLink) and (download := link.calm_s(job.output_bits, now)) is not None:
                Wake(self.env, download, job, self._downloaded_event)  # a moving device's, no handover can reach
            else:
                link.start(job.output_bits, job, self._downloaded)
        else:
            job.route.pool.arrive(job)

    def _served_remote(self, job: Job) -> None:
        route: Route = job.route
        fixed = route.down_fixed_s
        if fixed is not None:
            download = job.download_s
            start = self.env.now + fixed
            if download is None and isinstance(down := job.device.down, DeviceLink):
                download = down.calm_s(job.output_bits, start)  # a moving device's, if no handover can reach it
            if download is not None:
                job.download_start_s = start
                job.download_end_s = job.completed_s = start + download
                if job.completed_s <= self.duration_s:
                    self._record(job)
                return
        job.returning = True
        self._walk(job)

    def _downloaded_event(self, event: simpy.Event) -> None:
        self._downloaded(event.value)  # type: ignore[arg-type]

    def _downloaded(self, job: Job) -> None:
        job.download_end_s = job.completed_s = self.env.now
        self._record(job)

    # -- endings ------------------------------------------------------------------------------------------------
    def _finish(self, job: Job) -> None:
        """A local task finished on the device CPU."""
        job.completed_s = job.service_end_s
        self._record(job)

    def resend(self, job: Job, delay_s: float) -> bool:
        """Abandon ``job``, its task's live attempt, and send the task again as a new attempt ``delay_s`` from now,
        along the same route (``False``, nothing done: ``job`` is not live, it ended or was abandoned)."""
        if self.live.get(job.task_id) is not job:
            return False
        again = Job(job.task_id, job.device, job.device_index, job.expire_after_s, job.created_s, job.work_ops,
                    job.input_bits, job.output_bits)
        again.compute_power_w, again.tx_power_w = job.compute_power_w, job.tx_power_w
        # the device sent this attempt until its upload ended (or it gave it up), then waited until now and waits
        # through the backoff: the task's energy charges both with the last attempt's stages
        now = self.env.now
        sent_s = job.upload_start_s if job.upload_start_s <= now else now
        uploaded_s = job.upload_end_s if job.upload_end_s <= now else now
        again.earlier_tx_s = job.earlier_tx_s + (uploaded_s - sent_s)
        again.earlier_wait_s = job.earlier_wait_s + (now - uploaded_s) + delay_s
        again.attempt = job.attempt + 1
        again.sent = job.sent
        job.attempt = -1
        self.live[job.task_id] = again
        Wake(self.env, delay_s, again, self._send_again)
        return True

    def _send_again(self, event: simpy.Event) -> None:
        job: Job = event.value  # type: ignore[assignment]
        route, upload, download, job.service_s = job.sent
        if isinstance(job.device.up, DeviceLink):  # a moving device: from its cell now, timed by its link now
            if (moved := route_to(job.device, route.server.name)) is None:
                self._decide_again(event)
                return
            route, upload, download = moved, None, None
        self._offload(job, job.device, route, upload, download)

    def give_up(self, job: Job, reason: DropReason) -> bool:
        """Drop the task of ``job``, its live attempt, for ``reason`` while the attempt runs on unrecorded
        (``False``, nothing done: ``job`` is not live)."""
        if self.live.get(job.task_id) is not job:
            return False
        record = copy.copy(job)
        job.attempt = -1
        self.live[job.task_id] = record
        self._drop(record, reason)
        return True

    def _drop(self, job: Job, reason: DropReason) -> None:
        if job.attempt < 0:
            return  # an abandoned attempt: its task lives on in another
        job.drop_code = code = DROP_CODES[reason]
        self.drops[code] += 1
        self._record(job)

    def _record(self, job: Job) -> None:
        if job.attempt < 0:
            return
        del self.live[job.task_id]
        self.sink.add(job)

    def run(self) -> EngineOutput:
        """Run to the horizon, flush the records and check conservation."""
        self.start()
        self.env.run(until=self.duration_s)
        return self.finish()

    def finish(self) -> EngineOutput:
        """At the horizon: close the servers' statistics, record the tasks in flight and check conservation."""
        for pool in self.pools:
            pool.stop()
        self.sink.flush()
        in_flight = list(self.live.values())
        for job in in_flight:
            job.completed_s = job.download_end_s = NAN
            if job.download_start_s > self.duration_s:
                job.download_start_s = NAN
            if job.upload_end_s > self.duration_s:
                job.upload_end_s = NAN
            self.sink.add(job)
        self.sink.flush(in_flight=True)
        self.sink.close()
        stats = self.sink.stats
        dropped = sum(self.drops)
        if self.generated != stats.completed + dropped + len(in_flight) or dropped != stats.dropped:
            by_reason = ", ".join(f"{reason.value} {n}" for reason, n in zip(DropReason, self.drops, strict=True) if n)
            raise ConservationError(f"generated {self.generated} != completed {stats.completed} + dropped "
                                    f"{stats.dropped} ({by_reason or 'none'}) + in flight {len(in_flight)}")
        pools = tuple(PoolSnapshot(p.name, p.workers, p.busy_area, p.queue_area, p.arrivals, p.served,
                                   p.sojourn_sum_s, tuple(p.queue_time),
                                   s.queue_capacity is not None or s.patience is not None)
                      for p, s in zip(self.pools, self.world.servers, strict=True))
        drops = {reason: n for reason, n in zip(DropReason, self.drops, strict=True) if n}
        return EngineOutput(self.sink, self.generated, len(in_flight), pools, self.sampler.samples(), drops,
                            None if self.platform is None else self.platform.tables(self.warmup_s),
                            None if self.mobility is None else self.mobility.table(self.duration_s),
                            None if self.mobility is None else self.mobility.motion())
