"""The platform sections of a scenario (:mod:`simulator.scenario.platform_schema`): their cross-part rules, each a
:class:`~simulator.world.Problem` at the YAML path of the offending value, and their one conversion to a
:class:`simulator.lifecycle.Platform` (and to the host lists of the deployed services)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator

from scheduler.scoring import Scoring
from simulator.elements import CLOUD_WORKERS
from simulator.lifecycle import (
    Autoscaling,
    Deployment,
    Image,
    NodeCapacity,
    NodeEvent,
    Platform,
    Push,
    Registry,
    Retry,
    ScaleEvent,
    Unready,
)
from simulator.scenario.platform_schema import DeploymentSpec, ImageSpec, NodeEventSpec, ScaleEventSpec
from simulator.scenario.schema import NodeSpec, ScenarioSpec
from simulator.scenario.versions import deployment_image, deployment_version, rollouts_from_spec, version_problems
from simulator.topology import shortest_paths
from simulator.world import Problem, duplicates, undefined


def labelled_nodes(spec: ScenarioSpec, labels: dict[str, str]) -> list[NodeSpec]:
    """The nodes whose labels include every ``key: value`` of ``labels``, in file order."""
    return [node for node in spec.nodes if all(node.labels.get(k) == v for k, v in labels.items())]


def domain_nodes(spec: ScenarioSpec, deployment: DeploymentSpec) -> list[NodeSpec]:
    """The nodes of the deployment's domain, in file order."""
    return labelled_nodes(spec, deployment.domain)


def region_nodes(spec: ScenarioSpec, deployment: DeploymentSpec) -> list[NodeSpec]:
    """The nodes of the region the deployment spills to (none without one), in file order."""
    region = deployment.unready.region
    return [] if region is None else labelled_nodes(spec, region)


def _cpu(node: NodeSpec) -> float:
    if node.cpu is not None:
        return node.cpu
    return float(node.workers if node.workers is not None else (CLOUD_WORKERS if node.tier == "cloud" else 1))


def platform_problems(spec: ScenarioSpec) -> Iterator[Problem]:
    """Every rule between the platform sections and the rest of the file."""
    images = {image.name: image for image in spec.images}
    image_names = list(images)
    yield from duplicates("images", [image.name for image in spec.images])
    for index, node in enumerate(spec.nodes):
        if (node.mtbf is None) != (node.mttr is None):
            yield Problem(("nodes", index, "mtbf" if node.mtbf is None else "mttr"), None,
                          "random failures need both mtbf and mttr")
        for k, name in enumerate(node.images):
            if name not in images:
                yield undefined(("nodes", index, "images", k), name, "image", image_names)
    yield from _registry_problems(spec, image_names)
    yield from version_problems(spec)
    yield from _retry_problems(spec)
    yield from _push_problems(spec, image_names)
    if not spec.deployments:
        return
    if spec.registry is None:
        yield Problem(("deployments",), None, "needs a registry section to pull images from")
    if spec.placement is not None:
        yield Problem(("placement",), None, "deployments place their own replicas: drop the placement section")
    yield from duplicates("deployments", [d.label for d in spec.deployments])
    services = {service.name: service for service in spec.services}
    deployed: dict[tuple[str, str], int] = {}
    for index, deployment in enumerate(spec.deployments):
        path = ("deployments", index)
        service = services.get(deployment.service)
        if service is None:
            yield undefined((*path, "service"), deployment.service, "service", list(services))
        elif service.hosts:
            yield Problem((*path, "service"), deployment.service, "its service lists hosts: a deployment chooses "
                          "its own nodes (drop the service's hosts)")
        for node in domain_nodes(spec, deployment):
            other = deployed.setdefault((deployment.service, node.name), index)
            if other != index:
                yield Problem((*path, "domain"), node.name, f"is also in the domain of deployments[{other}] of "
                              f"{deployment.service!r}: a service's deployments need disjoint domains")
                break
        image = deployment_image(spec, deployment)
        if image is not None and image not in images:
            yield undefined((*path, "image"), image, "image", image_names)
        yield from _domain_problems(spec, deployment, path, images.get(image or ""))
        yield from _version_disk_problems(spec, deployment, images)
        yield from _autoscale_problems(deployment, path)
        if deployment.scheduling is not None and not any(dict(deployment.scheduling.weights).values()):
            yield Problem((*path, "scheduling", "weights"), None, "at least one resource weight must be > 0")
    names = [d.label for d in spec.deployments]
    nodes = [node.name for node in spec.nodes]
    for index, event in enumerate(spec.events):
        if isinstance(event, ScaleEventSpec) and event.deployment not in names:
            yield undefined(("events", index, "deployment"), event.deployment, "deployment", names)
        if isinstance(event, NodeEventSpec) and event.node not in nodes:
            yield undefined(("events", index, "node"), event.node, "node", nodes)
        if event.at >= spec.run.duration:
            yield Problem(("events", index, "at"), event.at, f"must be before the end of the run "
                          f"({spec.run.duration:g} s)")


