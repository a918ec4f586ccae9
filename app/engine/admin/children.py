"""Child collections (entity.children) edited inline on the parent's form.

sqladmin has no inline forms, so the parent's template draws one table per collection whose
inputs are named `<collection>-<row>-<field>` (plus `<collection>-present`, so that an emptied
table still means "no rows"). They are submitted with the parent form, checked cell by cell with
parse_value, and saved by Store.create/update's child lists: a row with an `id` updates that
child, a row without one creates it, a child left out is deleted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from app.engine.admin.errors import french
from app.engine.admin.formatting import display, input_value
from app.engine.admin.forms import REQUIRED
from app.engine.admin.lookup import titles
from app.engine.fieldtypes import FieldError, parse_value
from app.engine.models import Record
from app.engine.runtime import Runtime
from app.spec.model import AppSpec, ChildSpec, EntitySpec, FieldSpec, Picklist, PicklistValue

PRESENT = "present"
_KEY = re.compile(r"^(?P<child>[a-z][a-z0-9_]*)-(?P<index>\d+)-(?P<field>[a-z][a-z0-9_]*)$")


@dataclass
class Cell:
    field: FieldSpec
    value: Any  # input text, bool for checkboxes, list for multichoice
    label: str = ""  # display text of a link target
    error: str = ""


@dataclass
class Row:
    id: str
    cells: list[Cell]
    error: str = ""


@dataclass
class ChildTable:
    """One collection as the templates draw it."""

    spec: ChildSpec
    entity: EntitySpec
    columns: list[FieldSpec]
    picklists: Mapping[str, Picklist] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    can_edit: bool = True

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def label(self) -> str:
        return self.spec.label.fr

    def choices(self, column: FieldSpec) -> list[PicklistValue]:
        return sorted(self.picklists[column.picklist or ""].values, key=lambda v: v.order)

    def blank_row(self) -> Row:
        return Row(id="", cells=[Cell(c, [] if c.type == "multichoice" else "") for c in self.columns])


def child_columns(spec: AppSpec, child: ChildSpec) -> list[FieldSpec]:
    """Every field of the child (the form edits them all): those its `list.columns` names
    first, in that order, so that the ones a line is read by come before the rest."""
    entity = spec.entities[child.entity]
    fields = [f for f in entity.fields.values() if f.name != child.via and f.type != "password"]
    if not entity.list.columns_given:
        return fields
    rank = {name: i for i, name in enumerate(entity.list.columns)}
    return sorted(fields, key=lambda f: rank.get(f.name, len(rank)))  # stable: the rest keep their order


def display_columns(spec: AppSpec, child: ChildSpec) -> list[FieldSpec]:
    """The columns of a collection on the parent's page: the child entity's `list.columns`
    where its YAML names them (system columns aside), in their order; every field otherwise.
    The form keeps every field, to edit them all."""
    entity = spec.entities[child.entity]
    named = set(entity.list.columns) if entity.list.columns_given else set()
    return [f for f in child_columns(spec, child) if f.name in named] or child_columns(spec, child)


def empty_tables(spec: AppSpec, entity: EntitySpec, *, for_input: bool = True) -> list[ChildTable]:
    columns = child_columns if for_input else display_columns
    return [ChildTable(c, spec.entities[c.entity], columns(spec, c), spec.picklists) for c in entity.children]


def tables_from_records(rt: Runtime, session: Session, entity: EntitySpec, rows: dict[str, list[Record]], *, for_input: bool) -> list[ChildTable]:
    """Tables filled from stored children (input values for the form, display text otherwise)."""
    tables = empty_tables(rt.spec, entity, for_input=for_input)
    for table in tables:
        records = rows.get(table.name, [])
        labels = _link_labels(rt, session, table.columns, [{c.name: getattr(r, c.column_name) for c in table.columns} for r in records])
        for record in records:
            cells = []
            for column in table.columns:
                value = getattr(record, column.column_name, None)
                if column.is_link:
                    cells.append(Cell(column, "" if value is None else str(value), labels.get((column.to or "", value), "")))
                elif for_input and column.type == "boolean":
                    cells.append(Cell(column, bool(value)))
                elif for_input and column.type == "multichoice":
                    cells.append(Cell(column, list(value or [])))
                elif for_input:
                    cells.append(Cell(column, input_value(column, value)))
                else:
                    cells.append(Cell(column, display(rt.spec, column, value)))
            table.rows.append(Row(id=str(record.id), cells=cells))
    return tables


def _link_labels(rt: Runtime, session: Session, columns: list[FieldSpec], rows: list[dict[str, Any]]) -> dict[tuple[str, Any], str]:
    labels: dict[tuple[str, Any], str] = {}
    for column in columns:
        if not column.is_link:
            continue
        ids = set()
        for row in rows:
            try:
                ids.add(int(row.get(column.name) or 0))
            except (TypeError, ValueError):
                continue
        ids.discard(0)
        for key, text in titles(rt, session, column.to or "", ids).items():
            labels[(column.to or "", key)] = text
            labels[(column.to or "", str(key))] = text
    return labels


def submitted(form: FormData, table: ChildTable) -> list[dict[str, Any]] | None:
    """The rows of one collection as sent by the browser, in display order; None if absent."""
    if form.get(f"{table.name}-{PRESENT}") is None:
        return None
    by_index: dict[int, dict[str, Any]] = {}
    kinds = {c.name: c for c in table.columns}
    for key in form.keys():
        match = _KEY.match(key)
        if not match or match["child"] != table.name:
            continue
        row = by_index.setdefault(int(match["index"]), {})
        name = match["field"]
        if name == "id":
            row["id"] = str(form.get(key) or "")
        elif name in kinds and kinds[name].type == "multichoice":
            row[name] = [str(v) for v in form.getlist(key)]
        elif name in kinds:
            row[name] = str(form.get(key) or "")
    rows = [by_index[i] for i in sorted(by_index)]
    for row in rows:
        for column in table.columns:
            if column.type == "boolean":
                row[column.name] = row.get(column.name, "") not in ("", "0", "false")
            row.setdefault(column.name, [] if column.type == "multichoice" else "")
        row.setdefault("id", "")
    return rows


def check_rows(spec: AppSpec, table: ChildTable, rows: list[dict[str, Any]]) -> dict[str, str]:
    """Every cell's parse error and missing required value, keyed like Store's `lines[2].field`."""
    errors: dict[str, str] = {}
    numbered = {n.field for n in table.entity.numbering}
    for index, row in enumerate(rows):
        for column in table.columns:
            if column.readonly:
                continue
            raw = row.get(column.name)
            path = f"{table.name}[{index}].{column.name}"
            try:
                value = parse_value(column, raw, spec)
            except FieldError as exc:
                errors[path] = french(exc.message)
                continue
            creating = not row.get("id")
            if column.required and column.name not in numbered and value in (None, "", []):
                if not (creating and column.default is not None):
                    errors[path] = REQUIRED
    return errors


def store_rows(table: ChildTable, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows as Store expects them: editable fields only, `id` for existing children."""
    out = []
    for row in rows:
        existing = str(row.get("id", "")).isdigit()
        item: dict[str, Any] = {"id": int(row["id"])} if existing else {}
        for column in table.columns:
            if column.readonly or column.type in ("file", "image"):
                continue
            value = row.get(column.name)
            if not existing and value in ("", None, []):
                continue  # a new row left blank gets the field's default, as in the API
            item[column.name] = value
        out.append(item)
    return out


def tables_from_submission(rt: Runtime, session: Session, entity: EntitySpec, form: FormData, errors: dict[str, str]) -> list[ChildTable]:
    """Tables refilled with what the user typed, with each cell's error, after a refusal."""
    tables = empty_tables(rt.spec, entity)
    for table in tables:
        rows = submitted(form, table) or []
        labels = _link_labels(rt, session, table.columns, rows)
        for index, row in enumerate(rows):
            cells = [
                Cell(
                    column,
                    row.get(column.name),
                    labels.get((column.to or "", row.get(column.name)), "") if column.is_link else "",
                    errors.get(f"{table.name}[{index}].{column.name}", ""),
                )
                for column in table.columns
            ]
            table.rows.append(Row(id=str(row.get("id", "")), cells=cells, error=errors.get(f"{table.name}[{index}]", "")))
    return tables
