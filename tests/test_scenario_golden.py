"""Every bundled simulation scenario gives, for a fixed seed on a short horizon, the same summary as before the
scenario redesign of issue 10 (references in ``tests/golden/``, made by ``tests/golden/regenerate.py`` from the
pre-redesign code: a refactoring must not change results). The tolerance is relative 1e-9, so re-associated
floating-point sums pass and any change of the model does not."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from golden.regenerate import GOLDEN_DIR, golden_summary, simulation_scenarios

SCENARIOS = simulation_scenarios()


def _differences(expected: Any, actual: Any, path: str = "") -> list[str]:
    if isinstance(expected, dict) and isinstance(actual, dict):
        if expected.keys() != actual.keys():
            return [f"{path}: keys {sorted(actual)} instead of {sorted(expected)}"]
        return [line for key in expected for line in _differences(expected[key], actual[key], f"{path}.{key}")]
    if isinstance(expected, float) and isinstance(actual, int | float) and not isinstance(actual, bool):
        same = math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-300)
        return [] if same else [f"{path}: {actual!r} instead of {expected!r}"]
    return [] if expected == actual else [f"{path}: {actual!r} instead of {expected!r}"]


def test_every_bundled_simulation_scenario_has_a_reference() -> None:
    missing = [name for name in SCENARIOS if not (GOLDEN_DIR / f"{name}.json").is_file()]
    assert not missing, (f"no golden summary for {missing}: run `PYTHONPATH=$PWD python tests/golden/regenerate.py "
                         f"{' '.join(missing)}` and commit the file")


@pytest.mark.parametrize("name", SCENARIOS)
def test_summary_matches_the_pre_redesign_reference(name: str) -> None:
    path = GOLDEN_DIR / f"{name}.json"
    if not path.is_file():
        pytest.fail(f"no golden summary {path}; see tests/golden/regenerate.py")
    expected = json.loads(path.read_text(encoding="utf-8"))
    actual = json.loads(json.dumps(golden_summary(name, tuple(expected["overrides"]))))
    differences = _differences(expected, actual)
    assert not differences, "\n".join(differences[:20])
