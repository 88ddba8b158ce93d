"""Turning pydantic validation errors into :class:`ScenarioIssue` lines with file, line, YAML path and rule.

pydantic's ``loc`` may contain union tags that are not in the data (``workload.poisson.rate``); we walk the data to
keep only real keys and indices, and walk the schema to suggest the closest valid key for an unknown one.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from simulator.scenario.errors import ScenarioIssue, YamlPath

LineOf = Callable[[YamlPath], tuple[str, int | None]]
_MISSING = object()


def data_path(loc: Sequence[str | int], data: Any) -> tuple[YamlPath, Any]:
    """The real YAML path of a pydantic ``loc`` in ``data`` and the value there (``_MISSING`` if absent)."""
    path: list[str | int] = []
    node: Any = data
    for position, part in enumerate(loc):
        in_dict = isinstance(node, dict) and isinstance(part, str) and part in node
        if in_dict or (isinstance(node, list) and isinstance(part, int) and -len(node) <= part < len(node)):
            node = node[part]
            path.append(part)
        elif position == len(loc) - 1 and isinstance(part, str) and isinstance(node, dict):
            path.append(part)
            node = _MISSING
    return tuple(path), node


def _unwrap(annotation: Any) -> list[Any]:
    """The concrete types an annotation may hold (Annotated, Optional and unions flattened)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [member for arg in typing.get_args(annotation) for member in _unwrap(arg)]
    return [annotation]


def model_at(root: type[BaseModel], loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The schema model that owns the last element of ``loc`` (following lists, unions and union tags)."""
    candidates: list[Any] = [root]
    for part in loc[:-1]:
        following: list[Any] = []
        for candidate in candidates:
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                field = candidate.model_fields.get(str(part))
                if field is not None:
                    following.extend(_unwrap(field.annotation))
                elif _tag_matches(candidate, part):
                    following.append(candidate)
            elif typing.get_origin(candidate) is list and isinstance(part, int):
                following.extend(_unwrap(typing.get_args(candidate)[0]))
        candidates = following or candidates
    models = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
    return models[0] if len(models) == 1 else None


def _tag_matches(model: type[BaseModel], tag: str | int) -> bool:
    return any(typing.get_origin(field.annotation) is typing.Literal and tag in typing.get_args(field.annotation)
               for field in model.model_fields.values())


_RULES = {
    "greater_than_equal": "must be >= {ge}", "greater_than": "must be > {gt}", "less_than_equal": "must be <= {le}",
    "less_than": "must be < {lt}", "int_from_float": "must be a whole number", "int_type": "must be an integer",
    "int_parsing": "must be an integer", "float_type": "must be a number", "float_parsing": "must be a number",
    "string_type": "must be a string", "bool_type": "must be true or false", "list_type": "must be a list",
    "dict_type": "must be a mapping", "literal_error": "must be one of {expected}",
    "string_pattern_mismatch": "must contain only letters, digits, '_', '-' and '.'",
    "string_too_short": "must not be empty", "string_too_long": "must be at most {max_length} characters",
    "too_short": "must have at least {min_length} item(s)", "too_long": "must have at most {max_length} item(s)",
    "finite_number": "must be finite",
}


def _rule(error: Any, root: type[BaseModel], key: str | int) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        model = model_at(root, error["loc"])
        valid = list(model.model_fields) if model is not None else []
        close = difflib.get_close_matches(str(key), valid, n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"unknown key{hint} (valid keys: {', '.join(valid)})" if valid else f"unknown key{hint}"
    if kind == "missing":
        return "required key is missing"
    if kind == "union_tag_invalid":
        tags = str(ctx.get("expected_tags", "")).replace("'", "").replace("value, ", "")
        close = difflib.get_close_matches(str(ctx.get("tag", "")), tags.split(", "), n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"unknown kind {ctx.get('tag')!r}{hint} (valid kinds: {tags})"
    if kind == "union_tag_not_found":
        return f"needs a {str(ctx.get('discriminator', 'kind')).strip(chr(39) + '()')} key"
    if kind == "model_attributes_type" or kind == "model_type":
        return "expected a mapping"
    if kind in _RULES:
        return _RULES[kind].format(**ctx)
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    message = message.replace("Input should be", "should be")
    return message[:1].lower() + message[1:]


def issues_from_error(error: ValidationError, data: Any, root: type[BaseModel], locate: LineOf) -> list[ScenarioIssue]:
    """One issue per pydantic error, located in the file through ``locate(path) -> (source, line)``."""
    issues = []
    for item in error.errors():
        path, value = data_path(item["loc"], data)
        if item["type"] == "union_tag_invalid":
            key = str((item.get("ctx") or {}).get("discriminator", "kind")).strip("'()")
            path, value = (*path, key), item["ctx"]["tag"]
        rule = _rule(item, root, path[-1] if path else "")
        source, line = locate(path)
        if item["type"] in ("missing", "union_tag_not_found") or value is _MISSING:
            issues.append(ScenarioIssue(source, line, path, rule))
        else:
            issues.append(ScenarioIssue(source, line, path, rule, value))
    return issues
