"""Where a replica goes: the platform nodes' free resources and the filter-and-score choice of a node.

The filter keeps the domain nodes that are up and have the cores, GPUs and memory the spec requests and a disk large
enough for the image. A deployment with ``scheduling`` scores the nodes that pass with Kubernetes' plugins
(:mod:`scheduler.scoring`); one without ranks them in order: fewest replicas of the same deployment (spread), the
image already on the node (locality), the most free cores in proportion, then domain order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from offload.errors import ParameterError
from scheduler.scoring import Scoring, schedule
from simulator.lifecycle.images import Image, ImageCache
from simulator.lifecycle.replicas import Deployed, State
from simulator.lifecycle.spec import Deployment, NodeCapacity


def check_disks(nodes: Sequence[NodeCapacity], deployments: Sequence[Deployment],
                rollouts: Sequence[tuple[str, Image]]) -> None:
    """Every deployment's image, and every image a rollout ``(deployment, image)`` brings, fits some domain node's
    disk (else its replicas would stay pending for ever)."""
    disks = {n.node: n.disk_bits for n in nodes}
    specs = {d.name: d for d in deployments}
    for image, domain in [*((d.image, d.nodes) for d in deployments),
                          *((image, specs[name].nodes) for name, image in rollouts)]:
        if all(image.size_bits > disks[n] for n in domain):
            raise ParameterError("image", image.name, f"is larger ({image.size_bits:g} bit) than every domain node's "
                                 "disk")


class Fit:
    """The free cores, GPUs and memory of the ``nodes``, whose ``up`` state and image ``caches`` are kept
    elsewhere (the failures', the distributor's)."""

    def __init__(self, nodes: Sequence[NodeCapacity], up: Mapping[str, bool],
                 caches: Mapping[str, ImageCache]) -> None:
        self.up = up
        self.caches = caches
        self.cpu = {n.node: n.cpu for n in nodes}
        self.allocatable = {n.node: (n.cpu, float(n.gpu), n.memory_bits) for n in nodes}
        self.free_cpu = dict(self.cpu)
        self.free_gpu = {n.node: n.gpu for n in nodes}
        self.free_memory_bits = {n.node: n.memory_bits for n in nodes}

    def misfit(self, spec: Deployment, node: str) -> str:
        """The first filter that rules ``node`` out for a replica of ``spec`` (``""``: it fits)."""
        checks = (("node down", self.up[node]),
                  ("disk too small", spec.image.size_bits <= self.caches[node].capacity_bits),
                  ("insufficient cpu", self.free_cpu[node] >= spec.cpu - 1e-9),
                  ("insufficient gpu", self.free_gpu[node] >= spec.gpu),
                  ("insufficient memory", self.free_memory_bits[node] >= spec.memory_bits))
        return next((reason for reason, ok in checks if not ok), "")

    def unfit(self, spec: Deployment) -> str:
        """Why no domain node fits, as the Kubernetes scheduler says it: ``0/3 nodes fit: 2 insufficient cpu, ...``."""
        reasons = [self.misfit(spec, node) for node in spec.nodes]
        counts = ", ".join(f"{reasons.count(r)} {r}" for r in dict.fromkeys(reasons))
        return f"0/{len(spec.nodes)} nodes fit: {counts}"

    def choose(self, deployed: Deployed) -> str | None:
        """Filter and score the domain's nodes for a new replica of ``deployed`` (``None``: none fits)."""
        spec = deployed.spec
        nodes = [n for n in spec.nodes if not self.misfit(spec, n)]
        if not nodes:
            return None
        if spec.scheduling is not None:
            return self._scored(deployed, spec.scheduling, nodes)
        order = {n: k for k, n in enumerate(spec.nodes)}
        peers = [r.node for r in deployed.replicas if r.node is not None]
        return max(nodes, key=lambda n: (-peers.count(n), self.caches[n].has(spec.image),
                                         self.free_cpu[n] / self.cpu[n], -order[n]))

    def _scored(self, deployed: Deployed, scoring: Scoring, fitting: list[str]) -> str:
        """The domain node Kubernetes' filter and score picks among ``fitting``; the spread counts the deployment's
        replicas that are not terminating, image locality the domain nodes whose disk holds the image."""
        spec = deployed.spec
        domain = spec.nodes
        peers = [r.node for r in deployed.replicas if r.node is not None and r.state != State.TERMINATING]
        k = schedule(scoring, [self.allocatable[n] for n in domain],
                     [(self.free_cpu[n], self.free_gpu[n], self.free_memory_bits[n]) for n in domain],
                     (spec.cpu, spec.gpu, spec.memory_bits), [peers.count(n) for n in domain],
                     eligible=[n in fitting for n in domain], image_bits=spec.image.size_bits,
                     has_image=[self.caches[n].has(spec.image) for n in domain])
        assert k is not None  # the fitting nodes pass the same resource filter
        return domain[k]

    def reserve(self, spec: Deployment, node: str, sign: int) -> None:
        """Take (``sign`` 1) or give back (-1) a replica's resources on ``node``."""
        self.free_cpu[node] -= sign * spec.cpu
        self.free_gpu[node] -= sign * spec.gpu
        self.free_memory_bits[node] -= sign * spec.memory_bits
