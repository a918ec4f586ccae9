"""Validate a YAML file against its shipped JSON Schema and word each error for a configurator.

jsonschema's own messages speak of "instances" and "additional properties"; here each error
becomes `file:line:col: unknown key 'lenght' — did you mean 'length'?`. Schemas may carry
three annotations that only this module reads:

- `x-expected`: how to describe a valid value ("a colour written #rrggbb");
- `x-noun`: for an `enum`, what the value is ("field type" → "unknown field type 'datee'");
- `x-messages`: a message per failing keyword, formatted with `{name}` (the key) and `{type}`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from app.spec.errors import SpecError
from app.spec.model import Location
from app.spec.suggest import did_you_mean, show
from app.spec.yamlpos import YamlDoc, YamlPath

FileKind = Literal["entity", "picklists", "groups", "workflows", "files"]

SCHEMA_DIR = Path(__file__).parent / "schemas"

_TYPE_WORDS = {
    "boolean": "a boolean",
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "object": "a mapping (key: value)",
    "array": "a list",
    "null": "nothing",
}


@lru_cache(maxsize=None)
def load_schema(kind: FileKind) -> dict[str, Any]:
    with (SCHEMA_DIR / f"{kind}.schema.json").open(encoding="utf-8") as f:
        schema: dict[str, Any] = json.load(f)
    return schema


@lru_cache(maxsize=None)
def _validator(kind: FileKind) -> Draft202012Validator:
    return Draft202012Validator(load_schema(kind))


@dataclass(frozen=True)
class _Found:
    path: YamlPath
    keyword: str
    error: SpecError


def schema_errors(doc: YamlDoc, kind: FileKind) -> list[SpecError]:
    found = [f for err in _validator(kind).iter_errors(doc.data) for f in _convert(err, doc)]
    # A value of the wrong type also fails its enum/pattern: keep only the type error.
    typed = {f.path for f in found if f.keyword == "type"}
    result: list[SpecError] = []
    for f in found:
        if (f.path in typed and f.keyword != "type") or f.error in result:
            continue
        result.append(f.error)
    return result


def _what(path: YamlPath) -> str:
    if not path:
        return "the file"
    last = path[-1]
    if isinstance(last, int):
        keys = [p for p in path[:-1] if isinstance(p, str)]
        return f"item {last + 1} of '{keys[-1]}'" if keys else f"item {last + 1}"
    return f"'{last}'"


def _expected(schema: dict[str, Any]) -> str:
    if "x-expected" in schema:
        return str(schema["x-expected"])
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else list(types)
    return " or ".join(_TYPE_WORDS.get(t, t) for t in types) or "a valid value"


def _hint(schema: dict[str, Any], value: Any) -> str:
    types = schema.get("type")
    if types == "string" and isinstance(value, (bool, int, float)):
        return " (put it in quotes to make it text)"
    if types == "boolean" and isinstance(value, str):
        return " (write true or false)"
    return ""


def _custom(err: ValidationError, path: YamlPath) -> str | None:
    messages = err.schema.get("x-messages") if isinstance(err.schema, dict) else None
    template = messages.get(str(err.validator)) if isinstance(messages, dict) else None
    if template is None:
        return None
    instance = err.instance if isinstance(err.instance, dict) else {}
    name = next((str(p) for p in reversed(path) if isinstance(p, str)), "")
    return str(template).format(name=name, type=instance.get("type", ""))


def _convert(err: ValidationError, doc: YamlDoc) -> Iterator[_Found]:
    path: YamlPath = tuple(err.absolute_path)
    keyword = str(err.validator)
    schema: dict[str, Any] = err.schema if isinstance(err.schema, dict) else {}

    def at(message: str, loc: Location | None = None, where: YamlPath = path) -> _Found:
        return _Found(where, keyword, SpecError(loc or doc.at(where), message))

    custom = _custom(err, path)
    if keyword in ("anyOf", "oneOf"):
        yield from _convert_any_of(err, doc, path)
    elif keyword == "additionalProperties" and isinstance(err.instance, dict):
        allowed = list(schema.get("properties", {}))
        for key in err.instance:
            if key in allowed:
                continue
            hint = did_you_mean(key, allowed) or (f" (allowed: {', '.join(allowed)})" if allowed else "")
            yield at(f"unknown key '{key}'{hint}", doc.key_at((*path, key)), (*path, key))
    elif keyword == "required" and isinstance(err.instance, dict):
        required = err.validator_value if isinstance(err.validator_value, list) else []
        for key in required:
            if key not in err.instance:
                where = f" in {_what(path)}" if path else ""
                yield at(custom or f"missing required key '{key}'{where}", doc.key_at(path))
    elif custom is not None:
        yield at(custom, doc.key_at(path) if isinstance(err.instance, (dict, list)) else None)
    elif keyword == "pattern" and "propertyNames" in err.absolute_schema_path:
        key = str(err.instance)
        yield at(f"invalid name '{key}': expected {_expected(schema)}", doc.key_at((*path, key)), (*path, key))
    elif keyword == "minLength" and err.validator_value == 1:
        yield at(f"{_what(path)} must not be empty")
    elif keyword in ("type", "pattern", "minLength"):
        value = err.instance
        yield at(f"expected {_expected(schema)} for {_what(path)}, got {show(value)}{_hint(schema, value)}")
    elif keyword in ("enum", "const"):
        raw_options = err.validator_value if keyword == "enum" else [err.validator_value]
        options = [str(o) for o in raw_options] if isinstance(raw_options, list) else []
        value = err.instance
        if "x-noun" in schema:
            hint = did_you_mean(str(value), options) or f" (expected one of: {', '.join(options)})"
            yield at(f"unknown {schema['x-noun']} {show(value)}{hint}")
        else:
            hint = did_you_mean(str(value), options)
            yield at(f"expected one of {', '.join(options)} for {_what(path)}, got {show(value)}{hint}")
    elif keyword in ("minimum", "exclusiveMinimum"):
        yield at(f"expected a number of at least {err.validator_value} for {_what(path)}, got {show(err.instance)}")
    elif keyword in ("maximum", "exclusiveMaximum"):
        yield at(f"expected a number of at most {err.validator_value} for {_what(path)}, got {show(err.instance)}")
    elif keyword in ("minItems", "minProperties"):
        yield at(f"{_what(path)} must not be empty", doc.key_at(path))
    elif keyword == "uniqueItems" and isinstance(err.instance, list):
        yield from _duplicates(err.instance, doc, path, keyword)
    else:
        yield at(f"{_what(path)}: {err.message}")


def _convert_any_of(err: ValidationError, doc: YamlDoc, path: YamlPath) -> Iterator[_Found]:
    """Report the errors of the one alternative whose type fits, else what was expected."""
    branches: dict[int, list[ValidationError]] = {}
    for sub in err.context or []:
        branches.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
    fitting = [
        errs
        for errs in branches.values()
        if not any(e.validator == "type" and not e.relative_path for e in errs)
    ]
    if len(fitting) == 1:
        for sub in fitting[0]:
            yield from _convert(sub, doc)
        return
    schema = err.schema if isinstance(err.schema, dict) else {}
    message = f"expected {_expected(schema)} for {_what(path)}, got {show(err.instance)}"
    yield _Found(path, "type", SpecError(doc.at(path), message))


def _duplicates(items: list[Any], doc: YamlDoc, path: YamlPath, keyword: str) -> Iterator[_Found]:
    seen: list[Any] = []
    for i, item in enumerate(items):
        if item in seen:
            where = (*path, i)
            message = f"{show(item)} is listed twice in {_what(path)}"
            yield _Found(where, keyword, SpecError(doc.at(where), message))
        else:
            seen.append(item)
