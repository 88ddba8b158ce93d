"""Random YAML never escapes as anything but a clean ScenarioError or a valid scenario (and world)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_scenario_errors import BASE

from simulator.scenario import Scenario, ScenarioError, load_scenario, scenario_from_dict
from simulator.scenario.overrides import set_path

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


def _paths(data: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, item in data.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            found += _paths(item, (*prefix, index))
    return found


_ALL_PATHS = _paths(_BASE_DATA)


def _attempt(load: Callable[[], Scenario]) -> Scenario | ScenarioError:
    """The scenario, or the ScenarioError raised; any other exception propagates and fails the test."""
    try:
        return load()
    except ScenarioError as error:
        return error


def _check(outcome: Scenario) -> None:
    world = outcome.to_world()
    assert world.n_devices >= 1
    assert scenario_from_dict(outcome.resolved).sha256 == outcome.sha256


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
