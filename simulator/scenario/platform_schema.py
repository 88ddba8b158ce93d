"""Scenario sections of the platform (:mod:`simulator.lifecycle`): images, the registry and its mirrors,
deployments into node domains, and scripted platform events; in SI after unit conversion. Rules between sections
are in :mod:`simulator.scenario.platform`.

::

    images: [{name: plates-v1, size: 450 MB, build: 1 min}]
    registry: {node: cloud, mirrors: [{node: baoshan, images: [plates-v1]}]}
    nodes: [{name: edge-1, ..., cpu: 8, gpu: 1, memory: 32 GB, disk: 20 GB, labels: {pool: baoshan},
             images: [plates-v1]}]
    deployments:
      - {service: plates, version: v1, image: plates-v1, replicas: 2, domain: {pool: baoshan}, peer_distribution: true,
         cpu: 1, gpu: 0,
         memory: 2 GB, speed_share: 1,
         workers: 1, boot: 20 s, unready: {action: wait, timeout: 10 s},
         autoscale: {min: 1, max: 8, metric: busy, target: 0.6},
         scheduling: {strategy: most-allocated, image_locality: 1, spread: 2, weights: {cpu: 1, memory: 1}}}
    devices: [{name: cams, ..., service: plates, retry: {attempts: 3, backoff: 200 ms, multiplier: 2, timeout: 5 s}}]
    predistribute: [{at: 1 min, image: plates-v2, mirror: baoshan},
                    {at: 5 min, image: plates-v2, domain: {pool: baoshan}}]
    events: [{at: 10 min, kind: scale, deployment: plates-v1, replicas: 4}, {at: 1 h, kind: fail, node: edge-1},
             {at: 70 min, kind: recover, node: edge-1}]
    versions: [{service: plates, name: v2, image: plates-v2, speedup: 1.3, error_rate: 0}]

A deployment may roll out another version of its service (:mod:`simulator.lifecycle.versions`)::

    rollout: {to: v2, at: 2 h, strategy: rolling, max_surge: 25%, max_unavailable: 0}
    rollout: {to: v2, at: 2 h, strategy: canary,
              steps: [{weight: 10}, {pause: 10 min}, {weight: 50}, {pause: 10 min}],
              analysis: {window: 5 min, interval: 30 s, p95: 250 ms, error_rate: 0.01, min_requests: 20}}

A service may have a deployment per domain (disjoint domains; a request goes to the deployment of the node it is
sent to) and roll out domain by domain, each domain's rollout ``after`` the previous one::

    - {name: plates-east, service: plates, domain: {zone: east}, rollout: {to: v2, at: 1 h, strategy: canary, ...}}
    - {name: plates-west, service: plates, domain: {zone: west}, rollout: {to: v2, after: plates-east, ...}}
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from simulator.scenario.quantities import DataSize, Duration, DurationOrZero, PositiveDataSize, Strict

Name = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.\-]+$")]
Cores = Annotated[float, Field(gt=0.0, le=1e6, allow_inf_nan=False)]


class ImageSpec(Strict):
    """A container image: its size (what a pull transfers) and build time. An image is built when it is first needed
    and enters the central registry ``build`` seconds later; pulls from the central registry of that image wait for
    it. First needed: time 0 for a deployment's initial image, the rollout's start (``at``, or when its ``after:``
    predecessor completes) for a rollout's new version image, a predistribute push's time for a pushed image. An
    image already on some node's cache (``nodes[].images``) or on a registry mirror at the start counts as built (it
    was built before the run): no wait. A rollout's first step starts only when its new image is built (so a
    canary's traffic shift waits for the build). Events ``build_start`` and ``build_end``."""

    name: Name
    size: PositiveDataSize
    build: DurationOrZero = 0.0


class MirrorSpec(Strict):
    """A registry mirror at a topology node, holding the listed images (pre-distributed before the run)."""

    node: Name
    images: list[Name] = Field(default_factory=list)


class RegistrySpec(Strict):
    """The central registry (at ``node``, holding every image) and optional mirrors nearer the domains."""

    node: Name
    mirrors: list[MirrorSpec] = Field(default_factory=list)


class UnreadySpec(Strict):
    """What a request does when no replica is ready: ``wait`` up to ``timeout``, ``drop``, go on to the nearest
    ``cloud`` node, or spill to the parent ``region`` (the nodes whose labels include every ``key: value`` of
    ``region``, outside the domain; taken in turn)."""

    action: Literal["wait", "drop", "cloud", "region"] = "wait"
    timeout: Duration = 10.0
    region: Annotated[dict[Name, Name], Field(min_length=1)] | None = None


class RetrySpec(Strict):
    """How a device group retries a failed request to a deployed service (:mod:`simulator.lifecycle.retry`): at
    most ``attempts`` tries (the first included), the ``k``-th retry ``backoff × multiplier^k`` after the failure,
    an attempt given up ``timeout`` after it was sent (none: only the router's failures are retried)."""

    attempts: Annotated[int, Field(ge=1, le=1000)]
    backoff: DurationOrZero = 0.0
    multiplier: Annotated[float, Field(gt=0.0, le=1000.0, allow_inf_nan=False)] = 2.0
    timeout: Duration | None = None


class AutoscaleSpec(Strict):
    """A Kubernetes HPA over the deployment: ``metric`` (``busy``: fraction of the replicas' workers busy; ``rps``:
    requests per second per replica; ``queue``: requests waiting per replica) kept near ``target``; with ``min: 0``
    an idle deployment scales to zero and its next request starts a replica (buffered at the router meanwhile)."""

    min: Annotated[int, Field(ge=0, le=100_000)] = 1
    max: Annotated[int, Field(ge=1, le=100_000)]
    metric: Literal["busy", "rps", "queue"]
    target: Annotated[float, Field(gt=0.0, le=1e9, allow_inf_nan=False)]
    sync: Duration = 15.0
    tolerance: Annotated[float, Field(ge=0.0, le=10.0, allow_inf_nan=False)] = 0.1
    stabilization: DurationOrZero = 300.0


