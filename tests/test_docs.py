"""The documentation site (issue 18): the scenario reference is generated from the schema and complete; the
whole site builds with ``mkdocs build --strict`` (slow: it executes the notebooks and draws the gallery)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from simulator.cli import COMMANDS
from simulator.scenario.reference import scenario_reference
from simulator.scenario.schema import ScenarioSpec

ROOT = Path(__file__).resolve().parents[1]


def _models(annotation: object, found: set[type[BaseModel]]) -> None:
    """Every pydantic model reachable from ``annotation`` (an independent walk of the schema's types)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in found:
            return
        found.add(annotation)
        for info in annotation.model_fields.values():
            _models(info.annotation, found)
        return
    for arg in typing.get_args(annotation):
        _models(arg, found)


def test_the_reference_documents_every_key_of_every_section() -> None:
    text = scenario_reference()
    rows = re.findall(r"^\| `([a-z_]+)` \| (.*?) \| (.*?) \| (.*?) \|$", text, re.M)
    keys = {row[0] for row in rows}
    models: set[type[BaseModel]] = set()
    _models(ScenarioSpec, models)
    tables = {model for model in models if model.model_fields.get("distribution") is None}  # inline ones
    for model in models:
        for name in model.model_fields:
            assert name in keys or f"`{name}" in text, f"{model.__name__}.{name} is not documented"
    assert len(re.findall(r"^\| key \| type \| unit \| default \|$", text, re.M)) == len(tables)


def test_the_reference_gives_units_rules_and_defaults() -> None:
    rows = {}
    section = ""
    for line in scenario_reference().splitlines():
        if line.startswith("## "):
            section = line[3:].split(" {")[0]
        match = re.match(r"^\| `([a-z_]+)` \| (.*?) \| (.*?) \| (.*?) \|$", line)
        if match:
            rows[(section, match.group(1))] = match.groups()[1:]
    assert rows[("access_points[]", "uplink")] == ("a bandwidth such as 20Mbps, 1Gbps or 5MB/s; > 0", "bit/s",
                                                   "**required**")
    assert rows[("run", "duration")][1:] == ("s", "`60 s`")
    assert rows[("devices[].workload (kind: poisson)", "rate")][:2] == (
        "a rate such as 10/s, 2Hz, 30fps, 10req/s or 120/min; > 0", "/s")
    assert rows[("profiles[]", "speed")][1] == "ops/s"
    assert rows[("devices[]", "count")][0] == "whole number (>= 1, <= 1,000,000)"
    assert rows[("The file", "policies")][2].startswith('`[{"name": "always_local"')


@pytest.mark.slow
def test_the_site_builds_strictly(tmp_path: Path) -> None:
    site = tmp_path / "site"
    env = {**os.environ, "MECSIM_FAST": "1", "MPLBACKEND": "Agg", "NO_MKDOCS_2_WARNING": "1",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=1800, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for name in COMMANDS:
        assert f"mecsim {name}" in (site / "cli" / name / "index.html").read_text(encoding="utf-8")
    assert len(list((site / "gallery").glob("*.png"))) >= 3
    for notebook in (ROOT / "notebooks").glob("[0-9]*.py"):
        page = (site / "notebooks" / notebook.stem / "index.html").read_text(encoding="utf-8")
        assert "jp-OutputArea" in page  # executed: outputs are rendered
    assert "summary_frame" in (site / "api" / "simulator" / "index.html").read_text(encoding="utf-8")
