"""The scenario file reference, generated from the schema: every key with its type, unit, rule and default.

The documentation site renders :func:`scenario_reference` (a Markdown page) at build time, so the reference can
never drift from what :mod:`simulator.scenario.schema` accepts. Each section (a mapping of the file) is a table of
its keys; sections chosen by a ``kind`` (workloads) get a table each, and distributions of a size are listed
inline. Units come from the quantity types' :class:`~simulator.scenario.quantities.QuantityInfo`.
"""

from __future__ import annotations

import inspect
import json
import math
import re
import types
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from offload.units import describe, format_quantity, quantity_name
from simulator.scenario.quantities import QuantityInfo
from simulator.scenario.schema import ScenarioSpec

#: Keys whose value names which section of a union applies.
_TAGS = ("kind", "distribution")


@dataclass
class _Sections:
    """Sections still to document, in the order met, each with the YAML path where it is first used."""

    order: list[tuple[str, type[BaseModel]]] = field(default_factory=list)
    seen: set[type[BaseModel]] = field(default_factory=set)
    anchors: dict[type[BaseModel], str] = field(default_factory=dict)

    def add(self, path: str, model: type[BaseModel]) -> str:
        if model not in self.seen:
            self.seen.add(model)
            self.order.append((path, model))
            self.anchors[model] = _anchor(path)
        return f"[{path}](#{self.anchors[model]})"


def _doc(model: type[BaseModel]) -> str:
    """The model's docstring as one paragraph, Sphinx roles and double backticks made plain Markdown."""
    text = " ".join(inspect.cleandoc(model.__doc__ or "").split())
    return re.sub(r":\w+:`~?([^`]+)`", r"`\1`", text).replace("``", "`")


def _anchor(path: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in path.lower()).strip("-")


def _strip(annotation: Any) -> tuple[Any, list[Any]]:
    """``annotation`` without ``Annotated`` wrappers, and the metadata they carried."""
    metadata: list[Any] = []
    while get_origin(annotation) is Annotated:
        annotation, *extra = get_args(annotation)
        metadata.extend(extra)
    return annotation, metadata


def _metadata(annotation: Any) -> list[Any]:
    """The metadata of ``annotation`` and of its members when it is an optional (``X | None``) type."""
    found = list(_strip(annotation)[1])
    for member in _members(_strip(annotation)[0]):
        found += _strip(member)[1]
    return found


def _members(annotation: Any) -> list[Any]:
    origin = get_origin(annotation)
    if origin is Union or isinstance(annotation, types.UnionType):
        return list(get_args(annotation))
    return [annotation]


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _tag(model: type[BaseModel]) -> tuple[str, str] | None:
    """``(key, value)`` of the ``Literal`` field that selects ``model`` in a union, if it has one."""
    for key in _TAGS:
        info = model.model_fields.get(key)
        if info is not None and get_origin(info.annotation) is Literal:
            return key, str(get_args(info.annotation)[0])
    return None


def _bounds(metadata: list[Any]) -> str:
    """Numeric and length rules: ``>= 1``, ``<= 100``, ``at least 1 item``."""
    rules = []
    for item in metadata:
        for name, symbol in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
            if isinstance(item, annotated_types.Interval | getattr(annotated_types, name.capitalize())):
                value = getattr(item, name, None)
                if value is not None:
                    rules.append(f"{symbol} {value:g}" if isinstance(value, float) else f"{symbol} {value:,}")
        if isinstance(item, annotated_types.MinLen) and item.min_length:
            rules.append(f"at least {item.min_length} item{'s' if item.min_length > 1 else ''}")
    return ", ".join(dict.fromkeys(rules))


def _inline(model: type[BaseModel], sections: _Sections, path: str) -> str:
    """A distribution in one line, its quantities named without examples: ``exponential (mean: an amount of work
    > 0)``; a list of distributions inside (a mixture's components) reads "sizes as above"."""
    tag = _tag(model)
    parts = []
    for name, info in model.model_fields.items():
        if tag is not None and name == tag[0]:
            continue
        bare, metadata = _strip(info.annotation)
        quantity = next((m for m in [*info.metadata, *metadata] if isinstance(m, QuantityInfo)), None)
        inner = _strip(get_args(bare)[0])[0] if get_origin(bare) is list else bare
        if quantity is not None:
            text = f"{quantity_name(quantity.dimension)} {quantity.rule}"
        elif any(_is_model(_strip(member)[0]) for member in _members(inner)):
            text = "list of sizes as above"
        else:
            text = _type(info.annotation, list(info.metadata), sections, f"{path}.{name}")[0]
        parts.append(f"`{name}`: {text}")
    return f"`{tag[1] if tag else model.__name__}` ({'; '.join(parts)})"


