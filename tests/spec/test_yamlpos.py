"""Reading YAML with positions: every key and value keeps its line and column."""

from __future__ import annotations

from app.spec.model import Location
from app.spec.yamlpos import parse_yaml

TEXT = """\
fields:
  name: {type: string}
  when: 2024-01-31
  flags: [a, b]
  no: yes
"""


def test_values_and_keys_have_positions() -> None:
    doc, errors = parse_yaml(TEXT, "schema/x.yaml")
    assert errors == [] and doc is not None
    assert doc.data == {"fields": {"name": {"type": "string"}, "when": "2024-01-31", "flags": ["a", "b"], "no": True}}
    assert doc.key_at(("fields", "name")) == Location("schema/x.yaml", 2, 3)
    assert doc.at(("fields", "name", "type")) == Location("schema/x.yaml", 2, 16)
    assert doc.at(("fields", "flags", 1)) == Location("schema/x.yaml", 4, 14)
    assert doc.at(("fields", "nothing", "here")) == Location("schema/x.yaml", 2, 3)  # nearest known
    assert doc.at(("fields", "missing")) == doc.at(("fields",))


def test_keys_stay_text_and_dates_stay_iso_strings() -> None:
    doc, _ = parse_yaml("no: 1\n1: x\nd: 2024-01-31\n", "f.yaml")
    assert doc is not None
    assert doc.data == {"no": 1, "1": "x", "d": "2024-01-31"}


def test_duplicate_keys_are_reported_in_nested_mappings() -> None:
    doc, errors = parse_yaml("a:\n  b: 1\n  c: 2\n  b: 3\n", "f.yaml")
    assert doc is not None and doc.data == {"a": {"b": 3, "c": 2}}
    assert [str(e) for e in errors] == ["f.yaml:4:3: duplicate key 'b' (first given at line 2)"]
    assert doc.key_at(("a", "b")) == Location("f.yaml", 4, 3)


def test_syntax_error_has_position_and_no_document() -> None:
    doc, errors = parse_yaml("a: b: c\n", "f.yaml")
    assert doc is None
    assert [str(e) for e in errors] == ["f.yaml:1:5: YAML syntax error: mapping values are not allowed here"]


def test_unknown_tag_is_an_error() -> None:
    doc, errors = parse_yaml("a: !python/object 1\n", "f.yaml")
    assert doc is not None and doc.data == {"a": "1"}
    assert [e.message for e in errors] == ["unsupported YAML tag '!python/object'"]


def test_non_scalar_keys_are_refused_and_skipped() -> None:
    doc, errors = parse_yaml("a:\n  ? [x, y]\n  : 1\n  b: 2\n", "f.yaml")
    assert doc is not None and doc.data == {"a": {"b": 2}}
    assert [str(e) for e in errors] == ["f.yaml:2:5: a key must be a plain name, not a list or mapping"]
