"""The ``versions`` section and the deployments' ``rollout`` (:mod:`simulator.scenario.platform_schema`): their rules,
each a :class:`~simulator.world.Problem` at the YAML path of the offending value, and their one conversion to the
lifecycle's :class:`~simulator.lifecycle.Version` and :class:`~simulator.lifecycle.Rollout`."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping

from simulator.lifecycle import Amount, Analysis, Canary, Image, RollingUpdate, Rollout, Step, Version
from simulator.lifecycle.versions import new_name
from simulator.scenario.platform_schema import DeploymentSpec, RolloutSpec, VersionSpec
from simulator.scenario.schema import ScenarioSpec
from simulator.world import Problem, undefined

Path = tuple[str | int, ...]


def version_spec(spec: ScenarioSpec, service: str, name: str) -> VersionSpec | None:
    """The ``versions`` entry of ``service`` named ``name``, if any."""
    return next((v for v in spec.versions if v.service == service and v.name == name), None)


def deployment_image(spec: ScenarioSpec, deployment: DeploymentSpec) -> str | None:
    """The deployment's image: its own, else its version's."""
    if deployment.image is not None:
        return deployment.image
    version = version_spec(spec, deployment.service, deployment.version)
    return None if version is None else version.image


def version_problems(spec: ScenarioSpec) -> Iterator[Problem]:
    """Every rule of the ``versions`` section and of the deployments' versions and rollouts."""
    services = [service.name for service in spec.services]
    images = [image.name for image in spec.images]
    seen: dict[tuple[str, str], int] = {}
    for index, version in enumerate(spec.versions):
        path = ("versions", index)
        if version.service not in services:
            yield undefined((*path, "service"), version.service, "service", services)
        if version.image not in images:
            yield undefined((*path, "image"), version.image, "image", images)
        key = (version.service, version.name)
        if key in seen:
            yield Problem((*path, "name"), version.name, f"duplicate version of {version.service!r} (also at "
                                                         f"index {seen[key]})")
        seen.setdefault(key, index)
    labels = [d.label for d in spec.deployments]
    for index, deployment in enumerate(spec.deployments):
        path = ("deployments", index)
        entry = version_spec(spec, deployment.service, deployment.version)
        if deployment.image is None and entry is None:
            yield Problem((*path, "image"), None, f"needs an image, or a version {deployment.version!r} of "
                                                  f"{deployment.service!r} in versions: with one")
        elif deployment.image is not None and entry is not None and entry.image != deployment.image:
            yield Problem((*path, "image"), deployment.image, f"differs from the image of version "
                                                              f"{deployment.version!r} ({entry.image!r})")
        if deployment.rollout is not None:
            yield from _rollout_problems(spec, deployment, deployment.rollout, (*path, "rollout"), labels)


def _rollout_problems(spec: ScenarioSpec, deployment: DeploymentSpec, rollout: RolloutSpec, path: Path,
                      labels: list[str]) -> Iterator[Problem]:
    names = [v.name for v in spec.versions if v.service == deployment.service]
    if rollout.to not in names:
        yield undefined((*path, "to"), rollout.to, f"version of {deployment.service!r}", names)
    elif rollout.to == deployment.version:
        yield Problem((*path, "to"), rollout.to, "is the version the deployment runs already")
    elif new_name(deployment.label, deployment.version, rollout.to) in labels:
        yield Problem((*path, "to"), rollout.to, f"would make a second deployment "
                                                 f"{new_name(deployment.label, deployment.version, rollout.to)!r}")
    if rollout.after is not None:
        yield from _after_problems(spec, deployment, rollout.after, rollout.to, path, labels)
    if rollout.at >= spec.run.duration:
        yield Problem((*path, "at"), rollout.at, f"must be before the end of the run ({spec.run.duration:g} s)")
    if rollout.strategy == "rolling":
        for key in ("steps", "analysis"):
            if getattr(rollout, key):
                yield Problem((*path, key), None, "only a canary has steps and an analysis (strategy: canary)")
        for key in ("max_surge", "max_unavailable"):
            value = getattr(rollout, key)
            if isinstance(value, str) and float(value[:-1]) > 100.0:
                yield Problem((*path, key), value, "must be at most 100%")
        if _value(rollout.max_surge) == 0 and _value(rollout.max_unavailable) == 0:
            yield Problem((*path, "max_unavailable"), rollout.max_unavailable, "may not be 0 when max_surge is 0")
        return
    if not rollout.steps:
        yield Problem((*path, "steps"), None, "a canary needs at least one step")
    for k, step in enumerate(rollout.steps):
        if (step.weight is None) == (step.pause is None):
            yield Problem((*path, "steps", k), None, "needs either a weight or a pause")
    analysis = rollout.analysis
    if analysis is not None and analysis.p95 is None and analysis.error_rate is None:
        yield Problem((*path, "analysis"), None, "needs a p95 or an error_rate to judge by")


