"""Project hygiene (issue 18): one version in pyproject.toml, CITATION.cff and the CHANGELOG; the contributing
guide names the registries that really exist."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

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
