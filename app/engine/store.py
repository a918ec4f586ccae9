"""The one place where records are read and written: parsing, defaults, required and unique
checks, links, numbering, optimistic locking and permissions. The API and the admin both
go through it, so a rule holds whatever the interface.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from sqlalchemy import String, and_, cast, event, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.domain.numbering import format_number, period_key
from app.engine.expressions import evaluate_default
from app.engine.fieldtypes import FIELD_TYPES, FieldError, parse_value, to_json
from app.engine.models import Record
from app.engine.permissions import Principal
from app.engine.rules import check_frozen, check_matches, same_value, values_after
from app.engine.runtime import Runtime
from app.spec.expressions import today as clock_today
from app.spec.model import EntitySpec, FieldSpec, Label

MAX_PAGE_SIZE = 500
FILTER_OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "contains", "in", "null")


class StoreError(Exception):
    """A refusal with an HTTP status, a code, a user message and the field at fault."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field


def _m(fr: str, en: str) -> str:
    return f"{fr} / {en}"


@dataclass
class Page:
    rows: list[Record]
    total: int
    page: int
    page_size: int


class Store:
    def __init__(self, runtime: Runtime, session: Session, principal: Principal) -> None:
        self.rt = runtime
        self.spec = runtime.spec
        self.session = session
        self.principal = principal

    # --- permissions -------------------------------------------------------------------

    def entity(self, name: str) -> EntitySpec:
        entity = self.spec.entities.get(name)
        if entity is None:
            raise StoreError(404, "unknown_entity", _m(f"entité inconnue « {name} »", f"unknown entity '{name}'"))
        return entity

    def require(self, entity: str, action: str) -> None:
        if not self.principal.can(self.spec, entity, action):
            raise StoreError(
                403,
                "forbidden",
                _m(
                    f"droit « {action} » sur « {entity} » refusé à {self.principal.login}",
                    f"{self.principal.login} may not {action} {entity}",
                ),
            )

    # --- reading -----------------------------------------------------------------------

    def get(self, entity_name: str, record_id: Any, *, action: str = "read") -> Record:
        entity = self.entity(entity_name)
        self.require(entity.name, action)
        try:
            pk = int(record_id)
        except (TypeError, ValueError):
            pk = -1
        obj = self.session.get(self.rt.models.cls(entity.name), pk) if pk > 0 else None
        if obj is None:
            raise StoreError(
                404,
                "not_found",
                _m(f"{entity.label.fr} n° {record_id} introuvable", f"{entity.label.en} {record_id} not found"),
            )
        return obj

    def list(
        self,
        entity_name: str,
        *,
        filters: Mapping[str, str] | None = None,
        search: str | None = None,
        sort: str | None = None,
        page: int = 1,
        page_size: int | None = None,
        where: Any = None,
    ) -> Page:
        entity = self.entity(entity_name)
        self.require(entity.name, "read")
        cls = self.rt.models.cls(entity.name)
        conditions = [self._filter(entity, key, value) for key, value in (filters or {}).items()]
        if where is not None:  # an extra SQL condition, e.g. a saved filter's (app/engine/saved_filters.py)
            conditions.append(where)
        if search:
            conditions.append(self._search(entity, search))
        where = and_(*conditions) if conditions else None
        size = min(max(page_size or entity.list.page_size, 1), MAX_PAGE_SIZE)
        page = max(page, 1)
        query = select(cls)
        count = select(func.count()).select_from(cls.__table__)  # type: ignore[attr-defined]
        if where is not None:
            query = query.where(where)
            count = count.where(where)
        query = query.order_by(*self._order(entity, sort)).offset((page - 1) * size).limit(size)
        rows = list(self.session.scalars(query))
        total = int(self.session.scalar(count) or 0)
        return Page(rows=rows, total=total, page=page, page_size=size)

    def _column(self, entity: EntitySpec, name: str) -> Any:
        table = self.rt.models.tables[entity.name]
        if name in ("id", "created_at", "updated_at", "created_by", "updated_by", "version"):
            return table.c[name]
        field = entity.fields.get(name)
        if field is None or field.type == "password":
            raise StoreError(
                400, "unknown_field", _m(f"champ inconnu « {name} »", f"unknown field '{name}'"), field=name
            )
        return table.c[field.column_name]

    def _filter(self, entity: EntitySpec, key: str, raw: str) -> Any:
        name, _, op = key.partition("__")
        op = op or "eq"
        if op not in FILTER_OPERATORS:
            raise StoreError(
                400,
                "bad_filter",
                _m(f"opérateur inconnu « {op} » ({', '.join(FILTER_OPERATORS)})", f"unknown operator '{op}'"),
                field=key,
            )
        column = self._column(entity, name)
        field = entity.fields.get(name)
        if op == "null":
            return column.is_(None) if raw.lower() in ("1", "true", "oui") else column.is_not(None)
        if op == "contains":
            textual = field is not None and FIELD_TYPES[field.type].textual or name in ("created_by", "updated_by")
            return (column if textual else cast(column, String)).ilike(f"%{raw}%")
        if field is not None and field.type == "multichoice":
            return cast(column, String).like(f'%"{raw}"%')
        values = [self._filter_value(field, v, key) for v in (raw.split(",") if op == "in" else [raw])]
        if op == "in":
            return column.in_(values)
        value = values[0]
        if value is None and op in ("eq", "ne"):
            return column.is_(None) if op == "eq" else column.is_not(None)
        if value is None:
            raise StoreError(400, "bad_filter", _m("valeur attendue", "a value is expected"), field=key)
        if isinstance(value, bool) and op != "eq" and op != "ne":
            raise StoreError(
                400, "bad_filter", _m(f"opérateur « {op} » impossible sur oui/non", f"operator '{op}' on a boolean"), field=key
            )
        return {
            "eq": lambda: column == value,
            "ne": lambda: column != value,
            "gt": lambda: column > value,
            "gte": lambda: column >= value,
            "lt": lambda: column < value,
            "lte": lambda: column <= value,
        }[op]()

    def _filter_value(self, field: FieldSpec | None, raw: str, key: str) -> Any:
        if field is None:  # a system column
            name = key.partition("__")[0]
            if name in ("created_by", "updated_by"):
                return raw
            kind = "datetime" if name in ("created_at", "updated_at") else "integer"
            system = FieldSpec(name=name, type=kind, label=Label(name, name))
            try:
                return parse_value(system, raw, self.spec)
            except FieldError as exc:
                raise StoreError(400, "bad_filter", exc.message, field=key) from None
        try:
            if field.type in ("choice", "status"):
                return raw
            return parse_value(field, raw, self.spec)
        except FieldError as exc:
            raise StoreError(400, "bad_filter", exc.message, field=key) from None

    def _search(self, entity: EntitySpec, text: str) -> Any:
        names = list(entity.list.search) or [entity.title]
        pattern = f"%{text.strip()}%"
        columns = []
        for name in names:
            column = self._column(entity, name)
            field = entity.fields.get(name)
            textual = field is not None and FIELD_TYPES[field.type].textual
            columns.append(column if textual else cast(column, String))  # PostgreSQL: no ILIKE on numbers
        return or_(*(column.ilike(pattern) for column in columns))

    def _order(self, entity: EntitySpec, sort: str | None) -> list[Any]:
        key = sort or entity.list.sort or "id"
        terms = []
        for part in key.split(","):
            part = part.strip()
            if not part:
                continue
            descending = part.startswith("-")
            name = part.lstrip("-")
            column = self._column(entity, name)
            if name in entity.fields and entity.fields[name].type == "multichoice":
                column = cast(column, String)  # JSON has no ordering on PostgreSQL
            terms.append(column.desc() if descending else column.asc())
        table = self.rt.models.tables[entity.name]
        terms.append(table.c.id.desc() if key.startswith("-") else table.c.id.asc())
        return terms

    # --- writing -----------------------------------------------------------------------

    def create(
        self,
        entity_name: str,
        data: Mapping[str, Any],
        *,
        system_values: Mapping[str, Any] | None = None,
        child_system_values: Mapping[str, list[Mapping[str, Any]]] | None = None,
    ) -> Record:
        """A new record from user input `data`; `system_values` are set by the engine itself
        (e.g. a conversion's link back to its source), parsed but allowed on read-only fields;
        `child_system_values[collection][i]` likewise for the i-th new row of a collection
        (a copied line's link to its source line)."""
        entity = self.entity(entity_name)
        self.require(entity.name, "create")
        values, children = self._parse(entity, data, creating=True)
        values.update(self._system_values(entity, system_values or {}))
        workflow = self.spec.workflows.get(entity.name)
        if workflow is not None:
            values[workflow.field] = workflow.initial  # a new record starts in the initial state
        self._apply_defaults(entity, values)
        self._check_required(entity, values, creating=True)
        check_matches(self.session, self.rt, entity, values_after(entity, None, values))
        obj = self.rt.models.cls(entity.name)()
        self._assign(entity, obj, values)
        self._number(entity, obj)
        obj.created_by = obj.updated_by = self.principal.login  # type: ignore[attr-defined]
        self.session.add(obj)
        self._flush(entity)
        self._write_children(entity, obj, children, child_system_values or {}, new_parent=True)
        self._compute(entity, obj)
        return obj

    def _system_values(self, entity: EntitySpec, data: Mapping[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for key, raw in data.items():
            field = entity.fields[key]
            try:
                values[key] = parse_value(field, raw, self.spec)
            except FieldError as exc:
                raise StoreError(422, "invalid", f"{field.label.fr} : {exc.message}", field=key) from None
        return values

    def update(
        self, entity_name: str, record_id: Any, data: Mapping[str, Any], *, expected_version: Any = None
    ) -> Record:
        entity = self.entity(entity_name)
        obj = self.get(entity.name, record_id, action="edit")
        if expected_version is not None and str(expected_version) != str(obj.version):
            raise self._conflict(entity, obj, expected_version)
        values, children = self._parse(entity, data, creating=False, current=obj)
        self._check_required(entity, values, creating=False)
        check_frozen(entity, obj, values)
        check_matches(self.session, self.rt, entity, values_after(entity, obj, values), changed=values.keys())
        self._assign(entity, obj, values)
        obj.updated_by = self.principal.login  # type: ignore[attr-defined]
        self._flush(entity, obj)
        self._write_children(entity, obj, children)
        self._compute(entity, obj)
        return obj

    def _compute(self, entity: EntitySpec, obj: Record) -> None:
        """The entity's compute verbs (e.g. document totals), after the children are written."""
        if not entity.computes:
            return
        from app.engine.verbs import VerbContext, implementation

        ctx = VerbContext(store=self, entity=entity, record=obj)
        for compute in entity.computes:
            implementation(compute.verb)(ctx, compute.args)
        self._flush(entity, obj)

    def recompute(self, entity: EntitySpec, obj: Record) -> None:
        """Run the entity's computes again (a verb changed its children)."""
        self._compute(entity, obj)

    def recompute_record(self, entity_name: str, record_id: Any) -> Record | None:
        """Run the record's computes again (e.g. a client's outstanding after a payment); no
        right is asked: the caller is a verb of an allowed transition. None if it is gone."""
        entity = self.entity(entity_name)
        obj = self.session.get(self.rt.models.cls(entity.name), int(record_id))
        if obj is not None:
            self._compute(entity, obj)
        return obj

    def flush(self, entity: EntitySpec) -> None:
        """Flush pending changes, turning database refusals into StoreError (409)."""
        self._flush(entity)

    def delete(self, entity_name: str, record_id: Any) -> None:
        entity = self.entity(entity_name)
        obj = self.get(entity.name, record_id, action="delete")
        self.session.delete(obj)  # first: a locked record is refused before its children are
        with self.session.no_autoflush:
            for child in entity.children:
                for row in self._child_rows(child.entity, child.via, obj.id):
                    self.session.delete(row)
        try:
            self.session.flush()
            from app.engine.links import remove_links

            remove_links(self, entity.name, obj.id)
            from app.engine.files import remove_record_files

            remove_record_files(self, entity.name, obj.id)  # their bytes leave the disk on commit
        except StoreError:
            self.session.rollback()
            raise
        except IntegrityError:
            self.session.rollback()
            raise StoreError(
                409,
                "in_use",
                _m(
                    f"{entity.label.fr} n° {record_id} est utilisé par d'autres enregistrements",
                    f"{entity.label.en} {record_id} is referenced by other records",
                ),
            ) from None

    def _conflict(self, entity: EntitySpec, obj: Record, expected: Any) -> StoreError:
        who = getattr(obj, "updated_by", None) or "?"
        when = getattr(obj, "updated_at", None)
        at = when.strftime("%d/%m/%Y %H:%M") if isinstance(when, dt.datetime) else "?"
        return StoreError(
            409,
            "conflict",
            _m(
                f"{entity.label.fr} a été modifié par {who} le {at} depuis votre lecture "
                f"(version {obj.version}, la vôtre {expected}) : rechargez puis refaites vos modifications",
                f"{entity.label.en} was changed by {who} at {at} since you read it; reload and redo your changes",
            ),
            field="version",
        )

    def _flush(self, entity: EntitySpec, obj: Record | None = None) -> None:
        try:
            self.session.flush()
        except StoreError:  # refused by the flush-time guard (a locked record)
            self.session.rollback()
            raise
        except StaleDataError:
            self.session.rollback()
            raise StoreError(
                409,
                "conflict",
                _m("enregistrement modifié par quelqu'un d'autre entre-temps", "record changed by someone else"),
                field="version",
            ) from None
        except IntegrityError as exc:
            self.session.rollback()
            raise self._integrity(entity, exc) from None

    def _integrity(self, entity: EntitySpec, exc: IntegrityError) -> StoreError:
        text = str(exc.orig)
        for f in entity.fields.values():
            if f.unique and (f"uq_{entity.name}_{f.column_name}" in text or f"{entity.name}.{f.column_name}" in text):
                return StoreError(
                    409, "duplicate", _m(f"« {f.label.fr} » déjà utilisé", f"'{f.label.en}' already used"), field=f.name
                )
        return StoreError(409, "integrity", _m("enregistrement refusé par la base", "rejected by the database"))

    def _parse(
        self, entity: EntitySpec, data: Mapping[str, Any], *, creating: bool, current: Record | None = None
    ) -> tuple[dict[str, Any], dict[str, list[Mapping[str, Any]]]]:
        """Parsed values by field name, and the child lists. On an update (`current`: the stored
        record), a read-only field sent back with the value it has is ignored, so a record read
        by GET can be sent back as it is (without its status); a different value is refused."""
        if not isinstance(data, Mapping):
            raise StoreError(400, "bad_request", _m("objet JSON attendu", "a JSON object is expected"))
        values: dict[str, Any] = {}
        children: dict[str, list[Mapping[str, Any]]] = {}
        child_names = {c.name for c in entity.children}
        for key, raw in data.items():
            if key in ("id", "version", "created_at", "updated_at", "created_by", "updated_by"):
                continue
            if key in child_names:
                if not isinstance(raw, list):
                    raise StoreError(422, "invalid", _m("liste attendue", "a list is expected"), field=key)
                children[key] = raw
                continue
            field = entity.fields.get(key)
            if field is None:
                raise StoreError(
                    422, "unknown_field", _m(f"champ inconnu « {key} »", f"unknown field '{key}'"), field=key
                )
            if field.readonly and field.type != "status" and current is not None and self._unchanged(field, raw, current):
                continue  # sent back as read; a status field is refused even unchanged: actions move it
            if field.type == "status" and raw not in (None, ""):
                raise StoreError(
                    422,
                    "use_actions",
                    _m(
                        f"« {field.label.fr} » ne se modifie que par les actions : utilisez les actions",
                        f"'{field.label.en}' changes only through the actions: use the actions",
                    ),
                    field=key,
                )
            if field.readonly and (raw not in (None, "") or current is not None):
                raise StoreError(
                    422, "readonly", _m(f"« {field.label.fr} » est en lecture seule", f"'{field.label.en}' is read-only"), field=key
                )
            try:
                values[key] = parse_value(field, raw, self.spec)
            except FieldError as exc:
                raise StoreError(422, "invalid", f"{field.label.fr} : {exc.message}", field=key) from None
            if field.type == "password" and values[key] is None:
                del values[key]  # an empty password field keeps the current one
            elif field.is_link and values[key] is not None:
                self._check_link(field, values[key])
        return values, children

    def _unchanged(self, field: FieldSpec, raw: Any, current: Record) -> bool:
        try:
            value = parse_value(field, raw, self.spec)
        except FieldError:
            return False
        return same_value(field, getattr(current, field.column_name), value)

    def _check_link(self, field: FieldSpec, target_id: int) -> None:
        target = self.rt.models.cls(field.to or "")
        found = self.session.get(target, target_id)
        if found is not None:
            # The identity map holds records weakly: keep the linked record for the transaction,
            # so that the computes and verbs reading it (fill_from, the client's outstanding…)
            # find it there instead of reading it again.
            _ChildRows.of(self.session)  # its listeners also let them go at commit and rollback
            self.session.info.setdefault(_KEPT, []).append(found)
        if found is None:
            label = self.spec.entities[field.to or ""].label
            raise StoreError(
                422,
                "invalid",
                _m(
                    f"{field.label.fr} : aucun(e) {label.fr.lower()} n° {target_id}",
                    f"{field.label.en}: no {label.en.lower()} with id {target_id}",
                ),
                field=field.name,
            )

    def _apply_defaults(self, entity: EntitySpec, values: dict[str, Any]) -> None:
        for field in entity.fields.values():
            if field.name in values or field.default is None:
                continue
            compiled = self.rt.defaults.get((entity.name, field.name))
            if compiled is None:
                continue
            raw = evaluate_default(compiled, {**values, "user": self.principal})
            try:
                values[field.name] = parse_value(field, raw, self.spec)
            except FieldError as exc:
                raise StoreError(
                    422, "invalid", f"{field.label.fr} (valeur par défaut) : {exc.message}", field=field.name
                ) from None

    def _check_required(self, entity: EntitySpec, values: Mapping[str, Any], *, creating: bool) -> None:
        numbered = {n.field for n in entity.numbering}
        for field in entity.fields.values():
            if not field.required or field.name in numbered:
                continue
            missing = values.get(field.name) in (None, "", []) if (creating or field.name in values) else False
            if missing:
                raise StoreError(
                    422,
                    "required",
                    _m(f"« {field.label.fr} » est obligatoire", f"'{field.label.en}' is required"),
                    field=field.name,
                )

    def _assign(self, entity: EntitySpec, obj: Record, values: Mapping[str, Any]) -> None:
        for name, value in values.items():
            field = entity.fields[name]
            setattr(obj, field.column_name, value)

    def _number(self, entity: EntitySpec, obj: Record) -> None:
        for rule in entity.numbering:
            if getattr(obj, rule.field, None):
                continue
            today = clock_today()
            key = f"{entity.name}.{rule.field}:{period_key(rule.pattern, today)}"
            setattr(obj, rule.field, format_number(rule.pattern, today, self.next_counter(key)))

    def check_series_date(self, key: str, day: dt.date, field: FieldSpec, entity: EntitySpec) -> None:
        """Refuse a date before the last one numbered in the series `key` (row locked), then
        record it: numbers of a series follow the dates."""
        table = self.rt.models.counters
        self._counter_row(key)
        last = self.session.execute(select(table.c.last_date).where(table.c.key == key).with_for_update()).scalar_one()
        if last is not None and day < last:
            raise StoreError(
                422,
                "date_before_last",
                _m(
                    f"« {field.label.fr} » ({day:%d/%m/%Y}) précède celle du dernier numéro de la série "
                    f"({last:%d/%m/%Y}) : {entity.label.fr.lower()} doit être daté(e) du {last:%d/%m/%Y} ou après",
                    f"'{field.label.en}' ({day.isoformat()}) is before the last numbered date of the series ({last.isoformat()})",
                ),
                field=field.name,
            )
        if last is None or day > last:
            self.session.execute(table.update().where(table.c.key == key).values(last_date=day))

    def _counter_row(self, key: str) -> None:
        """Create the counter row if missing, without failing when a concurrent transaction does too."""
        table = self.rt.models.counters
        if self.session.get_bind().dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            self.session.execute(pg_insert(table).values(key=key, value=0).on_conflict_do_nothing())
        else:
            self.session.execute(table.insert().prefix_with("OR IGNORE").values(key=key, value=0))

    def next_counter(self, key: str) -> int:
        """Increment a named counter in the current transaction: one UPDATE … RETURNING takes
        the row lock (concurrent callers queue there until the first one commits) and answers
        the new value; the row is created first when it does not exist yet."""
        table = self.rt.models.counters
        bump = table.update().where(table.c.key == key).values(value=table.c.value + 1).returning(table.c.value)
        value = self.session.execute(bump).scalar()
        if value is None:
            self._counter_row(key)
            value = self.session.execute(bump).scalar_one()
        return int(value)

    # --- children ----------------------------------------------------------------------

    def _child_rows(self, child_entity: str, via: str, parent_id: int) -> list[Record]:
        """The child rows of a record, in their order. Kept for the transaction: the computes,
        verbs and serialisation of one save read the same lines many times; any flush that
        adds, changes or deletes rows of the child entity drops them (see _ChildRows)."""
        cls = self.rt.models.cls(child_entity)
        cache = _ChildRows.of(self.session)
        key = (child_entity, via, parent_id)
        rows = cache.get(key, cls)
        if rows is None:
            field = self.spec.entities[child_entity].fields[via]
            column = getattr(cls, field.column_name)
            spec = self.spec.entities[child_entity]
            order = [getattr(cls, spec.fields[o].column_name) for o in _child_order(self.rt, child_entity)]
            rows = list(self.session.scalars(select(cls).where(column == parent_id).order_by(*order, cls.id)))
            cache.put(key, rows)
        return list(rows)

    def children(self, entity: EntitySpec, obj: Record) -> dict[str, list[Record]]:
        return {c.name: self._child_rows(c.entity, c.via, obj.id) for c in entity.children}

    def _write_children(
        self,
        entity: EntitySpec,
        parent: Record,
        children: Mapping[str, list[Mapping[str, Any]]],
        system_rows: Mapping[str, list[Mapping[str, Any]]] | None = None,
        *,
        new_parent: bool = False,
    ) -> None:
        cache = _ChildRows.of(self.session)
        for child in entity.children:
            if child.name not in children:
                if new_parent:
                    cache.put((child.entity, child.via, parent.id), [])  # a new record has no rows yet
                continue
            child_spec = self.spec.entities[child.entity]
            existing = {} if new_parent else {row.id: row for row in self._child_rows(child.entity, child.via, parent.id)}
            kept: set[int] = set()
            created: list[Record] = []
            for index, item in enumerate(children[child.name]):
                if not isinstance(item, Mapping):
                    raise StoreError(422, "invalid", _m("objet attendu", "an object is expected"), field=f"{child.name}[{index}]")
                data = {k: v for k, v in item.items() if k != child.via}
                try:
                    row_id = _row_id(item.get("id"))
                    if row_id is not None:
                        if row_id not in existing:
                            raise StoreError(422, "invalid", _m(f"ligne n° {row_id} inconnue", f"unknown row {row_id}"), field="id")
                        values, _ = self._parse(child_spec, data, creating=False, current=existing[row_id])
                        if any(getattr(existing[row_id], child_spec.fields[k].column_name) != v for k, v in values.items()):
                            self.require(child.entity, "edit")
                        self._check_required(child_spec, values, creating=False)
                        check_frozen(child_spec, existing[row_id], values)
                        check_matches(
                            self.session, self.rt, child_spec,
                            values_after(child_spec, existing[row_id], values), changed=values.keys(),
                        )
                        self._assign(child_spec, existing[row_id], values)
                        existing[row_id].updated_by = self.principal.login  # type: ignore[attr-defined]
                        kept.add(row_id)
                    else:
                        self.require(child.entity, "create")
                        values, _ = self._parse(child_spec, data, creating=True)
                        forced = (system_rows or {}).get(child.name) or []
                        if index < len(forced):
                            values.update(self._system_values(child_spec, forced[index]))
                        values[child.via] = parent.id
                        self._apply_defaults(child_spec, values)
                        order = child_spec.fields.get(child.order_by or "")
                        if order is not None and order.type == "integer" and values.get(order.name) in (None, 0):
                            values[order.name] = index + 1  # a new row without a place takes its place in the list
                        self._check_required(child_spec, values, creating=True)
                        check_matches(self.session, self.rt, child_spec, values_after(child_spec, None, values))
                        row = self.rt.models.cls(child.entity)()
                        self._assign(child_spec, row, values)
                        row.created_by = row.updated_by = self.principal.login  # type: ignore[attr-defined]
                        self.session.add(row)
                        created.append(row)
                except StoreError as exc:
                    exc.field = f"{child.name}[{index}].{exc.field}" if exc.field else f"{child.name}[{index}]"
                    raise
            for row_id, row in existing.items():
                if row_id not in kept:
                    self.require(child.entity, "delete")
                    self.session.delete(row)
            self._flush(child_spec)
            if new_parent:
                self._keep_new_rows(cache, child.entity, child.via, parent.id, created)

    def _keep_new_rows(self, cache: _ChildRows, child_entity: str, via: str, parent_id: int, rows: list[Record]) -> None:
        """The rows just written for a new record are all its rows: keep them, in the order a
        query would give (order field, then id), unless an order value is missing (NULLs sort
        differently on SQLite and PostgreSQL)."""
        spec = self.spec.entities[child_entity]
        columns = [spec.fields[o].column_name for o in _child_order(self.rt, child_entity)]
        if any(getattr(r, c) is None for r in rows for c in columns):
            return
        cache.put((child_entity, via, parent_id), sorted(rows, key=lambda r: (*(getattr(r, c) for c in columns), r.id)))

    # --- output ------------------------------------------------------------------------

    def serialize(self, obj: Record, *, with_children: bool = True) -> dict[str, Any]:
        entity = obj.__entity__
        out: dict[str, Any] = {"id": obj.id}
        for field in entity.fields.values():
            if field.type == "password":
                continue
            out[field.name] = to_json(field, getattr(obj, field.column_name))
        if with_children:
            for name, rows in self.children(entity, obj).items():
                out[name] = [self.serialize(r, with_children=False) for r in rows]
        for meta in ("version", "created_at", "updated_at", "created_by", "updated_by"):
            value = getattr(obj, meta)
            out[meta] = value.isoformat() if isinstance(value, dt.datetime) else value
        return out


_KEPT = "comptoir.kept_records"


class _ChildRows:
    """Child rows read in a session, by (child entity, link field, parent id). An entry is used
    only while no row of its entity is pending (new, changed or deleted) in the session, and is
    dropped when a flush writes rows of its entity, on commit and on rollback."""

    INFO_KEY = "comptoir.child_rows"

    def __init__(self, session: Session) -> None:
        self.session = session
        self.rows: dict[tuple[str, str, int], list[Record]] = {}

    @classmethod
    def of(cls, session: Session) -> _ChildRows:
        cache = session.info.get(cls.INFO_KEY)
        if cache is None:
            cache = session.info[cls.INFO_KEY] = cls(session)
            event.listen(session, "after_flush", cache._flushed)
            for name in ("after_commit", "after_rollback", "after_soft_rollback"):
                event.listen(session, name, cache._clear)
                event.listen(session, name, lambda *_a: session.info.pop(_KEPT, None))
        return cache

    def get(self, key: tuple[str, str, int], model: type) -> list[Record] | None:
        rows = self.rows.get(key)
        if rows is None or _pending(self.session, model):
            return None  # pending rows: the query autoflushes them, which drops the entry
        return rows

    def put(self, key: tuple[str, str, int], rows: list[Record]) -> None:
        self.rows[key] = rows

    def _flushed(self, session: Session, _context: Any) -> None:
        written = {getattr(getattr(o, "__entity__", None), "name", None) for o in (*session.new, *session.dirty, *session.deleted)}
        if written:
            self.rows = {k: v for k, v in self.rows.items() if k[0] not in written}

    def _clear(self, *_args: Any) -> None:
        self.rows = {}


def _pending(session: Session, model: type) -> bool:
    return any(isinstance(o, model) for o in (*session.new, *session.deleted)) or any(
        isinstance(o, model) and session.is_modified(o) for o in session.dirty
    )


def _child_order(rt: Runtime, child_entity: str) -> Iterable[str]:
    for parent in rt.spec.entities.values():
        for child in parent.children:
            if child.entity == child_entity and child.order_by:
                return (child.order_by,)
    return ()


def textual_fields(entity: EntitySpec) -> list[FieldSpec]:
    return [f for f in entity.fields.values() if FIELD_TYPES[f.type].textual]


def _row_id(raw: Any) -> int | None:
    """The id of an existing child row given in a payload, None for a new row."""
    if raw in (None, ""):
        return None
    if isinstance(raw, bool) or not isinstance(raw, (int, str)):
        raise StoreError(422, "invalid", _m("identifiant de ligne invalide", "invalid row id"), field="id")
    try:
        return int(raw)
    except ValueError:
        raise StoreError(422, "invalid", _m(f"identifiant de ligne invalide : « {raw} »", f"invalid row id '{raw}'"), field="id") from None
