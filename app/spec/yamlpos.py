"""Read YAML into plain values while remembering where every key and value came from.

PyYAML's composer gives nodes with marks; we build the values ourselves from those nodes so
that we can (1) record the position of each path, (2) report duplicate keys, which PyYAML
silently drops, and (3) turn syntax errors into SpecErrors with file:line:col.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from app.spec.errors import SpecError
from app.spec.model import Location

# A path from the document root: mapping keys (str) and list indexes (int).
YamlPath = tuple[str | int, ...]

# libyaml's composer (when PyYAML was built with it) gives the same nodes and marks several
# times faster; its error messages differ, so a file it refuses is read again by the Python
# composer, whose messages users see.
_FAST_LOADER = getattr(yaml, "CSafeLoader", None)

_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass
class YamlDoc:
    """One YAML file: its plain value and the location of each value and each mapping key."""

    file: str
    data: Any
    values: dict[YamlPath, Location] = field(default_factory=dict)
    keys: dict[YamlPath, Location] = field(default_factory=dict)

    def at(self, path: YamlPath) -> Location:
        """Where the value at `path` starts (or its nearest known ancestor)."""
        for i in range(len(path), -1, -1):
            loc = self.values.get(path[:i])
            if loc is not None:
                return loc
        return Location(self.file, 1, 1)

    def key_at(self, path: YamlPath) -> Location:
        """Where the key naming `path` is written; the value's location for list items."""
        return self.keys.get(path) or self.at(path)


def _loc(file: str, node: Node) -> Location:
    return Location(file, node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.values: dict[YamlPath, Location] = {}
        self.keys: dict[YamlPath, Location] = {}
        self.errors: list[SpecError] = []
        self._constructor = SafeConstructor()

    def build(self, node: Node, path: YamlPath) -> Any:
        self.values.setdefault(path, _loc(self.file, node))
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self._scalar(node)

    def _scalar(self, node: Node) -> Any:
        if node.tag == _TIMESTAMP_TAG:
            return node.value  # dates stay ISO strings, as in JSON
        construct = SafeConstructor.yaml_constructors.get(node.tag)
        if construct is None or not isinstance(node, ScalarNode):
            self.errors.append(SpecError(_loc(self.file, node), f"unsupported YAML tag '{node.tag}'"))
            return node.value if isinstance(node.value, str) else None
        try:
            return construct(self._constructor, node)
        except ConstructorError as exc:
            self.errors.append(SpecError(_loc(self.file, node), f"invalid value: {exc.problem}"))
            return node.value

    def _key(self, node: Node) -> str | None:
        # Keys are names: keep their text, so `no:` or `1:` stay the strings "no" and "1".
        if isinstance(node, ScalarNode):
            return str(node.value)
        self.errors.append(SpecError(_loc(self.file, node), "a key must be a plain name, not a list or mapping"))
        return None

    def _mapping(self, node: MappingNode, path: YamlPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        merges: list[Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merges.append(value_node)
                continue
            key = self._key(key_node)
            if key is None:
                continue
            if key in result:
                first = self.keys[(*path, key)]
                self.errors.append(
                    SpecError(
                        _loc(self.file, key_node),
                        f"duplicate key '{key}' (first given at line {first.line})",
                    )
                )
                self._forget((*path, key))
            self.keys[(*path, key)] = _loc(self.file, key_node)
            result[key] = self.build(value_node, (*path, key))
        for merge_node in merges:
            self._merge(merge_node, path, result)
        return result

    def _forget(self, path: YamlPath) -> None:
        """Drop the positions under `path` (a duplicate key replaces the first value)."""
        n = len(path)
        for table in (self.values, self.keys):
            for p in [p for p in table if p[:n] == path]:
                del table[p]

    def _merge(self, node: Node, path: YamlPath, result: dict[str, Any]) -> None:
        """YAML merge keys (`<<: *defaults`): keys given explicitly win; merged ones keep the
        anchor's positions."""
        sources = node.value if isinstance(node, SequenceNode) else [node]
        for source in sources:
            if not isinstance(source, MappingNode):
                self.errors.append(SpecError(_loc(self.file, source), "'<<' expects a mapping or a list of mappings"))
                continue
            sub = _Builder(self.file)
            value = sub._mapping(source, ())
            self.errors.extend(sub.errors)
            added = {k for k in value if k not in result}
            for key in added:
                result[key] = value[key]
            for table, sub_table in ((self.values, sub.values), (self.keys, sub.keys)):
                for sub_path, loc in sub_table.items():
                    if sub_path and sub_path[0] in added:
                        table[(*path, *sub_path)] = loc


def _syntax_error(file: str, exc: yaml.YAMLError) -> SpecError:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        problem = str(exc.problem).replace("character '\\t'", "a tab character (indent with spaces)")
        message = f"YAML syntax error: {problem}"
        if exc.context and exc.context_mark is not None:
            message += f" ({exc.context} at line {exc.context_mark.line + 1})"
        elif exc.context:
            message += f" ({exc.context})"
        return SpecError(Location(file, mark.line + 1, mark.column + 1), message)
    if isinstance(exc, yaml.reader.ReaderError):
        return SpecError(Location(file, 1, exc.position + 1), f"YAML syntax error: {exc.reason}")
    return SpecError(Location(file, 1, 1), f"YAML syntax error: {exc}")


def _compose(text: str) -> Node | None:
    if _FAST_LOADER is not None:
        try:
            return yaml.compose(text, Loader=_FAST_LOADER)
        except yaml.YAMLError:
            pass  # the Python composer below raises the error users read
    return yaml.compose(text, Loader=yaml.SafeLoader)


def parse_yaml(text: str, file: str) -> tuple[YamlDoc | None, list[SpecError]]:
    """Parse one YAML document; None (with errors) when the syntax is wrong."""
    try:
        node = _compose(text)
    except yaml.YAMLError as exc:
        return None, [_syntax_error(file, exc)]
    if node is None:  # an empty file, or only comments
        return YamlDoc(file, None), []
    builder = _Builder(file)
    data = builder.build(node, ())
    return YamlDoc(file, data, builder.values, builder.keys), builder.errors


def read_yaml(path: Path, file: str) -> tuple[YamlDoc | None, list[SpecError]]:
    """Read and parse `path`; `file` is the name used in locations (relative to the config)."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [SpecError(Location(file, 1, 1), f"not UTF-8 text (byte {exc.start}): save the file as UTF-8")]
    except OSError as exc:
        return None, [SpecError(Location(file, 1, 1), f"cannot read the file: {exc.strerror}")]
    return parse_yaml(text, file)
