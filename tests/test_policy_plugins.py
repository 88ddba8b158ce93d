"""Plugin policies: by import path (``class:``) or entry point (group ``mecsim.policies``), the protocol check, the
run-time answer check, and ``file:line`` errors with exit code 2 from ``validate`` and ``simulate``."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from simulator.cli import main
from simulator.plugins import ENTRY_POINT_GROUP, PolicyPluginError, UnknownPolicyError, make_policy, policy_names
from simulator.scenario import ScenarioError, load_scenario, simulate
from simulator.world import PolicySpec

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "least_backlog.yaml"

PLUGINS = '''
import numpy as np

class Edge:
    """The built-in always_edge, written as a plugin."""
    stateful = False
    def choose(self, batch, observed, rng):
        return np.full(batch.work_ops.shape[0], batch.first("edge", "edge"), dtype=np.intp)

class ObservedEdge(Edge):
    stateful = True

class NoChoose:
    stateful = True

class NoStateful:
    def choose(self, batch, observed, rng):
        return np.zeros(batch.work_ops.shape[0], dtype=np.intp)

class TwoArguments:
    stateful = False
    def choose(self, batch, observed):
        return np.zeros(batch.work_ops.shape[0], dtype=np.intp)

class FarAway(Edge):
    def choose(self, batch, observed, rng):
        return np.full(batch.work_ops.shape[0], 9, dtype=np.intp)

class Floats(Edge):
    def choose(self, batch, observed, rng):
        return np.zeros(batch.work_ops.shape[0])

class Crashes(Edge):
    def choose(self, batch, observed, rng):
        raise KeyError("oops")

NOT_A_CLASS = 3
'''


@pytest.fixture
def plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A module ``my_plugins`` on the import path, and the example's folder."""
    (tmp_path / "my_plugins.py").write_text(PLUGINS, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    return tmp_path


def _scenario(tmp_path: Path, entry: str) -> Path:
    """The example scenario with its plugin entry replaced by ``entry`` (YAML flow mapping), on line 25."""
    text = EXAMPLE.read_text(encoding="utf-8")
    lines = text.splitlines()
    index = next(i for i, line in enumerate(lines) if "least_backlog:LeastBacklog" in line)
    lines[index] = f"  - {entry}"
    path = tmp_path / "plugin.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def _records(result: pd.DataFrame, label: str) -> pd.DataFrame:
    rows = result[result["policy"] == label].drop(columns="policy").reset_index(drop=True)
    return rows.astype({c: str for c in rows.columns if isinstance(rows[c].dtype, pd.CategoricalDtype)})


@pytest.mark.parametrize("plugin", ["Edge", "ObservedEdge"])
def test_a_plugin_copy_of_a_builtin_gives_the_builtins_records(plugins: Path, plugin: str) -> None:
    path = _scenario(plugins, f'{{class: "my_plugins:{plugin}", label: plugin}}')
    scenario = load_scenario(path, ["run.duration=30s", "run.replications=1"])
    result = simulate(scenario)
    pd.testing.assert_frame_equal(_records(result.records, "plugin"), _records(result.records, "edge"))


def test_the_example_plugin_runs_and_keeps_its_rule(plugins: Path) -> None:
    scenario = load_scenario(EXAMPLE, ["run.duration=30s", "run.replications=1"])
    result = simulate(scenario)
    rows = result.records[result.records["policy"] == "least-backlog"]
    targets = set(rows["target"].astype(str))
    assert targets == {"local", "edge1", "edge2"}  # both edges used and, when both are backlogged, the device
    assert result.metadata["policies"][2] == {"name": "least_backlog:LeastBacklog", "label": "least-backlog",
                                              "params": {"max_backlog": 2}}


@pytest.mark.parametrize(("entry", "key", "message"), [
    ('{class: "no_such_module:X"}', "class", "cannot import module 'no_such_module'"),
    ('{class: "my_plugins:Missing"}', "class", "module 'my_plugins' has no attribute 'Missing'"),
    ('{class: "my_plugins:NOT_A_CLASS"}', "class", "names a int, not a policy class"),
    ('{class: "my_plugins:NoChoose"}', "class", "missing method 'choose\\(self, batch, observed, rng\\)'"),
    ('{class: "my_plugins:NoStateful"}', "class", "missing class attribute 'stateful: bool'"),
    ('{class: "my_plugins:TwoArguments"}', "class", "'choose' must take \\(batch, observed, rng\\)"),
    ('{class: "my_plugins:Edge", params: {speed: 2}}', "params", "invalid for policy 'my_plugins:Edge'"),
    ('{class: "not a path"}', "class", "must be an import path 'package.module:Class'"),
    ('{name: no_such_policy}', "name", "undefined policy .*queue_aware"),
    ('{name: always_edge, class: "my_plugins:Edge"}', None, "give either name .* or class"),
])
@pytest.mark.parametrize("command", ["validate", "simulate"])
def test_a_bad_plugin_is_one_located_line_and_exit_2(plugins: Path, entry: str, key: str | None, message: str,
                                                      command: str) -> None:
    path = _scenario(plugins, entry)
    line = _line_of(path, entry)
    result = CliRunner().invoke(main, [command, str(path), "--quiet"] if command == "simulate" else
                                [command, str(path)])
    assert result.exit_code == 2, result.output
    where = "policies[2]" + (f".{key}" if key else "")
    assert len(result.stderr.strip().splitlines()) == 1
    assert f"plugin.yaml:{line}: {where}: " in result.stderr
    assert re.search(message, result.stderr), result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("plugin", "message"), [
    ("FarAway", "choose returned option 9 for device group 'sensors'; valid options are 0 \\(local\\) to 2"),
    ("Floats", "choose returned float64 of shape \\(\\d+,\\) for \\d+ tasks; it must return \\d+ integer options"),
    ("Crashes", "choose raised KeyError"),
])
def test_a_wrong_answer_at_run_time_names_the_plugin(plugins: Path, plugin: str, message: str) -> None:
    path = _scenario(plugins, f'{{class: "my_plugins:{plugin}"}}')
    scenario = load_scenario(path, ["run.duration=15s", "run.replications=1"])
    with pytest.raises(PolicyPluginError, match=f"policy 'my_plugins:{plugin}': {message}"):
        simulate(scenario)
    result = CliRunner().invoke(main, ["simulate", str(path), "--quiet", "--set", "run.duration=15s"])
    assert result.exit_code == 2
    assert f"my_plugins:{plugin}" in result.stderr


