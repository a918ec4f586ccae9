"""Form layout (sections or tabs from `form:`) and the read-only detail page built on it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from app.engine.admin.formatting import date, display
from app.engine.models import Record
from app.spec.model import SYSTEM_COLUMNS, AppSpec, EntitySpec, FieldSpec, Label

OTHER_SECTION = "Autres informations"
SYSTEM_LABELS: dict[str, tuple[str, str]] = {
    "id": ("N°", "integer"),
    "created_at": ("Créé le", "datetime"),
    "updated_at": ("Modifié le", "datetime"),
    "created_by": ("Créé par", "string"),
    "updated_by": ("Modifié par", "string"),
    "version": ("Version", "integer"),
}


def column_spec(entity: EntitySpec, name: str) -> FieldSpec:
    """The field of a list column or filter; system columns get a synthetic one."""
    if name in entity.fields:
        return entity.fields[name]
    if name in SYSTEM_COLUMNS:
        label, kind = SYSTEM_LABELS[name]
        return FieldSpec(name=name, type=kind, label=Label(label, name), readonly=True)
    raise KeyError(name)


@dataclass(frozen=True)
class Section:
    label: str
    fields: tuple[str, ...]

    @property
    def anchor(self) -> str:
        return "".join(ch if ch.isalnum() else "-" for ch in self.label.lower()).strip("-") or "section"


@dataclass(frozen=True)
class Layout:
    kind: str  # "sections" or "tabs"
    sections: tuple[Section, ...]

    @property
    def order(self) -> list[str]:
        return [name for s in self.sections for name in s.fields]


def build_layout(entity: EntitySpec) -> Layout:
    """The configured sections, then every field they leave out, so no field is unreachable."""
    sections: list[Section] = []
    placed: set[str] = set()
    if entity.form is not None:
        for raw in entity.form.sections:
            names = tuple(n for n in raw.fields if n in entity.fields and n not in placed)
            placed.update(names)
            if names:
                sections.append(Section(raw.label.fr, names))
    rest = tuple(n for n in entity.fields if n not in placed)
    if rest:
        sections.append(Section(OTHER_SECTION if sections else "", rest))
    kind = entity.form.kind if entity.form is not None else "sections"
    return Layout(kind=kind, sections=tuple(sections))


@dataclass
class DetailRow:
    name: str
    kind: str
    label: str
    value: Markup | str


@dataclass
class DetailSection:
    label: str
    rows: list[DetailRow] = field(default_factory=list)


def detail_sections(
    spec: AppSpec,
    entity: EntitySpec,
    layout: Layout,
    obj: Record,
    link_url: Any,
) -> list[DetailSection]:
    """Every field's French label and formatted value, section by section.

    `link_url(field, target_id)` answers the details URL of a link target, or None.
    """
    result = []
    for section in layout.sections:
        rows = []
        for name in section.fields:
            spec_field = entity.fields[name]
            if spec_field.type == "password":
                continue
            rows.append(DetailRow(name, spec_field.type, spec_field.label.fr, _value(spec, spec_field, obj, link_url)))
        result.append(DetailSection(section.label, rows))
    return result


def field_display(spec: AppSpec, spec_field: FieldSpec, obj: Record) -> Markup | str:
    """A field's value as text (a link by its target's title), for a form's read-only fields."""
    return _value(spec, spec_field, obj, lambda field, target_id: None)


def _value(spec: AppSpec, spec_field: FieldSpec, obj: Record, link_url: Any) -> Markup | str:
    if spec_field.is_link:
        target_id = getattr(obj, spec_field.column_name, None)
        if target_id is None:
            return ""
        target = getattr(obj, spec_field.name, None)
        text = str(target) if target is not None else f"n° {target_id}"
        url = link_url(spec_field, target_id)
        return Markup('<a href="{}">{}</a>').format(url, text) if url else text
    if spec_field.type in ("file", "image"):
        return Markup("")  # drawn by the template, which knows the download URL
    return display(spec, spec_field, getattr(obj, spec_field.column_name, None))


def audit_line(obj: Record) -> str:
    parts = []
    created, updated = getattr(obj, "created_at", None), getattr(obj, "updated_at", None)
    if isinstance(created, dt.datetime):
        parts.append(f"Créé le {date(created)} par {getattr(obj, 'created_by', None) or '?'}")
    if isinstance(updated, dt.datetime):
        parts.append(f"modifié le {date(updated)} par {getattr(obj, 'updated_by', None) or '?'}")
    parts.append(f"version {obj.version}")
    return ", ".join(parts)
