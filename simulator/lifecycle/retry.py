"""Device retries: a request to a deployed service that fails is sent again by its device after a backoff.

A device group's :class:`Retry` rule allows ``attempts`` tries of one request (the first included, as gRPC's
``maxAttempts``). An attempt fails when the router drops it (its replica's node failed, reason ``node_failure``, or no
replica became ready in time, ``no_ready_replica``) or when no answer reached the device within ``timeout_s`` of
sending it (the device gives up on the attempt; the attempt itself runs on, as a server does not learn that its
client left, but its answer is ignored). The ``k``-th retry (``k = 0, 1, ...``) is sent ``backoff_s ×
multiplier^k`` after the failure; a request whose last attempt fails is dropped for that attempt's reason
(``timed_out`` for a device timeout). A request is one task whatever its attempts: its record holds its last
attempt's stage times, its latency runs from its creation (before the first send) to the last attempt's answer, its
device energy charges every attempt (each earlier attempt's upload until it ended or was given up, at transmit
power, and the wait from then to the next send, backoff included, at idle power; the radio tail once), and
conservation counts tasks (the engine's :meth:`~simulator.engine.Engine.resend` keeps one live attempt per task).
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import simpy

from offload.errors import ParameterError
from offload.validate import check_non_negative, check_positive
from simulator.events import Wake
from simulator.result import DropReason

#: Drop reasons of a deployed service's router that a device retries.
RETRIED = frozenset({DropReason.NODE_FAILURE, DropReason.NO_READY_REPLICA})


@dataclass(frozen=True, slots=True)
class Retry:
    """How the devices of group ``group`` retry: at most ``attempts`` tries per request, the ``k``-th retry
    ``backoff_s × multiplier^k`` after the failure, an attempt abandoned ``timeout_s`` after it was sent."""

    group: str
    attempts: int
    backoff_s: float = 0.0
    multiplier: float = 2.0
    timeout_s: float = math.inf

    def __post_init__(self) -> None:
        if not isinstance(self.attempts, int) or self.attempts < 1:
            raise ParameterError("attempts", self.attempts, "must be a whole number >= 1")
        check_non_negative("backoff_s", self.backoff_s)
        check_positive("multiplier", self.multiplier)
        check_positive("timeout_s", self.timeout_s, allow_inf=True)

    def delay_s(self, retry: int) -> float:
        """The wait before retry number ``retry`` (0 for the first)."""
        return self.backoff_s * self.multiplier ** retry


#: ``resend(job, delay_s)``: abandon the live attempt ``job`` and send a new one after ``delay_s``; ``give_up(job,
#: reason)``: drop the task of the live attempt ``job``; both return ``False`` when ``job`` is not its task's live
#: attempt (it ended or was abandoned meanwhile).
Resend = Callable[[Any, float], bool]
GiveUp = Callable[[Any, DropReason], bool]


def _settled(job: Any) -> bool:
    """Whether attempt ``job`` needs no timeout any more: answered, dropped, or abandoned for another attempt."""
    return bool(job.attempt < 0 or job.drop_code or not math.isnan(job.completed_s))


class Retrier:
    """The retries of one replication: ``dropped`` stands between the deployed services' routers and the engine's
    drop, ``sent`` starts an attempt's timeout; ``retried`` counts retries by the reason of the failed attempt.

    A group's timeout is one constant, so its attempts' deadlines come in the order they were sent: they wait in
    one queue per group behind a single wake-up at the earliest deadline of an attempt still unsettled, and settled
    attempts leave the queue when they reach its head (no timer per request; most never reach their deadline)."""

    def __init__(self, env: simpy.Environment, rules: Sequence[Retry], *, resend: Resend, give_up: GiveUp,
                 on_dropped: Callable[[Any, DropReason], None]) -> None:
        self.env = env
        self.rules = {rule.group: rule for rule in rules}
        self.resend = resend
        self.give_up = give_up
        self.on_dropped = on_dropped
        self.retried: Counter[str] = Counter()
        self.waiting: dict[str, deque[tuple[float, Any]]] = {rule.group: deque() for rule in rules}
        self.armed: set[str] = set()

    def _rule(self, job: Any) -> Retry | None:
        return self.rules.get(job.device.group.name)

    def sent(self, job: Any) -> None:
        """Attempt ``job`` left its device: time it out if its group has a timeout."""
        rule = self._rule(job)
        if rule is None or rule.timeout_s == math.inf:
            return
        deadline_s = self.env.now + rule.timeout_s
        self.waiting[rule.group].append((deadline_s, job))
        if rule.group not in self.armed:
            self.armed.add(rule.group)
            Wake(self.env, rule.timeout_s, (rule, deadline_s), self._expire)

    def _expire(self, event: simpy.Event) -> None:
        """The wake-up for the deadline ``due_s``: attempts due by then and unsettled time out."""
        rule, due_s = event.value  # type: ignore[misc]
        waiting = self.waiting[rule.group]
        while waiting:
            deadline_s, job = waiting[0]
            if not _settled(job):
                if deadline_s > due_s:
                    break
                self._timed_out(job, rule)
            waiting.popleft()
        if waiting:
            Wake(self.env, waiting[0][0] - self.env.now, (rule, waiting[0][0]), self._expire)
        else:
            self.armed.discard(rule.group)

    def _timed_out(self, job: Any, rule: Retry) -> None:
        if job.attempt + 1 < rule.attempts:
            if self.resend(job, rule.delay_s(job.attempt)):
                self.retried[DropReason.TIMED_OUT.value] += 1
        else:
            self.give_up(job, DropReason.TIMED_OUT)

    def dropped(self, job: Any, reason: DropReason) -> None:
        """A router dropped attempt ``job``: retry it, or drop its task (an abandoned attempt is ignored)."""
        if job.attempt < 0:
            return
        rule = self._rule(job)
        if reason in RETRIED and rule is not None and job.attempt + 1 < rule.attempts:
            self.resend(job, rule.delay_s(job.attempt))
            self.retried[reason.value] += 1
            return
        self.on_dropped(job, reason)
