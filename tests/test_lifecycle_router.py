"""The router on its own, against a hand trace: a request starts on the ready replica with the most free workers (the
oldest on a tie) and takes that replica's time, ``work / speed``, whichever request it timed before."""

from __future__ import annotations

import math

import simpy

from simulator.lifecycle.router import Endpoint, EndpointPool, Unready, VersionStats


class Request:
    """The fields of a :class:`simulator.jobs.Job` that the router reads and writes."""

    def __init__(self, work_ops: float) -> None:
        self.work_ops = work_ops
        self.created_s, self.expire_after_s, self.drop_code = 0.0, math.inf, 0
        self.queue_entry_s = self.service_start_s = self.service_end_s = self.service_s = math.nan
        self.target_code = -1


def _never(job: Request, reason: object) -> None:
    raise AssertionError(f"dropped: {reason}")


def test_requests_start_on_the_replica_with_most_free_workers_the_oldest_on_a_tie_timed_there():
    env = simpy.Environment()
    served: list[Request] = []
    pool = EndpointPool(env, "svc", Unready(), on_served=served.append, on_dropped=_never)
    stats = VersionStats()
    # (record code, workers, speed in ops/s): one 1-worker replica, then two 2-worker ones
    endpoints = [Endpoint(workers, code, (speed, 0.0), 1.0, lambda: None, stats)
                 for code, workers, speed in ((1, 1, 1e9), (2, 2, 2e9), (3, 2, 4e9))]
    for endpoint in endpoints:
        pool.add(endpoint)
    first = [Request(work) for work in (1e9, 3e9, 1e9, 3e9, 1e9)]
    for job in first:
        pool.arrive(job)
    # free workers 1,2,2 -> code 2 (the first of the most); 1,1,2 -> 3; 1,1,1 -> 1 (the oldest); 0,1,1 -> 2; 0,0,1 -> 3
    assert [job.target_code for job in first] == [2, 3, 1, 2, 3]
    assert [job.service_s for job in first] == [1e9 / 2e9, 3e9 / 4e9, 1e9 / 1e9, 3e9 / 2e9, 1e9 / 4e9]
    assert [endpoint.busy for endpoint in endpoints] == [1, 2, 2]
    env.run()
    assert len(served) == 5
    assert pool.busy == 0
    assert [endpoint.free for endpoint in endpoints] == [1, 2, 2]
    # one after another, all free: code 2 each time, the same work twice, then another work, then the first again
    again = []
    for work in (3e9, 3e9, 1e9, 3e9):
        job = Request(work)
        pool.arrive(job)
        again.append(job)
        env.run()
    assert [job.target_code for job in again] == [2, 2, 2, 2]
    assert [job.service_s for job in again] == [1.5, 1.5, 0.5, 1.5]
    assert list(stats.end_s) == [0.25, 0.5, 0.75, 1.0, 1.5, 3.0, 4.5, 5.0, 6.5]
    assert stats.started == 9
