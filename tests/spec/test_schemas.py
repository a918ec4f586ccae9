"""The shipped JSON Schemas: valid, in sync with the model, documented for editors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from app.spec.model import FIELD_TYPES
from app.spec.schema_check import FileKind, load_schema, schema_errors
from app.spec.yamlpos import parse_yaml

KINDS: list[FileKind] = ["entity", "picklists", "groups", "workflows"]
DOC = Path(__file__).resolve().parents[2] / "docs" / "yaml-language.md"


@pytest.mark.parametrize("kind", KINDS)
def test_schema_is_valid_draft_2020_12(kind: FileKind) -> None:
    schema = load_schema(kind)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_field_type_enum_matches_the_model() -> None:
    assert load_schema("entity")["$defs"]["field"]["properties"]["type"]["enum"] == list(FIELD_TYPES)


def _objects(node: Any) -> Iterator[dict[str, Any]]:
    """Every schema object, except `if` conditions (they match, they do not document)."""
    if isinstance(node, dict):
        yield node
        for key, value in node.items():
            if key != "if":
                yield from _objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value)


@pytest.mark.parametrize("kind", KINDS)
def test_every_key_is_described_and_unknown_keys_are_refused(kind: FileKind) -> None:
    for obj in _objects(load_schema(kind)):
        if obj.get("type") == "object" and "properties" in obj:
            assert obj.get("additionalProperties") is False, obj
        for key, prop in obj.get("properties", {}).items():
            assert "description" in prop, f"{kind}: '{key}' has no description"


def _doc_examples() -> dict[str, str]:
    """The YAML examples of docs/yaml-language.md, by the file they show."""
    text = DOC.read_text(encoding="utf-8")
    examples: dict[str, str] = {}
    for block in re.findall(r"```yaml\n(.*?)```", text, flags=re.S):
        for kind in ("entity", "picklists", "groups"):
            if f"{kind}.schema.json" in block:
                examples[kind] = block
    return examples


@pytest.mark.parametrize("kind", ["entity", "picklists", "groups"])
def test_documented_examples_pass_their_schema(kind: FileKind) -> None:
    doc, errors = parse_yaml(_doc_examples()[kind], f"{kind}.yaml")
    assert errors == [] and doc is not None
    assert schema_errors(doc, kind) == []
