"""Random YAML never escapes as anything but a clean ScenarioError or a valid scenario, world and run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_scenario_errors import BASE

from offload.errors import MecsimError
from simulator.scenario import Scenario, ScenarioError, load_scenario, scenario_from_dict, simulate
from simulator.scenario.overrides import all_paths, set_path

_BASE_DATA = yaml.safe_load(BASE)

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["20 Mbps", "-5 Mbps", "9 ms", "300 kB", "1.5 GHz", "6.4 W", "1/s", "inf", "0", "cpe", "edge",
                     "poisson", "exponential", "always_edge", "1e400 s", "5 parsecs", ""]),
)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                      max_leaves=8)


_ALL_PATHS = all_paths(_BASE_DATA)


def _attempt(load: Callable[[], Scenario]) -> Scenario | ScenarioError:
    """The scenario, or the ScenarioError raised; any other exception propagates and fails the test."""
    try:
        return load()
    except ScenarioError as error:
        return error


#: A valid scenario is also run when it would generate at most this many tasks (keeps the test fast).
MAX_TASKS = 3000


def _check(outcome: Scenario) -> None:
    world = outcome.world
    assert world.n_devices >= 1
    assert scenario_from_dict(outcome.resolved).sha256 == outcome.sha256
    rate_per_s = sum(group.count * group.workload.mean_rate_per_s for group in world.device_groups)
    if rate_per_s * outcome.run.duration_s * outcome.run.replications * len(world.policies) <= MAX_TASKS:
        try:
            result = simulate(outcome)
        except MecsimError:
            return  # a rule only the simulator checks: still one clean line in the CLI
        assert set(result.summary["policies"]) == set(outcome.policy_names)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(_ALL_PATHS), values), min_size=1, max_size=4))
def test_mutated_scenarios_give_a_scenario_or_a_scenario_error(mutations: list[tuple[Any, Any]]) -> None:
    data = yaml.safe_load(BASE)
    for path, value in mutations:
        try:
            set_path(data, path, value)
        except (ScenarioError, KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed the parent; fine
    outcome = _attempt(lambda: scenario_from_dict(data))
    if isinstance(outcome, ScenarioError):
        assert outcome.issues
        assert all(str(issue).startswith("<dict>: ") for issue in outcome.issues)
    else:
        _check(outcome)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.one_of(st.text(max_size=200), values.map(lambda v: yaml.safe_dump(v))))
def test_random_yaml_text_gives_a_clean_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "random.yaml"
    path.write_text(text, encoding="utf-8")
    outcome = _attempt(lambda: load_scenario(path))
    if isinstance(outcome, ScenarioError):
        assert all(str(issue).startswith(str(path)) for issue in outcome.issues)
    else:
        _check(outcome)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="abc[]0123.=-_ :{}", max_size=30))
def test_random_overrides_give_a_clean_error(override: str) -> None:
    outcome = _attempt(lambda: scenario_from_dict(_BASE_DATA, overrides=[override]))
    assert isinstance(outcome, Scenario) or outcome.issues


@settings(max_examples=25, deadline=None)
@given(
    count=st.integers(1, 12),
    rate=st.sampled_from(["0.2/s", "1/s", "3/s"]),
    workload=st.sampled_from(["poisson", "periodic", "onoff"]),
    uplink=st.sampled_from(["2 Mbps", "20 Mbps", "200 Mbps"]),
    input_size=st.sampled_from(["0 B", "50 kB", "300 kB"]),
    edge_time=st.sampled_from(["9 ms", "50 ms", "0.3 s"]),
    workers=st.integers(1, 3),
    policies=st.lists(st.sampled_from(["always_local", "always_edge", "latency_rule", "energy_rule", "queue_aware",
                                       "random"]), min_size=1, max_size=3, unique=True),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_valid_scenarios_run_and_account_for_every_task(
        count: int, rate: str, workload: str, uplink: str, input_size: str, edge_time: str, workers: int,
        policies: list[str], seed: int) -> None:
    loads = {"poisson": {"kind": "poisson", "rate": rate}, "periodic": {"kind": "periodic", "fps": rate},
             "onoff": {"kind": "onoff", "rate_on": rate, "mean_on": "2 s", "mean_off": "1 s"}}
    overrides = [f"devices[0].count={count}", f"access_points[0].uplink={uplink}", f"services[0].input={input_size}",
                 f"nodes[0].compute_time={edge_time}", f"nodes[0].workers={workers}", f"run.seed={seed}",
                 "run.duration=20s", "run.warmup=2s", f"devices[0].workload={loads[workload]}",
                 f"policies={policies}"]
    scenario = scenario_from_dict(_BASE_DATA, overrides=overrides)
    result = simulate(scenario)
    assert list(result.summary["policies"]) == policies
    for name, stats in result.summary["policies"].items():
        tasks = stats["tasks"]
        assert tasks["generated"] == tasks["completed"] + tasks["dropped"] + tasks["in_flight"], name
        if stats["offload_fraction"] is not None:
            assert 0.0 <= stats["offload_fraction"] <= 1.0
        if name == "always_local":
            assert stats["offload_fraction"] in (0.0, None)
