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


def test_libyaml_and_the_python_composer_read_the_shipped_files_alike(monkeypatch) -> None:
    """The fast composer is only a speed-up: same values, same positions, same messages."""
    from pathlib import Path

    import app.spec.yamlpos as yamlpos

    assert yamlpos._FAST_LOADER is not None  # PyYAML's wheels carry libyaml
    root = Path(__file__).resolve().parents[2]
    files = sorted([*root.glob("schema/*.yaml"), *root.glob("*.yaml")])
    texts = {str(p.relative_to(root)): p.read_text(encoding="utf-8") for p in files}
    texts["accents.yaml"] = "libellé:\n  état: {fr: Échu, en: Due}  # é, ü\n  «clé»: [à, ç]\n"
    texts["broken.yaml"] = "a:\n  b: {x: 1\n  c: 2\n"
    fast = {name: parse_yaml(text, name) for name, text in texts.items()}
    monkeypatch.setattr(yamlpos, "_FAST_LOADER", None)
    for name, text in texts.items():
        slow_doc, slow_errors = parse_yaml(text, name)
        fast_doc, fast_errors = fast[name]
        assert [str(e) for e in fast_errors] == [str(e) for e in slow_errors], name
        if slow_doc is None:
            assert fast_doc is None
            continue
        assert fast_doc is not None
        assert (fast_doc.data, fast_doc.values, fast_doc.keys) == (slow_doc.data, slow_doc.values, slow_doc.keys), name
    assert fast["broken.yaml"][0] is None and fast["broken.yaml"][1]
