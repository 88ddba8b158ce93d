"""The platform over time (above the simulator core, below the scenario): images built when first needed and pulled
from registries into node caches, deployments whose replicas go pending → pulling → starting → ready → terminating,
the controllers that change them during a run (scripted scale events, the HPA autoscaler, node failures), the devices'
retries, and rollouts of new versions (a rolling upgrade, or a canary with a traffic split and an SLO analysis that
may roll it back). Pass a :class:`Platform` to :func:`simulator.run.run`."""

from simulator.lifecycle.autoscaler import Autoscaling
from simulator.lifecycle.controller import Platform
from simulator.lifecycle.distribution import Push
from simulator.lifecycle.images import Image, ImageCache
from simulator.lifecycle.pulls import Registry
from simulator.lifecycle.retry import Retry
from simulator.lifecycle.rollout import Analysis, Canary, Step
from simulator.lifecycle.router import Unready
from simulator.lifecycle.spec import Deployment, NodeCapacity, NodeEvent, ScaleEvent, Version
from simulator.lifecycle.upgrade import Amount, RollingUpdate
from simulator.lifecycle.versions import Rollout

__all__ = ["Amount", "Analysis", "Autoscaling", "Canary", "Deployment", "Image", "ImageCache", "NodeCapacity",
           "NodeEvent", "Platform", "Push", "Registry", "Retry", "RollingUpdate", "Rollout", "ScaleEvent", "Step",
           "Unready", "Version"]
