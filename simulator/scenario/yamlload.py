"""Safe YAML loading that keeps the line of every key and item, and never constructs arbitrary objects.

PyYAML's composer gives a node tree with ``start_mark`` positions; we turn it into plain dicts, lists and scalars
ourselves. Scalars are resolved by the YAML 1.1 core schema (null, bool, int, float, str); timestamps stay strings;
any other tag (``!!python/object``, ``!custom``) is an error. Anchors and aliases work, ``<<`` merge keys too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from simulator.scenario.errors import ScenarioError, ScenarioIssue, YamlPath

#: Upper bound on the number of nodes an alias-heavy document may expand to ("billion laughs").
MAX_NODES = 200_000
#: Upper bound on nesting (lists and mappings inside each other); scenarios need about six levels.
MAX_DEPTH = 64

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_TAG + name for name in ("null", "bool", "int", "float", "str")}


@dataclass(frozen=True, slots=True)
class LoadedYaml:
    """Plain data from a YAML document and the 1-based line of each key or item, by YAML path."""

    data: Any
    lines: dict[YamlPath, int]
    source: str

    def line_of(self, path: YamlPath) -> int | None:
        """Line of ``path``, or of its nearest ancestor that has one (a missing key points at its parent)."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None


class _Builder:
    def __init__(self, source: str) -> None:
        self.source = source
        self.lines: dict[YamlPath, int] = {}
        self.issues: list[ScenarioIssue] = []
        self.count = 0
        self._open: set[int] = set()  # the nodes being built, to catch an alias inside its own anchor
        self._constructor = yaml.SafeLoader("")

    def issue(self, node: yaml.Node, path: YamlPath, rule: str, value: Any = None) -> None:
        extra = {} if value is None else {"value": value}
        self.issues.append(ScenarioIssue(self.source, node.start_mark.line + 1, path, rule, **extra))

    def build(self, node: yaml.Node, path: YamlPath) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise ScenarioError([ScenarioIssue(self.source, node.start_mark.line + 1, path,
                                               f"document expands to more than {MAX_NODES} nodes")])
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        if node.tag not in (_TAG + "seq", _TAG + "map"):
            self.issue(node, path, f"unsupported YAML tag {node.tag!r}; use plain values")
            return None
        if id(node) in self._open:
            self.issue(node, path, "an alias refers to a list or mapping that contains it (an endless loop)")
            return None
        if len(path) > MAX_DEPTH:
            self.issue(node, path, f"nested more than {MAX_DEPTH} levels deep")
            return None
        self._open.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]
            assert isinstance(node, yaml.MappingNode)
            return self._mapping(node, path)
        finally:
            self._open.discard(id(node))

    def _scalar(self, node: yaml.ScalarNode, path: YamlPath) -> Any:
        if node.tag == _TAG + "timestamp":
            return node.value
        if node.tag not in _SCALAR_TAGS:
            self.issue(node, path, f"unsupported YAML tag {node.tag!r}; use plain values")
            return None
        return self._construct(node, path)

    def _construct(self, node: yaml.ScalarNode, path: YamlPath) -> Any:
        """The value of a scalar, or None with an issue when its text does not fit its tag or is not valid text."""
        kind = node.tag.removeprefix(_TAG)
        try:
            value = self._constructor.construct_object(node)
        except (ValueError, KeyError, yaml.YAMLError):  # '!!int 0x', '!!bool maybe', an int of 4,300+ digits
            shown = node.value if len(node.value) <= 40 else f"{node.value[:20]}...({len(node.value)} characters)"
            self.issue(node, path, f"{shown!r} is not a valid {kind}")
            return None
        if isinstance(value, str) and not _encodable(value):
            self.issue(node, path, "contains an escape that is not a character (a lone surrogate such as \\ud800)")
            return None
        return value

    def _mapping(self, node: yaml.MappingNode, path: YamlPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        explicit: set[str] = set()
        merged: list[tuple[yaml.MappingNode, YamlPath]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                merged.extend(self._merge_sources(value_node, path))
                continue
            key = self._key(key_node, path)
            if key is None:
                continue
            if key in explicit:
                self.issue(key_node, (*path, key), "duplicate key (first given on line "
                                                   f"{self.lines.get((*path, key), '?')})")
                continue
            explicit.add(key)
            self.lines[(*path, key)] = key_node.start_mark.line + 1
            result[key] = self.build(value_node, (*path, key))
        for source_node, source_path in merged:
            for key_node, value_node in source_node.value:
                key = self._key(key_node, source_path)
                if key is not None and key not in result:
                    self.lines[(*path, key)] = key_node.start_mark.line + 1
                    result[key] = self.build(value_node, (*path, key))
        return result

    def _merge_sources(self, node: yaml.Node, path: YamlPath) -> list[tuple[yaml.MappingNode, YamlPath]]:
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        good = [item for item in items if isinstance(item, yaml.MappingNode)]
        if len(good) != len(items):
            self.issue(node, path, "a '<<' merge key needs a mapping or a list of mappings")
        return [(item, path) for item in good]

    def _key(self, node: yaml.Node, path: YamlPath) -> str | None:
        if isinstance(node, yaml.ScalarNode) and node.tag in _SCALAR_TAGS:
            key = self._construct(node, path)
            if key is None and node.tag != _TAG + "null":
                return None
            if isinstance(key, str):
                return key
            # 'yes', 1 or null as a key is almost always a typo; accept scalars as their text
            return str(node.value)
        self.issue(node, path, "mapping keys must be plain scalars")
        return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_depth(text: str, source: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH from the event stream, before PyYAML's recursive composer sees it."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                line = event.start_mark.line + 1 if event.start_mark is not None else None
                raise ScenarioError([ScenarioIssue(source, line, (), f"nested more than {MAX_DEPTH} levels deep")])
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def read_text(path: str | Path, source: str) -> str:
    """The UTF-8 text of the file ``path`` (named ``source`` in messages).

    Raises
    ------
    ScenarioError
        The file cannot be read (naming the system's reason), or is not UTF-8: then the issue gives the line, the
        column and the byte offset of the first undecodable byte.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise ScenarioError([ScenarioIssue(source, None, (), f"cannot read: {error.strerror or error}")]) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        rule = (f"column {column} (byte {error.start}): byte 0x{data[error.start]:02x} is not UTF-8; save the file "
                "as UTF-8")
        raise ScenarioError([ScenarioIssue(source, line, (), rule)]) from None


def load_yaml(text: str, source: str = "<string>") -> LoadedYaml:
    """Parse one YAML document into plain data with line numbers.

    Raises
    ------
    ScenarioError
        Syntax errors (with the line PyYAML reports), several documents, unsupported tags, values that do not fit
        their tag, lone surrogates, nesting deeper than MAX_DEPTH, aliases inside themselves, duplicate keys.
    """
    try:
        _check_depth(text, source)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = " ".join(filter(None, [error.problem, error.context and f"({error.context})"]))
        raise ScenarioError([ScenarioIssue(source, line, (), f"invalid YAML: {problem}")]) from None
    except yaml.reader.ReaderError as error:  # a control character: it has a position, not a mark
        line = text.count("\n", 0, error.position) + 1
        rule = f"invalid YAML: character #x{error.character:04x} is not allowed (a control character)"
        raise ScenarioError([ScenarioIssue(source, line, (), rule)]) from None
    except yaml.YAMLError as error:
        detail = " ".join(str(error).split())  # the CLI error is one line
        raise ScenarioError([ScenarioIssue(source, None, (), f"invalid YAML: {detail}")]) from None
    if node is None:
        return LoadedYaml(None, {}, source)
    builder = _Builder(source)
    data = builder.build(node, ())
    if builder.issues:
        raise ScenarioError(builder.issues)
    return LoadedYaml(data, builder.lines, source)