def _install_entry_point(root: Path, name: str, value: str) -> None:
    """A minimal installed distribution (a ``.dist-info`` folder on the path) with one entry point."""
    info = root / "my_plugins_dist-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: my-plugins-dist\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{name} = {value}\n", encoding="utf-8")


def test_an_entry_point_names_a_policy(plugins: Path) -> None:
    _install_entry_point(plugins, "plugin_edge", "my_plugins:Edge")
    assert "plugin_edge" in policy_names()
    path = _scenario(plugins, "{name: plugin_edge, label: plugin}")
    result = simulate(load_scenario(path, ["run.duration=20s", "run.replications=1"]))
    pd.testing.assert_frame_equal(_records(result.records, "plugin"), _records(result.records, "edge"))


def test_a_broken_entry_point_is_reported(plugins: Path) -> None:
    _install_entry_point(plugins, "broken", "my_plugins:Missing")
    with pytest.raises(PolicyPluginError, match=r"entry point 'my_plugins:Missing' of group 'mecsim\.policies' "
                                                "cannot be loaded"):
        make_policy(PolicySpec("broken"))
    path = _scenario(plugins, "{name: broken}")
    with pytest.raises(ScenarioError, match=r"plugin.yaml:\d+: policies\[2\].name: \"broken\": entry point"):
        load_scenario(path)


def test_unknown_names_list_builtins_and_installed_plugins(plugins: Path) -> None:
    _install_entry_point(plugins, "plugin_edge", "my_plugins:Edge")
    with pytest.raises(UnknownPolicyError, match=r"valid policies: always_cloud, .*, random, plugin_edge"):
        make_policy(PolicySpec("nope"))


def test_the_readme_example_is_the_example_file() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "examples/least_backlog.py" in readme
    scenario = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    assert {"class": "least_backlog:LeastBacklog", "params": {"max_backlog": 2}, "label": "least-backlog"} in \
        scenario["policies"]


def test_the_example_policy_rule(plugins: Path) -> None:
    from least_backlog import LeastBacklog  # the examples folder is on the path (fixture)

    from simulator.policies import Observation

    policy = LeastBacklog(max_backlog=3)
    rng = np.random.default_rng(0)

    class _Batch:
        work_ops = np.ones(1)
        candidates = (object(), object())

    def option(in_system: list[float]) -> int:
        seen = Observation(np.ones(2), np.ones(2), np.asarray(in_system, dtype=np.float64))
        return int(policy.choose(_Batch(), seen, rng)[0])  # type: ignore[arg-type]

    assert option([0, 0]) == 1  # ties: the nearest
    assert option([2, 1]) == 2
    assert option([3, 3]) == 0  # both backlogs at the limit: local
    assert option([3, 2]) == 2
    with pytest.raises(ValueError, match="max_backlog=0"):
        LeastBacklog(max_backlog=0)