def _push_problems(spec: ScenarioSpec, image_names: list[str]) -> Iterable[Problem]:
    if spec.predistribute and not spec.deployments:
        yield Problem(("predistribute",), None, "pre-distribution pushes images for deployments: add a deployments "
                      "section")
    mirrors = [] if spec.registry is None else [m.node for m in spec.registry.mirrors]
    for index, push in enumerate(spec.predistribute):
        path = ("predistribute", index)
        if push.image not in image_names:
            yield undefined((*path, "image"), push.image, "image", image_names)
        if (push.domain is None) == (push.mirror is None):
            yield Problem(path, None, "needs either a domain or a mirror to push to")
        elif push.domain is not None and not labelled_nodes(spec, push.domain):
            labels = ", ".join(f"{k}={v}" for k, v in push.domain.items())
            yield Problem((*path, "domain"), None, f"unknown domain: no node has the labels {labels}")
        elif push.mirror is not None and push.mirror not in mirrors:
            yield undefined((*path, "mirror"), push.mirror, "registry mirror", mirrors)
        elif push.mirror is not None and spec.registry is not None:
            edges = [(link.between[0], link.between[1], 0.0) for link in spec.links]
            if push.mirror not in shortest_paths([spec.registry.node], edges)[0][spec.registry.node]:
                yield Problem((*path, "mirror"), push.mirror, f"cannot be reached from the registry at "
                              f"{spec.registry.node!r}; add a link")
        if push.at >= spec.run.duration:
            yield Problem((*path, "at"), push.at, f"must be before the end of the run ({spec.run.duration:g} s)")


def _retry_problems(spec: ScenarioSpec) -> Iterable[Problem]:
    deployed = [d.service for d in spec.deployments]
    for index, group in enumerate(spec.devices):
        service = group.service or (spec.services[0].name if spec.services else None)
        if group.retry is not None and service not in deployed:
            yield Problem(("devices", index, "retry"), None, f"retries resend requests that fail at a deployed "
                          f"service: deploy {service!r} (deployments section)")


def _autoscale_problems(deployment: DeploymentSpec, path: tuple[str | int, ...]) -> Iterable[Problem]:
    scaling = deployment.autoscale
    if scaling is None:
        return
    if scaling.min > scaling.max:
        yield Problem((*path, "autoscale", "min"), scaling.min, f"must be <= max ({scaling.max})")
    elif not scaling.min <= deployment.replicas <= scaling.max:
        yield Problem((*path, "replicas"), deployment.replicas, f"must be within the autoscaler's bounds "
                      f"[{scaling.min}, {scaling.max}]")
    if scaling.metric == "busy" and scaling.target > 1.0:
        yield Problem((*path, "autoscale", "target"), scaling.target, "a busy fraction must be <= 1")


def _registry_problems(spec: ScenarioSpec, image_names: list[str]) -> Iterable[Problem]:
    registry = spec.registry
    if registry is None:
        return
    places = [ap.name for ap in spec.access_points] + list(spec.switches) + [node.name for node in spec.nodes]
    if registry.node not in places:
        yield undefined(("registry", "node"), registry.node, "access point, node or switch", places)
    for index, mirror in enumerate(registry.mirrors):
        if mirror.node not in places:
            yield undefined(("registry", "mirrors", index, "node"), mirror.node, "access point, node or switch",
                            places)
        for k, name in enumerate(mirror.images):
            if name not in image_names:
                yield undefined(("registry", "mirrors", index, "images", k), name, "image", image_names)


