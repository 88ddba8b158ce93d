"""Image builds on the timeline, each timed by hand: an image is built when first needed and enters the central
registry ``build_s`` later; pulls from the central registry wait for it; an image on a node's disk at the start was
built before the run; a rollout's first step waits for its new image; a push of an unbuilt image waits; an image two
deployments need is built once."""

from __future__ import annotations

import pytest
from rack_world import RACK_BPS, RACK_DELAY_S, SIZE_BITS, WAN_BPS, WAN_DELAY_S, rack_world
from rollout_worlds import simulate, times, world

from simulator.lifecycle import Canary, Deployment, Image, NodeCapacity, Platform, Push, Registry, Step
from simulator.lifecycle.spec import Version
from simulator.lifecycle.upgrade import Amount, RollingUpdate
from simulator.lifecycle.versions import Rollout, Strategy
from simulator.result import SimulationResult

BUILD_S = 60.0
IMAGE = Image("svc:v1", SIZE_BITS, BUILD_S)
#: A pull from the central registry at dc to e1 or e2, alone on the links: the WAN, then the rack link.
PULL_S = SIZE_BITS / WAN_BPS + WAN_DELAY_S + SIZE_BITS / RACK_BPS + RACK_DELAY_S
BOOT_S = 5.0


def _run(deployments: tuple[Deployment, ...], cached: tuple[str, ...] = (), images: tuple[Image, ...] = (IMAGE,),
         pushes: tuple[Push, ...] = ()) -> SimulationResult:
    nodes = tuple(NodeCapacity(n, 2.0, images=cached if n == "e1" else ()) for n in ("e1", "e2"))
    platform = Platform(images, (Registry("dc"),), nodes, deployments, pushes=pushes)
    return simulate(rack_world(), platform, 100.0)


def _timeline(result: SimulationResult, *kinds: str) -> list[list[object]]:
    assert result.platform is not None
    events = result.platform.events
    chosen = events[events["kind"].isin(kinds)]
    return chosen[["time_s", "kind", "deployment", "node", "detail"]].to_numpy().tolist()


def test_a_pull_from_the_central_registry_waits_for_the_build() -> None:
    # built from 0 to 60 s (at the registry's place dc); the pull starts then and takes size / bw + delay per hop
    result = _run((Deployment("svc-v1", "svc", "v1", IMAGE, 1, ("e1", "e2"), boot_s=BOOT_S),))
    end_s = BUILD_S + PULL_S
    assert _timeline(result, "build_start", "build_end", "pull_start", "pull_end", "starting", "ready") == [
        [0.0, "build_start", "svc-v1", "dc", IMAGE.name], [BUILD_S, "build_end", "svc-v1", "dc", IMAGE.name],
        [BUILD_S, "pull_start", "svc-v1", "e1", IMAGE.name],
        [pytest.approx(end_s), "pull_end", "svc-v1", "e1", IMAGE.name],
        [pytest.approx(end_s), "starting", "svc-v1", "e1", ""],
        [pytest.approx(end_s + BOOT_S), "ready", "svc-v1", "e1", ""]]
    assert result.platform is not None
    waiting = result.platform.replicas[result.platform.replicas["time_s"] == 0.0].iloc[-1]
    assert (waiting["pulling"], waiting["ready"]) == (1, 0)  # a replica waiting for the build counts as pulling


def test_an_image_on_a_disk_at_the_start_was_built_before_the_run() -> None:
    # e1 holds the image: its replica starts at 0 s; e2's replica pulls from the central registry at once
    result = _run((Deployment("svc-v1", "svc", "v1", IMAGE, 2, ("e1", "e2"), boot_s=BOOT_S),), cached=(IMAGE.name,))
    assert _timeline(result, "build_start", "build_end") == []
    assert _timeline(result, "starting", "pull_start", "pull_end") == [
        [0.0, "starting", "svc-v1", "e1", ""], [0.0, "pull_start", "svc-v1", "e2", IMAGE.name],
        [pytest.approx(PULL_S), "pull_end", "svc-v1", "e2", IMAGE.name],
        [pytest.approx(PULL_S), "starting", "svc-v1", "e2", ""]]


