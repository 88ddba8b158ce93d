"""Regenerate the golden summaries of the bundled simulation scenarios (``tests/golden/*.json``).

The references are the behaviour of mecsim *before* the scenario redesign of issue 10 (they were generated from
main at commit 2036bee): a refactoring must not change any result for the same seed, so
``tests/test_scenario_golden.py`` compares every bundled scenario's short-horizon summary with them.

Regenerate only when a change is *meant* to alter simulated results, and say so in the commit message::

    PYTHONPATH=$PWD python tests/golden/regenerate.py             # every bundled simulation scenario
    PYTHONPATH=$PWD python tests/golden/regenerate.py mm1 md1     # only these
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from simulator.scenario import ScenarioError, bundled_scenarios, load_scenario, simulate

GOLDEN_DIR = Path(__file__).resolve().parent
#: Short horizon and fixed seed, two replications (seeded children): each scenario runs in about a second.
OVERRIDES = ("run.duration=10s", "run.warmup=2s", "run.seed=7", "run.replications=2")
#: The rollout scenarios in two minutes: v2's image where its replicas go, a 1 s boot, the release at 10 s.
_RELEASE = ("run.duration=2min", "run.warmup=10s", "run.seed=7", "run.replications=1", "run.sample_interval=10s",
            "deployments[0].boot=1s", "nodes[edge-1].images=[plates-v1, plates-v2]", "nodes[edge-3].images=[plates-v2]",
            "deployments[0].rollout.at=10s", "deployments[0].rollout.steps=[{weight: 50}, {pause: 1min}]")
#: Scenarios that need another horizon: the local policies need time to finish a frame (13 s, 8.4 s), a platform
#: time to boot and fail.
SPECIAL_OVERRIDES = {"license-plate": ("run.duration=20s", "run.warmup=2s", "run.seed=7", "run.replications=1"),
                     "melbourne": ("run.duration=12s", "run.warmup=1s", "run.seed=7", "run.replications=1"),
                     # the cameras start at 30 s; the node fails and recovers within the horizon
                     "edge-failure": ("run.duration=90s", "run.warmup=30s", "run.seed=7", "run.replications=1",
                                      "events[0].at=60s", "events[1].at=80s"),
                     **dict.fromkeys(("license-plate-day", "license-plate-bad-canary"), _RELEASE),
                     # a re-placement falls due at 1 min: its hosts pull (1.6 s) and boot (10 s) within the horizon
                     "melbourne-mobile": ("run.duration=2min", "run.warmup=10s", "run.seed=7",
                                          "run.replications=1")}
#: Scenarios that are placement problems (``mecsim place``), not simulations: nothing to simulate.
PLACEMENT_ONLY_RULE = "mecsim place"


def simulation_scenarios() -> list[str]:
    """Names of the bundled scenarios that simulate (the placement-only ones are left out)."""
    names = []
    for name, _ in bundled_scenarios():
        try:
            load_scenario(name)
        except ScenarioError as error:
            if PLACEMENT_ONLY_RULE in str(error):
                continue
            raise
        names.append(name)
    return names


def golden_summary(name: str, overrides: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The compared quantities of one scenario's short run: per policy latency mean and percentiles, task counts,
    device energy per task, offload fraction, deadline miss rate, server utilisation and the monitor; ``overrides``
    default to this module's short-run settings."""
    if overrides is None:
        overrides = SPECIAL_OVERRIDES.get(name, OVERRIDES)
    result = simulate(load_scenario(name, overrides))
    summary = result.to_json_dict()
    policies = {}
    for policy, stats in summary["policies"].items():
        policies[policy] = {key: stats[key] for key in ("latency_s", "tasks", "energy_j_per_task",
                                                        "offload_fraction", "deadline_miss_rate", "utilisation",
                                                        "monitor")}
    return {"overrides": list(overrides), "policies": policies}


def main(names: list[str]) -> None:
    for name in names or simulation_scenarios():
        path = GOLDEN_DIR / f"{name}.json"
        path.write_text(json.dumps(golden_summary(name), indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
