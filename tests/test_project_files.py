"""Project hygiene (issue 18): one version in pyproject.toml, CITATION.cff and the CHANGELOG; the contributing
guide names the registries that really exist."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _pyproject_version() -> str:
    return str(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"])


def test_one_version_everywhere() -> None:
    version = _pyproject_version()
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert str(citation["version"]) == version
    releases = re.findall(r"^## (\d+\.\d+\.\d+)", (ROOT / "CHANGELOG.md").read_text(encoding="utf-8"), re.M)
    assert releases
    assert releases[0] == version


def test_citation_has_what_cff_requires() -> None:
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert {"cff-version", "message", "title", "authors"} <= citation.keys()
    assert citation["license"] == "MIT"


def test_contributing_names_the_real_registries() -> None:
    from scheduler.solvers import SOLVERS
    from simulator.policies import POLICIES
    from simulator.scenario.workloads import WORKLOADS

    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    assert POLICIES
    assert SOLVERS
    assert WORKLOADS
    for registry, home in (("POLICIES", "simulator/policies.py"), ("SOLVERS", "scheduler/solvers/__init__.py"),
                           ("WORKLOADS", "simulator/scenario/workloads.py")):
        assert registry in text
        assert home in text
        assert registry in (ROOT / home).read_text(encoding="utf-8")


def _make(target: str) -> str:
    done = subprocess.run(["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True, check=True,
                          timeout=60)
    return done.stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_run_installs_the_runtime_only_and_make_test_the_test_tools() -> None:
    run = _make("run")
    assert "pip install --quiet -e '.'" in run
    assert "[test]" not in run
    assert "-e '.[test]'" in _make("test-fast")
    notebooks = _make("notebooks")
    assert "-e '.[notebooks]'" in notebooks
    assert "jupyter lab notebooks" in notebooks
    assert "mkdocs build --strict" in _make("docs")


def test_the_notebooks_extra_opens_the_py_notebooks_as_notebooks() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    assert any(req.startswith("jupyterlab") for req in extras["notebooks"])
    assert any(req.startswith("jupytext") for req in extras["notebooks"])
    settings = json.loads((ROOT / "notebooks" / "jupyterlab-settings.json").read_text(encoding="utf-8"))
    assert settings["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]["python"] == "Jupytext Notebook"


def test_the_readme_keeps_exactly_two_set_up_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    setup = readme.split("\n## Set-up", 1)[1].split("\n## ", 1)[0]
    block = setup.split("```sh\n", 1)[1].split("```", 1)[0]
    assert [line.split()[:2] for line in block.splitlines() if line.strip()] == [["make", "run"], ["make", "test"]]
    assert "make notebooks" in readme


def test_no_merge_leftovers_are_tracked() -> None:
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not a git checkout")
    tracked = subprocess.run(["git", "-C", str(ROOT), "ls-files"], capture_output=True, text=True, check=True).stdout
    leftovers = [name for name in tracked.splitlines() if name.endswith((".orig", ".rej", ".BACKUP", ".LOCAL"))]
    assert not leftovers, leftovers