def _after_problems(spec: ScenarioSpec, deployment: DeploymentSpec, after: str, to: str, path: Path,
                    labels: list[str]) -> Iterator[Problem]:
    """``after`` names another deployment of the service rolling out the same version, and starts no cycle."""
    by_label = {d.label: d for d in spec.deployments}
    first = by_label.get(after)
    if first is None:
        yield undefined((*path, "after"), after, "deployment", labels)
    elif first.label == deployment.label:
        yield Problem((*path, "after"), after, "is this deployment: a rollout cannot wait for itself")
    elif first.service != deployment.service:
        yield Problem((*path, "after"), after, f"deploys {first.service!r}, not {deployment.service!r}")
    elif first.rollout is None or first.rollout.to != to:
        yield Problem((*path, "after"), after, f"does not roll out {deployment.service!r} to {to!r}")
    else:
        chain = [deployment.label]
        current: DeploymentSpec | None = first
        while current is not None and current.label not in chain:
            chain.append(current.label)
            nxt = None if current.rollout is None else current.rollout.after
            current = None if nxt is None else by_label.get(nxt)
        # a cycle through this deployment: one error, at the cycle's first deployment in the file
        if current is not None and current.label == deployment.label and min(chain, key=labels.index) == chain[0]:
            yield Problem((*path, "after"), after, f"makes a cycle: {' -> '.join([*chain, chain[0]])}")


def _value(value: int | str) -> float:
    return float(value[:-1]) if isinstance(value, str) else float(value)


def _amount(value: int | str) -> Amount:
    if isinstance(value, str):
        return Amount(float(value[:-1]), percent=True)
    return Amount(value)


def deployment_version(spec: ScenarioSpec, deployment: DeploymentSpec) -> tuple[float, float]:
    """The ``(speedup, error probability)`` of the version a deployment starts with (1 and 0 without an entry)."""
    version = version_spec(spec, deployment.service, deployment.version)
    return (1.0, 0.0) if version is None else (version.speedup, version.error_rate)


def rollouts_from_spec(spec: ScenarioSpec, images: Mapping[str, Image]) -> tuple[Rollout, ...]:
    """The rollouts of a checked scenario."""
    rollouts = []
    for deployment in spec.deployments:
        rollout = deployment.rollout
        if rollout is None:
            continue
        target = version_spec(spec, deployment.service, rollout.to)
        assert target is not None
        version = Version(target.name, images[target.image], target.speedup, target.error_rate)
        strategy: RollingUpdate | Canary
        if rollout.strategy == "rolling":
            strategy = RollingUpdate(_amount(rollout.max_surge), _amount(rollout.max_unavailable))
        else:
            steps = tuple(Step(weight=s.weight) if s.weight is not None else Step(pause_s=s.pause)
                          for s in rollout.steps)
            analysis = rollout.analysis
            strategy = Canary(steps, None if analysis is None else Analysis(
                analysis.window, math.inf if analysis.p95 is None else analysis.p95,
                1.0 if analysis.error_rate is None else analysis.error_rate, analysis.interval,
                analysis.min_requests))
        rollouts.append(Rollout(deployment.label, version, rollout.at, strategy, rollout.after))
    return tuple(rollouts)
