"""The bundled melbourne-mobile scenario in a short run: its three strategies do what the scenario's own numbers say
(never against numbers copied from a run)."""

from __future__ import annotations

import pytest

from simulator.scenario import load_scenario, simulate

#: two minutes: the re-placement due at 1 min has time to pull (2 GB over 10 Gbit/s) and boot (10 s)
SHORT = ["run.duration=2min", "run.warmup=10s"]


@pytest.fixture(scope="module")
def result():  # type: ignore[no-untyped-def]
    return simulate(load_scenario("melbourne-mobile", SHORT))


def test_the_scenario_starts_its_users_at_the_shipped_locations() -> None:
    scenario = load_scenario("melbourne-mobile")
    assert scenario.mobility is not None
    starts = [motion.start_m for motion in scenario.mobility.groups]
    assert [None if s is None else s.shape for s in starts] == [(60, 2), (30, 2)]
    assert [policy.display_name for policy in scenario.world.policies] == [
        "static", "follow-me", "re-placed"]


def test_each_strategy_moves_only_what_it_should(result) -> None:  # type: ignore[no-untyped-def]
    table = result.mobility.groupby(["policy", "group"], observed=True).sum(numeric_only=True)
    for group in ("pedestrians", "vehicles"):
        static, follow, placed = (table.loc[(label, group)] for label in ("static", "follow-me", "re-placed"))
        assert static["migrations"] == placed["migrations"] == 0
        assert static["replacements"] == follow["replacements"] == 0
        # every migration copies 50 MB over one or more 10 Gbit/s links (store-and-forward, hop by hop, sharing them
        # with the requests and the other copies), then stops the service for 0.5 s: at least 0.04 + 0.5 s each
        assert follow["migration_s"] >= follow["migrations"] * (400e6 / 10e9 + 0.5)
        assert follow["migration_downtime_s"] == pytest.approx(follow["migrations"] * 0.5)
        # the same trajectories under every strategy
        assert static["handovers"] == follow["handovers"] == placed["handovers"]
    assert table.loc[("follow-me", "vehicles"), "migrations"] > 0
    by_group = table.loc["static"]
    assert by_group.loc["vehicles", "handovers_per_hour"] > by_group.loc["pedestrians", "handovers_per_hour"]


def test_the_session_at_the_nearest_site_beats_five_static_replicas(result) -> None:  # type: ignore[no-untyped-def]
    latency = {label: result.summary["policies"][label]["latency_s"]["mean"]
               for label in ("static", "follow-me", "re-placed")}
    assert latency["follow-me"] < latency["static"]
