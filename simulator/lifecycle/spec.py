"""What the platform runs besides images and registries: node capacities, deployments and scripted scale events,
as frozen value objects in SI (gathered with the registries in :class:`simulator.lifecycle.controller.Platform`).

A :class:`Deployment` keeps ``replicas`` replicas of one service version inside its domain (a named pool of nodes,
resolved from node labels by the scenario loader); every replica reserves ``cpu`` cores, ``gpu`` GPUs and
``memory_bits`` of memory on its node and serves with ``workers`` parallel workers, each at ``speed_share`` of its
node's speed, times its version's ``speedup`` (a request takes its node's time divided by ``speed_share × speedup``,
one formula: :meth:`simulator.lifecycle.router.Endpoint.time_s`), and fails a share ``error_probability`` of the
requests it serves (a bad version: reason ``version_error``). A replica goes pending (no node fits) → pulling
(its image is not on the node) → starting (``boot_s``: container start and model load) → ready, and terminating
(draining) when the deployment scales down.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from offload.errors import ParameterError
from offload.validate import check_non_negative, check_positive
from scheduler.scoring import Scoring
from simulator.lifecycle.autoscaler import Autoscaling
from simulator.lifecycle.images import Image
from simulator.lifecycle.router import Unready


def _check_probability(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ParameterError(name, value, "must be within [0, 1]")


def _check_count(name: str, value: int) -> None:
    if not isinstance(value, int) or value < 0:
        raise ParameterError(name, value, "must be a whole number >= 0")


@dataclass(frozen=True, slots=True)
class NodeCapacity:
    """What a node offers replicas: ``cpu`` cores, ``gpu`` GPUs, ``memory_bits`` of memory, a ``disk_bits`` image
    cache and the images on it at the start (pre-distributed, least recently used first); with a finite ``mtbf_s``
    it fails after exponential times of that mean and is repaired after exponential times of mean ``mttr_s`` (its
    disk survives)."""

    node: str
    cpu: float
    disk_bits: float = math.inf
    images: tuple[str, ...] = ()
    mtbf_s: float = math.inf
    mttr_s: float = 0.0
    gpu: int = 0
    memory_bits: float = math.inf

    def __post_init__(self) -> None:
        object.__setattr__(self, "images", tuple(self.images))
        check_positive("cpu", self.cpu)
        _check_count("gpu", self.gpu)
        check_positive("memory_bits", self.memory_bits, allow_inf=True)
        check_positive("disk_bits", self.disk_bits, allow_inf=True)
        check_positive("mtbf_s", self.mtbf_s, allow_inf=True)
        check_non_negative("mttr_s", self.mttr_s)
        if self.mtbf_s != math.inf and not self.mttr_s > 0:
            raise ParameterError("mttr_s", self.mttr_s, "a node that fails at random needs a repair time > 0")


@dataclass(frozen=True, slots=True)
class Deployment:
    """``replicas`` replicas of ``service`` version ``version`` from ``image``, on the ``nodes`` of its domain;
    with ``autoscaling`` an HPA changes the count from there (:mod:`simulator.lifecycle.autoscaler`). Replicas lost
    with a failed node are replaced on other nodes when ``reschedule``, else restart on their node once it is
    repaired. With ``scheduling`` a replica's node is chosen by Kubernetes' filter and score
    (:func:`scheduler.scoring.schedule`); without it, by the controller's spread-first order
    (:mod:`simulator.lifecycle.controller`)."""

    name: str
    service: str
    version: str
    image: Image
    replicas: int
    nodes: tuple[str, ...]
    cpu: float = 1.0
    workers: int = 1
    boot_s: float = 0.0
    unready: Unready = field(default_factory=Unready)
    autoscaling: Autoscaling | None = None
    reschedule: bool = True
    gpu: int = 0
    memory_bits: float = 0.0
    speed_share: float = 1.0
    speedup: float = 1.0
    error_probability: float = 0.0
    scheduling: Scoring | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes", tuple(self.nodes))
        _check_count("replicas", self.replicas)
        if not self.nodes:
            raise ParameterError("nodes", self.nodes, "the domain needs at least one node")
        check_positive("cpu", self.cpu)
        if not isinstance(self.workers, int) or self.workers < 1:
            raise ParameterError("workers", self.workers, "must be a whole number >= 1")
        check_non_negative("boot_s", self.boot_s)
        _check_count("gpu", self.gpu)
        check_non_negative("memory_bits", self.memory_bits)
        if not 0.0 < self.speed_share <= 1.0:
            raise ParameterError("speed_share", self.speed_share, "must be within (0, 1]")
        check_positive("speedup", self.speedup)
        _check_probability("error_probability", self.error_probability)
        scaling = self.autoscaling
        if scaling is not None and not scaling.min_replicas <= self.replicas <= scaling.max_replicas:
            raise ParameterError("replicas", self.replicas, f"must be within the autoscaler's bounds "
                                 f"[{scaling.min_replicas}, {scaling.max_replicas}]")


@dataclass(frozen=True, slots=True)
class Version:
    """A version of a service: its ``image``, a ``speedup`` of its requests over the spec's speed (a faster model:
    > 1) and the probability ``error_probability`` that it fails a request it serves."""

    name: str
    image: Image
    speedup: float = 1.0
    error_probability: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ParameterError("version.name", self.name, "must be a non-empty string")
        check_positive("speedup", self.speedup)
        _check_probability("error_probability", self.error_probability)


@dataclass(frozen=True, slots=True)
class ScaleEvent:
    """At ``at_s``, set the replica count of deployment ``deployment`` to ``replicas``."""

    at_s: float
    deployment: str
    replicas: int

    def __post_init__(self) -> None:
        check_non_negative("at_s", self.at_s)
        _check_count("replicas", self.replicas)


@dataclass(frozen=True, slots=True)
class NodeEvent:
    """At ``at_s``, node ``node`` fails (``kind="fail"``) or is repaired (``"recover"``)."""

    at_s: float
    node: str
    kind: Literal["fail", "recover"]

    def __post_init__(self) -> None:
        check_non_negative("at_s", self.at_s)
        if self.kind not in ("fail", "recover"):
            raise ParameterError("kind", self.kind, "must be 'fail' or 'recover'")