Fraction = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
#: A number of replicas, or a percentage of the replica count (``"25%"``).
CountOrPercent = Annotated[int, Field(ge=0, le=100_000)] | Annotated[str, Field(pattern=r"^[0-9]+(\.[0-9]+)?%$")]


class VersionSpec(Strict):
    """A version of a service: its image, how much faster than the deployment's spec it serves (``speedup``) and
    the share of the requests it serves that fail (``error_rate``)."""

    service: Name
    name: Name
    image: Name
    speedup: Annotated[float, Field(gt=0.0, le=1e6, allow_inf_nan=False)] = 1.0
    error_rate: Fraction = 0.0


class StepSpec(Strict):
    """A canary step: set the new version's traffic ``weight`` (percent), or ``pause``."""

    weight: Annotated[int, Field(ge=0, le=100)] | None = None
    pause: Duration | None = None


class AnalysisSpec(Strict):
    """The SLO a canary is held to over a sliding ``window``, judged every ``interval`` once ``min_requests``
    requests ended in the window: the 95th percentile request time at most ``p95``, the failed share at most
    ``error_rate``."""

    window: Duration
    interval: Duration = 30.0
    p95: Duration | None = None
    error_rate: Fraction | None = None
    min_requests: Annotated[int, Field(ge=1, le=10**9)] = 20


class RolloutSpec(Strict):
    """At ``at``, move the deployment to version ``to``: a ``rolling`` upgrade within ``max_surge`` extra and
    ``max_unavailable`` missing replicas, or a ``canary`` through its ``steps`` under an optional ``analysis``;
    with ``after`` (another deployment of the service, in another domain, rolling out the same version) not before
    that rollout completed, and not at all if it was rolled back (domain by domain)."""

    to: Name
    at: DurationOrZero = 0.0
    after: Name | None = None
    strategy: Literal["rolling", "canary"]
    max_surge: CountOrPercent = "25%"
    max_unavailable: CountOrPercent = "25%"
    steps: list[StepSpec] = Field(default_factory=list)
    analysis: AnalysisSpec | None = None
Weight = Annotated[float, Field(ge=0.0, le=1e6, allow_inf_nan=False)]


class ResourceWeightsSpec(Strict):
    """Weight of each resource in the resource-fit score (Kubernetes' default resources: cpu 1, memory 1)."""

    cpu: Weight = 1.0
    gpu: Weight = 0.0
    memory: Weight = 1.0


class SchedulingSpec(Strict):
    """Place replicas by Kubernetes' filter and score (``scheduler/scoring.py``): ``least-allocated`` spreads over
    the domain's nodes, ``most-allocated`` packs them; each score plugin's weight (defaults: kube's default profile,
    fit 1, image locality 1, spread 2) and the resources' weights inside the fit score."""

    strategy: Literal["least-allocated", "most-allocated"] = "least-allocated"
    fit: Weight = 1.0
    image_locality: Weight = 1.0
    spread: Weight = 2.0
    weights: ResourceWeightsSpec = ResourceWeightsSpec()


class DeploymentSpec(Strict):
    """``replicas`` replicas of a service version on the nodes whose labels match ``domain``; ``name`` defaults to
    ``SERVICE-VERSION``. Each replica requests ``cpu`` cores, ``gpu`` GPUs and ``memory`` on its node and serves
    ``workers`` requests at once, each at ``speed_share`` of its node's speed; with ``peer_distribution`` the
    domain's nodes pull images from each other (:mod:`simulator.lifecycle.distribution`). ``image`` defaults to the
    version's (``versions:``); ``rollout`` moves the deployment to another version during the run. A service may
    have several deployments, in disjoint domains."""

    name: Name | None = None
    service: Name
    version: Name = "v1"
    image: Name | None = None
    replicas: Annotated[int, Field(ge=0, le=100_000)] = 1
    domain: Annotated[dict[Name, Name], Field(min_length=1)]
    cpu: Cores = 1.0
    gpu: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    memory: DataSize = 0.0
    speed_share: Annotated[float, Field(gt=0.0, le=1.0, allow_inf_nan=False)] = 1.0
    workers: Annotated[int, Field(ge=1, le=100_000)] = 1
    boot: DurationOrZero = 0.0
    unready: UnreadySpec = UnreadySpec()
    autoscale: AutoscaleSpec | None = None
    reschedule: bool = True
    rollout: RolloutSpec | None = None
    peer_distribution: bool = False
    scheduling: SchedulingSpec | None = None

    @property
    def label(self) -> str:
        """The deployment's name."""
        return self.name or f"{self.service}-{self.version}"


class PushSpec(Strict):
    """At ``at``, pre-distribute ``image`` to every node whose labels match ``domain``, or to the registry mirror at
    ``mirror`` (ahead of a rollout)."""

    at: DurationOrZero
    image: Name
    domain: Annotated[dict[Name, Name], Field(min_length=1)] | None = None
    mirror: Name | None = None


class ScaleEventSpec(Strict):
    """At ``at``, set deployment ``deployment`` to ``replicas`` replicas."""

    at: DurationOrZero
    kind: Literal["scale"]
    deployment: Name
    replicas: Annotated[int, Field(ge=0, le=100_000)]


class NodeEventSpec(Strict):
    """At ``at``, node ``node`` fails or is repaired."""

    at: DurationOrZero
    kind: Literal["fail", "recover"]
    node: Name


EventSpec = Annotated[ScaleEventSpec | NodeEventSpec, Field(discriminator="kind")]