def _domain_problems(spec: ScenarioSpec, deployment: DeploymentSpec, path: tuple[str | int, ...],
                     image: object) -> Iterable[Problem]:
    nodes = domain_nodes(spec, deployment)
    if not nodes:
        labels = ", ".join(f"{k}={v}" for k, v in deployment.domain.items())
        yield Problem((*path, "domain"), None, f"unknown domain: no node has the labels {labels}")
        return
    size = getattr(image, "size", None)
    if size is not None and _too_large(size, nodes):
        yield Problem((*path, "image"), deployment_image(spec, deployment),
                      f"is larger ({size:g} bit) than every domain node's disk")
    yield from _request_problems(deployment, nodes, path)
    for node in nodes:
        if node.batching is not None:
            yield Problem((*path, "domain"), node.name, "batches requests: a replica serves one request per "
                          "worker, so a domain node cannot batch")
    edges = [(link.between[0], link.between[1], 0.0) for link in spec.links]
    yield from _region_problems(spec, deployment, path, nodes, edges)
    if deployment.unready.action == "cloud":
        first = spec.node_location(nodes[0])
        reach = shortest_paths([first], edges)[0][first]
        if not any(node.tier == "cloud" and spec.node_location(node) in reach for node in spec.nodes):
            yield Problem((*path, "unready", "action"), "cloud", "needs a cloud node reachable from the domain")
    if spec.registry is not None:
        reach = shortest_paths([spec.registry.node], edges)[0][spec.registry.node]
        for node in nodes:
            if spec.node_location(node) not in reach:
                yield Problem((*path, "domain"), node.name, f"cannot be reached from the registry at "
                              f"{spec.registry.node!r}; add a link")


def _too_large(size_bits: float, nodes: list[NodeSpec]) -> bool:
    """Whether an image of ``size_bits`` fits on none of the ``nodes``' disks (no replica could ever start)."""
    return all(node.disk is not None and node.disk < size_bits for node in nodes)


def _version_disk_problems(spec: ScenarioSpec, deployment: DeploymentSpec,
                           images: dict[str, ImageSpec]) -> Iterable[Problem]:
    """Every other version of the deployment's service (one a rollout may bring to its domain) has an image that
    fits some domain node's disk; the deployment's own version is its image's rule."""
    nodes = domain_nodes(spec, deployment)
    for index, version in enumerate(spec.versions):
        image = images.get(version.image)
        if version.service == deployment.service and version.name != deployment.version and image is not None \
                and nodes and _too_large(image.size, nodes):
            yield Problem(("versions", index, "image"), version.image, f"is larger ({image.size:g} bit) than every "
                          f"node's disk in the domain of deployment {deployment.label!r}")


def _region_problems(spec: ScenarioSpec, deployment: DeploymentSpec, path: tuple[str | int, ...],
                     nodes: list[NodeSpec], edges: list[tuple[str, str, float]]) -> Iterable[Problem]:
    unready = deployment.unready
    if (unready.action == "region") != (unready.region is not None):
        yield Problem((*path, "unready", "region" if unready.region is not None else "action"), unready.action,
                      "the region's labels go with action: region, and action: region needs them")
        return
    if unready.region is None:
        return
    region = region_nodes(spec, deployment)
    labels = ", ".join(f"{k}={v}" for k, v in unready.region.items())
    if not region:
        yield Problem((*path, "unready", "region"), None, f"unknown region: no node has the labels {labels}")
        return
    inside = [node.name for node in region if node in nodes]
    if inside:
        yield Problem((*path, "unready", "region"), None, f"the region must lie outside the domain; "
                      f"{', '.join(inside)} belong to both")
    first = spec.node_location(nodes[0])
    reach = shortest_paths([first], edges)[0][first]
    for node in region:
        if spec.node_location(node) not in reach:
            yield Problem((*path, "unready", "region"), node.name, "cannot be reached from the domain; add a link")


