"""Scenario errors that point at the file, line and YAML path of every problem, all reported at once.

The message format follows Cantera's bar (``Error on line 4 of gas.yaml``), one issue per line::

    scenarios/city.yaml:14: devices[2].uplink: "-5 Mbps": must be > 0
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from offload.errors import MecsimError
from simulator.world import Path, format_path

#: A location inside a YAML document: mapping keys and sequence indices from the root.
YamlPath = Path

_NO_VALUE = object()


def format_value(value: Any) -> str:
    """Render a user value for a message: strings in double quotes, containers abbreviated."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True, slots=True)
class ScenarioIssue:
    """One problem in a scenario.

    Attributes
    ----------
    source : str
        File name (or ``<dict>``, ``--set``) the problem comes from.
    line : int or None
        1-based line in ``source`` when known.
    path : tuple
        YAML path of the offending key or item.
    rule : str
        What is wrong, phrased to follow the value (``"must be > 0"``).
    value : object
        The offending value; omitted from the message when the problem is a missing key.
    """

    source: str
    line: int | None
    path: YamlPath
    rule: str
    value: Any = _NO_VALUE

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line is not None else self.source
        value = "" if self.value is _NO_VALUE else f"{format_value(self.value)}: "
        return f"{where}: {format_path(self.path)}: {value}{self.rule}"


class ScenarioError(MecsimError, ValueError):
    """A scenario file or dictionary breaks the schema; ``issues`` lists every problem found, in file order."""

    def __init__(self, issues: Sequence[ScenarioIssue]) -> None:
        if not issues:
            raise ValueError("ScenarioError needs at least one issue")
        self.issues = tuple(sorted(issues, key=lambda i: (i.source, i.line or 0, format_path(i.path))))
        super().__init__("\n".join(str(issue) for issue in self.issues))
