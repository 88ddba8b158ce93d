"""The typed per-policy summary: its fields against the same statistics computed here from the run's records, and
its ``to_dict`` against the JSON shape ``mecsim simulate --json`` writes."""

import json

import numpy as np
import pandas as pd
import pytest

from simulator.builders import s100_world
from simulator.result import PolicySummary, SimulationResult
from simulator.run import run
from simulator.scenario.loader import load_scenario

WARMUP_S = 5.0


@pytest.fixture(scope="module", params=["s100", "license-plate-single"])
def result(request: pytest.FixtureRequest) -> SimulationResult:
    """A lightly loaded S100 world under three policies, and one whose local policy drops and misses deadlines."""
    if request.param == "s100":
        return run(s100_world(12, 3), duration_s=30.0, warmup_s=WARMUP_S, seed=4, replications=2,
                   policies=["always_edge", "always_local", "random"])
    return run(load_scenario(request.param).world, duration_s=60.0, warmup_s=WARMUP_S, seed=4, replications=2)


def _per_replication_mean(rows: pd.DataFrame, numerator: pd.Series, denominator: pd.Series) -> float | None:
    """Mean over replications of sum(numerator) / sum(denominator) within each replication that has a
    denominator (``None`` when none has)."""
    ratios = [numerator[rows["replication"] == r].sum() / total for r in sorted(rows["replication"].unique())
              if (total := denominator[rows["replication"] == r].sum()) > 0]
    return float(np.mean(ratios)) if ratios else None


def _agrees(value: float | None, expected: float | None) -> bool:
    return value is None if expected is None else value == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_the_typed_summary_agrees_with_statistics_computed_from_the_records(result: SimulationResult) -> None:
    records = result.records
    assert list(result.policies) == list(records["policy"].cat.categories)
    for name, summary in result.policies.items():
        rows = records[records["policy"] == name]
        completed = ~rows["dropped"] & ~rows["in_flight"]
        assert summary.tasks.generated == len(rows)
        assert summary.tasks.completed == int(completed.sum())
        assert summary.tasks.dropped == int(rows["dropped"].sum())
        assert summary.tasks.in_flight == int(rows["in_flight"].sum())
        measured = rows["created_s"] >= WARMUP_S
        done = measured & completed
        finished = measured & (completed | rows["dropped"])
        offloaded = finished & (rows["target"] != "local")
        latency = rows["latency_s"].where(done, 0.0)
        assert _agrees(summary.latency_s.mean_s, _per_replication_mean(rows, latency, done))
        assert _agrees(summary.offload_fraction, _per_replication_mean(rows, offloaded, finished))
        missed = finished & ~rows["deadline_met"].astype(bool)
        assert _agrees(summary.deadline_miss_rate, _per_replication_mean(rows, missed, finished))
        served = offloaded & rows["service_end_s"].notna()
        assert sum(m.counter for m in summary.monitor.values()) == int(served.sum())
    local = next(s for name, s in result.policies.items() if "local" in name)
    assert local.offload_fraction == 0.0
    if "local" in result.policies:  # license-plate-single: the camera's 2-slot queue overflows, so the
        assert local.tasks.dropped > 0  # drop and miss columns are exercised
        assert local.deadline_miss_rate


def test_to_dict_is_the_json_shape_and_round_trips_through_json(result: SimulationResult) -> None:
    latency_keys = ["mean", "p50", "p95", "p99"]
    summary = result.to_json_dict()
    assert json.loads(json.dumps(summary, allow_nan=False)) == summary
    assert list(summary) == ["policies", "seed", "version", "replications", "duration_s", "warmup_s"]
    assert (summary["seed"], summary["replications"], summary["warmup_s"]) == (4, 2, WARMUP_S)
    for name, policy in result.policies.items():
        assert isinstance(policy, PolicySummary)
        entry = summary["policies"][name]
        assert entry == policy.to_dict()
        assert list(entry) == ["latency_s", "latency_ci95_s", "energy_j_per_task", "offload_fraction",
                               "deadline_miss_rate", "utilisation", "monitor", "tasks", "stations"]
        assert entry["stations"] == {name: s.to_dict() for name, s in policy.stations.items()}
        assert entry["latency_s"] == dict(zip(latency_keys, (policy.latency_s.mean_s, policy.latency_s.p50_s,
                                                             policy.latency_s.p95_s, policy.latency_s.p99_s),
                                              strict=True))
        assert list(entry["latency_ci95_s"]) == latency_keys
        assert entry["tasks"] == {"generated": policy.tasks.generated, "completed": policy.tasks.completed,
                                  "dropped": policy.tasks.dropped, "in_flight": policy.tasks.in_flight}
        assert entry["utilisation"] == dict(policy.utilisation)
        for service, monitor in policy.monitor.items():
            assert entry["monitor"][service] == {"avg_qpm": monitor.avg_qpm, "avg_req_time_s": monitor.avg_req_time_s,
                                                 "counter": monitor.counter}
        assert (entry["energy_j_per_task"], entry["offload_fraction"], entry["deadline_miss_rate"]) == (
            policy.energy_j_per_task, policy.offload_fraction, policy.deadline_miss_rate)
    assert result.summary == summary
