"""The bundled Melbourne scenario matches its sources and runs placed in a short mode; the README example is valid.

Truth for the file: the EUA site coordinates (link distances are their great circles) and the nearest-site grouping
of the sampled EUA users (camera counts), both recomputed here from ``scheduler/data/eua``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scheduler import eua
from scheduler.checker import check_placement
from scheduler.geo import great_circle_m
from simulator.scenario import load_scenario, placed_world, scenario_from_dict, simulate

README = Path(__file__).resolve().parents[1] / "scenarios" / "README.md"


def test_melbourne_sites_links_and_cameras_come_from_the_eua_data() -> None:
    world = load_scenario("melbourne").world
    sites = eua.load_sites()
    where = {f"bs{s}": (la, lo) for s, la, lo in zip(sites.site_id, sites.lat_deg, sites.lon_deg, strict=True)}
    aps = [ap.name for ap in world.access_points]
    assert len(aps) == 40
    assert set(aps) <= set(where)
    for link in world.links:
        a, b = link.a, link.b
        if a in where and b in where:
            expected = float(great_circle_m(*where[a], *where[b]))
            assert link.distance_m == pytest.approx(expected, abs=10.0)  # written in km with two decimals
    lat, lon = eua.load_users()
    pick = np.sort(np.random.default_rng(3).choice(len(lat), 300, replace=False))
    ap_lat = np.array([where[a][0] for a in aps])
    ap_lon = np.array([where[a][1] for a in aps])
    nearest = [aps[int(great_circle_m(la, lo, ap_lat, ap_lon).argmin())] for la, lo in zip(lat[pick], lon[pick],
                                                                                          strict=True)]
    expected_counts = {ap: nearest.count(ap) for ap in set(nearest)}
    assert {g.access_point: g.count for g in world.device_groups} == expected_counts
    assert sum(g.count for g in world.device_groups) == 300


def test_melbourne_places_feasibly_and_runs_in_a_short_mode() -> None:
    scenario = load_scenario("melbourne", ["run.duration=20s", "run.warmup=2s"])
    placed = placed_world(scenario)
    assert placed is not None
    assert placed.result.placement is not None
    assert check_placement(placed.graph, placed.problem, placed.result.placement).feasible
    assert placed.world.n_devices == 300
    assert scenario_from_dict(scenario.resolved).sha256 == scenario.sha256
    result = simulate(scenario)
    assert set(result.summary["policies"]) == {"always_local", "always_edge", "latency_rule", "queue_aware"}
    records = result.records[result.records["policy"] == "always_edge"]
    assert set(records["target"].astype(str)) <= {s.name for s in placed.world.servers}
    assert len(records) > 1000


def test_the_placement_example_in_scenarios_readme_is_valid(tmp_path: Path) -> None:
    text = README.read_text(encoding="utf-8").split("## Placing replicas before simulating", 1)[1]
    block = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "placed.yaml").write_text(block, encoding="utf-8")
    scenario = load_scenario(tmp_path / "placed.yaml")
    placed = placed_world(scenario)
    assert placed is not None
    assert sum(s.workers for s in placed.world.servers) >= 1
    assert all(sum(share for _, share in g.routes) == pytest.approx(1.0) for g in placed.world.device_groups)
