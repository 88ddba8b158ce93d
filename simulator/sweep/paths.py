"""Dotted/indexed paths into nested plain data: ``devices[0].count``, ``run.duration``.

A path names one value inside the dicts and lists that a YAML scenario loads into. Keys are identifiers (letters,
digits, ``_`` and ``-``); ``[i]`` indexes a list.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from offload.errors import ParameterError

PathPart = str | int

_TOKEN = re.compile(r"([A-Za-z_][\w\-]*)|\[(\d+)\]|(\.)")


def parse_path(path: str) -> tuple[PathPart, ...]:
    """Split ``path`` into keys (str) and list indices (int).

    Examples
    --------
    >>> parse_path("devices[0].count")
    ('devices', 0, 'count')
    """
    parts: list[PathPart] = []
    position = 0
    expect_key = True
    while position < len(path):
        match = _TOKEN.match(path, position)
        if match is None or (match.group(1) and not expect_key) or (match.group(3) and expect_key):
            raise ParameterError("path", path, f"malformed at character {position + 1}; expected e.g. devices[0].count")
        key, index = match.group(1), match.group(2)
        if key is not None:
            parts.append(key)
            expect_key = False
        elif index is not None:
            if not parts:
                raise ParameterError("path", path, "must start with a key, e.g. devices[0].count")
            parts.append(int(index))
        else:
            expect_key = True
        position = match.end()
    if not parts or expect_key:
        raise ParameterError("path", path, "must not be empty or end with '.'; expected e.g. devices[0].count")
    return tuple(parts)


def get_path(data: Any, path: str) -> Any:
    """Return the value at ``path`` inside ``data``; raise :class:`ParameterError` naming the missing part."""
    node = data
    for depth, part in enumerate(parse_path(path)):
        node = _child(node, part, path, depth)
    return node


def set_path(data: Any, path: str, value: Any) -> None:
    """Set the value at ``path`` inside ``data`` in place.

    Every container on the way must exist; the last key of a mapping may be new (an optional setting the file
    left at its default), a list index must exist.
    """
    parts = parse_path(path)
    node = data
    for depth, part in enumerate(parts[:-1]):
        node = _child(node, part, path, depth)
    last = parts[-1]
    if isinstance(last, int):
        _child(node, last, path, len(parts) - 1)
    elif not isinstance(node, dict):
        raise ParameterError(path, value, f"{_prefix(parts, len(parts) - 1)} is not a mapping")
    node[last] = value


def _child(node: Any, part: PathPart, path: str, depth: int) -> Any:
    parts = parse_path(path)
    if isinstance(part, int):
        if not isinstance(node, list):
            raise ParameterError("path", path, f"{_prefix(parts, depth)} is not a list")
        if part >= len(node):
            raise ParameterError("path", path, f"index {part} out of range: {_prefix(parts, depth)} has "
                                               f"{len(node)} items")
        return node[part]
    if not isinstance(node, Mapping):
        raise ParameterError("path", path, f"{_prefix(parts, depth)} is not a mapping")
    if part not in node:
        valid = ", ".join(sorted(str(key) for key in node)) or "none"
        raise ParameterError("path", path, f"no key {part!r} in {_prefix(parts, depth)}; valid keys: {valid}")
    return node[part]


def _prefix(parts: tuple[PathPart, ...], depth: int) -> str:
    text = ""
    for part in parts[:depth]:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "the top level"