def test_two_deployments_of_one_image_build_it_once() -> None:
    # both need the image at 0 s: one build (named after the first), then both pulls share the WAN link fairly, each
    # crossing it in 2 × 8 s, then their own rack links
    deployments = (Deployment("svc-a", "svc", "v1", IMAGE, 1, ("e1",)),
                   Deployment("svc-b", "svc", "v1", IMAGE, 1, ("e2",)))
    result = _run(deployments)
    assert _timeline(result, "build_start", "build_end") == [[0.0, "build_start", "svc-a", "dc", IMAGE.name],
                                                             [BUILD_S, "build_end", "svc-a", "dc", IMAGE.name]]
    shared_s = BUILD_S + 2 * SIZE_BITS / WAN_BPS + WAN_DELAY_S + SIZE_BITS / RACK_BPS + RACK_DELAY_S
    assert times(result, "pull_start") == [BUILD_S, BUILD_S]
    assert times(result, "pull_end") == pytest.approx([shared_s, shared_s])


def test_a_push_of_an_unbuilt_image_waits_for_its_build() -> None:
    # the deployment's image is on e1; v2 (build 10 s) is pushed to e2 at 5 s: built 5 s to 15 s, pulled from then
    v2 = Image("svc:v2", SIZE_BITS, 10.0)
    deployment = Deployment("svc-v1", "svc", "v1", IMAGE, 1, ("e1",))
    result = _run((deployment,), cached=(IMAGE.name,), images=(IMAGE, v2), pushes=(Push(5.0, v2.name, ("e2",)),))
    assert _timeline(result, "build_start", "build_end", "pull_start", "pull_end") == [
        [5.0, "build_start", "", "dc", v2.name], [15.0, "build_end", "", "dc", v2.name],
        [15.0, "pull_start", "", "e2", v2.name], [pytest.approx(15.0 + PULL_S), "pull_end", "", "e2", v2.name]]


@pytest.mark.parametrize(("strategy", "first_step"), [
    (Canary((Step(weight=50),)), "step"),
    (RollingUpdate(Amount(1), Amount(0)), "scale"),
])
def test_a_rollout_begins_its_first_step_once_its_new_image_is_built(strategy: Strategy, first_step: str) -> None:
    # rollout at 100 s of v2 (build 30 s, on no disk): built 100 s to 130 s; the first step (the canary's weight
    # 50, the rolling upgrade's first new replica) at 130 s, whose replica pulls v2 over the 100 Mbit/s + 20 ms link
    # (rollout_worlds: 8 s + 20 ms) and boots 5 s; meanwhile v1 serves alone
    v1, v2 = Image("svc:v1", SIZE_BITS), Image("svc:v2", SIZE_BITS, 30.0)
    deployment = Deployment("svc-v1", "svc", "v1", v1, 2, ("e1", "e2"), boot_s=BOOT_S)
    nodes = tuple(NodeCapacity(n, 4.0, images=(v1.name,)) for n in ("e1", "e2"))
    platform = Platform((v1, v2), (Registry("dc"),), nodes, (deployment,),
                        rollouts=(Rollout("svc-v1", Version("v2", v2), 100.0, strategy),))
    result = simulate(world(1e-6), platform, 200.0)
    assert times(result, "rollout_start") == [100.0]
    assert _timeline(result, "build_start", "build_end") == [[100.0, "build_start", "svc-v2", "dc", v2.name],
                                                             [130.0, "build_end", "svc-v2", "dc", v2.name]]
    assert times(result, first_step, "svc-v2")[0] == 130.0
    assert times(result, "pull_start", "svc-v2")[0] == 130.0
    assert times(result, "ready", "svc-v2")[0] == pytest.approx(130.0 + SIZE_BITS / 1e8 + 0.02 + BOOT_S)
    assert times(result, "rollout_complete")
