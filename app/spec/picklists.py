"""Build the picklists of picklists.yaml and check their codes."""

from __future__ import annotations

from collections.abc import Collection

from app.spec.errors import SpecError
from app.spec.model import Picklist, PicklistValue
from app.spec.values import flag, label_of, mapping, opt_int, opt_str
from app.spec.yamlpos import YamlDoc


def build_picklists(doc: YamlDoc, builtin: Collection[str]) -> tuple[dict[str, Picklist], list[SpecError]]:
    """Picklists by name, in file order; `builtin`: names the engine already provides."""
    errors: list[SpecError] = []
    result: dict[str, Picklist] = {}
    for name, raw in mapping(doc.data).items():
        if name in builtin:
            message = f"picklist '{name}' is built in: choose another name"
            errors.append(SpecError(doc.key_at((name,)), message))
            continue
        data = mapping(raw)
        values: list[PicklistValue] = []
        first_line: dict[str, int] = {}
        raw_values = data.get("values")
        for i, item in enumerate(raw_values if isinstance(raw_values, list) else []):
            value = mapping(item)
            code = opt_str(value.get("code"))
            if code is None:
                continue  # reported by the schema check
            loc = doc.at((name, "values", i, "code"))
            if code in first_line:
                message = f"duplicate code '{code}' in picklist '{name}' (first given at line {first_line[code]})"
                errors.append(SpecError(loc, message))
                continue
            first_line[code] = loc.line
            order = opt_int(value.get("order"))
            values.append(
                PicklistValue(
                    code=code,
                    label=label_of(value.get("label"), code),
                    colour=opt_str(value.get("colour")),
                    order=order if order is not None else i + 1,
                    active=flag(value.get("active"), default=True),
                )
            )
        values.sort(key=lambda v: v.order)  # stable: equal orders keep the file's order
        result[name] = Picklist(name, label_of(data.get("label"), name), tuple(values), doc.key_at((name,)))
    return result, errors
