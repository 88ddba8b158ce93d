"""``--set path=value`` overrides applied to raw scenario data before validation.

Paths use the message syntax: ``run.duration``, ``devices[0].count``; a bracket holding a name instead of an index
selects the list item with that ``name`` (``devices[cameras].count``). The value is parsed as YAML
(``600s`` stays a string, ``50`` becomes an int, ``[a, b]`` a list).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from typing import Any

from simulator.scenario.errors import ScenarioError, ScenarioIssue, YamlPath
from simulator.scenario.yamlload import load_yaml

_SEGMENT = re.compile(r"([^.\[\]]+)|\[([^\[\]]*)\]|(\.)")

SOURCE = "--set"


def parse_path(text: str) -> tuple[str | int, ...]:
    """Split ``devices[0].count`` into ``("devices", 0, "count")``; a non-integer bracket stays a string key.

    Raises
    ------
    ScenarioError
        The path is empty or malformed.
    """
    parts: list[str | int] = []
    position = 0
    expect_key = True
    for match in _SEGMENT.finditer(text):
        key, index, dot = match.groups()
        misplaced = (match.start() != position or (dot is not None and expect_key)
                     or (key is not None and not expect_key) or (index is not None and expect_key and bool(parts)))
        if misplaced:
            break  # the text from here on is not consumed, so the check below reports the path
        position = match.end()
        if dot:
            expect_key = True
        elif key is not None:
            parts.append(key.strip())
            expect_key = False
        else:
            index = index.strip()
            parts.append(int(index) if re.fullmatch(r"-?\d+", index) else f"[{index}]")
            expect_key = False
    if not text.strip() or position != len(text) or expect_key:
        raise ScenarioError([ScenarioIssue(SOURCE, None, (), f"bad path {text!r}; expected e.g. "
                                                            "run.duration or devices[0].count")])
    return tuple(parts)


def all_paths(data: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every path inside a YAML document, parents before children (``("devices",)``, ``("devices", 0)``, ...)."""
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, item in data.items():
            found += all_paths(item, (*prefix, key))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            found += all_paths(item, (*prefix, index))
    return found


def split_override(text: str) -> tuple[tuple[str | int, ...], Any]:
    """Split ``path=value`` and parse both parts."""
    path_text, sep, value_text = text.partition("=")
    if not sep:
        raise ScenarioError([ScenarioIssue(SOURCE, None, (), f"{text!r} is not of the form path=value")])
    return parse_path(path_text.strip()), load_yaml(value_text, f"{SOURCE} {path_text.strip()}").data


def set_path(data: Any, path: Sequence[str | int], value: Any) -> tuple[str | int, ...]:
    """Set ``value`` at ``path`` inside ``data`` (in place); returns the path with names resolved to indices.

    Missing mapping keys are created; list indices must exist.
    """
    if not path:
        raise ScenarioError([ScenarioIssue(SOURCE, None, (), "cannot replace the whole scenario")])
    resolved: list[str | int] = []
    node = data
    for depth, part in enumerate(path):
        last = depth == len(path) - 1
        if isinstance(part, int) or (isinstance(part, str) and part.startswith("[")):
            index = _list_index(node, part, tuple(resolved))
            resolved.append(index)
            if last:
                node[index] = value
            else:
                node = node[index]
            continue
        if not isinstance(node, dict):
            raise _error(tuple(resolved), f"is not a mapping, cannot set key {part!r}")
        resolved.append(part)
        if last:
            node[part] = value
        else:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            node = child
    return tuple(resolved)


def _list_index(node: Any, part: str | int, where: YamlPath) -> int:
    if not isinstance(node, list):
        raise _error(where, f"is not a list, cannot select item {part}")
    if isinstance(part, int):
        if not -len(node) <= part < len(node):
            raise _error(where, f"index {part} out of range (the list has {len(node)} items)")
        return part % len(node)
    name = part[1:-1]
    for index, item in enumerate(node):
        if isinstance(item, dict) and item.get("name") == name:
            return index
    names = [item.get("name") for item in node if isinstance(item, dict) and "name" in item]
    raise _error(where, f"has no item named {name!r}; names: {', '.join(map(str, names)) or 'none'}")


def _error(path: YamlPath, rule: str) -> ScenarioError:
    return ScenarioError([ScenarioIssue(SOURCE, None, path, rule)])


def apply_overrides(data: Any, overrides: Sequence[str]) -> tuple[Any, list[YamlPath]]:
    """Return a deep copy of ``data`` with every ``path=value`` override applied, and the overridden paths.

    Raises
    ------
    ScenarioError
        Listing every malformed override or path that does not exist.
    """
    result = copy.deepcopy(data) if data is not None else {}
    touched: list[YamlPath] = []
    issues: list[ScenarioIssue] = []
    for text in overrides:
        try:
            path, value = split_override(text)
            touched.append(set_path(result, path, value))
        except ScenarioError as error:
            issues.extend(error.issues)
    if issues:
        raise ScenarioError(issues)
    return result, touched