def _type(annotation: Any, metadata: list[Any], sections: _Sections, path: str) -> tuple[str, str]:
    """``(type text, unit)`` of a field; sections met on the way are queued in ``sections``."""
    bare, extra = _strip(annotation)
    metadata = [*metadata, *extra]
    quantity = next((item for item in metadata if isinstance(item, QuantityInfo)), None)
    if quantity is not None:
        return f"{quantity.label or describe(quantity.dimension)}; {quantity.rule}", quantity.unit
    members = [m for m in _members(bare) if _strip(m)[0] is not type(None)]
    if len(members) > 1:
        return _union(members, sections, path)
    if members and members[0] is not bare:  # an optional field: the type without None
        return _type(members[0], metadata, sections, path)
    origin = get_origin(bare)
    rules = _bounds(metadata)
    suffix = f" ({rules})" if rules else ""
    if origin is Literal:
        return "one of " + ", ".join(f"`{value}`" for value in get_args(bare)), ""
    if origin is list:
        inner, unit = _type(get_args(bare)[0], [], sections, f"{path}[]")
        return f"list of {inner}{suffix}", unit
    if origin is dict:
        inner, unit = _type(get_args(bare)[1], [], sections, f"{path}.NAME")
        return f"mapping of names to {inner}", unit
    if _is_model(bare):
        return f"a section: {sections.add(path, bare)}", ""
    if any(getattr(item, "pattern", None) for item in metadata):
        return "a name (letters, digits, `_`, `.`, `-`)", ""
    names = {bool: "`true` or `false`", int: "whole number", float: "number", str: "text"}
    text = names.get(bare, "any value") if isinstance(bare, type) else "any value"
    return f"{text}{suffix}", ""


def _union(members: list[Any], sections: _Sections, path: str) -> tuple[str, str]:
    """A plain value, or a mapping whose ``kind``/``distribution`` key picks its section."""
    plain, tagged, units = [], [], []
    key = ""
    for member in members:
        bare, metadata = _strip(member)
        if _is_model(bare):
            tag = _tag(bare)
            key = tag[0] if tag else key
            if tag is not None and tag[0] == "distribution":
                tagged.append(_inline(bare, sections, path))
            else:
                tagged.append(sections.add(f"{path} ({tag[0]}: {tag[1]})" if tag else path, bare))
        else:
            text, unit = _type(bare, metadata, sections, path)
            plain.append(text)
            units.append(unit)
    text = " or ".join(plain)
    if tagged:
        text += (", or " if text else "") + f"a mapping with `{key}:` " + ", ".join(tagged)
    return text, next((u for u in units if u), "")


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "**required**"
    value = info.get_default(call_default_factory=True)
    if value is None:
        return "none"
    quantity = next((item for item in [*info.metadata, *_metadata(info.annotation)] if isinstance(item, QuantityInfo)),
                    None)
    if quantity is not None and isinstance(value, int | float) and math.isfinite(value):
        return f"`{format_quantity(float(value), quantity.dimension)}`" if value else "`0`"
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, list):
        value = [v.model_dump(mode="json", exclude_none=True) if isinstance(v, BaseModel) else v for v in value]
    return f"`{json.dumps(value, ensure_ascii=False)}`"


def _table(model: type[BaseModel], path: str, sections: _Sections) -> list[str]:
    lines = ["| key | type | unit | default |", "|---|---|---|---|"]
    tag = _tag(model)
    for name, info in model.model_fields.items():
        if tag is not None and name == tag[0]:
            lines.append(f"| `{name}` | `{tag[1]}` | | **required** |")
            continue
        text, unit = _type(info.annotation, list(info.metadata), sections, f"{path}.{name}" if path else name)
        lines.append(f"| `{name}` | {text} | {unit or ''} | {_default(info)} |")
    return lines


def scenario_reference() -> str:
    """The Markdown reference of the scenario file format (every section and key), generated from the schema."""
    sections = _Sections()
    out = ["# Scenario file reference", "",
           "Generated from the schema (`simulator/scenario/schema.py`) when the documentation is built: every key a",
           "scenario file may have, its type and rule, the SI unit a plain number is read in, and its default.",
           "Quantities take human units (`20 Mbps`, `9 ms`, `1 hour`, `26 TOPS`, `10 req/s`); unknown keys are",
           "errors. `mecsim init` writes a commented starting point.", ""]
    out += ["## The file", "", _doc(ScenarioSpec), "", *_table(ScenarioSpec, "", sections), ""]
    index = 0
    while index < len(sections.order):
        path, model = sections.order[index]
        index += 1
        out += [f"## {path} {{ #{sections.anchors[model]} }}", "", _doc(model), "",
                *_table(model, path.split(" (")[0], sections), ""]
    return "\n".join(out)
