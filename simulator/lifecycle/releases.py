"""The versions of the platform's services in one replication: each rollout's run (:mod:`~.lifecycle.versions`),
who scales each deployment (an autoscaler of a deployment with a rollout scales the service through the rollout's
view, :meth:`~.lifecycle.versions.RolloutRun.scale`; one without scales the deployment itself), and the versions'
traffic series and monitor (:mod:`~.lifecycle.monitor`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import pandas as pd

from simulator.lifecycle.autoscaler import Autoscaler
from simulator.lifecycle.monitor import TRAFFIC_COLUMNS, VERSION_COLUMNS, TrafficSampler, version_monitor
from simulator.lifecycle.replicas import counts
from simulator.lifecycle.spec import Deployment
from simulator.lifecycle.versions import SAMPLE_S, Control, Rollout


class Releases:
    """The rollouts of ``control``'s deployments (each one that waits ``after`` another a follower of it) and the
    traffic sampler of their services (sampling every version at its canary analysis' interval and window, else
    every :data:`~.lifecycle.versions.SAMPLE_S`)."""

    def __init__(self, control: Control, deployments: Sequence[Deployment], rollouts: Sequence[Rollout]) -> None:
        self.control = control
        self.runs = {r.deployment: r.strategy.attach(control, r) for r in rollouts}
        for run in self.runs.values():
            if run.rollout.after is not None:
                self.runs[run.rollout.after].followers.append(run)
        windows = {d.service: (SAMPLE_S, SAMPLE_S) for d in deployments}
        for deployment in reversed(deployments):  # a service in several domains: its first rollout's
            if deployment.name in self.runs:
                windows[deployment.service] = self.runs[deployment.name].sampling
        self.sampler = TrafficSampler(control, windows)

    def start(self) -> None:
        """Start the autoscalers, the rollouts (each at its time) and the sampler."""
        control = self.control
        for deployed in list(control.deployed.values()):
            rules = deployed.spec.autoscaling
            if rules is None:
                continue
            run = self.runs.get(deployed.spec.name)
            if run is not None:
                Autoscaler(control.env, rules, run.load, deployed.spec.workers, run.scale, run.counts).start()
            else:
                Autoscaler(control.env, rules, deployed.pool, deployed.spec.workers,
                           partial(control.scale, deployed.spec.name, kind="autoscale"),
                           partial(counts, deployed)).start()
        for run in self.runs.values():
            run.start()
        self.sampler.start()

    def tables(self, warmup_s: float) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The versions' traffic series and their monitor after ``warmup_s``."""
        return (pd.DataFrame(self.sampler.rows, columns=list(TRAFFIC_COLUMNS)),
                pd.DataFrame(version_monitor(self.control, warmup_s), columns=list(VERSION_COLUMNS)))
