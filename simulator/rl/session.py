"""One episode of a World, paused at every decision: the engine the environments drive.

:class:`DecisionEngine` is the simulator's :class:`~simulator.engine.Engine` whose decisions at arrival wait for an
answer instead of asking a policy. :meth:`DecisionEngine.advance` processes SimPy events one at a time
(``env.step()``) until a task waits for its decision or the horizon comes: no threads, and the event order is the
one ``mecsim simulate`` produces, so an agent that answers as a policy would reproduces that policy's run exactly.

A :class:`Session` seeds episodes the way :func:`simulator.run.run` seeds replication 0 (episode seed ``s`` equals
``mecsim simulate --seed s --replications 1``), feeds finished tasks to the cost meter
(:mod:`simulator.rl.reward`) and, at the end, gives the episode's records and summary.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import numpy as np
import pandas as pd

from offload.errors import MecsimError
from simulator.engine import Engine
from simulator.jobs import EngineOutput, Job, Pending, Platform
from simulator.metrics import RecordLabel, RecordSink
from simulator.policies import Candidate, DecisionBatch, IntArray, Observation
from simulator.records import ColumnStore
from simulator.result import PolicySummary
from simulator.run import layout_of, store_of
from simulator.summary import combine, replication_stats
from simulator.world import World


class AgentSeat:
    """The policy slot of a :class:`DecisionEngine`: stateful, so every task is decided at its arrival, by the
    agent through :meth:`Session.answer`; the engine never calls :meth:`choose`."""

    stateful: ClassVar[bool] = True

    def choose(self, batch: DecisionBatch, observed: Observation | None, rng: np.random.Generator) -> IntArray:
        """Never called: the decision engine keeps each decision for the agent."""
        raise MecsimError("a decision engine's tasks are decided by its agent (Session.answer), not by a policy")


class DecisionEngine(Engine):
    """An :class:`~simulator.engine.Engine` that stops at each decision; ``on_finished`` sees every finished task."""

    def __init__(self, world: World, streams: list[np.random.SeedSequence], policy_seed: np.random.SeedSequence,
                 sink: RecordSink, *, duration_s: float, warmup_s: float, platform: Platform | None,
                 on_finished: Callable[[Job], None], server_seed: np.random.SeedSequence) -> None:
        super().__init__(world, AgentSeat(), streams, policy_seed, sink, duration_s=duration_s, warmup_s=warmup_s,
                         platform=platform, server_seed=server_seed)
        self.pending: Pending | None = None
        self.on_finished = on_finished

    def _ask(self, pending: Pending) -> None:
        self.pending = pending

    def _record(self, job: Job) -> None:
        super()._record(job)
        self.on_finished(job)

    def advance(self) -> bool:
        """Process events until a task waits for its decision (``True``) or none is left before the horizon."""
        env = self.env
        end = self.duration_s
        while self.pending is None:
            if env.peek() >= end:
                return False
            env.step()
        return True

    def answer(self, choice: int) -> None:
        """Carry out the waiting decision."""
        pending = self.pending
        if pending is None:
            raise MecsimError("no task is waiting for a decision")
        self.pending = None
        self.decide(pending, choice)


class Session:
    """Episodes of ``world`` over ``duration_s`` (the first ``warmup_s`` not in the summary).

    ``on_finished(job)`` is called for every finished task; at the end, :meth:`close` returns the tasks still in
    flight. With ``records`` the episode's per-task records are kept (:meth:`records`); ``platform`` is the
    scenario's deployments (replica life cycle), as ``simulate`` runs them.
    """

    def __init__(self, world: World, *, duration_s: float, warmup_s: float, records: bool,
                 on_finished: Callable[[Job], None], platform: Platform | None = None) -> None:
        self.world = world
        self.platform = platform
        self.duration_s = duration_s
        self.warmup_s = warmup_s
        self.keep_records = records
        self.on_finished = on_finished
        self.layout = layout_of(world)
        self.services = [s.name for s in world.services]
        self.engine: DecisionEngine | None = None
        self.output: EngineOutput | None = None
        self._store: ColumnStore | None = None
        self._records: pd.DataFrame | None = None

    def candidates(self) -> list[tuple[Candidate, ...]]:
        """The candidate servers of each device group, nearest first (the same in every episode)."""
        seeds = np.random.SeedSequence(0).spawn(len(self.world.device_groups) + 2)
        sink = RecordSink(self.layout, warmup_s=self.warmup_s, duration_s=self.duration_s, records=None)
        engine = DecisionEngine(self.world, seeds[:-2], seeds[-2], sink, duration_s=self.duration_s,
                                warmup_s=self.warmup_s, platform=self.platform, on_finished=self.on_finished,
                                server_seed=seeds[-1])
        return [state.candidates for state in engine.groups]

    def start(self, seed: int) -> bool:
        """A new episode seeded like replication 0 of ``mecsim simulate --seed seed``; ``True`` if a task waits."""
        child = np.random.SeedSequence(int(seed)).spawn(1)[0]
        streams = child.spawn(len(self.world.device_groups))
        policy_seed, server_seed = child.spawn(2)
        self._store = store_of(self.world, ["agent"]) if self.keep_records else None
        self._records = None
        label = None if self._store is None else RecordLabel(self._store, 0, 0, 0)
        sink = RecordSink(self.layout, warmup_s=self.warmup_s, duration_s=self.duration_s, records=label)
        self.engine = DecisionEngine(self.world, streams, policy_seed, sink, duration_s=self.duration_s,
                                     warmup_s=self.warmup_s, platform=self.platform, on_finished=self.on_finished,
                                     server_seed=server_seed)
        self.output = None
        self.engine.start()
        return self.engine.advance()

    @property
    def running(self) -> DecisionEngine:
        """The engine of the episode under way."""
        if self.engine is None or self.output is not None:
            raise MecsimError("the episode is over (or not started): call reset()")
        return self.engine

    @property
    def pending(self) -> Pending:
        """The task waiting for its decision."""
        pending = self.running.pending
        if pending is None:
            raise MecsimError("no task is waiting for a decision")
        return pending

    def answer(self, choice: int) -> bool:
        """Decide the waiting task and run to the next decision; ``False`` when the episode has ended."""
        engine = self.running
        engine.answer(choice)
        return engine.advance()

    def close(self) -> list[Job]:
        """Run to the horizon and close the episode; the tasks left in flight (their stages cut at the horizon)."""
        engine = self.running
        engine.env.run(until=self.duration_s)
        in_flight = list(engine.live.values())
        self.output = engine.finish()
        return in_flight

    def summary(self) -> PolicySummary:
        """The episode's summary, as ``mecsim simulate`` reports one replication."""
        if self.output is None:
            raise MecsimError("the episode has not ended")
        stats = replication_stats(self.output, window_s=self.duration_s - self.warmup_s, services=self.services,
                                  warmup_s=self.warmup_s)
        return combine([stats])[0]

    def records(self) -> pd.DataFrame:
        """The episode's per-task records (policy ``agent``, replication 0)."""
        if self.output is None or self._store is None:
            raise MecsimError("records are kept only with records=True, once the episode has ended")
        if self._records is None:
            self._records = self._store.to_frame()  # the store hands its arrays over once
        return self._records
