"""Build an EntitySpec from one schema/<entity>.yaml and check what concerns that file alone.

Checks needing other files (link targets, child entities, cycles) live in references.py.
Building is lenient: the schema check has reported malformed values already, so they are
skipped here and every further error of the file can still be found.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from app.spec import list_rules
from app.spec.errors import SpecError
from app.spec.expressions import (
    EXPRESSION_NAMES,
    ExpressionError,
    compile_expression,
    literal_value,
    uncalled_functions,
)
from app.spec.model import (
    FIELD_TYPES,
    SYSTEM_COLUMNS,
    ChildSpec,
    EntitySpec,
    FieldSpec,
    FormSection,
    FormSpec,
    ListSpec,
    Location,
    NumberingSpec,
    Picklist,
)
from app.spec.suggest import did_you_mean, show
from app.spec.values import (
    expression_source,
    flag,
    label_of,
    mapping,
    opt_bound,
    opt_int,
    opt_label,
    opt_str,
    str_items,
)
from app.spec.yamlpos import YamlDoc, YamlPath

NUMERIC_TYPES = ("integer", "decimal", "money", "percent")
DATE_TYPES = ("date", "datetime")
LENGTH_TYPES = ("string", "text", "email", "phone", "url", "password")
SCALE_TYPES = ("decimal",)
CHOICE_TYPES = ("choice", "multichoice")
NUMBERED_TYPES = ("string", "text")
FROZEN_EXCLUDED = ("status", "password")

DATE_PLACEHOLDERS = ("yyyy", "yy", "mm", "dd")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_COUNTER = re.compile(r"^0+$")


class _Checker:
    def __init__(self, name: str, doc: YamlDoc, picklists: Mapping[str, Picklist] | None) -> None:
        self.name = name
        self.doc = doc
        self.picklists = picklists  # None when picklists.yaml could not be read
        self.errors: list[SpecError] = []

    def error(self, loc: Location, message: str) -> None:
        self.errors.append(SpecError(loc, message))

    # -- fields -------------------------------------------------------------------------

    def field(self, name: str, raw: Any) -> FieldSpec:
        data = mapping(raw)
        type_ = opt_str(data.get("type")) or ""
        return FieldSpec(
            name=name,
            type=type_,
            label=label_of(data.get("label"), name),
            required=flag(data.get("required")),
            default=expression_source(data.get("default")),
            unique=flag(data.get("unique")),
            readonly=flag(data.get("readonly")),
            help=opt_label(data.get("help")),
            min=opt_bound(data.get("min")),
            max=opt_bound(data.get("max")),
            length=opt_int(data.get("length")),
            scale=opt_int(data.get("scale")),
            index=flag(data.get("index")),
            picklist=opt_str(data.get("picklist")),
            to=opt_str(data.get("to")),
            location=self.doc.key_at(("fields", name)),
            frozen=flag(data.get("frozen")),
            match={k: v for k, v in mapping(data.get("match")).items() if isinstance(v, str)},
        )

    def check_field_names(self, fields: Mapping[str, FieldSpec]) -> None:
        for f in fields.values():
            if f.name in SYSTEM_COLUMNS:
                self.error(
                    self.doc.key_at(("fields", f.name)),
                    f"field name '{f.name}' is reserved: every entity has a system column "
                    f"'{f.name}' ({', '.join(SYSTEM_COLUMNS)})",
                )
            if f.is_link:
                other = fields.get(f.column_name)
                if other is not None and not other.is_link:
                    self.error(
                        self.doc.key_at(("fields", other.name)),
                        f"field '{other.name}' collides with the column of link '{f.name}' "
                        f"(a link is stored as '<name>_id'): rename one of them",
                    )

    def check_field(self, f: FieldSpec, fields: Mapping[str, FieldSpec]) -> None:
        if f.type not in FIELD_TYPES:
            return  # reported by the schema check
        path: YamlPath = ("fields", f.name)
        raw = mapping(self.doc.data["fields"][f.name])
        if "to" in raw and f.type != "link":
            self.error(self.doc.key_at((*path, "to")), f"'to' only applies to link fields, not to a {f.type} field")
        if "picklist" in raw and f.type not in CHOICE_TYPES:
            self.error(
                self.doc.key_at((*path, "picklist")),
                f"'picklist' only applies to choice and multichoice fields, not to a {f.type} field",
            )
        self.check_bounds(f, path, raw)
        self.check_rules(f, path, raw, fields)
        if "length" in raw and f.type not in LENGTH_TYPES:
            self.error(
                self.doc.key_at((*path, "length")),
                f"'length' does not apply to a {f.type} field (only to {', '.join(LENGTH_TYPES)})",
            )
        if "scale" in raw and f.type not in SCALE_TYPES:
            self.error(
                self.doc.key_at((*path, "scale")),
                f"'scale' does not apply to a {f.type} field (only to decimal; money always has 2 decimals)",
            )
        if f.type == "status":
            for key in ("required", "default"):
                if key in raw:
                    message = f"a status field takes no '{key}': a new record starts in its workflow's initial state"
                    self.error(self.doc.key_at((*path, key)), message)
        elif f.default is not None:
            self.check_default(f, (*path, "default"), fields)

    def check_rules(self, f: FieldSpec, path: YamlPath, raw: Mapping[str, Any], fields: Mapping[str, FieldSpec]) -> None:
        """`frozen` and the own side of `match` (its other side, the linked entity's fields, is
        checked with the other files in references.py)."""
        if f.frozen and f.type in FROZEN_EXCLUDED:
            why = "it changes only by transitions" if f.type == "status" else "a new password is stored differently each time"
            self.error(self.doc.key_at((*path, "frozen")), f"'frozen' does not apply to a {f.type} field: {why}")
        if "match" not in raw:
            return
        if f.type != "link":
            self.error(self.doc.key_at((*path, "match")), f"'match' only applies to link fields, not to a {f.type} field")
            return
        for theirs, ours in f.match.items():
            if ours not in fields:
                message = f"unknown field '{ours}' of '{self.name}' in 'match' of '{f.name}'{did_you_mean(ours, fields)}"
                self.error(self.doc.at((*path, "match", theirs)), message)

    def check_bounds(self, f: FieldSpec, path: YamlPath, raw: Mapping[str, Any]) -> None:
        bounds: dict[str, Any] = {}
        for key in ("min", "max"):
            if key not in raw:
                continue
            loc, value = self.doc.at((*path, key)), raw[key]
            if f.type in NUMERIC_TYPES:
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    bounds[key] = value
                else:
                    self.error(loc, f"expected a number for '{key}' of a {f.type} field, got {show(value)}")
            elif f.type in DATE_TYPES:
                parsed = _iso(value, f.type)
                if parsed is None:
                    example = "2024-01-31" if f.type == "date" else "2024-01-31 or 2024-01-31T08:00"
                    self.error(loc, f"expected an ISO date ({example}) for '{key}' of a {f.type} field, got {show(value)}")
                else:
                    bounds[key] = parsed
            else:
                self.error(
                    self.doc.key_at((*path, key)),
                    f"'{key}' does not apply to a {f.type} field (only to numbers and dates)",
                )
        low, high = bounds.get("min"), bounds.get("max")
        if low is not None and high is not None and type(low) is type(high) and low > high:
            self.error(self.doc.at((*path, "max")), f"'max' ({raw['max']}) is below 'min' ({raw['min']})")

    def check_default(self, f: FieldSpec, path: YamlPath, fields: Mapping[str, FieldSpec]) -> None:
        loc, source = self.doc.at(path), str(f.default)
        try:
            names = compile_expression(source).names
        except ExpressionError as exc:
            self.error(loc, str(exc))
            return
        allowed = set(EXPRESSION_NAMES) | set(fields)
        codes = self.codes(f)
        for unknown in sorted(names - allowed):
            if unknown in codes:
                hint = f" — to give the code, quote it: \"'{unknown}'\""
            else:
                hint = did_you_mean(unknown, allowed)
            self.error(loc, f"unknown name '{unknown}' in expression{hint}")
        for func in sorted(uncalled_functions(source)):
            call = f"{func}()" if func in ("today", "now") else f"{func}(n)"
            self.error(loc, f"'{func}' is a function: write '{call}'")
        if f.type in CHOICE_TYPES and self.picklist_of(f) is not None:
            self.check_default_codes(f, loc, source, codes)

    def picklist_of(self, f: FieldSpec) -> Picklist | None:
        if self.picklists is None or f.picklist is None:
            return None
        return self.picklists.get(f.picklist)

    def codes(self, f: FieldSpec) -> list[str]:
        picklist = self.picklist_of(f) if f.type in CHOICE_TYPES else None
        return picklist.codes() if picklist is not None else []

    def check_default_codes(self, f: FieldSpec, loc: Location, source: str, codes: list[str]) -> None:
        constant, value = literal_value(source)
        if not constant or not codes:  # an empty list: its picklist is malformed and reported
            return
        if f.type == "choice" and not isinstance(value, str):
            self.error(loc, f"the default of a choice field is one code of picklist '{f.picklist}', got {show(value)}")
            return
        values = value if f.type == "multichoice" and isinstance(value, (list, tuple)) else [value]
        for v in values:
            if v not in codes:
                hint = did_you_mean(str(v), codes) or f" (codes: {', '.join(codes)})"
                self.error(loc, f"default {show(v)} is not a code of picklist '{f.picklist}'{hint}")

    # -- references to the entity's own fields ------------------------------------------

    def check_ref(
        self,
        path: YamlPath,
        ref: str,
        fields: Mapping[str, FieldSpec],
        where: str,
        *,
        system: bool = True,
        shown: bool = True,
    ) -> None:
        name = ref.removeprefix("-")
        known = [*fields, *SYSTEM_COLUMNS] if system else list(fields)
        if name not in known:
            self.error(self.doc.at(path), f"unknown field '{name}' in {where}{did_you_mean(name, known)}")
        elif shown and name in fields and fields[name].type == "password":
            self.error(self.doc.at(path), f"password field '{name}' cannot be used in {where}: passwords are never shown")

    def numbering(self, fields: Mapping[str, FieldSpec]) -> tuple[NumberingSpec, ...]:
        result: list[NumberingSpec] = []
        raw_list = self.doc.data.get("numbering")
        for i, raw in enumerate(raw_list if isinstance(raw_list, list) else []):
            data = mapping(raw)
            field, pattern = opt_str(data.get("field")), opt_str(data.get("pattern"))
            if field is None or pattern is None:
                continue
            path: YamlPath = ("numbering", i)
            if field not in fields:
                self.error(self.doc.at((*path, "field")), f"unknown field '{field}' in numbering{did_you_mean(field, fields)}")
            elif fields[field].type in FIELD_TYPES and fields[field].type not in NUMBERED_TYPES:
                self.error(
                    self.doc.at((*path, "field")),
                    f"numbering needs a string field, but '{field}' is a {fields[field].type} field",
                )
            if any(n.field == field for n in result):
                self.error(self.doc.at((*path, "field")), f"field '{field}' is numbered twice")
            for message in pattern_problems(pattern):
                self.error(self.doc.at((*path, "pattern")), message)
            result.append(NumberingSpec(field, pattern, self.doc.at(path)))
        return tuple(result)


def pattern_problems(pattern: str) -> list[str]:
    """What is wrong with a numbering pattern such as `CU{yy}{mm}-{0000}`."""
    problems: list[str] = []
    counters = 0
    for match in _PLACEHOLDER.finditer(pattern):
        inner = match.group(1)
        if _COUNTER.match(inner):
            counters += 1
        elif inner not in DATE_PLACEHOLDERS:
            hint = did_you_mean(inner, [*DATE_PLACEHOLDERS, "0000"], wrap="'{{{}}}'")
            problems.append(f"unknown placeholder '{{{inner}}}' in numbering pattern{hint} (use {{yyyy}} {{yy}} {{mm}} {{dd}} {{0000}})")
    if "{" in _PLACEHOLDER.sub("", pattern) or "}" in _PLACEHOLDER.sub("", pattern):
        problems.append(f"unbalanced brace in numbering pattern '{pattern}'")
    if counters == 0:
        problems.append(f"numbering pattern '{pattern}' has no counter such as {{0000}}")
    elif counters > 1:
        problems.append(f"numbering pattern '{pattern}' has {counters} counters; give only one")
    return problems


def _iso(value: Any, type_: str) -> date | datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value) if type_ == "date" else datetime.fromisoformat(value)
    except ValueError:
        return None


def build_entity(
    name: str, doc: YamlDoc, picklists: Mapping[str, Picklist] | None
) -> tuple[EntitySpec | None, list[SpecError]]:
    """The entity of one file (None when the file is not a mapping) and its own errors."""
    if not isinstance(doc.data, dict):
        return None, []
    c = _Checker(name, doc, picklists)
    data: dict[str, Any] = doc.data
    fields = {fname: c.field(fname, raw) for fname, raw in mapping(data.get("fields")).items()}
    c.check_field_names(fields)
    for f in fields.values():
        c.check_field(f, fields)

    title = opt_str(data.get("title"))
    if title is not None:
        c.check_ref(("title",), title, fields, "'title'", system=False)
    else:
        title = next(iter(fields), "id")

    list_spec = _list(c, mapping(data.get("list")), fields, title)
    form = _form(c, data.get("form"), fields)
    label = label_of(data.get("label"), name)
    children = _children(c, data.get("children"), fields)
    spec = EntitySpec(
        name=name,
        label=label,
        plural=label_of(data["plural"], name) if "plural" in data else label,
        fields=fields,
        title=title,
        list=list_spec,
        form=form,
        children=children,
        numbering=c.numbering(fields),
        embedded=flag(data.get("embedded")),
        icon=opt_str(data.get("icon")),
        category=opt_label(data.get("category")),
        file=doc.file,
        location=Location(doc.file, 1, 1),
    )
    return spec, c.errors


def _list(c: _Checker, data: dict[str, Any], fields: Mapping[str, FieldSpec], title: str) -> ListSpec:
    refs: dict[str, tuple[str, ...]] = {}
    for key in ("columns", "filters", "search"):
        items = str_items(data.get(key))
        for i, ref in items:
            c.check_ref(("list", key, i), ref, fields, f"'list.{key}'", system=key != "search")
        refs[key] = tuple(ref for _, ref in items)
    sort = opt_str(data.get("sort"))
    if sort is not None:
        c.check_ref(("list", "sort"), sort, fields, "'list.sort'")
    page_size = opt_int(data.get("page_size"))
    return ListSpec(
        columns=refs["columns"] or (title,),
        columns_given=bool(refs["columns"]),
        filters=refs["filters"],
        search=refs["search"],
        sort=sort,
        page_size=page_size if page_size is not None and page_size > 0 else 25,
        colours=list_rules.build_colours(c.doc, data.get("colours"), fields, c.error),
        saved_filters=list_rules.build_saved_filters(
            c.doc, data.get("saved_filters"), fields, c.error, lambda path, ref, where: c.check_ref(path, ref, fields, where)
        ),
    )


def _form(c: _Checker, raw: Any, fields: Mapping[str, FieldSpec]) -> FormSpec | None:
    if not isinstance(raw, dict):
        return None
    kind = "tabs" if "tabs" in raw and "sections" not in raw else "sections"
    sections: list[FormSection] = []
    placed: dict[str, int] = {}
    raw_sections = raw.get(kind)
    for i, section in enumerate(raw_sections if isinstance(raw_sections, list) else []):
        data = mapping(section)
        names: list[str] = []
        for j, ref in str_items(data.get("fields")):
            path: YamlPath = ("form", kind, i, "fields", j)
            c.check_ref(path, ref, fields, f"form {kind}", system=False, shown=False)
            if ref in placed:
                c.error(c.doc.at(path), f"field '{ref}' is already in the form (line {placed[ref]})")
            placed.setdefault(ref, c.doc.at(path).line)
            names.append(ref)
        sections.append(FormSection(label_of(data.get("label"), ""), tuple(names)))
    return FormSpec(kind=kind, sections=tuple(sections))


def _children(c: _Checker, raw: Any, fields: Mapping[str, FieldSpec]) -> tuple[ChildSpec, ...]:
    result: list[ChildSpec] = []
    for name, child in mapping(raw).items():
        data = mapping(child)
        entity, via = opt_str(data.get("entity")), opt_str(data.get("via"))
        if name in fields:
            c.error(c.doc.key_at(("children", name)), f"child collection '{name}' has the same name as a field")
        if entity is None or via is None:
            continue
        result.append(
            ChildSpec(
                name=name,
                entity=entity,
                via=via,
                label=label_of(data.get("label"), name),
                order_by=opt_str(data.get("order_by")),
                location=c.doc.key_at(("children", name)),
            )
        )
    return tuple(result)