def _request_problems(deployment: DeploymentSpec, nodes: list[NodeSpec],
                      path: tuple[str | int, ...]) -> Iterable[Problem]:
    """A replica's cpu, gpu and memory requests against the domain's nodes: each must fit some node, and all of
    them one node."""
    offers = [(_cpu(node), node.gpu, math.inf if node.memory is None else node.memory) for node in nodes]
    wants = (deployment.cpu, deployment.gpu, deployment.memory)
    alone = True
    for k, key in enumerate(("cpu", "gpu", "memory")):
        most = max(offer[k] for offer in offers)
        if wants[k] > most:
            alone = False
            yield Problem((*path, key), wants[k], f"is more than any domain node's {key} (at most {most:g})")
    if alone and not any(all(w <= o for w, o in zip(wants, offer, strict=True)) for offer in offers):
        yield Problem((*path, "domain"), None, f"no domain node offers cpu {wants[0]:g}, gpu {wants[1]} and memory "
                      f"{wants[2]:g} bit at once")


def deployed_hosts(spec: ScenarioSpec) -> dict[str, tuple[str, ...]]:
    """The host list of each deployed service: its domains' nodes, in deployment and file order."""
    hosts: dict[str, tuple[str, ...]] = {}
    for d in spec.deployments:
        hosts[d.service] = (*hosts.get(d.service, ()), *(node.name for node in domain_nodes(spec, d)))
    return hosts


def _autoscaling(deployment: DeploymentSpec) -> Autoscaling | None:
    scaling = deployment.autoscale
    if scaling is None:
        return None
    return Autoscaling(scaling.min, scaling.max, scaling.metric, scaling.target, sync_s=scaling.sync,
                       tolerance=scaling.tolerance, down_window_s=scaling.stabilization)


def _scoring(deployment: DeploymentSpec) -> Scoring | None:
    rules = deployment.scheduling
    if rules is None:
        return None
    weights = rules.weights
    return Scoring(rules.strategy, rules.fit, rules.image_locality, rules.spread,
                   (weights.cpu, weights.gpu, weights.memory))


def platform_from_spec(spec: ScenarioSpec) -> Platform | None:
    """The platform of a checked scenario, or ``None`` without deployments."""
    if not spec.deployments or spec.registry is None:
        return None
    images = {image.name: Image(image.name, image.size, image.build) for image in spec.images}
    registries = (Registry(spec.registry.node),
                  *(Registry(m.node, tuple(m.images)) for m in spec.registry.mirrors))
    nodes = tuple(NodeCapacity(node.name, _cpu(node), math.inf if node.disk is None else node.disk,
                               tuple(node.images), math.inf if node.mtbf is None else node.mtbf, node.mttr or 0.0,
                               node.gpu, math.inf if node.memory is None else node.memory)
                  for node in spec.nodes)
    deployments = tuple(
        Deployment(d.label, d.service, d.version, images[deployment_image(spec, d) or ""], d.replicas,
                   tuple(node.name for node in domain_nodes(spec, d)), cpu=d.cpu, workers=d.workers, boot_s=d.boot,
                   unready=Unready(d.unready.action, d.unready.timeout,
                                   tuple(node.name for node in region_nodes(spec, d))), autoscaling=_autoscaling(d),
                   reschedule=d.reschedule, gpu=d.gpu, memory_bits=d.memory, speed_share=d.speed_share,
                   scheduling=_scoring(d), speedup=deployment_version(spec, d)[0],
                   error_probability=deployment_version(spec, d)[1])
        for d in spec.deployments)
    scales = tuple(ScaleEvent(e.at, e.deployment, e.replicas) for e in spec.events if isinstance(e, ScaleEventSpec))
    failures = tuple(NodeEvent(e.at, e.node, e.kind) for e in spec.events if isinstance(e, NodeEventSpec))
    peers = tuple(dict.fromkeys(tuple(node.name for node in domain_nodes(spec, d)) for d in spec.deployments
                                if d.peer_distribution))
    pushes = tuple(Push(p.at, p.image, tuple(node.name for node in labelled_nodes(spec, p.domain)))
                   if p.domain is not None else Push(p.at, p.image, mirror=p.mirror) for p in spec.predistribute)
    retries = tuple(Retry(g.name, g.retry.attempts, g.retry.backoff, g.retry.multiplier,
                          math.inf if g.retry.timeout is None else g.retry.timeout)
                    for g in spec.devices if g.retry is not None)
    return Platform(tuple(images.values()), registries, nodes, deployments, scales, failures, retries=retries,
                    rollouts=rollouts_from_spec(spec, images), peers=peers, pushes=pushes)
