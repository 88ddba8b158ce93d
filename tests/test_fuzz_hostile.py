"""Hypothesis mutates the bundled scenarios: every answer is exit 2 with located one-line errors, or a valid
scenario that then simulates a short horizon without error. ``HYPOTHESIS_PROFILE=ci`` runs more examples."""

from __future__ import annotations

import re

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.cli import main
from simulator.scenario.bundled import resolve_scenario_path
from simulator.scenario.overrides import all_paths

NAMES = ["mm1", "md1", "mmc", "license-plate"]
TEXTS = {name: resolve_scenario_path(name).read_text(encoding="utf-8") for name in NAMES}

hostile = st.one_of(
    st.none(), st.booleans(), st.integers(), st.sampled_from([10**400, -(10**30), 2**63]),
    st.floats(), st.text(max_size=20),
    st.sampled_from(["5 mbps", "1 ns", "1e19/s", "1e-320/s", "-5 Mbps", "inf", "0x10", "1_000", "\ud800", "a\x1bb",
                     "12:30", "10 parsecs", "1.0e+300 ops"]),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
text_edits = st.sampled_from([
    ("seed: ", "seed: !!float abc #"), ("seed: ", "seed: !!int 0x #"), ("seed: ", "seed: !!bool maybe #"),
    ("name: ", 'name: "\\ud800'), ("name: ", "name: !!python/none #"), ("\n", "\n\t"), ("run:", "run: &r\n  x: *r\n"),
])
LOCATED = re.compile(r"^mecsim: error: (?P<file>[^:]+):\d+: ")


@st.composite
def variants(draw: st.DrawFn) -> str:
    text = TEXTS[draw(st.sampled_from(NAMES))]
    if draw(st.booleans()):
        old, new = draw(text_edits)
        return text.replace(old, new, 1)
    data = yaml.safe_load(text)
    path = draw(st.sampled_from(all_paths(data)))
    target = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = draw(hostile)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@pytest.mark.filterwarnings("ignore")
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], deadline=None)
@given(text=variants())
def test_a_mutated_scenario_is_a_located_error_or_runs(tmp_path, text):
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    result = CliRunner().invoke(main, ["validate", str(path)])
    if result.exit_code == 0:  # accepted: it must run (a refusal by simulate is one line, never a traceback)
        run = CliRunner().invoke(main, ["simulate", str(path), "--duration", "2s", "--replications", "1",
                                        "--set", "run.warmup=0s", "--quiet"])
        assert run.exit_code in (0, 2), (run.output, run.exception)
        assert "Traceback" not in run.output
        return
    assert result.exit_code == 2, (result.output, result.exception)
    lines = result.output.strip().splitlines()
    assert lines, result.output
    for line in lines:
        match = LOCATED.match(line)
        assert match is not None, line
        assert match["file"] == str(path), line
