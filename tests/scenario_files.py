"""Scenario text written to a file the way a user would have it, for the tests that load YAML."""

from __future__ import annotations

from pathlib import Path


def write_scenario(directory: Path, text: str, name: str = "scenario.yaml") -> Path:
    """Write ``text`` to ``directory / name`` and return the path."""
    path = directory / name
    path.write_text(text)
    return path
